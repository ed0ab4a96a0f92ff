//! `[supervisord] exit_on` and `shutdown_on_fatal` (extensions asked of
//! Supervisor for years): a program's failure stops everything, in the
//! usual order with the usual lines, and the daemon exits with the
//! program's status, so a container orchestrator restarts the container.
//! Without the keys, a FATAL program leaves the daemon running, as in
//! Python.

use crate::util;

use std::time::Duration;
use util::*;

const OTHER: &str = "[program:other]\ncommand=sleep 1000\nstartsecs=0\npriority=1\n";

#[test]
fn exit_on_fatal_stops_the_rest_and_exits_with_the_programs_status() {
    let mut d = Daemon::builder(Impl::Ours)
        .supervisord("exit_on = fatal")
        .unix("s.sock")
        .sections(&format!(
            "{OTHER}\n[program:bad]\ncommand=sh -c 'exit 3'\nstartsecs=1\nstartretries=1\n"
        ))
        .start();
    assert_eq!(d.wait_exit(Duration::from_secs(30)), Some(3), "{}", d.log());
    let log = d.log();
    assert!(
        log.contains("CRIT bad entered FATAL state: shutting down (exit_on), exit status 3"),
        "{log}"
    );
    assert!(
        log.contains("stopped: other (terminated by SIGTERM)"),
        "{log}"
    );
}

#[test]
fn exit_on_unexpected_exit_needs_no_fatal() {
    let mut d = Daemon::builder(Impl::Ours)
        .supervisord("exit_on = fatal, unexpected_exit")
        .unix("s.sock")
        .sections(&format!(
            "{OTHER}\n[program:job]\ncommand=sh -c 'sleep 0.5; exit 7'\nstartsecs=0\nautorestart=true\n"
        ))
        .start();
    assert_eq!(d.wait_exit(Duration::from_secs(30)), Some(7), "{}", d.log());
    let log = d.log();
    assert!(
        log.contains("job exited unexpectedly: shutting down (exit_on), exit status 7"),
        "{log}"
    );
    // It was not restarted on the way out.
    assert_eq!(log.matches("spawned: 'job'").count(), 1, "{log}");
}

#[test]
fn shutdown_on_fatal_is_per_program_and_a_signal_exits_1() {
    let mut d = Daemon::builder(Impl::Ours)
        .unix("s.sock")
        .sections(&format!(
            "{OTHER}\n[program:ignored]\ncommand=false\nstartsecs=1\nstartretries=0\n\n\
             [program:key]\ncommand=sh -c 'sleep 0.3; kill -9 $$'\nstartsecs=2\nstartretries=0\nshutdown_on_fatal=true\n"
        ))
        .start();
    assert_eq!(d.wait_exit(Duration::from_secs(30)), Some(1), "{}", d.log());
    let log = d.log();
    assert!(
        log.contains("gave up: ignored entered FATAL state"),
        "{log}"
    );
    assert!(
        log.contains("key entered FATAL state: shutting down (exit_on), exit status 1"),
        "{log}"
    );
}

#[test]
fn without_the_keys_a_fatal_program_leaves_the_daemon_running() {
    let d = Daemon::builder(Impl::Ours)
        .unix("s.sock")
        .sections(&format!(
            "{OTHER}\n[program:bad]\ncommand=sh -c 'exit 3'\nstartsecs=1\nstartretries=0\n"
        ))
        .start();
    d.wait_state("bad", "FATAL");
    assert!(d.answers());
    assert_eq!(d.state("other"), "RUNNING");
    assert!(!d.log().contains("exit_on"), "{}", d.log());
}

#[test]
fn a_bad_exit_on_is_a_config_error() {
    let (code, out, err) = Daemon::builder(Impl::Ours)
        .supervisord("exit_on = fatal, crash")
        .run(Duration::from_secs(20));
    assert_eq!(code, Some(2), "{out}{err}");
    assert!(
        format!("{out}{err}").contains(
            "value \"crash\" is not valid for exit_on (fatal, unexpected_exit or none) in section 'supervisord'"
        ),
        "{out}{err}"
    );
}
