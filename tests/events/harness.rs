//! Shared by the event tests: a daemon (ours or Python's) on a config in a
//! temp dir with an HTTP server, an XML-RPC client for it, and the records
//! written by `tests/events/recorder.py` (a listener built on Supervisor's
//! own childutils).
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use supervisord::rpc::xmlrpc::{self, Response, Value};

use crate::util::{free_port, pyref_bin, wait_until, Guard};

/// The bound on every wait for the daemon.
pub const WAIT: Duration = Duration::from_secs(20);

/// The venv's python (it has `supervisor` and `superlance` importable).
pub fn python() -> PathBuf {
    pyref_bin("python")
}

pub fn recorder() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/events/recorder.py")
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

/// A daemon under test in the foreground, killed (children included) when
/// dropped.
pub struct Daemon {
    pub guard: Option<Guard>,
    pub dir: PathBuf,
    pub conf: PathBuf,
    pub port: u16,
    pub bin: PathBuf,
}

impl Daemon {
    /// The config head every event test uses: an HTTP server with
    /// supervisor.* served, debug logging to `sd.log`, child logs in `dir`.
    pub fn config(dir: &Path, port: u16, body: &str) -> String {
        format!(
            "[supervisord]\nlogfile={d}/sd.log\npidfile={d}/sd.pid\nchildlogdir={d}\n\
             nodaemon=true\nloglevel=debug\n\n\
             [inet_http_server]\nport=127.0.0.1:{port}\n\n\
             [rpcinterface:supervisor]\n\
             supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n\n{body}",
            d = dir.display(),
        )
    }

    /// Starts `bin` on `body` (sections after the common head) and waits
    /// until it answers XML-RPC.
    pub fn start(bin: &Path, dir: &Path, body: &str) -> Daemon {
        Daemon::start_args(bin, dir, body, &[])
    }

    /// `start` with more command-line arguments for the daemon.
    pub fn start_args(bin: &Path, dir: &Path, body: &str, args: &[&str]) -> Daemon {
        let port = free_port();
        let conf = dir.join("supervisord.conf");
        std::fs::write(&conf, Daemon::config(dir, port, body)).expect("write config");
        let mut cmd = Command::new(bin);
        cmd.arg("-c")
            .arg(&conf)
            .args(args)
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let d = Daemon {
            guard: Some(Guard::spawn(&mut cmd)),
            dir: dir.to_path_buf(),
            conf,
            port,
            bin: bin.to_path_buf(),
        };
        assert!(
            wait_until(WAIT, || d.rpc("supervisor.getState", &[]).is_ok()),
            "{} did not answer XML-RPC on port {port}; log:\n{}",
            bin.display(),
            d.log()
        );
        d
    }

    pub fn pid(&self) -> i32 {
        self.guard.as_ref().map(|g| g.pid()).unwrap_or(0)
    }

    pub fn is_python(&self) -> bool {
        self.bin == pyref_bin("supervisord")
    }

    /// Rewrites the config (same head, same port) for reloadConfig.
    pub fn rewrite(&self, body: &str) {
        std::fs::write(&self.conf, Daemon::config(&self.dir, self.port, body))
            .expect("rewrite config");
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("sd.log")).unwrap_or_default()
    }

    pub fn wait_log(&self, needle: &str) -> bool {
        wait_until(WAIT, || self.log().contains(needle))
    }

    /// One XML-RPC call over a fresh connection.
    pub fn rpc(&self, method: &str, params: &[Value]) -> Result<Value, String> {
        let body = xmlrpc::write_call(method, params);
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).map_err(|e| e.to_string())?;
        s.set_read_timeout(Some(Duration::from_secs(30))).ok();
        let head = format!(
            "POST /RPC2 HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/xml\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        );
        s.write_all(head.as_bytes()).map_err(|e| e.to_string())?;
        s.write_all(&body).map_err(|e| e.to_string())?;
        let mut reply = Vec::new();
        s.read_to_end(&mut reply).map_err(|e| e.to_string())?;
        let split = reply
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .ok_or("no end of HTTP headers")?;
        match xmlrpc::parse_response(&reply[split + 4..]).map_err(|e| e.message().to_string())? {
            Response::Value(v) => Ok(v),
            Response::Fault(f) => Err(format!("FAULT {} {}", f.code, f.string)),
        }
    }

    /// A call that must succeed.
    pub fn call(&self, method: &str, params: &[Value]) -> Value {
        self.rpc(method, params)
            .unwrap_or_else(|e| panic!("{method}{params:?}: {e}\nlog:\n{}", self.log()))
    }

    pub fn info(&self, name: &str) -> Value {
        self.call("supervisor.getProcessInfo", &[s(name)])
    }

    pub fn state(&self, name: &str) -> String {
        self.rpc("supervisor.getProcessInfo", &[s(name)])
            .ok()
            .and_then(|v| {
                v.struct_get("statename")
                    .and_then(|x| x.as_str().map(String::from))
            })
            .unwrap_or_default()
    }

    pub fn proc_pid(&self, name: &str) -> i64 {
        self.info(name)
            .struct_get("pid")
            .and_then(|p| p.as_int())
            .unwrap_or(0)
    }

    pub fn wait_state(&self, name: &str, state: &str) {
        assert!(
            wait_until(WAIT, || self.state(name) == state),
            "{name} never reached {state} (now {:?}); log:\n{}",
            self.state(name),
            self.log()
        );
    }

    /// TERM, then the exit status within the deadline.
    pub fn stop(&mut self) -> Option<std::process::ExitStatus> {
        let g = self.guard.as_mut()?;
        // SAFETY: kill(2) with integers only.
        unsafe {
            libc::kill(g.pid(), libc::SIGTERM);
        }
        g.wait_exit(WAIT)
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let Some(mut g) = self.guard.take() else {
            return;
        };
        // Children live in process groups of their own: remember them, ask
        // the daemon to stop them, then kill whatever is left by pid.
        let pid = g.pid();
        let mut kids = descendants(pid);
        if g.child.try_wait().ok().flatten().is_none() {
            // SAFETY: kill(2) with integers only.
            unsafe {
                libc::kill(pid, libc::SIGTERM);
            }
            g.wait_exit(Duration::from_secs(10));
        }
        kids.extend(descendants(pid));
        for k in kids {
            // SAFETY: kill(2) with integers only.
            unsafe {
                libc::kill(k, libc::SIGKILL);
            }
        }
        drop(g);
    }
}

pub use crate::util::descendants;

pub fn alive(pid: i32) -> bool {
    // A zombie still has /proc/<pid>; count it as gone.
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => !stat
            .rfind(')')
            .map(|i| stat[i + 2..].starts_with('Z'))
            .unwrap_or(false),
        Err(_) => false,
    }
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
    let deadline = Instant::now() + WAIT;
    loop {
        let recs = read_records(path);
        if pred(&recs) {
            return recs;
        }
        if Instant::now() >= deadline {
            panic!(
                "{}: never recorded {what}; got:\n{}\nlog:\n{}",
                d.bin.display(),
                recs.iter()
                    .map(|r| format!("  {} {}", r.serial(), r.normalized()))
                    .collect::<Vec<_>>()
                    .join("\n"),
                d.log()
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
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

/// Waits until `needle` occurs at least `n` times in the activity log.
pub fn wait_until_count(d: &Daemon, needle: &str, n: usize) -> bool {
    wait_until(WAIT, || d.log().matches(needle).count() >= n)
}
