//! Shared helpers for the integration tests: temp dirs, the binaries under
//! test, the Python reference venv, bounded waits and process guards.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

/// Our multi-call binary as cargo built it for this test run.
pub fn our_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_supervisord"))
}

/// A link to our binary under another name (`supervisorctl`,
/// `echo_supervisord_conf`, `pidproxy`) inside `dir`, since the binary
/// dispatches on the name it was called by.
pub fn our_bin_as(dir: &Path, name: &str) -> PathBuf {
    let link = dir.join(name);
    if !link.exists() {
        std::os::unix::fs::symlink(our_bin(), &link).expect("symlink to our binary");
    }
    link
}

/// The venv holding Python Supervisor 4.3.0 (made by `make pyref`).
/// Tests that compare against the reference fail loudly when it is missing:
/// a skipped differential test would prove nothing.
pub fn pyref_venv() -> PathBuf {
    let dir = std::env::var_os("SUPERVISOR_PYREF")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target/pyref"));
    assert!(
        dir.join("bin/supervisord").exists(),
        "the Python reference is missing at {}: run `make pyref` (make test does it)",
        dir.display()
    );
    dir
}

/// A program from the reference venv's bin dir (supervisord, supervisorctl, python).
pub fn pyref_bin(name: &str) -> PathBuf {
    pyref_venv().join("bin").join(name)
}

/// A fresh temp dir, removed when dropped.
pub fn temp_dir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("svd-test-")
        .tempdir()
        .expect("create temp dir")
}

/// A loopback TCP port that was free a moment ago.
pub fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    l.local_addr().expect("local addr").port()
}

/// Polls `cond` until it holds or `timeout` passes; returns whether it held.
pub fn wait_until(timeout: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if cond() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Kills the whole process group of a started daemon (and the daemon) when
/// dropped, so a failing test leaves nothing behind.
pub struct Guard {
    pub child: Child,
}

impl Guard {
    pub fn spawn(cmd: &mut Command) -> Guard {
        use std::os::unix::process::CommandExt;
        // Own process group, so the guard can kill everything it started.
        cmd.process_group(0);
        Guard {
            child: cmd.spawn().expect("spawn process under test"),
        }
    }

    pub fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    /// Waits for the process to exit within `timeout`; returns its status.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<std::process::ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Ok(Some(st)) = self.child.try_wait() {
                return Some(st);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        let pid = self.child.id() as i32;
        if let Ok(Some(_)) = self.child.try_wait() {
            return; // exited on its own, and stopped its programs
        }
        // Frozen, it starts no program between the look and the kill.
        // SAFETY: kill(2) on the pid of a child we started.
        unsafe {
            libc::kill(pid, libc::SIGSTOP);
        }
        // supervisord puts each program in a process group of its own, so
        // killing the daemon's group would leave them orphaned: they are
        // killed by pid.
        let kids = descendants(pid);
        // SAFETY: kill(2) with a negative pid signals our own test's process
        // group, then pids this process tree held a moment ago.
        unsafe {
            libc::kill(-pid, libc::SIGKILL);
            libc::kill(pid, libc::SIGKILL);
            for k in kids {
                libc::kill(k, libc::SIGKILL);
            }
        }
        let _ = self.child.wait();
    }
}

/// The parent pid of `pid`, from /proc.
pub fn ppid_of(pid: i32) -> Option<i32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &stat[stat.rfind(')')? + 2..];
    rest.split(' ').nth(1)?.parse().ok()
}

/// Every live process below `pid`.
pub fn descendants(pid: i32) -> Vec<i32> {
    let all: Vec<(i32, i32)> = std::fs::read_dir("/proc")
        .map(|rd| {
            rd.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
                .filter_map(|p| Some((p, ppid_of(p)?)))
                .collect()
        })
        .unwrap_or_default();
    let mut out = vec![];
    let mut frontier = vec![pid];
    while let Some(p) = frontier.pop() {
        for &(c, pp) in &all {
            if pp == p && !out.contains(&c) {
                out.push(c);
                frontier.push(c);
            }
        }
    }
    out
}

/// Runs a command to completion with a deadline; returns (code, stdout, stderr).
/// Kills it (and its process group) if the deadline passes.
pub fn run_with_timeout(cmd: &mut Command, timeout: Duration) -> (Option<i32>, String, String) {
    use std::process::Stdio;
    cmd.stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .stdin(Stdio::null());
    let mut g = Guard::spawn(cmd);
    let out = g.child.stdout.take();
    let err = g.child.stderr.take();
    let t_out = std::thread::spawn(move || read_all(out));
    let t_err = std::thread::spawn(move || read_all(err));
    let status = g.wait_exit(timeout);
    drop(g);
    let so = t_out.join().unwrap_or_default();
    let se = t_err.join().unwrap_or_default();
    (status.and_then(|s| s.code()), so, se)
}

fn read_all<R: std::io::Read>(r: Option<R>) -> String {
    let mut s = Vec::new();
    if let Some(mut r) = r {
        let _ = r.read_to_end(&mut s);
    }
    String::from_utf8_lossy(&s).into_owned()
}

/// The standard XML-RPC interface section, which every config that talks
/// to its daemon needs.
pub const RPCINTERFACE: &str = "[rpcinterface:supervisor]\nsupervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n\n";

/// Writes `dir/supervisord.conf`: a `[supervisord]` section that keeps its
/// activity log (`sd.log`), pidfile and child logs in `dir` and stays in
/// the foreground, followed by `sections`. Returns the path.
pub fn write_conf(dir: &Path, sections: &str) -> PathBuf {
    let conf = dir.join("supervisord.conf");
    let text = format!(
        "[supervisord]\nlogfile={d}/sd.log\npidfile={d}/sd.pid\nnodaemon=true\nchildlogdir={d}\n\n{sections}",
        d = dir.display()
    );
    std::fs::write(&conf, text).expect("write config");
    conf
}

/// Our daemon on `conf`, its output discarded; dropping the guard kills
/// it and its programs.
pub fn start_ours(conf: &Path) -> Guard {
    use std::process::Stdio;
    let mut cmd = Command::new(our_bin());
    cmd.arg("-c")
        .arg(conf)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    Guard::spawn(&mut cmd)
}
