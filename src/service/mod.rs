//! `supervisord service install|uninstall|start|stop` (the Go
//! supervisord's `service` command): supervisord as a system service of
//! systemd, or of OpenRC where `/sbin/openrc-run` exists.
//!
//! This module owns the service's name, where its file goes, writing and
//! removing that file and the link that enables it at boot, and running
//! the service manager's commands; `systemd.rs` and `openrc.rs` write the
//! text. With a root directory given (`--root`, for an image being
//! built) it touches nothing outside that directory and runs no command.

pub mod openrc;
pub mod systemd;

use crate::config::{Config, GroupKind};
use std::fmt;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The Go supervisord's service name (its kardianos/service `Name`), so
/// that scripts saying `systemctl restart go-supervisord` keep working
/// and either implementation's `uninstall` finds the other's unit.
pub const NAME: &str = "go-supervisord";

/// What the unit says the service is. Ours: Go's "Supervisord service in
/// golang" would be untrue.
pub const DESCRIPTION: &str = "Supervisor process control system (supervisord-rs)";

/// systemd's own default TimeoutStopSec; the unit never asks for less.
const MIN_STOP_TIMEOUT: u64 = 90;

/// The service manager a unit is written for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Manager {
    Systemd,
    OpenRc,
}

impl Manager {
    /// OpenRC where `<root>/sbin/openrc-run` exists, else systemd. On the
    /// live system a booted systemd (`/run/systemd/system`, what
    /// sd_booted(3) checks) wins even when OpenRC is installed beside it.
    pub fn detect(root: &Path, live: bool) -> Manager {
        if live && Path::new("/run/systemd/system").is_dir() {
            return Manager::Systemd;
        }
        if root.join("sbin/openrc-run").exists() {
            Manager::OpenRc
        } else {
            Manager::Systemd
        }
    }
}

/// What `service` was asked to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Install,
    Uninstall,
    Start,
    Stop,
}

impl Action {
    pub fn from_name(name: &str) -> Option<Action> {
        match name {
            "install" => Some(Action::Install),
            "uninstall" => Some(Action::Uninstall),
            "start" => Some(Action::Start),
            "stop" => Some(Action::Stop),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Action::Install => "install",
            Action::Uninstall => "uninstall",
            Action::Start => "start",
            Action::Stop => "stop",
        }
    }
}

/// Why an action failed; the text follows Go's "Failed to ... : ".
#[derive(Debug)]
pub enum ServiceError {
    /// install: the unit is there already (kardianos/service's words).
    Exists(PathBuf),
    /// A file operation, worded as Go's os.PathError (`remove X: no such
    /// file or directory` is what Go's uninstall says when nothing is
    /// installed).
    Io {
        op: &'static str,
        path: PathBuf,
        err: std::io::Error,
    },
    /// A path the unit cannot hold as it is.
    BadPath(String),
    /// start/stop with `--root`: the command belongs to that system.
    NotLive(String),
    /// systemctl or rc-service could not run or failed.
    Command(String),
}

impl fmt::Display for ServiceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ServiceError::Exists(p) => write!(f, "Init already exists: {}", p.display()),
            ServiceError::Io { op, path, err } => {
                write!(f, "{} {}: {}", op, path.display(), go_error_text(err))
            }
            ServiceError::BadPath(m) | ServiceError::NotLive(m) | ServiceError::Command(m) => {
                f.write_str(m)
            }
        }
    }
}

/// An OS error as Go words it: strerror with a lower-case first letter
/// ("no such file or directory"), without Rust's "(os error 2)".
fn go_error_text(err: &std::io::Error) -> String {
    let text = match err.raw_os_error() {
        Some(code) => nix::errno::Errno::from_raw(code).desc().to_string(),
        None => err.to_string(),
    };
    let mut chars = text.chars();
    match chars.next() {
        Some(c) => c.to_lowercase().chain(chars).collect(),
        None => text,
    }
}

/// The command line the service runs: this binary in the foreground
/// (`-n`, as a service manager wants it) on an absolute config path, and
/// the env file when one was given (Go bakes `--env-file` in too).
#[derive(Debug, Clone)]
pub struct Invocation {
    pub exe: String,
    pub config: String,
    pub env_file: Option<String>,
}

impl Invocation {
    /// Checks what a unit line can hold: UTF-8, absolute, no control
    /// characters (a newline would end the line), and a binary that runs
    /// as supervisord (the multi-call binary dispatches on its name).
    pub fn new(exe: &Path, config: &Path, env_file: Option<&Path>) -> Result<Self, ServiceError> {
        let name = exe.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if matches!(name, "supervisorctl" | "echo_supervisord_conf" | "pidproxy") {
            return Err(ServiceError::BadPath(format!(
                "the binary {} runs as {} by its name; install a copy or link named supervisord and run that",
                exe.display(),
                name
            )));
        }
        Ok(Invocation {
            exe: unit_path(exe)?,
            config: unit_path(config)?,
            env_file: env_file.map(unit_path).transpose()?,
        })
    }

    /// The arguments after the binary.
    pub fn args(&self) -> Vec<&str> {
        let mut args = vec!["-n", "-c", self.config.as_str()];
        if let Some(e) = &self.env_file {
            args.push("--env-file");
            args.push(e);
        }
        args
    }
}

fn unit_path(p: &Path) -> Result<String, ServiceError> {
    let s = p
        .to_str()
        .ok_or_else(|| ServiceError::BadPath(format!("the path {} is not UTF-8", p.display())))?;
    if !p.is_absolute() {
        return Err(ServiceError::BadPath(format!(
            "the path {} is not absolute",
            s
        )));
    }
    if s.chars().any(char::is_control) {
        return Err(ServiceError::BadPath(format!(
            "the path {:?} holds a control character",
            s
        )));
    }
    Ok(s.to_string())
}

/// How long a stop may take before the service manager kills what is
/// left: supervisord stops its groups one after another (highest
/// priority number first) and waits for each to be gone, and a process
/// may take `stopwaitsecs` per stop signal before it is killed. So: the
/// sum over groups of the group's slowest process, plus a little per
/// group for the final SIGKILL (and an event-listener pool's grace for
/// its last events), plus a margin; never less than systemd's default.
/// It reflects the config at install time: install again after raising
/// stopwaitsecs a lot.
pub fn stop_timeout_secs(cfg: &Config) -> u64 {
    const PER_GROUP: u64 = 2;
    const LISTENER_GRACE: u64 = 3;
    const MARGIN: u64 = 10;
    let mut total: u64 = MARGIN;
    for g in &cfg.groups {
        let slowest = g
            .processes
            .iter()
            .map(|p| {
                let signals = 1 + p.more_stopsignals.len() as u64;
                u64::try_from(p.stopwaitsecs)
                    .unwrap_or(0)
                    .saturating_mul(signals)
            })
            .max()
            .unwrap_or(0);
        let grace = match g.kind {
            GroupKind::EventListenerPool { .. } => LISTENER_GRACE,
            _ => 0,
        };
        total = total.saturating_add(slowest + PER_GROUP + grace);
    }
    total.max(MIN_STOP_TIMEOUT)
}

/// The service as seen from one root directory.
#[derive(Debug, Clone)]
pub struct Service {
    pub manager: Manager,
    /// Where the target system's `/` is (`--root`, default `/`).
    pub root: PathBuf,
    /// Whether this is the running system: only then are systemctl and
    /// rc-service run.
    pub live: bool,
}

impl Service {
    /// The service under `root` (None: the live system at `/`).
    pub fn new(root: Option<&Path>) -> Service {
        let live = root.is_none();
        let root = root.unwrap_or(Path::new("/")).to_path_buf();
        Service {
            manager: Manager::detect(&root, live),
            root,
            live,
        }
    }

    /// The unit's path as the target system sees it.
    fn system_path(&self) -> String {
        match self.manager {
            Manager::Systemd => format!("/etc/systemd/system/{}", systemd::unit_name()),
            Manager::OpenRc => format!("/etc/init.d/{}", NAME),
        }
    }

    /// The link that enables the service at boot, as the target system
    /// sees it: what `systemctl enable` (for WantedBy=multi-user.target)
    /// and `rc-update add NAME default` make.
    fn system_enable_link(&self) -> String {
        match self.manager {
            Manager::Systemd => format!(
                "/etc/systemd/system/multi-user.target.wants/{}",
                systemd::unit_name()
            ),
            Manager::OpenRc => format!("/etc/runlevels/default/{}", NAME),
        }
    }

    /// A target-system path on this machine (under the root).
    fn here(&self, system_path: &str) -> PathBuf {
        self.root.join(system_path.trim_start_matches('/'))
    }

    /// Where the unit file or init script is on this machine.
    pub fn file(&self) -> PathBuf {
        self.here(&self.system_path())
    }

    /// The link that enables it, on this machine.
    pub fn enable_link(&self) -> PathBuf {
        self.here(&self.system_enable_link())
    }

    /// The unit file or init script for `inv`.
    pub fn render(&self, inv: &Invocation, stop_timeout: u64) -> Result<String, ServiceError> {
        match self.manager {
            Manager::Systemd => Ok(systemd::unit(inv, stop_timeout)),
            Manager::OpenRc => openrc::script(inv, stop_timeout),
        }
    }

    /// The command that starts or stops the service.
    pub fn control_command(&self, action: Action) -> Vec<String> {
        match self.manager {
            Manager::Systemd => vec![
                "systemctl".into(),
                action.name().into(),
                systemd::unit_name(),
            ],
            Manager::OpenRc => vec!["rc-service".into(), NAME.into(), action.name().into()],
        }
    }

    /// Writes the unit (refusing to replace one) and enables it at boot;
    /// on the live system with systemd, `systemctl daemon-reload`. What
    /// went wrong after the unit was written comes back as warnings.
    pub fn install(&self, text: &str) -> Result<Vec<String>, ServiceError> {
        let file = self.file();
        if file.symlink_metadata().is_ok() {
            return Err(ServiceError::Exists(file));
        }
        if let Some(dir) = file.parent() {
            std::fs::create_dir_all(dir).map_err(|err| ServiceError::Io {
                op: "mkdir",
                path: dir.to_path_buf(),
                err,
            })?;
        }
        let mode = match self.manager {
            Manager::Systemd => 0o644,
            Manager::OpenRc => 0o755,
        };
        write_new(&file, text, mode)?;
        let mut warnings = Vec::new();
        if let Err(e) = self.enable() {
            warnings.push(format!("not enabled at boot: {}", e));
        }
        if self.live && self.manager == Manager::Systemd {
            warnings.extend(run_best_effort(&["systemctl", "daemon-reload"]));
        }
        Ok(warnings)
    }

    /// Stops the service (live system only), removes the boot link and
    /// the unit; with systemd, `systemctl daemon-reload`. Nothing is run
    /// when no unit is installed.
    pub fn uninstall(&self) -> Result<Vec<String>, ServiceError> {
        let file = self.file();
        if let Err(err) = file.symlink_metadata() {
            return Err(ServiceError::Io {
                op: "remove",
                path: file,
                err,
            });
        }
        let mut warnings = Vec::new();
        if self.live {
            let cmd = self.control_command(Action::Stop);
            let argv: Vec<&str> = cmd.iter().map(String::as_str).collect();
            warnings.extend(run_best_effort(&argv));
        }
        let link = self.enable_link();
        if link
            .symlink_metadata()
            .is_ok_and(|m| m.file_type().is_symlink())
        {
            if let Err(err) = std::fs::remove_file(&link) {
                warnings.push(
                    ServiceError::Io {
                        op: "remove",
                        path: link,
                        err,
                    }
                    .to_string(),
                );
            }
        }
        std::fs::remove_file(&file).map_err(|err| ServiceError::Io {
            op: "remove",
            path: file,
            err,
        })?;
        if self.live && self.manager == Manager::Systemd {
            warnings.extend(run_best_effort(&["systemctl", "daemon-reload"]));
        }
        Ok(warnings)
    }

    /// `systemctl start|stop` or `rc-service NAME start|stop`. With a
    /// root directory this refuses, naming the command: starting a
    /// service of an image being built, or of another system, is not
    /// something to do from here.
    pub fn control(&self, action: Action) -> Result<(), ServiceError> {
        let cmd = self.control_command(action);
        if !self.live {
            return Err(ServiceError::NotLive(format!(
                "--root {} is not the running system; run `{}` there",
                self.root.display(),
                cmd.join(" ")
            )));
        }
        let argv: Vec<&str> = cmd.iter().map(String::as_str).collect();
        run(&argv)
    }

    /// The boot link, made as the service manager makes it: a symlink to
    /// the unit's path in the target system. A stale symlink (left by a
    /// unit removed by hand) is replaced; anything else is left alone.
    fn enable(&self) -> Result<(), ServiceError> {
        let link = self.enable_link();
        if let Some(dir) = link.parent() {
            std::fs::create_dir_all(dir).map_err(|err| ServiceError::Io {
                op: "mkdir",
                path: dir.to_path_buf(),
                err,
            })?;
        }
        if link
            .symlink_metadata()
            .is_ok_and(|m| m.file_type().is_symlink())
        {
            let _ = std::fs::remove_file(&link);
        }
        std::os::unix::fs::symlink(self.system_path(), &link).map_err(|err| ServiceError::Io {
            op: "symlink",
            path: link,
            err,
        })
    }
}

/// Creates `path` (which must not exist) with `text`; a failed write
/// leaves no half file behind.
fn write_new(path: &Path, text: &str, mode: u32) -> Result<(), ServiceError> {
    let io = |op, err| ServiceError::Io {
        op,
        path: path.to_path_buf(),
        err,
    };
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)
        .map_err(|err| {
            if err.kind() == std::io::ErrorKind::AlreadyExists {
                ServiceError::Exists(path.to_path_buf())
            } else {
                io("open", err)
            }
        })?;
    if let Err(err) = f.write_all(text.as_bytes()).and_then(|_| f.sync_all()) {
        let _ = std::fs::remove_file(path);
        return Err(io("write", err));
    }
    Ok(())
}

/// Runs a command with our stdio (so its own messages show); Err when it
/// cannot run or exits non-zero.
fn run(argv: &[&str]) -> Result<(), ServiceError> {
    let (prog, args) = argv
        .split_first()
        .ok_or_else(|| ServiceError::Command("no command".into()))?;
    let status = Command::new(prog).args(args).status().map_err(|e| {
        ServiceError::Command(format!("cannot run {}: {}", prog, go_error_text(&e)))
    })?;
    if status.success() {
        Ok(())
    } else {
        Err(ServiceError::Command(format!(
            "`{}` failed ({})",
            argv.join(" "),
            status
        )))
    }
}

/// `run`, with a failure turned into a warning.
fn run_best_effort(argv: &[&str]) -> Option<String> {
    run(argv).err().map(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{self, Environment};

    fn svc(root: &Path) -> Service {
        Service::new(Some(root))
    }

    fn inv() -> Invocation {
        Invocation::new(
            Path::new("/usr/local/bin/supervisord"),
            Path::new("/etc/supervisord.conf"),
            None,
        )
        .expect("valid")
    }

    #[test]
    fn detects_openrc_by_its_runner_under_the_root() {
        let dir = tempfile::tempdir().expect("tempdir");
        assert_eq!(svc(dir.path()).manager, Manager::Systemd);
        std::fs::create_dir_all(dir.path().join("sbin")).expect("mkdir");
        std::fs::write(dir.path().join("sbin/openrc-run"), "").expect("write");
        let s = svc(dir.path());
        assert_eq!(s.manager, Manager::OpenRc);
        assert_eq!(s.file(), dir.path().join("etc/init.d/go-supervisord"));
        assert_eq!(
            s.control_command(Action::Start),
            ["rc-service", "go-supervisord", "start"]
        );
    }

    #[test]
    fn install_refuses_an_existing_unit_and_uninstall_a_missing_one() {
        let dir = tempfile::tempdir().expect("tempdir");
        let s = svc(dir.path());
        let text = s.render(&inv(), 90).expect("render");
        assert!(s.install(&text).expect("install").is_empty());
        let file = dir.path().join("etc/systemd/system/go-supervisord.service");
        assert_eq!(std::fs::read_to_string(&file).expect("unit"), text);
        let link = dir
            .path()
            .join("etc/systemd/system/multi-user.target.wants/go-supervisord.service");
        assert_eq!(
            std::fs::read_link(&link).expect("link"),
            PathBuf::from("/etc/systemd/system/go-supervisord.service")
        );
        let e = s.install("other").unwrap_err();
        assert_eq!(
            e.to_string(),
            format!("Init already exists: {}", file.display())
        );
        assert_eq!(std::fs::read_to_string(&file).expect("unit"), text);

        assert!(s.uninstall().expect("uninstall").is_empty());
        assert!(!file.exists() && link.symlink_metadata().is_err());
        let e = s.uninstall().unwrap_err();
        assert_eq!(
            e.to_string(),
            format!("remove {}: no such file or directory", file.display())
        );
    }

    #[test]
    fn start_and_stop_refuse_with_a_root_and_name_the_command() {
        let dir = tempfile::tempdir().expect("tempdir");
        let e = svc(dir.path()).control(Action::Stop).unwrap_err();
        let text = e.to_string();
        assert!(
            text.contains("run `systemctl stop go-supervisord.service` there"),
            "{text}"
        );
    }

    #[test]
    fn invocation_checks_its_paths() {
        let i = Invocation::new(
            Path::new("/bin/supervisord"),
            Path::new("/etc/s.conf"),
            Some(Path::new("/etc/s.env")),
        )
        .expect("valid");
        assert_eq!(
            i.args(),
            ["-n", "-c", "/etc/s.conf", "--env-file", "/etc/s.env"]
        );
        for (exe, conf) in [
            ("/bin/supervisorctl", "/etc/s.conf"),
            ("/bin/supervisord", "etc/s.conf"),
            ("/bin/supervisord", "/etc/s\n.conf"),
        ] {
            assert!(Invocation::new(Path::new(exe), Path::new(conf), None).is_err());
        }
    }

    #[test]
    fn stop_timeout_sums_the_groups_slowest_stops() {
        let dir = tempfile::tempdir().expect("tempdir");
        let conf = dir.path().join("s.conf");
        let load = |text: &str| {
            std::fs::write(&conf, text).expect("write");
            config::load(&conf, &Environment::current()).expect("config")
        };
        assert_eq!(stop_timeout_secs(&load("[supervisord]\n")), 90);
        let cfg = load(
            "[supervisord]\n\
             [program:a]\ncommand=sleep 1\nstopwaitsecs=60\n\
             [program:b]\ncommand=sleep 1\nstopwaitsecs=20\nstopsignal=TERM INT\n\
             [program:c]\ncommand=sleep 1\nstopwaitsecs=5\nnumprocs=3\nprocess_name=c%(process_num)s\n",
        );
        // a: 60, b: 2 x 20, c: 5 (its processes stop together); + 2 each + 10.
        assert_eq!(stop_timeout_secs(&cfg), 60 + 40 + 5 + 3 * 2 + 10);
    }

    #[test]
    fn errors_read_like_gos() {
        let e = std::io::Error::from_raw_os_error(13);
        assert_eq!(go_error_text(&e), "permission denied");
    }
}
