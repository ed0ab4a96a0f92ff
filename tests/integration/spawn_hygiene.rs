//! What a child inherits: fds 0-2 only, no blocked and no ignored signals,
//! even when supervisord itself was started with an ignored signal, a
//! blocked one and an extra open fd, and while its HTTP servers run.
//! Covers both spawn paths: plain programs (posix_spawn) and programs with
//! a directory/umask (pre-exec code).

use crate::util;

use std::os::unix::process::CommandExt;
use std::time::Duration;
use util::*;

fn pid_of(log: &str, name: &str) -> Option<i32> {
    let marker = format!("spawned: '{}' with pid ", name);
    let at = log.find(&marker)? + marker.len();
    log[at..].split_whitespace().next()?.parse().ok()
}

fn status_field(pid: i32, field: &str) -> String {
    let status = std::fs::read_to_string(format!("/proc/{}/status", pid)).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{}:", field)))
        .map(|v| v.trim().to_string())
        .unwrap_or_default()
}

#[test]
fn children_inherit_nothing_of_ours() {
    let leaked = std::fs::File::open("/dev/null").expect("open");
    let leaked_fd = std::os::fd::AsRawFd::as_raw_fd(&leaked);
    let daemon = Daemon::builder(Impl::Ours)
        .inet()
        .unix("s.sock")
        .sections(
            "[program:plain]\ncommand=sleep 1000\n\n\
             [program:withdir]\ncommand=sleep 1001\ndirectory=%(here)s\numask=022\n",
        )
        .prepare(move |cmd| {
            // SAFETY: runs in the forked test child before exec; only
            // signal, sigprocmask and fcntl, which are async-signal-safe.
            unsafe {
                cmd.pre_exec(move || {
                    libc::signal(libc::SIGUSR1, libc::SIG_IGN);
                    let mut set: libc::sigset_t = std::mem::zeroed();
                    libc::sigemptyset(&mut set);
                    libc::sigaddset(&mut set, libc::SIGWINCH);
                    libc::sigprocmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
                    // Keep the extra fd open across exec, as a careless
                    // parent would.
                    libc::fcntl(leaked_fd, libc::F_SETFD, 0);
                    Ok(())
                });
            }
        })
        .start();
    let log = || daemon.log();
    assert!(
        wait_until(Duration::from_secs(15), || {
            let l = log();
            l.contains("success: plain entered RUNNING")
                && l.contains("success: withdir entered RUNNING")
        }),
        "log:\n{}",
        log()
    );
    for name in ["plain", "withdir"] {
        let pid = pid_of(&log(), name).expect("pid in log");
        let mut fds: Vec<String> = std::fs::read_dir(format!("/proc/{}/fd", pid))
            .expect("fd dir")
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        fds.sort();
        assert_eq!(fds, ["0", "1", "2"], "{name} fds");
        assert_eq!(
            status_field(pid, "SigBlk"),
            "0000000000000000",
            "{name} mask"
        );
        let ignored = u64::from_str_radix(&status_field(pid, "SigIgn"), 16).unwrap_or(u64::MAX);
        // Only the classic signals are ours to reset (1..=31).
        assert_eq!(ignored & 0x7fff_ffff, 0, "{name} ignores {:x}", ignored);
        let pgid = std::fs::read_to_string(format!("/proc/{}/stat", pid))
            .ok()
            .and_then(|s| {
                s.rsplit_once(')')
                    .and_then(|(_, r)| r.split_whitespace().nth(2).map(str::to_string))
            })
            .and_then(|p| p.parse::<i32>().ok());
        assert_eq!(pgid, Some(pid), "{name} leads its own process group");
    }
    drop(leaked);
}

/// The descriptors the daemon holds for `n` running programs without log
/// files, once all are RUNNING.
fn daemon_fds_with_programs(n: usize) -> usize {
    let mut sections = String::new();
    for i in 0..n {
        sections.push_str(&format!(
            "[program:p{i}]\ncommand=sleep 1000\nstartsecs=0\nstdout_logfile=NONE\nstderr_logfile=NONE\n\n"
        ));
    }
    let daemon = Daemon::builder(Impl::Ours)
        .unix("s.sock")
        .sections(&sections)
        .start();
    assert!(
        wait_until(Duration::from_secs(20), || {
            let log = daemon.log();
            log.contains("supervisord started with pid")
                && log.matches("entered RUNNING state").count() == n
        }),
        "{n} programs did not all reach RUNNING"
    );
    std::fs::read_dir(format!("/proc/{}/fd", daemon.pid()))
        .expect("fd dir")
        .count()
}

/// Every descriptor the daemon holds is copied into each spawn and closed
/// again at its exec, so starting many programs slows down with each one
/// held per program: a running program costs its three pipes and the
/// pump's stop event, no more.
#[test]
fn a_running_program_costs_the_daemon_four_descriptors() {
    let none = daemon_fds_with_programs(0);
    let twenty = daemon_fds_with_programs(20);
    assert!(
        twenty <= none + 4 * 20,
        "{} descriptors with 20 programs, {} with none: more than 4 per program",
        twenty,
        none
    );
}
