//! The `supervisor.*` XML-RPC namespace with Python's semantics and faults.
//!
//! Each handler here is named in the method table (`methods.rs`) and runs
//! as a job on the supervisor loop's thread, reaching process state only
//! through the loop's API (`Supervisor::find`, `start`, `stop`, `info`…).
//! A handler answers at once ([`Step::Done`]), hands a slow file read back
//! to the HTTP thread ([`Step::Offload`]), or, for `wait=true`, parks a
//! continuation the loop re-runs after every pass until the state it
//! waits for is reached ([`Step::Wait`]).

use super::faults as f;
use super::xmlrpc::{Fault, Value};
use crate::config::{make_namespec, split_namespec};
use crate::logs::pump::Channel;
use crate::states::{Mood, ProcessState};
use crate::supervisor::{
    GroupError, Order, ProcessId, ProcessInfo, StartError, StdinError, StopError, Supervisor,
};
use std::path::{Path, PathBuf};
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

/// A handler on the loop: the call's parameters (their count already
/// checked against the table) to a step, or the fault that stopped it.
pub type Handler = fn(&mut Supervisor, &[Value]) -> Result<Step, Fault>;

/// A step, or the fault that stopped it before it began.
fn or_fault(r: Result<Step, Fault>) -> Step {
    r.unwrap_or_else(|fault| Step::Done(Err(fault)))
}

/// SHUTDOWN_STATE while supervisord is stopping or restarting.
pub fn check_mood(mood: Mood) -> Result<(), Fault> {
    if mood < Mood::Running {
        Err(f::bare(f::SHUTDOWN_STATE))
    } else {
        Ok(())
    }
}

// ---------------------------------------------------------------------------
// Answered by the mood and constants alone (off the loop, see methods.rs).

pub fn api_version(_: Mood) -> Value {
    Value::from(crate::API_VERSION)
}

pub fn supervisor_version(_: Mood) -> Value {
    Value::from(crate::SUPERVISOR_VERSION)
}

pub fn state(mood: Mood) -> Value {
    Value::structure([
        ("statecode", Value::Int(mood.code())),
        ("statename", Value::from(mood.name())),
    ])
}

pub fn pid(_: Mood) -> Value {
    Value::Int(i64::from(std::process::id()))
}

// ---------------------------------------------------------------------------
// The daemon

pub fn identification(sup: &mut Supervisor, _: &[Value]) -> Result<Step, Fault> {
    Ok(Ok(Value::from(sup.identifier())).into())
}

pub fn read_main_log(_: &mut Supervisor, p: &[Value]) -> Result<Step, Fault> {
    let (offset, length) = (int_arg(p, 0)?, int_arg(p, 1)?);
    let path = crate::logs::activity::path();
    Ok(Step::Offload(Box::new(move || {
        read_log(path, offset, length)
    })))
}

pub fn clear_main_log(_: &mut Supervisor, _: &[Value]) -> Result<Step, Fault> {
    match crate::logs::activity::path() {
        Some(p) if p.exists() => {}
        _ => return Err(f::bare(f::NO_FILE)),
    }
    crate::logs::activity::clear().map_err(|_| f::bare(f::FAILED))?;
    Ok(Ok(Value::Bool(true)).into())
}

pub fn shutdown(sup: &mut Supervisor, _: &[Value]) -> Result<Step, Fault> {
    sup.request_shutdown();
    Ok(Ok(Value::Bool(true)).into())
}

pub fn restart(sup: &mut Supervisor, _: &[Value]) -> Result<Step, Fault> {
    sup.request_restart();
    Ok(Ok(Value::Bool(true)).into())
}

pub fn reload_config(sup: &mut Supervisor, _: &[Value]) -> Result<Step, Fault> {
    let [added, changed, removed] = sup.reread().map_err(|msg| f::with(f::CANT_REREAD, msg))?;
    let names = |v: Vec<String>| Value::array(v.into_iter().map(Value::from));
    Ok(Ok(Value::array([Value::array([
        names(added),
        names(changed),
        names(removed),
    ])]))
    .into())
}

pub fn add_process_group(sup: &mut Supervisor, p: &[Value]) -> Result<Step, Fault> {
    let name = str_arg(p, 0)?;
    sup.add_configured_group(name)
        .map_err(|e| group_fault(e, name))?;
    Ok(Ok(Value::Bool(true)).into())
}

pub fn remove_process_group(sup: &mut Supervisor, p: &[Value]) -> Result<Step, Fault> {
    let name = str_arg(p, 0)?;
    sup.remove_group(name).map_err(|e| group_fault(e, name))?;
    Ok(Ok(Value::Bool(true)).into())
}

fn group_fault(e: GroupError, name: &str) -> Fault {
    match e {
        GroupError::BadName => f::with(f::BAD_NAME, name),
        GroupError::AlreadyAdded => f::with(f::ALREADY_ADDED, name),
        GroupError::StillRunning => f::with(f::STILL_RUNNING, name),
    }
}

/// Accepted with any string-like type and data, as Python; the event
/// reaches the listeners subscribed to REMOTE_COMMUNICATION. The one call
/// Python serves while stopping.
pub fn send_remote_comm_event(sup: &mut Supervisor, p: &[Value]) -> Result<Step, Fault> {
    let text = |v: &Value| match v {
        Value::String(s) => Ok(s.clone()),
        Value::Base64(b) => Ok(String::from_utf8_lossy(b).into_owned()),
        _ => Err(f::bare(f::INCORRECT_PARAMETERS)),
    };
    let (kind, data) = (text(&p[0])?, text(&p[1])?);
    sup.remote_communication(&kind, &data);
    Ok(Ok(Value::Bool(true)).into())
}

// ---------------------------------------------------------------------------
// Start, stop, signal

pub fn start_process(sup: &mut Supervisor, p: &[Value]) -> Result<Step, Fault> {
    Ok(start_one(sup, str_arg(p, 0)?, wait_arg(p, 1)))
}

pub fn start_process_group(sup: &mut Supervisor, p: &[Value]) -> Result<Step, Fault> {
    Ok(start_group(sup, str_arg(p, 0)?, wait_arg(p, 1)))
}

pub fn start_all_processes(sup: &mut Supervisor, p: &[Value]) -> Result<Step, Fault> {
    let wait = wait_arg(p, 0);
    let targets = sup.processes(Order::Priority);
    Ok(all_func(
        sup,
        targets,
        |s| !s.is_running(),
        move |sup, name| start_one(sup, name, wait),
    ))
}

pub fn stop_process(sup: &mut Supervisor, p: &[Value]) -> Result<Step, Fault> {
    Ok(stop_one(sup, str_arg(p, 0)?, wait_arg(p, 1)))
}

pub fn stop_process_group(sup: &mut Supervisor, p: &[Value]) -> Result<Step, Fault> {
    Ok(stop_group(sup, str_arg(p, 0)?, wait_arg(p, 1)))
}

pub fn stop_all_processes(sup: &mut Supervisor, p: &[Value]) -> Result<Step, Fault> {
    let wait = wait_arg(p, 0);
    let targets = sup.processes(Order::Priority);
    Ok(all_func(
        sup,
        targets,
        ProcessState::is_running,
        move |sup, name| stop_one_after_dependents(sup, name, wait),
    ))
}

pub fn signal_process(sup: &mut Supervisor, p: &[Value]) -> Result<Step, Fault> {
    Ok(signal_one(sup, str_arg(p, 0)?, &p[1]))
}

/// Python checks the mood before and after signalling a group.
pub fn signal_process_group(sup: &mut Supervisor, p: &[Value]) -> Result<Step, Fault> {
    check_mood(sup.mood())?;
    let step = signal_group(sup, str_arg(p, 0)?, &p[1]);
    check_mood(sup.mood())?;
    Ok(step)
}

/// Python checks the mood only after signalling everything.
pub fn signal_all_processes(sup: &mut Supervisor, p: &[Value]) -> Result<Step, Fault> {
    let sig = p[0].clone();
    let targets = sup.processes(Order::Priority);
    let step = all_func(
        sup,
        targets,
        ProcessState::is_signallable,
        move |sup, name| signal_one(sup, name, &sig),
    );
    check_mood(sup.mood())?;
    Ok(step)
}

/// The group and (unless the spec names a whole group) the process.
fn lookup(sup: &Supervisor, spec: &str) -> Result<Target, Fault> {
    let (group, process) = split_namespec(spec);
    if !sup.has_group(group) {
        return Err(f::with(f::BAD_NAME, spec));
    }
    match process {
        None => Ok(Target::Group(group.to_string())),
        Some(name) => sup
            .find(group, name)
            .map(Target::Process)
            .ok_or_else(|| f::with(f::BAD_NAME, spec)),
    }
}

enum Target {
    Group(String),
    Process(ProcessId),
}

fn lookup_process(sup: &Supervisor, spec: &str) -> Result<ProcessId, Fault> {
    match lookup(sup, spec)? {
        Target::Process(id) => Ok(id),
        Target::Group(_) => Err(f::with(f::BAD_NAME, spec)),
    }
}

fn start_one(sup: &mut Supervisor, spec: &str, wait: bool) -> Step {
    or_fault(try_start_one(sup, spec, wait))
}

fn start_fault(e: StartError, spec: &str) -> Fault {
    match e {
        StartError::NoFile(msg) => f::with(f::NO_FILE, msg),
        StartError::NotExecutable(msg) => f::with(f::NOT_EXECUTABLE, msg),
        StartError::AlreadyStarted => f::with(f::ALREADY_STARTED, spec),
        StartError::UnknownState => f::with(
            f::FAILED,
            format!("{} is in an unknown process state", spec),
        ),
        StartError::SpawnError => f::with(f::SPAWN_ERROR, spec),
        StartError::Abnormal => f::with(f::ABNORMAL_TERMINATION, spec),
        // supervisorctl shows SPAWN_ERROR as "spawn error"; the text says
        // which dependency (depends_on, an extension).
        StartError::Dependency(why) => f::with(f::SPAWN_ERROR, format!("{}: {}", spec, why)),
    }
}

fn try_start_one(sup: &mut Supervisor, spec: &str, wait: bool) -> Result<Step, Fault> {
    check_mood(sup.mood())?;
    let id = match lookup(sup, spec)? {
        Target::Process(id) => id,
        Target::Group(group) => return Ok(start_group(sup, &group, wait)),
    };
    sup.start(id).map_err(|e| start_fault(e, spec))?;
    if wait && sup.state(id) != Some(ProcessState::Running) {
        let spec = spec.to_string();
        return Ok(Step::Wait(Box::new(move |sup: &mut Supervisor| {
            sup.start_outcome(id).map(|r| {
                r.map(|()| Value::Bool(true))
                    .map_err(|e| start_fault(e, &spec))
            })
        })));
    }
    Ok(Step::Done(Ok(Value::Bool(true))))
}

fn start_group(sup: &mut Supervisor, name: &str, wait: bool) -> Step {
    if let Err(fault) = check_mood(sup.mood()) {
        return Step::Done(Err(fault));
    }
    for_group(
        sup,
        name,
        |s| !s.is_running(),
        move |sup, name| start_one(sup, name, wait),
    )
}

/// `func` on the members of group `name` that `predicate` selects, in
/// priority order (Python's make_allfunc over one group); BAD_NAME for
/// an unknown group.
fn for_group<F>(
    sup: &mut Supervisor,
    name: &str,
    predicate: fn(ProcessState) -> bool,
    func: F,
) -> Step
where
    F: Fn(&mut Supervisor, &str) -> Step + Send + 'static,
{
    let Some(targets) = sup.members(name) else {
        return Step::Done(Err(f::with(f::BAD_NAME, name)));
    };
    all_func(sup, targets, predicate, func)
}

fn stop_fault(e: StopError, spec: &str) -> Fault {
    match e {
        StopError::NotRunning => f::with(f::NOT_RUNNING, spec),
        StopError::Failed(msg) => f::with(f::FAILED, msg),
    }
}

fn stop_one(sup: &mut Supervisor, spec: &str, wait: bool) -> Step {
    or_fault(try_stop_one(sup, spec, wait))
}

/// A stop within stop all or a group stop: after the processes that
/// depend on it (`depends_on`; the same as stop_one without it).
fn stop_one_after_dependents(sup: &mut Supervisor, spec: &str, wait: bool) -> Step {
    or_fault(try_stop(sup, spec, wait, Supervisor::stop_after_dependents))
}

fn try_stop_one(sup: &mut Supervisor, spec: &str, wait: bool) -> Result<Step, Fault> {
    try_stop(sup, spec, wait, Supervisor::stop)
}

fn try_stop(
    sup: &mut Supervisor,
    spec: &str,
    wait: bool,
    stop: fn(&mut Supervisor, ProcessId) -> Result<(), StopError>,
) -> Result<Step, Fault> {
    check_mood(sup.mood())?;
    let id = match lookup(sup, spec)? {
        Target::Process(id) => id,
        Target::Group(group) => return Ok(stop_group(sup, &group, wait)),
    };
    stop(sup, id).map_err(|e| stop_fault(e, spec))?;
    if wait && !sup.stop_outcome(id) {
        return Ok(Step::Wait(Box::new(move |sup: &mut Supervisor| {
            sup.stop_outcome(id).then_some(Ok(Value::Bool(true)))
        })));
    }
    Ok(Step::Done(Ok(Value::Bool(true))))
}

fn stop_group(sup: &mut Supervisor, name: &str, wait: bool) -> Step {
    if let Err(fault) = check_mood(sup.mood()) {
        return Step::Done(Err(fault));
    }
    for_group(sup, name, ProcessState::is_running, move |sup, name| {
        stop_one_after_dependents(sup, name, wait)
    })
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

fn signal_one(sup: &mut Supervisor, spec: &str, sig: &Value) -> Step {
    or_fault(try_signal_one(sup, spec, sig))
}

fn try_signal_one(sup: &mut Supervisor, spec: &str, sig: &Value) -> Result<Step, Fault> {
    check_mood(sup.mood())?;
    let id = match lookup(sup, spec)? {
        Target::Process(id) => id,
        Target::Group(group) => return Ok(signal_group(sup, &group, sig)),
    };
    let signo = parse_signal(sig)?;
    sup.signal(id, signo).map_err(|e| stop_fault(e, spec))?;
    Ok(Step::Done(Ok(Value::Bool(true))))
}

fn signal_group(sup: &mut Supervisor, name: &str, sig: &Value) -> Step {
    let sig = sig.clone();
    for_group(sup, name, ProcessState::is_signallable, move |sup, name| {
        signal_one(sup, name, &sig)
    })
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
    targets: Vec<ProcessId>,
    predicate: fn(ProcessState) -> bool,
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
    for id in targets {
        let Some(info) = sup.info(id) else {
            continue;
        };
        if !predicate(info.state) {
            continue;
        }
        let (group, name) = (info.group.to_string(), info.name.to_string());
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
// Information

fn epoch_secs(t: Option<SystemTime>) -> i64 {
    t.and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
        .clamp(i64::from(i32::MIN), i64::from(i32::MAX))
}

fn path_text(p: Option<&Path>) -> String {
    p.map(|p| p.display().to_string()).unwrap_or_default()
}

pub fn get_process_info(sup: &mut Supervisor, p: &[Value]) -> Result<Step, Fault> {
    let id = lookup_process(sup, str_arg(p, 0)?)?;
    let now = epoch_secs(Some(SystemTime::now()));
    Ok(Ok(sup
        .info(id)
        .map(|i| info_value(&i, now))
        .unwrap_or(Value::Nil))
    .into())
}

pub fn get_all_process_info(sup: &mut Supervisor, _: &[Value]) -> Result<Step, Fault> {
    let now = epoch_secs(Some(SystemTime::now()));
    let infos = sup
        .processes(Order::Name)
        .into_iter()
        .filter_map(|id| sup.info(id).map(|i| info_value(&i, now)))
        .collect();
    Ok(Ok(Value::Array(infos)).into())
}

/// Python's `getProcessInfo` struct of one process, `now` given so that
/// every struct of one `getAllProcessInfo` reply agrees.
fn info_value(p: &ProcessInfo, now: i64) -> Value {
    let start = epoch_secs(p.start);
    let stop = epoch_secs(p.stop);
    let spawnerr = p.spawnerr.unwrap_or_default();
    let mut description = describe(p.state, p.pid, start, stop, now, spawnerr, p.name);
    if p.unhealthy {
        // healthcheck (an extension): said until the restart it leads to.
        description.push_str(", unhealthy");
    }
    let stdout = path_text(p.stdout_logfile);
    Value::structure([
        ("name", Value::from(p.name)),
        ("group", Value::from(p.group)),
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
        ("stderr_logfile", Value::from(path_text(p.stderr_logfile))),
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
fn logfile_value(cfg: &crate::config::LogFile, resolved: Option<&Path>) -> Value {
    use crate::config::LogFile;
    match (cfg, resolved) {
        (LogFile::Path(p), _) => Value::from(p.display().to_string()),
        (LogFile::Auto, Some(p)) => Value::from(p.display().to_string()),
        (LogFile::Auto, None) => Value::from("auto"),
        (LogFile::None | LogFile::Syslog, _) => Value::from("none"),
    }
}

/// The six `<channel>_*` fields of one output channel.
fn channel_fields(
    channel: &str,
    log: &crate::config::LogConfig,
    resolved: Option<&Path>,
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

pub fn get_all_config_info(sup: &mut Supervisor, _: &[Value]) -> Result<Step, Fault> {
    let mut rows: Vec<(String, Value)> = Vec::new();
    for g in sup.configured_groups() {
        let inuse = sup.has_group(&g.name);
        for pc in &g.processes {
            // AUTO log files have a name once a group made from this very
            // config exists (Python resolves them on the config object).
            let (out_log, err_log) = sup.resolved_logs(&g.name, &pc.name).unwrap_or_default();
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
            fields.extend(channel_fields("stdout", &pc.stdout, out_log));
            fields.push(("stopsignal".into(), Value::Int(i64::from(pc.stopsignal))));
            fields.push(("stopwaitsecs".into(), Value::Int(pc.stopwaitsecs)));
            fields.extend(channel_fields("stderr", &pc.stderr, err_log));
            fields.push((
                "serverurl".into(),
                none_or(pc.serverurl.as_ref().map(Value::from)),
            ));
            rows.push((pc.name.clone(), Value::Struct(fields)));
        }
    }
    // Python sorts by name only; the sort is stable.
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(Ok(Value::array(rows.into_iter().map(|(_, v)| v))).into())
}

// ---------------------------------------------------------------------------
// Logs

fn process_log_path(
    sup: &Supervisor,
    spec: &str,
    channel: Channel,
) -> Result<Option<PathBuf>, Fault> {
    let id = lookup_process(sup, spec)?;
    Ok(sup.log_path(id, channel))
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

fn read_process_log(sup: &Supervisor, p: &[Value], channel: Channel) -> Result<Step, Fault> {
    let path = process_log_path(sup, str_arg(p, 0)?, channel)?;
    let (offset, length) = (int_arg(p, 1)?, int_arg(p, 2)?);
    Ok(Step::Offload(Box::new(move || {
        read_log(path, offset, length)
    })))
}

pub fn read_process_stdout_log(sup: &mut Supervisor, p: &[Value]) -> Result<Step, Fault> {
    read_process_log(sup, p, Channel::Stdout)
}

pub fn read_process_stderr_log(sup: &mut Supervisor, p: &[Value]) -> Result<Step, Fault> {
    read_process_log(sup, p, Channel::Stderr)
}

fn tail_process_log(sup: &Supervisor, p: &[Value], channel: Channel) -> Result<Step, Fault> {
    let path = process_log_path(sup, str_arg(p, 0)?, channel)?;
    let (offset, length) = (int_arg(p, 1)?, int_arg(p, 2)?);
    Ok(Step::Offload(Box::new(move || {
        Ok(tail_log(path, offset, length))
    })))
}

pub fn tail_process_stdout_log(sup: &mut Supervisor, p: &[Value]) -> Result<Step, Fault> {
    tail_process_log(sup, p, Channel::Stdout)
}

pub fn tail_process_stderr_log(sup: &mut Supervisor, p: &[Value]) -> Result<Step, Fault> {
    tail_process_log(sup, p, Channel::Stderr)
}

pub fn clear_process_logs(sup: &mut Supervisor, p: &[Value]) -> Result<Step, Fault> {
    Ok(clear_one(sup, str_arg(p, 0)?).into())
}

pub fn clear_all_process_logs(sup: &mut Supervisor, _: &[Value]) -> Result<Step, Fault> {
    let targets = sup.processes(Order::Priority);
    Ok(all_func(
        sup,
        targets,
        |_| true,
        |sup, name| clear_one(sup, name).into(),
    ))
}

fn clear_one(sup: &mut Supervisor, spec: &str) -> Outcome {
    check_mood(sup.mood())?;
    let id = lookup_process(sup, spec)?;
    sup.clear_logs(id).map_err(|_| f::with(f::FAILED, spec))?;
    Ok(Value::Bool(true))
}

pub fn send_process_stdin(sup: &mut Supervisor, p: &[Value]) -> Result<Step, Fault> {
    let spec = str_arg(p, 0)?;
    let data: Vec<u8> = match &p[1] {
        Value::String(s) => s.as_bytes().to_vec(),
        Value::Base64(b) => b.clone(),
        other => return Err(f::with(f::INCORRECT_PARAMETERS, display_value(other))),
    };
    let id = lookup_process(sup, spec)?;
    match sup.write_stdin(id, &data) {
        Ok(()) => Ok(Ok(Value::Bool(true)).into()),
        Err(StdinError::NotRunning) => Err(f::with(f::NOT_RUNNING, spec)),
        Err(StdinError::Closed) => Err(f::with(f::NO_FILE, spec)),
        Err(StdinError::Failed(e)) => Err(f::with(f::FAILED, e)),
    }
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
            crate::pycompat::int::py_int(s).ok_or_else(|| f::bare(f::INCORRECT_PARAMETERS))
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
