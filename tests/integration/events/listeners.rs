//! The event system with real listeners (no mocks): a recorder built on
//! Supervisor's own `childutils`, listeners that reject, die, stall or
//! break the protocol, superlance's crashmail and memmon, and the one-line
//! shell listener from Supervisor's docs. Each scenario runs against our
//! daemon and, where that checks the expectation itself, against Python's.

use super::harness;
use crate::util;

use std::time::Duration;

use harness::{
    daemon, find, has, python, read_records, recorder_section, s, wait_records, Impl, Rec,
};
use supervisord::rpc::xmlrpc::Value;
use util::{pyref_bin, wait_until};

fn both() -> [Impl; 2] {
    [Impl::Ours, Impl::Python]
}

fn count(recs: &[Rec], name: &str) -> usize {
    recs.iter().filter(|r| r.name() == name).count()
}

// ---------------------------------------------------------------------------
// The recorder: every event type with Python's payload fields

const ALL_BUT_TICK: &str = "PROCESS_STATE,PROCESS_GROUP,REMOTE_COMMUNICATION,\
                            SUPERVISOR_STATE_CHANGE,PROCESS_LOG,PROCESS_COMMUNICATION";

fn programs() -> String {
    "[program:prog]\ncommand=sleep 1000\nstartsecs=1\n\n\
     [program:talker]\ncommand=sh -c 'echo out-line; echo err-line >&2; exec sleep 1000'\n\
     stdout_events_enabled=true\nstderr_events_enabled=true\nstartsecs=0\nautostart=false\n\n\
     [program:comm]\ncommand=sh -c 'printf \"before\\n<!--XSUPERVISOR:BEGIN-->the payload<!--XSUPERVISOR:END-->after the capture, longer than a token\\n\"; exec sleep 1000'\n\
     stdout_capture_maxbytes=1MB\nstdout_logfile=%(here)s/comm.out\nstartsecs=0\nautostart=false\n\n"
        .to_string()
}

fn recorder_scenario(imp: Impl) {
    let builder = daemon(imp);
    let dir = builder.dir().to_path_buf();
    let out = dir.join("events.txt");
    let body = format!(
        "{}{}",
        programs(),
        recorder_section("rec", &out, "record", ALL_BUT_TICK, "")
    );
    let mut d = builder.sections(&body).start();
    let who = imp.name().to_string();

    // Start-up: every group added, the daemon RUNNING, prog through
    // STARTING to RUNNING after startsecs.
    let recs = wait_records(&d, &out, "prog RUNNING", |r| {
        has(r, "PROCESS_STATE_RUNNING", &[("processname", "prog")])
    });
    for g in ["prog", "talker", "comm", "rec"] {
        let ev = find(&recs, "PROCESS_GROUP_ADDED", &[("groupname", g)])
            .unwrap_or_else(|| panic!("{who}: no PROCESS_GROUP_ADDED for {g}: {recs:#?}"));
        assert_eq!(ev.payload, format!("groupname:{g}\n"), "{who}");
    }
    assert!(has(&recs, "SUPERVISOR_STATE_CHANGE_RUNNING", &[]), "{who}");
    let running = find(&recs, "SUPERVISOR_STATE_CHANGE_RUNNING", &[]).unwrap();
    assert_eq!(running.payload, "", "{who}");
    let starting = find(&recs, "PROCESS_STATE_STARTING", &[("processname", "prog")]).unwrap();
    assert_eq!(
        starting.payload, "processname:prog groupname:prog from_state:STOPPED tries:0",
        "{who}"
    );
    let pid1 = d.proc_pid("prog");
    let ev = find(&recs, "PROCESS_STATE_RUNNING", &[("processname", "prog")]).unwrap();
    assert_eq!(
        ev.payload,
        format!("processname:prog groupname:prog from_state:STARTING pid:{pid1}"),
        "{who}"
    );
    // The listener's own start is an event too (buffered until READY).
    assert!(
        has(&recs, "PROCESS_STATE_RUNNING", &[("processname", "rec")]),
        "{who}: {recs:#?}"
    );
    // The envelope: Python's header tokens in Python's order.
    let keys: Vec<&str> = recs[0].headers.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        keys,
        [
            "ver",
            "server",
            "serial",
            "pool",
            "poolserial",
            "eventname",
            "len"
        ],
        "{who}"
    );
    assert!(recs.iter().all(|r| r.header("ver") == "3.0"
        && r.header("server") == "supervisor"
        && r.header("pool") == "rec"));
    let pool_serials: Vec<String> = recs
        .iter()
        .map(|r| r.header("poolserial").to_string())
        .collect();
    let want: Vec<String> = (0..recs.len()).map(|i| i.to_string()).collect();
    assert_eq!(pool_serials, want, "{who}: pool serials count from 0");
    assert!(
        recs.windows(2).all(|w| w[0].serial() < w[1].serial()),
        "{who}"
    );

    // Stopped over XML-RPC, then started again.
    d.call("supervisor.stopProcess", &[s("prog")]);
    let recs = wait_records(&d, &out, "prog STOPPED", |r| {
        has(r, "PROCESS_STATE_STOPPED", &[("processname", "prog")])
    });
    let stopping = find(&recs, "PROCESS_STATE_STOPPING", &[("processname", "prog")]).unwrap();
    assert_eq!(
        stopping.payload,
        format!("processname:prog groupname:prog from_state:RUNNING pid:{pid1}"),
        "{who}"
    );
    let stopped = find(&recs, "PROCESS_STATE_STOPPED", &[("processname", "prog")]).unwrap();
    assert_eq!(
        stopped.payload,
        format!("processname:prog groupname:prog from_state:STOPPING pid:{pid1}"),
        "{who}"
    );
    d.call("supervisor.startProcess", &[s("prog")]);
    let recs = wait_records(&d, &out, "prog RUNNING again", |r| {
        count(r, "PROCESS_STATE_RUNNING") >= 3
    });
    let pid2 = d.proc_pid("prog");
    assert_ne!(pid1, pid2);
    let n = recs.len();
    assert_eq!(
        recs[n - 2].payload,
        "processname:prog groupname:prog from_state:STOPPED tries:0",
        "{who}"
    );
    assert_eq!(recs[n - 2].name(), "PROCESS_STATE_STARTING", "{who}");
    assert_eq!(
        recs[n - 1].payload,
        format!("processname:prog groupname:prog from_state:STARTING pid:{pid2}"),
        "{who}"
    );

    // Killed: EXITED, not expected, then restarted (autorestart=unexpected).
    d.call("supervisor.signalProcess", &[s("prog"), s("KILL")]);
    let recs = wait_records(&d, &out, "prog EXITED", |r| {
        has(r, "PROCESS_STATE_EXITED", &[("processname", "prog")])
    });
    let exited = find(&recs, "PROCESS_STATE_EXITED", &[("processname", "prog")]).unwrap();
    assert_eq!(
        exited.payload,
        format!("processname:prog groupname:prog from_state:RUNNING expected:0 pid:{pid2}"),
        "{who}"
    );
    wait_records(&d, &out, "prog restarted", |r| {
        has(
            r,
            "PROCESS_STATE_STARTING",
            &[("processname", "prog"), ("from_state", "EXITED")],
        )
    });

    // PROCESS_LOG_* from a program with *_events_enabled.
    d.call("supervisor.startProcess", &[s("talker")]);
    let recs = wait_records(&d, &out, "talker's output", |r| {
        has(r, "PROCESS_LOG_STDOUT", &[]) && has(r, "PROCESS_LOG_STDERR", &[])
    });
    let tpid = d.proc_pid("talker");
    let ev = find(&recs, "PROCESS_LOG_STDOUT", &[]).unwrap();
    assert_eq!(
        ev.payload,
        format!("processname:talker groupname:talker pid:{tpid} channel:stdout\nout-line\n"),
        "{who}"
    );
    let ev = find(&recs, "PROCESS_LOG_STDERR", &[]).unwrap();
    assert_eq!(
        ev.payload,
        format!("processname:talker groupname:talker pid:{tpid} channel:stderr\nerr-line\n"),
        "{who}"
    );

    // PROCESS_COMMUNICATION_STDOUT; the captured text stays out of the log.
    d.call("supervisor.startProcess", &[s("comm")]);
    let recs = wait_records(&d, &out, "comm's communication", |r| {
        has(r, "PROCESS_COMMUNICATION_STDOUT", &[])
    });
    let cpid = d.proc_pid("comm");
    let ev = find(&recs, "PROCESS_COMMUNICATION_STDOUT", &[]).unwrap();
    assert_eq!(
        ev.payload,
        format!("processname:comm groupname:comm pid:{cpid}\nthe payload"),
        "{who}"
    );
    // (Python keeps output shorter than the BEGIN token buffered, so the
    // text after END is long.)
    let comm_log = dir.join("comm.out");
    assert!(
        wait_until(harness::WAIT, || std::fs::read_to_string(&comm_log)
            .unwrap_or_default()
            .contains("after")),
        "{who}: comm.out never got the text after the capture"
    );
    let text = std::fs::read_to_string(&comm_log).unwrap();
    assert!(text.contains("before\n"), "{who}: {text:?}");
    assert!(
        !text.contains("the payload"),
        "{who}: captured text in the log: {text:?}"
    );
    assert!(
        !text.contains("XSUPERVISOR"),
        "{who}: tokens in the log: {text:?}"
    );
    assert!(
        !has(&recs, "PROCESS_LOG_STDOUT", &[("processname", "comm")]),
        "{who}: comm has no stdout_events_enabled"
    );

    // REMOTE_COMMUNICATION.
    d.call(
        "supervisor.sendRemoteCommEvent",
        &[s("mytype"), s("hello data")],
    );
    let recs = wait_records(&d, &out, "REMOTE_COMMUNICATION", |r| {
        has(r, "REMOTE_COMMUNICATION", &[])
    });
    let ev = find(&recs, "REMOTE_COMMUNICATION", &[]).unwrap();
    assert_eq!(ev.payload, "type:mytype\nhello data", "{who}");

    // A group added and removed through reloadConfig/addProcessGroup/
    // removeProcessGroup.
    d.rewrite(&format!(
        "{}[program:extra]\ncommand=sleep 1000\nstartsecs=0\n\n{}",
        programs(),
        recorder_section("rec", &out, "record", ALL_BUT_TICK, "")
    ));
    let reloaded = d.call("supervisor.reloadConfig", &[]);
    assert_eq!(
        reloaded,
        Value::Array(vec![Value::Array(vec![
            Value::Array(vec![s("extra")]),
            Value::Array(vec![]),
            Value::Array(vec![]),
        ])]),
        "{who}"
    );
    d.call("supervisor.addProcessGroup", &[s("extra")]);
    let recs = wait_records(&d, &out, "extra added and RUNNING", |r| {
        has(r, "PROCESS_GROUP_ADDED", &[("groupname", "extra")])
            && has(r, "PROCESS_STATE_RUNNING", &[("processname", "extra")])
    });
    let added = recs
        .iter()
        .position(|r| r.name() == "PROCESS_GROUP_ADDED" && r.field("groupname") == "extra")
        .unwrap();
    let started = recs
        .iter()
        .position(|r| r.name() == "PROCESS_STATE_STARTING" && r.field("processname") == "extra")
        .unwrap();
    assert!(
        added < started,
        "{who}: the group is added before its process starts"
    );
    d.call("supervisor.stopProcessGroup", &[s("extra")]);
    d.call("supervisor.removeProcessGroup", &[s("extra")]);
    let recs = wait_records(&d, &out, "extra removed", |r| {
        has(r, "PROCESS_GROUP_REMOVED", &[("groupname", "extra")])
    });
    let ev = find(&recs, "PROCESS_GROUP_REMOVED", &[]).unwrap();
    assert_eq!(ev.payload, "groupname:extra\n", "{who}");

    // Shutdown: SUPERVISOR_STATE_CHANGE_STOPPING reaches the listener,
    // which stops last.
    let st = d.stop();
    assert_eq!(st, Some(0), "{who}: exit status");
    let recs = read_records(&out);
    let ev = find(&recs, "SUPERVISOR_STATE_CHANGE_STOPPING", &[])
        .unwrap_or_else(|| panic!("{who}: no SUPERVISOR_STATE_CHANGE_STOPPING: {recs:#?}"));
    assert_eq!(ev.payload, "", "{who}");
}

#[test]
fn childutils_recorder_gets_every_event_with_pythons_payloads() {
    for imp in both() {
        recorder_scenario(imp);
    }
}

// ---------------------------------------------------------------------------
// The protocol

#[test]
fn tick_5_listener_acknowledges_twice() {
    for imp in both() {
        let builder = daemon(imp);
        let dir = builder.dir().to_path_buf();
        let out = dir.join("ticks.txt");
        let d = builder
            .sections(&recorder_section("ticker", &out, "record", "TICK_5", ""))
            .start();
        assert!(
            wait_until(Duration::from_secs(16), || d
                .log()
                .matches("ticker: event was processed")
                .count()
                >= 2
                || read_records(&out).len() >= 2),
            "{}: fewer than two TICK_5 in 16 s; log:\n{}",
            imp.name(),
            d.log()
        );
        // The second one is acknowledged too.
        assert!(
            d.wait_log("ticker: BUSY -> ACKNOWLEDGED"),
            "{}: {}",
            imp.name(),
            d.log()
        );
        let recs = read_records(&out);
        for r in &recs {
            assert_eq!(r.name(), "TICK_5");
            let when: u64 = r.payload.strip_prefix("when:").unwrap().parse().unwrap();
            assert_eq!(
                when % 5,
                0,
                "{}: when floored to 5 s: {}",
                imp.name(),
                r.payload
            );
        }
        assert!(
            recs[1].field("when").parse::<u64>().unwrap()
                > recs[0].field("when").parse::<u64>().unwrap()
        );
    }
}

#[test]
fn rejected_event_is_sent_again_with_the_same_serial() {
    for imp in both() {
        let builder = daemon(imp);
        let dir = builder.dir().to_path_buf();
        let out = dir.join("fail.txt");
        let d = builder
            .sections(&recorder_section(
                "picky",
                &out,
                "fail-once",
                "REMOTE_COMMUNICATION",
                "",
            ))
            .start();
        d.wait_state("picky", "RUNNING");
        d.call("supervisor.sendRemoteCommEvent", &[s("t"), s("once")]);
        let recs = wait_records(&d, &out, "the event twice", |r| r.len() >= 2);
        assert_eq!(recs[0].payload, "type:t\nonce");
        assert_eq!(recs[1].payload, "type:t\nonce");
        assert_eq!(recs[0].serial(), recs[1].serial(), "{}", imp.name());
        assert_eq!(recs[0].header("poolserial"), recs[1].header("poolserial"));
        assert_eq!(recs[0].listener_pid, recs[1].listener_pid);
        assert!(d.wait_log("picky: event was rejected"), "{}", d.log());
        assert!(d.wait_log("picky: event was processed"), "{}", d.log());
    }
}

#[test]
fn event_held_by_a_dying_listener_goes_to_its_next_instance() {
    for imp in both() {
        let builder = daemon(imp);
        let dir = builder.dir().to_path_buf();
        let out = dir.join("die.txt");
        let d = builder
            .sections(&recorder_section(
                "mortal",
                &out,
                "die-once",
                "REMOTE_COMMUNICATION",
                "startsecs=0\nautorestart=true",
            ))
            .start();
        d.wait_state("mortal", "RUNNING");
        d.call("supervisor.sendRemoteCommEvent", &[s("t"), s("precious")]);
        let recs = wait_records(&d, &out, "the event twice", |r| r.len() >= 2);
        assert_eq!(recs[0].payload, "type:t\nprecious");
        assert_eq!(recs[1].payload, "type:t\nprecious");
        assert_eq!(recs[0].serial(), recs[1].serial(), "{}", imp.name());
        assert_ne!(
            recs[0].listener_pid,
            recs[1].listener_pid,
            "{}: the second copy goes to the restarted listener",
            imp.name()
        );
        assert!(d.wait_log("mortal: event was processed"), "{}", d.log());
    }
}

#[test]
fn full_buffer_discards_the_oldest_event_with_an_error() {
    for imp in both() {
        let builder = daemon(imp);
        let dir = builder.dir().to_path_buf();
        let out = dir.join("never.txt");
        let d = builder
            .sections(&recorder_section(
                "mute",
                &out,
                "never",
                "REMOTE_COMMUNICATION",
                "buffer_size=2",
            ))
            .start();
        d.wait_state("mute", "RUNNING");
        for i in 0..4 {
            d.call(
                "supervisor.sendRemoteCommEvent",
                &[s("t"), s(&format!("e{i}"))],
            );
        }
        assert!(
            d.wait_log("ERRO pool mute event buffer overflowed, discarding event "),
            "{}: no overflow line:\n{}",
            imp.name(),
            d.log()
        );
        let log = d.log();
        let lines: Vec<&str> = log
            .lines()
            .filter(|l| l.contains("event buffer overflowed"))
            .collect();
        assert_eq!(lines.len(), 2, "{}: {lines:?}", imp.name());
    }
}

#[test]
fn numprocs_listeners_share_one_pool() {
    for imp in both() {
        let builder = daemon(imp);
        let dir = builder.dir().to_path_buf();
        let out = dir.join("pair.txt");
        // The 20 events are sent as fast as the daemon answers: a buffer
        // for all of them, so none is discarded while both listeners are
        // busy (the default holds 10, and that is another test).
        let d = builder
            .sections(&recorder_section(
                "pair",
                &out,
                "record",
                "REMOTE_COMMUNICATION",
                "numprocs=2\nprocess_name=%(program_name)s_%(process_num)s\nbuffer_size=20",
            ))
            .start();
        d.wait_state("pair:pair_0", "RUNNING");
        d.wait_state("pair:pair_1", "RUNNING");
        // Each event goes to exactly one of the two, with the pool's serial.
        for i in 0..20 {
            d.call(
                "supervisor.sendRemoteCommEvent",
                &[s("t"), s(&format!("e{i}"))],
            );
        }
        let recs = wait_records(&d, &out, "20 events", |r| r.len() >= 20);
        assert_eq!(recs.len(), 20, "{}", imp.name());
        let mut serials: Vec<String> = recs.iter().map(|r| r.header("poolserial").into()).collect();
        serials.sort_by_key(|s| s.parse::<u64>().unwrap());
        let want: Vec<String> = (0..20).map(|i| i.to_string()).collect();
        assert_eq!(serials, want, "{}: one pool, one serial each", imp.name());
        assert!(recs.iter().all(|r| r.header("pool") == "pair"));
        let pids: std::collections::BTreeSet<i32> = recs.iter().map(|r| r.listener_pid).collect();
        let p0 = d.proc_pid("pair:pair_0") as i32;
        let p1 = d.proc_pid("pair:pair_1") as i32;
        assert!(pids.iter().all(|p| *p == p0 || *p == p1), "{pids:?}");
    }
}

#[test]
fn protocol_violation_makes_the_listener_unknown() {
    for imp in both() {
        let builder = daemon(imp);
        let dir = builder.dir().to_path_buf();
        let out = dir.join("rude.txt");
        let d = builder
            .sections(&recorder_section(
                "rude",
                &out,
                "violate",
                "REMOTE_COMMUNICATION",
                "",
            ))
            .start();
        assert!(
            d.wait_log(
                "WARN rude: has entered the UNKNOWN state and will no longer receive events, \
                 this usually indicates the process violated the eventlistener protocol"
            ),
            "{}:\n{}",
            imp.name(),
            d.log()
        );
        assert!(
            d.log().contains("DEBG rude: ACKNOWLEDGED -> UNKNOWN"),
            "{}",
            d.log()
        );
        d.call("supervisor.sendRemoteCommEvent", &[s("t"), s("lost")]);
        // Nothing reaches the listener within 300 ms.
        let reached = wait_until(Duration::from_millis(300), || {
            !read_records(&out).is_empty() || d.log().contains("sent to listener rude")
        });
        assert!(
            !reached,
            "{}: {:?}\n{}",
            imp.name(),
            read_records(&out),
            d.log()
        );
    }
}

// ---------------------------------------------------------------------------
// superlance and the docs' shell listener

#[test]
fn crashmail_mails_when_a_program_is_killed() {
    for imp in both() {
        let builder = daemon(imp);
        let dir = builder.dir().to_path_buf();
        let mail = dir.join("mail.txt");
        let sendmail = dir.join("fake_sendmail");
        std::fs::write(&sendmail, format!("#!/bin/sh\ncat >> {}\n", mail.display())).unwrap();
        std::fs::set_permissions(
            &sendmail,
            std::os::unix::fs::PermissionsExt::from_mode(0o755),
        )
        .unwrap();
        let body = format!(
            "[program:victim]\ncommand=sleep 1000\nstartsecs=0\nautorestart=false\n\n\
             [eventlistener:crashmail]\ncommand={py} {cm} -a -m ops@example.com -o [test] -s {sm}\n\
             events=PROCESS_STATE_EXITED\n",
            py = python().display(),
            cm = pyref_bin("crashmail").display(),
            sm = sendmail.display()
        );
        let d = builder.sections(&body).start();
        d.wait_state("victim", "RUNNING");
        d.wait_state("crashmail", "RUNNING");
        d.call("supervisor.signalProcess", &[s("victim"), s("KILL")]);
        assert!(
            wait_until(harness::WAIT, || std::fs::read_to_string(&mail)
                .unwrap_or_default()
                .contains("unexpectedly")),
            "{}: no mail; log:\n{}",
            imp.name(),
            d.log()
        );
        let text = std::fs::read_to_string(&mail).unwrap();
        assert!(text.contains("To: ops@example.com"), "{text}");
        assert!(text.contains("Subject: [test]"), "{text}");
        assert!(
            text.contains("Process victim in group victim exited unexpectedly"),
            "{text}"
        );
    }
}

#[test]
fn memmon_restarts_a_program_over_its_limit() {
    for imp in both() {
        let builder = daemon(imp);
        let body = format!(
            "[program:hog]\ncommand={py} -c \"import time; x = bytearray(30 * 1024 * 1024); time.sleep(1000)\"\n\
             startsecs=0\n\n\
             [eventlistener:memmon]\ncommand={py} {mm} -p hog=1MB\nevents=TICK_5\n",
            py = python().display(),
            mm = pyref_bin("memmon").display(),
        );
        let d = builder.sections(&body).start();
        d.wait_state("hog", "RUNNING");
        let first = d.proc_pid("hog");
        assert!(
            wait_until(Duration::from_secs(16), || {
                let now = d.proc_pid("hog");
                now != 0 && now != first
            }),
            "{}: memmon did not restart hog within 16 s; log:\n{}",
            imp.name(),
            d.log()
        );
    }
}

#[test]
fn shell_listener_on_fatal_shuts_supervisord_down() {
    for imp in both() {
        let builder = daemon(imp);
        let body = "[program:nonexistent]\ncommand=%(here)s/no-such-program\nstartsecs=0\nstartretries=1\n\n\
             [eventlistener:fatalexit]\n\
             command=sh -c 'printf \"READY\\n\"; while read line; do kill -15 $PPID; done < /dev/stdin'\n\
             events=PROCESS_STATE_FATAL\n";
        let mut d = builder.sections(body).start();
        let pid = d.pid();
        let st = d.wait_exit(harness::WAIT);
        let kids = util::descendants(pid);
        assert_eq!(
            st,
            Some(0),
            "{}: supervisord did not exit 0; log:\n{}",
            imp.name(),
            d.log()
        );
        assert!(kids.is_empty(), "{}: children left: {kids:?}", imp.name());
        let log = d.log();
        assert!(
            log.contains("gave up: nonexistent entered FATAL state"),
            "{log}"
        );
        assert!(
            log.contains("received SIGTERM indicating exit request"),
            "{log}"
        );
    }
}

// ---------------------------------------------------------------------------
// No idle timer

/// The voluntary context switches of each thread of `pid`, by thread id.
fn voluntary_switches(pid: i32) -> std::collections::HashMap<String, u64> {
    let mut by_thread = std::collections::HashMap::new();
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return by_thread;
    };
    for e in tasks.flatten() {
        let status = std::fs::read_to_string(e.path().join("status")).unwrap_or_default();
        for l in status.lines() {
            if let Some(n) = l.strip_prefix("voluntary_ctxt_switches:") {
                by_thread.insert(
                    e.file_name().to_string_lossy().into_owned(),
                    n.trim().parse::<u64>().unwrap_or(0),
                );
            }
        }
    }
    by_thread
}

/// The switches made between two snapshots. A thread that exited in
/// between (an HTTP connection thread ends when its client goes) counts
/// for nothing rather than making the sum go backwards; a thread born in
/// between counts whole.
fn switches_between(
    before: &std::collections::HashMap<String, u64>,
    after: &std::collections::HashMap<String, u64>,
) -> u64 {
    after
        .iter()
        .map(|(tid, n)| n.saturating_sub(before.get(tid).copied().unwrap_or(0)))
        .sum()
}

/// The switches `pid` makes in the next `window`: the measurement itself,
/// so it takes that long.
fn switches_during(pid: i32, window: Duration) -> u64 {
    let before = voluntary_switches(pid);
    std::thread::sleep(window);
    switches_between(&before, &voluntary_switches(pid))
}

/// Waits (bounded) until `pid` goes a whole 300 ms without a voluntary
/// context switch: the last call and the last event have been dealt with.
fn wait_quiet(pid: i32) {
    let quiet = wait_until(harness::WAIT, || {
        switches_during(pid, Duration::from_millis(300)) == 0
    });
    assert!(quiet, "the daemon never went 300 ms without waking up");
}

#[test]
fn idle_daemon_with_a_process_state_pool_does_not_wake_up() {
    let builder = daemon(Impl::Ours);
    let dir = builder.dir().to_path_buf();
    let out = dir.join("idle.txt");
    let body = format!(
        "[program:sleeper]\ncommand=sleep 1000\nstartsecs=0\n\n{}",
        recorder_section("quiet", &out, "record", "PROCESS_STATE", "")
    );
    let d = builder.sections(&body).start();
    d.wait_state("sleeper", "RUNNING");
    d.wait_state("quiet", "RUNNING");
    wait_records(&d, &out, "sleeper RUNNING", |r| {
        has(r, "PROCESS_STATE_RUNNING", &[("processname", "sleeper")])
    });
    // Once the last RPC connection and acknowledgement have settled.
    wait_quiet(d.pid());
    let switches = switches_during(d.pid(), Duration::from_secs(3));
    assert!(
        switches <= 2,
        "{} voluntary context switches in 3 idle seconds (threads: {:?})",
        switches,
        std::fs::read_dir(format!("/proc/{}/task", d.pid()))
            .unwrap()
            .flatten()
            .map(|e| {
                let st = std::fs::read_to_string(e.path().join("status")).unwrap_or_default();
                let name = st.lines().next().unwrap_or("").to_string();
                let v = st
                    .lines()
                    .find(|l| l.starts_with("voluntary_ctxt_switches"))
                    .unwrap_or("")
                    .to_string();
                format!("{name} {v}")
            })
            .collect::<Vec<_>>()
    );
}

#[test]
fn overflow_discards_the_oldest_buffered_event() {
    for imp in both() {
        let builder = daemon(imp);
        let dir = builder.dir().to_path_buf();
        let out = dir.join("hold.txt");
        let d = builder
            .sections(&recorder_section(
                "holder",
                &out,
                "hold",
                "REMOTE_COMMUNICATION",
                "buffer_size=2",
            ))
            .start();
        d.wait_state("holder", "RUNNING");
        // e0 goes to the listener, which holds it; e1, e2 fill the buffer,
        // e3 pushes e1 out.
        d.call("supervisor.sendRemoteCommEvent", &[s("t"), s("e0")]);
        wait_records(&d, &out, "e0", |r| r.len() == 1);
        for i in 1..4 {
            d.call(
                "supervisor.sendRemoteCommEvent",
                &[s("t"), s(&format!("e{i}"))],
            );
        }
        assert!(
            d.wait_log("pool holder event buffer overflowed, discarding event "),
            "{}: {}",
            imp.name(),
            d.log()
        );
        std::fs::write(dir.join("hold.txt.go"), "").unwrap();
        let recs = wait_records(&d, &out, "e2 and e3", |r| r.len() >= 3);
        let bodies: Vec<&str> = recs.iter().map(|r| r.body()).collect();
        assert_eq!(bodies, ["e0", "e2", "e3"], "{}", imp.name());
        // The line names the serial of the event dropped: one between e0's
        // and e2's.
        let log = d.log();
        let dropped: u64 = log
            .lines()
            .find_map(|l| l.split("discarding event ").nth(1))
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        assert!(
            recs[0].serial() < dropped && dropped < recs[1].serial(),
            "{log}"
        );
        assert_eq!(log.matches("event buffer overflowed").count(), 1, "{log}");
    }
}

#[test]
fn bad_result_line_rejects_the_event_and_makes_the_listener_unknown() {
    for imp in both() {
        let builder = daemon(imp);
        let dir = builder.dir().to_path_buf();
        let out = dir.join("bad.txt");
        let d = builder
            .sections(&recorder_section(
                "sloppy",
                &out,
                "bad-result",
                "REMOTE_COMMUNICATION",
                "",
            ))
            .start();
        d.wait_state("sloppy", "RUNNING");
        d.call("supervisor.sendRemoteCommEvent", &[s("t"), s("x")]);
        assert!(
            d.wait_log("WARN sloppy: bad result line: 'RESULT abc'"),
            "{}: {}",
            imp.name(),
            d.log()
        );
        assert!(
            d.wait_log("sloppy: has entered the UNKNOWN state"),
            "{}",
            d.log()
        );
        assert!(
            d.wait_log("rebuffering event "),
            "{}: {}",
            imp.name(),
            d.log()
        );
    }
}

#[test]
fn listener_stdout_log_holds_the_protocol_text() {
    for imp in both() {
        let builder = daemon(imp);
        let dir = builder.dir().to_path_buf();
        let out = dir.join("proto.txt");
        let d = builder
            .sections(&recorder_section(
                "talkative",
                &out,
                "fail-once",
                "REMOTE_COMMUNICATION",
                "stdout_logfile=%(here)s/talkative.out",
            ))
            .start();
        d.wait_state("talkative", "RUNNING");
        d.call("supervisor.sendRemoteCommEvent", &[s("t"), s("x")]);
        wait_records(&d, &out, "two copies", |r| r.len() >= 2);
        let path = dir.join("talkative.out");
        assert!(
            wait_until(harness::WAIT, || std::fs::read_to_string(&path)
                .unwrap_or_default()
                .ends_with("RESULT 2\nOKREADY\n")),
            "{}: {:?}",
            imp.name(),
            std::fs::read_to_string(&path)
        );
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(
            text,
            "READY\nRESULT 4\nFAILREADY\nRESULT 2\nOKREADY\n",
            "{}",
            imp.name()
        );
        let tail = d.call(
            "supervisor.readProcessStdoutLog",
            &[s("talkative"), Value::Int(0), Value::Int(0)],
        );
        assert_eq!(tail.as_str(), Some(text.as_str()), "{}", imp.name());
    }
}

#[test]
fn serials_go_on_across_a_restart_and_pool_serials_start_again() {
    for imp in both() {
        let builder = daemon(imp);
        let dir = builder.dir().to_path_buf();
        let out = dir.join("restart.txt");
        let d = builder
            .sections(&recorder_section(
                "rec",
                &out,
                "record",
                "SUPERVISOR_STATE_CHANGE_RUNNING",
                "",
            ))
            .start();
        let first = wait_records(&d, &out, "RUNNING", |r| r.len() == 1);
        d.call("supervisor.restart", &[]);
        let recs = wait_records(&d, &out, "RUNNING after the restart", |r| r.len() == 2);
        assert_ne!(
            recs[1].listener_pid,
            first[0].listener_pid,
            "{}",
            imp.name()
        );
        assert!(
            recs[1].serial() > recs[0].serial(),
            "{}: {recs:?}",
            imp.name()
        );
        assert_eq!(
            recs[1].header("poolserial"),
            "0",
            "{}: {recs:?}",
            imp.name()
        );
    }
}

#[test]
fn events_wait_in_the_buffer_until_a_listener_starts() {
    for imp in both() {
        let builder = daemon(imp);
        let dir = builder.dir().to_path_buf();
        let out = dir.join("late.txt");
        let d = builder
            .sections(&recorder_section(
                "late",
                &out,
                "record",
                "REMOTE_COMMUNICATION",
                "autostart=false",
            ))
            .start();
        for i in 0..3 {
            d.call(
                "supervisor.sendRemoteCommEvent",
                &[s("t"), s(&format!("e{i}"))],
            );
        }
        d.call("supervisor.startProcess", &[s("late")]);
        let recs = wait_records(&d, &out, "three events", |r| r.len() == 3);
        let bodies: Vec<&str> = recs.iter().map(|r| r.body()).collect();
        assert_eq!(bodies, ["e0", "e1", "e2"], "{}", imp.name());
        let pool: Vec<&str> = recs.iter().map(|r| r.header("poolserial")).collect();
        assert_eq!(pool, ["0", "1", "2"], "{}", imp.name());
    }
}

#[test]
fn two_pools_share_the_global_serial_and_count_their_own() {
    for imp in both() {
        let builder = daemon(imp);
        let dir = builder.dir().to_path_buf();
        let a = dir.join("a.txt");
        let b = dir.join("b.txt");
        let body = format!(
            "[program:p]\ncommand=sleep 1000\nstartsecs=0\n\n{}{}",
            recorder_section("only_remote", &a, "record", "REMOTE_COMMUNICATION", ""),
            recorder_section(
                "everything",
                &b,
                "record",
                "REMOTE_COMMUNICATION,PROCESS_STATE",
                ""
            ),
        );
        let d = builder.sections(&body).start();
        wait_records(&d, &b, "p RUNNING", |r| {
            has(r, "PROCESS_STATE_RUNNING", &[("processname", "p")])
        });
        d.wait_state("only_remote", "RUNNING");
        d.call("supervisor.sendRemoteCommEvent", &[s("t"), s("both")]);
        let ra = wait_records(&d, &a, "the event", |r| r.len() == 1);
        let rb = wait_records(&d, &b, "the event", |r| has(r, "REMOTE_COMMUNICATION", &[]));
        let eb = find(&rb, "REMOTE_COMMUNICATION", &[]).unwrap();
        assert_eq!(ra[0].serial(), eb.serial(), "{}", imp.name());
        assert_eq!(ra[0].header("poolserial"), "0", "{}", imp.name());
        assert_eq!(
            eb.header("poolserial"),
            (rb.len() - 1).to_string(),
            "{}",
            imp.name()
        );
        assert_eq!(ra[0].header("pool"), "only_remote");
        assert_eq!(eb.header("pool"), "everything");
    }
}

/// Python stops one group per pass of its loop, and a listener stops last
/// (priority -1), so with other groups configured the listener is still
/// RUNNING, and answers, when SUPERVISOR_STATE_CHANGE_STOPPING reaches it.
/// Three shutdowns in a row, so that a race shows.
#[test]
fn stopping_event_reaches_the_listener_at_shutdown() {
    // Python first: it shows the expectation holds.
    for imp in Impl::BOTH {
        for round in 0..3 {
            let builder = daemon(imp);
            let dir = builder.dir().to_path_buf();
            let out = dir.join("stop.txt");
            let body = format!(
                "[program:a]\ncommand=sleep 1000\nautostart=false\n\n\
                 [program:b]\ncommand=sleep 1000\nautostart=false\n\n{}",
                recorder_section("rec", &out, "record", "SUPERVISOR_STATE_CHANGE", "")
            );
            let mut d = builder.sections(&body).start();
            wait_records(&d, &out, "RUNNING", |r| r.len() == 1);
            assert_eq!(d.stop(), Some(0));
            let recs = read_records(&out);
            assert!(
                has(&recs, "SUPERVISOR_STATE_CHANGE_STOPPING", &[]),
                "{} (round {round}): the listener never got \
                 SUPERVISOR_STATE_CHANGE_STOPPING; log:\n{}",
                imp.name(),
                d.log()
            );
        }
    }
}

#[test]
fn events_go_only_to_listeners_that_are_running() {
    for imp in both() {
        let builder = daemon(imp);
        let dir = builder.dir().to_path_buf();
        let out = dir.join("slow.txt");
        let d = builder
            .sections(&recorder_section(
                "slow",
                &out,
                "record",
                "REMOTE_COMMUNICATION",
                "startsecs=2",
            ))
            .start();
        // READY comes long before startsecs is over.
        assert!(d.wait_log("slow: ACKNOWLEDGED -> READY"), "{}", d.log());
        assert_eq!(d.state("slow"), "STARTING", "{}", imp.name());
        d.call("supervisor.sendRemoteCommEvent", &[s("t"), s("early")]);
        wait_records(&d, &out, "the event", |r| r.len() == 1);
        let log = d.log();
        let running = log.find("success: slow entered RUNNING state").unwrap();
        let sent = log.find("sent to listener slow").unwrap();
        assert!(
            running < sent,
            "{}: sent before RUNNING:\n{log}",
            imp.name()
        );
    }
}

#[test]
fn large_output_reaches_the_listener_whole() {
    for imp in both() {
        let builder = daemon(imp);
        let dir = builder.dir().to_path_buf();
        let out = dir.join("big.txt");
        let body = format!(
            "[program:big]\ncommand={py} -c \"import sys, time; sys.stdout.write('x' * 199999 + '\\n'); sys.stdout.flush(); time.sleep(1000)\"\n\
             startsecs=0\nstdout_events_enabled=true\n\n{}",
            recorder_section("rec", &out, "record", "PROCESS_LOG_STDOUT", ""),
            py = python().display(),
        );
        let d = builder.sections(&body).start();
        let recs = wait_records(&d, &out, "200000 bytes of output", |r| {
            r.iter().map(|e| e.body().len()).sum::<usize>() >= 200_000
        });
        let all: String = recs.iter().map(|e| e.body()).collect();
        assert_eq!(all.len(), 200_000, "{}", imp.name());
        assert!(all.ends_with("x\n") && all.bytes().filter(|&b| b == b'x').count() == 199_999);
        assert!(
            !d.log().contains("event buffer overflowed"),
            "{}: {} events for 200 kB overflowed the default buffer:\n{}",
            imp.name(),
            recs.len(),
            d.log()
        );
    }
}

/// With strip_ansi, Python strips escape codes before anything sees the
/// data: the child log, the DEBUG copy and PROCESS_LOG events alike. A
/// program logging to NONE still emits its events.
#[test]
fn log_events_carry_stripped_text_and_fire_without_a_log_file() {
    for imp in both() {
        let builder = daemon(imp);
        let dir = builder.dir().to_path_buf();
        let out = dir.join("ansi.txt");
        let body = format!(
            "[program:colour]\ncommand=sh -c 'read l; printf \"\\033[31mred\\033[0m plain\\n\"; exec sleep 1000'\n\
             startsecs=0\nstdout_events_enabled=true\nstdout_logfile=%(here)s/colour.out\n\n\
             [program:quiet]\ncommand=sh -c 'read l; echo \"to nowhere\"; exec sleep 1000'\n\
             startsecs=0\nstdout_events_enabled=true\nstdout_logfile=NONE\n\n{}",
            recorder_section("rec", &out, "record", "PROCESS_LOG", ""),
        );
        let d = builder.sections(&body).args(["-t"]).start();
        d.wait_state("colour", "RUNNING");
        d.wait_state("quiet", "RUNNING");
        d.wait_state("rec", "RUNNING");
        d.call("supervisor.sendProcessStdin", &[s("colour"), s("go\n")]);
        d.call("supervisor.sendProcessStdin", &[s("quiet"), s("go\n")]);
        let recs = wait_records(&d, &out, "both outputs", |r| r.len() >= 2);
        let colour = find(&recs, "PROCESS_LOG_STDOUT", &[("processname", "colour")]).unwrap();
        assert_eq!(colour.body(), "red plain\n", "{}", imp.name());
        let quiet = find(&recs, "PROCESS_LOG_STDOUT", &[("processname", "quiet")]).unwrap();
        assert_eq!(quiet.body(), "to nowhere\n", "{}", imp.name());
        assert_eq!(
            std::fs::read_to_string(dir.join("colour.out")).unwrap(),
            "red plain\n",
            "{}",
            imp.name()
        );
        assert!(
            d.log().contains("'colour' stdout output:\nred plain\n"),
            "{}: {}",
            imp.name(),
            d.log()
        );
    }
}

/// The TICK timer goes away with the last pool that wants ticks: after the
/// TICK_5 listener's group is removed, 6 s (a whole period and more) pass
/// without a wake-up.
#[test]
fn no_tick_timer_after_the_tick_pool_is_removed() {
    let builder = daemon(Impl::Ours);
    let dir = builder.dir().to_path_buf();
    let out = dir.join("ticks.txt");
    let body = format!(
        "[program:sleeper]\ncommand=sleep 1000\nstartsecs=0\n\n{}",
        recorder_section("ticker", &out, "record", "TICK_5", "")
    );
    let d = builder.sections(&body).start();
    wait_records(&d, &out, "a tick", |r| !r.is_empty());
    d.call("supervisor.stopProcessGroup", &[s("ticker")]);
    d.call("supervisor.removeProcessGroup", &[s("ticker")]);
    wait_quiet(d.pid());
    let switches = switches_during(d.pid(), Duration::from_secs(6));
    assert!(
        switches <= 2,
        "{} voluntary context switches in 6 idle seconds after the tick pool went",
        switches
    );
}

#[test]
fn event_held_by_a_stopped_listener_is_sent_again_after_a_start() {
    for imp in both() {
        let builder = daemon(imp);
        let dir = builder.dir().to_path_buf();
        let out = dir.join("held.txt");
        let d = builder
            .sections(&recorder_section(
                "holder",
                &out,
                "hold",
                "REMOTE_COMMUNICATION",
                "",
            ))
            .start();
        d.wait_state("holder", "RUNNING");
        d.call("supervisor.sendRemoteCommEvent", &[s("t"), s("kept")]);
        wait_records(&d, &out, "the event", |r| r.len() == 1);
        d.call("supervisor.stopProcess", &[s("holder")]);
        d.call("supervisor.startProcess", &[s("holder")]);
        let recs = wait_records(&d, &out, "the event again", |r| r.len() == 2);
        assert_eq!(recs[1].body(), "kept", "{}", imp.name());
        assert_eq!(recs[0].serial(), recs[1].serial(), "{}", imp.name());
        assert_ne!(recs[0].listener_pid, recs[1].listener_pid);
    }
}
