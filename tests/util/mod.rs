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
        // SAFETY: kill(2) with a negative pid signals our own test's process
        // group; no memory is involved.
        unsafe {
            libc::kill(-pid, libc::SIGKILL);
            libc::kill(pid, libc::SIGKILL);
        }
        let _ = self.child.wait();
    }
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
