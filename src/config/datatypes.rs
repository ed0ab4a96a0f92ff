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

/// Where a syslog target sends: the local daemon, or a server named by the
/// Go supervisord's `syslog @[proto:]host[:port]` (`unix:/path` is ours: a
/// datagram socket other than `/dev/log`, e.g. a container's or a test's).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyslogAddr {
    /// `/dev/log`.
    Local,
    Unix(PathBuf),
    Udp {
        host: String,
        port: u16,
    },
    Tcp {
        host: String,
        port: u16,
    },
}

/// One target of a `stdout_logfile` list besides the main log file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogTarget {
    /// Another file (or `/dev/stdout`, `/dev/stderr`), rotated by the
    /// channel's own maxbytes and backups unless it is special.
    File(PathBuf),
    Syslog(SyslogAddr),
}

/// `*_logfile` with the Go supervisord's extensions: the main log file
/// (what RPC reads, tails and clears) and the other targets.
///
/// The list rule: a value holding a comma is a list, split on every comma,
/// each item trimmed (the Go supervisord's rule). Python would take such a
/// value as one file name (`a,b.log`), but a comma in a log path is
/// vanishingly rare, and a list after a directory (`/var/log/a.log,
/// /dev/stdout`) was never a working Python value anyway: its "directory"
/// `/var/log/a.log, /dev` does not exist. A value without a comma keeps
/// exactly Python's meaning, with one exception: `syslog @host` (Python's
/// "file" named `syslog @host` in the current directory) is a remote
/// syslog target. In a list, the first file (a path or AUTO) is the main
/// log; `syslog` is the local syslog target with `syslog_facility` and
/// friends (alone it stays Python's deprecated `stdout_syslog`); NONE, OFF,
/// `/dev/null` and empty items add nothing.
pub fn logfile_targets(s: &str) -> Result<(LogFile, Vec<LogTarget>), String> {
    if !s.contains(',') {
        if let Some(addr) = syslog_at(s) {
            return Ok((LogFile::None, vec![LogTarget::Syslog(addr?)]));
        }
        return logfile_name(s).map(|f| (f, Vec::new()));
    }
    let mut main = LogFile::None;
    let mut more = Vec::new();
    let mut any = false;
    for item in s.split(',').map(str::trim).filter(|i| !i.is_empty()) {
        any = true;
        if let Some(addr) = syslog_at(item) {
            more.push(LogTarget::Syslog(addr?));
            continue;
        }
        match item.to_lowercase().as_str() {
            "none" | "off" | "/dev/null" => {}
            "syslog" => more.push(LogTarget::Syslog(SyslogAddr::Local)),
            "/dev/stdout" | "/dev/stderr" => more.push(LogTarget::File(PathBuf::from(item))),
            "auto" if main == LogFile::None => main = LogFile::Auto,
            "auto" => {
                return Err(format!(
                    "AUTO must be the first file in the log list {}",
                    py_repr(s)
                ))
            }
            _ => {
                let p = existing_dirpath(item)?;
                if main == LogFile::None {
                    main = LogFile::Path(p);
                } else {
                    more.push(LogTarget::File(p));
                }
            }
        }
    }
    if !any {
        return Err(format!("no log target in {}", py_repr(s)));
    }
    Ok((main, more))
}

/// `syslog @addr` (spaces around `@` allowed, as in Go): the parsed
/// address, or None when `item` is not of that form.
fn syslog_at(item: &str) -> Option<Result<SyslogAddr, String>> {
    let t = item.trim();
    let rest = t
        .get(..6)?
        .eq_ignore_ascii_case("syslog")
        .then(|| &t[6..])?;
    let addr = rest.trim_start().strip_prefix('@')?.trim();
    Some(syslog_addr(addr).map_err(|why| format!("invalid syslog target {}: {}", py_repr(t), why)))
}

/// `[udp:|tcp:]host[:port]` (default udp; port 514 for udp, 6514 for tcp)
/// or `unix:/path`. An IPv6 host goes in brackets.
fn syslog_addr(s: &str) -> Result<SyslogAddr, String> {
    let lower = s.to_ascii_lowercase();
    if lower.starts_with("unix:") {
        let path = &s[5..];
        if !path.starts_with('/') {
            return Err("a unix socket path must be absolute".into());
        }
        return Ok(SyslogAddr::Unix(PathBuf::from(path)));
    }
    let (tcp, rest) = if lower.starts_with("tcp:") {
        (true, &s[4..])
    } else if lower.starts_with("udp:") {
        (false, &s[4..])
    } else {
        (false, s)
    };
    let (host, port) = if let Some(v6) = rest.strip_prefix('[') {
        let (host, after) = v6.split_once(']').ok_or("missing ']'")?;
        match after {
            "" => (host, None),
            _ => (
                host,
                Some(
                    after
                        .strip_prefix(':')
                        .ok_or("expected ':port' after ']'")?,
                ),
            ),
        }
    } else {
        match rest.split_once(':') {
            Some((proto, p)) if p.contains(':') && !proto.contains('.') && !s.contains("::") => {
                return Err(format!(
                    "unknown protocol {} (udp, tcp or unix)",
                    py_repr(proto)
                ))
            }
            Some((_, p)) if p.contains(':') => {
                return Err("too many ':' (put an IPv6 address in brackets)".into())
            }
            Some((h, p)) => (h, Some(p)),
            None => (rest, None),
        }
    };
    if host.is_empty() || host.contains(char::is_whitespace) {
        return Err("expected a host name or address".into());
    }
    let port = match port {
        None if tcp => 6514,
        None => 514,
        Some(p) => match p.parse::<u16>() {
            Ok(n) if n > 0 && p.bytes().all(|b| b.is_ascii_digit()) => n,
            _ => return Err(format!("bad port {}", py_repr(p))),
        },
    };
    let host = host.to_string();
    Ok(if tcp {
        SyslogAddr::Tcp { host, port }
    } else {
        SyslogAddr::Udp { host, port }
    })
}

/// `syslog_facility`: a name from syslog.h, any case, `LOG_` optional.
pub fn syslog_facility(s: &str) -> Result<u8, String> {
    const NAMES: &[(&str, u8)] = &[
        ("kern", 0),
        ("kernel", 0),
        ("user", 1),
        ("mail", 2),
        ("daemon", 3),
        ("auth", 4),
        ("syslog", 5),
        ("lpr", 6),
        ("news", 7),
        ("uucp", 8),
        ("cron", 9),
        ("authpriv", 10),
        ("ftp", 11),
        ("local0", 16),
        ("local1", 17),
        ("local2", 18),
        ("local3", 19),
        ("local4", 20),
        ("local5", 21),
        ("local6", 22),
        ("local7", 23),
    ];
    syslog_name(s, NAMES).ok_or_else(|| {
        format!(
            "invalid syslog facility {} (expected user, daemon, local0 ... local7, ...)",
            py_repr(s)
        )
    })
}

/// `syslog_stdout_priority` / `syslog_stderr_priority`: a severity name.
pub fn syslog_severity(s: &str) -> Result<u8, String> {
    const NAMES: &[(&str, u8)] = &[
        ("emerg", 0),
        ("alert", 1),
        ("crit", 2),
        ("critical", 2),
        ("err", 3),
        ("error", 3),
        ("warning", 4),
        ("warn", 4),
        ("notice", 5),
        ("info", 6),
        ("debug", 7),
    ];
    syslog_name(s, NAMES).ok_or_else(|| {
        format!(
            "invalid syslog priority {} (expected emerg, alert, crit, err, warning, notice, info or debug)",
            py_repr(s)
        )
    })
}

fn syslog_name(s: &str, names: &[(&str, u8)]) -> Option<u8> {
    let l = s.trim().to_ascii_lowercase();
    let l = l.strip_prefix("log_").unwrap_or(&l);
    names.iter().find(|(n, _)| *n == l).map(|&(_, v)| v)
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

    #[test]
    fn a_single_log_value_keeps_pythons_meaning() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("a.log");
        let ps = p.to_str().unwrap();
        assert_eq!(logfile_targets(ps), Ok((LogFile::Path(p.clone()), vec![])));
        assert_eq!(logfile_targets("AUTO"), Ok((LogFile::Auto, vec![])));
        assert_eq!(logfile_targets("off"), Ok((LogFile::None, vec![])));
        assert_eq!(logfile_targets("Syslog"), Ok((LogFile::Syslog, vec![])));
        assert_eq!(
            logfile_targets("/dev/stdout"),
            Ok((LogFile::Path("/dev/stdout".into()), vec![]))
        );
        assert!(logfile_targets("/no/such/dir/a.log").is_err());
    }

    #[test]
    fn a_comma_makes_a_list_whose_first_file_is_the_main_log() {
        let d = tempfile::tempdir().unwrap();
        let a = d.path().join("a.log");
        let b = d.path().join("b.log");
        let v = format!(
            "{}, /dev/stdout ,{} ,syslog, syslog @tcp:h ,NONE,/dev/null,",
            a.display(),
            b.display()
        );
        assert_eq!(
            logfile_targets(&v),
            Ok((
                LogFile::Path(a.clone()),
                vec![
                    LogTarget::File("/dev/stdout".into()),
                    LogTarget::File(b.clone()),
                    LogTarget::Syslog(SyslogAddr::Local),
                    LogTarget::Syslog(SyslogAddr::Tcp {
                        host: "h".into(),
                        port: 6514
                    }),
                ]
            ))
        );
        // No file at all: no main log, reads answer NO_FILE.
        assert_eq!(
            logfile_targets("/dev/stderr, syslog"),
            Ok((
                LogFile::None,
                vec![
                    LogTarget::File("/dev/stderr".into()),
                    LogTarget::Syslog(SyslogAddr::Local)
                ]
            ))
        );
        assert_eq!(
            logfile_targets("auto, /dev/stdout"),
            Ok((LogFile::Auto, vec![LogTarget::File("/dev/stdout".into())]))
        );
        assert!(logfile_targets(&format!("{}, AUTO", a.display())).is_err());
        assert!(logfile_targets(" , ").is_err());
        assert!(logfile_targets("a.log, /no/such/dir/b.log").is_err());
    }

    #[test]
    fn syslog_at_addresses() {
        let t = |s: &str| logfile_targets(s).map(|(f, m)| (f, m.into_iter().next()));
        let udp = |h: &str, port| {
            Ok((
                LogFile::None,
                Some(LogTarget::Syslog(SyslogAddr::Udp {
                    host: h.into(),
                    port,
                })),
            ))
        };
        assert_eq!(t("syslog @host"), udp("host", 514));
        assert_eq!(t("syslog@host:1514"), udp("host", 1514));
        assert_eq!(t("syslog @ udp:10.0.0.1"), udp("10.0.0.1", 514));
        assert_eq!(t("syslog @udp:[::1]:99"), udp("::1", 99));
        assert!(t("syslog @foo:host:514")
            .unwrap_err()
            .contains("unknown protocol 'foo'"));
        assert_eq!(
            t("syslog @TCP:host:7"),
            Ok((
                LogFile::None,
                Some(LogTarget::Syslog(SyslogAddr::Tcp {
                    host: "host".into(),
                    port: 7
                }))
            ))
        );
        assert_eq!(
            t("syslog @unix:/run/log.sock"),
            Ok((
                LogFile::None,
                Some(LogTarget::Syslog(SyslogAddr::Unix("/run/log.sock".into())))
            ))
        );
        for bad in [
            "syslog @",
            "syslog @host:0",
            "syslog @host:x",
            "syslog @host:70000",
            "syslog @::1",
            "syslog @[::1",
            "syslog @unix:rel",
            "syslog @tcp:",
            "syslog @foo:host:514",
        ] {
            let e = t(bad).unwrap_err();
            assert!(e.starts_with("invalid syslog target "), "{bad}: {e}");
        }
    }

    #[test]
    fn syslog_names() {
        assert_eq!(syslog_facility("LOCAL7"), Ok(23));
        assert_eq!(syslog_facility("log_daemon"), Ok(3));
        assert_eq!(syslog_facility("user"), Ok(1));
        assert!(syslog_facility("local8").is_err());
        assert_eq!(syslog_severity("Err"), Ok(3));
        assert_eq!(syslog_severity("warning"), Ok(4));
        assert_eq!(syslog_severity("LOG_NOTICE"), Ok(5));
        assert!(syslog_severity("loud").is_err());
    }
}
