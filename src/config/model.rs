//! The typed configuration: plain data, compared field by field when a
//! reread decides which groups changed.

use super::datatypes::{AutoRestart, LogFile, LogTarget};
use std::path::PathBuf;

/// A whole `supervisord.conf`, read and validated.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// The main file as given (`-c`), for messages.
    pub file: PathBuf,
    /// Its directory, absolute (`%(here)s`).
    pub here: PathBuf,
    pub supervisord: SupervisordConfig,
    pub ctl: Option<CtlConfig>,
    pub servers: Vec<ServerConfig>,
    /// Sorted by (priority, name): the start order.
    pub groups: Vec<GroupConfig>,
    /// Names of `[rpcinterface:x]` sections (all use the standard factory).
    pub rpcinterfaces: Vec<String>,
    /// Messages collected while parsing, logged once the log is open.
    pub messages: Vec<ParseMessage>,
}

impl Config {
    /// Every process, in start order.
    pub fn processes(&self) -> impl Iterator<Item = &ProcessConfig> {
        self.groups.iter().flat_map(|g| g.processes.iter())
    }

    /// The URL children get as SUPERVISOR_SERVER_URL: the unix socket if
    /// there is one, else the first TCP server (Python's preference).
    pub fn server_url(&self) -> Option<String> {
        for s in &self.servers {
            if let ServerKind::Unix { file, .. } = &s.kind {
                return Some(format!("unix://{}", file.display()));
            }
        }
        for s in &self.servers {
            if let ServerKind::Inet { host, port } = &s.kind {
                let host = if host.is_empty() { "localhost" } else { host };
                return Some(format!("http://{}:{}", host, port));
            }
        }
        None
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageLevel {
    Critical,
    Warn,
    Info,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseMessage {
    pub level: MessageLevel,
    pub text: String,
}

impl ParseMessage {
    pub fn warn(text: String) -> ParseMessage {
        ParseMessage {
            level: MessageLevel::Warn,
            text,
        }
    }
    pub fn info(text: String) -> ParseMessage {
        ParseMessage {
            level: MessageLevel::Info,
            text,
        }
    }
}

/// Where the activity log goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MainLogFile {
    Path(PathBuf),
    Syslog,
}

/// `[supervisord]`.
#[derive(Debug, Clone, PartialEq)]
pub struct SupervisordConfig {
    pub logfile: MainLogFile,
    pub logfile_maxbytes: u64,
    pub logfile_backups: i64,
    /// A validated level name (`info`, `warn`, ...).
    pub loglevel: String,
    pub pidfile: PathBuf,
    pub umask: u32,
    pub nodaemon: bool,
    pub silent: bool,
    pub minfds: i64,
    pub minprocs: i64,
    pub nocleanup: bool,
    pub childlogdir: PathBuf,
    pub user: Option<String>,
    pub directory: Option<PathBuf>,
    pub strip_ansi: bool,
    pub environment: Vec<(String, String)>,
    pub identifier: String,
    /// `exit_on` (an extension): which program failures end the daemon.
    pub exit_on: super::exit_on::ExitOn,
    /// `sighup` (ours, not Python's): what a SIGHUP asks for.
    pub sighup: SighupAction,
}

/// `[supervisord] sighup`: `restart` (Python's, the default) restarts the
/// daemon and every program; `update` does what `supervisorctl update`
/// does (only added, changed and removed groups are touched).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SighupAction {
    #[default]
    Restart,
    Update,
}

impl SighupAction {
    /// The key's value, case-insensitively.
    pub fn parse(v: &str) -> Result<SighupAction, String> {
        match v.trim().to_ascii_lowercase().as_str() {
            "restart" => Ok(SighupAction::Restart),
            "update" => Ok(SighupAction::Update),
            _ => Err(format!(
                "invalid sighup value {} (expected restart or update)",
                crate::pycompat::repr::py_repr(v)
            )),
        }
    }
}

/// `[supervisorctl]`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CtlConfig {
    pub serverurl: Option<String>,
    pub username: Option<String>,
    pub password: Option<String>,
    pub prompt: Option<String>,
    pub history_file: Option<PathBuf>,
}

/// An `[inet_http_server]` or `[unix_http_server]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerConfig {
    /// The section name, used in the CRIT "running without any HTTP
    /// authentication" line.
    pub section: String,
    pub kind: ServerKind,
    pub username: Option<String>,
    pub password: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerKind {
    /// `host` is empty for every interface.
    Inet { host: String, port: u16 },
    Unix {
        file: PathBuf,
        chmod: u32,
        chown: Option<(u32, Option<u32>)>,
    },
}

/// A process group: `[program:x]` (homogeneous), `[group:x]`
/// (heterogeneous), `[eventlistener:x]` or `[fcgi-program:x]`.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupConfig {
    pub name: String,
    pub priority: i64,
    pub kind: GroupKind,
    /// Sorted by (priority, name).
    pub processes: Vec<ProcessConfig>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum GroupKind {
    Homogeneous,
    Heterogeneous,
    EventListenerPool {
        /// Upper-cased event type names, as subscribed.
        events: Vec<String>,
        buffer_size: usize,
    },
    Fcgi {
        socket: FcgiSocket,
        backlog: Option<u32>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FcgiSocket {
    Unix {
        path: PathBuf,
        owner: Option<(u32, Option<u32>)>,
        mode: u32,
    },
    Tcp {
        host: String,
        port: u16,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProcessKind {
    Program,
    EventListener,
    Fcgi,
}

/// One process, after numprocs expansion.
#[derive(Debug, Clone, PartialEq)]
pub struct ProcessConfig {
    pub name: String,
    pub group: String,
    /// The section's name after `program:` (`%(program_name)s`).
    pub program: String,
    pub section: String,
    pub kind: ProcessKind,
    /// Unsplit; split with shlex when spawning, as Python does.
    pub command: String,
    pub directory: Option<String>,
    pub umask: Option<u32>,
    pub priority: i64,
    pub autostart: bool,
    pub autorestart: AutoRestart,
    pub startsecs: i64,
    pub startretries: i64,
    pub user: Option<String>,
    pub uid: Option<u32>,
    /// The group of `user=user:group` (an extension); None: the user's own.
    pub gid: Option<u32>,
    pub stdout: LogConfig,
    pub stderr: LogConfig,
    pub stopsignal: i32,
    /// Signals sent after `stopsignal`, each `stopwaitsecs` after the one
    /// before, while the process lives (the Go supervisord's several stop
    /// signals); then SIGKILL. Empty in a Python config.
    pub more_stopsignals: Vec<i32>,
    pub stopwaitsecs: i64,
    pub stopasgroup: bool,
    pub killasgroup: bool,
    pub exitcodes: Vec<i32>,
    pub redirect_stderr: bool,
    /// `[supervisord] environment` then the program's own, merged.
    pub environment: Vec<(String, String)>,
    /// None means AUTO (the daemon's own URL).
    pub serverurl: Option<String>,
    /// `depends_on` entries (an extension; see config/depends.rs): spawned
    /// only once each is RUNNING, stopped after them.
    pub depends_on: Vec<String>,
    /// `restartpause` seconds (an extension): the wait before each
    /// automatic restart or retry; 0 in a Python config.
    pub restartpause: i64,
    /// `killwaitsecs` (an extension): how long after SIGKILL a process that
    /// has not exited is reported as unkillable, once; None keeps Python's
    /// SIGKILL again every stopwaitsecs.
    pub killwaitsecs: Option<i64>,
    /// `shutdown_on_fatal` (an extension): this program going FATAL ends
    /// the daemon, as `[supervisord] exit_on = fatal` does for all.
    pub shutdown_on_fatal: bool,
    /// The backoff keys (extensions); None keeps Python's delays.
    pub backoff: Option<super::backoff::Backoff>,
    /// `healthcheck` and its timing keys (an extension).
    pub healthcheck: Option<super::healthcheck::HealthCheck>,
    /// The restart-on-change keys (Go extension); None when unset.
    pub restart_on_change: Option<super::RestartWatch>,
}

impl ProcessConfig {
    /// `group:name`, or `name` when the two are the same.
    pub fn namespec(&self) -> String {
        make_namespec(&self.group, &self.name)
    }
}

/// Python's make_namespec.
pub fn make_namespec(group: &str, name: &str) -> String {
    if group == name {
        name.to_string()
    } else {
        format!("{}:{}", group, name)
    }
}

/// Python's `split_namespec`: `g:p` names process `p` of group `g`;
/// `g:*` and `g:` name the whole group; a bare `name` names the group
/// and the process of that name.
pub fn split_namespec(spec: &str) -> (&str, Option<&str>) {
    match spec.split_once(':') {
        Some((g, p)) if p.is_empty() || p == "*" => (g, None),
        Some((g, p)) => (g, Some(p)),
        None => (spec, Some(spec)),
    }
}

/// One output channel's logging.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogConfig {
    pub file: LogFile,
    pub maxbytes: u64,
    pub backups: u32,
    pub capture_maxbytes: u64,
    pub events_enabled: bool,
    /// Python's `stdout_syslog`: `<procname> <line>` to `/dev/log`.
    pub syslog: bool,
    /// The other targets of a `stdout_logfile` list (the Go supervisord's
    /// extension); empty for a single value.
    pub more: Vec<LogTarget>,
    /// How syslog targets in `more` label this channel's lines.
    pub syslog_header: SyslogHeader,
}

/// `syslog_facility`, `syslog_tag` and `syslog_stdout_priority` (or
/// `_stderr_`): the PRI and TAG of an RFC 3164 message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyslogHeader {
    /// LOCAL0 (16) by default, as in the Go supervisord.
    pub facility: u8,
    /// NOTICE (5) by default, as in the Go supervisord.
    pub severity: u8,
    /// None: the process name.
    pub tag: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::SighupAction;

    #[test]
    fn sighup_values() {
        assert_eq!(SighupAction::default(), SighupAction::Restart);
        assert_eq!(SighupAction::parse("restart"), Ok(SighupAction::Restart));
        assert_eq!(SighupAction::parse(" Update"), Ok(SighupAction::Update));
        assert_eq!(
            SighupAction::parse("reboot"),
            Err("invalid sighup value 'reboot' (expected restart or update)".to_string())
        );
    }
}
