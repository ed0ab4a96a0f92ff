//! Reloading and stopping lose nothing and leave nothing half done:
//! output a child wrote in the instant before a HUP, a TERM or a `stop`
//! lands in its log byte for byte; a HUP brings back a unix socket file
//! that was removed under the daemon; one `stop group:*` stops a group of
//! crash-looping programs.

use crate::util::{wait_until, Daemon, Impl};
use std::path::Path;
use std::time::Duration;

/// Bytes of the child's one line of output: long enough that much of it
/// is still in the pipe (64 KiB) when the test acts.
const BLOB: usize = 3_000_000;

/// A program that writes BLOB bytes of `x` in one line, then a marker
/// line, then says so with a file and sleeps; `sleep` is exec'd so the
/// stop signal reaches it.
fn writer(dir: &Path) -> String {
    format!(
        "[program:w]\n\
         command=/bin/sh -c 'head -c {BLOB} /dev/zero | tr \"\\0\" x; echo; echo END; touch {done}; exec sleep 1000'\n\
         stdout_logfile={dir}/w.log\n\
         stdout_logfile_maxbytes=0\n\
         startsecs=0\n\
         autorestart=false\n",
        done = dir.join("done").display(),
        dir = dir.display(),
    )
}

/// Starts the writer and waits until it has written everything to its
/// pipe (most of it may not be in the log yet).
fn written(d: &Daemon) {
    let done = d.dir().join("done");
    assert!(
        wait_until(Duration::from_secs(30), || done.exists()),
        "the writer did not finish"
    );
}

/// The log holds the whole line and the marker, exactly once.
fn assert_logged(d: &Daemon) {
    let log = d.dir().join("w.log");
    let ok = wait_until(Duration::from_secs(10), || {
        std::fs::metadata(&log).is_ok_and(|m| m.len() >= (BLOB + 5) as u64)
    });
    let text = std::fs::read(&log).expect("read w.log");
    assert!(ok, "w.log has {} of {} bytes", text.len(), BLOB + 5);
    let first = &text[..BLOB + 5];
    assert!(
        first[..BLOB].iter().all(|&b| b == b'x'),
        "the line is damaged"
    );
    assert_eq!(
        &first[BLOB..],
        b"\nEND\n",
        "the marker is not right after the line"
    );
}

fn start_writer() -> Daemon {
    let b = Daemon::builder(Impl::Ours).unix("s.sock");
    let sections = writer(b.dir());
    b.sections(&sections).start()
}

#[test]
fn output_written_right_before_a_hup_is_logged() {
    let d = start_writer();
    written(&d);
    d.signal(libc::SIGHUP);
    assert_logged(&d);
}

#[test]
fn output_written_right_before_a_term_is_logged() {
    let mut d = start_writer();
    written(&d);
    d.signal(libc::SIGTERM);
    assert_eq!(d.wait_exit(Duration::from_secs(30)), Some(0));
    assert_logged(&d);
}

#[test]
fn output_written_right_before_a_stop_is_logged() {
    let d = start_writer();
    written(&d);
    d.call("supervisor.stopProcess", &["w".into()]);
    assert_eq!(d.state("w"), "STOPPED");
    assert_logged(&d);
}

#[test]
fn a_hup_brings_back_a_removed_unix_socket() {
    let d = Daemon::builder(Impl::Ours)
        .unix("s.sock")
        .sections("[program:p]\ncommand=sleep 1000\nstartsecs=0\n")
        .start();
    d.wait_state("p", "RUNNING");
    let sock = d.sock();
    std::fs::remove_file(&sock).expect("remove the socket file");
    d.signal(libc::SIGHUP);
    assert!(
        wait_until(Duration::from_secs(30), || sock.exists() && d.answers()),
        "the socket file is not back after HUP"
    );
    d.wait_state("p", "RUNNING");
}

#[test]
fn one_stop_stops_a_crash_looping_group() {
    let d = Daemon::builder(Impl::Ours)
        .unix("s.sock")
        .sections(
            "[program:crash]\ncommand=/bin/false\nnumprocs=10\nprocess_name=crash%(process_num)d\n\
             autorestart=true\nstartsecs=0\nstartretries=1000000\n",
        )
        .start();
    // Every member has crashed and restarted a few times.
    assert!(d.wait_log_count("exited: crash9 ", 3));
    let results = d.call("supervisor.stopProcessGroup", &["crash".into()]);
    let results = results.as_array().expect("an array of results");
    assert_eq!(results.len(), 10, "{results:?}");
    let states = d.states();
    assert!(
        states.values().all(|s| s == "STOPPED"),
        "one stop left {states:?}"
    );
}
