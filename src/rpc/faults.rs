//! Supervisor's fault codes and the `NAME` / `NAME: extra` fault strings
//! clients match on (supervisorctl prints them; scripts compare codes).

use super::xmlrpc::Fault;

pub const UNKNOWN_METHOD: i64 = 1;
pub const INCORRECT_PARAMETERS: i64 = 2;
pub const BAD_ARGUMENTS: i64 = 3;
pub const SIGNATURE_UNSUPPORTED: i64 = 4;
pub const SHUTDOWN_STATE: i64 = 6;
pub const BAD_NAME: i64 = 10;
pub const BAD_SIGNAL: i64 = 11;
pub const NO_FILE: i64 = 20;
pub const NOT_EXECUTABLE: i64 = 21;
pub const FAILED: i64 = 30;
pub const ABNORMAL_TERMINATION: i64 = 40;
pub const SPAWN_ERROR: i64 = 50;
pub const ALREADY_STARTED: i64 = 60;
pub const NOT_RUNNING: i64 = 70;
pub const SUCCESS: i64 = 80;
pub const ALREADY_ADDED: i64 = 90;
pub const STILL_RUNNING: i64 = 91;
pub const CANT_REREAD: i64 = 92;

/// The symbolic name of a code, `UNKNOWN` for any other number.
pub fn name(code: i64) -> &'static str {
    match code {
        UNKNOWN_METHOD => "UNKNOWN_METHOD",
        INCORRECT_PARAMETERS => "INCORRECT_PARAMETERS",
        BAD_ARGUMENTS => "BAD_ARGUMENTS",
        SIGNATURE_UNSUPPORTED => "SIGNATURE_UNSUPPORTED",
        SHUTDOWN_STATE => "SHUTDOWN_STATE",
        BAD_NAME => "BAD_NAME",
        BAD_SIGNAL => "BAD_SIGNAL",
        NO_FILE => "NO_FILE",
        NOT_EXECUTABLE => "NOT_EXECUTABLE",
        FAILED => "FAILED",
        ABNORMAL_TERMINATION => "ABNORMAL_TERMINATION",
        SPAWN_ERROR => "SPAWN_ERROR",
        ALREADY_STARTED => "ALREADY_STARTED",
        NOT_RUNNING => "NOT_RUNNING",
        SUCCESS => "SUCCESS",
        ALREADY_ADDED => "ALREADY_ADDED",
        STILL_RUNNING => "STILL_RUNNING",
        CANT_REREAD => "CANT_REREAD",
        _ => "UNKNOWN",
    }
}

/// A fault with just its name as the string (`BAD_NAME`).
pub fn bare(code: i64) -> Fault {
    Fault {
        code,
        string: name(code).to_string(),
    }
}

/// A fault whose string carries extra text (`BAD_NAME: foo`).
pub fn with(code: i64, extra: impl std::fmt::Display) -> Fault {
    Fault {
        code,
        string: format!("{}: {}", name(code), extra),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings() {
        assert_eq!(bare(SHUTDOWN_STATE).string, "SHUTDOWN_STATE");
        assert_eq!(with(BAD_NAME, "foo").string, "BAD_NAME: foo");
        assert_eq!(with(99, "x").string, "UNKNOWN: x");
        assert_eq!(with(CANT_REREAD, "bad").code, 92);
    }
}
