//! `supervisorctl`'s command line: Python's flags, their checks (getopt
//! errors, repeated flags, URL validation) and `--help`.

use super::{parse, Flag, UsageError};
use crate::config::datatypes as dt;
use std::ffi::OsString;
use std::path::PathBuf;

/// Every flag, in the order `--help` lists them.
pub const FLAGS: &[Flag] = &[
    Flag {
        short: Some('c'),
        long: Some("configuration"),
        value: Some("FILENAME"),
        help: "configuration file path (searches if not given)",
    },
    Flag {
        short: Some('h'),
        long: Some("help"),
        value: None,
        help: "print usage message and exit",
    },
    Flag {
        short: Some('i'),
        long: Some("interactive"),
        value: None,
        help: "start an interactive shell after executing commands",
    },
    Flag {
        short: Some('s'),
        long: Some("serverurl"),
        value: Some("URL"),
        help: "URL on which supervisord server is listening\n     (default \"http://localhost:9001\").",
    },
    Flag {
        short: Some('u'),
        long: Some("username"),
        value: Some("USERNAME"),
        help: "username to use for authentication with server",
    },
    Flag {
        short: Some('p'),
        long: Some("password"),
        value: Some("PASSWORD"),
        help: "password to use for authentication with server",
    },
    // Python's getopt spelling is `--history_file`; its help says
    // `--history-file`. Both are accepted (see `parse_args`).
    Flag {
        short: Some('r'),
        long: Some("history_file"),
        value: Some("FILENAME"),
        help: "keep a readline history (if readline is available)",
    },
    // `-?` is Python's undocumented alias of `-h`; help does not list it.
    Flag {
        short: Some('?'),
        long: None,
        value: None,
        help: "",
    },
];

/// What the command line asks for.
#[derive(Debug)]
pub enum Request {
    Help,
    Run(CtlOptions),
}

/// Values given on the command line; each beats `[supervisorctl]`.
#[derive(Debug, Default, Clone)]
pub struct CtlOptions {
    pub configfile: Option<PathBuf>,
    pub interactive: bool,
    pub serverurl: Option<String>,
    pub username: Option<String>,
    pub password: Option<String>,
    pub history_file: Option<PathBuf>,
    /// The action and its arguments.
    pub args: Vec<String>,
}

/// Turns `--history-file[=X]` (and its prefixes that only it and its
/// underscore twin share) into `--history_file`, so the docstring's
/// spelling works too. Only option words are touched: scanning stops
/// where getopt would stop.
fn normalize_history_spelling(args: Vec<OsString>) -> Vec<OsString> {
    let mut out = Vec::with_capacity(args.len());
    let mut options_done = false;
    let mut value_next = false;
    for a in args {
        if options_done || value_next {
            value_next = false;
            out.push(a);
            continue;
        }
        let s = a.to_string_lossy().into_owned();
        if s == "--" || !s.starts_with('-') || s == "-" {
            options_done = true;
            out.push(a);
            continue;
        }
        if let Some(long) = s.strip_prefix("--") {
            let (name, inline) = match long.split_once('=') {
                Some((n, v)) => (n, Some(v)),
                None => (long, None),
            };
            let fixed = if name.len() > "history".len() && "history-file".starts_with(name) {
                "history_file".to_string()
            } else {
                name.to_string()
            };
            let takes_value = [
                "configuration",
                "serverurl",
                "username",
                "password",
                "history_file",
            ]
            .iter()
            .any(|l| !fixed.is_empty() && l.starts_with(fixed.as_str()));
            value_next = takes_value && inline.is_none();
            out.push(OsString::from(match inline {
                Some(v) => format!("--{}={}", fixed, v),
                None => format!("--{}", fixed),
            }));
            continue;
        }
        // Bundled short flags: a value-taking one ends the word, and takes
        // the next word when nothing follows it.
        let chars: Vec<char> = s[1..].chars().collect();
        for (i, c) in chars.iter().enumerate() {
            if "csupr".contains(*c) {
                value_next = i + 1 == chars.len();
                break;
            }
        }
        out.push(a);
    }
    out
}

/// Parses the arguments after argv[0]; errors are the text after `Error: `.
pub fn parse_args(args: Vec<OsString>) -> Result<Request, UsageError> {
    let parsed = parse(FLAGS, normalize_history_spelling(args))?;
    let mut o = CtlOptions::default();
    let mut help = false;
    for (flag, value) in parsed.flags {
        // The shared parser does not keep the spelling used; like
        // supervisord's table, errors name the short form.
        let shown = match (flag.short, flag.long) {
            (Some(c), _) => format!("-{}", c),
            (None, Some(l)) => format!("--{}", l),
            (None, None) => String::new(),
        };
        let v = value.clone().unwrap_or_default();
        let conflict = || {
            UsageError(format!(
                "conflicting command line option {}",
                crate::pycompat::repr::py_repr(&shown)
            ))
        };
        match flag.short {
            Some('h') | Some('?') => help = true,
            Some('c') => {
                if o.configfile.is_some() {
                    return Err(conflict());
                }
                o.configfile = Some(PathBuf::from(&v));
            }
            Some('i') => {
                if o.interactive {
                    return Err(conflict());
                }
                o.interactive = true;
            }
            Some('s') => {
                let url = dt::url(&v).map_err(|m| {
                    UsageError(format!(
                        "invalid value for {} {}: {}",
                        shown,
                        crate::pycompat::repr::py_repr(&v),
                        m
                    ))
                })?;
                if o.serverurl.is_some() {
                    return Err(conflict());
                }
                o.serverurl = Some(url);
            }
            Some('u') => {
                if o.username.is_some() {
                    return Err(conflict());
                }
                o.username = Some(v);
            }
            Some('p') => {
                if o.password.is_some() {
                    return Err(conflict());
                }
                o.password = Some(v);
            }
            Some('r') => {
                if o.history_file.is_some() {
                    return Err(conflict());
                }
                o.history_file = Some(PathBuf::from(v));
            }
            _ => {}
        }
        if help {
            // Python handles -h the moment getopt returns it.
            return Ok(Request::Help);
        }
    }
    o.args = parsed.positional;
    Ok(Request::Run(o))
}

/// The whole `--help` text; `progname` replaces Python's `%s`.
pub fn help_text(progname: &str) -> String {
    let mut opts = String::new();
    for f in FLAGS {
        if f.help.is_empty() {
            continue;
        }
        let synopsis = if f.short == Some('r') {
            // Python documents the flag without a value name.
            "-r/--history-file".to_string()
        } else {
            f.synopsis()
        };
        opts.push_str(&format!("{} -- {}\n", synopsis, f.help));
    }
    format!(
        "supervisorctl -- control applications run by supervisord from the cmd line.

Usage: {} [options] [action [arguments]]

Options:
{}
action [arguments] -- see below

Actions are commands like \"tail\" or \"stop\".  If -i is specified or no action is
specified on the command line, a \"shell\" interpreting actions typed
interactively is started.  Use the action \"help\" to find out about available
actions.

",
        progname, opts
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(v: &[&str]) -> Result<Request, UsageError> {
        parse_args(v.iter().map(OsString::from).collect())
    }

    #[test]
    fn flags_and_action() {
        let Ok(Request::Run(o)) = run(&["-s", "unix:///x", "-uuser", "start", "-x"]) else {
            panic!("expected run");
        };
        assert_eq!(o.serverurl.as_deref(), Some("unix:///x"));
        assert_eq!(o.username.as_deref(), Some("user"));
        assert_eq!(o.args, vec!["start".to_string(), "-x".to_string()]);
    }

    #[test]
    fn history_file_both_spellings() {
        for v in [
            &["--history-file", "h"][..],
            &["--history_file=h"][..],
            &["-r", "h"][..],
            &["--history-f=h"][..],
        ] {
            let Ok(Request::Run(o)) = run(v) else {
                panic!("expected run for {:?}", v);
            };
            assert_eq!(o.history_file, Some(PathBuf::from("h")), "{:?}", v);
        }
    }

    #[test]
    fn errors_match_python() {
        assert_eq!(
            run(&["-s", "foo"]).unwrap_err().0,
            "invalid value for -s 'foo': value 'foo' is not a URL"
        );
        assert_eq!(
            run(&["-u", "a", "-u", "b"]).unwrap_err().0,
            "conflicting command line option '-u'"
        );
        assert_eq!(run(&["-x"]).unwrap_err().0, "option -x not recognized");
        assert!(matches!(run(&["-?"]), Ok(Request::Help)));
    }
}
