//! The code a forked child runs between fork and exec, and marking our
//! descriptors close-on-exec.
//!
//! The parent prepares everything in a [`ChildSetup`] (ids, paths, every
//! message the child may have to write); the child then only makes
//! async-signal-safe calls and allocates nothing, because another thread
//! of the parent may have held the allocator's lock at the fork. Which
//! user, which directory and what the messages say is the caller's
//! business; this module runs the steps in Python's order.

use crate::sys::errno::errno_name;
use crate::sys::process::exit_now;
use crate::sys::signal;
use nix::errno::Errno;
use nix::unistd::{Gid, Pid, Uid};
use std::ffi::CString;
use std::os::unix::process::CommandExt;
use std::process::Command;

/// Exit status of a child that could not get as far as exec, as Python.
pub const SPAWN_FAILED: i32 = 127;

/// What a child does before exec, in this order: its own process group,
/// default signal dispositions and an empty mask, close-on-exec for every
/// inherited fd above 2, then the user switch, the directory, the umask.
pub struct ChildSetup {
    pub user: Option<UserSwitch>,
    pub chdir: Option<Chdir>,
    pub umask: Option<u32>,
}

/// Python's `drop_privileges` steps, run as root: setgroups, setgid,
/// setuid. A step that fails ends the child: its message goes to
/// stderr and it exits [`SPAWN_FAILED`].
pub struct UserSwitch {
    pub uid: u32,
    pub gid: u32,
    /// For setgroups.
    pub groups: Vec<Gid>,
    /// Whether the parent runs as root; if not, the switch fails first.
    pub as_root: bool,
    pub messages: SwitchMessages,
}

/// What the child writes to stderr when a step of the switch fails.
pub struct SwitchMessages {
    pub not_root: Vec<u8>,
    pub groups: Vec<u8>,
    pub gid: Vec<u8>,
    pub uid: Vec<u8>,
}

/// The step of a user switch that failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SwitchStep {
    NotRoot,
    Groups,
    Gid,
    Uid,
}

impl SwitchMessages {
    fn for_step(&self, step: SwitchStep) -> &[u8] {
        match step {
            SwitchStep::NotRoot => &self.not_root,
            SwitchStep::Groups => &self.groups,
            SwitchStep::Gid => &self.gid,
            SwitchStep::Uid => &self.uid,
        }
    }
}

impl UserSwitch {
    /// Switches this process to the user: async-signal-safe, allocates
    /// nothing. Err names the step that failed; steps before it took
    /// effect.
    pub fn apply(&self) -> Result<(), SwitchStep> {
        if !self.as_root {
            return Err(SwitchStep::NotRoot);
        }
        nix::unistd::setgroups(&self.groups).map_err(|_| SwitchStep::Groups)?;
        nix::unistd::setgid(Gid::from_raw(self.gid)).map_err(|_| SwitchStep::Gid)?;
        nix::unistd::setuid(Uid::from_raw(self.uid)).map_err(|_| SwitchStep::Uid)?;
        Ok(())
    }
}

/// The child's working directory. When chdir fails the child writes
/// `before`, Python's errno name, `after` to stderr and exits
/// [`SPAWN_FAILED`].
pub struct Chdir {
    pub dir: CString,
    pub before: Vec<u8>,
    pub after: Vec<u8>,
}

impl ChildSetup {
    /// Makes `cmd` run this setup in the child before exec.
    pub fn install(self, cmd: &mut Command) {
        // SAFETY: the closure runs in the forked child before exec. `run`
        // makes only async-signal-safe calls (setpgid, sigprocmask,
        // signal, close_range/fcntl, setgroups, setgid, setuid, chdir,
        // umask, write, _exit) and allocates nothing: all it reads was
        // prepared by the parent and moved into the closure.
        unsafe {
            cmd.pre_exec(move || {
                self.run();
                Ok(())
            });
        }
    }

    fn run(&self) {
        // Own process group: a ^C or HUP to supervisord's group does not
        // reach the child, and stopasgroup can signal -pid.
        let _ = nix::unistd::setpgid(Pid::from_raw(0), Pid::from_raw(0));
        reset_signals();
        mark_fds_cloexec();
        if let Some(u) = &self.user {
            if let Err(step) = u.apply() {
                fail(&[u.messages.for_step(step)]);
            }
        }
        if let Some(c) = &self.chdir {
            if let Err(e) = nix::unistd::chdir(c.dir.as_c_str()) {
                fail(&[&c.before, errno_name(e as i32).as_bytes(), &c.after]);
            }
        }
        if let Some(m) = self.umask {
            nix::sys::stat::umask(nix::sys::stat::Mode::from_bits_truncate(m as libc::mode_t));
        }
    }
}

/// Default dispositions and an empty mask: a child inherits both, and a
/// program under us must not ignore SIGTERM by accident.
fn reset_signals() {
    signal::clear_mask();
    for sig in 1..32 {
        if sig != libc::SIGKILL && sig != libc::SIGSTOP {
            signal::set_default(sig);
        }
    }
}

/// Marks every fd above 2 close-on-exec (close_range, or fcntl on the
/// first 1024 where the kernel has no close_range). Async-signal-safe.
pub fn mark_fds_cloexec() {
    const CLOSE_RANGE_CLOEXEC: libc::c_uint = 1 << 2;
    // SAFETY: close_range with CLOSE_RANGE_CLOEXEC only sets a flag on
    // our own descriptors; it closes nothing and touches no memory.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_close_range,
            3 as libc::c_uint,
            libc::c_uint::MAX,
            CLOSE_RANGE_CLOEXEC,
        )
    };
    if rc != 0 {
        for fd in 3..1024 {
            // SAFETY: F_SETFD on a number that may or may not be an open
            // descriptor: at worst EBADF, no memory is touched.
            unsafe {
                libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC);
            }
        }
    }
}

/// Writes every part to stderr, then exits [`SPAWN_FAILED`].
fn fail(parts: &[&[u8]]) -> ! {
    for part in parts {
        write_all_stderr(part);
    }
    exit_now(SPAWN_FAILED)
}

/// write(2) to fd 2 until done; errors other than EINTR end it.
fn write_all_stderr(mut data: &[u8]) {
    while !data.is_empty() {
        match nix::unistd::write(std::io::stderr(), data) {
            Ok(0) => return,
            Ok(n) => data = &data[n.min(data.len())..],
            Err(Errno::EINTR) => continue,
            Err(_) => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_switch_without_root() {
        let u = UserSwitch {
            uid: 1,
            gid: 1,
            groups: vec![Gid::from_raw(1)],
            as_root: false,
            messages: SwitchMessages {
                not_root: b"n".to_vec(),
                groups: b"g".to_vec(),
                gid: b"i".to_vec(),
                uid: b"u".to_vec(),
            },
        };
        assert_eq!(u.apply(), Err(SwitchStep::NotRoot));
        assert_eq!(u.messages.for_step(SwitchStep::Uid), b"u");
    }
}
