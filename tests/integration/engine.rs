//! The process engine with real children: state transitions, activity-log
//! lines (compared with Python's supervisord on the same config), child
//! logs, signals to the daemon, daemon mode and PID 1.

use crate::util;

use std::process::{Command, Stdio};
use std::time::Duration;
use util::{
    is_root, read_text, signal, wait_until, Daemon, DaemonBuilder, Guard, Impl, ProcessTree,
};

const WAIT: Duration = Duration::from_secs(20);

/// A daemon in the foreground on its temp dir, silent, and as root where
/// the tests run as root (then both kinds log the same about it).
fn daemon(imp: Impl) -> DaemonBuilder {
    let b = Daemon::builder(imp).supervisord("silent=true");
    if is_root() {
        b.supervisord("user=root")
    } else {
        b
    }
}

/// Our daemon on `body`.
fn ours(body: &str) -> Daemon {
    daemon(Impl::Ours).sections(body).start()
}

/// The activity log reduced to what must match Python's: messages without
/// timestamps and pids, only lines about `names`.
fn normalized(log: &str, names: &[&str]) -> Vec<String> {
    let pid = regex_lite_pid();
    log.lines()
        .filter_map(|l| l.splitn(3, ' ').nth(2))
        .filter(|m| names.iter().any(|n| m.contains(*n)))
        .filter(|m| !m.contains("CRIT Supervisor is running as root"))
        .map(pid)
        .collect()
}

/// Replaces "pid 123" / "with pid 123" / "(123)" numbers by N.
fn regex_lite_pid() -> impl Fn(&str) -> String {
    |s: &str| {
        let mut out = String::new();
        let mut digits = String::new();
        for c in s.chars() {
            if c.is_ascii_digit() {
                digits.push(c);
            } else {
                if !digits.is_empty() {
                    out.push_str(if digits.len() >= 3 { "N" } else { &digits });
                    digits.clear();
                }
                out.push(c);
            }
        }
        if !digits.is_empty() {
            out.push_str(if digits.len() >= 3 { "N" } else { &digits });
        }
        out
    }
}

/// Runs the same scenario on both daemons: start, wait for `until` in the
/// log, TERM, wait for exit; returns (ours, python's) normalized logs.
fn differential(body: &str, until: &str, names: &[&str]) -> (Vec<String>, Vec<String>) {
    let mut out = Vec::new();
    for imp in [Impl::Ours, Impl::Python] {
        let mut d = daemon(imp).sections(body).start();
        assert!(
            d.wait_log(until),
            "{}: never logged {:?}:\n{}",
            imp.name(),
            until,
            d.log()
        );
        assert_eq!(d.stop(), Some(0), "{} did not exit 0", imp.name());
        out.push(normalized(&d.log(), names));
    }
    let py = out.pop().unwrap_or_default();
    let ours = out.pop().unwrap_or_default();
    (ours, py)
}

#[test]
fn start_run_and_shutdown_match_python() {
    let body = "[program:sleeper]\ncommand=/bin/sleep 60\nstartsecs=1\n";
    let (ours, py) = differential(body, "success: sleeper", &["sleeper", "SIGTERM"]);
    assert_eq!(ours, py);
    assert_eq!(
        ours,
        vec![
            "INFO spawned: 'sleeper' with pid N",
            "INFO success: sleeper entered RUNNING state, process has stayed up for > than 1 seconds (startsecs)",
            "WARN received SIGTERM indicating exit request",
            "INFO waiting for sleeper to die",
            "WARN stopped: sleeper (terminated by SIGTERM)",
        ]
    );
}

#[test]
fn missing_command_gives_up_like_python() {
    let body = "[program:ghost]\ncommand=no_such_command_xyz\nstartretries=1\n";
    let (ours, py) = differential(body, "gave up: ghost", &["ghost"]);
    assert_eq!(ours, py);
    assert_eq!(
        ours.last().map(String::as_str),
        Some("INFO gave up: ghost entered FATAL state, too many start retries too quickly")
    );
}

#[test]
fn expected_exit_after_running_matches_python() {
    let body =
        "[program:once]\ncommand=/bin/sh -c 'sleep 0.3; exit 0'\nstartsecs=0\nautorestart=false\n";
    let (ours, py) = differential(body, "exited: once", &["once"]);
    assert_eq!(ours, py);
    assert!(ours.contains(&"INFO exited: once (exit status 0; expected)".to_string()));
}

#[test]
fn unexpected_exit_restarts_and_too_quick_backs_off() {
    let body = "[program:flaky]\ncommand=/bin/sh -c 'exit 3'\nstartsecs=1\nstartretries=2\n\n\
                [program:crash]\ncommand=/bin/sh -c 'sleep 0.2; exit 5'\nstartsecs=0\nautorestart=unexpected\n";
    let mut d = ours(body);
    assert!(
        d.wait_log("gave up: flaky entered FATAL state"),
        "{}",
        d.log()
    );
    let log = d.log();
    assert_eq!(log.matches("spawned: 'flaky'").count(), 3, "{}", log);
    assert_eq!(
        log.matches("WARN exited: flaky (exit status 3; not expected)")
            .count(),
        3
    );
    // An unexpected exit after RUNNING restarts the program.
    assert!(wait_until(WAIT, || d
        .log()
        .matches("spawned: 'crash'")
        .count()
        >= 3));
    assert!(d
        .log()
        .contains("WARN exited: crash (exit status 5; not expected)"));
    assert_eq!(d.stop(), Some(0));
}

#[test]
fn stopwaitsecs_escalates_to_sigkill() {
    let body = "[program:stubborn]\ncommand=/bin/sh -c 'trap \"\" TERM; while :; do sleep 1; done'\nstartsecs=0\nstopwaitsecs=1\n";
    let mut d = ours(body);
    assert!(d.wait_log("success: stubborn"));
    assert_eq!(d.stop(), Some(0));
    let log = d.log();
    assert!(log.contains("WARN killing 'stubborn' ("), "{}", log);
    assert!(log.contains("with SIGKILL"), "{}", log);
    assert!(
        log.contains("WARN stopped: stubborn (terminated by SIGKILL)"),
        "{}",
        log
    );
}

#[test]
fn child_output_is_never_lost_across_rotations() {
    // ~490 KB through a 64 KB log with enough backups to keep all of it.
    let body = "[program:writer]\ncommand=/bin/sh -c 'seq 1 80000'\nstartsecs=0\nautorestart=false\n\
                stdout_logfile=%(here)s/w.log\nstdout_logfile_maxbytes=64KB\nstdout_logfile_backups=20\n";
    let mut d = ours(body);
    assert!(d.wait_log("exited: writer"), "{}", d.log());
    let expected: String = (1..=80000).map(|i| format!("{}\n", i)).collect();
    let read_all = || {
        let mut all = Vec::new();
        for i in (1..=20).rev() {
            if let Ok(b) = std::fs::read(d.dir().join(format!("w.log.{}", i))) {
                all.extend(b);
            }
        }
        all.extend(std::fs::read(d.dir().join("w.log")).unwrap_or_default());
        all
    };
    assert!(
        wait_until(WAIT, || read_all().len() >= expected.len()),
        "only {} of {} bytes landed",
        read_all().len(),
        expected.len()
    );
    assert!(
        read_all() == expected.as_bytes(),
        "log content differs from what the child wrote"
    );
    assert!(d.dir().join("w.log.1").exists(), "no rotation happened");
    assert_eq!(d.stop(), Some(0));
}

#[test]
fn environment_and_directory_reach_the_child() {
    let b = daemon(Impl::Ours);
    let sub = b.dir().join("work");
    std::fs::create_dir(&sub).expect("mkdir");
    let body = "[program:envy]\ncommand=/bin/sh -c 'echo $SUPERVISOR_ENABLED $SUPERVISOR_PROCESS_NAME $SUPERVISOR_GROUP_NAME $FOO $BAR; pwd; exec sleep 30'\n\
                directory=%(here)s/work\nenvironment=FOO=\"a b\",BAR=%(program_name)s\nstdout_logfile=%(here)s/env.log\nstartsecs=0\n";
    let mut d = b.sections(body).start();
    let out = d.dir().join("env.log");
    assert!(wait_until(WAIT, || read_text(&out).lines().count() >= 2));
    let text = read_text(&out);
    let canon = std::fs::canonicalize(&sub).expect("canonical");
    assert_eq!(text, format!("1 envy envy a b envy\n{}\n", canon.display()));
    assert_eq!(d.stop(), Some(0));
}

#[test]
fn bad_directory_is_reported_in_the_child_log() {
    let body = "[program:lost]\ncommand=/bin/true\ndirectory=/no/such/dir\nstderr_logfile=%(here)s/err.log\nstartretries=0\n";
    let mut d = ours(body);
    assert!(d.wait_log("gave up: lost"), "{}", d.log());
    let err = read_text(&d.dir().join("err.log"));
    assert_eq!(
        err,
        "supervisor: couldn't chdir to /no/such/dir: ENOENT\nsupervisor: child process was not spawned\n"
    );
    assert_eq!(d.stop(), Some(0));
}

#[test]
fn sighup_rereads_the_config_in_the_same_process() {
    let first = "[program:first]\ncommand=/bin/sleep 60\nstartsecs=0\n";
    let mut d = ours(first);
    assert!(d.wait_log("success: first"));
    d.rewrite(&format!(
        "{first}\n[program:second]\ncommand=/bin/sleep 60\nstartsecs=0\n"
    ));
    d.signal(libc::SIGHUP);
    assert!(d.wait_log("success: second"), "{}", d.log());
    let log = d.log();
    assert!(log.contains("WARN received SIGHUP indicating restart request"));
    assert!(log.contains("WARN stopped: first (terminated by SIGTERM)"));
    assert_eq!(log.matches("success: first").count(), 2, "{}", log);
    assert!(d.exited().is_none(), "daemon exited on HUP");
    assert_eq!(d.stop(), Some(0));
}

#[test]
fn sigusr2_reopens_logs_after_logrotate() {
    let body = "[program:ticker]\ncommand=/bin/sh -c 'while :; do echo tick; sleep 0.1; done'\nstartsecs=0\nstdout_logfile=%(here)s/t.log\n";
    let mut d = ours(body);
    let dir = d.dir().to_path_buf();
    let log = dir.join("t.log");
    assert!(wait_until(WAIT, || log.exists()
        && std::fs::metadata(&log)
            .map(|m| m.len() > 0)
            .unwrap_or(false)));
    std::fs::rename(&log, dir.join("t.log.old")).expect("rename");
    std::fs::rename(dir.join("sd.log"), dir.join("sd.log.old")).expect("rename main log");
    d.signal(libc::SIGUSR2);
    assert!(wait_until(WAIT, || read_text(&log).contains("tick")));
    assert!(
        d.wait_log("supervisord logreopen")
            || read_text(&dir.join("sd.log.old")).contains("logreopen")
    );
    assert_eq!(d.stop(), Some(0));
}

#[test]
fn daemon_mode_forks_writes_pidfile_and_cleans_up() {
    let dir = util::temp_dir();
    let conf = dir.path().join("d.conf");
    std::fs::write(
        &conf,
        "[supervisord]\nlogfile=%(here)s/sd.log\npidfile=%(here)s/sd.pid\nchildlogdir=%(here)s\n\n[program:s]\ncommand=/bin/sleep 60\nstartsecs=0\n",
    )
    .expect("write");
    let mut launcher = Guard::spawn(
        Command::new(util::our_bin())
            .arg("-c")
            .arg(&conf)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null()),
    );
    let status = launcher.wait_exit(WAIT);
    assert!(
        status.is_some_and(|s| s.success()),
        "the launching parent must exit 0: {status:?}"
    );
    let pidfile = dir.path().join("sd.pid");
    assert!(wait_until(WAIT, || read_text(&pidfile).ends_with('\n')));
    let pid: i32 = read_text(&pidfile).trim().parse().expect("pid number");
    // Not our child any more: killed with its program if the test fails.
    let _tree = ProcessTree(pid);
    let log = dir.path().join("sd.log");
    assert!(wait_until(WAIT, || read_text(&log).contains("success: s")));
    assert!(read_text(&log).contains("INFO daemonizing the supervisord process"));
    signal(pid, libc::SIGTERM);
    assert!(
        wait_until(WAIT, || !signal(pid, 0)),
        "daemon did not exit on SIGTERM"
    );
    assert!(
        wait_until(WAIT, || !pidfile.exists()),
        "pidfile left behind"
    );
}

#[test]
fn orphans_are_reaped_as_pid_1() {
    if !is_root()
        || Command::new("unshare")
            .args(["--pid", "--fork", "--mount-proc", "true"])
            .status()
            .map(|s| !s.success())
            .unwrap_or(true)
    {
        eprintln!("skipped: this machine does not allow PID namespaces (unshare --pid)");
        return;
    }
    let dir = util::temp_dir();
    let conf = dir.path().join("p.conf");
    // The child starts a grandchild in the background and exits; the
    // grandchild is re-parented to PID 1 (us) and must be reaped.
    std::fs::write(
        &conf,
        "[supervisord]\nlogfile=%(here)s/sd.log\npidfile=%(here)s/sd.pid\nchildlogdir=%(here)s\nnodaemon=true\nloglevel=debug\nuser=root\n\n\
         [program:parent]\ncommand=/bin/sh -c '(sleep 0.5; exit 7) & exit 0'\nstartsecs=0\nautorestart=false\n",
    )
    .expect("write");
    let mut cmd = Command::new("unshare");
    cmd.args(["--pid", "--fork", "--mount-proc"])
        .arg(util::our_bin())
        .arg("-c")
        .arg(&conf);
    cmd.stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    let mut g = Guard::spawn(&mut cmd);
    let log = dir.path().join("sd.log");
    let text = || read_text(&log);
    assert!(
        wait_until(WAIT, || text().contains("reaped unknown pid")),
        "{}",
        text()
    );
    assert!(
        text().contains("DEBG reaped unknown pid"),
        "orphans are noted at debug level"
    );
    assert!(text().contains("(exit status 7)"));
    // No zombie left in the namespace: supervisord is pid 1 there, so the
    // only processes are its own; signal it through unshare's child.
    let ns_init = read_text(&dir.path().join("sd.pid"));
    assert_eq!(ns_init.trim(), "1", "supervisord is PID 1 of its namespace");
    // TERM to the unshare wrapper's process group we created.
    signal(-g.pid(), libc::SIGTERM);
    assert!(g.wait_exit(WAIT).is_some());
}

#[test]
fn user_switch_runs_the_child_as_that_user() {
    if !is_root() {
        eprintln!("skipped: switching users needs root");
        return;
    }
    let Some(uid) = Command::new("id")
        .args(["-u", "nobody"])
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_string())
    else {
        eprintln!("skipped: no user 'nobody' on this machine");
        return;
    };
    // The log file is opened by supervisord (root); the child only writes
    // to its pipe, so nobody needs no access to the temp dir.
    let body = "[program:who]\ncommand=/bin/sh -c 'id -u; exec sleep 30'\nuser=nobody\nstartsecs=0\nstdout_logfile=%(here)s/who.log\n";
    let mut d = ours(body);
    let out = d.dir().join("who.log");
    assert!(wait_until(WAIT, || !read_text(&out).is_empty()));
    assert_eq!(read_text(&out).trim(), uid);
    assert_eq!(d.stop(), Some(0));
}

#[test]
fn a_second_term_during_shutdown_leaves_no_child_behind() {
    let body = "[program:slow]\ncommand=/bin/sh -c 'trap \"sleep 1; exit 0\" TERM; while :; do sleep 0.1; done'\nstartsecs=0\nstopwaitsecs=5\n";
    let mut d = ours(body);
    assert!(d.wait_log("success: slow"));
    let child: i32 = d
        .log()
        .lines()
        .find_map(|l| l.split("spawned: 'slow' with pid ").nth(1))
        .and_then(|p| p.trim().parse().ok())
        .expect("child pid in log");
    d.signal(libc::SIGTERM);
    d.signal(libc::SIGTERM);
    assert_eq!(d.wait_exit(WAIT), Some(0));
    // kill(pid, 0) only probes for existence.
    assert!(!signal(child, 0), "child {} survived the daemon", child);
    assert!(d.log().contains("stopped: slow (exit status 0)"));
}
