//! pidproxy against a program that starts a worker in the background and
//! writes the worker's pid to a pidfile (what `mysqld_safe` and friends
//! do): signals go to the worker, TERM ends pidproxy, and pidproxy ends
//! when the program it started ends.

use crate::util;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;
use util::*;

/// A launcher that backgrounds a worker recording the signals it gets,
/// writes the worker's pid, and waits for it.
fn launcher(dir: &Path) -> std::path::PathBuf {
    let script = dir.join("launcher.sh");
    let body = format!(
        r#"#!/bin/sh
log={dir}/signals.log
sh -c 'trap "echo HUP >> {dir}/signals.log" HUP
       trap "echo USR1 >> {dir}/signals.log" USR1
       trap "echo TERM >> {dir}/signals.log; exit 0" TERM
       echo started >> {dir}/signals.log
       while :; do sleep 0.05; done' &
echo $! > {dir}/worker.pid
wait
"#,
        dir = dir.display()
    );
    std::fs::write(&script, body).expect("write launcher");
    let mut perms = std::fs::metadata(&script).expect("stat").permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
    std::fs::set_permissions(&script, perms).expect("chmod");
    script
}

fn signals_logged(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("signals.log")).unwrap_or_default()
}

fn worker_pid(dir: &Path) -> Option<i32> {
    std::fs::read_to_string(dir.join("worker.pid"))
        .ok()?
        .trim()
        .parse()
        .ok()
}

#[test]
fn usage_without_arguments() {
    let dir = temp_dir();
    let pp = our_bin_as(dir.path(), "pidproxy");
    let (code, out, _) = run_with_timeout(&mut Command::new(&pp), Duration::from_secs(10));
    assert_eq!(code, Some(1));
    assert!(out.contains("Usage: "), "{out}");
    assert!(
        out.contains("<pidfile name> <command> [<cmdarg1> ...]"),
        "{out}"
    );
}

#[test]
fn relays_signals_to_the_pidfile_pid_and_exits_on_term() {
    let dir = temp_dir();
    let pp = our_bin_as(dir.path(), "pidproxy");
    let script = launcher(dir.path());
    let mut guard = Guard::spawn(
        Command::new(&pp)
            .arg(dir.path().join("worker.pid"))
            .arg(&script)
            .stdout(Stdio::null()),
    );
    assert!(wait_until(Duration::from_secs(10), || {
        worker_pid(dir.path()).is_some() && signals_logged(dir.path()).contains("started")
    }));
    let worker = worker_pid(dir.path()).expect("worker pid");

    signal(guard.pid(), libc::SIGHUP);
    assert!(wait_until(Duration::from_secs(10), || signals_logged(
        dir.path()
    )
    .contains("HUP")));
    signal(guard.pid(), libc::SIGUSR1);
    assert!(wait_until(Duration::from_secs(10), || signals_logged(
        dir.path()
    )
    .contains("USR1")));
    assert!(alive(guard.pid()), "HUP and USR1 do not end pidproxy");

    signal(guard.pid(), libc::SIGTERM);
    let status = guard
        .wait_exit(Duration::from_secs(10))
        .expect("pidproxy exits on TERM");
    assert_eq!(status.code(), Some(0));
    assert!(wait_until(Duration::from_secs(10), || !alive(worker)));
    assert!(signals_logged(dir.path()).contains("TERM"));
}

#[test]
fn exits_when_its_child_exits() {
    let dir = temp_dir();
    let pp = our_bin_as(dir.path(), "pidproxy");
    let mut guard = Guard::spawn(
        Command::new(&pp)
            .arg(dir.path().join("none.pid"))
            .arg("/bin/sh")
            .arg("-c")
            .arg("exit 3"),
    );
    let status = guard
        .wait_exit(Duration::from_secs(10))
        .expect("pidproxy exits");
    assert_eq!(status.code(), Some(0));
}

#[test]
fn missing_pidfile_is_reported_and_pidproxy_keeps_running() {
    let dir = temp_dir();
    let pp = our_bin_as(dir.path(), "pidproxy");
    let out_path = dir.path().join("out.txt");
    let out = std::fs::File::create(&out_path).expect("out file");
    let mut guard = Guard::spawn(
        Command::new(&pp)
            .arg(dir.path().join("missing.pid"))
            .arg("/bin/sleep")
            .arg("30")
            .stdout(out),
    );
    // Give it its handlers: the child exists once /proc shows it.
    assert!(wait_until(Duration::from_secs(10), || {
        std::fs::read_to_string(format!(
            "/proc/{}/task/{}/children",
            guard.pid(),
            guard.pid()
        ))
        .is_ok_and(|c| !c.trim().is_empty())
    }));
    signal(guard.pid(), libc::SIGHUP);
    assert!(wait_until(Duration::from_secs(10), || {
        std::fs::read_to_string(&out_path).is_ok_and(|s| s.contains("Can't read child pidfile"))
    }));
    assert!(alive(guard.pid()));
    signal(guard.pid(), libc::SIGKILL);
    let _ = guard.wait_exit(Duration::from_secs(10));
}
