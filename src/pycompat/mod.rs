//! Python's quirks that users and clients see and we must match byte for
//! byte, one copy of each: how Python quotes a string, reads an int,
//! splits a command line, expands a glob, writes base64, unquotes a URL,
//! names a temp file. Each submodule is one such behaviour, with tests
//! that pin it to what Python 3.11 does. Nothing here knows about
//! supervisord's config, processes or wire formats, and nothing touches
//! the OS beyond reading a directory or creating a file.
//!
//! - [`repr`]: `repr()` of str, path and bytes (`%r` in messages).
//! - [`int`]: `int()` on a str.
//! - [`shlex`]: POSIX `shlex.split` and the non-POSIX token stream.
//! - [`glob`]: `glob.glob` and `fnmatch`.
//! - [`base64`]: `b64encode`, `encodebytes`, `binascii.a2b_base64`.
//! - [`url`]: `urllib.parse.unquote` and `unquote_plus`.
//! - [`tempfile`]: `tempfile.mkstemp` names.

pub mod base64;
pub mod glob;
pub mod int;
pub mod repr;
pub mod shlex;
pub mod tempfile;
pub mod url;
