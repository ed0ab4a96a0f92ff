//! Python's quirks that users and clients see and we must match byte for
//! byte: how Python names a temp file, quotes a string, splits a command
//! line. Each submodule is one such behaviour, with tests that pin it to
//! what Python 3 does.

pub mod tempfile;
pub mod url;
