//! The backoff keys (extensions asked of Supervisor for years): an
//! exponential delay with a cap, `startretries = unlimited`, and
//! `backoff_reset_after` making a crash loop after RUNNING back off. The
//! states stay Python's: BACKOFF between tries, FATAL when they run out.

use crate::util;

use std::time::Duration;
use util::*;

#[test]
fn unlimited_retries_never_give_up_and_the_delay_is_capped() {
    let d = Daemon::builder(Impl::Ours)
        .unix("s.sock")
        .sections(
            "[program:flaky]\ncommand=false\nstartsecs=1\nstartretries=unlimited\n\
             backoff=exponential\nbackoff_initial=0.1\nbackoff_max=0.3\n",
        )
        .start();
    // 0.1 + 0.2 + 0.3 + 0.3 ... : ten tries in a few seconds, and more.
    assert!(d.wait_log_count("spawned: 'flaky'", 10), "{}", d.log());
    assert!(!d.log().contains("gave up: flaky"), "{}", d.log());
    let state = d.state("flaky");
    assert!(state == "BACKOFF" || state == "STARTING", "{state}");
}

#[test]
fn a_crash_loop_after_running_backs_off_and_ends_fatal() {
    let d = Daemon::builder(Impl::Ours)
        .unix("s.sock")
        .sections(
            "[program:loop]\ncommand=sh -c 'sleep 0.3; exit 1'\nstartsecs=0\nautorestart=true\n\
             startretries=2\nbackoff_initial=0.1\nbackoff=exponential\nbackoff_reset_after=30\n",
        )
        .start();
    d.wait_state("loop", "FATAL");
    let log = d.log();
    assert_eq!(log.matches("spawned: 'loop'").count(), 3, "{log}");
    assert!(log.contains("gave up: loop entered FATAL state"), "{log}");
}

#[test]
fn without_the_keys_a_crash_loop_after_running_restarts_forever_as_python() {
    let d = Daemon::builder(Impl::Ours)
        .unix("s.sock")
        .sections(
            "[program:loop]\ncommand=sh -c 'sleep 0.1; exit 1'\nstartsecs=0\nautorestart=true\nstartretries=2\n",
        )
        .start();
    assert!(d.wait_log_count("spawned: 'loop'", 6), "{}", d.log());
    assert!(!d.log().contains("gave up"), "{}", d.log());
}

#[test]
fn bad_backoff_values_are_config_errors() {
    for (line, want) in [
        (
            "backoff=fibonacci",
            "value \"fibonacci\" is not valid for backoff (linear or exponential)",
        ),
        ("backoff_initial=-1", "\"-1\" is not a number of seconds"),
        (
            "startretries=lots",
            "invalid literal for int() with base 10: 'lots'",
        ),
    ] {
        let (code, out, err) = Daemon::builder(Impl::Ours)
            .sections(&format!("[program:p]\ncommand=sleep 1\n{line}\n"))
            .run(Duration::from_secs(20));
        assert_eq!(code, Some(2), "{line}: {out}{err}");
        assert!(format!("{out}{err}").contains(want), "{line}: {out}{err}");
        assert!(
            format!("{out}{err}").contains("in section 'program:p'"),
            "{out}{err}"
        );
    }
}
