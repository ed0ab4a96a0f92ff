//! `depends_on` in the loop: a process is spawned only once each of its
//! dependencies is RUNNING, a start asks its dependencies to start first,
//! and stop all, group stops, shutdown and restart stop dependents before
//! what they depend on. The graph comes from config/depends.rs, rebuilt
//! whenever the loop's processes change (add, remove, update).
//!
//! Without any `depends_on` the graph is empty and every function here
//! returns at once: behaviour is Python's.

use super::api::{ProcessId, StopError};
use super::Supervisor;
use crate::config::depends::{Graph, Named};
use crate::logs::activity;
use crate::states::ProcessState;
use std::collections::HashMap;

/// The dependency graph over the loop's processes, by position.
#[derive(Default)]
pub(super) struct Deps {
    ids: Vec<ProcessId>,
    pos: HashMap<ProcessId, usize>,
    graph: Graph,
    /// Stops waiting for their dependents to stop first.
    deferred_stops: Vec<ProcessId>,
}

/// What a process's dependencies allow.
enum Gate {
    Open,
    /// A dependency on its way (or that a start may bring).
    Wait {
        text: String,
        startable: Vec<ProcessId>,
    },
    /// A dependency that went FATAL, or that is not loaded.
    Failed(String),
}

impl Supervisor {
    /// Rebuilds the graph from the processes the loop has now.
    pub(super) fn rebuild_dependencies(&mut self) {
        let mut ids = Vec::new();
        let mut named = Vec::new();
        let mut entries: Vec<&[String]> = Vec::new();
        for g in &self.groups {
            for p in &g.processes {
                ids.push(p.id);
                named.push(Named {
                    group: &g.config.name,
                    name: &p.config.name,
                    program: &p.config.program,
                });
                entries.push(&p.config.depends_on);
            }
        }
        let graph = if entries.iter().all(|e| e.is_empty()) {
            Graph::default()
        } else {
            Graph::build(&named, |i| entries[i])
        };
        let pos = ids.iter().enumerate().map(|(i, id)| (*id, i)).collect();
        let deferred_stops = std::mem::take(&mut self.deps.deferred_stops);
        self.deps = Deps {
            ids,
            pos,
            graph,
            deferred_stops,
        };
    }

    fn has_dependencies(&self) -> bool {
        !self.deps.graph.is_empty()
    }

    fn proc_ref(&self, id: ProcessId) -> Option<&super::process::Process> {
        let &(gi, pi) = self.index.get(&id)?;
        Some(&self.groups[gi].processes[pi])
    }

    fn proc_mut(&mut self, id: ProcessId) -> Option<&mut super::process::Process> {
        let &(gi, pi) = self.index.get(&id)?;
        Some(&mut self.groups[gi].processes[pi])
    }

    /// What `id`'s dependencies allow now.
    fn gate(&self, id: ProcessId) -> Gate {
        let Some(&at) = self.deps.pos.get(&id) else {
            return Gate::Open;
        };
        let Some(entries) = self.deps.graph.dependencies.get(at) else {
            return Gate::Open;
        };
        let mut wait: Option<String> = None;
        let mut startable = Vec::new();
        for (entry, found) in entries {
            if found.is_empty() {
                return Gate::Failed(format!("its dependency {} is not loaded", entry));
            }
            for &j in found {
                let dep_id = self.deps.ids[j];
                let Some(dep) = self.proc_ref(dep_id) else {
                    continue;
                };
                match dep.state {
                    ProcessState::Running => {}
                    ProcessState::Fatal if !dep.start_requested => {
                        return Gate::Failed(format!(
                            "its dependency {} is FATAL",
                            dep.config.namespec()
                        ));
                    }
                    state => {
                        if wait.is_none() {
                            wait = Some(format!(
                                "its dependency {} is {}",
                                dep.config.namespec(),
                                state.name()
                            ));
                        }
                        if matches!(state, ProcessState::Stopped | ProcessState::Exited)
                            && !dep.start_requested
                        {
                            startable.push(dep_id);
                        }
                    }
                }
            }
        }
        match wait {
            Some(text) => Gate::Wait { text, startable },
            None => Gate::Open,
        }
    }

    /// Before the transitions of a pass: sets what each process waits for,
    /// asks the dependencies of a process about to start to start too, and
    /// gives up a start whose dependency failed. Each reason is logged once.
    pub(super) fn hold_for_dependencies(&mut self) {
        if !self.has_dependencies() {
            return;
        }
        let ids = self.deps.ids.clone();
        for id in ids {
            let gate = self.gate(id);
            let Some(p) = self.proc_ref(id) else {
                continue;
            };
            // A start it is about to make on its own or was asked for.
            let wants_start = p.start_requested
                || (p.state == ProcessState::Stopped
                    && p.laststart.is_none()
                    && p.config.autostart);
            let name = p.config.name.clone();
            match gate {
                Gate::Open => {
                    if let Some(p) = self.proc_mut(id) {
                        p.waiting_for = None;
                        p.waiting_logged = None;
                    }
                }
                Gate::Wait { text, startable } => {
                    if wants_start && self.mood > crate::states::Mood::Restarting {
                        for dep in startable {
                            self.request_start(dep);
                        }
                    }
                    self.hold(id, &name, text, false);
                }
                Gate::Failed(text) => {
                    let refused = wants_start;
                    if let Some(p) = self.proc_mut(id) {
                        if refused {
                            p.start_requested = false;
                            p.start_refused = Some(text.clone());
                        }
                    }
                    self.hold(id, &name, text, refused);
                }
            }
        }
    }

    /// Holds `id` for `why`, logging it once.
    fn hold(&mut self, id: ProcessId, name: &str, why: String, refused: bool) {
        let Some(p) = self.proc_mut(id) else {
            return;
        };
        let logged = p.waiting_logged.as_deref() == Some(why.as_str());
        p.waiting_for = Some(why.clone());
        if logged {
            return;
        }
        p.waiting_logged = Some(why.clone());
        let wanted = refused
            || p.start_requested
            || p.state == ProcessState::Exited
            || p.state == ProcessState::Backoff
            || (p.state == ProcessState::Stopped && p.laststart.is_none() && p.config.autostart);
        if refused {
            activity::warn(format!("not starting {}: {}", name, why));
        } else if wanted {
            activity::info(format!("{} waits to start: {}", name, why));
        }
    }

    /// A start of `id` once its dependencies are RUNNING; the ones that
    /// are stopped are asked to start as well.
    pub(super) fn request_start(&mut self, id: ProcessId) {
        let Some(p) = self.proc_mut(id) else {
            return;
        };
        if p.start_requested || p.state.is_running() || p.state == ProcessState::Stopping {
            return;
        }
        p.start_requested = true;
        p.start_refused = None;
        self.again = true;
        if let Gate::Wait { startable, .. } = self.gate(id) {
            for dep in startable {
                self.request_start(dep);
            }
        }
    }

    /// startProcess of a process whose dependencies are not RUNNING: the
    /// start is requested (dependencies first) and Ok; None when they are
    /// all RUNNING, for the caller to spawn at once.
    pub(super) fn start_after_dependencies(&mut self, id: ProcessId) -> Option<()> {
        if !self.has_dependencies() {
            return None;
        }
        // A manual start may bring a FATAL dependency back, too.
        if let Some(&at) = self.deps.pos.get(&id) {
            let found: Vec<usize> = self.deps.graph.dependencies[at]
                .iter()
                .flat_map(|(_, f)| f.iter().copied())
                .collect();
            for j in found {
                let dep = self.deps.ids[j];
                if self.proc_ref(dep).map(|d| d.state) == Some(ProcessState::Fatal) {
                    self.request_start(dep);
                }
            }
        }
        match self.gate(id) {
            Gate::Open => None,
            Gate::Wait { .. } | Gate::Failed(_) => {
                self.request_start(id);
                if let Some(p) = self.proc_mut(id) {
                    p.waiting_logged = None;
                }
                Some(())
            }
        }
    }

    /// The processes that depend on `id` and are not stopped.
    fn unstopped_dependents(&self, id: ProcessId) -> Vec<ProcessId> {
        let Some(&at) = self.deps.pos.get(&id) else {
            return Vec::new();
        };
        let Some(dependents) = self.deps.graph.dependents.get(at) else {
            return Vec::new();
        };
        dependents
            .iter()
            .map(|&j| self.deps.ids[j])
            .filter(|&d| self.proc_ref(d).is_some_and(|p| !p.state.is_stopped()))
            .collect()
    }

    /// Stops `id` once what depends on it has stopped (stop all, group
    /// stops): Ok at once either way; a deferred stop is sent by the loop.
    pub fn stop_after_dependents(&mut self, id: ProcessId) -> Result<(), StopError> {
        if !self.has_dependencies() || self.unstopped_dependents(id).is_empty() {
            return self.stop(id);
        }
        if !self.proc_ref(id).is_some_and(|p| p.state.is_running()) {
            return Err(StopError::NotRunning);
        }
        if let Some(p) = self.proc_mut(id) {
            // No restart while it waits to be stopped.
            p.start_requested = false;
        }
        if !self.deps.deferred_stops.contains(&id) {
            self.deps.deferred_stops.push(id);
        }
        Ok(())
    }

    /// Sends the deferred stops whose dependents have all stopped.
    pub(super) fn run_deferred_stops(&mut self) {
        if self.deps.deferred_stops.is_empty() {
            return;
        }
        let pending = std::mem::take(&mut self.deps.deferred_stops);
        for id in pending {
            let Some(state) = self.proc_ref(id).map(|p| p.state) else {
                continue;
            };
            if state.is_stopped() || state == ProcessState::Stopping {
                continue;
            }
            if self.unstopped_dependents(id).is_empty() {
                match state {
                    ProcessState::Backoff => {
                        if let Some(&(gi, pi)) = self.index.get(&id) {
                            self.with_process(gi, pi, |p, fx| p.give_up(fx));
                        }
                    }
                    _ => {
                        let _ = self.stop(id);
                    }
                }
                self.again = true;
            } else {
                self.deps.deferred_stops.push(id);
            }
        }
    }

    /// Shutdown and restart: stops `id`, or first the processes that
    /// depend on it (theirs first, and so on down). True when `id` itself
    /// was dealt with now.
    pub(super) fn stop_dependents_first(&mut self, id: ProcessId) -> bool {
        let dependents = if self.has_dependencies() {
            self.unstopped_dependents(id)
        } else {
            Vec::new()
        };
        if dependents.is_empty() {
            self.shutdown_stop(id);
            return true;
        }
        for d in dependents {
            self.stop_dependents_first(d);
        }
        false
    }

    /// The shutdown's stop of one process: the stop signal when it runs,
    /// the end of the retries in BACKOFF.
    fn shutdown_stop(&mut self, id: ProcessId) {
        let Some(&(gi, pi)) = self.index.get(&id) else {
            return;
        };
        match self.groups[gi].processes[pi].state {
            ProcessState::Running | ProcessState::Starting => {
                self.with_process(gi, pi, |p, fx| p.stop(fx));
            }
            ProcessState::Backoff => self.with_process(gi, pi, |p, fx| p.give_up(fx)),
            _ => {}
        }
    }
}
