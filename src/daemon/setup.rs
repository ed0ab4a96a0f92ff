//! Start-up steps of the daemon that touch the process itself: dropping
//! privileges, raising rlimits, daemonizing, the pidfile, and removing old
//! AUTO child logs. Each mirrors Python's ServerOptions method of the same
//! purpose and message.

use crate::logs::activity;
use crate::pycompat::repr::py_repr;
use crate::sys::process::{exit_now, fork_before_threads, Forked};
use crate::sys::users;
use nix::sys::resource::{getrlimit, setrlimit, Resource};
use nix::unistd::{Gid, Uid};
use std::path::Path;

/// `set_uid_or_exit`: Ok(messages to log) or Err(usage message).
pub fn set_uid(user: Option<&str>) -> Result<Vec<(bool, String)>, String> {
    let Some(user) = user else {
        if users::current_uid() == 0 {
            return Ok(vec![(
                true,
                "Supervisor is running as root.  Privileges were not dropped because no user is specified in the config file.  If you intend to run as root, you can set user=root in the config file to avoid this message.".to_string(),
            )]);
        }
        return Ok(Vec::new());
    };
    drop_privileges(user)?;
    Ok(vec![(false, format!("Set uid to user {} succeeded", user))])
}

/// Python's drop_privileges for supervisord itself.
fn drop_privileges(user: &str) -> Result<(), String> {
    let (uid, gid, name) = match user.trim().parse::<u32>() {
        Ok(uid) => match users::passwd_by_uid(uid) {
            Some(p) => (uid, p.gid, p.name),
            None => return Err(format!("Can't find uid {}", uid)),
        },
        Err(_) => match users::passwd_by_name(user) {
            Some(p) => (p.uid, p.gid, user.to_string()),
            None => return Err(format!("Can't find username {}", py_repr(user))),
        },
    };
    let current = users::current_uid();
    if current == uid {
        return Ok(());
    }
    if current != 0 {
        return Err("Can't drop privilege as nonroot user".to_string());
    }
    let cname = std::ffi::CString::new(name).map_err(|_| "bad user name".to_string())?;
    if nix::unistd::initgroups(&cname, Gid::from_raw(gid)).is_err() {
        return Err("Could not set groups of effective user".to_string());
    }
    if nix::unistd::setgid(Gid::from_raw(gid)).is_err() {
        return Err("Could not set group id of effective user".to_string());
    }
    if nix::unistd::setuid(Uid::from_raw(uid)).is_err() {
        return Err("Could not set user id of effective user".to_string());
    }
    Ok(())
}

/// `set_rlimits_or_exit`: raise RLIMIT_NOFILE / RLIMIT_NPROC soft limits
/// to minfds / minprocs. Ok(info messages) or Err(usage message).
pub fn set_rlimits(minfds: i64, minprocs: i64) -> Result<Vec<String>, String> {
    let mut infos = Vec::new();
    let limits = [
        (
            Resource::RLIMIT_NOFILE,
            "RLIMIT_NOFILE",
            minfds,
            "The minimum number of file descriptors required to run this process is {min} as per the \"minfds\" command-line argument or config file setting. The current environment will only allow you to open {hard} file descriptors.  Either raise the number of usable file descriptors in your environment (see README.rst) or lower the minfds setting in the config file to allow the process to start.",
        ),
        (
            Resource::RLIMIT_NPROC,
            "RLIMIT_NPROC",
            minprocs,
            "The minimum number of available processes required to run this program is {min} as per the \"minprocs\" command-line argument or config file setting. The current environment will only allow you to open {hard} processes.  Either raise the number of usable processes in your environment (see README.rst) or lower the minprocs setting in the config file to allow the program to start.",
        ),
    ];
    for (res, name, min, msg) in limits {
        let Ok((soft, hard)) = getrlimit(res) else {
            continue;
        };
        let min_u = min.max(0) as libc::rlim_t;
        let unlimited = libc::RLIM_INFINITY;
        if soft < min_u && soft != unlimited {
            let mut hard = hard;
            if hard < min_u && hard != unlimited {
                hard = min_u;
            }
            if setrlimit(res, min_u, hard).is_ok() {
                infos.push(format!("Increased {} limit to {}", name, min));
            } else {
                return Err(msg
                    .replace("{min}", &min.to_string())
                    .replace("{hard}", &hard.to_string()));
            }
        }
    }
    Ok(infos)
}

/// Forks; the parent exits 0 and the child detaches: new session, stdio on
/// /dev/null, `directory`, umask. Must run before any thread exists.
pub fn daemonize(directory: Option<&Path>, umask: u32) {
    match fork_before_threads() {
        Err(e) => {
            activity::crit(format!("could not fork to daemonize: {}", e));
            return;
        }
        Ok(Forked::Parent { .. }) => {
            activity::blather("supervisord forked; parent exiting");
            // Leave at once, without destructors; the child carries on.
            exit_now(0);
        }
        Ok(Forked::Child) => {}
    }
    activity::info("daemonizing the supervisord process");
    if let Some(dir) = directory {
        match std::env::set_current_dir(dir) {
            Ok(()) => activity::info(format!(
                "set current directory: {}",
                py_repr(&dir.to_string_lossy())
            )),
            Err(e) => activity::crit(format!(
                "can't chdir into {}: {}",
                py_repr(&dir.to_string_lossy()),
                e
            )),
        }
    }
    redirect_stdio_to_null();
    let _ = nix::unistd::setsid();
    nix::sys::stat::umask(nix::sys::stat::Mode::from_bits_truncate(
        umask as libc::mode_t,
    ));
}

fn redirect_stdio_to_null() {
    let Ok(null) = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/null")
    else {
        return;
    };
    let _ = nix::unistd::dup2_stdin(&null);
    let _ = nix::unistd::dup2_stdout(&null);
    let _ = nix::unistd::dup2_stderr(&null);
}

/// Writes `pid\n`; logs as Python does. Returns whether it was written.
pub fn write_pidfile(path: &Path) -> bool {
    let pid = std::process::id();
    match std::fs::write(path, format!("{}\n", pid)) {
        Ok(()) => {
            activity::info(format!("supervisord started with pid {}", pid));
            true
        }
        Err(_) => {
            activity::crit(format!("could not write pidfile {}", path.display()));
            false
        }
    }
}

/// Removes AUTO child logs of an earlier run: files in `dir` named like
/// `<name>-<channel>---<identifier>-<random>.log[.N]`.
pub fn clear_auto_child_logs(dir: &Path, identifier: &str) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let marker = format!("---{}-", identifier);
    for ent in entries.flatten() {
        let name = ent.file_name().to_string_lossy().into_owned();
        if is_auto_log_name(&name, &marker) {
            let path = ent.path();
            if let Err(e) = std::fs::remove_file(&path) {
                activity::warn(format!("Failed to clean up {}: {}", path.display(), e));
            }
        }
    }
}

/// Python's `.+?---<identifier>-\S+\.log\.{0,1}\d{0,4}` matched at the
/// start of the name.
fn is_auto_log_name(name: &str, marker: &str) -> bool {
    let Some(pos) = name.find(marker) else {
        return false;
    };
    if pos == 0 {
        // `.+?` needs at least one character; look for a later marker.
        return name[1..]
            .find(marker)
            .is_some_and(|p| is_auto_log_tail(&name[p + 1 + marker.len()..]));
    }
    is_auto_log_tail(&name[pos + marker.len()..])
}

fn is_auto_log_tail(rest: &str) -> bool {
    // `\S+\.log`: one or more non-space characters, then ".log".
    let bytes = rest.as_bytes();
    (1..bytes.len())
        .any(|i| rest[i..].starts_with(".log") && !rest[..i].contains(char::is_whitespace))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_log_names() {
        let m = "---supervisor-";
        assert!(is_auto_log_name("web-stdout---supervisor-abc123.log", m));
        assert!(is_auto_log_name("web-stdout---supervisor-abc123.log.3", m));
        assert!(!is_auto_log_name("web-stdout---other-abc123.log", m));
        assert!(!is_auto_log_name("---supervisor-abc.log", m));
        assert!(!is_auto_log_name("web.log", m));
    }
}
