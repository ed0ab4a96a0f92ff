//! Processes: kill(2) and waitpid(2) on raw numbers, fork(2) to
//! daemonize, and _exit(2).

use std::io;

/// kill(2) with a raw signal number: names like SIGRTMIN+3 or numbers a
/// user wrote in the config have no `nix::sys::signal::Signal` variant.
pub fn kill(pid: i32, sig: i32) -> io::Result<()> {
    // SAFETY: kill(2) takes plain integers and touches no memory.
    if unsafe { libc::kill(pid, sig) } == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// waitpid(-1, WNOHANG): the pid and raw wait status of one child that
/// has ended, or None when none has (0) or there are no children left
/// (ECHILD). EINTR is retried.
pub fn reap_any() -> Option<(i32, i32)> {
    loop {
        let mut status = 0;
        // SAFETY: waitpid writes only into `status`, a live local.
        let pid = unsafe { libc::waitpid(-1, &mut status, libc::WNOHANG) };
        if pid > 0 {
            return Some((pid, status));
        }
        if pid < 0 && io::Error::last_os_error().kind() == io::ErrorKind::Interrupted {
            continue;
        }
        return None;
    }
}

/// Which side of a fork this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Forked {
    /// The original process; the child has this pid.
    Parent { child: i32 },
    /// The copy.
    Child,
}

/// fork(2) for daemonizing: the child goes on running any code, so this
/// must be called before any thread exists. Where /proc is mounted that is
/// checked, and another thread is an error (nothing is forked); without
/// /proc (an empty root) the caller's word that no thread was started yet
/// has to do.
pub fn fork_before_threads() -> io::Result<Forked> {
    if other_threads_exist() {
        return Err(io::Error::other("cannot fork: other threads are running"));
    }
    // SAFETY: this process has one thread (checked above where /proc lets
    // us), so the child is a complete copy of it and may allocate, lock
    // and run any code, as after fork in a single-threaded program.
    match unsafe { nix::unistd::fork() }? {
        nix::unistd::ForkResult::Parent { child } => Ok(Forked::Parent {
            child: child.as_raw(),
        }),
        nix::unistd::ForkResult::Child => Ok(Forked::Child),
    }
}

/// Whether /proc lists more threads of ours than this one.
fn other_threads_exist() -> bool {
    std::fs::read_dir("/proc/self/task").is_ok_and(|d| d.count() > 1)
}

/// _exit(2): ends the process at once, without running exit handlers or
/// flushing anything. Async-signal-safe: a forked child may call it.
pub fn exit_now(code: i32) -> ! {
    // SAFETY: _exit takes a plain integer, touches no memory of ours and
    // does not return.
    unsafe { libc::_exit(code) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kill_of_a_missing_pid_is_esrch() {
        // pid_max is at most 2^22, so this pid cannot exist.
        let e = kill(i32::MAX, 0).expect_err("no such pid");
        assert_eq!(e.raw_os_error(), Some(libc::ESRCH));
    }

    #[test]
    fn no_fork_while_threads_run() {
        // The test harness runs this on a thread of its own, so /proc
        // lists at least two threads and nothing may be forked.
        if std::fs::metadata("/proc/self/task").is_err() {
            return;
        }
        let e = fork_before_threads().expect_err("threads are running");
        assert!(e.to_string().contains("other threads"), "{e}");
    }
}
