//! `supervisord`'s command line: Python's flags, their checks and their
//! precedence (command line over config file over default), plus our
//! `--check-config`.

use super::{parse, py_list_repr, Flag, UsageError};
use crate::config::datatypes as dt;
use crate::config::{normalize_path, Config, MainLogFile};
use std::ffi::OsString;
use std::path::PathBuf;

/// Every flag, in the order `--help` lists them.
pub const FLAGS: &[Flag] = &[
    Flag {
        short: Some('c'),
        long: Some("configuration"),
        value: Some("FILENAME"),
        help: "configuration file path (searched for if not given)",
    },
    Flag {
        short: Some('n'),
        long: Some("nodaemon"),
        value: None,
        help: "run in the foreground (same as 'nodaemon=true' in config file)",
    },
    Flag {
        short: Some('s'),
        long: Some("silent"),
        value: None,
        help: "no logs to stdout (maps to 'silent=true' in config file)",
    },
    Flag {
        short: Some('h'),
        long: Some("help"),
        value: None,
        help: "print this usage message and exit",
    },
    Flag {
        short: Some('?'),
        long: None,
        value: None,
        help: "same as --help",
    },
    Flag {
        short: Some('v'),
        long: Some("version"),
        value: None,
        help: "print supervisord version number and exit",
    },
    Flag {
        short: Some('u'),
        long: Some("user"),
        value: Some("USER"),
        help: "run supervisord as this user (or numeric uid)",
    },
    Flag {
        short: Some('m'),
        long: Some("umask"),
        value: Some("UMASK"),
        help: "use this umask for daemon subprocess (default is 022)",
    },
    Flag {
        short: Some('d'),
        long: Some("directory"),
        value: Some("DIRECTORY"),
        help: "directory to chdir to when daemonized",
    },
    Flag {
        short: Some('l'),
        long: Some("logfile"),
        value: Some("FILENAME"),
        help: "use FILENAME as logfile path",
    },
    Flag {
        short: Some('y'),
        long: Some("logfile_maxbytes"),
        value: Some("BYTES"),
        help: "use BYTES to limit the max size of logfile",
    },
    Flag {
        short: Some('z'),
        long: Some("logfile_backups"),
        value: Some("NUM"),
        help: "number of backups to keep when max bytes reached",
    },
    Flag {
        short: Some('e'),
        long: Some("loglevel"),
        value: Some("LEVEL"),
        help: "use LEVEL as log level (debug,info,warn,error,critical)",
    },
    Flag {
        short: Some('j'),
        long: Some("pidfile"),
        value: Some("FILENAME"),
        help: "write a pid file for the daemon process to FILENAME",
    },
    Flag {
        short: Some('i'),
        long: Some("identifier"),
        value: Some("STR"),
        help: "identifier used for this instance of supervisord",
    },
    Flag {
        short: Some('q'),
        long: Some("childlogdir"),
        value: Some("DIRECTORY"),
        help: "the log directory for child process logs",
    },
    Flag {
        short: Some('k'),
        long: Some("nocleanup"),
        value: None,
        help: "prevent the process from performing cleanup (removal of old automatic child log files) at startup",
    },
    Flag {
        short: Some('a'),
        long: Some("minfds"),
        value: Some("NUM"),
        help: "the minimum number of file descriptors for start success",
    },
    Flag {
        short: Some('t'),
        long: Some("strip_ansi"),
        value: None,
        help: "strip ansi escape codes from process output",
    },
    Flag {
        short: None,
        long: Some("minprocs"),
        value: Some("NUM"),
        help: "the minimum number of processes available for start success",
    },
    Flag {
        short: None,
        long: Some("profile_options"),
        value: Some("OPTIONS"),
        help: "accepted for compatibility; profiling is not available (Python's cProfile option)",
    },
    Flag {
        short: None,
        long: Some("env-file"),
        value: Some("FILENAME"),
        help: "load KEY=VALUE lines ('export KEY=VALUE', '#' comments and quoted values allowed) into supervisord's environment before the configuration is read, so %(ENV_KEY)s sees them and programs inherit them; read once, at start",
    },
    Flag {
        short: None,
        long: Some("check-config"),
        value: None,
        help: "load and validate the configuration, print the resolved programs, and exit (0 if valid, 2 if not); starts nothing",
    },
];

/// The opening of `--help`; the option list is generated from FLAGS.
pub const ABOUT: &str = "supervisord -- run a set of applications as daemons.

Usage: supervisord [options]
       supervisord ctl [supervisorctl options] [action [arguments]]
       supervisord service install|uninstall|start|stop [service options]
       supervisord init [-o FILENAME]
       supervisord version

Options:";

/// What the command line asks for.
#[derive(Debug)]
pub enum Request {
    Help,
    Version,
    Run(Box<DaemonOptions>),
}

/// Values given on the command line; each beats the config file.
#[derive(Debug, Default, Clone)]
pub struct DaemonOptions {
    pub configfile: Option<PathBuf>,
    pub nodaemon: bool,
    pub silent: bool,
    pub user: Option<String>,
    pub umask: Option<u32>,
    pub directory: Option<PathBuf>,
    pub logfile: Option<String>,
    pub logfile_maxbytes: Option<u64>,
    pub logfile_backups: Option<i64>,
    pub loglevel: Option<String>,
    pub pidfile: Option<String>,
    pub identifier: Option<String>,
    pub childlogdir: Option<PathBuf>,
    pub nocleanup: bool,
    pub minfds: Option<i64>,
    pub minprocs: Option<i64>,
    pub strip_ansi: bool,
    pub check_config: bool,
    pub env_file: Option<PathBuf>,
}

/// Parses the arguments after argv[0]; errors are the text after `Error: `.
pub fn parse_args(args: Vec<OsString>) -> Result<Request, UsageError> {
    let parsed = parse(FLAGS, args)?;
    if !parsed.positional.is_empty() {
        return Err(UsageError(format!(
            "positional arguments are not supported: {}",
            py_list_repr(&parsed.positional)
        )));
    }
    let mut o = DaemonOptions::default();
    let mut seen: Vec<&str> = Vec::new();
    for (flag, value) in parsed.flags {
        let name = flag.long.unwrap_or("?");
        let shown = match flag.short {
            Some(c) => format!("-{}", c),
            None => format!("--{}", name),
        };
        let v = value.unwrap_or_default();
        let invalid = |msg: String| {
            UsageError(format!(
                "invalid value for {} {}: {}",
                shown,
                crate::pycompat::repr::py_repr(&v),
                msg
            ))
        };
        match name {
            "help" | "?" => return Ok(Request::Help),
            "version" => return Ok(Request::Version),
            _ => {}
        }
        if seen.contains(&name) && name != "profile_options" {
            return Err(UsageError(format!(
                "conflicting command line option {}",
                crate::pycompat::repr::py_repr(&shown)
            )));
        }
        seen.push(name);
        match name {
            "configuration" => o.configfile = Some(PathBuf::from(&v)),
            "nodaemon" => o.nodaemon = true,
            "silent" => o.silent = true,
            "user" => o.user = Some(v.clone()),
            "umask" => o.umask = Some(dt::octal(&v).map_err(invalid)?),
            "directory" => o.directory = Some(dt::existing_directory(&v).map_err(invalid)?),
            "logfile" => {
                dt::existing_dirpath(&v).map_err(invalid)?;
                o.logfile = Some(v.clone());
            }
            "logfile_maxbytes" => o.logfile_maxbytes = Some(dt::byte_size(&v).map_err(invalid)?),
            "logfile_backups" => o.logfile_backups = Some(dt::integer(&v).map_err(invalid)?),
            "loglevel" => o.loglevel = Some(dt::logging_level(&v).map_err(invalid)?),
            "pidfile" => {
                dt::existing_dirpath(&v).map_err(invalid)?;
                o.pidfile = Some(v.clone());
            }
            "identifier" => o.identifier = Some(v.clone()),
            "childlogdir" => o.childlogdir = Some(dt::existing_directory(&v).map_err(invalid)?),
            "nocleanup" => o.nocleanup = true,
            "minfds" => o.minfds = Some(dt::integer(&v).map_err(invalid)?),
            "minprocs" => o.minprocs = Some(dt::integer(&v).map_err(invalid)?),
            "strip_ansi" => o.strip_ansi = true,
            "check-config" => o.check_config = true,
            "env-file" => o.env_file = Some(PathBuf::from(&v)),
            // Accepted and ignored: there is no Python profiler to run.
            _ => {}
        }
    }
    Ok(Request::Run(Box::new(o)))
}

impl DaemonOptions {
    /// Puts command-line values over the config's, as Python's realize()
    /// does, and runs the checks Python runs on the merged result.
    pub fn apply(&self, cfg: &mut Config) -> Result<(), String> {
        let s = &mut cfg.supervisord;
        s.nodaemon |= self.nodaemon;
        s.silent |= self.silent;
        s.nocleanup |= self.nocleanup;
        s.strip_ansi |= self.strip_ansi;
        if let Some(u) = &self.user {
            s.user = Some(u.clone());
        }
        if let Some(v) = self.umask {
            s.umask = v;
        }
        if let Some(v) = &self.directory {
            s.directory = Some(v.clone());
        }
        if let Some(v) = &self.logfile {
            s.logfile = if v == "syslog" {
                MainLogFile::Syslog
            } else {
                MainLogFile::Path(normalize_path(v))
            };
        }
        if let Some(v) = self.logfile_maxbytes {
            s.logfile_maxbytes = v;
        }
        if let Some(v) = self.logfile_backups {
            s.logfile_backups = v;
        }
        if let Some(v) = &self.loglevel {
            s.loglevel = v.clone();
        }
        if let Some(v) = &self.pidfile {
            s.pidfile = normalize_path(v);
        }
        if let Some(v) = &self.identifier {
            s.identifier = v.clone();
        }
        if let Some(v) = &self.childlogdir {
            s.childlogdir = v.clone();
        }
        if let Some(v) = self.minfds {
            s.minfds = v;
        }
        if let Some(v) = self.minprocs {
            s.minprocs = v;
        }
        if let Some(u) = &s.user {
            dt::name_to_uid(u)?;
        }
        Ok(())
    }
}

/// The whole `--help` text.
pub fn help_text() -> String {
    format!("{}\n{}", ABOUT, super::options_help(FLAGS))
}

/// `supervisord service`'s flags; the action may come before or after them.
pub const SERVICE_FLAGS: &[Flag] = &[
    Flag {
        short: Some('c'),
        long: Some("configuration"),
        value: Some("FILENAME"),
        help: "the configuration file the service runs with, written into the unit as an absolute path (searched for as supervisord does if not given)",
    },
    Flag {
        short: None,
        long: Some("env-file"),
        value: Some("FILENAME"),
        help: "an environment file the service loads at start (supervisord --env-file), written into the unit as an absolute path",
    },
    Flag {
        short: None,
        long: Some("root"),
        value: Some("DIRECTORY"),
        help: "install into (or uninstall from) the system under DIRECTORY, such as an image being built, instead of /; no systemctl or rc-service is run, and start and stop refuse",
    },
    Flag {
        short: Some('h'),
        long: Some("help"),
        value: None,
        help: "print this usage message and exit",
    },
];

/// The Go supervisord's line for `service` without a known action.
pub const SERVICE_USAGE: &str = "usage: supervisord service install/uninstall/start/stop";

/// The opening of `supervisord service --help`.
pub const SERVICE_ABOUT: &str = "supervisord service -- run supervisord as a system service.

Usage: supervisord service install|uninstall|start|stop [options]

install writes a systemd unit, or an OpenRC init script where
/sbin/openrc-run exists, named go-supervisord, that runs this binary
with -n and the configuration file, and enables it at boot. uninstall
stops and removes it; start and stop ask the service manager.

Options:";

/// What `supervisord service ...` asks for.
#[derive(Debug)]
pub enum ServiceRequest {
    Help,
    /// No action, an unknown one, or more than one.
    Usage,
    Run(ServiceOptions),
}

#[derive(Debug, Default, Clone)]
pub struct ServiceOptions {
    /// As given: `install`, `uninstall`, `start` or `stop` (checked later).
    pub action: String,
    pub configfile: Option<PathBuf>,
    pub env_file: Option<PathBuf>,
    pub root: Option<PathBuf>,
}

/// Parses the arguments after `service`. getopt stops at the action, so
/// what follows it is parsed again: `service install -c FILE` works as
/// well as `service -c FILE install`.
pub fn parse_service_args(args: Vec<OsString>) -> Result<ServiceRequest, UsageError> {
    let first = parse(SERVICE_FLAGS, args)?;
    let mut flags = first.flags;
    let mut positional = first.positional;
    if let Some((action, rest)) = positional.split_first() {
        let more = parse(SERVICE_FLAGS, rest.iter().map(OsString::from).collect())?;
        flags.extend(more.flags);
        positional = std::iter::once(action.clone())
            .chain(more.positional)
            .collect();
    }
    let mut o = ServiceOptions::default();
    let mut seen: Vec<&str> = Vec::new();
    for (flag, value) in flags {
        let name = flag.long.unwrap_or("?");
        if name == "help" {
            return Ok(ServiceRequest::Help);
        }
        if seen.contains(&name) {
            return Err(conflicting(&flag));
        }
        seen.push(name);
        let v = PathBuf::from(value.unwrap_or_default());
        match name {
            "configuration" => o.configfile = Some(v),
            "env-file" => o.env_file = Some(v),
            "root" => o.root = Some(v),
            _ => {}
        }
    }
    match positional.as_slice() {
        [action] => {
            o.action = action.clone();
            Ok(ServiceRequest::Run(o))
        }
        _ => Ok(ServiceRequest::Usage),
    }
}

/// The whole `supervisord service --help` text.
pub fn service_help_text() -> String {
    format!("{}\n{}", SERVICE_ABOUT, super::options_help(SERVICE_FLAGS))
}

/// `supervisord init`'s flags.
pub const INIT_FLAGS: &[Flag] = &[
    Flag {
        short: Some('o'),
        long: Some("output"),
        value: Some("FILENAME"),
        help: "write the sample configuration to FILENAME, which must not exist yet, instead of standard output",
    },
    Flag {
        short: Some('h'),
        long: Some("help"),
        value: None,
        help: "print this usage message and exit",
    },
];

/// The opening of `supervisord init --help`.
pub const INIT_ABOUT: &str = "supervisord init -- write a sample configuration file.

Usage: supervisord init [-o FILENAME]

The sample is the one echo_supervisord_conf prints.

Options:";

/// What `supervisord init ...` asks for.
#[derive(Debug, PartialEq, Eq)]
pub enum InitRequest {
    Help,
    /// Write the sample to this file, or to stdout.
    Write(Option<PathBuf>),
}

/// Parses the arguments after `init`.
pub fn parse_init_args(args: Vec<OsString>) -> Result<InitRequest, UsageError> {
    let parsed = parse(INIT_FLAGS, args)?;
    if !parsed.positional.is_empty() {
        return Err(UsageError(format!(
            "positional arguments are not supported: {}",
            py_list_repr(&parsed.positional)
        )));
    }
    let mut output = None;
    for (flag, value) in parsed.flags {
        match flag.long {
            Some("help") => return Ok(InitRequest::Help),
            Some("output") if output.is_some() => return Err(conflicting(&flag)),
            Some("output") => output = Some(PathBuf::from(value.unwrap_or_default())),
            _ => {}
        }
    }
    Ok(InitRequest::Write(output))
}

/// The whole `supervisord init --help` text.
pub fn init_help_text() -> String {
    format!("{}\n{}", INIT_ABOUT, super::options_help(INIT_FLAGS))
}

/// Python's words for a flag given twice.
fn conflicting(flag: &Flag) -> UsageError {
    let shown = match (flag.short, flag.long) {
        (Some(c), _) => format!("-{}", c),
        (None, Some(l)) => format!("--{}", l),
        (None, None) => String::new(),
    };
    UsageError(format!(
        "conflicting command line option {}",
        crate::pycompat::repr::py_repr(&shown)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(v: &[&str]) -> Result<Request, UsageError> {
        parse_args(v.iter().map(OsString::from).collect())
    }

    #[test]
    fn errors_match_python() {
        assert_eq!(
            run(&["x"]).unwrap_err().0,
            "positional arguments are not supported: ['x']"
        );
        assert_eq!(
            run(&["-n", "-n"]).unwrap_err().0,
            "conflicting command line option '-n'"
        );
        assert_eq!(
            run(&["-m", "999"]).unwrap_err().0,
            "invalid value for -m '999': 999 can not be converted to an octal type"
        );
        assert_eq!(
            run(&["--minprocs", "x"]).unwrap_err().0,
            "invalid value for --minprocs 'x': invalid literal for int() with base 10: 'x'"
        );
    }

    #[test]
    fn values() {
        let Ok(Request::Run(o)) = run(&["-n", "-c", "a.conf", "-e", "debug", "-y", "1KB"]) else {
            panic!("expected run");
        };
        assert!(o.nodaemon);
        assert_eq!(o.configfile, Some(PathBuf::from("a.conf")));
        assert_eq!(o.loglevel.as_deref(), Some("debug"));
        assert_eq!(o.logfile_maxbytes, Some(1024));
        assert!(matches!(run(&["-h"]), Ok(Request::Help)));
        assert!(matches!(run(&["--version"]), Ok(Request::Version)));
    }

    fn service(v: &[&str]) -> Result<ServiceRequest, UsageError> {
        parse_service_args(v.iter().map(OsString::from).collect())
    }

    #[test]
    fn service_flags_before_or_after_the_action() {
        for args in [
            &["install", "-c", "a.conf", "--root", "/r"][..],
            &["-c", "a.conf", "install", "--root=/r"][..],
            &["--root", "/r", "-ca.conf", "install"][..],
        ] {
            let Ok(ServiceRequest::Run(o)) = service(args) else {
                panic!("{args:?}");
            };
            assert_eq!(o.action, "install");
            assert_eq!(o.configfile, Some(PathBuf::from("a.conf")));
            assert_eq!(o.root, Some(PathBuf::from("/r")));
            assert_eq!(o.env_file, None);
        }
        let Ok(ServiceRequest::Run(o)) = service(&["stop", "--env-file", "x.env"]) else {
            panic!("stop");
        };
        assert_eq!(o.env_file, Some(PathBuf::from("x.env")));
        assert!(matches!(service(&[]), Ok(ServiceRequest::Usage)));
        assert!(matches!(service(&["a", "b"]), Ok(ServiceRequest::Usage)));
        assert!(matches!(
            service(&["install", "-h"]),
            Ok(ServiceRequest::Help)
        ));
        assert_eq!(
            service(&["install", "-x"]).unwrap_err().0,
            "option -x not recognized"
        );
        assert_eq!(
            service(&["-c", "a", "install", "-c", "b"]).unwrap_err().0,
            "conflicting command line option '-c'"
        );
    }

    #[test]
    fn init_flags() {
        let init = |v: &[&str]| parse_init_args(v.iter().map(OsString::from).collect());
        assert_eq!(init(&[]), Ok(InitRequest::Write(None)));
        assert_eq!(
            init(&["-o", "x.conf"]),
            Ok(InitRequest::Write(Some(PathBuf::from("x.conf"))))
        );
        assert_eq!(
            init(&["--output=y"]),
            Ok(InitRequest::Write(Some(PathBuf::from("y"))))
        );
        assert_eq!(init(&["--help"]), Ok(InitRequest::Help));
        assert_eq!(
            init(&["x"]).unwrap_err().0,
            "positional arguments are not supported: ['x']"
        );
    }

    #[test]
    fn env_file_flag() {
        let Ok(Request::Run(o)) = run(&["--env-file", "a.env", "-n"]) else {
            panic!("expected run");
        };
        assert_eq!(o.env_file, Some(PathBuf::from("a.env")));
    }
}
