//! Ctrl-C as Python's KeyboardInterrupt: SIGINT writes to a self-pipe, and
//! every blocking wait of the client (socket reads, stdin) polls that pipe
//! too, so the wait ends with `Interrupted` and the caller decides, as
//! Python's `except KeyboardInterrupt` blocks do, what that means.

use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use std::io::Read;
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::net::UnixStream;
use std::sync::OnceLock;

static PIPE: OnceLock<UnixStream> = OnceLock::new();

/// Installs the SIGINT handler. Without it (if installing fails) Ctrl-C
/// keeps its default meaning and simply ends the program.
pub fn install() {
    if PIPE.get().is_some() || ignored_at_start() {
        return;
    }
    let Ok((read, write)) = UnixStream::pair() else {
        return;
    };
    if read.set_nonblocking(true).is_err() {
        return;
    }
    if signal_hook::low_level::pipe::register(libc::SIGINT, write).is_ok() {
        let _ = PIPE.set(read);
    }
}

/// Whether SIGINT is ignored (a background job of a non-interactive
/// shell): Python then never sees a KeyboardInterrupt, and neither do we.
fn ignored_at_start() -> bool {
    crate::sys::signal::is_ignored(libc::SIGINT)
}

/// Forgets a Ctrl-C that arrived while nobody was waiting (for example
/// while a command printed), so it does not end the next wait.
pub fn clear() {
    if let Some(mut p) = PIPE.get() {
        let mut buf = [0u8; 64];
        while matches!(p.read(&mut buf), Ok(n) if n > 0) {}
    }
}

/// Why a wait ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Wake {
    Ready,
    Interrupted,
    TimedOut,
}

/// Waits until `fd` is readable, Ctrl-C is pressed, or `timeout_ms`
/// (negative: forever) passes.
pub fn wait_readable(fd: BorrowedFd<'_>, timeout_ms: i32) -> Wake {
    let timeout = if timeout_ms < 0 {
        PollTimeout::NONE
    } else {
        PollTimeout::try_from(timeout_ms).unwrap_or(PollTimeout::MAX)
    };
    loop {
        let mut fds = vec![PollFd::new(fd, PollFlags::POLLIN)];
        if let Some(p) = PIPE.get() {
            fds.push(PollFd::new(p.as_fd(), PollFlags::POLLIN));
        }
        match poll(&mut fds, timeout) {
            Ok(0) => return Wake::TimedOut,
            Ok(_) => {
                let hit = |f: &PollFd| f.revents().is_some_and(|r| !r.is_empty());
                if fds.len() > 1 && hit(&fds[1]) {
                    clear();
                    return Wake::Interrupted;
                }
                return Wake::Ready;
            }
            Err(nix::errno::Errno::EINTR) => continue,
            // A poll that cannot work: let the read itself block or fail.
            Err(_) => return Wake::Ready,
        }
    }
}

/// Sleeps for `d` unless Ctrl-C comes first; false if it did.
pub fn sleep(d: std::time::Duration) -> bool {
    let Some(p) = PIPE.get() else {
        std::thread::sleep(d);
        return true;
    };
    let ms = i32::try_from(d.as_millis()).unwrap_or(i32::MAX);
    match wait_readable(p.as_fd(), ms) {
        Wake::Interrupted => false,
        Wake::TimedOut => true,
        // The poll could not work: sleep the plain way.
        Wake::Ready => {
            std::thread::sleep(d);
            true
        }
    }
}

/// Ends the program the way an uncaught KeyboardInterrupt ends Python:
/// killed by SIGINT, so the shell sees status 130.
pub fn die() -> ! {
    let _ = signal_hook::low_level::emulate_default_handler(libc::SIGINT);
    std::process::exit(130)
}
