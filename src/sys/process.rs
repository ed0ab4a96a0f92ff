//! Signals and reaping: kill(2) and waitpid(2) on raw numbers.

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kill_of_a_missing_pid_is_esrch() {
        // pid_max is at most 2^22, so this pid cannot exist.
        let e = kill(i32::MAX, 0).expect_err("no such pid");
        assert_eq!(e.raw_os_error(), Some(libc::ESRCH));
    }
}
