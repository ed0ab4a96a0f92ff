//! What each action does (`start`, `status`, ...): it makes Python's
//! calls in Python's order, prints Python's lines and sets the exit status
//! the way supervisorctl 4.3.0 does (LSB init codes; 3/4 for `status`).
//! Which actions exist, and their help texts, is the table's business
//! (`table.rs`); this module only holds the methods it names.

use super::error::{fault_repr, Error, Kind};
use super::http::StreamEnd;
use super::{json_out, stdout_write, Ctl};
use crate::config::{make_namespec, split_namespec};
use crate::pycompat::int::py_int;
use crate::rpc::xmlrpc::Value;
use crate::states::ProcessState;

/// LSB init-script exit codes, as supervisorctl uses them.
pub mod exit {
    pub const SUCCESS: i32 = 0;
    pub const GENERIC: i32 = 1;
    pub const INVALID_ARGS: i32 = 2;
    pub const UNIMPLEMENTED_FEATURE: i32 = 3;
    pub const INSUFFICIENT_PRIVILEGES: i32 = 4;
    pub const NOT_INSTALLED: i32 = 5;
    pub const NOT_RUNNING: i32 = 7;
    /// `status` only.
    pub const STATUS_NOT_RUNNING: i32 = 3;
    pub const STATUS_UNKNOWN: i32 = 4;
}

/// XML-RPC fault codes supervisorctl tests for (the server's own table).
pub use crate::rpc::faults;

type R = Result<(), Error>;

/// Python's `str()` of a value as it appears in messages.
pub fn py_str(v: &Value) -> String {
    match v {
        Value::String(s) | Value::DateTime(s) => s.clone(),
        Value::Int(i) => i.to_string(),
        Value::Bool(b) => if *b { "True" } else { "False" }.to_string(),
        Value::Double(d) => {
            if d.fract() == 0.0 && d.is_finite() {
                format!("{:.1}", d)
            } else {
                d.to_string()
            }
        }
        Value::Nil => "None".to_string(),
        other => format!("{:?}", other),
    }
}

pub(super) fn field(v: &Value, key: &str) -> String {
    v.struct_get(key).map(py_str).unwrap_or_default()
}

fn int_field(v: &Value, key: &str) -> i64 {
    v.struct_get(key).and_then(Value::as_int).unwrap_or(0)
}

pub(super) fn items(v: &Value) -> &[Value] {
    v.as_array().unwrap_or(&[])
}

/// The state a process info reports; None for a code we do not know.
pub(super) fn state(info: &Value) -> Option<ProcessState> {
    ProcessState::from_code(int_field(info, "state"))
}

pub(super) fn words(arg: &str) -> Vec<String> {
    arg.split_whitespace().map(str::to_string).collect()
}

/// A result struct for a single-process call that failed with a fault.
fn fault_result(e: &Error, group: &str, name: &str) -> Option<Value> {
    let Kind::Fault(f) = &e.kind else {
        return None;
    };
    Some(Value::structure([
        ("status", Value::Int(f.code)),
        ("name", Value::String(name.to_string())),
        ("group", Value::String(group.to_string())),
        ("description", Value::String(f.string.clone())),
    ]))
}

impl Ctl {
    fn set_exitstatus_from_fault(&mut self, code: i64, ignored: Option<i64>) {
        if Some(code) == ignored || code == faults::SUCCESS {
        } else if [
            faults::SPAWN_ERROR,
            faults::ABNORMAL_TERMINATION,
            faults::NOT_RUNNING,
        ]
        .contains(&code)
        {
            self.exitstatus = exit::NOT_RUNNING;
        } else {
            self.exitstatus = exit::GENERIC;
        }
    }

    /// Checks that the server answers and speaks API 3.0; prints Python's
    /// message and returns false when it does not.
    #[track_caller]
    pub fn upcheck(&mut self) -> Result<bool, Error> {
        match self.call("supervisor.getVersion", &[]) {
            Ok(v) => {
                if v.as_str() != Some(crate::API_VERSION) {
                    self.output(&format!(
                        "Sorry, this version of supervisorctl expects to talk to a server with API version {}, but the remote version is {}.",
                        crate::API_VERSION,
                        py_str(&v)
                    ));
                    self.exitstatus = exit::NOT_INSTALLED;
                    return Ok(false);
                }
                Ok(true)
            }
            Err(e) => match &e.kind {
                Kind::Fault(f) if f.code == faults::UNKNOWN_METHOD => {
                    self.output("Sorry, supervisord responded but did not recognize the supervisor namespace commands that supervisorctl uses to control it.  Please check that the [rpcinterface:supervisor] section is enabled in the configuration file (see sample.conf).");
                    self.exitstatus = exit::UNIMPLEMENTED_FEATURE;
                    Ok(false)
                }
                Kind::Os(libc::ECONNREFUSED) => {
                    let msg = format!("{} refused connection", self.client.url);
                    self.output(&msg);
                    self.exitstatus = exit::INSUFFICIENT_PRIVILEGES;
                    Ok(false)
                }
                Kind::Os(libc::ENOENT) => {
                    let msg = format!("{} no such file", self.client.url);
                    self.output(&msg);
                    self.exitstatus = exit::NOT_RUNNING;
                    Ok(false)
                }
                Kind::Fault(_) | Kind::Os(_) | Kind::Gai { .. } | Kind::Disconnected => {
                    self.exitstatus = exit::GENERIC;
                    Err(e)
                }
                _ => Err(e),
            },
        }
    }

    /// Python's `default()`: an unknown command.
    pub fn default_line(&mut self, line: &str) {
        self.output(&format!("*** Unknown syntax: {}", line));
        self.exitstatus = exit::GENERIC;
    }

    /// `quit`, `exit` and end of input: a blank line; the table says
    /// they end the shell.
    pub(super) fn do_quit(&mut self, _arg: &str) -> R {
        self.output("");
        Ok(())
    }

    // ----- status and friends

    pub(super) fn show_statuses(&mut self, infos: &[Value]) {
        let names: Vec<String> = infos
            .iter()
            .map(|i| make_namespec(&field(i, "group"), &field(i, "name")))
            .collect();
        let maxlen = names.iter().map(|n| n.chars().count()).fold(30, usize::max);
        for (i, info) in infos.iter().enumerate() {
            let line = format!(
                "{:<w$}{:<10}{}",
                names[i],
                field(info, "statename"),
                field(info, "description"),
                w = maxlen + 3
            );
            self.output(&line);
        }
    }

    pub(super) fn do_status(&mut self, arg: &str) -> R {
        let mut names = words(arg);
        // Not Python's: `--json` prints the infos as JSON (json_out.rs).
        let json = json_out::take_flag(&mut names);
        self.messages_to_stderr |= json;
        if !self.upcheck()? {
            self.exitstatus = exit::STATUS_UNKNOWN;
            return Ok(());
        }
        self.client.check()?;
        let all = self.call("supervisor.getAllProcessInfo", &[])?;
        let all = items(&all).to_vec();
        let matching: Vec<Value> = if names.is_empty() || names.iter().any(|n| n == "all") {
            all
        } else {
            let mut m = Vec::new();
            for name in &names {
                let (group, process) = split_namespec(name);
                let mut bad = true;
                for info in &all {
                    let mut matched = field(info, "group") == group;
                    if let Some(p) = process {
                        matched = matched && field(info, "name") == p;
                    }
                    if matched {
                        bad = false;
                        m.push(info.clone());
                    }
                }
                if bad {
                    let msg = match process {
                        None => format!("{}: ERROR (no such group)", group),
                        Some(_) => format!("{}: ERROR (no such process)", name),
                    };
                    self.output(&msg);
                    self.exitstatus = exit::STATUS_UNKNOWN;
                }
            }
            m
        };
        if json {
            stdout_write(json_out::array_lines(&matching).as_bytes());
        } else {
            self.show_statuses(&matching);
        }
        if matching
            .iter()
            .any(|i| state(i).is_some_and(ProcessState::is_stopped))
        {
            self.exitstatus = exit::STATUS_NOT_RUNNING;
        }
        Ok(())
    }

    pub(super) fn do_pid(&mut self, arg: &str) -> R {
        self.client.check()?;
        if !self.upcheck()? {
            return Ok(());
        }
        let names = words(arg);
        if names.is_empty() {
            let pid = self.call("supervisor.getPID", &[])?;
            self.output(&py_str(&pid));
        } else if names.iter().any(|n| n == "all") {
            let all = self.call("supervisor.getAllProcessInfo", &[])?;
            for info in items(&all) {
                self.output(&field(info, "pid"));
            }
        } else {
            for name in &names {
                match self.call("supervisor.getProcessInfo", &[Value::String(name.clone())]) {
                    Ok(info) => {
                        self.output(&field(&info, "pid"));
                        if int_field(&info, "pid") == 0 {
                            self.exitstatus = exit::NOT_RUNNING;
                        }
                    }
                    Err(e) => {
                        self.exitstatus = exit::GENERIC;
                        if e.fault_code() == Some(faults::BAD_NAME) {
                            self.output(&format!("No such process {}", name));
                        } else {
                            return Err(e);
                        }
                    }
                }
            }
        }
        Ok(())
    }

    // ----- start / stop / signal / restart / clear

    fn startresult(&self, r: &Value) -> Result<String, Error> {
        let name = make_namespec(&field(r, "group"), &field(r, "name"));
        let code = int_field(r, "status");
        let why = match code {
            faults::BAD_NAME => "no such process",
            faults::NO_FILE => "no such file",
            faults::NOT_EXECUTABLE => "file is not executable",
            faults::ALREADY_STARTED => "already started",
            faults::SPAWN_ERROR => "spawn error",
            faults::ABNORMAL_TERMINATION => "abnormal termination",
            faults::SUCCESS => return Ok(format!("{}: started", name)),
            _ => {
                return Err(Error::value(format!(
                    "Unknown result code {} for {}",
                    code, name
                )))
            }
        };
        Ok(format!("{}: ERROR ({})", name, why))
    }

    /// Prints one `signalresult` line per procstatus and sets the exit
    /// status from each (stop and signal share this).
    fn report_signalled(&mut self, results: &[Value], verb: &str, ignored: Option<i64>) -> R {
        for r in results {
            let line = self.signalresult(r, verb)?;
            self.output(&line);
            self.set_exitstatus_from_fault(int_field(r, "status"), ignored);
        }
        Ok(())
    }

    fn signalresult(&self, r: &Value, success: &str) -> Result<String, Error> {
        let name = make_namespec(&field(r, "group"), &field(r, "name"));
        let code = int_field(r, "status");
        let why = match code {
            faults::BAD_NAME => "no such process",
            faults::BAD_SIGNAL => "bad signal name",
            faults::NOT_RUNNING => "not running",
            faults::SUCCESS => return Ok(format!("{}: {}", name, success)),
            faults::FAILED => return Ok(field(r, "description")),
            _ => {
                return Err(Error::value(format!(
                    "Unknown result code {} for {}",
                    code, name
                )))
            }
        };
        Ok(format!("{}: ERROR ({})", name, why))
    }

    fn clearresult(&self, r: &Value) -> Result<String, Error> {
        let name = make_namespec(&field(r, "group"), &field(r, "name"));
        let code = int_field(r, "status");
        match code {
            faults::BAD_NAME => Ok(format!("{}: ERROR (no such process)", name)),
            faults::FAILED => Ok(format!("{}: ERROR (failed)", name)),
            faults::SUCCESS => Ok(format!("{}: cleared", name)),
            _ => Err(Error::value(format!(
                "Unknown result code {} for {}",
                code, name
            ))),
        }
    }

    pub(super) fn do_start(&mut self, arg: &str) -> R {
        if !self.upcheck()? {
            return Ok(());
        }
        let names = words(arg);
        self.client.check()?;
        if names.is_empty() {
            self.output("Error: start requires a process name");
            self.exitstatus = exit::INVALID_ARGS;
            self.help_for("start");
            return Ok(());
        }
        let ignore = Some(faults::ALREADY_STARTED);
        if names.iter().any(|n| n == "all") {
            let results = self.call("supervisor.startAllProcesses", &[])?;
            for r in items(&results) {
                let line = self.startresult(r)?;
                self.output(&line);
                self.set_exitstatus_from_fault(int_field(r, "status"), ignore);
            }
            return Ok(());
        }
        for name in &names {
            let (group, process) = split_namespec(name);
            match process {
                None => match self.call(
                    "supervisor.startProcessGroup",
                    &[Value::String(group.to_string())],
                ) {
                    Ok(results) => {
                        for r in items(&results) {
                            let line = self.startresult(r)?;
                            self.output(&line);
                            self.set_exitstatus_from_fault(int_field(r, "status"), ignore);
                        }
                    }
                    Err(e) if e.fault_code() == Some(faults::BAD_NAME) => {
                        self.output(&format!("{}: ERROR (no such group)", group));
                        self.exitstatus = exit::INVALID_ARGS;
                    }
                    Err(e) => {
                        self.exitstatus = exit::GENERIC;
                        return Err(e);
                    }
                },
                Some(process) => {
                    match self.call("supervisor.startProcess", &[Value::String(name.clone())]) {
                        Ok(_) => {
                            self.output(&format!("{}: started", make_namespec(group, process)));
                        }
                        Err(e) => {
                            let Some(r) = fault_result(&e, group, process) else {
                                return Err(e);
                            };
                            let line = self.startresult(&r)?;
                            self.output(&line);
                            self.set_exitstatus_from_fault(int_field(&r, "status"), ignore);
                        }
                    }
                }
            }
        }
        Ok(())
    }

    pub(super) fn do_stop(&mut self, arg: &str) -> R {
        if !self.upcheck()? {
            return Ok(());
        }
        let names = words(arg);
        self.client.check()?;
        if names.is_empty() {
            self.output("Error: stop requires a process name");
            self.exitstatus = exit::GENERIC;
            self.help_for("stop");
            return Ok(());
        }
        let ignore = Some(faults::NOT_RUNNING);
        if names.iter().any(|n| n == "all") {
            let results = self.call("supervisor.stopAllProcesses", &[])?;
            self.report_signalled(items(&results), "stopped", ignore)?;
            return Ok(());
        }
        for name in &names {
            let (group, process) = split_namespec(name);
            match process {
                None => match self.call(
                    "supervisor.stopProcessGroup",
                    &[Value::String(group.to_string())],
                ) {
                    Ok(results) => {
                        self.report_signalled(items(&results), "stopped", ignore)?;
                    }
                    Err(e) => {
                        self.exitstatus = exit::GENERIC;
                        if e.fault_code() == Some(faults::BAD_NAME) {
                            self.output(&format!("{}: ERROR (no such group)", group));
                        } else {
                            return Err(e);
                        }
                    }
                },
                Some(process) => {
                    match self.call("supervisor.stopProcess", &[Value::String(name.clone())]) {
                        Ok(_) => {
                            self.output(&format!("{}: stopped", make_namespec(group, process)));
                        }
                        Err(e) => {
                            let Some(r) = fault_result(&e, group, process) else {
                                return Err(e);
                            };
                            self.report_signalled(std::slice::from_ref(&r), "stopped", ignore)?;
                        }
                    }
                }
            }
        }
        Ok(())
    }

    pub(super) fn do_signal(&mut self, arg: &str) -> R {
        if !self.upcheck()? {
            return Ok(());
        }
        let args = words(arg);
        if args.len() < 2 {
            self.output("Error: signal requires a signal name and a process name");
            self.help_for("signal");
            self.exitstatus = exit::GENERIC;
            return Ok(());
        }
        let sig = Value::String(args[0].clone());
        let names = &args[1..];
        self.client.check()?;
        if names.iter().any(|n| n == "all") {
            let results = self.call("supervisor.signalAllProcesses", &[sig])?;
            self.report_signalled(items(&results), "signalled", None)?;
            return Ok(());
        }
        for name in names {
            let (group, process) = split_namespec(name);
            match process {
                None => match self.call(
                    "supervisor.signalProcessGroup",
                    &[Value::String(group.to_string()), sig.clone()],
                ) {
                    Ok(results) => {
                        self.report_signalled(items(&results), "signalled", None)?;
                    }
                    Err(e) if e.fault_code() == Some(faults::BAD_NAME) => {
                        self.output(&format!("{}: ERROR (no such group)", group));
                        self.exitstatus = exit::GENERIC;
                    }
                    Err(e) => return Err(e),
                },
                Some(process) => match self.call(
                    "supervisor.signalProcess",
                    &[Value::String(name.clone()), sig.clone()],
                ) {
                    Ok(_) => {
                        self.output(&format!("{}: signalled", make_namespec(group, process)));
                    }
                    Err(e) => {
                        let Some(r) = fault_result(&e, group, process) else {
                            return Err(e);
                        };
                        self.report_signalled(std::slice::from_ref(&r), "signalled", None)?;
                    }
                },
            }
        }
        Ok(())
    }

    pub(super) fn do_restart(&mut self, arg: &str) -> R {
        if !self.upcheck()? {
            return Ok(());
        }
        if words(arg).is_empty() {
            self.output("Error: restart requires a process name");
            self.exitstatus = exit::GENERIC;
            self.help_for("restart");
            return Ok(());
        }
        self.do_stop(arg)?;
        self.do_start(arg)
    }

    pub(super) fn do_clear(&mut self, arg: &str) -> R {
        if !self.upcheck()? {
            return Ok(());
        }
        let names = words(arg);
        if names.is_empty() {
            self.output("Error: clear requires a process name");
            self.exitstatus = exit::GENERIC;
            self.help_for("clear");
            return Ok(());
        }
        self.client.check()?;
        if names.iter().any(|n| n == "all") {
            let results = self.call("supervisor.clearAllProcessLogs", &[])?;
            for r in items(&results) {
                let line = self.clearresult(r)?;
                self.output(&line);
                self.set_exitstatus_from_fault(int_field(r, "status"), None);
            }
            return Ok(());
        }
        for name in &names {
            let (group, process) = split_namespec(name);
            match self.call(
                "supervisor.clearProcessLogs",
                &[Value::String(name.clone())],
            ) {
                Ok(_) => {
                    let shown = match process {
                        Some(p) => make_namespec(group, p),
                        None => format!("{}:None", group),
                    };
                    self.output(&format!("{}: cleared", shown));
                }
                Err(e) => {
                    let pname = process.unwrap_or("None");
                    let Some(r) = fault_result(&e, group, pname) else {
                        return Err(e);
                    };
                    let line = self.clearresult(&r)?;
                    self.output(&line);
                    self.set_exitstatus_from_fault(int_field(&r, "status"), None);
                }
            }
        }
        Ok(())
    }

    // ----- logs

    pub(super) fn do_tail(&mut self, arg: &str) -> R {
        if !self.upcheck()? {
            return Ok(());
        }
        let mut args = words(arg);
        if args.is_empty() {
            self.output("Error: too few arguments");
            self.exitstatus = exit::GENERIC;
            self.help_for("tail");
            return Ok(());
        }
        if args.len() > 3 {
            self.output("Error: too many arguments");
            self.exitstatus = exit::GENERIC;
            self.help_for("tail");
            return Ok(());
        }
        let modifier = if args[0].starts_with('-') {
            Some(args.remove(0))
        } else {
            None
        };
        let (name, channel) = if args.len() == 1 {
            (args[0].clone(), "stdout".to_string())
        } else if let (Some(first), Some(last)) = (args.first(), args.last()) {
            let channel = last.to_lowercase();
            if channel != "stderr" && channel != "stdout" {
                self.output(&format!(
                    "Error: bad channel {}",
                    crate::pycompat::repr::py_repr(&channel)
                ));
                self.exitstatus = exit::GENERIC;
                return Ok(());
            }
            (first.clone(), channel)
        } else {
            self.output("Error: tail requires process name");
            self.exitstatus = exit::GENERIC;
            return Ok(());
        };
        let mut bytes = Some(1600i64);
        if let Some(m) = &modifier {
            let what = &m[1..];
            if what == "f" {
                bytes = None;
            } else {
                match py_int(what) {
                    Some(n) => bytes = Some(n),
                    None => {
                        self.output(&format!("Error: bad argument {}", m));
                        self.exitstatus = exit::GENERIC;
                        return Ok(());
                    }
                }
            }
        }
        self.client.check()?;
        let Some(bytes) = bytes else {
            return self.tailf(&format!("/logtail/{}/{}", name, channel));
        };
        let method = if channel == "stdout" {
            "supervisor.readProcessStdoutLog"
        } else {
            "supervisor.readProcessStderrLog"
        };
        let params = [
            Value::String(name.clone()),
            Value::Int(bytes.saturating_neg()),
            Value::Int(0),
        ];
        match self.call(method, &params) {
            Ok(v) => self.output(&py_str(&v)),
            Err(e) => {
                self.exitstatus = exit::GENERIC;
                let why = match e.fault_code() {
                    Some(faults::NO_FILE) => "no log file",
                    Some(faults::FAILED) => "unknown error reading log",
                    Some(faults::BAD_NAME) => "no such process name",
                    _ => return Err(e),
                };
                self.output(&format!("{}: ERROR ({})", name, why));
            }
        }
        Ok(())
    }

    pub(super) fn do_maintail(&mut self, arg: &str) -> R {
        if !self.upcheck()? {
            return Ok(());
        }
        let args = words(arg);
        let bytes = if args.len() > 1 {
            self.output("Error: too many arguments");
            self.exitstatus = exit::GENERIC;
            self.help_for("maintail");
            return Ok(());
        } else if let Some(a) = args.first() {
            let Some(what) = a.strip_prefix('-') else {
                self.output(&format!("Error: bad argument {}", a));
                self.exitstatus = exit::GENERIC;
                return Ok(());
            };
            if what == "f" {
                return self.tailf("/mainlogtail");
            }
            match py_int(what) {
                Some(n) => n,
                None => {
                    self.output(&format!("Error: bad argument {}", a));
                    self.exitstatus = exit::GENERIC;
                    return Ok(());
                }
            }
        } else {
            1600
        };
        self.client.check()?;
        match self.call(
            "supervisor.readLog",
            &[Value::Int(bytes.saturating_neg()), Value::Int(0)],
        ) {
            Ok(v) => self.output(&py_str(&v)),
            Err(e) => {
                self.exitstatus = exit::GENERIC;
                let why = match e.fault_code() {
                    Some(faults::NO_FILE) => "no log file",
                    Some(faults::FAILED) => "unknown error reading log",
                    _ => return Err(e),
                };
                self.output(&format!("supervisord: ERROR ({})", why));
            }
        }
        Ok(())
    }

    /// `tail -f` / `maintail -f`: streams until the server closes or Ctrl-C.
    fn tailf(&mut self, path: &str) -> R {
        self.output("==> Press Ctrl-C to exit <==");
        let end = self.client.stream(path, write_log_data);
        if let StreamEnd::Interrupted = end {
            self.output("");
        }
        Ok(())
    }

    // ----- process groups and config

    pub(super) fn do_add(&mut self, arg: &str) -> R {
        self.client.check()?;
        for name in words(arg) {
            match self.call("supervisor.addProcessGroup", &[Value::String(name.clone())]) {
                Ok(_) => self.output(&format!("{}: added process group", name)),
                Err(e) => match e.fault_code() {
                    Some(faults::SHUTDOWN_STATE) => {
                        self.output("ERROR: shutting down");
                        self.exitstatus = exit::GENERIC;
                    }
                    Some(faults::ALREADY_ADDED) => {
                        self.output("ERROR: process group already active")
                    }
                    Some(faults::BAD_NAME) => {
                        self.output(&format!("ERROR: no such process/group: {}", name));
                        self.exitstatus = exit::GENERIC;
                    }
                    _ => {
                        self.exitstatus = exit::GENERIC;
                        return Err(e);
                    }
                },
            }
        }
        Ok(())
    }

    pub(super) fn do_remove(&mut self, arg: &str) -> R {
        self.client.check()?;
        for name in words(arg) {
            match self.call(
                "supervisor.removeProcessGroup",
                &[Value::String(name.clone())],
            ) {
                Ok(_) => self.output(&format!("{}: removed process group", name)),
                Err(e) => {
                    self.exitstatus = exit::GENERIC;
                    match e.fault_code() {
                        Some(faults::STILL_RUNNING) => {
                            self.output(&format!("ERROR: process/group still running: {}", name))
                        }
                        Some(faults::BAD_NAME) => {
                            self.output(&format!("ERROR: no such process/group: {}", name))
                        }
                        _ => return Err(e),
                    }
                }
            }
        }
        Ok(())
    }

    fn no_args(&mut self, action: &str, arg: &str) -> bool {
        if arg.is_empty() {
            return true;
        }
        self.output(&format!("Error: {} accepts no arguments", action));
        self.exitstatus = exit::GENERIC;
        self.help_for(action);
        false
    }

    pub(super) fn do_avail(&mut self, arg: &str) -> R {
        // Not Python's: `--json` prints the config infos as JSON.
        let json = arg == json_out::FLAG;
        self.messages_to_stderr |= json;
        if !json && !self.no_args("avail", arg) {
            return Ok(());
        }
        self.client.check()?;
        match self.call("supervisor.getAllConfigInfo", &[]) {
            Ok(v) if json => stdout_write(json_out::array_lines(items(&v)).as_bytes()),
            Ok(v) => {
                for c in items(&v) {
                    let name = make_namespec(&field(c, "group"), &field(c, "name"));
                    let truthy = |k: &str| match c.struct_get(k) {
                        Some(Value::Bool(b)) => *b,
                        Some(Value::Int(i)) => *i != 0,
                        _ => false,
                    };
                    let line = format!(
                        "{:<32} {:<9} {:<9} {}:{}",
                        name,
                        if truthy("inuse") { "in use" } else { "avail" },
                        if truthy("autostart") {
                            "auto"
                        } else {
                            "manual"
                        },
                        field(c, "group_prio"),
                        field(c, "process_prio")
                    );
                    self.output(&line);
                }
            }
            Err(e) => {
                self.exitstatus = exit::GENERIC;
                if e.fault_code() == Some(faults::SHUTDOWN_STATE) {
                    self.output("ERROR: supervisor shutting down");
                } else {
                    return Err(e);
                }
            }
        }
        Ok(())
    }

    /// reloadConfig's `[[added, changed, removed]]`.
    fn changes(v: &Value) -> [Vec<String>; 3] {
        let lists = items(v).first().map(items).unwrap_or(&[]);
        let get = |i: usize| -> Vec<String> {
            lists
                .get(i)
                .map(items)
                .unwrap_or(&[])
                .iter()
                .map(py_str)
                .collect()
        };
        [get(0), get(1), get(2)]
    }

    pub(super) fn do_reread(&mut self, arg: &str) -> R {
        if !self.no_args("reread", arg) {
            return Ok(());
        }
        self.client.check()?;
        match self.call("supervisor.reloadConfig", &[]) {
            Ok(v) => {
                let [added, changed, dropped] = Self::changes(&v);
                let mut all = std::collections::BTreeMap::new();
                for (list, what) in [
                    (added, "available"),
                    (changed, "changed"),
                    (dropped, "disappeared"),
                ] {
                    for n in list {
                        all.insert(n, what);
                    }
                }
                if all.is_empty() {
                    self.output("No config updates to processes");
                }
                for (n, what) in all {
                    self.output(&format!("{}: {}", n, what));
                }
            }
            Err(e) => {
                self.exitstatus = exit::GENERIC;
                match &e.kind {
                    Kind::Fault(f) if f.code == faults::SHUTDOWN_STATE => {
                        self.output("ERROR: supervisor shutting down")
                    }
                    Kind::Fault(f) if f.code == faults::CANT_REREAD => {
                        let msg = format!("ERROR: {}", f.string);
                        self.output(&msg)
                    }
                    _ => return Err(e),
                }
            }
        }
        Ok(())
    }

    pub(super) fn do_update(&mut self, arg: &str) -> R {
        self.client.check()?;
        let result = match self.call("supervisor.reloadConfig", &[]) {
            Ok(v) => v,
            Err(e) => {
                self.exitstatus = exit::GENERIC;
                if e.fault_code() == Some(faults::SHUTDOWN_STATE) {
                    self.output("ERROR: already shutting down");
                    return Ok(());
                }
                return Err(e);
            }
        };
        let [added, changed, removed] = Self::changes(&result);
        let mut valid: Vec<String> = Vec::new();
        for w in words(arg) {
            if !valid.contains(&w) {
                valid.push(w);
            }
        }
        if valid.iter().any(|g| g == "all") {
            valid.clear();
        }
        if !valid.is_empty() {
            let infos = self.call("supervisor.getAllProcessInfo", &[])?;
            let mut groups: Vec<String> = items(&infos).iter().map(|i| field(i, "group")).collect();
            groups.extend(added.iter().cloned());
            for g in &valid {
                if !groups.contains(g) {
                    self.output(&format!("ERROR: no such group: {}", g));
                    self.exitstatus = exit::GENERIC;
                }
            }
        }
        let wanted = |g: &String| valid.is_empty() || valid.contains(g);
        for g in removed.iter().filter(|g| wanted(g)) {
            let results = self.call("supervisor.stopProcessGroup", &[Value::String(g.clone())])?;
            self.output(&format!("{}: stopped", g));
            if items(&results)
                .iter()
                .any(|r| int_field(r, "status") == faults::FAILED)
            {
                self.output(&format!("{}: has problems; not removing", g));
                self.exitstatus = exit::GENERIC;
                continue;
            }
            self.call("supervisor.removeProcessGroup", &[Value::String(g.clone())])?;
            self.output(&format!("{}: removed process group", g));
        }
        for g in changed.iter().filter(|g| wanted(g)) {
            self.call("supervisor.stopProcessGroup", &[Value::String(g.clone())])?;
            self.output(&format!("{}: stopped", g));
            self.call("supervisor.removeProcessGroup", &[Value::String(g.clone())])?;
            self.call("supervisor.addProcessGroup", &[Value::String(g.clone())])?;
            self.output(&format!("{}: updated process group", g));
        }
        for g in added.iter().filter(|g| wanted(g)) {
            self.call("supervisor.addProcessGroup", &[Value::String(g.clone())])?;
            self.output(&format!("{}: added process group", g));
        }
        Ok(())
    }

    // ----- the daemon itself

    fn confirm(&mut self, question: &str) -> Result<bool, Error> {
        if !self.interactive {
            return Ok(true);
        }
        let answer = self.raw_input(question)?;
        Ok(answer.to_lowercase().starts_with('y'))
    }

    pub(super) fn do_shutdown(&mut self, arg: &str) -> R {
        if !self.no_args("shutdown", arg) {
            return Ok(());
        }
        if !self.confirm("Really shut the remote supervisord process down y/N? ")? {
            return Ok(());
        }
        self.client.check()?;
        match self.call("supervisor.shutdown", &[]) {
            Ok(_) => self.output("Shut down"),
            Err(e) => match &e.kind {
                Kind::Fault(f) if f.code == faults::SHUTDOWN_STATE => {
                    self.output("ERROR: already shutting down")
                }
                Kind::Fault(_) => {
                    self.exitstatus = exit::GENERIC;
                    return Err(e);
                }
                Kind::Os(code) if *code == libc::ECONNREFUSED || *code == libc::ENOENT => {
                    self.exitstatus = exit::GENERIC;
                    let what = if *code == libc::ECONNREFUSED {
                        "refused connection"
                    } else {
                        "no such file"
                    };
                    let msg = format!("ERROR: {} {} (already shut down?)", self.client.url, what);
                    self.output(&msg);
                }
                Kind::Os(_) | Kind::Gai { .. } | Kind::Disconnected => {
                    self.exitstatus = exit::GENERIC;
                    return Err(e);
                }
                _ => return Err(e),
            },
        }
        Ok(())
    }

    pub(super) fn do_reload(&mut self, arg: &str) -> R {
        if !self.no_args("reload", arg) {
            return Ok(());
        }
        if !self.confirm("Really restart the remote supervisord process y/N? ")? {
            return Ok(());
        }
        self.client.check()?;
        match self.call("supervisor.restart", &[]) {
            Ok(_) => self.output("Restarted supervisord"),
            Err(e) => match &e.kind {
                Kind::Fault(f) => {
                    self.exitstatus = exit::GENERIC;
                    if f.code == faults::SHUTDOWN_STATE {
                        self.output("ERROR: already shutting down");
                    } else {
                        return Err(e);
                    }
                }
                _ => return Err(e),
            },
        }
        Ok(())
    }

    pub(super) fn do_open(&mut self, arg: &str) -> R {
        let url = arg.trim();
        if !url_scheme_is(url, "unix") && !url_scheme_is(url, "http") {
            self.output("ERROR: url must be http:// or unix://");
            self.exitstatus = exit::GENERIC;
            return Ok(());
        }
        self.client.url = url.to_string();
        self.client.reset();
        let old = self.exitstatus;
        self.do_status("")?;
        self.exitstatus = old;
        Ok(())
    }

    pub(super) fn do_version(&mut self, arg: &str) -> R {
        if !self.no_args("version", arg) {
            return Ok(());
        }
        if !self.upcheck()? {
            return Ok(());
        }
        self.client.check()?;
        let v = self.call("supervisor.getSupervisorVersion", &[])?;
        self.output(&py_str(&v));
        Ok(())
    }

    // ----- fg

    pub(super) fn do_fg(&mut self, arg: &str) -> R {
        if !self.upcheck()? {
            return Ok(());
        }
        let names = words(arg);
        if names.is_empty() {
            self.output("ERROR: no process name supplied");
            self.exitstatus = exit::GENERIC;
            self.help_for("fg");
            return Ok(());
        }
        if names.len() > 1 {
            self.output("ERROR: too many process names supplied");
            self.exitstatus = exit::GENERIC;
            return Ok(());
        }
        let name = names[0].clone();
        self.client.check()?;
        let info = match self.call("supervisor.getProcessInfo", &[Value::String(name.clone())]) {
            Ok(i) => i,
            Err(e) => match &e.kind {
                Kind::Fault(f) if f.code == faults::BAD_NAME => {
                    self.output("ERROR: bad process name supplied");
                    self.exitstatus = exit::GENERIC;
                    return Ok(());
                }
                Kind::Fault(f) => {
                    let msg = format!("ERROR: {}", fault_repr(f));
                    self.output(&msg);
                    return Ok(());
                }
                _ => return Err(e),
            },
        };
        if state(&info) != Some(ProcessState::Running) {
            self.output("ERROR: process not running");
            self.exitstatus = exit::GENERIC;
            return Ok(());
        }
        self.output("==> Press Ctrl-C to exit <==");
        let streams = super::fg::Streams::start(&self.client, &name);
        let result = self.fg_input_loop(&name);
        streams.stop();
        result
    }

    /// Forwards typed lines to the process until Ctrl-C, end of input, or
    /// the process stops running.
    fn fg_input_loop(&mut self, name: &str) -> R {
        loop {
            let line = match super::fg::read_stdin_line() {
                Ok(Some(l)) => l,
                Ok(None) | Err(_) => {
                    self.output("Exiting foreground");
                    return Ok(());
                }
            };
            let params = [
                Value::String(name.to_string()),
                Value::String(format!("{}\n", line)),
            ];
            if let Err(e) = self.call("supervisor.sendProcessStdin", &params) {
                match &e.kind {
                    Kind::Fault(f) if f.code == faults::NOT_RUNNING => {
                        self.output("Process got killed")
                    }
                    Kind::Fault(f) => {
                        let msg = format!("ERROR: {}", fault_repr(f));
                        self.output(&msg)
                    }
                    Kind::Interrupted => {
                        self.output("Exiting foreground");
                        return Ok(());
                    }
                    _ => return Err(e),
                }
                self.output("Exiting foreground");
                return Ok(());
            }
            let info = match self.call(
                "supervisor.getProcessInfo",
                &[Value::String(name.to_string())],
            ) {
                Ok(i) => i,
                Err(e) if matches!(e.kind, Kind::Interrupted) => {
                    self.output("Exiting foreground");
                    return Ok(());
                }
                Err(e) => return Err(e),
            };
            if state(&info) != Some(ProcessState::Running) {
                self.output("Process got killed");
                self.output("Exiting foreground");
                return Ok(());
            }
        }
    }
}

/// `urlparse(url).scheme == scheme` for the two schemes `open` accepts.
fn url_scheme_is(url: &str, scheme: &str) -> bool {
    match url.split_once(':') {
        Some((s, _)) => s.eq_ignore_ascii_case(scheme),
        None => false,
    }
}

/// What Python's tail listener does with each piece of log data: text
/// as is, or `Undecodable: b'...'` when it is not UTF-8.
pub fn write_log_data(data: &[u8]) {
    match std::str::from_utf8(data) {
        Ok(s) => stdout_write(s.as_bytes()),
        Err(_) => {
            let s = format!(
                "Undecodable: {}",
                crate::pycompat::repr::py_repr_bytes(data)
            );
            stdout_write(s.as_bytes())
        }
    }
}
