//! Configuration: reads `supervisord.conf` exactly as Python Supervisor 4.3.0
//! reads it and turns it into plain typed structs. Nothing here spawns or
//! touches process state; no other module reads the raw INI text.

pub mod backoff;
pub mod datatypes;
pub mod depends;
mod dotenv;
pub mod exit_on;
pub mod expand;
pub mod healthcheck;
pub mod ini;
mod model;
pub mod search;
mod watch;

pub use datatypes::{AutoRestart, LogFile, LogTarget, SyslogAddr};
/// The dotenv syntax of `envfiles`, for `supervisord --env-file` too.
pub use dotenv::parse as parse_dotenv;
pub use model::*;
pub use watch::{FilesWatch, OnChange, RestartWatch};

use crate::pycompat::repr::py_repr;
use crate::sys::users;
use datatypes as dt;
use expand::{expand, ExpValue, Expansions};
use ini::{Entry, Ini};
use std::path::{Path, PathBuf};

/// A config error, worded as Supervisor words it, with the file, section,
/// key and line added where we know them. `Display` is the text after
/// `Error: `.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub message: String,
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ConfigError {}

impl ConfigError {
    fn plain(message: impl Into<String>) -> ConfigError {
        ConfigError {
            message: message.into(),
        }
    }
}

/// Where a value came from, for error messages.
#[derive(Clone)]
struct Origin {
    section: String,
    key: Option<String>,
    file: PathBuf,
    line: Option<usize>,
}

impl Origin {
    /// Python's shape `<msg> in section '<s>' (file: '<f>')`, with the line
    /// and key added (Python names neither).
    fn wrap(&self, msg: &str) -> ConfigError {
        let mut detail = format!("file: {}", py_repr(&self.file.to_string_lossy()));
        if let Some(line) = self.line {
            detail.push_str(&format!(", line: {}", line));
        }
        if let Some(key) = &self.key {
            detail.push_str(&format!(", key: {}", py_repr(key)));
        }
        ConfigError::plain(format!(
            "{} in section {} ({})",
            msg,
            py_repr(&self.section),
            detail
        ))
    }
}

/// Inputs from outside the file: the process environment (for `ENV_x`) and
/// the host name (for `%(host_node_name)s`).
#[derive(Debug, Clone)]
pub struct Environment {
    pub vars: Vec<(String, String)>,
    pub host_node_name: String,
}

impl Environment {
    /// The environment of this process.
    pub fn current() -> Environment {
        Environment {
            vars: std::env::vars_os()
                .map(|(k, v)| {
                    (
                        k.to_string_lossy().into_owned(),
                        v.to_string_lossy().into_owned(),
                    )
                })
                .collect(),
            host_node_name: nix::unistd::gethostname()
                .map(|h| h.to_string_lossy().into_owned())
                .unwrap_or_default(),
        }
    }
}

/// Reads and validates the config at `path` (as given on the command line:
/// messages show it as given, like Python).
pub fn load(path: &Path, env: &Environment) -> Result<Config, ConfigError> {
    if !path.exists() {
        return Err(ConfigError::plain(format!(
            "could not find config file {}",
            path.display()
        )));
    }
    let bytes = std::fs::read(path).map_err(|_| {
        ConfigError::plain(format!("could not read config file {}", path.display()))
    })?;
    let abs = absolute(path);
    let here = abs.parent().map(Path::to_path_buf).unwrap_or_default();
    Loader::new(path, here, env).load_bytes(&bytes)
}

/// Like [`load`] but from text, with `path` standing for its file name.
pub fn load_str(text: &str, path: &Path, env: &Environment) -> Result<Config, ConfigError> {
    let abs = absolute(path);
    let here = abs.parent().map(Path::to_path_buf).unwrap_or_default();
    Loader::new(path, here, env).load(text)
}

/// Python's `os.path.abspath`: joined with the cwd and normalized, without
/// resolving links.
pub fn absolute(p: &Path) -> PathBuf {
    let joined = if p.is_absolute() {
        p.to_path_buf()
    } else {
        std::env::current_dir().unwrap_or_default().join(p)
    };
    normalize(&joined)
}

/// Python's `os.path.normpath` for absolute paths.
pub fn normalize(p: &Path) -> PathBuf {
    let mut out: Vec<&std::ffi::OsStr> = Vec::new();
    for c in p.components() {
        match c {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::Normal(s) => out.push(s),
            _ => {}
        }
    }
    let mut r = PathBuf::from("/");
    for s in out {
        r.push(s);
    }
    r
}

/// Python's `normalize_path`: expanduser, abspath, normpath.
pub fn normalize_path(s: &str) -> PathBuf {
    absolute(Path::new(&dt::expand_user(s)))
}

struct Loader<'a> {
    ini: Ini,
    file: PathBuf,
    here: PathBuf,
    env: &'a Environment,
    /// `ENV_x` names: the process environment, then `[supervisord]
    /// environment` once read.
    env_expansions: Expansions,
    messages: Vec<ParseMessage>,
}

impl<'a> Loader<'a> {
    fn new(file: &Path, here: PathBuf, env: &'a Environment) -> Loader<'a> {
        let mut env_expansions = Expansions::new();
        for (k, v) in &env.vars {
            env_expansions.insert(format!("ENV_{}", k), ExpValue::Str(v.clone()));
        }
        Loader {
            ini: Ini::new(),
            file: file.to_path_buf(),
            here,
            env,
            env_expansions,
            messages: Vec::new(),
        }
    }

    fn load(self, text: &str) -> Result<Config, ConfigError> {
        self.load_bytes(text.as_bytes())
    }

    fn load_bytes(mut self, bytes: &[u8]) -> Result<Config, ConfigError> {
        let file = self.file.clone();
        self.ini
            .read_bytes(bytes, &file)
            .map_err(|e| ConfigError::plain(e.to_string()))?;
        self.read_includes()?;
        if !self.ini.has_section("supervisord") {
            return Err(ConfigError::plain(format!(
                ".ini file does not include supervisord section (file: {})",
                py_repr(&self.file.to_string_lossy())
            )));
        }
        let supervisord = self.supervisord_section()?;
        let rpcinterfaces = self.rpcinterfaces()?;
        let mut groups = self.groups()?;
        if let Err(e) = depends::check(&groups) {
            let o = self.origin(
                &e.section,
                Some("depends_on"),
                self.entry(&e.section, "depends_on"),
            );
            return Err(o.wrap(&e.message));
        }
        for g in &mut groups {
            for p in &mut g.processes {
                let mut merged = supervisord.environment.clone();
                for (k, v) in std::mem::take(&mut p.environment) {
                    set_pair(&mut merged, k, v);
                }
                p.environment = merged;
            }
        }
        let servers = self.servers()?;
        let ctl = self.ctl_section()?;
        Ok(Config {
            file: self.file.clone(),
            here: self.here.clone(),
            supervisord,
            ctl,
            servers,
            groups,
            rpcinterfaces,
            messages: self.messages,
        })
    }

    /// `[include] files`: globs relative to the main file's directory, read
    /// in sorted order into the same document (sections merge).
    fn read_includes(&mut self) -> Result<(), ConfigError> {
        if !self.ini.has_section("include") {
            return Ok(());
        }
        let entry = match self.ini.get("include", "files") {
            Some(e) => e.clone(),
            None => {
                return Err(ConfigError::plain(format!(
                    ".ini file has [include] section, but no files setting (file: {})",
                    py_repr(&self.file.to_string_lossy())
                )))
            }
        };
        let mut names = self.env_expansions.clone();
        names.insert("here".into(), ExpValue::Str(here_of(&entry)));
        names.insert(
            "host_node_name".into(),
            ExpValue::Str(self.env.host_node_name.clone()),
        );
        let origin = self.origin("include", Some("files"), Some(&entry));
        let files = expand(&entry.value, &names, "include.files").map_err(|m| origin.wrap(&m))?;
        for pattern in files.split_whitespace() {
            let full = self.here.join(pattern);
            let full_s = full.to_string_lossy().into_owned();
            let mut matches = crate::pycompat::glob::glob(&full_s);
            if matches.is_empty() {
                self.messages.push(ParseMessage::warn(format!(
                    "No file matches via include \"{}\"",
                    full_s
                )));
                continue;
            }
            matches.sort();
            for m in matches {
                self.messages.push(ParseMessage::info(format!(
                    "Included extra file \"{}\" during parsing",
                    m.display()
                )));
                let bytes = match std::fs::read(&m) {
                    Ok(t) => t,
                    // Python's read() skips files it cannot open.
                    Err(_) => continue,
                };
                self.ini
                    .read_bytes(&bytes, &m)
                    .map_err(|e| ConfigError::plain(e.to_string()))?;
            }
        }
        Ok(())
    }

    fn origin(&self, section: &str, key: Option<&str>, entry: Option<&Entry>) -> Origin {
        let file = entry
            .map(|e| e.file.clone())
            .or_else(|| self.ini.section(section).map(|s| s.file.clone()))
            .unwrap_or_else(|| self.file.clone());
        let line = entry
            .map(|e| e.line)
            .or_else(|| self.ini.section(section).map(|s| s.line));
        Origin {
            section: section.to_string(),
            key: key.map(str::to_string),
            file,
            line,
        }
    }

    /// The expanded value of `key` in `section`, or `default` (expanded as
    /// well, like Python's saneget) when absent. `extra` adds names to the
    /// ENV_ ones; `%(here)s` is the directory of the file holding the value.
    fn get(
        &self,
        section: &str,
        key: &str,
        default: Option<&str>,
        extra: &Expansions,
        do_expand: bool,
    ) -> Result<Option<(String, Origin)>, ConfigError> {
        let entry = self.entry(section, key);
        let origin = self.origin(section, Some(key), entry);
        let (raw, here) = match entry {
            Some(e) => (e.value.clone(), here_of(e)),
            None => match default {
                Some(d) => (d.to_string(), self.here.to_string_lossy().into_owned()),
                None => return Ok(None),
            },
        };
        if !do_expand {
            return Ok(Some((raw, origin)));
        }
        let mut names = self.env_expansions.clone();
        names.extend(extra.iter().map(|(k, v)| (k.clone(), v.clone())));
        names.insert("here".into(), ExpValue::Str(here));
        let what = format!("{}.{}", section, key);
        let value = expand(&raw, &names, &what).map_err(|m| origin.wrap(&m))?;
        Ok(Some((value, origin)))
    }

    /// `get` then a converter; conversion errors carry the origin.
    fn typed<T>(
        &self,
        section: &str,
        key: &str,
        default: &str,
        extra: &Expansions,
        conv: impl Fn(&str) -> Result<T, String>,
    ) -> Result<T, ConfigError> {
        match self.get(section, key, Some(default), extra, true)? {
            Some((v, origin)) => conv(&v).map_err(|m| origin.wrap(&m)),
            None => conv(default).map_err(ConfigError::plain),
        }
    }

    fn opt_typed<T>(
        &self,
        section: &str,
        key: &str,
        extra: &Expansions,
        conv: impl Fn(&str) -> Result<T, String>,
    ) -> Result<Option<T>, ConfigError> {
        match self.get(section, key, None, extra, true)? {
            Some((v, origin)) => conv(&v).map(Some).map_err(|m| origin.wrap(&m)),
            None => Ok(None),
        }
    }

    fn supervisord_section(&mut self) -> Result<SupervisordConfig, ConfigError> {
        let s = "supervisord";
        let none = Expansions::new();
        let tmp = gettempdir().to_string_lossy().into_owned();
        let environment = match self.get(s, "environment", Some(""), &none, true)? {
            Some((v, origin)) => dt::key_value_pairs(&v).map_err(|m| origin.wrap(&m))?,
            None => Vec::new(),
        };
        let cfg = SupervisordConfig {
            minfds: self.typed(s, "minfds", "1024", &none, dt::integer)?,
            minprocs: self.typed(s, "minprocs", "200", &none, dt::integer)?,
            directory: self.opt_typed(s, "directory", &none, dt::existing_directory)?,
            user: self.get(s, "user", None, &none, true)?.map(|v| v.0),
            umask: self.typed(s, "umask", "022", &none, dt::octal)?,
            logfile: self.typed(s, "logfile", "supervisord.log", &none, |v| {
                if v == "syslog" {
                    Ok(MainLogFile::Syslog)
                } else {
                    dt::existing_dirpath(v).map(|_| MainLogFile::Path(normalize_path(v)))
                }
            })?,
            logfile_maxbytes: self.typed(s, "logfile_maxbytes", "50MB", &none, dt::byte_size)?,
            logfile_backups: self.typed(s, "logfile_backups", "10", &none, dt::integer)?,
            loglevel: self.typed(s, "loglevel", "info", &none, dt::logging_level)?,
            pidfile: self.typed(s, "pidfile", "supervisord.pid", &none, |v| {
                dt::existing_dirpath(v).map(|_| normalize_path(v))
            })?,
            identifier: self
                .get(s, "identifier", Some("supervisor"), &none, true)?
                .map(|v| v.0)
                .unwrap_or_default(),
            nodaemon: self.typed(s, "nodaemon", "false", &none, dt::boolean)?,
            silent: self.typed(s, "silent", "false", &none, dt::boolean)?,
            childlogdir: self.typed(s, "childlogdir", &tmp, &none, dt::existing_directory)?,
            nocleanup: self.typed(s, "nocleanup", "false", &none, dt::boolean)?,
            strip_ansi: self.typed(s, "strip_ansi", "false", &none, dt::boolean)?,
            sighup: self.typed(s, "sighup", "restart", &none, SighupAction::parse)?,
            environment,
            exit_on: self.typed(s, "exit_on", "", &none, exit_on::ExitOn::parse)?,
        };
        // `[supervisord] environment` becomes ENV_x names for every later
        // value, as in Python.
        for (k, v) in &cfg.environment {
            self.env_expansions
                .insert(format!("ENV_{}", k), ExpValue::Str(v.clone()));
        }
        Ok(cfg)
    }

    fn rpcinterfaces(&self) -> Result<Vec<String>, ConfigError> {
        const KEY: &str = "supervisor.rpcinterface_factory";
        const STANDARD: &str = "supervisor.rpcinterface:make_main_rpcinterface";
        let mut out = Vec::new();
        let names: Vec<String> = self.ini.section_names().map(str::to_string).collect();
        for section in names {
            let Some(name) = section.strip_prefix("rpcinterface:") else {
                continue;
            };
            let Some((spec, origin)) = self.get(&section, KEY, None, &Expansions::new(), true)?
            else {
                let o = self.origin(&section, None, None);
                return Err(o.wrap(&format!("section [{}] does not specify a {}", section, KEY)));
            };
            if spec.trim() != STANDARD {
                // Deliberate: Python would import the factory; we cannot
                // load Python code, so say so instead of a bare import error.
                return Err(origin.wrap(&format!(
                    "{} cannot be resolved within [{}]: only the standard factory {} is built in; Python plugins cannot be loaded",
                    spec, section, STANDARD
                )));
            }
            // The standard factory takes no options; Python fails to make
            // the interface when a section (or [DEFAULT]) adds any.
            if let Some(extra) = self.ini.keys(&section).into_iter().find(|k| *k != KEY) {
                let o = self.origin(&section, Some(extra), self.ini.get(&section, extra));
                return Err(o.wrap(&format!(
                    "Could not make supervisor rpc interface: the standard factory takes no option {}",
                    extra
                )));
            }
            out.push(name.to_string());
        }
        Ok(out)
    }

    fn groups(&mut self) -> Result<Vec<GroupConfig>, ConfigError> {
        let all: Vec<String> = self.ini.section_names().map(str::to_string).collect();
        let mut groups = Vec::new();
        let mut grouped: Vec<String> = Vec::new();
        let none = Expansions::new();

        for section in all.iter().filter(|s| s.starts_with("group:")) {
            let origin = self.origin(section, None, None);
            let group_name = dt::process_or_group_name(&section["group:".len()..])
                .map_err(|m| origin.wrap(&m))?;
            let programs = match self.get(section, "programs", None, &none, true)? {
                Some((v, _)) => dt::list_of_strings(&v),
                None => Vec::new(),
            };
            let priority = self.typed(section, "priority", "999", &none, dt::integer)?;
            let mut processes = Vec::new();
            for program in programs {
                let p = format!("program:{}", program);
                let f = format!("fcgi-program:{}", program);
                let (has_p, has_f) = (all.contains(&p), all.contains(&f));
                if !has_p && !has_f {
                    return Err(origin.wrap(&format!(
                        "[{}] names unknown program or fcgi-program {}",
                        section, program
                    )));
                }
                if has_p && has_f {
                    return Err(origin.wrap(&format!(
                        "[{}] name {} is ambiguous (exists as program and fcgi-program)",
                        section, program
                    )));
                }
                let member = if has_p { p } else { f };
                processes.extend(self.processes(&member, &group_name, ProcessKind::Program)?);
                grouped.push(member);
            }
            processes.sort_by(|a, b| (a.priority, &a.name).cmp(&(b.priority, &b.name)));
            groups.push(GroupConfig {
                name: group_name,
                priority,
                kind: GroupKind::Heterogeneous,
                processes,
            });
        }

        for section in all.iter().filter(|s| s.starts_with("program:")) {
            if grouped.contains(section) {
                continue;
            }
            let origin = self.origin(section, None, None);
            let name = dt::process_or_group_name(&section["program:".len()..])
                .map_err(|m| origin.wrap(&m))?;
            let priority = self.typed(section, "priority", "999", &none, dt::integer)?;
            let processes = self.processes(section, &name, ProcessKind::Program)?;
            groups.push(GroupConfig {
                name,
                priority,
                kind: GroupKind::Homogeneous,
                processes,
            });
        }

        for section in all.iter().filter(|s| s.starts_with("eventlistener:")) {
            groups.push(self.listener_pool(section)?);
        }

        for section in all.iter().filter(|s| s.starts_with("fcgi-program:")) {
            if grouped.contains(section) {
                continue;
            }
            groups.push(self.fcgi_group(section)?);
        }

        groups.sort_by(|a, b| (a.priority, &a.name).cmp(&(b.priority, &b.name)));
        Ok(groups)
    }

    fn listener_pool(&mut self, section: &str) -> Result<GroupConfig, ConfigError> {
        let none = Expansions::new();
        let pool_name = section["eventlistener:".len()..].to_string();
        // Listeners start first and stop last by default.
        let priority = self.typed(section, "priority", "-1", &none, dt::integer)?;
        let buffer_size = self.typed(section, "buffer_size", "10", &none, dt::integer)?;
        let origin = self.origin(
            section,
            Some("buffer_size"),
            self.ini.get(section, "buffer_size"),
        );
        if buffer_size < 1 {
            return Err(origin.wrap(&format!(
                "[{}] section sets invalid buffer_size ({})",
                section, buffer_size
            )));
        }
        if let Some((handler, origin)) = self.get(section, "result_handler", None, &none, true)? {
            if handler.trim() != "supervisor.dispatchers:default_handler" {
                return Err(origin.wrap(&format!(
                    "{} cannot be resolved within [{}]: only the default result handler is built in; Python plugins cannot be loaded",
                    handler, section
                )));
            }
        }
        let events_raw = self.get(section, "events", Some(""), &none, true)?;
        let (events_s, events_origin) = match events_raw {
            Some(v) => v,
            None => (String::new(), self.origin(section, Some("events"), None)),
        };
        let mut events: Vec<String> = Vec::new();
        for e in dt::list_of_strings(&events_s) {
            let up = e.to_uppercase();
            if !events.contains(&up) {
                events.push(up);
            }
        }
        if events.is_empty() {
            return Err(events_origin.wrap(&format!(
                "[{}] section requires an \"events\" line",
                section
            )));
        }
        for e in &events {
            if !EVENT_TYPES.contains(&e.as_str()) {
                return Err(events_origin
                    .wrap(&format!("Unknown event type {} in [{}] events", e, section)));
            }
        }
        let redirect = self.typed(section, "redirect_stderr", "false", &none, dt::boolean)?;
        if redirect {
            let o = self.origin(
                section,
                Some("redirect_stderr"),
                self.ini.get(section, "redirect_stderr"),
            );
            return Err(o.wrap(&format!(
                "[{}] section sets redirect_stderr=true but this is not allowed because it will interfere with the eventlistener protocol",
                section
            )));
        }
        let processes = self.processes(section, &pool_name, ProcessKind::EventListener)?;
        Ok(GroupConfig {
            name: pool_name,
            priority,
            kind: GroupKind::EventListenerPool {
                events,
                buffer_size: buffer_size as usize,
            },
            processes,
        })
    }

    fn fcgi_group(&mut self, section: &str) -> Result<GroupConfig, ConfigError> {
        let none = Expansions::new();
        let origin = self.origin(section, None, None);
        let name = dt::process_or_group_name(&section["fcgi-program:".len()..])
            .map_err(|m| origin.wrap(&m))?;
        let priority = self.typed(section, "priority", "999", &none, dt::integer)?;
        let proc_uid = self.opt_typed(section, "user", &none, dt::name_to_uid)?;
        let backlog = self.opt_typed(section, "socket_backlog", &none, |v| {
            let b = dt::integer(v)?;
            if !(1..=65535).contains(&b) {
                return Err(format!("Invalid socket_backlog value {}", b));
            }
            Ok(b as u32)
        })?;
        let owner = self.opt_typed(section, "socket_owner", &none, |v| {
            dt::user_group(v).map_err(|_| format!("Invalid socket_owner value {}", v))
        })?;
        let mode = self.opt_typed(section, "socket_mode", &none, |v| {
            dt::octal(v).map_err(|_| format!("Invalid socket_mode value {}", v))
        })?;
        let mut fx = Expansions::new();
        fx.insert("program_name".into(), ExpValue::Str(name.clone()));
        let (sock, sorigin) = match self.get(section, "socket", None, &fx, true)? {
            Some((v, o)) if !v.is_empty() => (v, o),
            _ => {
                return Err(
                    origin.wrap(&format!("[{}] section requires a \"socket\" line", section))
                )
            }
        };
        let socket = if let Some(path) = sock.strip_prefix("unix://") {
            if !path.starts_with('/') {
                return Err(sorigin.wrap(&format!(
                    "Unix socket path {} is not an absolute path in [{}] socket",
                    path, section
                )));
            }
            let owner = owner.or_else(|| {
                let uid = users::current_uid();
                proc_uid
                    .filter(|&p| p != uid)
                    .map(|p| (p, users::passwd_by_uid(p).map(|x| x.gid)))
            });
            FcgiSocket::Unix {
                path: normalize_path(path),
                owner,
                mode: mode.unwrap_or(0o700),
            }
        } else {
            if owner.is_some() || mode.is_some() {
                return Err(sorigin.wrap(&format!(
                    "socket_owner and socket_mode params should only be used with a Unix domain socket in [{}] socket",
                    section
                )));
            }
            let parsed = sock.strip_prefix("tcp://").and_then(|hp| {
                let (h, p) = hp.rsplit_once(':')?;
                if h.is_empty() || h.contains(char::is_whitespace) || h.contains(':') {
                    return None;
                }
                if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
                    return None;
                }
                let port = p
                    .parse::<u32>()
                    .ok()
                    .filter(|&n| (1..=65535).contains(&n))?;
                Some((h.to_lowercase(), port as u16))
            });
            match parsed {
                Some((host, port)) => FcgiSocket::Tcp { host, port },
                None => {
                    return Err(sorigin.wrap(&format!(
                        "Bad socket format {} in [{}] socket",
                        sock, section
                    )))
                }
            }
        };
        let processes = self.processes(section, &name, ProcessKind::Fcgi)?;
        Ok(GroupConfig {
            name,
            priority,
            kind: GroupKind::Fcgi { socket, backlog },
            processes,
        })
    }

    /// One `[program:x]`-like section into its processes (numprocs of them).
    fn processes(
        &mut self,
        section: &str,
        group_name: &str,
        kind: ProcessKind,
    ) -> Result<Vec<ProcessConfig>, ConfigError> {
        let sorigin = self.origin(section, None, None);
        let prefix_len = section.find(':').map(|i| i + 1).unwrap_or(0);
        let program_name =
            dt::process_or_group_name(&section[prefix_len..]).map_err(|m| sorigin.wrap(&m))?;
        let mut common = Expansions::new();
        common.insert("program_name".into(), ExpValue::Str(program_name.clone()));
        common.insert(
            "host_node_name".into(),
            ExpValue::Str(self.env.host_node_name.clone()),
        );
        common.insert("group_name".into(), ExpValue::Str(group_name.to_string()));
        let c = &common;

        let priority = self.typed(section, "priority", "999", c, dt::integer)?;
        let autostart = self.typed(section, "autostart", "true", c, dt::boolean)?;
        let autorestart = self.typed(section, "autorestart", "unexpected", c, dt::auto_restart)?;
        let startsecs = self.typed(section, "startsecs", "1", c, dt::integer)?;
        let startretries = self.typed(section, "startretries", "3", c, backoff::startretries)?;
        let backoff = self.backoff(section, c)?;
        let healthcheck = self.healthcheck(section, c)?;
        let stopsignals = self.typed(section, "stopsignal", "TERM", c, dt::signal_list)?;
        // signal_list gives at least one signal.
        let (stopsignal, more_stopsignals) = match stopsignals.split_first() {
            Some((first, rest)) => (*first, rest.to_vec()),
            None => (libc::SIGTERM, Vec::new()),
        };
        let stopwaitsecs = self.typed(section, "stopwaitsecs", "10", c, dt::integer)?;
        let restartpause = self.typed(section, "restartpause", "0", c, dt::integer)?;
        let shutdown_on_fatal =
            self.typed(section, "shutdown_on_fatal", "false", c, dt::boolean)?;
        let killwaitsecs = self.opt_typed(section, "killwaitsecs", c, dt::integer)?;
        for (key, value) in [
            ("restartpause", Some(restartpause)),
            ("killwaitsecs", killwaitsecs),
        ] {
            if value.is_some_and(|v| v < 0) {
                let o = self.origin(section, Some(key), self.entry(section, key));
                return Err(o.wrap(&format!("{} must not be negative", key)));
            }
        }
        let depends_on = self
            .get(section, "depends_on", None, c, true)?
            .map(|(v, _)| depends::parse(&v))
            .unwrap_or_default();
        let stopasgroup = self.typed(section, "stopasgroup", "false", c, dt::boolean)?;
        let killasgroup = self.typed(
            section,
            "killasgroup",
            if stopasgroup { "true" } else { "false" },
            c,
            dt::boolean,
        )?;
        let exitcodes = self.typed(section, "exitcodes", "0", c, dt::exitcodes)?;
        let redirect_stderr = self.typed(section, "redirect_stderr", "false", c, dt::boolean)?;
        let numprocs = self.typed(section, "numprocs", "1", c, dt::integer)?;
        let numprocs_start = self.typed(section, "numprocs_start", "0", c, dt::integer)?;
        let env_entry = self.get(section, "environment", Some(""), c, false)?;
        let stdout_cmax = self.typed(section, "stdout_capture_maxbytes", "0", c, dt::byte_size)?;
        let stdout_events =
            self.typed(section, "stdout_events_enabled", "false", c, dt::boolean)?;
        let stderr_cmax = self.typed(section, "stderr_capture_maxbytes", "0", c, dt::byte_size)?;
        let stderr_events =
            self.typed(section, "stderr_events_enabled", "false", c, dt::boolean)?;
        let serverurl = self
            .get(section, "serverurl", None, c, true)?
            .map(|v| v.0)
            .filter(|v| !v.trim().eq_ignore_ascii_case("auto") && !v.is_empty());
        let user = self.get(section, "user", None, c, true)?;
        let (uid, gid) = match &user {
            Some((u, origin)) => {
                let (uid, gid) = dt::user_and_group(u).map_err(|m| origin.wrap(&m))?;
                (Some(uid), gid)
            }
            None => (None, None),
        };
        let umask = self.opt_typed(section, "umask", c, dt::octal)?;
        let (process_name_raw, pn_origin) = self
            .get(section, "process_name", Some("%(program_name)s"), c, false)?
            .unwrap_or_else(|| ("%(program_name)s".into(), sorigin.clone()));
        let process_name_tpl =
            dt::process_or_group_name(&process_name_raw).map_err(|m| pn_origin.wrap(&m))?;
        if numprocs > 1 && !process_name_tpl.contains("%(process_num)") {
            return Err(pn_origin
                .wrap("%(process_num) must be present within process_name when numprocs > 1"));
        }
        if stopasgroup && !killasgroup {
            let o = self.origin(
                section,
                Some("killasgroup"),
                self.entry(section, "killasgroup"),
            );
            return Err(o.wrap("Cannot set stopasgroup=true and killasgroup=false"));
        }

        let mut out = Vec::new();
        let mut expansions = common.clone();
        let end = numprocs_start.saturating_add(numprocs.max(0));
        for process_num in numprocs_start..end {
            // Python mutates its shared expansions dict here, so names added
            // for one process stay visible to the next; same here.
            expansions.insert("process_num".into(), ExpValue::Int(process_num));
            expansions.insert("numprocs".into(), ExpValue::Int(numprocs));
            let environment = match &env_entry {
                Some((raw, origin)) => {
                    let mut names = self.env_expansions.clone();
                    names.extend(expansions.iter().map(|(k, v)| (k.clone(), v.clone())));
                    names.insert(
                        "here".into(),
                        ExpValue::Str(self.here_for(section, "environment")),
                    );
                    let s = expand(raw, &names, "environment").map_err(|m| origin.wrap(&m))?;
                    dt::key_value_pairs(&s).map_err(|m| origin.wrap(&m))?
                }
                None => Vec::new(),
            };
            for (k, v) in &environment {
                expansions.insert(format!("ENV_{}", k), ExpValue::Str(v.clone()));
            }
            let e = &expansions;
            // The envfiles extension sits under the program's own
            // environment (which alone defines ENV_x names, as in Python).
            let mut environment_with_files = self.env_files(section, e)?;
            for (k, v) in environment {
                set_pair(&mut environment_with_files, k, v);
            }
            let environment = environment_with_files;
            let directory = self.get(section, "directory", None, e, true)?.map(|v| v.0);
            let stdout = self.log_config(section, "stdout", e, stdout_cmax, stdout_events)?;
            let mut stderr = self.log_config(section, "stderr", e, stderr_cmax, stderr_events)?;
            if redirect_stderr {
                if !matches!(stderr.file, LogFile::Auto | LogFile::None) || !stderr.more.is_empty()
                {
                    self.messages.push(ParseMessage::warn(format!(
                        "For [{}], redirect_stderr=true but stderr_logfile has also been set to a filename, the filename has been ignored",
                        section
                    )));
                }
                stderr.file = LogFile::None;
                stderr.more.clear();
            }
            let command = match self.get(section, "command", None, e, true)? {
                Some((v, _)) => v,
                None => {
                    return Err(sorigin.wrap(&format!(
                        "program section {} does not specify a command",
                        section
                    )))
                }
            };
            let mut names = self.env_expansions.clone();
            names.extend(expansions.iter().map(|(k, v)| (k.clone(), v.clone())));
            names.insert(
                "here".into(),
                ExpValue::Str(self.here_for(section, "process_name")),
            );
            let name = expand(&process_name_tpl, &names, "process_name")
                .map_err(|m| pn_origin.wrap(&m))?;
            out.push(ProcessConfig {
                name,
                group: group_name.to_string(),
                program: program_name.clone(),
                section: section.to_string(),
                kind,
                command,
                directory,
                umask,
                priority,
                autostart,
                autorestart,
                startsecs,
                startretries,
                user: user.as_ref().map(|u| u.0.clone()),
                uid,
                gid,
                stdout,
                stderr,
                stopsignal,
                more_stopsignals: more_stopsignals.clone(),
                stopwaitsecs,
                stopasgroup,
                killasgroup,
                exitcodes: exitcodes.clone(),
                redirect_stderr,
                environment,
                serverurl: serverurl.clone(),
                depends_on: depends_on.clone(),
                restartpause,
                killwaitsecs,
                shutdown_on_fatal,
                backoff,
                healthcheck: healthcheck.clone(),
                restart_on_change: self.restart_watch(section, e)?,
            });
        }
        out.sort_by(|a, b| (a.priority, &a.name).cmp(&(b.priority, &b.name)));
        Ok(out)
    }

    /// The healthcheck keys (an extension); None without `healthcheck`.
    fn healthcheck(
        &self,
        section: &str,
        c: &Expansions,
    ) -> Result<Option<healthcheck::HealthCheck>, ConfigError> {
        use healthcheck as hc;
        let Some(probe) = self.opt_typed(section, "healthcheck", c, hc::probe)? else {
            return Ok(None);
        };
        Ok(Some(hc::HealthCheck {
            probe,
            interval: self
                .opt_typed(section, "healthcheck_interval", c, hc::positive_seconds)?
                .unwrap_or(hc::INTERVAL),
            timeout: self
                .opt_typed(section, "healthcheck_timeout", c, hc::positive_seconds)?
                .unwrap_or(hc::TIMEOUT),
            retries: self
                .opt_typed(section, "healthcheck_retries", c, hc::retries)?
                .unwrap_or(hc::RETRIES),
            start_period: self
                .opt_typed(section, "healthcheck_start_period", c, backoff::seconds)?
                .unwrap_or_default(),
        }))
    }

    /// The backoff keys (extensions); None when none is set, which keeps
    /// Python's delays.
    fn backoff(
        &self,
        section: &str,
        c: &Expansions,
    ) -> Result<Option<backoff::Backoff>, ConfigError> {
        let kind = self.opt_typed(section, "backoff", c, backoff::kind)?;
        let initial = self.opt_typed(section, "backoff_initial", c, backoff::seconds)?;
        let max = self.opt_typed(section, "backoff_max", c, backoff::seconds)?;
        let reset_after = self.opt_typed(section, "backoff_reset_after", c, backoff::seconds)?;
        if kind.is_none() && initial.is_none() && max.is_none() && reset_after.is_none() {
            return Ok(None);
        }
        Ok(Some(backoff::Backoff {
            kind: kind.unwrap_or(backoff::BackoffKind::Linear),
            initial: initial.unwrap_or(backoff::INITIAL),
            max: max.unwrap_or(backoff::MAX),
            reset_after,
        }))
    }

    /// The variables of the files listed in `envfiles` (an extension of
    /// the Go supervisord, spelt `envFiles` there; keys are lowercased, so
    /// both spellings work): comma-separated paths, expanded like other
    /// values, relative ones taken from the directory of the file that
    /// holds the section; a later file wins. Read at every config load, so
    /// `reread` sees a changed file as a changed program.
    fn env_files(
        &self,
        section: &str,
        e: &Expansions,
    ) -> Result<Vec<(String, String)>, ConfigError> {
        let Some((list, origin)) = self.get(section, "envfiles", None, e, true)? else {
            return Ok(Vec::new());
        };
        let here = PathBuf::from(self.here_for(section, "envfiles"));
        let mut pairs = Vec::new();
        for item in list.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            for (k, v) in dotenv::read(&here.join(item)).map_err(|m| origin.wrap(&m))? {
                set_pair(&mut pairs, k, v);
            }
        }
        Ok(pairs)
    }

    /// The entry of `key` in `section`. A `[program:x]` section also takes
    /// the keys it lacks from `[program-default]` (an extension of the Go
    /// supervisord; Python ignores that section), before `[DEFAULT]`.
    fn entry(&self, section: &str, key: &str) -> Option<&Entry> {
        if section.starts_with("program:") {
            let own = self.ini.section(section).and_then(|s| s.get(key));
            let shared = || self.ini.section(PROGRAM_DEFAULT).and_then(|s| s.get(key));
            if let Some(e) = own.or_else(shared) {
                return Some(e);
            }
        }
        self.ini.get(section, key)
    }

    fn here_for(&self, section: &str, key: &str) -> String {
        match self.entry(section, key) {
            Some(e) => here_of(e),
            None => self.here.to_string_lossy().into_owned(),
        }
    }

    fn log_config(
        &mut self,
        section: &str,
        channel: &str,
        e: &Expansions,
        capture_maxbytes: u64,
        events_enabled: bool,
    ) -> Result<LogConfig, ConfigError> {
        let lf_key = format!("{}_logfile", channel);
        let (mut file, more) = match self.get(section, &lf_key, None, e, true)? {
            Some((v, origin)) => dt::logfile_targets(&v).map_err(|m| origin.wrap(&m))?,
            None => (LogFile::Auto, Vec::new()),
        };
        let backups = self.typed(
            section,
            &format!("{}_logfile_backups", channel),
            "10",
            e,
            dt::integer,
        )?;
        let maxbytes = self.typed(
            section,
            &format!("{}_logfile_maxbytes", channel),
            "50MB",
            e,
            dt::byte_size,
        )?;
        let sy_key = format!("{}_syslog", channel);
        let mut syslog = self.typed(section, &sy_key, "false", e, dt::boolean)?;
        if file == LogFile::Syslog {
            self.messages.push(ParseMessage::warn(format!(
                "For [{}], {}=syslog but this is deprecated and will be removed.  Use {}=true to enable syslog instead.",
                section, lf_key, sy_key
            )));
            file = LogFile::None;
            syslog = true;
        }
        if file == LogFile::Auto && maxbytes == 0 {
            self.messages.push(ParseMessage::warn(format!(
                "For [{}], AUTO logging used for {} without rollover, set maxbytes > 0 to avoid filling up filesystem unintentionally",
                section, lf_key
            )));
        }
        Ok(LogConfig {
            file,
            maxbytes,
            backups: backups.clamp(0, u32::MAX as i64) as u32,
            capture_maxbytes,
            events_enabled,
            syslog,
            more,
            syslog_header: self.syslog_header(section, channel, e)?,
        })
    }

    /// The Go supervisord's `syslog_facility`, `syslog_tag` and
    /// `syslog_<channel>_priority`. Go falls back to a default on a bad
    /// name; we refuse it, like every other bad value.
    fn syslog_header(
        &self,
        section: &str,
        channel: &str,
        e: &Expansions,
    ) -> Result<SyslogHeader, ConfigError> {
        let facility = self.typed(section, "syslog_facility", "local0", e, dt::syslog_facility)?;
        let severity = self.typed(
            section,
            &format!("syslog_{}_priority", channel),
            "notice",
            e,
            dt::syslog_severity,
        )?;
        let tag = self
            .get(section, "syslog_tag", None, e, true)?
            .map(|(v, _)| v)
            .filter(|t| !t.is_empty());
        Ok(SyslogHeader {
            facility,
            severity,
            tag,
        })
    }

    fn servers(&self) -> Result<Vec<ServerConfig>, ConfigError> {
        let none = Expansions::new();
        let mut out = Vec::new();
        let names: Vec<String> = self.ini.section_names().map(str::to_string).collect();
        for section in names.iter().filter(|s| s.starts_with("inet_http_server")) {
            let (username, password) = self.auth(section)?;
            let origin = self.origin(section, None, None);
            let (port, porigin) = match self.get(section, "port", None, &none, true)? {
                Some(v) => v,
                None => {
                    return Err(origin.wrap(&format!("section [{}] has no port value", section)))
                }
            };
            let (host, port) = dt::inet_address(&port).map_err(|m| porigin.wrap(&m))?;
            out.push(ServerConfig {
                section: section.clone(),
                kind: ServerKind::Inet { host, port },
                username,
                password,
            });
        }
        for section in names.iter().filter(|s| s.starts_with("unix_http_server")) {
            let origin = self.origin(section, None, None);
            let file = match self.get(section, "file", None, &none, true)? {
                Some((v, _)) => normalize_path(v.trim()),
                None => {
                    return Err(origin.wrap(&format!("section [{}] has no file value", section)))
                }
            };
            let (username, password) = self.auth(section)?;
            let chown = self.opt_typed(section, "chown", &none, |v| {
                dt::user_group(v).map_err(|_| format!("Invalid sockchown value {}", v))
            })?;
            let chmod = self
                .opt_typed(section, "chmod", &none, |v| {
                    dt::octal(v).map_err(|_| format!("Invalid chmod value {}", v))
                })?
                .unwrap_or(0o700);
            out.push(ServerConfig {
                section: section.clone(),
                kind: ServerKind::Unix { file, chmod, chown },
                username,
                password,
            });
        }
        Ok(out)
    }

    fn auth(&self, section: &str) -> Result<(Option<String>, Option<String>), ConfigError> {
        let none = Expansions::new();
        let username = self
            .get(section, "username", None, &none, true)?
            .map(|v| v.0);
        let password = self
            .get(section, "password", None, &none, true)?
            .map(|v| v.0);
        if username.is_some() != password.is_some() {
            return Err(self.origin(section, None, None).wrap(&format!(
                "Section [{}] contains incomplete authentication: If a username or a password is specified, both the username and password must be specified",
                section
            )));
        }
        Ok((username, password))
    }

    fn ctl_section(&self) -> Result<Option<CtlConfig>, ConfigError> {
        if !self.ini.has_section("supervisorctl") {
            return Ok(None);
        }
        read_ctl(&self.ini, &self.here, &self.env_expansions).map(Some)
    }
}

/// Reads `[supervisorctl]` the way supervisorctl does (it parses the file
/// on its own, without the supervisord checks).
fn read_ctl(ini: &Ini, here: &Path, env_expansions: &Expansions) -> Result<CtlConfig, ConfigError> {
    let s = "supervisorctl";
    let get = |key: &str, with_here: bool| -> Result<Option<String>, ConfigError> {
        let Some(e) = ini.get(s, key) else {
            return Ok(None);
        };
        let mut names = env_expansions.clone();
        if with_here {
            names.insert(
                "here".into(),
                ExpValue::Str(here.to_string_lossy().into_owned()),
            );
        }
        expand(&e.value, &names, &format!("{}.{}", s, key))
            .map(Some)
            .map_err(ConfigError::plain)
    };
    let mut serverurl = get("serverurl", true)?;
    if let Some(u) = &serverurl {
        if let Some(path) = u.strip_prefix("unix://") {
            serverurl = Some(format!("unix://{}", normalize_path(path).display()));
        }
    }
    Ok(CtlConfig {
        serverurl,
        username: get("username", false)?,
        password: get("password", false)?,
        prompt: get("prompt", false)?,
        history_file: get("history_file", true)?
            .filter(|h| !h.is_empty())
            .map(|h| normalize_path(&h)),
    })
}

/// What supervisorctl needs from a config file, read as supervisorctl reads
/// it: only `[supervisorctl]` must exist.
pub fn load_ctl(path: &Path, env: &Environment) -> Result<CtlConfig, ConfigError> {
    let here = absolute(path)
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    if !path.exists() {
        return Err(ConfigError::plain(format!(
            "could not find config file {}",
            path.display()
        )));
    }
    let text = std::fs::read(path).map_err(|_| {
        ConfigError::plain(format!("could not read config file {}", path.display()))
    })?;
    let mut ini = Ini::new();
    ini.read_bytes(&text, path)
        .map_err(|e| ConfigError::plain(e.to_string()))?;
    if !ini.has_section("supervisorctl") {
        return Err(ConfigError::plain(
            ".ini file does not include supervisorctl section",
        ));
    }
    let mut names = Expansions::new();
    for (k, v) in &env.vars {
        names.insert(format!("ENV_{}", k), ExpValue::Str(v.clone()));
    }
    read_ctl(&ini, &here, &names)
}

fn here_of(e: &Entry) -> String {
    absolute(&e.file)
        .parent()
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// The Go supervisord's section of keys shared by every `[program:x]`.
const PROGRAM_DEFAULT: &str = "program-default";

fn set_pair(list: &mut Vec<(String, String)>, k: String, v: String) {
    match list.iter_mut().find(|(key, _)| *key == k) {
        Some(slot) => slot.1 = v,
        None => list.push((k, v)),
    }
}

/// Every event type name a listener may subscribe to.
pub const EVENT_TYPES: &[&str] = &[
    "EVENT",
    "PROCESS_STATE",
    "PROCESS_STATE_STOPPED",
    "PROCESS_STATE_EXITED",
    "PROCESS_STATE_STARTING",
    "PROCESS_STATE_STOPPING",
    "PROCESS_STATE_BACKOFF",
    "PROCESS_STATE_FATAL",
    "PROCESS_STATE_RUNNING",
    "PROCESS_STATE_UNKNOWN",
    "PROCESS_COMMUNICATION",
    "PROCESS_COMMUNICATION_STDOUT",
    "PROCESS_COMMUNICATION_STDERR",
    "PROCESS_LOG",
    "PROCESS_LOG_STDOUT",
    "PROCESS_LOG_STDERR",
    "REMOTE_COMMUNICATION",
    "SUPERVISOR_STATE_CHANGE",
    "SUPERVISOR_STATE_CHANGE_RUNNING",
    "SUPERVISOR_STATE_CHANGE_STOPPING",
    "TICK",
    "TICK_5",
    "TICK_60",
    "TICK_3600",
    "PROCESS_GROUP",
    "PROCESS_GROUP_ADDED",
    "PROCESS_GROUP_REMOVED",
    "PROCESS_HEALTH_FAILED",
];

/// Python's `tempfile.gettempdir()`, the default `childlogdir`: the first
/// of $TMPDIR, $TEMP, $TMP, /tmp, /var/tmp, /usr/tmp that is a directory
/// we can write to, else the current directory (so an empty root without
/// /tmp still works, as with Python).
pub fn gettempdir() -> PathBuf {
    let env = ["TMPDIR", "TEMP", "TMP"]
        .iter()
        .filter_map(std::env::var_os)
        .map(PathBuf::from);
    let fixed = ["/tmp", "/var/tmp", "/usr/tmp"].iter().map(PathBuf::from);
    let writable = |p: &PathBuf| {
        p.is_dir()
            && nix::unistd::access(
                p.as_path(),
                nix::unistd::AccessFlags::W_OK | nix::unistd::AccessFlags::X_OK,
            )
            .is_ok()
    };
    env.chain(fixed)
        .find(writable)
        .map(|p| absolute(&p))
        .or_else(|| std::env::current_dir().ok())
        .unwrap_or_else(|| PathBuf::from("/"))
}

/// The sample configuration `echo_supervisord_conf` prints.
pub const SAMPLE_CONF: &str = include_str!("sample.conf");
