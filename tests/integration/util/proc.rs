//! Processes the tests start: a guard that kills a process and everything
//! below it when dropped, commands run to completion with a deadline, and
//! what /proc says about pids.

use std::io::{Read, Write};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Sends `sig` to `pid` (a negative pid: to that process group); whether
/// it was delivered.
pub fn signal(pid: i32, sig: i32) -> bool {
    // SAFETY: kill(2) takes plain integers and touches no memory of ours.
    unsafe { libc::kill(pid, sig) == 0 }
}

/// Whether `pid` is a live process (a zombie counts as gone: its parent
/// may just not have reaped it yet).
pub fn alive(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => !stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z')),
        Err(_) => false,
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

/// Kills `root` and every process below it. supervisord puts each program
/// in a process group of its own, so killing the daemon's group would
/// leave them orphaned: they are killed by pid. Everything is frozen
/// first, so nothing starts a process between the look and the kill.
pub fn kill_tree(root: i32) {
    signal(root, libc::SIGSTOP);
    let mut frozen: Vec<i32> = Vec::new();
    // A process forked between two looks shows up in the next one; a
    // frozen tree stops growing. The bound is only against a pathology.
    for _ in 0..100 {
        let new: Vec<i32> = descendants(root)
            .into_iter()
            .filter(|p| !frozen.contains(p))
            .collect();
        if new.is_empty() {
            break;
        }
        for p in new {
            signal(p, libc::SIGSTOP);
            frozen.push(p);
        }
    }
    signal(-root, libc::SIGKILL);
    signal(root, libc::SIGKILL);
    for p in frozen {
        signal(p, libc::SIGKILL);
    }
}

/// A process this test did not start itself (a daemon that forked away),
/// killed with everything below it when dropped, unless it is gone.
pub struct ProcessTree(pub i32);

impl Drop for ProcessTree {
    fn drop(&mut self) {
        if alive(self.0) {
            kill_tree(self.0);
        }
    }
}

/// A started process in a process group of its own; dropping the guard
/// kills it and everything it started (see `kill_tree`).
pub struct Guard {
    pub child: Child,
}

impl Guard {
    pub fn spawn(cmd: &mut Command) -> Guard {
        use std::os::unix::process::CommandExt;
        // Own process group, so the guard can kill everything it started.
        cmd.process_group(0);
        // A test runner started in the background by a shell without job
        // control ignores SIGINT and SIGQUIT, and its children would
        // inherit that; the tests send them and expect what a terminal
        // gives.
        // SAFETY: runs in the child between fork and exec; signal(2) is
        // async-signal-safe and touches no memory of ours.
        unsafe {
            cmd.pre_exec(|| {
                libc::signal(libc::SIGINT, libc::SIG_DFL);
                libc::signal(libc::SIGQUIT, libc::SIG_DFL);
                Ok(())
            });
        }
        Guard {
            child: cmd.spawn().expect("spawn process under test"),
        }
    }

    pub fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    /// The exit status, if the process has exited.
    pub fn exited(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// Waits for the process to exit within `timeout`; returns its status.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(st) = self.exited() {
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
        if self.exited().is_some() {
            return; // exited on its own, and stopped its programs
        }
        kill_tree(self.pid());
        let _ = self.child.wait();
    }
}

/// An exit code, or minus the signal that ended the process.
pub fn exit_code(st: ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    st.code().or(st.signal().map(|s| -s)).unwrap_or(i32::MIN)
}

/// A started process whose stdout and stderr are read as they come, by
/// threads of their own, so neither pipe fills up while the test waits.
pub struct Captured {
    guard: Guard,
    out: Arc<Mutex<Vec<u8>>>,
    err: Arc<Mutex<Vec<u8>>>,
    readers: Vec<JoinHandle<()>>,
}

impl Captured {
    /// Spawns `cmd` with stdout and stderr piped (stdin as `cmd` has it).
    pub fn spawn(cmd: &mut Command) -> Captured {
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut guard = Guard::spawn(cmd);
        let (out, err) = (Arc::default(), Arc::default());
        let readers = vec![
            reader(guard.child.stdout.take(), Arc::clone(&out)),
            reader(guard.child.stderr.take(), Arc::clone(&err)),
        ];
        Captured {
            guard,
            out,
            err,
            readers,
        }
    }

    pub fn pid(&self) -> i32 {
        self.guard.pid()
    }

    /// The stdin pipe, if `cmd` asked for one.
    pub fn take_stdin(&mut self) -> Option<ChildStdin> {
        self.guard.child.stdin.take()
    }

    /// What came on stdout so far.
    pub fn stdout(&self) -> String {
        text(&self.out)
    }

    /// Waits (bounded) until stdout holds `needle`.
    pub fn wait_stdout(&self, needle: &str, timeout: Duration) -> bool {
        super::wait_until(timeout, || self.stdout().contains(needle))
    }

    /// Waits (bounded) for the exit; returns (code, stdout, stderr), the
    /// code as `run_with_timeout` gives it. Past the deadline the process
    /// and what it started are killed.
    pub fn finish(mut self, timeout: Duration) -> (Option<i32>, String, String) {
        let status = self.guard.wait_exit(timeout);
        drop(self.guard);
        // The pipes close with the process; a reader still held up by
        // something that escaped the kill is left behind, not waited for.
        let readers = std::mem::take(&mut self.readers);
        if super::wait_until(Duration::from_secs(5), || {
            readers.iter().all(JoinHandle::is_finished)
        }) {
            for r in readers {
                let _ = r.join();
            }
        }
        (status.map(exit_code), text(&self.out), text(&self.err))
    }
}

fn reader<R: Read + Send + 'static>(pipe: Option<R>, into: Arc<Mutex<Vec<u8>>>) -> JoinHandle<()> {
    std::thread::spawn(move || {
        let Some(mut pipe) = pipe else { return };
        let mut buf = [0u8; 4096];
        while let Ok(n) = pipe.read(&mut buf) {
            if n == 0 {
                break;
            }
            into.lock()
                .unwrap_or_else(|e| e.into_inner())
                .extend_from_slice(&buf[..n]);
        }
    })
}

fn text(buf: &Mutex<Vec<u8>>) -> String {
    String::from_utf8_lossy(&buf.lock().unwrap_or_else(|e| e.into_inner())).into_owned()
}

/// Runs a command to completion with a deadline, stdin empty; returns
/// (code, stdout, stderr). The code is None when the deadline passed (the
/// command and what it started are killed then), minus the signal when a
/// signal ended it.
pub fn run_with_timeout(cmd: &mut Command, timeout: Duration) -> (Option<i32>, String, String) {
    Captured::spawn(cmd.stdin(Stdio::null())).finish(timeout)
}

/// `run_with_timeout` with `input` on stdin.
pub fn run_with_input(
    cmd: &mut Command,
    input: &str,
    timeout: Duration,
) -> (Option<i32>, String, String) {
    let mut c = Captured::spawn(cmd.stdin(Stdio::piped()));
    if let Some(mut i) = c.take_stdin() {
        let _ = i.write_all(input.as_bytes());
    }
    c.finish(timeout)
}

/// Threads of `pid` named `http` (one per open connection).
pub fn connection_threads(pid: i32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/task"))
        .map(|tasks| {
            tasks
                .flatten()
                .filter(|t| {
                    std::fs::read_to_string(t.path().join("comm"))
                        .is_ok_and(|c| c.trim_end() == "http")
                })
                .count()
        })
        .unwrap_or(0)
}
