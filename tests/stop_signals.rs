//! Several stop signals (an extension of the Go supervisord: Python reads
//! one): `stopsignal=TERM, INT` sends TERM, then INT if the process still
//! lives `stopwaitsecs` later, and SIGKILL only after the last one.

mod util;

use std::process::Command;
use std::time::Duration;
use util::*;

#[test]
fn each_stop_signal_in_turn_then_sigkill() {
    let dir = temp_dir();
    let d = dir.path();
    // `polite` leaves on INT only; `deaf` ignores both and needs SIGKILL.
    let conf = write_conf(
        d,
        &format!(
            "[unix_http_server]\nfile={d}/s.sock\n\n\
             [supervisorctl]\nserverurl=unix://{d}/s.sock\n\n{RPCINTERFACE}\
             [program:polite]\ncommand=sh -c 'trap \"echo got-TERM\" TERM; trap \"echo got-INT; exit 0\" INT; while :; do sleep 0.1; done'\n\
             startsecs=0\nstopsignal=TERM, INT\nstopwaitsecs=1\nstdout_logfile={d}/polite.log\n\n\
             [program:deaf]\ncommand=sh -c 'trap \"\" TERM INT; while :; do sleep 0.1; done'\n\
             startsecs=0\nstopsignal=TERM INT\nstopwaitsecs=1\n",
            d = d.display()
        ),
    );
    let _daemon = start_ours(&conf);
    let log = || std::fs::read_to_string(d.join("sd.log")).unwrap_or_default();
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
            .arg(&conf)
            .args(["stop", "polite", "deaf"]),
        Duration::from_secs(30),
    );
    assert_eq!(code, Some(0), "{out}{err}");
    assert_eq!(out, "polite: stopped\ndeaf: stopped\n");
    let l = log();
    assert_eq!(
        std::fs::read_to_string(d.join("polite.log")).unwrap_or_default(),
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
