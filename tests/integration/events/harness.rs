//! Shared by the event tests: a daemon (ours or Python's) with an HTTP
//! server and debug logging, and the records written by
//! `tests/events/recorder.py` (a listener built on Supervisor's own
//! childutils).

use std::path::{Path, PathBuf};
use std::time::Duration;

use supervisord::rpc::xmlrpc::Value;

use crate::util::{pyref_bin, test_file, wait_until, DaemonBuilder};
pub use crate::util::{Daemon, Impl};

/// The bound on every wait for the daemon.
pub const WAIT: Duration = Duration::from_secs(20);

/// The venv's python (it has `supervisor` and `superlance` importable).
pub fn python() -> PathBuf {
    pyref_bin("python")
}

pub fn recorder() -> PathBuf {
    test_file("events/recorder.py")
}

/// An `[eventlistener:NAME]` section running the recorder in `mode`,
/// writing to `out`, subscribed to `events`, plus `extra` lines.
pub fn recorder_section(name: &str, out: &Path, mode: &str, events: &str, extra: &str) -> String {
    format!(
        "[eventlistener:{name}]\ncommand={py} -u {rec} {out} {mode}\nevents={events}\n{extra}\n",
        py = python().display(),
        rec = recorder().display(),
        out = out.display(),
    )
}

/// The daemon every event test uses: an HTTP server with supervisor.*
/// served, debug logging; the sections come from the test.
pub fn daemon(imp: Impl) -> DaemonBuilder {
    Daemon::builder(imp).supervisord("loglevel=debug").inet()
}

pub fn s(text: &str) -> Value {
    Value::String(text.to_string())
}

/// One event as the recorder got it.
#[derive(Debug, Clone)]
pub struct Rec {
    pub listener_pid: i32,
    pub headers: Vec<(String, String)>,
    pub payload: String,
}

impl Rec {
    pub fn header(&self, key: &str) -> &str {
        self.headers
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    }

    pub fn name(&self) -> &str {
        self.header("eventname")
    }

    pub fn serial(&self) -> u64 {
        self.header("serial").parse().unwrap_or(u64::MAX)
    }

    /// The `key:value` tokens of the payload's first line.
    pub fn fields(&self) -> Vec<(String, String)> {
        let first = self.payload.split('\n').next().unwrap_or("");
        first
            .split_whitespace()
            .filter_map(|t| t.split_once(':'))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    pub fn field(&self, key: &str) -> String {
        self.fields()
            .into_iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v)
            .unwrap_or_default()
    }

    /// The payload after its first line.
    pub fn body(&self) -> &str {
        self.payload.split_once('\n').map(|(_, b)| b).unwrap_or("")
    }

    /// The event as `NAME key:value ...` without the fields that vary from
    /// run to run (pid), plus its body.
    pub fn normalized(&self) -> String {
        let fields: Vec<String> = self
            .fields()
            .into_iter()
            .filter(|(k, _)| k != "pid" && k != "when")
            .map(|(k, v)| format!("{k}:{v}"))
            .collect();
        let mut out = format!("{} {}", self.name(), fields.join(" "));
        if !self.body().is_empty() {
            out.push_str(&format!(" | {:?}", self.body()));
        }
        out
    }
}

/// Parses the recorder's file (records cut short by a dying writer are
/// dropped).
pub fn read_records(path: &Path) -> Vec<Rec> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let mut out = Vec::new();
    let mut rest = text.as_str();
    while let Some((line, after)) = rest.split_once('\n') {
        let mut headers: Vec<(String, String)> = line
            .split_whitespace()
            .filter_map(|t| t.split_once(':'))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let listener_pid = headers.remove(0).1.parse().unwrap_or(0);
        let len: usize = headers
            .iter()
            .find(|(k, _)| k == "len")
            .and_then(|(_, v)| v.parse().ok())
            .unwrap_or(0);
        let Some((end, _)) = after
            .char_indices()
            .nth(len)
            .or(if after.chars().count() == len {
                Some((after.len(), ' '))
            } else {
                None
            })
        else {
            break;
        };
        let payload = after[..end].to_string();
        let Some(next) = after[end..].strip_prefix('\n') else {
            break;
        };
        out.push(Rec {
            listener_pid,
            headers,
            payload,
        });
        rest = next;
    }
    out
}

/// Waits until the records satisfy `pred`; returns them (and panics with
/// what was recorded when the wait runs out).
pub fn wait_records(
    d: &Daemon,
    path: &Path,
    what: &str,
    mut pred: impl FnMut(&[Rec]) -> bool,
) -> Vec<Rec> {
    let mut recs = Vec::new();
    if wait_until(WAIT, || {
        recs = read_records(path);
        pred(&recs)
    }) {
        return recs;
    }
    panic!(
        "{}: never recorded {what}; got:\n{}\nlog:\n{}",
        d.name(),
        recs.iter()
            .map(|r| format!("  {} {}", r.serial(), r.normalized()))
            .collect::<Vec<_>>()
            .join("\n"),
        d.log()
    );
}

/// Whether `recs` hold an event `name` whose payload fields include every
/// `key:value` in `want`.
pub fn has(recs: &[Rec], name: &str, want: &[(&str, &str)]) -> bool {
    find(recs, name, want).is_some()
}

pub fn find<'a>(recs: &'a [Rec], name: &str, want: &[(&str, &str)]) -> Option<&'a Rec> {
    recs.iter()
        .find(|r| r.name() == name && want.iter().all(|(k, v)| r.field(k) == *v))
}
