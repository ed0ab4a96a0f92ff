//! Several stop signals (an extension of the Go supervisord: Python reads
//! one): `stopsignal=TERM, INT` sends TERM, then INT if the process still
//! lives `stopwaitsecs` later, and SIGKILL only after the last one.

use crate::util;

use std::process::Command;
use std::time::Duration;
use util::*;

#[test]
fn each_stop_signal_in_turn_then_sigkill() {
    // `polite` leaves on INT only; `deaf` ignores both and needs SIGKILL.
    let daemon = Daemon::builder(Impl::Ours)
        .unix("s.sock")
        .ctl()
        .sections(
            "[program:polite]\ncommand=sh -c 'trap \"echo got-TERM\" TERM; trap \"echo got-INT; exit 0\" INT; while :; do sleep 0.1; done'\n\
             startsecs=0\nstopsignal=TERM, INT\nstopwaitsecs=1\nstdout_logfile=%(here)s/polite.log\n\n\
             [program:deaf]\ncommand=sh -c 'trap \"\" TERM INT; while :; do sleep 0.1; done'\n\
             startsecs=0\nstopsignal=TERM INT\nstopwaitsecs=1\n",
        )
        .start();
    let log = || daemon.log();
    assert!(
        wait_until(Duration::from_secs(15), || {
            let l = log();
            l.contains("success: polite entered RUNNING")
                && l.contains("success: deaf entered RUNNING")
        }),
        "{}",
        log()
    );
    let (code, out, err) = run_with_timeout(
        Command::new(our_bin())
            .args(["ctl", "-c"])
            .arg(daemon.conf())
            .args(["stop", "polite", "deaf"]),
        Duration::from_secs(30),
    );
    assert_eq!(code, Some(0), "{out}{err}");
    assert_eq!(out, "polite: stopped\ndeaf: stopped\n");
    let l = log();
    assert_eq!(
        read_text(&daemon.dir().join("polite.log")),
        "got-TERM\ngot-INT\n"
    );
    assert!(
        l.contains("signalling 'polite' (")
            && l.contains(") with SIGINT: still running 1 s after SIGTERM"),
        "{l}"
    );
    assert!(l.contains("stopped: polite (exit status 0)"), "{l}");
    assert!(!l.contains("killing 'polite'"), "{l}");
    assert!(l.contains("killing 'deaf' ("), "{l}");
    assert!(l.contains("stopped: deaf (terminated by SIGKILL)"), "{l}");
    // SIGKILL came after both stop signals, not after the first.
    let int_at = l.find("signalling 'deaf'").expect("INT for deaf");
    let kill_at = l.find("killing 'deaf'").expect("KILL for deaf");
    assert!(int_at < kill_at, "{l}");
}
