//! Extensions from the Go supervisord on process order and timing, done
//! stricter: `depends_on` (spawn after each dependency is RUNNING, stop
//! dependents first, cycles and unknown names as config errors, a FATAL
//! dependency keeping dependents stopped, startProcess starting the
//! dependencies), `restartpause` and `killwaitsecs`. Python ignores these
//! keys, so a config using them still loads there.

use crate::util;

use std::process::Command;
use std::time::Duration;
use supervisord::rpc::xmlrpc::Value;
use util::*;

fn daemon(sections: &str) -> DaemonBuilder {
    Daemon::builder(Impl::Ours)
        .unix("s.sock")
        .ctl()
        .sections(sections)
}

/// Where `needle` first is in the activity log (panics when absent).
fn at(log: &str, needle: &str) -> usize {
    log.find(needle)
        .unwrap_or_else(|| panic!("{needle:?} not in the log:\n{log}"))
}

fn ctl(d: &Daemon, args: &[&str]) -> (Option<i32>, String, String) {
    run_with_timeout(
        Command::new(our_bin())
            .args(["ctl", "-c"])
            .arg(d.conf())
            .args(args),
        Duration::from_secs(30),
    )
}

#[test]
fn a_dependent_is_spawned_once_its_dependency_is_running_across_groups() {
    // `app` sorts first by priority; it still waits for `backend:db`.
    let d = daemon(
        "[program:app]\ncommand=sleep 1000\nstartsecs=0\npriority=1\ndepends_on=backend:db\n\n\
         [group:backend]\nprograms=db\n\n\
         [program:db]\ncommand=sleep 1000\nstartsecs=1\npriority=50\n",
    )
    .start();
    d.wait_state("app", "RUNNING");
    let log = d.log();
    assert!(
        at(&log, "success: db entered RUNNING") < at(&log, "spawned: 'app'"),
        "{log}"
    );
    assert!(
        log.contains("app waits to start: its dependency backend:db is STARTING"),
        "{log}"
    );

    // A program added by update that depends on a running one starts.
    d.rewrite(
        "[program:app]\ncommand=sleep 1000\nstartsecs=0\npriority=1\ndepends_on=backend:db\n\n\
         [group:backend]\nprograms=db\n\n\
         [program:db]\ncommand=sleep 1000\nstartsecs=1\npriority=50\n\n\
         [program:late]\ncommand=sleep 1000\nstartsecs=0\ndepends_on=app, db\n",
    );
    let (code, out, err) = ctl(&d, &["update"]);
    assert_eq!(code, Some(0), "{out}{err}");
    d.wait_state("late", "RUNNING");
}

#[test]
fn a_cycle_is_a_config_error_that_shows_it() {
    let (code, out, err) = daemon(
        "[program:a]\ncommand=sleep 1\ndepends_on=b\n\n\
         [program:b]\ncommand=sleep 1\ndepends_on=c\n\n\
         [program:c]\ncommand=sleep 1\ndepends_on=a\n",
    )
    .run(Duration::from_secs(20));
    assert_eq!(code, Some(2), "{out}{err}");
    let text = format!("{out}{err}");
    assert!(
        text.contains("Error: depends_on makes a cycle: a -> b -> c -> a in section 'program:a'"),
        "{text}"
    );
    assert!(text.contains("key: 'depends_on'"), "{text}");
}

#[test]
fn an_unknown_dependency_is_a_config_error() {
    let (code, out, err) =
        daemon("[program:a]\ncommand=sleep 1\ndepends_on=nope\n").run(Duration::from_secs(20));
    assert_eq!(code, Some(2), "{out}{err}");
    let text = format!("{out}{err}");
    assert!(
        text.contains("depends_on names unknown program \"nope\" in section 'program:a'"),
        "{text}"
    );
}

#[test]
fn a_fatal_dependency_keeps_its_dependents_stopped() {
    let d = daemon(
        "[program:db]\ncommand=false\nstartsecs=1\nstartretries=0\n\n\
         [program:app]\ncommand=sleep 1000\nstartsecs=0\ndepends_on=db\n",
    )
    .start();
    d.wait_state("db", "FATAL");
    assert!(
        d.wait_log("not starting app: its dependency db is FATAL"),
        "{}",
        d.log()
    );
    assert_eq!(d.state("app"), "STOPPED");
    assert!(!d.log().contains("spawned: 'app'"), "{}", d.log());

    // startProcess brings the dependency back first; it fails again, and
    // the start says why.
    let fault = d
        .rpc(
            "supervisor.startProcess",
            &[Value::from("app"), Value::Bool(true)],
        )
        .expect_err("a start whose dependency fails");
    assert_eq!(fault.code, 50, "{}", fault.string);
    assert!(
        fault.string.contains("app: its dependency db is FATAL"),
        "{}",
        fault.string
    );
    assert!(d.wait_log_count("spawned: 'db'", 2), "{}", d.log());
    assert_eq!(d.state("app"), "STOPPED");
}

#[test]
fn start_process_starts_the_dependencies_first_and_waits() {
    let d = daemon(
        "[program:db]\ncommand=sleep 1000\nstartsecs=1\nautostart=false\n\n\
         [program:cache]\ncommand=sleep 1000\nstartsecs=1\nautostart=false\ndepends_on=db\n\n\
         [program:app]\ncommand=sleep 1000\nstartsecs=0\nautostart=false\ndepends_on=cache\n",
    )
    .start();
    let (code, out, err) = ctl(&d, &["start", "app"]);
    assert_eq!(code, Some(0), "{out}{err}");
    assert_eq!(out, "app: started\n");
    // It answered once app was RUNNING, after the chain below it.
    assert_eq!(d.state("app"), "RUNNING");
    assert_eq!(d.state("cache"), "RUNNING");
    assert_eq!(d.state("db"), "RUNNING");
    let log = d.log();
    assert!(at(&log, "success: db entered RUNNING") < at(&log, "spawned: 'cache'"));
    assert!(at(&log, "success: cache entered RUNNING") < at(&log, "spawned: 'app'"));
}

/// A child that takes a moment to stop, so a stop sent too early would
/// show in the order of the "stopped:" lines.
const SLOW_STOP: &str = "sh -c 'trap \"sleep 0.3; exit 0\" TERM; while :; do sleep 0.1; done'";

fn stop_order_daemon() -> Daemon {
    // Python's order would stop db first (higher priority number).
    daemon(&format!(
        "[program:app]\ncommand={SLOW_STOP}\nstartsecs=0\npriority=1\ndepends_on=db\n\n\
         [program:db]\ncommand={SLOW_STOP}\nstartsecs=0\npriority=2\n"
    ))
    .start()
}

#[test]
fn stop_all_stops_dependents_first() {
    let d = stop_order_daemon();
    d.wait_state("app", "RUNNING");
    let (code, out, err) = ctl(&d, &["stop", "all"]);
    assert_eq!(code, Some(0), "{out}{err}");
    let log = d.log();
    assert!(at(&log, "stopped: app") < at(&log, "stopped: db"), "{log}");
    assert_eq!(d.state("db"), "STOPPED");
}

#[test]
fn shutdown_stops_dependents_first() {
    let mut d = stop_order_daemon();
    d.wait_state("app", "RUNNING");
    d.signal(libc::SIGTERM);
    assert!(d.wait_exit(Duration::from_secs(20)).is_some());
    let log = d.log();
    assert!(at(&log, "stopped: app") < at(&log, "stopped: db"), "{log}");
}

#[test]
fn restartpause_waits_in_backoff_before_an_automatic_restart() {
    let d = daemon(
        "[program:blip]\ncommand=sh -c 'sleep 0.2'\nstartsecs=0\nautorestart=true\nrestartPause=3\n",
    )
    .start();
    assert!(
        d.wait_log("exited: blip (exit status 0; expected)"),
        "{}",
        d.log()
    );
    d.wait_state("blip", "BACKOFF");
    let info = d.info("blip");
    assert_eq!(
        info.struct_get("description").and_then(Value::as_str),
        Some("restarting in 3 s (restartpause)")
    );
    assert_eq!(d.log().matches("spawned: 'blip'").count(), 1);
    // Then it does restart (a loop deadline, not a lost wake-up).
    assert!(d.wait_log_count("spawned: 'blip'", 2), "{}", d.log());
}

#[test]
fn killwaitsecs_is_accepted_and_a_normal_stop_is_unchanged() {
    let d = daemon("[program:p]\ncommand=sleep 1000\nstartsecs=0\nkillwaitsecs=1\n").start();
    d.wait_state("p", "RUNNING");
    let (code, out, err) = ctl(&d, &["stop", "p"]);
    assert_eq!(code, Some(0), "{out}{err}");
    assert_eq!(out, "p: stopped\n");

    let (code, out, err) =
        daemon("[program:p]\ncommand=sleep 1\nkillwaitsecs=-1\n").run(Duration::from_secs(20));
    assert_eq!(code, Some(2), "{out}{err}");
    assert!(
        format!("{out}{err}").contains("killwaitsecs must not be negative in section 'program:p'"),
        "{out}{err}"
    );
}
