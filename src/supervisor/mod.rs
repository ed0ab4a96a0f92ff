//! The supervisor loop: owns every process, group and listener; woken only
//! by signals (a self-pipe), messages from other threads (a channel and a
//! `mio::Waker`) and the nearest deadline. Nothing here knows a wire format
//! or a transport: other threads send [`Job`]s through a [`LoopHandle`],
//! and a job reaches process state only through the named methods of
//! `api.rs` (find, start, stop, signal, info…); every field is private.
//! (When a program uses the restart-on-change keys, an inotify fd wakes
//! it too: `watch.rs`.)
//!
//! The rule for imports: this module uses only `config`, `events`, `logs`,
//! `states`, `sys` and `pycompat`. The daemon's lifecycle (`crate::daemon`) builds
//! the loop and hands it what it needs (its config, a [`Reload`] function,
//! its [`Wakeups`]); `rpc` and `http` sit above it and it knows neither.
//!
//! `process.rs` holds one process's state machine; its decisions get the
//! time and the OS (spawn, kill: `launch.rs`) passed in, so they are
//! tested with a fake OS and a clock the test moves.

mod api;
mod deps;
mod exit_on;
mod health;
mod launch;
mod process;
pub mod spawn;
pub mod state;
pub mod stdin;
mod update;
mod watch;

use crate::config::{Config, GroupConfig, GroupKind};
use crate::events::listener::ListenerState;
use crate::events::pool::Pool;
use crate::events::{self, EventType};
use crate::logs::activity;
use crate::logs::pump::{Channel, PumpEvent};
use crate::states::{Mood, ProcessState};
pub use api::{GroupError, Order, ProcessId, ProcessInfo, StartError, StdinError, StopError};
use mio::{Events, Interest, Poll, Token, Waker};
use process::{Effects, Process, StateChange};
use signal_hook::consts::{SIGCHLD, SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR2};
use signal_hook_mio::v1_0::Signals;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Work for the loop, sent from another thread; it runs with the loop's
/// state and replies on a channel of its own if it needs to.
pub type Job = Box<dyn FnOnce(&mut Supervisor) + Send>;

/// A parked reply (`wait=true`): run after every loop iteration until it
/// returns true (done), so it never blocks the loop.
pub type Waiter = Box<dyn FnMut(&mut Supervisor) -> bool + Send>;

/// How other threads reach the loop.
#[derive(Clone)]
pub struct LoopHandle {
    tx: mpsc::Sender<Job>,
    pump_tx: mpsc::Sender<PumpMsg>,
    waker: Arc<Waker>,
    /// The loop's mood as it publishes it ([`Supervisor::set_mood`]), so
    /// that calls answered by the mood alone (getState) need no trip to
    /// the loop and back.
    mood: Arc<AtomicU8>,
}

/// Output from a child's pump. Kept apart from jobs so the loop can take
/// a reaped child's last output before acting on its exit, as Python
/// reads its pipes before it reaps.
struct PumpMsg {
    group: String,
    name: String,
    pid: i32,
    ev: PumpEvent,
}

impl LoopHandle {
    /// The loop's mood, as last published: set before the loop answers
    /// the call that changed it, so no client sees the old one after.
    pub fn mood(&self) -> Mood {
        Mood::from_u8(self.mood.load(Ordering::SeqCst))
    }

    /// Queues a job and wakes the loop. Err if the loop has gone.
    pub fn send(&self, job: Job) -> Result<(), LoopGone> {
        self.tx.send(job).map_err(|_| LoopGone)?;
        self.waker.wake().map_err(|_| LoopGone)
    }
}

/// Reads the config file again (reloadConfig, `reread`); the daemon
/// gives the loop this, so the loop need not know the command line.
pub type Reload = Box<dyn Fn() -> Result<Config, String> + Send>;

/// What wakes the loop: the signal self-pipe and the waker other threads
/// use, on one poller. Made before the daemon forks into the background,
/// so no signal sent to the new pid is missed.
pub struct Wakeups {
    poll: Poll,
    signals: Signals,
    waker: Arc<Waker>,
}

impl Wakeups {
    /// Installs the signal handlers; the error says what failed.
    pub fn new() -> Result<Wakeups, String> {
        let mut signals = Signals::new([SIGTERM, SIGINT, SIGQUIT, SIGHUP, SIGUSR2, SIGCHLD])
            .map_err(|e| format!("cannot install signal handlers: {}", e))?;
        let poll = Poll::new().map_err(|e| format!("cannot create poller: {}", e))?;
        poll.registry()
            .register(&mut signals, SIGNALS, Interest::READABLE)
            .map_err(|e| format!("cannot watch signals: {}", e))?;
        let waker = Waker::new(poll.registry(), WAKER)
            .map(Arc::new)
            .map_err(|e| format!("cannot create waker: {}", e))?;
        Ok(Wakeups {
            poll,
            signals,
            waker,
        })
    }
}

/// The loop has exited (shutdown or restart); the job was not run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoopGone;

const SIGNALS: Token = Token(0);

/// How long shutdown waits for event listeners to take the last events.
const LISTENER_GRACE: Duration = Duration::from_secs(3);
const WAKER: Token = Token(1);

/// A process group and its processes (in start order).
struct Group {
    config: GroupConfig,
    processes: Vec<Process>,
    /// The config generation the group was made from (see
    /// [`Supervisor::config_generation`]).
    generation: u64,
    /// The event buffer of an `[eventlistener:x]` pool.
    pool: Option<Pool>,
}

impl Group {
    fn unstopped(&self) -> Vec<&Process> {
        self.processes
            .iter()
            .filter(|p| !p.state.is_stopped())
            .collect()
    }
}

/// The loop's state. Jobs sent by other threads reach it through the
/// named methods of `api.rs`; nothing else is public.
pub struct Supervisor {
    config: Config,
    groups: Vec<Group>,
    /// Where each process is in `groups`, by id; rebuilt whenever groups
    /// are added, removed or reordered.
    index: std::collections::HashMap<ProcessId, (usize, usize)>,
    /// The id the next process made gets.
    next_id: u64,
    /// Written only through `set_mood`, which publishes it.
    mood: Mood,
    stopping: bool,
    stop_groups: Vec<String>,
    last_shutdown_report: Option<Instant>,
    waiters: Vec<Waiter>,
    /// State changes not yet handed to waiters/events.
    changes: Vec<StateChange>,
    handle: LoopHandle,
    rx: mpsc::Receiver<Job>,
    pump_rx: mpsc::Receiver<PumpMsg>,
    /// The poller and the signal self-pipe; taken while the loop runs.
    wakeups: Option<(Poll, Signals)>,
    own_path: Option<String>,
    /// SUPERVISOR_SERVER_URL for children, computed once per config.
    server_url: Option<String>,
    /// Run the loop again right away (something changed).
    again: bool,
    /// The current time slice of each TICK period in use.
    ticks: std::collections::BTreeMap<u64, u64>,
    /// When shutdown stops waiting for busy event listeners.
    listener_grace: Option<Instant>,
    /// Reads the config again, for reread.
    reload: Reload,
    /// Bumped by every reread: groups made from the current
    /// `config.groups` carry the same number (getAllConfigInfo shows the
    /// resolved AUTO log names only for those, as Python does).
    config_generation: u64,
    /// `depends_on` between the processes above (see deps.rs).
    deps: deps::Deps,
    /// Set when an `exit_on` failure shut the daemon down.
    exit_status: Option<i32>,
    /// Restart on change (watch.rs): inotify, debounce, actions.
    watch: watch::Watches,
}

impl Supervisor {
    /// The loop for `config`, with its groups made (nothing runs before
    /// [`Supervisor::run`]).
    pub fn new(config: Config, wakeups: Wakeups, reload: Reload) -> Supervisor {
        let (tx, rx) = mpsc::channel();
        let (pump_tx, pump_rx) = mpsc::channel();
        let handle = LoopHandle {
            tx,
            pump_tx,
            waker: wakeups.waker,
            mood: Arc::new(AtomicU8::new(Mood::Running.to_u8())),
        };
        let mut sup = Supervisor {
            config,
            groups: Vec::new(),
            index: std::collections::HashMap::new(),
            next_id: 0,
            mood: Mood::Running,
            stopping: false,
            stop_groups: Vec::new(),
            last_shutdown_report: None,
            waiters: Vec::new(),
            changes: Vec::new(),
            handle,
            rx,
            pump_rx,
            wakeups: Some((wakeups.poll, wakeups.signals)),
            own_path: std::env::var("PATH").ok(),
            server_url: None,
            again: true,
            ticks: std::collections::BTreeMap::new(),
            listener_grace: None,
            reload,
            config_generation: 0,
            deps: deps::Deps::default(),
            exit_status: None,
            watch: watch::Watches::default(),
        };
        sup.server_url = sup.config.server_url();
        let groups = sup.config.groups.clone();
        for g in groups {
            sup.add_group(g);
        }
        sup
    }

    /// Runs until shutdown or restart; returns the mood it ended in.
    pub fn run(&mut self) -> Mood {
        let Some((mut poll, mut signals)) = self.wakeups.take() else {
            return self.mood;
        };
        self.main_loop(&mut poll, &mut signals)
    }

    /// A handle other threads use to send jobs to this loop.
    pub fn handle(&self) -> LoopHandle {
        self.handle.clone()
    }

    /// Adds a group from its config (autostart happens on the next pass).
    /// False if a group of that name exists.
    fn add_group(&mut self, config: GroupConfig) -> bool {
        if self.groups.iter().any(|g| g.config.name == config.name) {
            return false;
        }
        let s = &self.config.supervisord;
        let first = self.next_id;
        let processes: Vec<Process> = config
            .processes
            .iter()
            .zip(first..)
            .map(|(p, id)| Process::new(ProcessId(id), p.clone(), &s.childlogdir, &s.identifier))
            .collect();
        self.next_id += processes.len() as u64;
        let pool = match &config.kind {
            GroupKind::EventListenerPool {
                events,
                buffer_size,
            } => Some(Pool::new(&config.name, events, *buffer_size)),
            _ => None,
        };
        let name = config.name.clone();
        self.groups.push(Group {
            config,
            processes,
            generation: self.config_generation,
            pool,
        });
        self.sort_groups();
        self.again = true;
        self.notify(EventType::ProcessGroupAdded, || {
            events::group_payload(&name)
        });
        true
    }

    /// Removes a stopped group.
    pub fn remove_group(&mut self, name: &str) -> Result<(), GroupError> {
        let Some(i) = self.group_index(name) else {
            return Err(GroupError::BadName);
        };
        if !self.groups[i].unstopped().is_empty() {
            return Err(GroupError::StillRunning);
        }
        let g = self.groups.remove(i);
        self.reindex();
        for p in &g.processes {
            p.remove_auto_logs();
        }
        self.notify(EventType::ProcessGroupRemoved, || {
            events::group_payload(name)
        });
        Ok(())
    }

    fn sort_groups(&mut self) {
        self.groups.sort_by(|a, b| {
            (a.config.priority, &a.config.name).cmp(&(b.config.priority, &b.config.name))
        });
        self.reindex();
    }

    fn reindex(&mut self) {
        self.watch.mark_stale();
        self.index.clear();
        for (gi, g) in self.groups.iter().enumerate() {
            for (pi, p) in g.processes.iter().enumerate() {
                self.index.insert(p.id, (gi, pi));
            }
        }
        self.rebuild_dependencies();
    }

    /// The index of the active group called `name`.
    fn group_index(&self, name: &str) -> Option<usize> {
        self.groups.iter().position(|g| g.config.name == name)
    }

    /// The (group, process) indexes of an active process.
    fn process_index(&self, group: &str, name: &str) -> Option<(usize, usize)> {
        let gi = self.group_index(group)?;
        let pi = self.groups[gi]
            .processes
            .iter()
            .position(|p| p.config.name == name)?;
        Some((gi, pi))
    }

    /// `reloadConfig`: reads the config file again and keeps its groups as
    /// the ones `addProcessGroup` draws from; nothing running changes.
    /// Returns the names of the groups added, changed and removed compared
    /// with the active ones, or the config error.
    pub fn reread(&mut self) -> Result<[Vec<String>; 3], String> {
        let fresh = (self.reload)()?;
        self.config.groups = fresh.groups;
        self.config_generation += 1;
        let new = &self.config.groups;
        let added = new
            .iter()
            .filter(|c| self.group_index(&c.name).is_none())
            .map(|c| c.name.clone())
            .collect();
        let changed = new
            .iter()
            .filter(|c| {
                self.group_index(&c.name)
                    .is_some_and(|gi| self.groups[gi].config != **c)
            })
            .map(|c| c.name.clone())
            .collect();
        let removed = self
            .groups
            .iter()
            .filter(|g| !new.iter().any(|c| c.name == g.config.name))
            .map(|g| g.config.name.clone())
            .collect();
        Ok([added, changed, removed])
    }

    /// A REMOTE_COMMUNICATION event from `sendRemoteCommEvent`.
    pub fn remote_communication(&mut self, kind: &str, data: &str) {
        self.notify(EventType::RemoteCommunication, || {
            events::remote_communication_payload(kind, data)
        });
    }

    /// Python's `notify()`: every pool subscribed to `kind` buffers the
    /// event; the payload is made only if some pool wants it.
    fn notify(&mut self, kind: EventType, payload: impl FnOnce() -> String) {
        // Only a buffered event needs another pass (to be dispatched).
        let taken = events::pool::notify(
            self.groups.iter_mut().filter_map(|g| g.pool.as_mut()),
            kind,
            payload,
        );
        self.again |= taken;
    }

    /// Parks a waiter, run after each iteration until it says it is done.
    pub fn park(&mut self, waiter: Waiter) {
        self.waiters.push(waiter);
        self.again = true;
    }

    /// Asks for shutdown (TERM, INT, QUIT, supervisor.shutdown).
    pub fn request_shutdown(&mut self) {
        self.set_mood(Mood::Shutdown);
        self.again = true;
    }

    /// Asks for a restart (HUP, supervisor.restart).
    pub fn request_restart(&mut self) {
        if self.mood > Mood::Restarting {
            self.set_mood(Mood::Restarting);
        }
        self.again = true;
    }

    /// Changes the mood and publishes it to the HTTP threads at once.
    fn set_mood(&mut self, mood: Mood) {
        self.mood = mood;
        self.handle.mood.store(mood.to_u8(), Ordering::SeqCst);
    }

    /// Runs `f` on one process with the effects context, then hands the
    /// state changes it made to the event system.
    fn with_process<R>(
        &mut self,
        group: usize,
        index: usize,
        f: impl FnOnce(&mut Process, &mut Effects) -> R,
    ) -> R {
        let notifier = self.pump_notifier();
        let before = self.changes.len();
        let mut os = launch::Launcher {
            server_url: self.server_url.as_deref(),
            own_path: self.own_path.as_deref(),
            strip_ansi: self.config.supervisord.strip_ansi,
            pump_notifier: &notifier,
        };
        let mut fx = Effects {
            mood: self.mood,
            now: Instant::now(),
            wall: std::time::SystemTime::now(),
            os: &mut os,
            changes: &mut self.changes,
        };
        let result = f(&mut self.groups[group].processes[index], &mut fx);
        // Python notifies in change_state itself; these are the same
        // events, in the same order, right after the action.
        for i in before..self.changes.len() {
            let c = self.changes[i].clone();
            self.notify(EventType::for_state(c.to), || {
                events::process_state_payload(
                    &events::ProcessRef {
                        name: &c.name,
                        group: &c.group,
                    },
                    c.to,
                    c.from,
                    c.expected,
                    c.pid,
                    c.tries,
                )
            });
        }
        result
    }

    fn pump_notifier(&self) -> impl Fn(String, String, i32) -> Box<dyn FnMut(PumpEvent) + Send> {
        let handle = self.handle.clone();
        move |group: String, name: String, pid: i32| {
            let handle = handle.clone();
            Box::new(move |ev: PumpEvent| {
                let msg = PumpMsg {
                    group: group.clone(),
                    name: name.clone(),
                    pid,
                    ev,
                };
                if handle.pump_tx.send(msg).is_ok() {
                    let _ = handle.waker.wake();
                }
            }) as Box<dyn FnMut(PumpEvent) + Send>
        }
    }

    /// Acts on the output the pumps have handed over so far.
    fn pump_messages(&mut self) {
        while let Ok(m) = self.pump_rx.try_recv() {
            self.on_pump_event(&m.group, &m.name, m.pid, m.ev);
        }
    }

    /// Has a reaped child's pump read what is left in its pipes and waits
    /// (a bounded time) until that output has been acted on, so its events
    /// come before the exit's, as in Python.
    fn drain_pump(&mut self, gi: usize, pi: usize) {
        let p = &mut self.groups[gi].processes[pi];
        let Some(stop) = p.take_pump_stop() else {
            return;
        };
        let (group, name, pid) = (p.config.group.clone(), p.config.name.clone(), p.pid);
        stop.drain_and_stop();
        let deadline = Instant::now() + Duration::from_secs(1);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let Ok(m) = self.pump_rx.recv_timeout(left) else {
                return;
            };
            let last = m.pid == pid
                && m.name == name
                && m.group == group
                && matches!(m.ev, PumpEvent::Closed);
            self.on_pump_event(&m.group, &m.name, m.pid, m.ev);
            if last {
                return;
            }
        }
    }

    /// What a pump handed to the loop: a listener's protocol bytes, or
    /// output for PROCESS_LOG / PROCESS_COMMUNICATION events.
    fn on_pump_event(&mut self, group: &str, name: &str, pid: i32, ev: PumpEvent) {
        let Some((gi, pi)) = self.process_index(group, name) else {
            return;
        };
        match ev {
            PumpEvent::Closed => {
                let p = &mut self.groups[gi].processes[pi];
                if p.pid == pid {
                    // Nothing left to drain when it is reaped.
                    drop(p.take_pump_stop());
                }
                activity::debug(format!("output of '{}' closed, stopped monitoring", name));
            }
            PumpEvent::Output { channel, data } => {
                let g = &mut self.groups[gi];
                if let (Channel::Stdout, Some(l)) = (channel, g.processes[pi].listener.as_mut()) {
                    // (The pump has logged the bytes at debug level.)
                    let mut pool = g.pool.as_mut();
                    l.feed(name, &data, &mut |ev| {
                        if let Some(p) = pool.as_deref_mut() {
                            p.rebuffer(ev);
                        }
                    });
                    self.again = true;
                    return;
                }
                let kind = match channel {
                    Channel::Stdout => EventType::ProcessLogStdout,
                    Channel::Stderr => EventType::ProcessLogStderr,
                };
                self.notify(kind, || {
                    let p = events::ProcessRef { name, group };
                    events::process_log_payload(&p, pid, channel.name(), &data)
                });
            }
            PumpEvent::Communication { channel, data } => {
                let kind = match channel {
                    Channel::Stdout => EventType::ProcessCommunicationStdout,
                    Channel::Stderr => EventType::ProcessCommunicationStderr,
                };
                self.notify(kind, || {
                    let p = events::ProcessRef { name, group };
                    events::process_communication_payload(&p, pid, &data)
                });
            }
        }
    }

    /// Hands buffered events to READY listeners (Python's pool dispatch):
    /// the oldest event to the first RUNNING listener that is READY, until
    /// the buffer is empty or no listener is free.
    fn dispatch_events(&mut self) {
        let identifier = self.config.supervisord.identifier.clone();
        for g in &mut self.groups {
            let Some(pool) = g.pool.as_mut() else {
                continue;
            };
            while let Some(ev) = pool.pop() {
                let mut sent = false;
                for p in &mut g.processes {
                    let ready = p.state == ProcessState::Running
                        && p.listener
                            .as_ref()
                            .is_some_and(|l| l.state == ListenerState::Ready);
                    if !ready {
                        continue;
                    }
                    let text = events::envelope(&identifier, &pool.name, ev.pool_serial, &ev.event);
                    match p.write_stdin(text.as_bytes()) {
                        Ok(()) => {}
                        Err(e) if e.raw_os_error() == Some(libc::EPIPE) => {
                            activity::debug(format!(
                                "epipe occurred while sending event {} to listener {}, listener state unchanged",
                                ev.event.serial, p.config.name
                            ));
                            continue;
                        }
                        Err(e) => {
                            activity::error(format!(
                                "cannot send event {} to listener {}: {}",
                                ev.event.serial, p.config.name, e
                            ));
                            continue;
                        }
                    }
                    let serial = ev.event.serial;
                    let name = p.config.name.clone();
                    if let Some(l) = p.listener.as_mut() {
                        l.sent(ev.clone());
                    }
                    activity::debug(format!("event {} sent to listener {}", serial, name));
                    sent = true;
                    break;
                }
                if !sent {
                    pool.unpop(ev);
                    break;
                }
            }
        }
    }

    /// TICK_5/60/3600 when a time slice rolls over, as Python's tick();
    /// returns when the next tick is due. Only periods some pool
    /// subscribes to are kept, so without such a pool nothing wakes up.
    fn tick(&mut self) -> Option<Instant> {
        let wanted: Vec<(EventType, u64)> = EventType::TICKS
            .iter()
            .copied()
            .filter(|(kind, _)| {
                self.groups
                    .iter()
                    .filter_map(|g| g.pool.as_ref())
                    .any(|p| p.subscribes(*kind))
            })
            .collect();
        if wanted.is_empty() {
            self.ticks.clear();
            return None;
        }
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        let secs = now.as_secs();
        let mut next: Option<Instant> = None;
        for (kind, period) in wanted {
            let slice = secs - secs % period;
            match self.ticks.insert(period, slice) {
                Some(last) if last != slice => {
                    self.notify(kind, || events::tick_payload(slice));
                }
                _ => {}
            }
            let until = Duration::from_secs(slice + period).saturating_sub(now);
            next = earliest(next, Some(Instant::now() + until));
        }
        next
    }

    fn main_loop(&mut self, poll: &mut Poll, signals: &mut Signals) -> Mood {
        let mut events = Events::with_capacity(16);
        self.notify(EventType::SupervisorStateChangeRunning, String::new);
        loop {
            // Drain the self-pipe first, so a SIGCHLD that lands while we
            // reap wakes the next poll instead of being swallowed; act on
            // the signals after reaping, in Python's order (so "received
            // SIGCHLD" follows the child's last output and its exit line).
            let pending: Vec<i32> = signals.pending().collect();
            self.pump_messages();
            let reaped = self.reap();
            self.handle_signals(pending);
            if reaped {
                // What an exit leads to (a restart, BACKOFF to FATAL) comes
                // before requests, so none sees a process EXITED that is
                // about to start again: `stop` of a crash-looping program
                // stops it. (Python reaps last in its loop, which leaves
                // its requests the same view.) An exit that ends the daemon
                // (exit_on) is seen first, so it does not restart.
                self.check_exit_on();
                self.transition_all();
            }
            let jobs_left = self.run_jobs();
            self.run_deferred_stops();
            let watch_due = self.watch_pass(poll.registry());

            if self.mood < Mood::Running {
                if !self.stopping {
                    self.stopping = true;
                    self.stop_groups = self.groups.iter().map(|g| g.config.name.clone()).collect();
                    self.notify(EventType::SupervisorStateChangeStopping, String::new);
                }
                self.stop_last_group();
                if !self.shutdown_report() {
                    return self.mood;
                }
            }

            let (mut deadline, changed) = self.transition_all();
            // Another pass at once if a transition changed something (a
            // spawn that failed may need to give up, an exit to restart),
            // or jobs wait their turn.
            self.again = changed || jobs_left;
            self.dispatch_events();
            deadline = earliest(deadline, self.tick());
            deadline = earliest(deadline, self.health_pass());
            deadline = earliest(deadline, watch_due);

            if self.mood < Mood::Running {
                self.pop_stopped_group();
                if let Some(t) = self.last_shutdown_report {
                    deadline = earliest(deadline, Some(t + Duration::from_secs(3)));
                }
                deadline = earliest(deadline, self.listener_grace);
            }
            self.run_waiters();
            self.check_exit_on();
            self.changes.clear();

            let timeout = if std::mem::take(&mut self.again) {
                Some(Duration::ZERO)
            } else {
                deadline.map(|d| d.saturating_duration_since(Instant::now()))
            };
            if let Err(e) = poll.poll(&mut events, timeout) {
                if e.kind() != std::io::ErrorKind::Interrupted {
                    activity::crit(format!("poll failed: {}", e));
                    std::thread::sleep(Duration::from_millis(100));
                }
            }
        }
    }

    /// Runs the jobs other threads sent. A job that changed a process's
    /// state is followed by the timed and automatic moves (FATAL after the
    /// last retry, a restart) before the next job, as Python runs them
    /// between requests, so the next call sees the state they lead to.
    /// True when jobs were left for the next pass.
    fn run_jobs(&mut self) -> bool {
        while let Ok(job) = self.rx.try_recv() {
            let before = self.changes.len();
            job(self);
            if self.changes.len() != before {
                return true;
            }
        }
        false
    }

    fn handle_signals(&mut self, pending: Vec<i32>) {
        for sig in pending {
            let name = crate::config::datatypes::signal_name(sig);
            match sig {
                SIGTERM | SIGINT | SIGQUIT => {
                    activity::warn(format!("received {} indicating exit request", name));
                    self.set_mood(Mood::Shutdown);
                }
                SIGHUP if self.config.supervisord.sighup == crate::config::SighupAction::Update => {
                    self.hup_update(&name);
                }
                SIGHUP => {
                    if self.mood == Mood::Shutdown {
                        activity::warn(format!(
                            "ignored {} indicating restart request (shutdown in progress)",
                            name
                        ));
                    } else {
                        activity::warn(format!("received {} indicating restart request", name));
                        self.set_mood(Mood::Restarting);
                    }
                }
                SIGCHLD => {
                    activity::debug(format!("received {} indicating a child quit", name));
                }
                SIGUSR2 => {
                    activity::info(format!("received {} indicating log reopen request", name));
                    activity::reopen();
                    for g in &self.groups {
                        for p in &g.processes {
                            p.reopen_logs();
                        }
                    }
                }
                _ => activity::blather(format!("received {} indicating nothing", name)),
            }
            self.again = true;
        }
    }

    /// waitpid(-1, WNOHANG) until nothing is left to reap: our children
    /// and, as PID 1, orphans re-parented to us.
    /// True if it reaped anything.
    fn reap(&mut self) -> bool {
        let mut reaped = false;
        while let Some((pid, status)) = crate::sys::process::reap_any() {
            reaped = true;
            self.again = true;
            let found = self.groups.iter().enumerate().find_map(|(gi, g)| {
                g.processes
                    .iter()
                    .position(|p| p.pid == pid)
                    .map(|pi| (gi, pi))
            });
            match found {
                Some((gi, pi)) => {
                    self.drain_pump(gi, pi);
                    self.with_process(gi, pi, |p, fx| p.finish(status, fx));
                    // A listener that died with an event in hand: the
                    // event goes back to its pool to be sent again.
                    let unanswered = self.groups[gi].processes[pi]
                        .listener
                        .as_mut()
                        .and_then(|l| l.event.take());
                    if let (Some(ev), Some(pool)) = (unanswered, self.groups[gi].pool.as_mut()) {
                        pool.rebuffer(ev);
                    }
                }
                None if self.watch.reaped(pid, status) => {}
                None if self.health_reaped(pid, status) => {}
                None => {
                    let (_, msg) = process::decode_wait_status(status);
                    // Python logs this at info; as PID 1 orphans are routine,
                    // so the issue asks for debug (a deliberate difference).
                    activity::debug(format!("reaped unknown pid {} ({})", pid, msg));
                }
            }
        }
        reaped
    }

    /// Every process's transition: the earliest deadline, and whether
    /// any state changed.
    fn transition_all(&mut self) -> (Option<Instant>, bool) {
        let before = self.changes.len();
        self.hold_for_dependencies();
        let mut deadline = None;
        for gi in 0..self.groups.len() {
            for pi in 0..self.groups[gi].processes.len() {
                let d = self.with_process(gi, pi, |p, fx| p.transition(fx));
                deadline = earliest(deadline, d);
            }
        }
        (deadline, self.changes.len() != before)
    }

    /// Shutdown phase 1: stop every process of the last group in the stop
    /// queue (highest priority number first).
    fn stop_last_group(&mut self) {
        let Some(name) = self.stop_groups.last().cloned() else {
            return;
        };
        let Some(gi) = self.groups.iter().position(|g| g.config.name == name) else {
            self.stop_groups.pop();
            return;
        };
        if self.listeners_still_busy(gi) {
            return;
        }
        // Stop in descending priority order within the group.
        let mut order: Vec<usize> = (0..self.groups[gi].processes.len()).collect();
        order.sort_by(|&a, &b| {
            let pa = &self.groups[gi].processes[a].config;
            let pb = &self.groups[gi].processes[b].config;
            (pb.priority, &pb.name).cmp(&(pa.priority, &pa.name))
        });
        // Processes that depend on one of them are stopped first, in
        // whatever group they are (deps.rs; none without depends_on).
        let ids: Vec<ProcessId> = order
            .into_iter()
            .map(|pi| self.groups[gi].processes[pi].id)
            .collect();
        for id in ids {
            self.stop_dependents_first(id);
        }
    }

    /// Whether to let an event listener pool finish the events of the
    /// shutdown (SUPERVISOR_STATE_CHANGE_STOPPING, the others' STOPPED)
    /// before its listeners are stopped. Python gives them a poll round
    /// (up to a second) per group stopped before; we wait until the pool
    /// is drained and no listener holds an event, for at most
    /// [`LISTENER_GRACE`].
    fn listeners_still_busy(&mut self, gi: usize) -> bool {
        let g = &self.groups[gi];
        let Some(pool) = g.pool.as_ref() else {
            return false;
        };
        let running = |p: &Process| p.state == ProcessState::Running;
        let busy = g.processes.iter().any(|p| {
            running(p)
                && p.listener
                    .as_ref()
                    .is_some_and(|l| l.state == ListenerState::Busy)
        });
        let can_take = g.processes.iter().any(|p| {
            running(p)
                && p.listener
                    .as_ref()
                    .is_some_and(|l| l.state != ListenerState::Unknown)
        });
        if !(busy || (!pool.is_empty() && can_take)) {
            return false;
        }
        let now = Instant::now();
        let until = *self.listener_grace.get_or_insert(now + LISTENER_GRACE);
        now < until
    }

    /// Shutdown phase 2: drop the last stop group once all of it stopped.
    fn pop_stopped_group(&mut self) {
        if let Some(name) = self.stop_groups.last() {
            let done = self
                .groups
                .iter()
                .find(|g| &g.config.name == name)
                .is_none_or(|g| g.unstopped().is_empty());
            if done {
                self.stop_groups.pop();
                self.again = true;
            }
        }
    }

    /// "waiting for a, b to die" every 3 s; false when nothing is left.
    fn shutdown_report(&mut self) -> bool {
        let unstopped: Vec<String> = self
            .groups
            .iter()
            .flat_map(|g| g.unstopped())
            .map(|p| p.config.name.clone())
            .collect();
        if unstopped.is_empty() {
            return false;
        }
        let now = Instant::now();
        if self
            .last_shutdown_report
            .is_none_or(|t| now >= t + Duration::from_secs(3))
        {
            activity::info(format!("waiting for {} to die", unstopped.join(", ")));
            self.last_shutdown_report = Some(now);
        }
        true
    }

    fn run_waiters(&mut self) {
        if self.waiters.is_empty() {
            return;
        }
        let mut waiters = std::mem::take(&mut self.waiters);
        waiters.retain_mut(|w| !w(self));
        // Waiters parked while running the others are kept too.
        waiters.append(&mut self.waiters);
        self.waiters = waiters;
    }
}

fn earliest(a: Option<Instant>, b: Option<Instant>) -> Option<Instant> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, None) => x,
        (None, y) => y,
    }
}
