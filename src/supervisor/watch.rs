//! Restart on change (the Go supervisord's `restart_when_binary_changed`
//! and `restart_directory_monitor`, done with inotify instead of hashing
//! every file every 10 s): the loop's side. The inotify fd sits on the
//! loop's poller, so an idle daemon never wakes for it; a burst of changes
//! is settled by [`debounce`] into one action, run from a loop deadline.
//!
//! What a change does, per program and kind (binary or files): run the
//! command (`/bin/sh -c`, reaped by the loop like any child), else send
//! the signals to the process group (`stopwaitsecs` apart, as Go does,
//! while the same process lives), else stop and start it through the
//! named operations `supervisorctl restart` uses. Only a program that is
//! meant to be up (STARTING, RUNNING, BACKOFF) is acted on; a BACKOFF one
//! is restarted at once (the change may be the fix) and its retries start
//! again. With no program using the keys, no inotify fd exists.

mod debounce;
mod dirs;

use super::{ProcessId, Supervisor};
use crate::config::{absolute, OnChange, ProcessConfig, RestartWatch};
use crate::logs::activity;
use crate::states::{Mood, ProcessState};
use debounce::{Burst, Debounce};
use dirs::{Event, Kind, Notify, Target, WatchSet};
use mio::unix::SourceFd;
use mio::{Interest, Registry, Token};
use nix::errno::Errno;
use nix::sys::inotify::{InitFlags, Inotify, WatchDescriptor};
use std::collections::HashMap;
use std::os::fd::{AsFd, AsRawFd};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The poller's token of the inotify fd (the loop reads it on every pass,
/// so the token itself is not looked at).
const INOTIFY: Token = Token(2);

/// The kernel's inotify, as [`dirs`] needs it.
struct Kernel(Inotify);

impl Notify for Kernel {
    type Wd = WatchDescriptor;
    fn add(&mut self, dir: &Path) -> std::io::Result<WatchDescriptor> {
        self.0
            .add_watch(dir, dirs::DIR_MASK)
            .map_err(std::io::Error::from)
    }
    fn remove(&mut self, wd: WatchDescriptor) {
        // EINVAL: the kernel dropped it already (the directory went).
        let _ = self.0.rm_watch(wd);
    }
}

/// A watched program: who it is and what its changes lead to.
struct Watched {
    group: String,
    name: String,
    watch: RestartWatch,
    environment: Vec<(String, String)>,
    directory: Option<String>,
    stopwaitsecs: u64,
}

impl Watched {
    fn on_change(&self, kind: Kind) -> Option<&OnChange> {
        match kind {
            Kind::Binary => self.watch.binary.as_ref(),
            Kind::Files => self.watch.files.as_ref().map(|f| &f.on_change),
        }
    }
}

/// Signals still to send for one change, each `wait` after the last.
struct SignalRun {
    group: String,
    name: String,
    pid: i32,
    rest: Vec<i32>,
    wait: Duration,
    due: Instant,
}

/// A restart command running. Changes while it runs make it run once
/// more when it ends, never twice at once (a deploy script run twice
/// over itself helps nobody).
struct CommandRun {
    key: (String, String, Kind),
    /// A change came while it ran: the first such file.
    again: Option<PathBuf>,
}

/// The loop's restart-on-change state.
#[derive(Default)]
pub(super) struct Watches {
    /// None until some program uses the keys.
    set: Option<WatchSet<Kernel>>,
    /// Parallel to the set's targets.
    programs: Vec<Watched>,
    debounce: Option<Debounce<(String, String, Kind)>>,
    signals: Vec<SignalRun>,
    /// Restart commands running, by pid.
    commands: HashMap<i32, CommandRun>,
    /// The processes in the loop changed: follow their configs.
    stale: bool,
}

impl Watches {
    /// The processes in the loop changed (groups added or removed).
    pub(super) fn mark_stale(&mut self) {
        self.stale = true;
    }

    /// A child the loop reaped that is none of its processes: true if it
    /// was a restart command (its end is logged here).
    pub(super) fn reaped(&mut self, pid: i32, status: i32) -> bool {
        let Some(run) = self.commands.remove(&pid) else {
            return false;
        };
        let (code, msg) = super::process::decode_wait_status(status);
        let line = format!("restart command of {} ended ({})", run.key.1, msg);
        if code == 0 && libc::WIFEXITED(status) {
            activity::info(line);
        } else {
            activity::warn(line);
        }
        if let Some(path) = run.again {
            // Settles like any change; the loop's pass after the reap
            // takes its deadline.
            self.debounce
                .get_or_insert_with(Debounce::new)
                .note(run.key, path, Instant::now());
        }
        true
    }
}

impl Supervisor {
    /// The loop's pass over restart-on-change: follows config changes,
    /// reads inotify, acts on the bursts that have settled. Returns when
    /// it next needs a look.
    pub(super) fn watch_pass(&mut self, registry: &Registry) -> Option<Instant> {
        if std::mem::take(&mut self.watch.stale) {
            self.rebuild_watches(registry);
        }
        let changes = self.read_changes();
        let now = Instant::now();
        if self.mood < Mood::Running {
            // Shutting down or restarting: nothing is restarted any more.
            self.watch.debounce = None;
            self.watch.signals.clear();
            return None;
        }
        if !changes.is_empty() {
            let d = self.watch.debounce.get_or_insert_with(Debounce::new);
            for c in changes {
                if let Some(p) = self.watch.programs.get(c.target) {
                    d.note((p.group.clone(), p.name.clone(), c.kind), c.path, now);
                }
            }
        }
        let due = match self.watch.debounce.as_mut() {
            Some(d) => d.take_due(now),
            None => Vec::new(),
        };
        let mut done: Vec<(String, String, OnChange)> = Vec::new();
        let mut relink = false;
        for ((group, name, kind), burst) in due {
            let Some(action) = self.watched(&group, &name).and_then(|w| w.on_change(kind)) else {
                continue;
            };
            // The binary and the files changed together, to the same end:
            // once is enough.
            let key = (group, name, action.clone());
            if done.contains(&key) {
                continue;
            }
            if kind == Kind::Binary && !burst.path.exists() {
                // Removed, not replaced (yet): a restart now could only
                // fail; its return is the change to act on.
                activity::info(format!(
                    "{} of {} was removed; waiting for it to come back",
                    burst.path.display(),
                    key.1
                ));
                continue;
            }
            self.act(&key.0, &key.1, kind, &key.2, &burst);
            done.push(key);
            // A link may point elsewhere now: resolve the command again.
            relink |= kind == Kind::Binary;
        }
        if relink {
            self.rebuild_watches(registry);
        }
        self.send_due_signals(now);
        let next_signal = self.watch.signals.iter().map(|s| s.due).min();
        let next_burst = self.watch.debounce.as_ref().and_then(|d| d.next_due());
        super::earliest(next_signal, next_burst)
    }

    fn watched(&self, group: &str, name: &str) -> Option<&Watched> {
        self.watch
            .programs
            .iter()
            .find(|w| w.group == group && w.name == name)
    }

    /// Follows the configs of the processes now in the loop: watches are
    /// set up when a program's config is loaded, whether it runs or not.
    fn rebuild_watches(&mut self, registry: &Registry) {
        let mut programs = Vec::new();
        let mut targets = Vec::new();
        for p in self.groups.iter().flat_map(|g| g.processes.iter()) {
            let Some(watch) = &p.config.restart_on_change else {
                continue;
            };
            targets.push(Target {
                label: p.config.name.clone(),
                binaries: match watch.binary {
                    Some(_) => binary_paths(&p.config, self.own_path.as_deref()),
                    None => Vec::new(),
                },
                tree: watch
                    .files
                    .as_ref()
                    .map(|f| (f.directory.clone(), f.pattern.clone())),
            });
            programs.push(Watched {
                group: p.config.group.clone(),
                name: p.config.name.clone(),
                watch: watch.clone(),
                environment: p.config.environment.clone(),
                directory: p.config.directory.clone(),
                stopwaitsecs: p.config.stopwaitsecs.max(0) as u64,
            });
        }
        if targets.is_empty() {
            if let Some(set) = self.watch.set.take() {
                let _ = registry.deregister(&mut SourceFd(&set.notify().0.as_fd().as_raw_fd()));
            }
        } else if self.watch.set.is_none() {
            match Inotify::init(InitFlags::IN_NONBLOCK | InitFlags::IN_CLOEXEC) {
                Ok(fd) => {
                    let raw = fd.as_fd().as_raw_fd();
                    match registry.register(&mut SourceFd(&raw), INOTIFY, Interest::READABLE) {
                        Ok(()) => self.watch.set = Some(WatchSet::new(Kernel(fd))),
                        Err(e) => activity::error(format!(
                            "cannot watch files for restarts: poller: {}",
                            e
                        )),
                    }
                }
                Err(e) => activity::error(format!("cannot watch files for restarts: {}", e)),
            }
        }
        if let Some(set) = self.watch.set.as_mut() {
            set.set_targets(targets);
            activity::debug(format!(
                "watching {} directories for restarts on change",
                set.watched()
            ));
        }
        let keep = |k: &(String, String, Kind)| {
            programs
                .iter()
                .any(|w| w.group == k.0 && w.name == k.1 && w.on_change(k.2).is_some())
        };
        if let Some(d) = self.watch.debounce.as_mut() {
            d.retain(keep);
        }
        self.watch.programs = programs;
    }

    /// Every event inotify has queued, as changes.
    fn read_changes(&mut self) -> Vec<dirs::Change> {
        let Some(set) = self.watch.set.as_mut() else {
            return Vec::new();
        };
        let mut changes = Vec::new();
        loop {
            match set.notify().0.read_events() {
                Ok(events) if !events.is_empty() => {
                    let events = events
                        .into_iter()
                        .map(|e| Event {
                            wd: e.wd,
                            mask: e.mask,
                            name: e.name,
                        })
                        .collect();
                    changes.extend(set.on_events(events));
                }
                Ok(_) | Err(Errno::EAGAIN) => break,
                Err(Errno::EINTR) => continue,
                Err(e) => {
                    activity::error(format!("cannot read file changes: {}", e));
                    break;
                }
            }
        }
        changes
    }

    /// What a settled burst of changes leads to for one program.
    fn act(&mut self, group: &str, name: &str, kind: Kind, action: &OnChange, burst: &Burst) {
        let what = match burst.more {
            0 => format!("{} changed", burst.path.display()),
            n => format!("{} changed (and {} more)", burst.path.display(), n),
        };
        let Some(id) = self.find(group, name) else {
            return;
        };
        let state = self.state(id).unwrap_or(ProcessState::Unknown);
        if !matches!(
            state,
            ProcessState::Starting | ProcessState::Running | ProcessState::Backoff
        ) {
            activity::debug(format!(
                "not restarting {} ({}): {}",
                name,
                state.name(),
                what
            ));
            return;
        }
        match action {
            OnChange::Command(cmd) => {
                let running = self
                    .watch
                    .commands
                    .values_mut()
                    .find(|r| r.key.0 == group && r.key.1 == name && r.key.2 == kind);
                if let Some(run) = running {
                    activity::info(format!(
                        "restart command of {} still running, to run again when it ends: {}",
                        name, what
                    ));
                    run.again.get_or_insert_with(|| burst.path.clone());
                    return;
                }
                activity::info(format!("running the restart command of {}: {}", name, what));
                self.run_restart_command(group, name, kind, cmd);
            }
            OnChange::Signals(sigs) => {
                let pid = self.info(id).map(|i| i.pid).unwrap_or(0);
                let Some((&first, rest)) = sigs.split_first() else {
                    return;
                };
                if pid <= 0 {
                    activity::debug(format!("not signalling {} (no pid): {}", name, what));
                    return;
                }
                activity::info(format!(
                    "signalling {} with {}: {}",
                    name,
                    crate::config::datatypes::signal_name(first),
                    what
                ));
                self.watch
                    .signals
                    .retain(|s| !(s.group == group && s.name == name));
                signal_group(name, pid, first);
                if !rest.is_empty() {
                    let wait = Duration::from_secs(
                        self.watched(group, name).map_or(0, |w| w.stopwaitsecs),
                    );
                    self.watch.signals.push(SignalRun {
                        group: group.to_string(),
                        name: name.to_string(),
                        pid,
                        rest: rest.to_vec(),
                        wait,
                        due: Instant::now() + wait,
                    });
                }
            }
            OnChange::Restart => {
                activity::info(format!("restarting {}: {}", name, what));
                self.restart_for_change(id, name);
            }
        }
    }

    /// Stop, then start once stopped: what `supervisorctl restart` asks.
    pub(super) fn restart_for_change(&mut self, id: ProcessId, name: &str) {
        if let Err(e) = self.stop(id) {
            activity::warn(format!("cannot stop {} to restart it: {:?}", name, e));
            return;
        }
        let name = name.to_string();
        self.park(Box::new(move |sup: &mut Supervisor| {
            if !sup.stop_outcome(id) {
                return false;
            }
            // Removed meanwhile (update), or started by someone else.
            if sup.state(id).is_some_and(|s| !s.is_running()) {
                if let Err(e) = sup.start(id) {
                    activity::warn(format!("cannot start {} again: {:?}", name, e));
                }
            }
            true
        }));
    }

    /// The next signal of each run whose time has come, while the process
    /// it was meant for still lives.
    fn send_due_signals(&mut self, now: Instant) {
        let mut i = 0;
        while i < self.watch.signals.len() {
            if self.watch.signals[i].due > now {
                i += 1;
                continue;
            }
            let run = &mut self.watch.signals[i];
            let (group, name, pid) = (run.group.clone(), run.name.clone(), run.pid);
            let sig = run.rest.remove(0);
            run.due = now + run.wait;
            let finished = run.rest.is_empty();
            let same = self
                .find(&group, &name)
                .and_then(|id| self.info(id).map(|i| i.pid))
                == Some(pid);
            if same {
                activity::info(format!(
                    "signalling {} with {}",
                    name,
                    crate::config::datatypes::signal_name(sig)
                ));
                signal_group(&name, pid, sig);
            }
            if finished || !same {
                self.watch.signals.remove(i);
            } else {
                i += 1;
            }
        }
    }

    /// Starts `/bin/sh -c cmd` with the program's environment and
    /// directory; the loop reaps it and [`Watches::reaped`] logs its end.
    fn run_restart_command(&mut self, group: &str, name: &str, kind: Kind, cmd: &str) {
        let Some(w) = self.watched(group, name) else {
            return;
        };
        let mut c =
            super::spawn::program_shell(cmd, name, group, &w.environment, w.directory.as_deref());
        match c.spawn() {
            // Never waited for here: the loop's waitpid(-1) reaps it.
            Ok(child) => {
                let run = CommandRun {
                    key: (group.to_string(), name.to_string(), kind),
                    again: None,
                };
                self.watch.commands.insert(child.id() as i32, run);
            }
            Err(e) => activity::error(format!("cannot run the restart command of {}: {}", name, e)),
        }
    }
}

/// Sends `sig` to the process group of `pid` (every process of the
/// program, as Go does), or to `pid` alone if it leads no group.
fn signal_group(name: &str, pid: i32, sig: i32) {
    let sent =
        crate::sys::process::kill(-pid, sig).or_else(|_| crate::sys::process::kill(pid, sig));
    if let Err(e) = sent {
        activity::warn(format!(
            "cannot send {} to {} (pid {}): {}",
            crate::config::datatypes::signal_name(sig),
            name,
            pid,
            e
        ));
    }
}

/// The files of a program's command: argv[0] as a spawn resolves it
/// (PATH lookup), absolute; the links on its path; and the file it really
/// is (a release switched by a link is a change, and so is the release's
/// file rewritten).
fn binary_paths(config: &ProcessConfig, own_path: Option<&str>) -> Vec<PathBuf> {
    let path = match super::spawn::resolve_command(config, own_path) {
        Ok((path, _)) => path,
        Err(e) => {
            let argv0 = crate::pycompat::shlex::split(&config.command)
                .ok()
                .and_then(|a| a.into_iter().next());
            match argv0 {
                // Not there yet: its directory tells when it comes.
                Some(a) if a.contains('/') => PathBuf::from(a),
                _ => {
                    activity::warn(format!(
                        "cannot watch the command of {}: {}",
                        config.name, e.message
                    ));
                    return Vec::new();
                }
            }
        }
    };
    let path = absolute(&path);
    let mut out = vec![path.clone()];
    // Every link on the way (`current -> releases/v1`): switching one is
    // a rename in its own directory.
    for a in path.ancestors().skip(1) {
        if std::fs::symlink_metadata(a).is_ok_and(|m| m.file_type().is_symlink()) {
            out.push(a.to_path_buf());
        }
    }
    if let Ok(real) = std::fs::canonicalize(&path) {
        if !out.contains(&real) {
            out.push(real);
        }
    }
    out
}
