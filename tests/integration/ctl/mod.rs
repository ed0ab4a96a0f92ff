//! supervisorctl: ours next to Python's, against either daemon.

mod common;
mod differential;
mod interactive;
