//! One supervised process: its state, timers, pid, log writers, and the
//! actions Python's Subprocess takes (spawn, kill, finish, transition),
//! with the same activity-log lines. Only the loop calls these.

use super::launch::{ChildLogs, ProcessOs, SharedLog};
use super::spawn::SpawnErrorKind;
use super::state::{next, Event};
use super::ProcessId;
use crate::config::datatypes::signal_name;
use crate::config::{
    AutoRestart, LogConfig, LogFile, LogTarget, ProcessConfig, ProcessKind, SyslogAddr,
};
use crate::logs::activity;
use crate::logs::pump;
use crate::logs::rotating::RotatingFile;
use crate::logs::{ExtraTargets, SyslogDest, TargetSpec};
use crate::states::{Mood, ProcessState};
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

/// What a process needs from the loop while it acts: the time, the
/// daemon's mood, the OS, and where its state changes go.
pub struct Effects<'a> {
    pub mood: Mood,
    /// The monotonic clock's reading for this action (timers).
    pub now: Instant,
    /// The wall clock's reading for this action (what RPC reports).
    pub wall: SystemTime,
    pub os: &'a mut dyn ProcessOs,
    /// State changes to hand to the event system.
    pub changes: &'a mut Vec<StateChange>,
}

pub(super) struct Process {
    /// Stays the same for the life of the process in the loop.
    pub(super) id: ProcessId,
    pub(super) config: ProcessConfig,
    pub(super) state: ProcessState,
    pub(super) pid: i32,
    /// When the last spawn happened (monotonic, for timers; wall, for RPC).
    pub(super) laststart: Option<(Instant, SystemTime)>,
    pub(super) laststop: Option<SystemTime>,
    /// The pending timer: start retry (BACKOFF), SIGKILL (STOPPING), or
    /// the end of startsecs (STARTING).
    pub(super) delay: Option<Instant>,
    pub(super) backoff: i64,
    pub(super) spawnerr: Option<String>,
    pub(super) exitstatus: Option<i32>,
    pub(super) killing: bool,
    /// How many of `more_stopsignals` this stop has sent.
    stop_signals_sent: usize,
    pub(super) administrative_stop: bool,
    pub(super) system_stop: bool,
    pub(super) laststopreport: Option<Instant>,
    /// Resolved log paths (AUTO names are made once, at group creation).
    pub(super) stdout_path: Option<PathBuf>,
    pub(super) stderr_path: Option<PathBuf>,
    pub(super) stdout_log: Option<SharedLog>,
    pub(super) stderr_log: Option<SharedLog>,
    /// The other targets of log lists, opened with the logs.
    stdout_more: Option<Arc<ExtraTargets>>,
    stderr_more: Option<Arc<ExtraTargets>>,
    pub(super) stdin: Option<super::stdin::Stdin>,
    /// The event listener protocol state (listeners only; new at spawn).
    pub(super) listener: Option<crate::events::listener::Listener>,
    /// Ends the output pump once the child is reaped (Python drains the
    /// pipes once, then closes them, so a grandchild keeping them open
    /// cannot hold the pump forever).
    pump_stop: Option<pump::PumpStop>,
    /// A start (startProcess, or one a dependent asked for) waiting for
    /// this process's dependencies to be RUNNING.
    pub(super) start_requested: bool,
    /// Why a requested start was given up (a dependency went FATAL);
    /// what a waiting startProcess answers.
    pub(super) start_refused: Option<String>,
    /// Set by the loop before each transition: the first dependency that
    /// is not RUNNING, as the loop describes it. No automatic spawn while
    /// it is set.
    pub(super) waiting_for: Option<String>,
    /// The last `waiting_for` logged, so each reason is logged once.
    pub(super) waiting_logged: Option<String>,
    /// SIGKILL was sent in this stop (killwaitsecs counts from it).
    sigkill_sent: bool,
    /// Its health checks (health.rs); untouched without a healthcheck.
    pub(super) health: super::health::Health,
    /// When it last entered RUNNING (backoff_reset_after counts from it).
    running_since: Option<Instant>,
    /// Its last exit came before backoff_reset_after: the restart backs off.
    crash_looping: bool,
    /// The last exit's status (-1 for a signal), even when an exit too
    /// quickly leaves `exitstatus` unset: what exit_on exits with.
    pub(super) last_exit: Option<i32>,
}

impl Process {
    pub fn new(
        id: ProcessId,
        config: ProcessConfig,
        childlogdir: &Path,
        identifier: &str,
    ) -> Process {
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
            id,
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
            stdout_more: None,
            stderr_more: None,
            stdin: None,
            listener: None,
            pump_stop: None,
            start_requested: false,
            start_refused: None,
            waiting_for: None,
            waiting_logged: None,
            sigkill_sent: false,
            health: Default::default(),
            running_since: None,
            crash_looping: false,
            last_exit: None,
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
        if self.stdout_more.is_none() {
            self.stdout_more = open_more(&self.config.stdout, &self.config.name);
        }
        // Redirected stderr has no pipe of its own, so nothing to write.
        if self.stderr_more.is_none() && !self.config.redirect_stderr {
            self.stderr_more = open_more(&self.config.stderr, &self.config.name);
        }
    }

    fn change_state(&mut self, to: ProcessState, expected: bool, fx: &mut Effects) {
        let from = self.state;
        if from == to {
            return;
        }
        self.state = to;
        if to == ProcessState::Backoff && from == ProcessState::Starting {
            // A failed start: Python's growing delay (or the backoff
            // keys'), plus restartpause.
            self.backoff = self.backoff.saturating_add(1);
            let wait = self.retry_delay(self.backoff) + self.pause();
            self.delay = Some(fx.now + wait);
            if self.config.restartpause > 0 {
                let why = self.spawnerr.take().unwrap_or_default();
                self.spawnerr = Some(format!(
                    "{}; {}",
                    why,
                    self.pause_text(wait, "restartpause")
                ));
            }
        }
        if to == ProcessState::Running {
            self.running_since = Some(fx.now);
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

    /// What getProcessInfo's description says while a restart waits.
    fn pause_text(&self, wait: Duration, why: &str) -> String {
        format!(
            "restarting in {} s ({})",
            crate::config::backoff::show(wait),
            why
        )
    }

    /// `restartpause`, the wait before every automatic restart or retry.
    fn pause(&self) -> Duration {
        Duration::from_secs(self.config.restartpause.max(0) as u64)
    }

    /// The wait before retry number `n`: Python's n seconds, or what the
    /// backoff keys say.
    fn retry_delay(&self, n: i64) -> Duration {
        match &self.config.backoff {
            None => Duration::from_secs(n.max(0) as u64),
            Some(b) => b.delay(n),
        }
    }

    /// Takes the restartpause note off spawnerr once no restart waits.
    fn clear_pause_text(&mut self) {
        if let Some(err) = &mut self.spawnerr {
            if err.starts_with("restarting in ") {
                self.spawnerr = None;
            } else if let Some(at) = err.find("; restarting in ") {
                err.truncate(at);
            }
        }
    }

    fn record_spawnerr(&mut self, msg: String) {
        activity::info(format!("spawnerr: {}", msg));
        self.spawnerr = Some(msg);
    }

    /// Starts the process (STOPPED/EXITED/FATAL/BACKOFF → STARTING). On a
    /// failure it goes to BACKOFF with spawnerr set and returns the error
    /// kind (startProcess maps it to a fault).
    pub fn spawn(&mut self, fx: &mut Effects) -> Result<i32, SpawnErrorKind> {
        let name = self.config.name.clone();
        if self.pid != 0 {
            activity::warn(format!("process '{}' already running", name));
            return Err(SpawnErrorKind::Other);
        }
        self.killing = false;
        self.sigkill_sent = false;
        self.running_since = None;
        self.crash_looping = false;
        self.start_requested = false;
        self.start_refused = None;
        self.spawnerr = None;
        self.exitstatus = None;
        self.system_stop = false;
        self.administrative_stop = false;
        self.laststart = Some((fx.now, fx.wall));
        self.apply(Event::Spawn, true, fx);

        let launched = fx.os.resolve(&self.config).and_then(|command| {
            // Python opens the logs only once the command is known.
            self.open_logs();
            let logs = ChildLogs {
                stdout: self.stdout_log.clone(),
                stderr: self.stderr_log.clone(),
                stdout_more: self.stdout_more.clone(),
                stderr_more: self.stderr_more.clone(),
            };
            fx.os.launch(&self.config, &command, logs)
        });
        match launched {
            Ok(child) => {
                self.pid = child.pid;
                activity::info(format!("spawned: '{}' with pid {}", name, child.pid));
                self.spawnerr = None;
                self.delay =
                    Some(fx.now + Duration::from_secs(self.config.startsecs.max(0) as u64));
                self.stdin = child.stdin;
                self.pump_stop = child.pump_stop;
                let listener = self.config.kind == ProcessKind::EventListener;
                self.listener = listener.then(crate::events::listener::Listener::new);
                Ok(child.pid)
            }
            Err(e) => {
                self.record_spawnerr(e.message);
                self.apply(Event::SpawnFailed, true, fx);
                Err(e.kind)
            }
        }
    }

    /// Administrative stop: the stop signal, SIGKILL after stopwaitsecs.
    pub fn stop(&mut self, fx: &mut Effects) -> Option<String> {
        self.administrative_stop = true;
        self.laststopreport = None;
        self.stop_signals_sent = 0;
        self.start_requested = false;
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
            self.clear_pause_text();
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
        let wait = match self.config.killwaitsecs {
            Some(secs) if sig == libc::SIGKILL => secs,
            _ => self.config.stopwaitsecs,
        };
        self.sigkill_sent |= sig == libc::SIGKILL;
        self.delay = Some(fx.now + Duration::from_secs(wait.max(0) as u64));
        self.apply(Event::Kill, true, fx);
        let target = if as_group { -self.pid } else { self.pid };
        if let Err(e) = fx.os.kill(target, sig) {
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
        if let Err(e) = fx.os.kill(self.pid, sig) {
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
        self.clear_pause_text();
        self.system_stop = true;
        self.apply(Event::GiveUp, true, fx);
    }

    /// The process was reaped with wait status `status`.
    pub fn finish(&mut self, status: i32, fx: &mut Effects) {
        let (es, msg) = decode_wait_status(status);
        self.last_exit = Some(es);
        let now = fx.now;
        self.laststop = Some(fx.wall);
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
            // With backoff_reset_after, an exit that soon after reaching
            // RUNNING counts as a failed start (a crash loop backs off);
            // otherwise the count resets, as in Python.
            let reset_after = self.config.backoff.and_then(|b| b.reset_after);
            self.crash_looping = match (reset_after, self.running_since) {
                (Some(reset), Some(since)) => now.duration_since(since) < reset,
                (Some(_), None) => true,
                (None, _) => false,
            };
            if !self.crash_looping {
                self.backoff = 0;
            }
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
        let now = fx.now;
        let held = self.waiting_for.is_some();
        if fx.mood > Mood::Restarting && !held {
            match self.state {
                ProcessState::Stopped
                | ProcessState::Exited
                | ProcessState::Fatal
                | ProcessState::Backoff
                    if self.start_requested =>
                {
                    let _ = self.spawn(fx);
                }
                ProcessState::Exited => {
                    let restart = match self.config.autorestart {
                        AutoRestart::Always => true,
                        AutoRestart::Unexpected => self
                            .exitstatus
                            .is_none_or(|es| !self.config.exitcodes.contains(&es)),
                        AutoRestart::Never => false,
                    };
                    if restart && self.crash_looping {
                        // backoff_reset_after: it did not stay up long
                        // enough; a failed start, as for one too quick.
                        self.backoff = self.backoff.saturating_add(1);
                        let wait = self.retry_delay(self.backoff) + self.pause();
                        let why = if self.config.restartpause > 0 {
                            "backoff and restartpause"
                        } else {
                            "backoff"
                        };
                        self.spawnerr = Some(self.pause_text(wait, why));
                        self.apply(Event::Pause, true, fx);
                        self.delay = Some(now + wait);
                    } else if restart && self.config.restartpause > 0 {
                        // BACKOFF until the pause ends (not a failed start:
                        // the retry count stays as it is).
                        let wait = self.pause();
                        self.spawnerr = Some(self.pause_text(wait, "restartpause"));
                        self.apply(Event::Pause, true, fx);
                        self.delay = Some(now + wait);
                    } else if restart {
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
            ProcessState::Starting if self.delay.is_none_or(|d| now >= d) => {
                self.delay = None;
                // With backoff_reset_after the count resets only once it
                // has stayed up that long (see finish).
                if self.config.backoff.and_then(|b| b.reset_after).is_none() {
                    self.backoff = 0;
                }
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
            ProcessState::Stopping if self.delay.is_some_and(|d| now >= d) => {
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
                    None if self.sigkill_sent && self.config.killwaitsecs.is_some() => {
                        // killwaitsecs: SIGKILL again cannot help (a process
                        // in uninterruptible sleep); said once, and no more
                        // wake-ups: the reap ends the stop whenever it comes.
                        activity::crit(format!(
                            "'{}' ({}) is still running {} s after SIGKILL: it cannot be killed",
                            name,
                            self.pid,
                            self.config.killwaitsecs.unwrap_or(0)
                        ));
                        self.delay = None;
                    }
                    None => {
                        activity::warn(format!("killing '{}' ({}) with SIGKILL", name, self.pid));
                        self.kill(libc::SIGKILL, fx);
                    }
                }
            }
            _ => {}
        }
        self.next_deadline(fx.mood, now)
    }

    /// When this process next needs `transition`, given the current state.
    fn next_deadline(&self, mood: Mood, now: Instant) -> Option<Instant> {
        match self.state {
            ProcessState::Starting | ProcessState::Stopping => self.delay,
            // A held retry waits for the dependency's state change.
            ProcessState::Backoff if self.waiting_for.is_some() => None,
            ProcessState::Backoff if mood > Mood::Restarting => {
                if self.backoff > self.config.startretries {
                    Some(now)
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
        for more in [&self.stdout_more, &self.stderr_more].into_iter().flatten() {
            more.reopen();
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

/// The other targets of a log list (none for a single value), in the
/// terms of `logs`; the syslog tag defaults to the process name.
fn open_more(cfg: &LogConfig, name: &str) -> Option<Arc<ExtraTargets>> {
    if cfg.more.is_empty() {
        return None;
    }
    let h = &cfg.syslog_header;
    let specs: Vec<TargetSpec> = cfg
        .more
        .iter()
        .map(|t| match t {
            LogTarget::File(p) => TargetSpec::File(p.clone()),
            LogTarget::Syslog(addr) => TargetSpec::Syslog {
                dest: match addr {
                    SyslogAddr::Local => SyslogDest::Unix("/dev/log".into()),
                    SyslogAddr::Unix(p) => SyslogDest::Unix(p.clone()),
                    SyslogAddr::Udp { host, port } => SyslogDest::Udp(host.clone(), *port),
                    SyslogAddr::Tcp { host, port } => SyslogDest::Tcp(host.clone(), *port),
                },
                facility: h.facility,
                severity: h.severity,
                tag: h.tag.clone().unwrap_or_else(|| name.to_string()),
            },
        })
        .collect();
    ExtraTargets::open(name, &specs, cfg.maxbytes, cfg.backups)
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
    //! The state machine's decisions, driven through `Process` with a fake
    //! OS and a clock the test moves: no children, no sleeps.

    use super::*;
    use crate::supervisor::launch::{Command, LaunchError, Launched};
    use ProcessState as S;

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

    /// Records what the process asked of the OS.
    #[derive(Default)]
    struct FakeOs {
        next_pid: i32,
        launches: usize,
        kills: Vec<(i32, i32)>,
        /// The next resolve fails with this.
        resolve_error: Option<LaunchError>,
        /// Every kill fails with this errno.
        kill_errno: Option<i32>,
    }

    impl ProcessOs for FakeOs {
        fn resolve(&self, _: &ProcessConfig) -> Result<Command, LaunchError> {
            match &self.resolve_error {
                Some(e) => Err(e.clone()),
                None => Ok(("/bin/prog".into(), vec!["prog".to_string()])),
            }
        }

        fn launch(
            &mut self,
            _: &ProcessConfig,
            _: &Command,
            _: ChildLogs,
        ) -> Result<Launched, LaunchError> {
            self.launches += 1;
            self.next_pid += 1;
            Ok(Launched {
                pid: 1000 + self.next_pid,
                stdin: None,
                pump_stop: None,
            })
        }

        fn kill(&mut self, pid: i32, sig: i32) -> std::io::Result<()> {
            self.kills.push((pid, sig));
            match self.kill_errno {
                Some(e) => Err(std::io::Error::from_raw_os_error(e)),
                None => Ok(()),
            }
        }
    }

    /// One process, its fake OS and the test's clock.
    struct Rig {
        p: Process,
        os: FakeOs,
        changes: Vec<StateChange>,
        now: Instant,
        mood: Mood,
    }

    const SIGTERM: i32 = libc::SIGTERM;
    const SIGKILL: i32 = libc::SIGKILL;

    fn exit(code: i32) -> i32 {
        code << 8
    }

    impl Rig {
        /// A program `prog` with the given extra keys, no log files.
        fn new(keys: &str) -> Rig {
            let text = format!(
                "[supervisord]\n[program:prog]\ncommand=/bin/prog\nstdout_logfile=NONE\nstderr_logfile=NONE\n{}\n",
                keys
            );
            let env = crate::config::Environment::current();
            let cfg =
                crate::config::load_str(&text, Path::new("/tmp/rig.conf"), &env).expect("config");
            let pc = cfg.groups[0].processes[0].clone();
            Rig {
                p: Process::new(ProcessId(0), pc, Path::new("/tmp"), "supervisor"),
                os: FakeOs::default(),
                changes: Vec::new(),
                now: Instant::now(),
                mood: Mood::Running,
            }
        }

        fn act<R>(&mut self, f: impl FnOnce(&mut Process, &mut Effects) -> R) -> R {
            let mut fx = Effects {
                mood: self.mood,
                now: self.now,
                wall: SystemTime::now(),
                os: &mut self.os,
                changes: &mut self.changes,
            };
            f(&mut self.p, &mut fx)
        }

        fn transition(&mut self) -> Option<Instant> {
            self.act(|p, fx| p.transition(fx))
        }

        fn stop(&mut self) -> Option<String> {
            self.act(|p, fx| p.stop(fx))
        }

        fn reaped(&mut self, status: i32) {
            self.act(|p, fx| p.finish(status, fx));
        }

        fn later(&mut self, secs: u64) {
            self.now += Duration::from_secs(secs);
        }

        fn state(&self) -> ProcessState {
            self.p.state
        }

        /// The states it went through, in order, and forgets them.
        fn path(&mut self) -> Vec<ProcessState> {
            self.changes.drain(..).map(|c| c.to).collect()
        }

        /// Brought to RUNNING the usual way.
        fn running(keys: &str) -> Rig {
            let mut r = Rig::new(keys);
            r.transition();
            r.later(2);
            r.transition();
            assert_eq!(r.state(), S::Running);
            r.path();
            r
        }
    }

    #[test]
    fn autostart_spawns_and_startsecs_makes_it_running() {
        let mut r = Rig::new("startsecs=1");
        let deadline = r.transition();
        assert_eq!(r.state(), S::Starting);
        assert_eq!(r.os.launches, 1);
        assert_eq!(deadline, Some(r.now + Duration::from_secs(1)));
        // Not yet: the timer has not run out.
        assert_eq!(r.transition(), deadline);
        assert_eq!(r.state(), S::Starting);
        r.later(1);
        assert_eq!(r.transition(), None);
        assert_eq!(r.path(), [S::Starting, S::Running]);
    }

    #[test]
    fn startsecs_zero_is_running_at_once() {
        let mut r = Rig::new("startsecs=0");
        r.transition();
        assert_eq!(r.path(), [S::Starting, S::Running]);
    }

    #[test]
    fn no_autostart_stays_stopped() {
        let mut r = Rig::new("autostart=false");
        assert_eq!(r.transition(), None);
        assert_eq!(r.state(), S::Stopped);
        assert_eq!(r.os.launches, 0);
    }

    #[test]
    fn nothing_starts_while_stopping_or_restarting() {
        for mood in [Mood::Shutdown, Mood::Restarting] {
            let mut r = Rig::new("");
            r.mood = mood;
            r.transition();
            assert_eq!(r.os.launches, 0, "{mood:?}");
        }
    }

    #[test]
    fn exited_before_startsecs_backs_off_with_growing_delays() {
        let mut r = Rig::new("startsecs=5\nstartretries=3");
        r.transition();
        r.reaped(exit(0));
        assert_eq!(r.state(), S::Backoff);
        assert_eq!(
            r.p.spawnerr.as_deref(),
            Some("Exited too quickly (process log may have details)")
        );
        // The first retry waits 1 s, the second 2 s.
        let first = r.transition();
        assert_eq!(first, Some(r.now + Duration::from_secs(1)));
        r.later(1);
        r.transition();
        assert_eq!(r.os.launches, 2);
        r.reaped(exit(0));
        assert_eq!(r.transition(), Some(r.now + Duration::from_secs(2)));
        assert_eq!(r.path(), [S::Starting, S::Backoff, S::Starting, S::Backoff]);
    }

    #[test]
    fn retries_exhausted_is_fatal() {
        let mut r = Rig::new("startsecs=5\nstartretries=2");
        r.transition();
        for _ in 0..2 {
            r.reaped(exit(1));
            r.later(10);
            r.transition();
        }
        r.reaped(exit(1));
        assert_eq!(r.state(), S::Backoff);
        // The third failure is one too many: FATAL at the next look.
        r.transition();
        assert_eq!(r.state(), S::Fatal);
        assert_eq!(r.os.launches, 3);
        r.later(100);
        assert_eq!(r.transition(), None);
        assert_eq!(r.os.launches, 3, "FATAL never retries");
    }

    #[test]
    fn a_spawn_failure_backs_off_with_spawnerr() {
        let mut r = Rig::new("startretries=0");
        r.os.resolve_error = Some(LaunchError {
            kind: SpawnErrorKind::NotFound,
            message: "can't find command 'nope'".to_string(),
        });
        r.transition();
        assert_eq!(r.p.spawnerr.as_deref(), Some("can't find command 'nope'"));
        r.transition();
        assert_eq!(r.path(), [S::Starting, S::Backoff, S::Fatal]);
        assert_eq!(r.os.launches, 0);
    }

    #[test]
    fn autorestart_unexpected_restarts_only_on_unexpected_codes() {
        for (code, restarts) in [(0, false), (2, false), (1, true)] {
            let mut r = Rig::running("autorestart=unexpected\nexitcodes=0,2");
            r.reaped(exit(code));
            assert_eq!(r.state(), S::Exited);
            assert_eq!(r.changes[0].expected, !restarts, "code {code}");
            r.transition();
            assert_eq!(r.os.launches, 1 + usize::from(restarts), "code {code}");
        }
    }

    #[test]
    fn autorestart_always_and_never() {
        let mut r = Rig::running("autorestart=true");
        r.reaped(exit(0));
        r.transition();
        assert_eq!(r.state(), S::Starting);
        let mut r = Rig::running("autorestart=false");
        r.reaped(exit(1));
        r.transition();
        assert_eq!(r.state(), S::Exited);
        assert_eq!(r.p.spawnerr.as_deref(), Some("Bad exit code 1"));
    }

    #[test]
    fn stop_sends_the_stop_signal_then_sigkill_after_stopwaitsecs() {
        let mut r = Rig::running("stopwaitsecs=3");
        let pid = r.p.pid;
        assert_eq!(r.stop(), None);
        assert_eq!(r.state(), S::Stopping);
        assert_eq!(r.os.kills, [(pid, SIGTERM)]);
        r.later(2);
        r.transition();
        assert_eq!(r.os.kills.len(), 1);
        r.later(1);
        r.transition();
        assert_eq!(r.os.kills, [(pid, SIGTERM), (pid, SIGKILL)]);
        r.reaped(SIGKILL);
        assert_eq!(r.path(), [S::Stopping, S::Stopped]);
        assert_eq!(r.p.pid, 0);
    }

    #[test]
    fn several_stop_signals_in_turn_then_sigkill() {
        let mut r = Rig::running("stopsignal=TERM, INT, QUIT\nstopwaitsecs=2");
        let pid = r.p.pid;
        r.stop();
        for _ in 0..3 {
            r.later(2);
            r.transition();
        }
        let sent: Vec<i32> = r.os.kills.iter().map(|k| k.1).collect();
        assert_eq!(sent, [SIGTERM, libc::SIGINT, libc::SIGQUIT, SIGKILL]);
        assert!(r.os.kills.iter().all(|k| k.0 == pid));
    }

    #[test]
    fn stopasgroup_and_killasgroup_signal_the_process_group() {
        let mut r = Rig::running("stopasgroup=true\nkillasgroup=true\nstopwaitsecs=1");
        let pid = r.p.pid;
        r.stop();
        r.later(1);
        r.transition();
        assert_eq!(r.os.kills, [(-pid, SIGTERM), (-pid, SIGKILL)]);
    }

    #[test]
    fn stop_during_backoff_ends_the_retries() {
        let mut r = Rig::new("startsecs=5");
        r.transition();
        r.reaped(exit(0));
        assert_eq!(r.state(), S::Backoff);
        assert_eq!(r.stop(), None);
        assert_eq!(r.state(), S::Stopped);
        assert!(r.os.kills.is_empty(), "nothing to signal");
        r.later(60);
        r.transition();
        assert_eq!(r.os.launches, 1, "no retry after the stop");
    }

    #[test]
    fn exit_during_stopping_is_stopped_whatever_the_code() {
        for status in [exit(0), exit(3), SIGTERM] {
            let mut r = Rig::running("autorestart=true");
            r.stop();
            r.reaped(status);
            assert_eq!(r.path(), [S::Stopping, S::Stopped], "{status}");
            r.transition();
            assert_eq!(r.os.launches, 1, "a stopped process stays stopped");
        }
    }

    #[test]
    fn exit_while_starting_after_startsecs_counts_as_running_first() {
        // The startsecs timer had not been looked at when the exit came.
        let mut r = Rig::new("startsecs=1\nautorestart=false");
        r.transition();
        r.later(5);
        r.reaped(exit(0));
        assert_eq!(r.path(), [S::Starting, S::Running, S::Exited]);
    }

    #[test]
    fn stopping_a_process_that_just_exited_is_not_an_error() {
        let mut r = Rig::running("");
        r.os.kill_errno = Some(libc::ESRCH);
        assert_eq!(r.stop(), None);
        assert_eq!(r.state(), S::Stopping);
    }

    #[test]
    fn a_kill_that_fails_otherwise_makes_the_state_unknown() {
        let mut r = Rig::running("");
        r.os.kill_errno = Some(libc::EPERM);
        let msg = r.stop().expect("an error message");
        assert!(msg.starts_with("unknown problem killing prog"), "{msg}");
        assert_eq!(r.state(), S::Unknown);
    }

    #[test]
    fn signal_needs_a_pid() {
        let mut r = Rig::new("autostart=false");
        let msg = r.act(|p, fx| p.signal(libc::SIGHUP, fx));
        assert!(msg.is_some_and(|m| m.contains("wasn't running")));
        let mut r = Rig::running("");
        let pid = r.p.pid;
        assert_eq!(r.act(|p, fx| p.signal(libc::SIGHUP, fx)), None);
        assert_eq!(r.os.kills, [(pid, libc::SIGHUP)]);
        assert_eq!(r.state(), S::Running);
    }

    #[test]
    fn a_running_process_is_not_spawned_twice() {
        let mut r = Rig::running("");
        assert_eq!(r.act(|p, fx| p.spawn(fx)), Err(SpawnErrorKind::Other));
        assert_eq!(r.os.launches, 1);
    }

    #[test]
    fn restartpause_waits_in_backoff_before_an_automatic_restart() {
        let mut r = Rig::running("autorestart=true\nrestartpause=5");
        r.reaped(exit(0));
        let deadline = r.transition();
        assert_eq!(r.path(), [S::Exited, S::Backoff]);
        assert_eq!(r.os.launches, 1, "no spawn before the pause ends");
        assert_eq!(deadline, Some(r.now + Duration::from_secs(5)));
        assert_eq!(
            r.p.spawnerr.as_deref(),
            Some("restarting in 5 s (restartpause)")
        );
        // The pause is not a failed start.
        assert_eq!(r.p.backoff, 0);
        r.later(4);
        r.transition();
        assert_eq!(r.os.launches, 1);
        r.later(1);
        r.transition();
        assert_eq!(r.os.launches, 2);
        assert_eq!(r.state(), S::Starting);
        assert_eq!(r.p.spawnerr, None);
    }

    #[test]
    fn restartpause_is_added_to_the_retry_delay() {
        let mut r = Rig::new("startsecs=10\nrestartpause=3");
        r.transition();
        r.reaped(exit(1));
        assert_eq!(r.state(), S::Backoff);
        // 1 s of Python's backoff, plus the pause.
        assert_eq!(r.transition(), Some(r.now + Duration::from_secs(4)));
        assert_eq!(
            r.p.spawnerr.as_deref(),
            Some("Exited too quickly (process log may have details); restarting in 4 s (restartpause)")
        );
        r.later(3);
        r.transition();
        assert_eq!(r.os.launches, 1);
        r.later(1);
        r.transition();
        assert_eq!(r.os.launches, 2);
    }

    #[test]
    fn no_restartpause_before_the_first_or_a_manual_start() {
        let mut r = Rig::new("restartpause=30");
        r.transition();
        assert_eq!(r.os.launches, 1, "the first start does not wait");
        r.later(2);
        r.transition();
        r.stop();
        r.reaped(SIGTERM);
        assert_eq!(r.state(), S::Stopped);
        assert!(
            r.act(|p, fx| p.spawn(fx)).is_ok(),
            "a manual start does not wait"
        );
        assert_eq!(r.os.launches, 2);
    }

    #[test]
    fn stopping_during_the_pause_ends_it() {
        let mut r = Rig::running("autorestart=true\nrestartpause=5");
        r.reaped(exit(0));
        r.transition();
        assert_eq!(r.state(), S::Backoff);
        r.stop();
        assert_eq!(r.state(), S::Stopped);
        assert_eq!(r.p.spawnerr, None);
        r.later(10);
        assert_eq!(r.transition(), None);
        assert_eq!(r.os.launches, 1);
    }

    #[test]
    fn without_killwaitsecs_sigkill_is_sent_again_every_stopwaitsecs() {
        let mut r = Rig::running("stopwaitsecs=2");
        r.stop();
        for _ in 0..3 {
            r.later(2);
            r.transition();
        }
        let sent: Vec<i32> = r.os.kills.iter().map(|k| k.1).collect();
        assert_eq!(sent, [SIGTERM, SIGKILL, SIGKILL, SIGKILL]);
    }

    #[test]
    fn killwaitsecs_reports_an_unkillable_process_once_and_stops_waking() {
        let mut r = Rig::running("stopwaitsecs=2\nkillwaitsecs=7");
        r.stop();
        r.later(2);
        // SIGKILL, then killwaitsecs until the next look.
        assert_eq!(r.transition(), Some(r.now + Duration::from_secs(7)));
        r.later(7);
        assert_eq!(r.transition(), None, "no more wake-ups");
        r.later(100);
        assert_eq!(r.transition(), None);
        let sent: Vec<i32> = r.os.kills.iter().map(|k| k.1).collect();
        assert_eq!(sent, [SIGTERM, SIGKILL]);
        assert_eq!(r.state(), S::Stopping);
        r.reaped(SIGKILL);
        assert_eq!(r.state(), S::Stopped);
    }

    #[test]
    fn a_held_process_does_not_spawn_or_spin() {
        let mut r = Rig::new("");
        r.p.waiting_for = Some("its dependency b is STARTING".into());
        assert_eq!(r.transition(), None);
        assert_eq!(r.os.launches, 0);
        r.p.waiting_for = None;
        r.transition();
        assert_eq!(r.os.launches, 1);
    }

    #[test]
    fn exponential_backoff_doubles_up_to_its_max() {
        let mut r = Rig::new("startsecs=10\nstartretries=unlimited\nbackoff=exponential\nbackoff_initial=0.5\nbackoff_max=3");
        r.transition();
        let mut waits = Vec::new();
        for _ in 0..5 {
            r.reaped(exit(1));
            let deadline = r.transition().expect("a retry deadline");
            waits.push(deadline - r.now);
            r.now = deadline;
            r.transition();
            assert_eq!(r.state(), S::Starting);
        }
        let ms: Vec<u128> = waits.iter().map(|d| d.as_millis()).collect();
        assert_eq!(ms, [500, 1000, 2000, 3000, 3000]);
    }

    #[test]
    fn without_the_keys_the_delays_are_pythons() {
        let mut r = Rig::new("startsecs=10\nstartretries=5");
        r.transition();
        let mut waits = Vec::new();
        for _ in 0..3 {
            r.reaped(exit(1));
            let deadline = r.transition().expect("a retry deadline");
            waits.push((deadline - r.now).as_secs());
            r.now = deadline;
            r.transition();
        }
        assert_eq!(waits, [1, 2, 3]);
    }

    #[test]
    fn backoff_reset_after_makes_a_crash_loop_after_running_back_off() {
        let mut r = Rig::running(
            "startsecs=1\nstartretries=2\nautorestart=true\nbackoff=exponential\nbackoff_initial=1\nbackoff_reset_after=60",
        );
        // Up 5 s, then a crash: it counts, and the restart waits.
        r.later(5);
        r.reaped(exit(1));
        let deadline = r.transition();
        assert_eq!(r.path(), [S::Exited, S::Backoff]);
        assert_eq!(deadline, Some(r.now + Duration::from_secs(1)));
        assert_eq!(r.p.spawnerr.as_deref(), Some("restarting in 1 s (backoff)"));
        for wait in [1, 2] {
            r.later(wait);
            r.transition();
            assert_eq!(r.state(), S::Starting);
            r.later(1);
            r.transition();
            assert_eq!(r.state(), S::Running);
            r.later(5);
            r.reaped(exit(1));
            r.transition();
        }
        // The third quick crash is past startretries: FATAL, as Python's
        // BACKOFF ends.
        assert_eq!(r.state(), S::Fatal);
        assert_eq!(r.p.spawnerr, None);
    }

    #[test]
    fn backoff_reset_after_resets_once_it_stayed_up() {
        let mut r = Rig::running("startsecs=1\nautorestart=true\nbackoff_reset_after=60");
        r.later(61);
        r.reaped(exit(1));
        r.transition();
        // Restarted at once, as Python does.
        assert_eq!(r.state(), S::Starting);
        assert_eq!(r.p.backoff, 0);
    }
}
