//! `healthcheck` (an extension): a RUNNING program that fails its probe
//! `healthcheck_retries` times in a row is restarted, with a log line and
//! a PROCESS_HEALTH_FAILED event; a passing one is left alone.

use crate::util;

use std::net::TcpListener;
use util::*;

#[test]
fn a_failing_cmd_probe_restarts_the_program() {
    let d = Daemon::builder(Impl::Ours)
        .unix("s.sock")
        .sections(
            "[program:web]\ncommand=sleep 1000\nstartsecs=0\n\
             healthcheck=cmd:test -e %(here)s/ok\nhealthcheck_interval=0.2\nhealthcheck_retries=2\n",
        )
        .start();
    d.wait_state("web", "RUNNING");
    let first = d.proc_pid("web");
    assert!(
        d.wait_log("web is unhealthy: 2 health checks failed in a row (the command ended with exit status 1), restarting it"),
        "{}",
        d.log()
    );
    assert!(d.wait_log_count("spawned: 'web'", 2), "{}", d.log());
    d.wait_state("web", "RUNNING");
    // Healthy now: no more restarts over several intervals (a negative
    // can only be awaited for a while).
    std::fs::write(d.dir().join("ok"), "").expect("ok file");
    let spawns = d.log().matches("spawned: 'web'").count();
    assert!(!wait_until(std::time::Duration::from_secs(1), || d
        .log()
        .matches("spawned: 'web'")
        .count()
        > spawns));
    assert_ne!(d.proc_pid("web"), first);
}

#[test]
fn a_passing_tcp_probe_leaves_it_running() {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = l.local_addr().expect("addr").port();
    let d = Daemon::builder(Impl::Ours)
        .unix("s.sock")
        .supervisord("loglevel=debug")
        .sections(&format!(
            "[program:db]\ncommand=sleep 1000\nstartsecs=0\n\
             healthcheck=tcp:{port}\nhealthcheck_interval=0.1\nhealthcheck_retries=1\n"
        ))
        .start();
    d.wait_state("db", "RUNNING");
    let pid = d.proc_pid("db");
    // Several intervals pass; the listener accepts (the kernel backlog).
    let t = std::time::Instant::now();
    assert!(!wait_until(std::time::Duration::from_millis(800), || d
        .log()
        .contains("unhealthy")));
    assert!(t.elapsed() >= std::time::Duration::from_millis(800));
    assert_eq!(d.proc_pid("db"), pid);
    drop(l);
    assert!(d.wait_log("db is unhealthy"), "{}", d.log());
}

#[test]
fn bad_healthchecks_are_config_errors() {
    let (code, out, err) = Daemon::builder(Impl::Ours)
        .sections("[program:p]\ncommand=sleep 1\nhealthcheck=https://x/\n")
        .run(std::time::Duration::from_secs(20));
    assert_eq!(code, Some(2), "{out}{err}");
    assert!(
        format!("{out}{err}").contains("is not a valid healthcheck"),
        "{out}{err}"
    );
}

#[test]
fn ready_waits_for_the_first_passing_check() {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = l.local_addr().expect("addr").port();
    let d = Daemon::builder(Impl::Ours)
        .inet()
        .sections(&format!(
            "[program:db]\ncommand=sleep 1000\nstartsecs=0\nhealthcheck=tcp:{port}\nhealthcheck_interval=1.5\n"
        ))
        .start();
    d.wait_state("db", "RUNNING");
    let r = d.get("/ready").expect("an answer");
    assert_eq!(r.status, 503, "{}", r.text());
    assert!(r.text().contains("RUNNING (not healthy)"), "{}", r.text());
    assert!(
        wait_until(std::time::Duration::from_secs(10), || d
            .get("/ready")
            .is_ok_and(|r| r.status == 200)),
        "{}",
        d.log()
    );
    drop(l);
}
