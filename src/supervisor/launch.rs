//! What a process asks of the OS, behind a small trait: start its
//! command (with the output pump that drains it) and signal it. The loop
//! passes [`Launcher`]; the state machine's tests pass a fake, so every
//! decision of `process.rs` is tested without a child.

use super::spawn::{self, SpawnContext, SpawnErrorKind};
use super::stdin::Stdin;
use crate::config::{ProcessConfig, ProcessKind};
use crate::logs::activity;
use crate::logs::pump::{self, ChannelSink, PumpEvent, PumpStop};
use crate::logs::ExtraTargets;
use std::io;
use std::sync::{Arc, Mutex};

/// A shared child log writer: the pump writes, the loop clears/reopens.
pub type SharedLog = Arc<Mutex<crate::logs::rotating::RotatingFile>>;

/// What a child's output is written to: each channel's main log (the one
/// RPC reads and clears) and the other targets of a log list.
#[derive(Debug, Clone, Default)]
pub struct ChildLogs {
    pub stdout: Option<SharedLog>,
    pub stderr: Option<SharedLog>,
    pub stdout_more: Option<Arc<ExtraTargets>>,
    pub stderr_more: Option<Arc<ExtraTargets>>,
}

/// Makes the callback a pump uses to hand output to the loop, given the
/// process's group, name and pid.
pub type PumpNotifier<'a> = &'a dyn Fn(String, String, i32) -> Box<dyn FnMut(PumpEvent) + Send>;

/// The OS side of a process.
pub trait ProcessOs {
    /// The file to exec and its argv (Python's `get_execv_args`).
    fn resolve(&self, config: &ProcessConfig) -> Result<Command, LaunchError>;

    /// Forks and execs `command`, and starts the pump that writes its
    /// output to `logs` (stdout, stderr).
    fn launch(
        &mut self,
        config: &ProcessConfig,
        command: &Command,
        logs: ChildLogs,
    ) -> Result<Launched, LaunchError>;

    /// kill(2): `pid` negative for a process group.
    fn kill(&mut self, pid: i32, sig: i32) -> io::Result<()>;
}

/// The file to exec and its argv.
pub type Command = (std::path::PathBuf, Vec<String>);

/// A started child.
pub struct Launched {
    pub pid: i32,
    pub stdin: Option<Stdin>,
    /// Ends the pump once the child is reaped; None without a pump.
    pub pump_stop: Option<PumpStop>,
}

/// Why a launch failed: the spawnerr text, and what startProcess makes
/// of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LaunchError {
    pub kind: SpawnErrorKind,
    pub message: String,
}

/// The real OS, with what every spawn needs from the daemon.
pub struct Launcher<'a> {
    pub server_url: Option<&'a str>,
    /// supervisord's own PATH, where commands without a slash are found.
    pub own_path: Option<&'a str>,
    pub strip_ansi: bool,
    pub pump_notifier: PumpNotifier<'a>,
}

impl ProcessOs for Launcher<'_> {
    fn resolve(&self, config: &ProcessConfig) -> Result<Command, LaunchError> {
        spawn::resolve_command(config, self.own_path).map_err(|e| LaunchError {
            kind: e.kind,
            message: e.message,
        })
    }

    fn launch(
        &mut self,
        config: &ProcessConfig,
        (filename, argv): &Command,
        logs: ChildLogs,
    ) -> Result<Launched, LaunchError> {
        let name = &config.name;
        let ctx = SpawnContext {
            server_url: self.server_url,
            group_name: &config.group,
        };
        let (pid, pipes) = spawn::spawn(config, filename, argv, &ctx).map_err(|e| {
            let message = match e.raw_os_error() {
                Some(libc::EMFILE) | Some(libc::ENFILE) => {
                    format!("too many open files to spawn '{}'", name)
                }
                Some(libc::EAGAIN) => {
                    format!("Too many processes in process table to spawn '{}'", name)
                }
                // The exec itself failed (std reports it to the parent;
                // Python's child would write this to its stderr).
                Some(code) => format!(
                    "couldn't exec {}: {}",
                    argv.first().map(String::as_str).unwrap_or(""),
                    crate::sys::errno::errno_name(code)
                ),
                None => format!("unknown error during fork for '{}': {}", name, e),
            };
            LaunchError {
                kind: SpawnErrorKind::Other,
                message,
            }
        })?;
        let listener = config.kind == ProcessKind::EventListener;
        let out = ChannelSink {
            log: logs.stdout,
            strip_ansi: self.strip_ansi,
            events_enabled: config.stdout.events_enabled,
            forward_all: listener,
            capture_maxbytes: if listener {
                0
            } else {
                config.stdout.capture_maxbytes as usize
            },
            syslog: config.stdout.syslog,
            more: logs.stdout_more,
            pid,
        };
        let err = ChannelSink {
            log: logs.stderr,
            strip_ansi: self.strip_ansi,
            events_enabled: config.stderr.events_enabled,
            forward_all: false,
            capture_maxbytes: config.stderr.capture_maxbytes as usize,
            syslog: config.stderr.syslog,
            more: logs.stderr_more,
            pid,
        };
        let notify = (self.pump_notifier)(config.group.clone(), name.clone(), pid);
        let pump_stop = match pump::spawn_pump_stoppable(
            name.clone(),
            pipes.stdout,
            pipes.stderr,
            out,
            err,
            notify,
        ) {
            Ok((_, stop)) => Some(stop),
            // Without a pump the child would block on a full pipe;
            // say so loudly, the process itself is running.
            Err(e) => {
                activity::crit(format!("cannot start output pump for '{}': {}", name, e));
                None
            }
        };
        Ok(Launched {
            pid,
            stdin: Some(Stdin::new(pipes.stdin)),
            pump_stop,
        })
    }

    fn kill(&mut self, pid: i32, sig: i32) -> io::Result<()> {
        crate::sys::process::kill(pid, sig)
    }
}
