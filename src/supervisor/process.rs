//! One supervised process: its state, timers, pid, log writers, and the
//! actions Python's Subprocess takes (spawn, kill, finish, transition),
//! with the same activity-log lines. Only the loop calls these.

use super::spawn::{self, SpawnContext, SpawnErrorKind};
use super::state::{next, Event, Mood, ProcessState};
use crate::config::datatypes::signal_name;
use crate::config::{AutoRestart, LogConfig, LogFile, ProcessConfig, ProcessKind};
use crate::logs::activity;
use crate::logs::pump::{self, ChannelSink, PumpEvent};
use crate::logs::rotating::RotatingFile;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

/// A state change, kept for event listeners and for parked RPC replies.
#[derive(Debug, Clone)]
pub struct StateChange {
    pub group: String,
    pub name: String,
    pub from: ProcessState,
    pub to: ProcessState,
    pub expected: bool,
    pub pid: i32,
    pub tries: i64,
}

/// A shared child log writer: the pump writes, the loop clears/reopens.
pub type SharedLog = Arc<Mutex<RotatingFile>>;

/// What a process needs from the loop while it acts.
pub struct Effects<'a> {
    pub mood: Mood,
    pub server_url: Option<&'a str>,
    pub own_path: Option<&'a str>,
    pub strip_ansi: bool,
    /// State changes to hand to the event system.
    pub changes: &'a mut Vec<StateChange>,
    /// Makes the notifier a pump uses to reach the loop.
    pub pump_notifier: &'a dyn Fn(String, String, i32) -> Box<dyn FnMut(PumpEvent) + Send>,
}

pub struct Process {
    pub config: ProcessConfig,
    pub state: ProcessState,
    pub pid: i32,
    /// When the last spawn happened (monotonic, for timers; wall, for RPC).
    pub laststart: Option<(Instant, SystemTime)>,
    pub laststop: Option<SystemTime>,
    /// The pending timer: start retry (BACKOFF), SIGKILL (STOPPING), or
    /// the end of startsecs (STARTING).
    pub delay: Option<Instant>,
    pub backoff: i64,
    pub spawnerr: Option<String>,
    pub exitstatus: Option<i32>,
    pub killing: bool,
    /// How many of `more_stopsignals` this stop has sent.
    stop_signals_sent: usize,
    pub administrative_stop: bool,
    pub system_stop: bool,
    pub laststopreport: Option<Instant>,
    /// Resolved log paths (AUTO names are made once, at group creation).
    pub stdout_path: Option<PathBuf>,
    pub stderr_path: Option<PathBuf>,
    pub stdout_log: Option<SharedLog>,
    pub stderr_log: Option<SharedLog>,
    pub stdin: Option<super::stdin::Stdin>,
    /// The event listener protocol state (listeners only; new at spawn).
    pub listener: Option<crate::events::listener::Listener>,
    /// Ends the output pump once the child is reaped (Python drains the
    /// pipes once, then closes them, so a grandchild keeping them open
    /// cannot hold the pump forever).
    pump_stop: Option<pump::PumpStop>,
}

impl Process {
    pub fn new(config: ProcessConfig, childlogdir: &Path, identifier: &str) -> Process {
        let stdout_path = log_path(
            &config.stdout,
            &config.name,
            "stdout",
            childlogdir,
            identifier,
        );
        let stderr_path = log_path(
            &config.stderr,
            &config.name,
            "stderr",
            childlogdir,
            identifier,
        );
        Process {
            config,
            state: ProcessState::Stopped,
            pid: 0,
            laststart: None,
            laststop: None,
            delay: None,
            backoff: 0,
            spawnerr: None,
            exitstatus: None,
            killing: false,
            stop_signals_sent: 0,
            administrative_stop: false,
            system_stop: false,
            laststopreport: None,
            stdout_path,
            stderr_path,
            stdout_log: None,
            stderr_log: None,
            stdin: None,
            listener: None,
            pump_stop: None,
        }
    }

    /// Opens the log files at the first spawn, as Python does: an explicit
    /// `stdout_logfile` does not exist before the program first runs
    /// (readProcessLog answers NO_FILE, /logtail 404). AUTO files exist
    /// from the start, empty, because making their names creates them.
    fn open_logs(&mut self) {
        if self.stdout_log.is_none() {
            self.stdout_log = open_log(self.stdout_path.as_deref(), &self.config.stdout);
        }
        if self.stderr_log.is_none() {
            self.stderr_log = open_log(self.stderr_path.as_deref(), &self.config.stderr);
        }
    }

    pub fn namespec(&self) -> String {
        self.config.namespec()
    }

    fn change_state(&mut self, to: ProcessState, expected: bool, fx: &mut Effects) {
        let from = self.state;
        if from == to {
            return;
        }
        self.state = to;
        if to == ProcessState::Backoff {
            self.backoff += 1;
            self.delay = Some(Instant::now() + Duration::from_secs(self.backoff.max(0) as u64));
        }
        fx.changes.push(StateChange {
            group: self.config.group.clone(),
            name: self.config.name.clone(),
            from,
            to,
            expected,
            pid: self.pid,
            tries: self.backoff,
        });
    }

    /// Applies `event` through the state table; a pair the table does not
    /// allow is a bug in the caller, logged and ignored.
    fn apply(&mut self, event: Event, expected: bool, fx: &mut Effects) {
        match next(self.state, event) {
            Some(to) => self.change_state(to, expected, fx),
            None => activity::error(format!(
                "internal: {:?} not allowed in state {} for {}",
                event,
                self.state.name(),
                self.config.name
            )),
        }
    }

    fn record_spawnerr(&mut self, msg: String) {
        activity::info(format!("spawnerr: {}", msg));
        self.spawnerr = Some(msg);
    }

    /// Starts the process (STOPPED/EXITED/FATAL/BACKOFF → STARTING). On a
    /// pre-fork failure it goes to BACKOFF with spawnerr set and returns the
    /// error kind (startProcess maps it to a fault).
    pub fn spawn(&mut self, fx: &mut Effects) -> Result<i32, SpawnErrorKind> {
        let name = self.config.name.clone();
        if self.pid != 0 {
            activity::warn(format!("process '{}' already running", name));
            return Err(SpawnErrorKind::Other);
        }
        self.killing = false;
        self.spawnerr = None;
        self.exitstatus = None;
        self.system_stop = false;
        self.administrative_stop = false;
        let now = Instant::now();
        self.laststart = Some((now, SystemTime::now()));
        self.apply(Event::Spawn, true, fx);

        let (filename, argv) = match spawn::resolve_command(&self.config, fx.own_path) {
            Ok(v) => v,
            Err(e) => {
                self.record_spawnerr(e.message);
                self.apply(Event::SpawnFailed, true, fx);
                return Err(e.kind);
            }
        };
        self.open_logs();
        let ctx = SpawnContext {
            server_url: fx.server_url,
            group_name: &self.config.group,
        };
        match spawn::spawn(&self.config, &filename, &argv, &ctx) {
            Ok((pid, pipes)) => {
                self.pid = pid;
                activity::info(format!("spawned: '{}' with pid {}", name, pid));
                self.spawnerr = None;
                self.delay = Some(now + Duration::from_secs(self.config.startsecs.max(0) as u64));
                self.stdin = Some(super::stdin::Stdin::new(pipes.stdin));
                let listener = self.config.kind == ProcessKind::EventListener;
                self.listener = listener.then(crate::events::listener::Listener::new);
                let out = ChannelSink {
                    log: self.stdout_log.clone(),
                    strip_ansi: fx.strip_ansi,
                    events_enabled: self.config.stdout.events_enabled,
                    forward_all: listener,
                    capture_maxbytes: if listener {
                        0
                    } else {
                        self.config.stdout.capture_maxbytes as usize
                    },
                    syslog: self.config.stdout.syslog,
                };
                let err = ChannelSink {
                    log: self.stderr_log.clone(),
                    strip_ansi: fx.strip_ansi,
                    events_enabled: self.config.stderr.events_enabled,
                    forward_all: false,
                    capture_maxbytes: self.config.stderr.capture_maxbytes as usize,
                    syslog: self.config.stderr.syslog,
                };
                let notify = (fx.pump_notifier)(self.config.group.clone(), name.clone(), pid);
                match pump::spawn_pump_stoppable(
                    name.clone(),
                    pipes.stdout,
                    pipes.stderr,
                    out,
                    err,
                    notify,
                ) {
                    Ok((_, stop)) => self.pump_stop = Some(stop),
                    // Without a pump the child would block on a full pipe;
                    // say so loudly, the process itself is running.
                    Err(e) => {
                        activity::crit(format!("cannot start output pump for '{}': {}", name, e))
                    }
                }
                Ok(pid)
            }
            Err(e) => {
                let msg = match e.raw_os_error() {
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
                        spawn::errno_name(code)
                    ),
                    None => format!("unknown error during fork for '{}': {}", name, e),
                };
                self.record_spawnerr(msg);
                self.apply(Event::SpawnFailed, true, fx);
                Err(SpawnErrorKind::Other)
            }
        }
    }

    /// Administrative stop: the stop signal, SIGKILL after stopwaitsecs.
    pub fn stop(&mut self, fx: &mut Effects) -> Option<String> {
        self.administrative_stop = true;
        self.laststopreport = None;
        self.stop_signals_sent = 0;
        self.kill(self.config.stopsignal, fx)
    }

    /// Sends `sig` meaning to end the process. None when sent.
    pub fn kill(&mut self, sig: i32, fx: &mut Effects) -> Option<String> {
        let name = self.config.name.clone();
        if self.state == ProcessState::Backoff {
            activity::debug(format!(
                "Attempted to kill {}, which is in BACKOFF state.",
                name
            ));
            self.apply(Event::Kill, true, fx);
            self.delay = None;
            return None;
        }
        if self.pid == 0 {
            let msg = format!(
                "attempted to kill {} with sig {} but it wasn't running",
                name,
                signal_name(sig)
            );
            activity::debug(&msg);
            return Some(msg);
        }
        let as_group = if self.state == ProcessState::Stopping {
            self.config.killasgroup
        } else {
            self.config.stopasgroup
        };
        self.kill_as(sig, as_group, fx)
    }

    /// `kill` to the process group or not, as the caller decides.
    fn kill_as(&mut self, sig: i32, as_group: bool, fx: &mut Effects) -> Option<String> {
        let name = self.config.name.clone();
        if self.pid <= 0 {
            // Never kill(0) or kill(-0): that would signal our own group.
            return Some(format!("{} is not running", name));
        }
        activity::debug(format!(
            "killing {} (pid {}) {}with signal {}",
            name,
            self.pid,
            if as_group { "process group " } else { "" },
            signal_name(sig)
        ));
        self.killing = true;
        self.delay =
            Some(Instant::now() + Duration::from_secs(self.config.stopwaitsecs.max(0) as u64));
        self.apply(Event::Kill, true, fx);
        let target = if as_group { -self.pid } else { self.pid };
        if let Err(e) = crate::sys::process::kill(target, sig) {
            if e.raw_os_error() == Some(libc::ESRCH) {
                activity::debug(format!(
                    "unable to signal {} (pid {}), it probably just exited on its own: {}",
                    name, self.pid, e
                ));
                return None;
            }
            let msg = format!("unknown problem killing {} ({}):{}", name, self.pid, e);
            activity::crit(&msg);
            self.apply(Event::SignalError, true, fx);
            self.killing = false;
            self.delay = None;
            return Some(msg);
        }
        None
    }

    /// Sends `sig` without meaning to stop the process (signalProcess).
    pub fn signal(&mut self, sig: i32, fx: &mut Effects) -> Option<String> {
        let name = self.config.name.clone();
        if self.pid == 0 {
            let msg = format!(
                "attempted to send {} sig {} but it wasn't running",
                name,
                signal_name(sig)
            );
            activity::debug(&msg);
            return Some(msg);
        }
        activity::debug(format!(
            "sending {} (pid {}) sig {}",
            name,
            self.pid,
            signal_name(sig)
        ));
        if let Err(e) = crate::sys::process::kill(self.pid, sig) {
            if e.raw_os_error() == Some(libc::ESRCH) {
                activity::debug(format!(
                    "unable to signal {} (pid {}), it probably just now exited on its own: {}",
                    name, self.pid, e
                ));
                return None;
            }
            let msg = format!("unknown problem sending sig {} ({}):{}", name, self.pid, e);
            activity::crit(&msg);
            self.apply(Event::SignalError, true, fx);
            return Some(msg);
        }
        None
    }

    /// BACKOFF → FATAL.
    pub fn give_up(&mut self, fx: &mut Effects) {
        self.delay = None;
        self.backoff = 0;
        self.system_stop = true;
        self.apply(Event::GiveUp, true, fx);
    }

    /// The process was reaped with wait status `status`.
    pub fn finish(&mut self, status: i32, fx: &mut Effects) {
        let (es, msg) = decode_wait_status(status);
        let now = Instant::now();
        self.laststop = Some(SystemTime::now());
        let name = self.config.name.clone();
        let too_quickly = match self.laststart {
            Some((t, _)) => {
                now.duration_since(t) < Duration::from_secs(self.config.startsecs.max(0) as u64)
            }
            None => false,
        };
        let exit_expected = self.config.exitcodes.contains(&es);
        if self.killing {
            self.killing = false;
            self.delay = None;
            self.exitstatus = Some(es);
            let line = format!("stopped: {} ({})", name, msg);
            self.apply(Event::Reaped, true, fx);
            if exit_expected {
                activity::info(line);
            } else {
                activity::warn(line);
            }
        } else if too_quickly && self.state == ProcessState::Starting {
            self.exitstatus = None;
            self.spawnerr = Some("Exited too quickly (process log may have details)".to_string());
            let line = format!("exited: {} ({}; not expected)", name, msg);
            self.apply(Event::ExitedTooQuickly, true, fx);
            activity::warn(line);
        } else {
            self.delay = None;
            self.backoff = 0;
            self.exitstatus = Some(es);
            // The startsecs timer may not have fired yet in this wake-up.
            if self.state == ProcessState::Starting {
                self.apply(Event::StartSecsElapsed, true, fx);
            }
            if exit_expected {
                let line = format!("exited: {} ({}; expected)", name, msg);
                self.apply(Event::Exited, true, fx);
                activity::info(line);
            } else {
                self.spawnerr = Some(format!("Bad exit code {}", es));
                let line = format!("exited: {} ({}; not expected)", name, msg);
                self.apply(Event::Exited, false, fx);
                activity::warn(line);
            }
        }
        self.pid = 0;
        self.stdin = None;
        if let Some(stop) = self.pump_stop.take() {
            stop.drain_and_stop();
        }
    }

    /// Python's transition(): the timed and automatic moves. Returns the
    /// next instant at which this process needs another look, if any.
    pub fn transition(&mut self, fx: &mut Effects) -> Option<Instant> {
        let now = Instant::now();
        if fx.mood > Mood::Restarting {
            match self.state {
                ProcessState::Exited => {
                    let restart = match self.config.autorestart {
                        AutoRestart::Always => true,
                        AutoRestart::Unexpected => self
                            .exitstatus
                            .is_none_or(|es| !self.config.exitcodes.contains(&es)),
                        AutoRestart::Never => false,
                    };
                    if restart {
                        let _ = self.spawn(fx);
                    }
                }
                ProcessState::Stopped if self.laststart.is_none() && self.config.autostart => {
                    let _ = self.spawn(fx);
                }
                ProcessState::Backoff
                    if self.backoff <= self.config.startretries
                        && self.delay.is_none_or(|d| now >= d) =>
                {
                    let _ = self.spawn(fx);
                }
                _ => {}
            }
        }
        let name = &self.config.name;
        match self.state {
            ProcessState::Starting if self.delay.is_none_or(|d| Instant::now() >= d) => {
                self.delay = None;
                self.backoff = 0;
                let line = format!(
                        "success: {} entered RUNNING state, process has stayed up for > than {} seconds (startsecs)",
                        name, self.config.startsecs
                    );
                self.apply(Event::StartSecsElapsed, true, fx);
                activity::info(line);
            }
            ProcessState::Backoff if self.backoff > self.config.startretries => {
                let line = format!(
                    "gave up: {} entered FATAL state, too many start retries too quickly",
                    name
                );
                self.give_up(fx);
                activity::info(line);
            }
            ProcessState::Stopping if self.delay.is_some_and(|d| Instant::now() >= d) => {
                match self
                    .config
                    .more_stopsignals
                    .get(self.stop_signals_sent)
                    .copied()
                {
                    // Several stop signals (an extension): the next one,
                    // to the group as stopasgroup says, before any SIGKILL.
                    Some(sig) => {
                        let before = match self.stop_signals_sent {
                            0 => self.config.stopsignal,
                            n => self.config.more_stopsignals[n - 1],
                        };
                        self.stop_signals_sent += 1;
                        activity::warn(format!(
                            "signalling '{}' ({}) with {}: still running {} s after {}",
                            name,
                            self.pid,
                            signal_name(sig),
                            self.config.stopwaitsecs,
                            signal_name(before)
                        ));
                        let as_group = self.config.stopasgroup;
                        self.kill_as(sig, as_group, fx);
                    }
                    None => {
                        activity::warn(format!("killing '{}' ({}) with SIGKILL", name, self.pid));
                        self.kill(libc::SIGKILL, fx);
                    }
                }
            }
            _ => {}
        }
        self.next_deadline(fx.mood)
    }

    /// When this process next needs `transition`, given the current state.
    fn next_deadline(&self, mood: Mood) -> Option<Instant> {
        match self.state {
            ProcessState::Starting | ProcessState::Stopping => self.delay,
            ProcessState::Backoff if mood > Mood::Restarting => {
                if self.backoff > self.config.startretries {
                    Some(Instant::now())
                } else {
                    self.delay
                }
            }
            _ => None,
        }
    }

    /// The handle that ends the output pump (the loop drains it itself
    /// when it reaps the child).
    pub fn take_pump_stop(&mut self) -> Option<pump::PumpStop> {
        self.pump_stop.take()
    }

    /// sendProcessStdin: Err(EPIPE) when the process is gone, being
    /// killed, or has closed its stdin.
    pub fn write_stdin(&mut self, data: &[u8]) -> std::io::Result<()> {
        if self.pid == 0 || self.killing {
            return Err(std::io::Error::from_raw_os_error(libc::EPIPE));
        }
        match self.stdin.as_mut() {
            Some(s) => s.write(data),
            None => Err(std::io::Error::from_raw_os_error(libc::EPIPE)),
        }
    }

    /// "waiting for x to stop", at most every 2 s while a stopProcess
    /// call waits.
    pub fn stop_report(&mut self) {
        if self.state != ProcessState::Stopping {
            return;
        }
        let now = Instant::now();
        if self
            .laststopreport
            .is_none_or(|t| now > t + Duration::from_secs(2))
        {
            activity::info(format!("waiting for {} to stop", self.config.name));
            self.laststopreport = Some(now);
        }
    }

    /// Reopens the log files (SIGUSR2 / logrotate).
    pub fn reopen_logs(&self) {
        for log in [&self.stdout_log, &self.stderr_log].into_iter().flatten() {
            if let Ok(mut f) = log.lock() {
                if let Err(e) = f.reopen() {
                    activity::error(format!("cannot reopen {}: {}", f.path().display(), e));
                }
            }
        }
    }

    /// clearProcessLogs: remove and reopen both logs.
    pub fn clear_logs(&self) -> std::io::Result<()> {
        for log in [&self.stdout_log, &self.stderr_log].into_iter().flatten() {
            if let Ok(mut f) = log.lock() {
                f.clear()?;
            }
        }
        Ok(())
    }

    /// Removes the log files of a process leaving the configuration (AUTO
    /// files only, as Python removes its temp files).
    pub fn remove_auto_logs(&self) {
        for (cfg, path) in [
            (&self.config.stdout, &self.stdout_path),
            (&self.config.stderr, &self.stderr_path),
        ] {
            if cfg.file == LogFile::Auto {
                if let Some(p) = path {
                    let _ = std::fs::remove_file(p);
                }
            }
        }
    }
}

/// The resolved path of a child log, creating an AUTO file's name.
fn log_path(
    cfg: &LogConfig,
    name: &str,
    channel: &str,
    childlogdir: &Path,
    identifier: &str,
) -> Option<PathBuf> {
    match &cfg.file {
        LogFile::Path(p) => Some(p.clone()),
        LogFile::Auto => {
            let prefix = format!("{}-{}---{}-", name, channel, identifier);
            match crate::pycompat::tempfile::mkstemp(childlogdir, &prefix, ".log") {
                Ok(p) => Some(p),
                Err(e) => {
                    activity::error(format!(
                        "cannot create AUTO log file for '{}' in {}: {}",
                        name,
                        childlogdir.display(),
                        e
                    ));
                    None
                }
            }
        }
        LogFile::None | LogFile::Syslog => None,
    }
}

fn open_log(path: Option<&Path>, cfg: &LogConfig) -> Option<SharedLog> {
    let path = path?;
    match RotatingFile::open(path, cfg.maxbytes, cfg.backups) {
        Ok(f) => Some(Arc::new(Mutex::new(f))),
        Err(e) => {
            activity::error(format!("cannot open log file {}: {}", path.display(), e));
            None
        }
    }
}

/// Python's decode_wait_status: (exit status or -1, description).
pub fn decode_wait_status(status: i32) -> (i32, String) {
    if libc::WIFEXITED(status) {
        let es = libc::WEXITSTATUS(status);
        (es, format!("exit status {}", es))
    } else if libc::WIFSIGNALED(status) {
        let sig = libc::WTERMSIG(status);
        let mut msg = format!("terminated by {}", signal_name(sig));
        if libc::WCOREDUMP(status) {
            msg.push_str(" (core dumped)");
        }
        (-1, msg)
    } else {
        (-1, format!("unknown termination cause 0x{:04x}", status))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wait_status_texts() {
        assert_eq!(decode_wait_status(0), (0, "exit status 0".to_string()));
        assert_eq!(decode_wait_status(2 << 8), (2, "exit status 2".to_string()));
        assert_eq!(
            decode_wait_status(15),
            (-1, "terminated by SIGTERM".to_string())
        );
        assert_eq!(
            decode_wait_status(9 | 0x80),
            (-1, "terminated by SIGKILL (core dumped)".to_string())
        );
    }
}
