//! supervisorctl: transport, actions, output, interactive shell.

use std::ffi::OsString;

/// Entry point for `supervisorctl` and `supervisord ctl`.
pub fn main(_argv0: &str, _args: Vec<OsString>) -> i32 {
    eprintln!("supervisorctl is not part of this build yet");
    1
}
