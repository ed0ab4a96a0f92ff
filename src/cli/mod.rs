//! Command lines: one table of flags per program, from which the parser,
//! `--help` and the man pages are all made, so they cannot drift.
//! Parsing follows Python's getopt (which Supervisor uses): `-cFILE`,
//! `-c FILE`, bundled short flags, `--long=value`, `--long value`, and
//! unique prefixes of long names; its error texts are getopt's.

pub mod man;
pub mod supervisorctl;
pub mod supervisord;

use std::ffi::OsString;

/// One command-line flag.
#[derive(Debug, Clone, Copy)]
pub struct Flag {
    pub short: Option<char>,
    pub long: Option<&'static str>,
    /// The value's name in help, or None for a flag without a value.
    pub value: Option<&'static str>,
    pub help: &'static str,
}

impl Flag {
    /// `-c/--configuration FILENAME` as help shows it.
    pub fn synopsis(&self) -> String {
        let mut s = String::new();
        if let Some(c) = self.short {
            s.push('-');
            s.push(c);
        }
        if let Some(l) = self.long {
            if !s.is_empty() {
                s.push('/');
            }
            s.push_str("--");
            s.push_str(l);
        }
        if let Some(v) = self.value {
            s.push(' ');
            s.push_str(v);
        }
        s
    }
}

/// Renders a flag table as the option part of `--help`, one
/// `-c/--configuration FILENAME -- text` line per flag, Python's layout
/// (scripts and Supervisor's own tests match on it).
pub fn options_help(flags: &[Flag]) -> String {
    let mut out = String::new();
    for f in flags {
        let syn = f.synopsis();
        out.push_str(&format!("{} -- {}\n", syn, f.help));
    }
    out
}

/// What the parser found: each flag with its value, in order, plus the
/// positional arguments (getopt stops at the first one).
#[derive(Debug, Default)]
pub struct Parsed {
    pub flags: Vec<(Flag, Option<String>)>,
    pub positional: Vec<String>,
}

/// A usage error, worded as Python's getopt words it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageError(pub String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Parses `args` (without argv[0]) against `flags`.
pub fn parse(flags: &[Flag], args: Vec<OsString>) -> Result<Parsed, UsageError> {
    let args: Vec<String> = args
        .into_iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let mut out = Parsed::default();
    let mut i = 0;
    while i < args.len() {
        let a = &args[i];
        if a == "--" {
            out.positional.extend(args[i + 1..].iter().cloned());
            break;
        }
        if let Some(long) = a.strip_prefix("--") {
            let (name, inline) = match long.split_once('=') {
                Some((n, v)) => (n, Some(v.to_string())),
                None => (long, None),
            };
            let flag = find_long(flags, name)?;
            let lname = flag.long.unwrap_or(name);
            let value = match (flag.value, inline) {
                (Some(_), Some(v)) => Some(v),
                (Some(_), None) => {
                    i += 1;
                    match args.get(i) {
                        Some(v) => Some(v.clone()),
                        None => {
                            return Err(UsageError(format!("option --{} requires argument", lname)))
                        }
                    }
                }
                (None, Some(_)) => {
                    return Err(UsageError(format!(
                        "option --{} must not have an argument",
                        lname
                    )))
                }
                (None, None) => None,
            };
            out.flags.push((flag, value));
        } else if a.len() > 1 && a.starts_with('-') {
            let chars: Vec<char> = a[1..].chars().collect();
            let mut j = 0;
            while j < chars.len() {
                let c = chars[j];
                let flag = flags
                    .iter()
                    .find(|f| f.short == Some(c))
                    .copied()
                    .ok_or_else(|| UsageError(format!("option -{} not recognized", c)))?;
                if flag.value.is_some() {
                    let rest: String = chars[j + 1..].iter().collect();
                    let value = if !rest.is_empty() {
                        rest
                    } else {
                        i += 1;
                        match args.get(i) {
                            Some(v) => v.clone(),
                            None => {
                                return Err(UsageError(format!("option -{} requires argument", c)))
                            }
                        }
                    };
                    out.flags.push((flag, Some(value)));
                    break;
                }
                out.flags.push((flag, None));
                j += 1;
            }
        } else {
            // getopt stops at the first non-option argument.
            out.positional.extend(args[i..].iter().cloned());
            break;
        }
        i += 1;
    }
    Ok(out)
}

fn find_long(flags: &[Flag], name: &str) -> Result<Flag, UsageError> {
    if let Some(f) = flags.iter().find(|f| f.long == Some(name)) {
        return Ok(*f);
    }
    let matches: Vec<&Flag> = flags
        .iter()
        .filter(|f| f.long.is_some_and(|l| l.starts_with(name)))
        .collect();
    match matches.as_slice() {
        [one] => Ok(**one),
        [] => Err(UsageError(format!("option --{} not recognized", name))),
        _ => Err(UsageError(format!("option --{} not a unique prefix", name))),
    }
}

/// Python's repr of a list of str, for "positional arguments are not
/// supported: ['x']".
pub fn py_list_repr(items: &[String]) -> String {
    let inner: Vec<String> = items
        .iter()
        .map(|s| crate::pycompat::repr::py_repr(s))
        .collect();
    format!("[{}]", inner.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    const FLAGS: &[Flag] = &[
        Flag {
            short: Some('c'),
            long: Some("configuration"),
            value: Some("FILENAME"),
            help: "",
        },
        Flag {
            short: Some('n'),
            long: Some("nodaemon"),
            value: None,
            help: "",
        },
        Flag {
            short: Some('k'),
            long: Some("nocleanup"),
            value: None,
            help: "",
        },
    ];

    fn args(v: &[&str]) -> Vec<OsString> {
        v.iter().map(OsString::from).collect()
    }

    #[test]
    fn getopt_forms() {
        let p = parse(FLAGS, args(&["-nkcX.conf"])).unwrap();
        assert_eq!(p.flags.len(), 3);
        assert_eq!(p.flags[2].1.as_deref(), Some("X.conf"));
        let p = parse(FLAGS, args(&["--config=a", "--nod"])).unwrap();
        assert_eq!(p.flags[0].1.as_deref(), Some("a"));
        assert_eq!(p.flags[1].0.long, Some("nodaemon"));
        let p = parse(FLAGS, args(&["-c", "b", "pos", "-n"])).unwrap();
        assert_eq!(p.positional, vec!["pos".to_string(), "-n".to_string()]);
    }

    #[test]
    fn getopt_errors() {
        assert_eq!(
            parse(FLAGS, args(&["-x"])).unwrap_err().0,
            "option -x not recognized"
        );
        assert_eq!(
            parse(FLAGS, args(&["--no"])).unwrap_err().0,
            "option --no not a unique prefix"
        );
        assert_eq!(
            parse(FLAGS, args(&["-c"])).unwrap_err().0,
            "option -c requires argument"
        );
        assert_eq!(
            parse(FLAGS, args(&["--nodaemon=1"])).unwrap_err().0,
            "option --nodaemon must not have an argument"
        );
    }
}
