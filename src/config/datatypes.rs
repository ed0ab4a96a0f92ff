//! Value converters with Python Supervisor's rules and error texts: each
//! takes the raw string from the INI file and returns the typed value or the
//! message Supervisor 4.3.0 gives for it (the caller adds section and file).

use crate::pycompat::shlex;
use crate::sys::users;
use std::path::{Path, PathBuf};

use crate::pycompat::int::{py_int, py_int_radix};
use crate::pycompat::repr::py_repr;

/// `integer()`: a Python int.
pub fn integer(s: &str) -> Result<i64, String> {
    py_int(s).ok_or_else(|| format!("invalid literal for int() with base 10: {}", py_repr(s)))
}

/// `boolean()`: true/yes/on/1 or false/no/off/0, any case.
pub fn boolean(s: &str) -> Result<bool, String> {
    match s.to_lowercase().as_str() {
        "yes" | "true" | "on" | "1" => Ok(true),
        "no" | "false" | "off" | "0" => Ok(false),
        _ => Err(format!("not a valid boolean value: {}", py_repr(s))),
    }
}

/// `byte_size()`: an int, or an int followed by KB, MB or GB (any case).
pub fn byte_size(s: &str) -> Result<u64, String> {
    let lower = s.to_lowercase();
    let (num, mult) = if let Some(n) = lower.strip_suffix("kb") {
        (n, 1024u64)
    } else if let Some(n) = lower.strip_suffix("mb") {
        (n, 1024 * 1024)
    } else if let Some(n) = lower.strip_suffix("gb") {
        (n, 1024 * 1024 * 1024)
    } else {
        (lower.as_str(), 1)
    };
    let v = py_int(num)
        .ok_or_else(|| format!("invalid literal for int() with base 10: {}", py_repr(num)))?;
    // A negative size means "no rotation" in Python (the check is `> 0`).
    Ok(if v < 0 {
        0
    } else {
        (v as u64).saturating_mul(mult)
    })
}

/// `octal_type()`: `int(x, 8)`.
pub fn octal(s: &str) -> Result<u32, String> {
    let t = s.trim();
    let body = t
        .strip_prefix("0o")
        .or_else(|| t.strip_prefix("0O"))
        .unwrap_or(t);
    match py_int_radix(body, 8) {
        Some(v) if (0..=u32::MAX as i64).contains(&v) => Ok(v as u32),
        _ => Err(format!("{} can not be converted to an octal type", s)),
    }
}

/// The signal names Python's `signal` module knows on Linux, with numbers.
const SIGNALS: &[(&str, i32)] = &[
    ("HUP", 1),
    ("INT", 2),
    ("QUIT", 3),
    ("ILL", 4),
    ("TRAP", 5),
    ("ABRT", 6),
    ("IOT", 6),
    ("BUS", 7),
    ("FPE", 8),
    ("KILL", 9),
    ("USR1", 10),
    ("SEGV", 11),
    ("USR2", 12),
    ("PIPE", 13),
    ("ALRM", 14),
    ("TERM", 15),
    ("STKFLT", 16),
    ("CHLD", 17),
    ("CLD", 17),
    ("CONT", 18),
    ("STOP", 19),
    ("TSTP", 20),
    ("TTIN", 21),
    ("TTOU", 22),
    ("URG", 23),
    ("XCPU", 24),
    ("XFSZ", 25),
    ("VTALRM", 26),
    ("PROF", 27),
    ("WINCH", 28),
    ("POLL", 29),
    ("IO", 29),
    ("PWR", 30),
    ("SYS", 31),
    ("RTMIN", 34),
    ("RTMAX", 64),
];

/// Python's signal-number set (`SIGNUMS`): every value of a `SIG*` name in
/// its signal module, which includes 0..=2 from SIG_DFL/SIG_IGN/SIG_BLOCK...
fn is_python_signum(n: i64) -> bool {
    (0..=2).contains(&n) || SIGNALS.iter().any(|&(_, v)| v as i64 == n)
}

/// `signal_number()`: a name with or without SIG (any case) or a number.
pub fn signal_number(s: &str) -> Result<i32, String> {
    let num = match py_int(s) {
        Some(n) => n,
        None => {
            let upper = s.trim().to_uppercase();
            let name = upper.strip_prefix("SIG").unwrap_or(&upper);
            match SIGNALS.iter().find(|&&(n, _)| n == name) {
                Some(&(_, v)) => v as i64,
                None => return Err(format!("value {} is not a valid signal name", py_repr(s))),
            }
        }
    };
    if !is_python_signum(num) {
        return Err(format!("value {} is not a valid signal number", py_repr(s)));
    }
    Ok(num as i32)
}

/// `stopsignal`: one signal as Python reads it, or (an extension of the
/// Go supervisord) several separated by commas or blanks, sent in turn.
/// A single value gives exactly Python's errors.
pub fn signal_list(s: &str) -> Result<Vec<i32>, String> {
    let parts: Vec<&str> = s
        .split([',', ' ', '\t'])
        .filter(|p| !p.is_empty())
        .collect();
    if parts.len() <= 1 {
        return signal_number(s).map(|n| vec![n]);
    }
    parts.into_iter().map(signal_number).collect()
}

/// The conventional name of a signal number (`SIGTERM`), as Python's
/// `signame()` prints it; unknown numbers give `signal N`.
pub fn signal_name(sig: i32) -> String {
    // The first name listed for a number is the one Python reports.
    match SIGNALS.iter().find(|&&(_, v)| v == sig) {
        Some(&(n, _)) => format!("SIG{}", n),
        None => format!("signal {}", sig),
    }
}

/// `list_of_exitcodes()`: comma-separated ints, each 0..=255.
pub fn exitcodes(s: &str) -> Result<Vec<i32>, String> {
    let err = || format!("not a valid list of exit codes: {}", py_repr(s));
    if s.is_empty() {
        return Ok(Vec::new());
    }
    s.split(',')
        .map(|part| match py_int(part) {
            Some(v) if (0..=255).contains(&v) => Ok(v as i32),
            _ => Err(err()),
        })
        .collect()
}

/// `list_of_strings()`: comma-separated, each trimmed; empty gives none.
pub fn list_of_strings(s: &str) -> Vec<String> {
    if s.is_empty() {
        return Vec::new();
    }
    s.split(',').map(|x| x.trim().to_string()).collect()
}

/// `process_or_group_name()`: trimmed, and no space, colon or slash.
pub fn process_or_group_name(name: &str) -> Result<String, String> {
    let s = name.trim();
    for c in [' ', ':', '/'] {
        if s.contains(c) {
            return Err(format!(
                "Invalid name: {} because of character: {}",
                py_repr(name),
                py_repr(&c.to_string())
            ));
        }
    }
    Ok(s.to_string())
}

/// What `autorestart` may say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AutoRestart {
    Never,
    Unexpected,
    Always,
}

/// `auto_restart()`.
pub fn auto_restart(s: &str) -> Result<AutoRestart, String> {
    let v = s.to_lowercase();
    match v.as_str() {
        "yes" | "true" | "on" | "1" => Ok(AutoRestart::Always),
        "no" | "false" | "off" | "0" => Ok(AutoRestart::Never),
        "unexpected" => Ok(AutoRestart::Unexpected),
        _ => Err(format!("invalid 'autorestart' value {}", py_repr(&v))),
    }
}

/// Python's `os.path.expanduser` for a leading `~` or `~user`.
pub fn expand_user(s: &str) -> String {
    if !s.starts_with('~') {
        return s.to_string();
    }
    let (user, rest) = match s.find('/') {
        Some(i) => (&s[1..i], &s[i..]),
        None => (&s[1..], ""),
    };
    let home = if user.is_empty() {
        std::env::var("HOME")
            .ok()
            .or_else(|| users::home_of_uid(users::current_uid()))
    } else {
        users::home_of_name(user)
    };
    match home {
        Some(h) => {
            let h = if h.len() > 1 {
                h.trim_end_matches('/')
            } else {
                &h
            };
            format!("{}{}", h, rest)
        }
        None => s.to_string(),
    }
}

/// `existing_directory()`.
pub fn existing_directory(s: &str) -> Result<PathBuf, String> {
    let nv = expand_user(s);
    if Path::new(&nv).is_dir() {
        Ok(PathBuf::from(nv))
    } else {
        Err(format!("{} is not an existing directory", s))
    }
}

/// `existing_dirpath()`: the directory part (if any) must exist.
pub fn existing_dirpath(s: &str) -> Result<PathBuf, String> {
    let nv = expand_user(s);
    let dir = match nv.rfind('/') {
        Some(0) => "/",
        Some(i) => &nv[..i],
        None => return Ok(PathBuf::from(nv)),
    };
    if Path::new(dir).is_dir() {
        Ok(PathBuf::from(nv))
    } else {
        Err(format!(
            "The directory named as part of the path {} does not exist",
            s
        ))
    }
}

/// A child log target (`stdout_logfile` and friends).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogFile {
    /// NONE / OFF: output is discarded.
    None,
    /// AUTO: a file in `childlogdir`, named when the process first spawns.
    Auto,
    /// The deprecated `syslog` file name; the loader rewrites it.
    Syslog,
    Path(PathBuf),
}

/// `logfile_name()`.
pub fn logfile_name(s: &str) -> Result<LogFile, String> {
    match s.to_lowercase().as_str() {
        "none" | "off" => Ok(LogFile::None),
        "auto" => Ok(LogFile::Auto),
        "syslog" => Ok(LogFile::Syslog),
        _ => existing_dirpath(s).map(LogFile::Path),
    }
}

/// `logging_level()`: Python's level names; `warning` is accepted as `warn`
/// (a deliberate extension: Python rejects it, but people write it).
pub fn logging_level(s: &str) -> Result<String, String> {
    let l = s.to_lowercase();
    match l.as_str() {
        "critical" | "error" | "warn" | "info" | "debug" | "trace" | "blather" => Ok(l),
        "warning" => Ok("warn".to_string()),
        _ => Err(format!("bad logging level name {}", py_repr(s))),
    }
}

/// `inet_address()`: `host:port`, `*:port`, `:port` or `port`; an empty
/// host or `*` means every interface (returned as "").
pub fn inet_address(s: &str) -> Result<(String, u16), String> {
    let port_number = |p: &str| -> Result<u16, String> {
        let v = py_int(p)
            .ok_or_else(|| format!("invalid literal for int() with base 10: {}", py_repr(p)))?;
        if v < 1 {
            return Err(format!("{} is below lower bound (1)", v));
        }
        if v > 0xffff {
            return Err(format!("{} is above upper bound (65535)", v));
        }
        Ok(v as u16)
    };
    let (host, port) = match s.rfind(':') {
        Some(i) => {
            let (h, p) = (&s[..i], &s[i + 1..]);
            if p.is_empty() {
                return Err(format!("no port number specified in {}", py_repr(p)));
            }
            (h.to_lowercase(), port_number(p)?)
        }
        None => (
            String::new(),
            port_number(s).map_err(|_| format!("not a valid port number: {} ", py_repr(s)))?,
        ),
    };
    let host = if host == "*" { String::new() } else { host };
    Ok((host, port))
}

/// `url()`: needs a scheme and a host or path.
pub fn url(s: &str) -> Result<String, String> {
    let ok = match s.find(':') {
        Some(i) if i > 0 => {
            let scheme = &s[..i];
            let rest = &s[i + 1..];
            scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
                && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
                && !rest.trim_start_matches('/').is_empty()
        }
        _ => false,
    };
    if ok {
        Ok(s.to_string())
    } else {
        Err(format!("value {} is not a URL", py_repr(s)))
    }
}

/// `name_to_uid()`: a user name or a numeric uid that exists.
pub fn name_to_uid(name: &str) -> Result<u32, String> {
    match py_int(name) {
        Some(n) => {
            let uid = u32::try_from(n).map_err(|_| format!("Invalid user id {}", name))?;
            if users::name_of_uid(uid).is_some() {
                Ok(uid)
            } else {
                Err(format!("Invalid user id {}", name))
            }
        }
        None => users::uid_of_name(name).ok_or_else(|| format!("Invalid user name {}", name)),
    }
}

/// A program's `user`: Python's user name or id, or (an extension of the
/// Go supervisord) `user:group`, whose group replaces the user's own
/// primary group. A value Python reads is read as Python does, errors too.
pub fn user_and_group(s: &str) -> Result<(u32, Option<u32>), String> {
    match name_to_uid(s) {
        Ok(uid) => Ok((uid, None)),
        Err(e) => match s.split_once(':') {
            Some((u, g)) if !u.is_empty() && !g.is_empty() => {
                Ok((name_to_uid(u)?, Some(name_to_gid(g)?)))
            }
            _ => Err(e),
        },
    }
}

/// `name_to_gid()`: a group name or a numeric gid that exists.
pub fn name_to_gid(name: &str) -> Result<u32, String> {
    match py_int(name) {
        Some(n) => {
            let gid = u32::try_from(n).map_err(|_| format!("Invalid group id {}", name))?;
            if users::group_exists(gid) {
                Ok(gid)
            } else {
                Err(format!("Invalid group id {}", name))
            }
        }
        None => users::gid_of_name(name).ok_or_else(|| format!("Invalid group name {}", name)),
    }
}

/// `colon_separated_user_group()`: `user` or `user:group`.
pub fn user_group(s: &str) -> Result<(u32, Option<u32>), String> {
    let parse = || -> Result<(u32, Option<u32>), String> {
        match s.split_once(':') {
            None => Ok((name_to_uid(s)?, None)),
            Some((u, g)) => Ok((name_to_uid(u)?, Some(name_to_gid(g)?))),
        }
    };
    parse().map_err(|_| format!("Invalid user:group definition {}", s))
}

/// `dict_of_key_value_pairs()`: `K=v,K2="v, 2"` read with Python's
/// non-POSIX shlex (word characters extended with `/.+-():`).
pub fn key_value_pairs(s: &str) -> Result<Vec<(String, String)>, String> {
    let tokens = shlex::nonposix_tokens(s)?;
    let mut out: Vec<(String, String)> = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        if i + 2 >= tokens.len() || tokens[i + 1] != "=" {
            return Err(format!(
                "Unexpected end of key/value pairs in value '{}'",
                s
            ));
        }
        let key = tokens[i].clone();
        let value = tokens[i + 2]
            .trim_matches(|c| c == '\'' || c == '"')
            .to_string();
        // A repeated key keeps its first position with the last value, as a
        // Python dict does.
        match out.iter_mut().find(|(k, _)| *k == key) {
            Some(slot) => slot.1 = value,
            None => out.push((key, value)),
        }
        // The token after the value (normally a comma) is skipped unread.
        i += 4;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_with_a_group() {
        assert_eq!(user_and_group("root"), Ok((0, None)));
        assert_eq!(user_and_group("0:0"), Ok((0, Some(0))));
        assert_eq!(user_and_group("root:root"), Ok((0, Some(0))));
        assert_eq!(
            user_and_group("nosuchuser"),
            Err("Invalid user name nosuchuser".to_string())
        );
        assert_eq!(
            user_and_group("root:nosuchgroup"),
            Err("Invalid group name nosuchgroup".to_string())
        );
        assert_eq!(
            user_and_group("root:"),
            Err("Invalid user name root:".to_string())
        );
    }

    #[test]
    fn stop_signal_lists() {
        assert_eq!(signal_list("TERM"), Ok(vec![libc::SIGTERM]));
        assert_eq!(signal_list(" 15 "), Ok(vec![15]));
        assert_eq!(
            signal_list("QUIT, TERM INT"),
            Ok(vec![libc::SIGQUIT, libc::SIGTERM, libc::SIGINT])
        );
        // A single bad value reads exactly as Python's error.
        assert_eq!(signal_list("FOO"), signal_number("FOO").map(|n| vec![n]));
        assert_eq!(
            signal_list("TERM, FOO"),
            Err("value 'FOO' is not a valid signal name".to_string())
        );
    }

    #[test]
    fn integers() {
        assert_eq!(
            integer("abc").unwrap_err(),
            "invalid literal for int() with base 10: 'abc'"
        );
    }

    #[test]
    fn booleans() {
        for t in ["true", "YES", "On", "1"] {
            assert_eq!(boolean(t), Ok(true));
        }
        for f in ["false", "No", "OFF", "0"] {
            assert_eq!(boolean(f), Ok(false));
        }
        assert_eq!(
            boolean("maybe").unwrap_err(),
            "not a valid boolean value: 'maybe'"
        );
    }

    #[test]
    fn byte_sizes() {
        assert_eq!(byte_size("50MB"), Ok(50 * 1024 * 1024));
        assert_eq!(byte_size("1kb"), Ok(1024));
        assert_eq!(byte_size("2Gb"), Ok(2 * 1024 * 1024 * 1024));
        assert_eq!(byte_size("100"), Ok(100));
        assert!(byte_size("10XB").is_err());
        assert!(byte_size("MB").is_err());
    }

    #[test]
    fn octals() {
        assert_eq!(octal("022"), Ok(0o22));
        assert_eq!(octal("0o777"), Ok(0o777));
        assert_eq!(
            octal("999").unwrap_err(),
            "999 can not be converted to an octal type"
        );
    }

    #[test]
    fn signals() {
        assert_eq!(signal_number("TERM"), Ok(15));
        assert_eq!(signal_number("sigkill"), Ok(9));
        assert_eq!(signal_number("9"), Ok(9));
        assert_eq!(
            signal_number("FOO").unwrap_err(),
            "value 'FOO' is not a valid signal name"
        );
        assert_eq!(
            signal_number("99").unwrap_err(),
            "value '99' is not a valid signal number"
        );
        assert_eq!(signal_name(15), "SIGTERM");
        assert_eq!(signal_name(6), "SIGABRT");
    }

    #[test]
    fn exit_codes() {
        assert_eq!(exitcodes("0,2"), Ok(vec![0, 2]));
        assert!(exitcodes("256").is_err());
        assert!(exitcodes("1,abc").is_err());
    }

    #[test]
    fn names() {
        assert_eq!(process_or_group_name(" foo "), Ok("foo".into()));
        assert_eq!(
            process_or_group_name("a b").unwrap_err(),
            "Invalid name: 'a b' because of character: ' '"
        );
    }

    #[test]
    fn environment_pairs() {
        assert_eq!(
            key_value_pairs("A=1,B=\"x, y\",C='z'"),
            Ok(vec![
                ("A".into(), "1".into()),
                ("B".into(), "x, y".into()),
                ("C".into(), "z".into())
            ])
        );
        assert_eq!(
            key_value_pairs("PATH=/usr/bin:/bin,X=a.b-c+d"),
            Ok(vec![
                ("PATH".into(), "/usr/bin:/bin".into()),
                ("X".into(), "a.b-c+d".into())
            ])
        );
        assert_eq!(key_value_pairs(""), Ok(vec![]));
        assert!(key_value_pairs("A").is_err());
        assert_eq!(
            key_value_pairs("A=\"x").unwrap_err(),
            "No closing quotation"
        );
    }

    #[test]
    fn addresses() {
        assert_eq!(
            inet_address("127.0.0.1:9001"),
            Ok(("127.0.0.1".into(), 9001))
        );
        assert_eq!(inet_address("*:9001"), Ok(("".into(), 9001)));
        assert_eq!(inet_address("9001"), Ok(("".into(), 9001)));
        assert!(inet_address("70000").is_err());
        assert!(inet_address("host:").is_err());
    }
}
