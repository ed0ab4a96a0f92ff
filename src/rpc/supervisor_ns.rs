//! The `supervisor.*` XML-RPC namespace with Python's semantics and faults.
//!
//! Every call runs as a job on the supervisor loop's thread (the one owner
//! of process state), through the Supervisor's public methods; nothing here
//! runs anywhere else. A call answers at once ([`Step::Done`]), hands a
//! slow file read back to the HTTP thread ([`Step::Offload`]), or, for
//! `wait=true`, parks a continuation the loop re-runs after every pass
//! until the state it waits for is reached ([`Step::Wait`]).

use super::faults as f;
use super::xmlrpc::{Fault, Value};
use crate::config::{make_namespec, split_namespec};
use crate::supervisor::process::Process;
use crate::supervisor::spawn::SpawnErrorKind;
use crate::supervisor::state::{Mood, ProcessState};
use crate::supervisor::Supervisor;
use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

pub type Outcome = Result<Value, Fault>;

/// A parked continuation: None while not done yet.
pub type Pending = Box<dyn FnMut(&mut Supervisor) -> Option<Outcome> + Send>;

/// Work done off the loop, on the HTTP thread (reading log files).
pub type Offload = Box<dyn FnOnce() -> Outcome + Send>;

pub enum Step {
    Done(Outcome),
    Offload(Offload),
    Wait(Pending),
}

impl From<Outcome> for Step {
    fn from(o: Outcome) -> Step {
        Step::Done(o)
    }
}

/// A step, or the fault that stopped it before it began.
fn or_fault(r: Result<Step, Fault>) -> Step {
    r.unwrap_or_else(|fault| Step::Done(Err(fault)))
}

/// Every published `supervisor.*` method with its number of parameters
/// (least, most): Python raises INCORRECT_PARAMETERS for any other count.
pub const METHODS: &[(&str, usize, usize)] = &[
    ("addProcessGroup", 1, 1),
    ("clearAllProcessLogs", 0, 0),
    ("clearLog", 0, 0),
    ("clearProcessLog", 1, 1),
    ("clearProcessLogs", 1, 1),
    ("getAPIVersion", 0, 0),
    ("getAllConfigInfo", 0, 0),
    ("getAllProcessInfo", 0, 0),
    ("getIdentification", 0, 0),
    ("getPID", 0, 0),
    ("getProcessInfo", 1, 1),
    ("getState", 0, 0),
    ("getSupervisorVersion", 0, 0),
    ("getVersion", 0, 0),
    ("readLog", 2, 2),
    ("readMainLog", 2, 2),
    ("readProcessLog", 3, 3),
    ("readProcessStderrLog", 3, 3),
    ("readProcessStdoutLog", 3, 3),
    ("reloadConfig", 0, 0),
    ("removeProcessGroup", 1, 1),
    ("restart", 0, 0),
    ("sendProcessStdin", 2, 2),
    ("sendRemoteCommEvent", 2, 2),
    ("shutdown", 0, 0),
    ("signalAllProcesses", 1, 1),
    ("signalProcess", 2, 2),
    ("signalProcessGroup", 2, 2),
    ("startAllProcesses", 0, 1),
    ("startProcess", 1, 2),
    ("startProcessGroup", 1, 2),
    ("stopAllProcesses", 0, 1),
    ("stopProcess", 1, 2),
    ("stopProcessGroup", 1, 2),
    ("tailProcessLog", 3, 3),
    ("tailProcessStderrLog", 3, 3),
    ("tailProcessStdoutLog", 3, 3),
];

/// The (least, most) parameter counts of a method, None if unknown.
pub fn arity(method: &str) -> Option<(usize, usize)> {
    METHODS
        .iter()
        .find(|(m, _, _)| *m == method)
        .map(|&(_, lo, hi)| (lo, hi))
}

/// Runs `method` (already checked against [`METHODS`]) on the loop.
pub fn call(sup: &mut Supervisor, method: &str, params: &[Value]) -> Step {
    or_fault(dispatch(sup, method, params))
}

/// The calls whose answer is the mood and constants alone, with Python's
/// fault while stopping; None for every other method. The dispatcher
/// answers them off the loop from the mood the loop publishes.
pub fn by_mood(method: &str, mood: Mood) -> Option<Outcome> {
    let value = match method {
        "getAPIVersion" | "getVersion" => Value::from(crate::API_VERSION),
        "getSupervisorVersion" => Value::from(crate::SUPERVISOR_VERSION),
        "getState" => Value::structure([
            ("statecode", Value::Int(mood.code())),
            ("statename", Value::from(mood.name())),
        ]),
        "getPID" => Value::Int(i64::from(std::process::id())),
        _ => return None,
    };
    Some(if mood < Mood::Running {
        Err(f::bare(f::SHUTDOWN_STATE))
    } else {
        Ok(value)
    })
}

fn dispatch(sup: &mut Supervisor, method: &str, p: &[Value]) -> Result<Step, Fault> {
    if let Some(outcome) = by_mood(method, sup.mood) {
        return Ok(outcome.into());
    }
    // sendRemoteCommEvent is the one call Python serves while stopping;
    // the signal calls check the mood only after signalling, as Python.
    if !matches!(
        method,
        "sendRemoteCommEvent" | "signalAllProcesses" | "signalProcessGroup"
    ) {
        check_mood(sup)?;
    }
    let step: Step = match method {
        "getIdentification" => Ok(Value::from(&sup.config.supervisord.identifier)).into(),
        "readLog" | "readMainLog" => {
            let (offset, length) = (int_arg(p, 0)?, int_arg(p, 1)?);
            let path = main_log_path(sup);
            Step::Offload(Box::new(move || read_log(path, offset, length)))
        }
        "clearLog" => clear_main_log(sup).into(),
        "shutdown" => {
            sup.request_shutdown();
            Ok(Value::Bool(true)).into()
        }
        "restart" => {
            sup.request_restart();
            Ok(Value::Bool(true)).into()
        }
        "reloadConfig" => match sup.reread() {
            Ok([added, changed, removed]) => {
                let names = |v: Vec<String>| Value::array(v.into_iter().map(Value::from));
                Ok(Value::array([Value::array([
                    names(added),
                    names(changed),
                    names(removed),
                ])]))
                .into()
            }
            Err(msg) => Err(f::with(f::CANT_REREAD, msg)).into(),
        },
        "addProcessGroup" => add_group(sup, str_arg(p, 0)?).into(),
        "removeProcessGroup" => remove_group(sup, str_arg(p, 0)?).into(),
        "startProcess" => start_process(sup, str_arg(p, 0)?, wait_arg(p, 1)),
        "startProcessGroup" => start_group(sup, str_arg(p, 0)?, wait_arg(p, 1)),
        "startAllProcesses" => {
            let wait = wait_arg(p, 0);
            let targets = all_processes(sup, false);
            all_func(
                sup,
                targets,
                |p| !p.state.is_running(),
                move |sup, name| start_process(sup, name, wait),
            )
        }
        "stopProcess" => stop_process(sup, str_arg(p, 0)?, wait_arg(p, 1)),
        "stopProcessGroup" => stop_group(sup, str_arg(p, 0)?, wait_arg(p, 1)),
        "stopAllProcesses" => {
            let wait = wait_arg(p, 0);
            let targets = all_processes(sup, false);
            all_func(
                sup,
                targets,
                |p| p.state.is_running(),
                move |sup, name| stop_process(sup, name, wait),
            )
        }
        "signalProcess" => {
            check_mood(sup)?;
            signal_process(sup, str_arg(p, 0)?, &p[1])
        }
        "signalProcessGroup" => {
            check_mood(sup)?;
            let step = signal_group(sup, str_arg(p, 0)?, &p[1]);
            check_mood(sup)?;
            step
        }
        "signalAllProcesses" => {
            let sig = p[0].clone();
            let targets = all_processes(sup, false);
            let step = all_func(
                sup,
                targets,
                |p| p.state.is_signallable(),
                move |sup, name| signal_process(sup, name, &sig),
            );
            check_mood(sup)?;
            step
        }
        "getAllConfigInfo" => Ok(all_config_info(sup)).into(),
        "getProcessInfo" => process_info(sup, str_arg(p, 0)?).into(),
        "getAllProcessInfo" => {
            // By index: a lookup by name per process would make this
            // quadratic in the number of programs.
            let now = epoch_secs(Some(SystemTime::now()));
            let infos = process_indices(sup, true)
                .into_iter()
                .map(|(gi, pi)| process_info_at(sup, gi, pi, now))
                .collect();
            Ok(Value::Array(infos)).into()
        }
        "readProcessStdoutLog" | "readProcessLog" | "readProcessStderrLog" => {
            let channel = if method == "readProcessStderrLog" {
                Channel::Stderr
            } else {
                Channel::Stdout
            };
            let path = process_log_path(sup, str_arg(p, 0)?, channel)?;
            let (offset, length) = (int_arg(p, 1)?, int_arg(p, 2)?);
            Step::Offload(Box::new(move || read_log(path, offset, length)))
        }
        "tailProcessStdoutLog" | "tailProcessLog" | "tailProcessStderrLog" => {
            let channel = if method == "tailProcessStderrLog" {
                Channel::Stderr
            } else {
                Channel::Stdout
            };
            let path = process_log_path(sup, str_arg(p, 0)?, channel)?;
            let (offset, length) = (int_arg(p, 1)?, int_arg(p, 2)?);
            Step::Offload(Box::new(move || Ok(tail_log(path, offset, length))))
        }
        "clearProcessLogs" | "clearProcessLog" => clear_process_logs(sup, str_arg(p, 0)?).into(),
        "clearAllProcessLogs" => {
            let targets = all_processes(sup, false);
            all_func(
                sup,
                targets,
                |_| true,
                |sup, name| clear_process_logs(sup, name).into(),
            )
        }
        "sendProcessStdin" => send_stdin(sup, str_arg(p, 0)?, &p[1]).into(),
        "sendRemoteCommEvent" => {
            // Accepted with any string-like type and data, as Python; the
            // event reaches the listeners subscribed to REMOTE_COMMUNICATION.
            let text = |v: &Value| match v {
                Value::String(s) => Ok(s.clone()),
                Value::Base64(b) => Ok(String::from_utf8_lossy(b).into_owned()),
                _ => Err(f::bare(f::INCORRECT_PARAMETERS)),
            };
            let (kind, data) = (text(&p[0])?, text(&p[1])?);
            sup.remote_communication(&kind, &data);
            Ok(Value::Bool(true)).into()
        }
        _ => Err(f::bare(f::UNKNOWN_METHOD)).into(),
    };
    Ok(step)
}

fn check_mood(sup: &Supervisor) -> Result<(), Fault> {
    if sup.mood < Mood::Running {
        Err(f::bare(f::SHUTDOWN_STATE))
    } else {
        Ok(())
    }
}

// ---------------------------------------------------------------------------
// Arguments: Python's methods take whatever the client sent; a type they
// cannot use is INCORRECT_PARAMETERS here (Python often answers those with
// an HTTP 500 and a traceback in its log).

fn str_arg(p: &[Value], i: usize) -> Result<&str, Fault> {
    match p.get(i) {
        Some(Value::String(s)) => Ok(s),
        _ => Err(f::bare(f::INCORRECT_PARAMETERS)),
    }
}

/// An integer as Python's `int()` takes it: an int, a bool, a double
/// (truncated) or a string of digits.
fn int_arg(p: &[Value], i: usize) -> Result<i64, Fault> {
    match p.get(i) {
        Some(Value::Int(n)) => Ok(*n),
        Some(Value::Bool(b)) => Ok(i64::from(*b)),
        Some(Value::Double(d)) if d.is_finite() => Ok(d.trunc() as i64),
        Some(Value::String(s)) => {
            crate::config::datatypes::py_int(s).ok_or_else(|| f::bare(f::INCORRECT_PARAMETERS))
        }
        _ => Err(f::bare(f::INCORRECT_PARAMETERS)),
    }
}

/// `wait`: Python tests it for truth; absent means true.
fn wait_arg(p: &[Value], i: usize) -> bool {
    p.get(i).is_none_or(truthy)
}

fn truthy(v: &Value) -> bool {
    match v {
        Value::Int(n) => *n != 0,
        Value::Bool(b) => *b,
        Value::String(s) => !s.is_empty(),
        Value::Double(d) => *d != 0.0,
        Value::DateTime(_) => true,
        Value::Base64(b) => !b.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Struct(s) => !s.is_empty(),
        Value::Nil => false,
    }
}

// ---------------------------------------------------------------------------
// Names

/// The group and (unless the spec names a whole group) the process.
fn lookup(sup: &Supervisor, spec: &str) -> Result<(usize, Option<usize>), Fault> {
    let (group, process) = split_namespec(spec);
    let gi = sup
        .group_index(group)
        .ok_or_else(|| f::with(f::BAD_NAME, spec))?;
    match process {
        None => Ok((gi, None)),
        Some(name) => sup.groups[gi]
            .processes
            .iter()
            .position(|p| p.config.name == name)
            .map(|pi| (gi, Some(pi)))
            .ok_or_else(|| f::with(f::BAD_NAME, spec)),
    }
}

fn lookup_process(sup: &Supervisor, spec: &str) -> Result<(usize, usize), Fault> {
    match lookup(sup, spec)? {
        (gi, Some(pi)) => Ok((gi, pi)),
        (_, None) => Err(f::with(f::BAD_NAME, spec)),
    }
}

/// (group, process) names of every process: by priority (Python's
/// `_getAllProcesses()`), or sorted by name (`lexical=True`).
fn all_processes(sup: &Supervisor, lexical: bool) -> Vec<(String, String)> {
    process_indices(sup, lexical)
        .into_iter()
        .map(|(gi, pi)| {
            let g = &sup.groups[gi];
            (g.config.name.clone(), g.processes[pi].config.name.clone())
        })
        .collect()
}

/// (group, process) indices of every process, in `all_processes` order.
fn process_indices(sup: &Supervisor, lexical: bool) -> Vec<(usize, usize)> {
    let mut groups: Vec<usize> = (0..sup.groups.len()).collect();
    if lexical {
        groups.sort_by(|&a, &b| sup.groups[a].config.name.cmp(&sup.groups[b].config.name));
    }
    let mut out = Vec::new();
    for gi in groups {
        let procs = &sup.groups[gi].processes;
        let mut order: Vec<usize> = (0..procs.len()).collect();
        if lexical {
            order.sort_by(|&a, &b| procs[a].config.name.cmp(&procs[b].config.name));
        } else {
            order.sort_by_key(|&i| procs[i].config.priority);
        }
        out.extend(order.into_iter().map(|pi| (gi, pi)));
    }
    out
}

fn group_members(sup: &Supervisor, gi: usize) -> Vec<(String, String)> {
    let g = &sup.groups[gi];
    let mut procs: Vec<&Process> = g.processes.iter().collect();
    procs.sort_by_key(|p| p.config.priority);
    procs
        .into_iter()
        .map(|p| (g.config.name.clone(), p.config.name.clone()))
        .collect()
}

// ---------------------------------------------------------------------------
// Start, stop, signal

fn start_process(sup: &mut Supervisor, spec: &str, wait: bool) -> Step {
    or_fault(try_start_process(sup, spec, wait))
}

fn try_start_process(sup: &mut Supervisor, spec: &str, wait: bool) -> Result<Step, Fault> {
    check_mood(sup)?;
    let (gi, pi) = match lookup(sup, spec)? {
        (gi, Some(pi)) => (gi, pi),
        (gi, None) => {
            let group = sup.groups[gi].config.name.clone();
            return Ok(start_group(sup, &group, wait));
        }
    };
    if let Err(e) = sup.resolve_command(gi, pi) {
        return Err(match e.kind {
            SpawnErrorKind::NotFound => f::with(f::NO_FILE, e.message),
            _ => f::with(f::NOT_EXECUTABLE, e.message),
        });
    }
    let state = sup.groups[gi].processes[pi].state;
    if state.is_running() {
        return Err(f::with(f::ALREADY_STARTED, spec));
    }
    if state == ProcessState::Unknown {
        return Err(f::with(
            f::FAILED,
            format!("{} is in an unknown process state", spec),
        ));
    }
    let (group, name) = names_of(sup, gi, pi);
    let _ = sup.with_process(gi, pi, |p, fx| p.spawn(fx));
    sup.reap_now();
    let Some((gi, pi)) = sup.process_index(&group, &name) else {
        return Err(f::with(f::ABNORMAL_TERMINATION, spec));
    };
    if sup.groups[gi].processes[pi].spawnerr.is_some() {
        return Err(f::with(f::SPAWN_ERROR, spec));
    }
    sup.with_process(gi, pi, |p, fx| p.transition(fx));
    if wait && sup.groups[gi].processes[pi].state != ProcessState::Running {
        let spec = spec.to_string();
        return Ok(Step::Wait(Box::new(move |sup: &mut Supervisor| {
            let Some((gi, pi)) = sup.process_index(&group, &name) else {
                return Some(Err(f::with(f::ABNORMAL_TERMINATION, &spec)));
            };
            let p = &sup.groups[gi].processes[pi];
            if p.spawnerr.is_some() {
                return Some(Err(f::with(f::SPAWN_ERROR, &spec)));
            }
            match p.state {
                ProcessState::Starting => None,
                ProcessState::Running => Some(Ok(Value::Bool(true))),
                _ => Some(Err(f::with(f::ABNORMAL_TERMINATION, &spec))),
            }
        })));
    }
    Ok(Step::Done(Ok(Value::Bool(true))))
}

fn start_group(sup: &mut Supervisor, name: &str, wait: bool) -> Step {
    if let Err(fault) = check_mood(sup) {
        return Step::Done(Err(fault));
    }
    for_group(
        sup,
        name,
        |p| !p.state.is_running(),
        move |sup, name| start_process(sup, name, wait),
    )
}

/// `func` on the members of group `name` that `predicate` selects, in
/// priority order (Python's make_allfunc over one group); BAD_NAME for
/// an unknown group.
fn for_group<F>(sup: &mut Supervisor, name: &str, predicate: fn(&Process) -> bool, func: F) -> Step
where
    F: Fn(&mut Supervisor, &str) -> Step + Send + 'static,
{
    let Some(gi) = sup.group_index(name) else {
        return Step::Done(Err(f::with(f::BAD_NAME, name)));
    };
    let targets = group_members(sup, gi);
    all_func(sup, targets, predicate, func)
}

fn stop_process(sup: &mut Supervisor, spec: &str, wait: bool) -> Step {
    or_fault(try_stop_process(sup, spec, wait))
}

fn try_stop_process(sup: &mut Supervisor, spec: &str, wait: bool) -> Result<Step, Fault> {
    check_mood(sup)?;
    let (gi, pi) = match lookup(sup, spec)? {
        (gi, Some(pi)) => (gi, pi),
        (gi, None) => {
            let group = sup.groups[gi].config.name.clone();
            return Ok(stop_group(sup, &group, wait));
        }
    };
    if !sup.groups[gi].processes[pi].state.is_running() {
        return Err(f::with(f::NOT_RUNNING, spec));
    }
    if let Some(msg) = sup.with_process(gi, pi, |p, fx| p.stop(fx)) {
        return Err(f::with(f::FAILED, msg));
    }
    let (group, name) = names_of(sup, gi, pi);
    sup.reap_now();
    let stopped = move |sup: &mut Supervisor| -> bool {
        match sup.process_index(&group, &name) {
            Some((gi, pi)) => {
                let p = &mut sup.groups[gi].processes[pi];
                p.stop_report();
                p.state.is_stopped()
            }
            None => true,
        }
    };
    if wait && !stopped(sup) {
        return Ok(Step::Wait(Box::new(move |sup: &mut Supervisor| {
            stopped(sup).then_some(Ok(Value::Bool(true)))
        })));
    }
    Ok(Step::Done(Ok(Value::Bool(true))))
}

fn stop_group(sup: &mut Supervisor, name: &str, wait: bool) -> Step {
    if let Err(fault) = check_mood(sup) {
        return Step::Done(Err(fault));
    }
    for_group(
        sup,
        name,
        |p| p.state.is_running(),
        move |sup, name| stop_process(sup, name, wait),
    )
}

/// The signal a client gave: a name (`HUP`, `SIGHUP`) or a number, as a
/// string or an int; BAD_SIGNAL shows it as given.
fn parse_signal(v: &Value) -> Result<i32, Fault> {
    let text = match v {
        Value::String(s) => s.clone(),
        Value::Int(n) => n.to_string(),
        other => return Err(f::with(f::BAD_SIGNAL, display_value(other))),
    };
    crate::config::datatypes::signal_number(&text).map_err(|_| f::with(f::BAD_SIGNAL, &text))
}

fn signal_process(sup: &mut Supervisor, spec: &str, sig: &Value) -> Step {
    or_fault(try_signal_process(sup, spec, sig))
}

fn try_signal_process(sup: &mut Supervisor, spec: &str, sig: &Value) -> Result<Step, Fault> {
    check_mood(sup)?;
    let (gi, pi) = match lookup(sup, spec)? {
        (gi, Some(pi)) => (gi, pi),
        (gi, None) => {
            let group = sup.groups[gi].config.name.clone();
            return Ok(signal_group(sup, &group, sig));
        }
    };
    let signo = parse_signal(sig)?;
    if !sup.groups[gi].processes[pi].state.is_signallable() {
        return Err(f::with(f::NOT_RUNNING, spec));
    }
    if let Some(msg) = sup.with_process(gi, pi, |p, fx| p.signal(signo, fx)) {
        return Err(f::with(f::FAILED, msg));
    }
    Ok(Step::Done(Ok(Value::Bool(true))))
}

fn signal_group(sup: &mut Supervisor, name: &str, sig: &Value) -> Step {
    let sig = sig.clone();
    for_group(
        sup,
        name,
        |p| p.state.is_signallable(),
        move |sup, name| signal_process(sup, name, &sig),
    )
}

fn names_of(sup: &Supervisor, gi: usize, pi: usize) -> (String, String) {
    (
        sup.groups[gi].config.name.clone(),
        sup.groups[gi].processes[pi].config.name.clone(),
    )
}

fn proc_status(group: &str, name: &str, code: i64, description: &str) -> Value {
    Value::structure([
        ("name", Value::from(name)),
        ("group", Value::from(group)),
        ("status", Value::Int(code)),
        ("description", Value::from(description)),
    ])
}

/// Python's make_allfunc: applies `func` to every target the predicate
/// selects (at the first call), then collects the parked ones as they
/// finish. Results come in completion order, each a procstatus struct.
fn all_func<F>(
    sup: &mut Supervisor,
    targets: Vec<(String, String)>,
    predicate: fn(&Process) -> bool,
    func: F,
) -> Step
where
    F: Fn(&mut Supervisor, &str) -> Step + Send + 'static,
{
    struct Parked {
        group: String,
        name: String,
        pending: Pending,
    }
    let mut results: Vec<Value> = Vec::new();
    let mut parked: Vec<Parked> = Vec::new();
    for (group, name) in targets {
        let Some((gi, pi)) = sup.process_index(&group, &name) else {
            continue;
        };
        if !predicate(&sup.groups[gi].processes[pi]) {
            continue;
        }
        match func(sup, &make_namespec(&group, &name)) {
            Step::Done(Ok(_)) => results.push(proc_status(&group, &name, f::SUCCESS, "OK")),
            Step::Done(Err(e)) => results.push(proc_status(&group, &name, e.code, &e.string)),
            Step::Offload(run) => match run() {
                Ok(_) => results.push(proc_status(&group, &name, f::SUCCESS, "OK")),
                Err(e) => results.push(proc_status(&group, &name, e.code, &e.string)),
            },
            Step::Wait(pending) => parked.push(Parked {
                group,
                name,
                pending,
            }),
        }
    }
    let mut collect = move |sup: &mut Supervisor| -> Option<Outcome> {
        parked.retain_mut(|one| match (one.pending)(sup) {
            None => true,
            Some(Ok(_)) => {
                results.push(proc_status(&one.group, &one.name, f::SUCCESS, "OK"));
                false
            }
            Some(Err(e)) => {
                results.push(proc_status(&one.group, &one.name, e.code, &e.string));
                false
            }
        });
        parked
            .is_empty()
            .then(|| Ok(Value::Array(std::mem::take(&mut results))))
    };
    match collect(sup) {
        Some(done) => Step::Done(done),
        None => Step::Wait(Box::new(collect)),
    }
}

// ---------------------------------------------------------------------------
// Groups

fn add_group(sup: &mut Supervisor, name: &str) -> Outcome {
    let Some(cfg) = sup.config.groups.iter().find(|g| g.name == name).cloned() else {
        return Err(f::with(f::BAD_NAME, name));
    };
    if !sup.add_group(cfg) {
        return Err(f::with(f::ALREADY_ADDED, name));
    }
    Ok(Value::Bool(true))
}

fn remove_group(sup: &mut Supervisor, name: &str) -> Outcome {
    if sup.group_index(name).is_none() {
        return Err(f::with(f::BAD_NAME, name));
    }
    if !sup.remove_group(name) {
        return Err(f::with(f::STILL_RUNNING, name));
    }
    Ok(Value::Bool(true))
}

// ---------------------------------------------------------------------------
// Information

fn epoch_secs(t: Option<SystemTime>) -> i64 {
    t.and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
        .clamp(i64::from(i32::MIN), i64::from(i32::MAX))
}

fn path_text(p: Option<&PathBuf>) -> String {
    p.map(|p| p.display().to_string()).unwrap_or_default()
}

fn process_info(sup: &Supervisor, spec: &str) -> Outcome {
    let (gi, pi) = lookup_process(sup, spec)?;
    Ok(process_info_at(
        sup,
        gi,
        pi,
        epoch_secs(Some(SystemTime::now())),
    ))
}

/// Python's `getProcessInfo` struct of one process, `now` given so that
/// every struct of one `getAllProcessInfo` reply agrees.
fn process_info_at(sup: &Supervisor, gi: usize, pi: usize, now: i64) -> Value {
    let g = &sup.groups[gi];
    let p = &g.processes[pi];
    let start = epoch_secs(p.laststart.map(|(_, wall)| wall));
    let stop = epoch_secs(p.laststop);
    let spawnerr = p.spawnerr.clone().unwrap_or_default();
    let description = describe(p.state, p.pid, start, stop, now, &spawnerr, &p.config.name);
    let stdout = path_text(p.stdout_path.as_ref());
    Value::structure([
        ("name", Value::from(&p.config.name)),
        ("group", Value::from(&g.config.name)),
        ("start", Value::Int(start)),
        ("stop", Value::Int(stop)),
        ("now", Value::Int(now)),
        ("state", Value::Int(p.state.code())),
        ("statename", Value::from(p.state.name())),
        ("spawnerr", Value::from(spawnerr)),
        (
            "exitstatus",
            Value::Int(i64::from(p.exitstatus.unwrap_or(0))),
        ),
        ("logfile", Value::from(stdout.clone())),
        ("stdout_logfile", Value::from(stdout)),
        (
            "stderr_logfile",
            Value::from(path_text(p.stderr_path.as_ref())),
        ),
        ("pid", Value::Int(i64::from(p.pid))),
        ("description", Value::from(description)),
    ])
}

/// Python's `_interpretProcessInfo`: the status column text.
pub fn describe(
    state: ProcessState,
    pid: i32,
    start: i64,
    stop: i64,
    now: i64,
    spawnerr: &str,
    name: &str,
) -> String {
    match state {
        ProcessState::Running => format!("pid {}, uptime {}", pid, uptime(now - start)),
        ProcessState::Fatal | ProcessState::Backoff => {
            if spawnerr.is_empty() {
                format!("unknown error (try \"tail {}\")", name)
            } else {
                spawnerr.to_string()
            }
        }
        ProcessState::Stopped | ProcessState::Exited => {
            if start != 0 {
                stop_time(stop)
            } else {
                "Not started".to_string()
            }
        }
        _ => String::new(),
    }
}

/// A duration in seconds as Python's timedelta prints it
/// (`1:02:03`, `1 day, 0:00:05`, `3 days, 10:00:00`); negative is 0.
pub fn uptime(secs: i64) -> String {
    let secs = secs.max(0);
    let (days, rest) = (secs / 86400, secs % 86400);
    let hms = format!("{}:{:02}:{:02}", rest / 3600, rest % 3600 / 60, rest % 60);
    match days {
        0 => hms,
        1 => format!("1 day, {}", hms),
        d => format!("{} days, {}", d, hms),
    }
}

/// `%b %d %I:%M %p` of a local time, in the C locale.
fn stop_time(epoch: i64) -> String {
    let t = if epoch >= 0 {
        UNIX_EPOCH + std::time::Duration::from_secs(epoch as u64)
    } else {
        UNIX_EPOCH - std::time::Duration::from_secs(epoch.unsigned_abs())
    };
    let lt = crate::logs::localtime::LocalTime::from_system(t);
    let hour12 = match lt.hour % 12 {
        0 => 12,
        h => h,
    };
    format!(
        "{} {:02} {:02}:{:02} {}",
        lt.month_abbr(),
        lt.day,
        hour12,
        lt.minute,
        if lt.hour < 12 { "AM" } else { "PM" }
    )
}

/// A log file as getAllConfigInfo shows it: the path, `auto` until a
/// group made from this config resolved it, or `none`.
fn logfile_value(cfg: &crate::config::LogFile, resolved: Option<&PathBuf>) -> Value {
    use crate::config::LogFile;
    match (cfg, resolved) {
        (LogFile::Path(p), _) | (LogFile::Auto, Some(p)) => Value::from(p.display().to_string()),
        (LogFile::Auto, None) => Value::from("auto"),
        (LogFile::None | LogFile::Syslog, _) => Value::from("none"),
    }
}

/// The six `<channel>_*` fields of one output channel.
fn channel_fields(
    channel: &str,
    log: &crate::config::LogConfig,
    resolved: Option<&PathBuf>,
) -> [(String, Value); 6] {
    let key = |k: &str| format!("{}_{}", channel, k);
    [
        (
            key("capture_maxbytes"),
            Value::Int(log.capture_maxbytes as i64),
        ),
        (key("events_enabled"), Value::Bool(log.events_enabled)),
        (key("logfile"), logfile_value(&log.file, resolved)),
        (key("logfile_backups"), Value::Int(i64::from(log.backups))),
        (key("logfile_maxbytes"), Value::Int(log.maxbytes as i64)),
        (key("syslog"), Value::Bool(log.syslog)),
    ]
}

fn all_config_info(sup: &Supervisor) -> Value {
    let mut rows: Vec<(String, Value)> = Vec::new();
    for g in &sup.config.groups {
        let active = sup
            .group_index(&g.name)
            .map(|gi| &sup.groups[gi])
            .filter(|a| a.generation == sup.config_generation);
        let inuse = sup.group_index(&g.name).is_some();
        for pc in &g.processes {
            // AUTO log files have a name once a group made from this very
            // config exists (Python resolves them on the config object).
            let running =
                active.and_then(|a| a.processes.iter().find(|p| p.config.name == pc.name));
            let none_or = |v: Option<Value>| v.unwrap_or_else(|| Value::from("none"));
            // Python's key order (its dict literal).
            let mut fields: Vec<(String, Value)> = [
                ("autostart", Value::Bool(pc.autostart)),
                ("directory", none_or(pc.directory.as_ref().map(Value::from))),
                ("uid", none_or(pc.uid.map(|u| Value::Int(i64::from(u))))),
                ("command", Value::from(&pc.command)),
                (
                    "exitcodes",
                    Value::array(pc.exitcodes.iter().map(|&c| Value::Int(i64::from(c)))),
                ),
                ("group", Value::from(&g.name)),
                ("group_prio", Value::Int(g.priority)),
                ("inuse", Value::Bool(inuse)),
                ("killasgroup", Value::Bool(pc.killasgroup)),
                ("name", Value::from(&pc.name)),
                ("process_prio", Value::Int(pc.priority)),
                ("redirect_stderr", Value::Bool(pc.redirect_stderr)),
                ("startretries", Value::Int(pc.startretries)),
                ("startsecs", Value::Int(pc.startsecs)),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
            fields.extend(channel_fields(
                "stdout",
                &pc.stdout,
                running.and_then(|p| p.stdout_path.as_ref()),
            ));
            fields.push(("stopsignal".into(), Value::Int(i64::from(pc.stopsignal))));
            fields.push(("stopwaitsecs".into(), Value::Int(pc.stopwaitsecs)));
            fields.extend(channel_fields(
                "stderr",
                &pc.stderr,
                running.and_then(|p| p.stderr_path.as_ref()),
            ));
            fields.push((
                "serverurl".into(),
                none_or(pc.serverurl.as_ref().map(Value::from)),
            ));
            rows.push((pc.name.clone(), Value::Struct(fields)));
        }
    }
    // Python sorts by name only; the sort is stable.
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    Value::array(rows.into_iter().map(|(_, v)| v))
}

// ---------------------------------------------------------------------------
// Logs

#[derive(Clone, Copy)]
enum Channel {
    Stdout,
    Stderr,
}

fn main_log_path(sup: &Supervisor) -> Option<PathBuf> {
    let _ = sup;
    crate::logs::activity::path()
}

fn process_log_path(
    sup: &Supervisor,
    spec: &str,
    channel: Channel,
) -> Result<Option<PathBuf>, Fault> {
    let (gi, pi) = lookup_process(sup, spec)?;
    let p = &sup.groups[gi].processes[pi];
    Ok(match channel {
        Channel::Stdout => p.stdout_path.clone(),
        Channel::Stderr => p.stderr_path.clone(),
    })
}

/// A process's log by channel name, for `/logtail` (Python looks up
/// `<channel>_logfile`, so any other channel has none).
pub fn log_path(sup: &Supervisor, spec: &str, channel: &str) -> Option<PathBuf> {
    let channel = match channel {
        "stdout" => Channel::Stdout,
        "stderr" => Channel::Stderr,
        _ => return None,
    };
    process_log_path(sup, spec, channel).ok().flatten()
}

/// readLog / readProcess*Log: NO_FILE when there is no such file (with
/// its name when one is configured), then Python's readFile.
fn read_log(path: Option<PathBuf>, offset: i64, length: i64) -> Outcome {
    let Some(path) = path else {
        return Err(f::bare(f::NO_FILE));
    };
    if !path.exists() {
        return Err(f::with(f::NO_FILE, path.display()));
    }
    read_file(&path, offset, length)
        .map(|bytes| Value::from(String::from_utf8_lossy(&bytes).into_owned()))
}

/// Python's options.readFile: a negative offset with length 0 reads the
/// last |offset| bytes; a non-negative offset reads `length` bytes (or to
/// the end for 0). A negative length, or a negative offset with a length,
/// is BAD_ARGUMENTS; an I/O error is FAILED.
pub fn read_file(path: &std::path::Path, offset: i64, length: i64) -> Result<Vec<u8>, Fault> {
    use std::io::{Read, Seek, SeekFrom};
    if (offset < 0 && length != 0) || (offset >= 0 && length < 0) {
        return Err(f::bare(f::BAD_ARGUMENTS));
    }
    let failed = |_| f::bare(f::FAILED);
    let mut file = std::fs::File::open(path).map_err(failed)?;
    let mut data = Vec::new();
    if offset < 0 {
        let size = file.seek(SeekFrom::End(0)).map_err(failed)?;
        let pos = size.saturating_sub(offset.unsigned_abs());
        file.seek(SeekFrom::Start(pos)).map_err(failed)?;
        file.take(offset.unsigned_abs())
            .read_to_end(&mut data)
            .map_err(failed)?;
    } else {
        file.seek(SeekFrom::Start(offset as u64)).map_err(failed)?;
        if length == 0 {
            file.read_to_end(&mut data).map_err(failed)?;
        } else {
            file.take(length as u64)
                .read_to_end(&mut data)
                .map_err(failed)?;
        }
    }
    Ok(data)
}

/// tailProcess*Log: Python's options.tailFile, `['', 0, False]` when the
/// file is missing.
fn tail_log(path: Option<PathBuf>, offset: i64, length: i64) -> Value {
    let empty =
        |offset: i64| Value::array([Value::from(""), Value::Int(offset), Value::Bool(false)]);
    let Some(path) = path.filter(|p| p.exists()) else {
        return empty(0);
    };
    match tail_file(&path, offset, length) {
        Some((data, offset, overflow)) => Value::array([
            Value::from(String::from_utf8_lossy(&data).into_owned()),
            Value::Int(offset),
            Value::Bool(overflow),
        ]),
        None => empty(offset),
    }
}

/// Python's tailFile arithmetic: when the file grew past offset+length the
/// read starts at size-length and overflow is set; the returned offset is
/// the file's size.
pub fn tail_file(path: &std::path::Path, offset: i64, length: i64) -> Option<(Vec<u8>, i64, bool)> {
    use std::io::{Read, Seek, SeekFrom};
    let mut file = std::fs::File::open(path).ok()?;
    let size = file.seek(SeekFrom::End(0)).ok()? as i64;
    let (mut offset, mut length) = (offset, length);
    let mut overflow = false;
    if size > offset.saturating_add(length) {
        overflow = true;
        offset = size - 1;
    }
    if offset.saturating_add(length) > size {
        if offset > size - 1 {
            length = 0;
        }
        offset = size - length;
    }
    offset = offset.max(0);
    length = length.max(0);
    let mut data = Vec::new();
    if length > 0 {
        file.seek(SeekFrom::Start(offset as u64)).ok()?;
        file.take(length as u64).read_to_end(&mut data).ok()?;
    }
    Some((data, size, overflow))
}

fn clear_main_log(sup: &Supervisor) -> Outcome {
    let _ = sup;
    match crate::logs::activity::path() {
        Some(p) if p.exists() => {}
        _ => return Err(f::bare(f::NO_FILE)),
    }
    crate::logs::activity::clear().map_err(|_| f::bare(f::FAILED))?;
    Ok(Value::Bool(true))
}

fn clear_process_logs(sup: &mut Supervisor, spec: &str) -> Outcome {
    check_mood(sup)?;
    let (gi, pi) = lookup_process(sup, spec)?;
    sup.groups[gi].processes[pi]
        .clear_logs()
        .map_err(|_| f::with(f::FAILED, spec))?;
    Ok(Value::Bool(true))
}

fn send_stdin(sup: &mut Supervisor, spec: &str, chars: &Value) -> Outcome {
    let data: Vec<u8> = match chars {
        Value::String(s) => s.as_bytes().to_vec(),
        Value::Base64(b) => b.clone(),
        other => return Err(f::with(f::INCORRECT_PARAMETERS, display_value(other))),
    };
    let (gi, pi) = lookup_process(sup, spec)?;
    let p = &mut sup.groups[gi].processes[pi];
    if p.pid == 0 || p.killing {
        return Err(f::with(f::NOT_RUNNING, spec));
    }
    match p.write_stdin(&data) {
        Ok(()) => Ok(Value::Bool(true)),
        Err(e) if e.raw_os_error() == Some(libc::EPIPE) => Err(f::with(f::NO_FILE, spec)),
        Err(e) => Err(f::with(f::FAILED, e)),
    }
}

/// How Python's `str()` shows a scalar in a fault string.
fn display_value(v: &Value) -> String {
    match v {
        Value::Int(n) => n.to_string(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::Double(d) => format!("{:?}", d),
        Value::String(s) => s.clone(),
        Value::Nil => "None".into(),
        other => other.type_name().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mood_calls_answer_running_and_fault_otherwise() {
        let state = by_mood("getState", Mood::Running).map(|o| o.ok());
        assert_eq!(
            state,
            Some(Some(Value::structure([
                ("statecode", Value::Int(1)),
                ("statename", Value::from("RUNNING")),
            ])))
        );
        for mood in [Mood::Restarting, Mood::Shutdown] {
            let fault = by_mood("getAPIVersion", mood).and_then(|o| o.err());
            assert_eq!(fault.map(|f| f.code), Some(f::SHUTDOWN_STATE));
        }
        assert!(by_mood("getProcessInfo", Mood::Running).is_none());
    }

    #[test]
    fn namespecs() {
        assert_eq!(split_namespec("foo"), ("foo", Some("foo")));
        assert_eq!(split_namespec("g:p"), ("g", Some("p")));
        assert_eq!(split_namespec("g:*"), ("g", None));
        assert_eq!(split_namespec("g:"), ("g", None));
        assert_eq!(split_namespec("g:p:q"), ("g", Some("p:q")));
    }

    #[test]
    fn uptimes_like_timedelta() {
        assert_eq!(uptime(0), "0:00:00");
        assert_eq!(uptime(65), "0:01:05");
        assert_eq!(uptime(3600 * 25 + 3), "1 day, 1:00:03");
        assert_eq!(uptime(86400 * 3), "3 days, 0:00:00");
        assert_eq!(uptime(-5), "0:00:00");
    }

    #[test]
    fn descriptions() {
        assert_eq!(
            describe(ProcessState::Running, 42, 100, 0, 165, "", "x"),
            "pid 42, uptime 0:01:05"
        );
        assert_eq!(
            describe(ProcessState::Fatal, 0, 1, 0, 2, "", "x"),
            "unknown error (try \"tail x\")"
        );
        assert_eq!(
            describe(ProcessState::Backoff, 0, 1, 0, 2, "Exited too quickly", "x"),
            "Exited too quickly"
        );
        assert_eq!(
            describe(ProcessState::Stopped, 0, 0, 0, 2, "", "x"),
            "Not started"
        );
        assert_eq!(describe(ProcessState::Starting, 0, 1, 0, 2, "", "x"), "");
    }

    fn file_with(content: &[u8]) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("log");
        std::fs::write(&p, content).expect("write");
        (dir, p)
    }

    #[test]
    fn read_file_like_python() {
        let (_d, p) = file_with(b"0123456789");
        assert_eq!(read_file(&p, 0, 0).expect("all"), b"0123456789");
        assert_eq!(read_file(&p, 2, 3).expect("mid"), b"234");
        assert_eq!(read_file(&p, -4, 0).expect("tail"), b"6789");
        assert_eq!(read_file(&p, -40, 0).expect("tail"), b"0123456789");
        assert_eq!(read_file(&p, 20, 0).expect("past end"), b"");
        assert_eq!(
            read_file(&p, -1, 1).expect_err("bad").code,
            f::BAD_ARGUMENTS
        );
        assert_eq!(
            read_file(&p, 0, -1).expect_err("bad").code,
            f::BAD_ARGUMENTS
        );
    }

    #[test]
    fn tail_file_like_python() {
        let (_d, p) = file_with(b"0123456789");
        assert_eq!(tail_file(&p, 0, 4), Some((b"6789".to_vec(), 10, true)));
        assert_eq!(
            tail_file(&p, 0, 100),
            Some((b"0123456789".to_vec(), 10, false))
        );
        assert_eq!(tail_file(&p, 8, 2), Some((b"89".to_vec(), 10, false)));
        assert_eq!(tail_file(&p, 10, 5), Some((b"".to_vec(), 10, false)));
        assert_eq!(tail_file(&p, 12, 5), Some((b"".to_vec(), 10, false)));
    }
}
