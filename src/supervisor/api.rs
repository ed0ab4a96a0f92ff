//! The loop's named API for jobs: what another thread's job may ask of
//! the loop (find a process, start, stop, signal it, read its info, add
//! and remove groups). Jobs run on the loop thread; these methods are the
//! only way they reach process state. Errors are plain enums: what a
//! wire format makes of them (XML-RPC faults) is the caller's business.

use super::spawn::SpawnErrorKind;
use super::{Group, Supervisor};
use crate::config::GroupConfig;
use crate::logs::pump::Channel;
use crate::states::{Mood, ProcessState};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// A process's identity for as long as its group is in the loop. Unlike
/// an index, it survives groups being added, removed or reordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ProcessId(pub(super) u64);

/// The order of [`Supervisor::processes`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    /// Groups by (priority, name), each group's processes by priority:
    /// Python's `_getAllProcesses()`.
    Priority,
    /// Groups by name, each group's processes by name.
    Name,
}

/// What can be read of one process (getProcessInfo's facts).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessInfo<'a> {
    pub name: &'a str,
    pub group: &'a str,
    pub state: ProcessState,
    pub pid: i32,
    pub start: Option<SystemTime>,
    pub stop: Option<SystemTime>,
    pub spawnerr: Option<&'a str>,
    pub exitstatus: Option<i32>,
    pub stdout_logfile: Option<&'a Path>,
    pub stderr_logfile: Option<&'a Path>,
    /// Its health checks failed `healthcheck_retries` times in a row.
    pub unhealthy: bool,
}

/// Why [`Supervisor::start`] did not start a process, or a waited-for
/// start did not reach RUNNING.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StartError {
    /// The command does not exist (the message says which).
    NoFile(String),
    /// The command is not an executable file.
    NotExecutable(String),
    AlreadyStarted,
    /// The process is in the UNKNOWN state.
    UnknownState,
    /// The spawn failed (spawnerr is set).
    SpawnError,
    /// It left STARTING for a state other than RUNNING.
    Abnormal,
    /// It waited for a dependency that failed (`depends_on`); says which.
    Dependency(String),
}

/// Why a stop or a signal was not sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StopError {
    NotRunning,
    /// kill(2) failed; the message is the one logged.
    Failed(String),
}

/// Why bytes could not be written to a process's stdin.
#[derive(Debug)]
pub enum StdinError {
    NotRunning,
    /// The process closed its stdin (EPIPE).
    Closed,
    Failed(std::io::Error),
}

/// Why a group could not be added or removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupError {
    /// No such group (in the config, or in the loop).
    BadName,
    AlreadyAdded,
    /// Some of its processes are not stopped.
    StillRunning,
}

impl Supervisor {
    /// The daemon's state.
    pub fn mood(&self) -> Mood {
        self.mood
    }

    /// `[supervisord] identifier`.
    pub fn identifier(&self) -> &str {
        &self.config.supervisord.identifier
    }

    /// Whether a group of that name is in the loop.
    pub fn has_group(&self, name: &str) -> bool {
        self.group_index(name).is_some()
    }

    /// The process `name` of group `group`.
    pub fn find(&self, group: &str, name: &str) -> Option<ProcessId> {
        self.process_index(group, name)
            .map(|(gi, pi)| self.groups[gi].processes[pi].id)
    }

    /// A group's processes by priority (stable for equal priorities).
    pub fn members(&self, group: &str) -> Option<Vec<ProcessId>> {
        let g = &self.groups[self.group_index(group)?];
        Some(by_priority(g))
    }

    /// Every process, in `order`.
    pub fn processes(&self, order: Order) -> Vec<ProcessId> {
        match order {
            Order::Priority => self.groups.iter().flat_map(by_priority).collect(),
            Order::Name => {
                let mut groups: Vec<&Group> = self.groups.iter().collect();
                groups.sort_by(|a, b| a.config.name.cmp(&b.config.name));
                groups
                    .into_iter()
                    .flat_map(|g| {
                        let mut procs: Vec<_> = g.processes.iter().collect();
                        procs.sort_by(|a, b| a.config.name.cmp(&b.config.name));
                        procs.into_iter().map(|p| p.id)
                    })
                    .collect()
            }
        }
    }

    fn process(&self, id: ProcessId) -> Option<&super::process::Process> {
        let &(gi, pi) = self.index.get(&id)?;
        Some(&self.groups[gi].processes[pi])
    }

    /// A process's state; None once its group has left the loop.
    pub fn state(&self, id: ProcessId) -> Option<ProcessState> {
        self.process(id).map(|p| p.state)
    }

    /// The facts getProcessInfo reports.
    pub fn info(&self, id: ProcessId) -> Option<ProcessInfo<'_>> {
        let &(gi, pi) = self.index.get(&id)?;
        let g = &self.groups[gi];
        let p = &g.processes[pi];
        Some(ProcessInfo {
            name: &p.config.name,
            group: &g.config.name,
            state: p.state,
            pid: p.pid,
            start: p.laststart.map(|(_, wall)| wall),
            stop: p.laststop,
            spawnerr: p.spawnerr.as_deref(),
            exitstatus: p.exitstatus,
            stdout_logfile: p.stdout_path.as_deref(),
            stderr_logfile: p.stderr_path.as_deref(),
            unhealthy: p.health.unhealthy,
        })
    }

    /// Starts a stopped process (startProcess): checks the command first,
    /// spawns, and reaps at once so a child that died at once is seen at
    /// once, as Python does. Ok means it is STARTING or already RUNNING
    /// (startsecs=0); [`Supervisor::start_outcome`] tells how it ends.
    pub fn start(&mut self, id: ProcessId) -> Result<(), StartError> {
        let &(gi, pi) = self.index.get(&id).ok_or(StartError::Abnormal)?;
        let p = &self.groups[gi].processes[pi];
        if let Err(e) = super::spawn::resolve_command(&p.config, self.own_path.as_deref()) {
            return Err(match e.kind {
                SpawnErrorKind::NotFound => StartError::NoFile(e.message),
                _ => StartError::NotExecutable(e.message),
            });
        }
        if p.state.is_running() {
            return Err(StartError::AlreadyStarted);
        }
        if p.state == ProcessState::Unknown {
            return Err(StartError::UnknownState);
        }
        if self.start_after_dependencies(id).is_some() {
            // Spawned by the loop once its dependencies are RUNNING.
            return Ok(());
        }
        let _ = self.with_process(gi, pi, |p, fx| p.spawn(fx));
        self.reap();
        if self.process(id).is_none_or(|p| p.spawnerr.is_some()) {
            return Err(StartError::SpawnError);
        }
        self.with_process(gi, pi, |p, fx| p.transition(fx));
        Ok(())
    }

    /// How a start is going: None while STARTING, Ok once RUNNING.
    pub fn start_outcome(&self, id: ProcessId) -> Option<Result<(), StartError>> {
        let Some(p) = self.process(id) else {
            return Some(Err(StartError::Abnormal));
        };
        if p.start_requested {
            // Waiting for its dependencies.
            return None;
        }
        if let Some(why) = &p.start_refused {
            return Some(Err(StartError::Dependency(why.clone())));
        }
        if p.spawnerr.is_some() {
            return Some(Err(StartError::SpawnError));
        }
        match p.state {
            ProcessState::Starting => None,
            ProcessState::Running => Some(Ok(())),
            _ => Some(Err(StartError::Abnormal)),
        }
    }

    /// Stops a running process (stopProcess): the stop signal now,
    /// SIGKILL after stopwaitsecs. Unlike Python's stopProcess, it does not
    /// reap at once: in a group stop, that reap would find the members
    /// that exited meanwhile, leave them EXITED (so skipped) and about to
    /// restart, and a crash-looping group could not be stopped in one go.
    /// The loop reaps the stopped child on its next pass.
    pub fn stop(&mut self, id: ProcessId) -> Result<(), StopError> {
        let &(gi, pi) = self.index.get(&id).ok_or(StopError::NotRunning)?;
        if !self.groups[gi].processes[pi].state.is_running() {
            return Err(StopError::NotRunning);
        }
        match self.with_process(gi, pi, |p, fx| p.stop(fx)) {
            Some(msg) => Err(StopError::Failed(msg)),
            None => Ok(()),
        }
    }

    /// Whether a stop has ended (or the process has gone); while it has
    /// not, logs "waiting for x to stop" every 2 s, as Python does for
    /// a waiting stopProcess.
    pub fn stop_outcome(&mut self, id: ProcessId) -> bool {
        let Some(&(gi, pi)) = self.index.get(&id) else {
            return true;
        };
        let p = &mut self.groups[gi].processes[pi];
        p.stop_report();
        p.state.is_stopped()
    }

    /// Sends `sig` to a process that has a pid (signalProcess).
    pub fn signal(&mut self, id: ProcessId, sig: i32) -> Result<(), StopError> {
        let &(gi, pi) = self.index.get(&id).ok_or(StopError::NotRunning)?;
        if !self.groups[gi].processes[pi].state.is_signallable() {
            return Err(StopError::NotRunning);
        }
        match self.with_process(gi, pi, |p, fx| p.signal(sig, fx)) {
            Some(msg) => Err(StopError::Failed(msg)),
            None => Ok(()),
        }
    }

    /// The file behind a process's stdout or stderr log, if any.
    pub fn log_path(&self, id: ProcessId, channel: Channel) -> Option<PathBuf> {
        let p = self.process(id)?;
        match channel {
            Channel::Stdout => p.stdout_path.clone(),
            Channel::Stderr => p.stderr_path.clone(),
        }
    }

    /// clearProcessLogs: both logs removed and opened anew.
    pub fn clear_logs(&self, id: ProcessId) -> std::io::Result<()> {
        match self.process(id) {
            Some(p) => p.clear_logs(),
            None => Ok(()),
        }
    }

    /// sendProcessStdin.
    pub fn write_stdin(&mut self, id: ProcessId, data: &[u8]) -> Result<(), StdinError> {
        let &(gi, pi) = self.index.get(&id).ok_or(StdinError::NotRunning)?;
        let p = &mut self.groups[gi].processes[pi];
        if p.pid == 0 || p.killing {
            return Err(StdinError::NotRunning);
        }
        match p.write_stdin(data) {
            Ok(()) => Ok(()),
            Err(e) if e.raw_os_error() == Some(libc::EPIPE) => Err(StdinError::Closed),
            Err(e) => Err(StdinError::Failed(e)),
        }
    }

    /// addProcessGroup: the group of that name from the config last read.
    pub fn add_configured_group(&mut self, name: &str) -> Result<(), GroupError> {
        let Some(cfg) = self.config.groups.iter().find(|g| g.name == name).cloned() else {
            return Err(GroupError::BadName);
        };
        if self.add_group(cfg) {
            Ok(())
        } else {
            Err(GroupError::AlreadyAdded)
        }
    }

    /// The groups of the config last read (getAllConfigInfo), whether
    /// they are in the loop or not.
    pub fn configured_groups(&self) -> &[GroupConfig] {
        &self.config.groups
    }

    /// The resolved (stdout, stderr) log files of a process whose group
    /// was made from the config last read; None for a group made from an
    /// older one (Python resolves AUTO names on the config object, so only
    /// the current config's groups show them).
    pub fn resolved_logs(&self, group: &str, name: &str) -> Option<(Option<&Path>, Option<&Path>)> {
        let (gi, pi) = self.process_index(group, name)?;
        if self.groups[gi].generation != self.config_generation {
            return None;
        }
        let p = &self.groups[gi].processes[pi];
        Some((p.stdout_path.as_deref(), p.stderr_path.as_deref()))
    }
}

/// A group's process ids by priority; the sort is stable.
fn by_priority(g: &Group) -> Vec<ProcessId> {
    let mut procs: Vec<_> = g.processes.iter().collect();
    procs.sort_by_key(|p| p.config.priority);
    procs.into_iter().map(|p| p.id).collect()
}
