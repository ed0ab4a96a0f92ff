//! `[supervisord] sighup = update`: a HUP rereads the config and touches
//! only the groups that changed, were added or were removed, as
//! `supervisorctl update` does; the daemon and unchanged programs keep
//! their pids. A config that no longer reads is logged and changes
//! nothing. Without the key, a HUP restarts everything, as Python's does.

use crate::util::{wait_until, Daemon, Impl, START};
use std::collections::BTreeMap;
use std::time::Duration;

const BEFORE: &str = "\
[program:keep]
command=sleep 1000
startsecs=0

[program:change]
command=sleep 1001
startsecs=0

[program:gone]
command=sleep 1002
startsecs=0
";

const AFTER: &str = "\
[program:keep]
command=sleep 1000
startsecs=0

[program:change]
command=sleep 1011
startsecs=0

[program:new]
command=sleep 1003
startsecs=0
";

fn start(imp: Impl, supervisord: &str) -> Daemon {
    let d = Daemon::builder(imp)
        .supervisord(supervisord)
        .unix("sock")
        .sections(BEFORE)
        .start();
    d.wait_states(
        &[
            ("keep", "RUNNING"),
            ("change", "RUNNING"),
            ("gone", "RUNNING"),
        ],
        START,
    );
    d
}

/// statename and pid of every process, or None while the daemon does
/// not answer (a restart in progress).
fn snapshot(d: &Daemon) -> Option<BTreeMap<String, (String, i64)>> {
    let all = d.try_rpc("supervisor.getAllProcessInfo", &[]).ok()?;
    let mut out = BTreeMap::new();
    for info in all.as_array()? {
        let text = |k: &str| info.struct_get(k).and_then(|v| v.as_str()).unwrap_or("");
        let pid = info.struct_get("pid").and_then(|v| v.as_int()).unwrap_or(0);
        out.insert(
            text("name").to_string(),
            (text("statename").to_string(), pid),
        );
    }
    Some(out)
}

/// Whether `name` is RUNNING with a pid other than `not_pid`.
fn running_anew(s: &BTreeMap<String, (String, i64)>, name: &str, not_pid: i64) -> bool {
    s.get(name)
        .is_some_and(|(st, pid)| st == "RUNNING" && *pid != not_pid)
}

fn pids(d: &Daemon) -> [i64; 2] {
    [d.proc_pid("keep"), d.proc_pid("change")]
}

#[test]
fn update_mode_touches_only_what_changed() {
    let d = start(Impl::Ours, "sighup=update");
    let [keep, change] = pids(&d);
    d.rewrite(AFTER);
    d.signal(libc::SIGHUP);
    assert!(
        d.wait_log("received SIGHUP indicating update request"),
        "{}",
        d.output()
    );
    let settled = wait_until(START, || {
        let s = d.states();
        s.get("new").map(String::as_str) == Some("RUNNING")
            && s.get("change").map(String::as_str) == Some("RUNNING")
            && !s.contains_key("gone")
            && d.proc_pid("change") != change
    });
    assert!(settled, "{:?}\n{}", d.states(), d.output());
    assert_eq!(d.proc_pid("keep"), keep, "keep was restarted");
    // The same daemon process answers; nothing was restarted.
    assert!(crate::util::alive(d.pid()));
    assert!(d.answers());
    let log = d.log();
    assert!(!log.contains("restart request"), "{log}");
    assert!(log.contains("update: gone: removed process group"), "{log}");
    assert!(
        log.contains("update: change: updated process group"),
        "{log}"
    );
    assert!(log.contains("update: new: added process group"), "{log}");
    assert_eq!(log.matches("supervisord started with pid").count(), 1);
}

#[test]
fn update_mode_with_a_broken_config_changes_nothing() {
    let d = start(Impl::Ours, "sighup=update");
    let before = pids(&d);
    d.rewrite(&format!(
        "{AFTER}\n[program:bad]\ncommand=sleep 1\nstartsecs=soon\n"
    ));
    d.signal(libc::SIGHUP);
    assert!(d.wait_log("CANT_REREAD: "), "{}", d.output());
    let log = d.log();
    assert!(
        log.contains("'soon'") && log.contains("key: 'startsecs'"),
        "the error does not say what is wrong:\n{log}"
    );
    assert!(d.answers());
    assert_eq!(pids(&d), before);
    assert_eq!(d.state("gone"), "RUNNING");
    assert!(!d.states().contains_key("new"));
    // Fixed, the next HUP does the update.
    d.rewrite(AFTER);
    d.signal(libc::SIGHUP);
    assert!(
        wait_until(START, || d.state("new") == "RUNNING"),
        "{}",
        d.output()
    );
}

/// Without the key (and with `sighup=restart`) a HUP restarts every
/// program, on Python's daemon as on ours.
#[test]
fn without_the_key_a_hup_restarts_everything() {
    for (imp, key) in [
        (Impl::Python, ""),
        (Impl::Ours, ""),
        (Impl::Ours, "sighup=restart"),
    ] {
        let d = start(imp, key);
        let [keep, change] = pids(&d);
        d.rewrite(AFTER);
        d.signal(libc::SIGHUP);
        assert!(
            d.wait_log("received SIGHUP indicating restart request"),
            "{}",
            d.output()
        );
        let restarted = wait_until(START, || {
            snapshot(&d).is_some_and(|s| {
                running_anew(&s, "new", 0)
                    && running_anew(&s, "keep", keep)
                    && running_anew(&s, "change", change)
                    && !s.contains_key("gone")
            })
        });
        assert!(
            restarted,
            "{} {key:?}: {:?}\n{}",
            d.name(),
            d.states(),
            d.output()
        );
    }
}

#[test]
fn a_bad_sighup_value_is_a_config_error() {
    let b = Daemon::builder(Impl::Ours).supervisord("sighup=reboot");
    let conf = b.conf_path();
    let (code, out, err) = b.run(Duration::from_secs(30));
    assert_eq!(code, Some(2), "{out}\n{err}");
    for part in [
        "'reboot'",
        "section 'supervisord'",
        "key: 'sighup'",
        &conf.display().to_string(),
    ] {
        assert!(err.contains(part), "{part:?} not in {err}");
    }
}
