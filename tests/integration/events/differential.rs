//! The same scenario against Python's supervisord and ours, with the
//! childutils recorder subscribed to every event type but TICK: the two
//! event streams must be the same (names and payloads, without serials and
//! pids). The scenario is driven over XML-RPC one step at a time, each step
//! waiting for its last event, with no startsecs races, so the order is the
//! same on every run.

use super::harness;

use harness::{daemon, has, read_records, recorder_section, s, wait_records, Impl, Rec};
use supervisord::rpc::xmlrpc::Value;

const EVENTS: &str = "PROCESS_STATE,PROCESS_GROUP,REMOTE_COMMUNICATION,\
                      SUPERVISOR_STATE_CHANGE,PROCESS_LOG,PROCESS_COMMUNICATION";

/// Programs that only act when told to: none starts by itself, and the
/// two that write do so only on a line sent to their stdin.
fn programs() -> String {
    "[program:steady]\ncommand=sleep 1000\nstartsecs=0\nautostart=false\n\n\
     [program:flaky]\ncommand=sh -c 'sleep 0.1; exit 3'\nstartsecs=3\nstartretries=1\nautostart=false\n\n\
     [program:brief]\ncommand=sh -c 'sleep 0.3'\nstartsecs=0\nautostart=false\nautorestart=false\n\n\
     [group:batch]\nprograms=brief\n\n\
     [program:talker]\ncommand=sh -c 'while read l; do case $l in o*) echo \"$l\";; *) echo \"$l\" >&2;; esac; done'\n\
     startsecs=0\nautostart=false\nstdout_events_enabled=true\nstderr_events_enabled=true\n\n\
     [program:comm]\ncommand=sh -c 'while read l; do case $l in o*) printf \"<!--XSUPERVISOR:BEGIN-->%%s<!--XSUPERVISOR:END-->after the capture, longer than a token\\n\" \"$l\";; *) printf \"<!--XSUPERVISOR:BEGIN-->%%s<!--XSUPERVISOR:END-->after the capture, longer than a token\\n\" \"$l\" >&2;; esac; done'\n\
     startsecs=0\nautostart=false\nstdout_capture_maxbytes=1MB\nstderr_capture_maxbytes=1MB\n\n\
     [program:tiny]\ncommand=sh -c 'while read l; do printf \"<!--XSUPERVISOR:BEGIN-->%%s<!--XSUPERVISOR:END-->after the capture, longer than a token\\n\" \"$l\"; done'\n\
     startsecs=0\nautostart=false\nstdout_capture_maxbytes=10\n\n\
     [program:raw]\ncommand=sh -c 'while read l; do printf \"\\210\\n\"; done'\n\
     startsecs=0\nautostart=false\nstdout_events_enabled=true\n\n"
        .to_string()
}

fn count(recs: &[Rec], name: &str, process: &str) -> usize {
    recs.iter()
        .filter(|r| r.name() == name && r.field("processname") == process)
        .count()
}

/// Runs the scenario on `bin`; returns the recorded events.
fn scenario(imp: Impl) -> Vec<Rec> {
    let builder = daemon(imp);
    let dir = builder.dir().to_path_buf();
    let out = dir.join("events.txt");
    let listener = recorder_section("rec", &out, "record", EVENTS, "buffer_size=50");
    let mut d = builder
        .sections(&format!("{}{listener}", programs()))
        .start();
    let wait = |what: &str, pred: &dyn Fn(&[Rec]) -> bool| wait_records(&d, &out, what, pred);

    wait("the listener RUNNING", &|r| {
        has(r, "PROCESS_STATE_RUNNING", &[("processname", "rec")])
    });

    d.call("supervisor.startProcess", &[s("steady")]);
    wait("steady RUNNING", &|r| {
        count(r, "PROCESS_STATE_RUNNING", "steady") == 1
    });
    d.call("supervisor.stopProcess", &[s("steady")]);
    wait("steady STOPPED", &|r| {
        count(r, "PROCESS_STATE_STOPPED", "steady") == 1
    });

    // STARTING, BACKOFF, STARTING, BACKOFF, FATAL with their tries.
    d.call("supervisor.startProcess", &[s("flaky"), Value::Bool(false)]);
    wait("flaky FATAL", &|r| {
        count(r, "PROCESS_STATE_FATAL", "flaky") == 1
    });

    // STARTING, RUNNING, EXITED expected.
    d.call("supervisor.startProcess", &[s("batch:brief")]);
    wait("brief EXITED", &|r| {
        count(r, "PROCESS_STATE_EXITED", "brief") == 1
    });

    d.call("supervisor.startProcess", &[s("talker")]);
    wait("talker RUNNING", &|r| {
        count(r, "PROCESS_STATE_RUNNING", "talker") == 1
    });
    d.call(
        "supervisor.sendProcessStdin",
        &[s("talker"), s("out one\n")],
    );
    wait("talker's stdout", &|r| has(r, "PROCESS_LOG_STDOUT", &[]));
    d.call(
        "supervisor.sendProcessStdin",
        &[s("talker"), s("err one\n")],
    );
    wait("talker's stderr", &|r| has(r, "PROCESS_LOG_STDERR", &[]));

    // Text that is not ASCII, and bytes that are not UTF-8.
    d.call(
        "supervisor.sendProcessStdin",
        &[s("talker"), s("o café ✓\n")],
    );
    wait("talker's unicode", &|r| {
        r.iter()
            .filter(|e| e.name() == "PROCESS_LOG_STDOUT")
            .count()
            == 2
    });
    d.call("supervisor.startProcess", &[s("raw")]);
    wait("raw RUNNING", &|r| {
        count(r, "PROCESS_STATE_RUNNING", "raw") == 1
    });
    d.call("supervisor.sendProcessStdin", &[s("raw"), s("go\n")]);
    wait("raw's bytes", &|r| {
        has(r, "PROCESS_LOG_STDOUT", &[("processname", "raw")])
    });
    d.call("supervisor.stopProcess", &[s("raw")]);
    wait("raw STOPPED", &|r| {
        count(r, "PROCESS_STATE_STOPPED", "raw") == 1
    });

    d.call("supervisor.startProcess", &[s("comm")]);
    wait("comm RUNNING", &|r| {
        count(r, "PROCESS_STATE_RUNNING", "comm") == 1
    });
    d.call(
        "supervisor.sendProcessStdin",
        &[s("comm"), s("on stdout\n")],
    );
    wait("comm's message", &|r| {
        has(r, "PROCESS_COMMUNICATION_STDOUT", &[])
    });
    d.call(
        "supervisor.sendProcessStdin",
        &[s("comm"), s("and on stderr\n")],
    );
    wait("comm's stderr message", &|r| {
        has(r, "PROCESS_COMMUNICATION_STDERR", &[])
    });
    // A capture longer than *_capture_maxbytes (Python's BoundIO).
    d.call("supervisor.startProcess", &[s("tiny")]);
    wait("tiny RUNNING", &|r| {
        count(r, "PROCESS_STATE_RUNNING", "tiny") == 1
    });
    d.call(
        "supervisor.sendProcessStdin",
        &[s("tiny"), s("0123456789abcdefghijklmnopqrst\n")],
    );
    wait("tiny's message", &|r| {
        has(
            r,
            "PROCESS_COMMUNICATION_STDOUT",
            &[("processname", "tiny")],
        )
    });
    d.call("supervisor.stopProcess", &[s("tiny")]);
    wait("tiny STOPPED", &|r| {
        count(r, "PROCESS_STATE_STOPPED", "tiny") == 1
    });

    d.call(
        "supervisor.sendRemoteCommEvent",
        &[s("kind"), s("some data")],
    );
    wait("the remote event", &|r| has(r, "REMOTE_COMMUNICATION", &[]));

    d.rewrite(&format!(
        "{}[program:extra]\ncommand=sleep 1000\nstartsecs=0\n\n{listener}",
        programs()
    ));
    d.call("supervisor.reloadConfig", &[]);
    d.call("supervisor.addProcessGroup", &[s("extra")]);
    wait("extra RUNNING", &|r| {
        count(r, "PROCESS_STATE_RUNNING", "extra") == 1
    });
    d.call("supervisor.stopProcessGroup", &[s("extra")]);
    wait("extra STOPPED", &|r| {
        count(r, "PROCESS_STATE_STOPPED", "extra") == 1
    });
    d.call("supervisor.removeProcessGroup", &[s("extra")]);
    wait("extra removed", &|r| has(r, "PROCESS_GROUP_REMOVED", &[]));

    d.call("supervisor.stopProcess", &[s("talker")]);
    d.call("supervisor.stopProcess", &[s("comm")]);
    wait("talker and comm STOPPED", &|r| {
        count(r, "PROCESS_STATE_STOPPED", "talker") == 1
            && count(r, "PROCESS_STATE_STOPPED", "comm") == 1
    });

    let st = d.stop();
    assert_eq!(st, Some(0), "{} exit status", imp.name());
    read_records(&out)
}

#[test]
fn event_streams_match_python() {
    let python = scenario(Impl::Python);
    let ours = scenario(Impl::Ours);
    for (who, recs) in [("python", &python), ("ours", &ours)] {
        assert!(
            recs.windows(2).all(|w| w[0].serial() < w[1].serial()),
            "{who}: serials grow"
        );
        let pool: Vec<u64> = recs
            .iter()
            .map(|r| r.header("poolserial").parse().unwrap())
            .collect();
        assert_eq!(pool, (0..recs.len() as u64).collect::<Vec<_>>(), "{who}");
    }
    let norm = |recs: &[Rec]| recs.iter().map(Rec::normalized).collect::<Vec<_>>();
    let (p, o) = (norm(&python), norm(&ours));
    eprintln!("python's stream:\n  {}", p.join("\n  "));
    if p != o {
        let width = p.iter().map(|l| l.len()).max().unwrap_or(0).min(90);
        let mut table = String::new();
        for i in 0..p.len().max(o.len()) {
            let a = p.get(i).map(String::as_str).unwrap_or("");
            let b = o.get(i).map(String::as_str).unwrap_or("");
            let mark = if a == b { ' ' } else { '!' };
            table.push_str(&format!("{mark} {a:width$} | {b}\n"));
        }
        panic!("event streams differ (python | ours):\n{table}");
    }
}

/// The activity-log lines about a listener and its pool (state changes,
/// events sent, rejected and processed), numbers normalized.
fn listener_lines(log: &str) -> Vec<String> {
    log.lines()
        .filter_map(|l| l.splitn(3, ' ').nth(2))
        .filter(|m| {
            m.contains(" picky: ")
                || m.contains("sent to listener picky")
                || m.contains("for pool picky")
        })
        .map(|m| {
            m.split(' ')
                .map(|w| if w.parse::<u64>().is_ok() { "N" } else { w })
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect()
}

/// The activity log as messages (continuation lines included), without
/// timestamps.
fn messages(log: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for line in log.lines() {
        let starts_record = line.len() > 24
            && line.as_bytes()[4] == b'-'
            && line.as_bytes()[10] == b' '
            && line.as_bytes()[19] == b',';
        if starts_record {
            out.push(line[24..].to_string());
        } else if let Some(last) = out.last_mut() {
            last.push('\n');
            last.push_str(line);
        }
    }
    out
}

fn listener_log(imp: Impl) -> (Vec<String>, String) {
    let builder = daemon(imp);
    let dir = builder.dir().to_path_buf();
    let out = dir.join("picky.txt");
    let mut d = builder
        .sections(&recorder_section(
            "picky",
            &out,
            "fail-once",
            "REMOTE_COMMUNICATION",
            "",
        ))
        .start();
    d.wait_state("picky", "RUNNING");
    d.call("supervisor.sendRemoteCommEvent", &[s("t"), s("one")]);
    wait_records(&d, &out, "one, twice", |r| r.len() == 2);
    d.call("supervisor.sendRemoteCommEvent", &[s("t"), s("two")]);
    wait_records(&d, &out, "two", |r| r.len() == 3);
    assert!(
        d.wait_log("picky: BUSY -> ACKNOWLEDGED\n")
            && d.wait_log_count("picky: ACKNOWLEDGED -> READY", 4),
        "{}",
        d.log()
    );
    d.stop();
    (listener_lines(&d.log()), d.log())
}

#[test]
fn listener_log_lines_match_python() {
    let (python, python_log) = listener_log(Impl::Python);
    let (ours, our_log) = listener_log(Impl::Ours);
    // Each chunk a listener writes is logged once (DEBG 'x' stdout output).
    for (who, log) in [("python", &python_log), ("ours", &our_log)] {
        let m = messages(log);
        let twice: Vec<&[String]> = m
            .windows(2)
            .filter(|w| w[0] == w[1] && w[0].contains("stdout output"))
            .collect();
        assert!(twice.is_empty(), "{who} logs a chunk twice: {twice:?}");
    }
    assert_eq!(ours, python, "ours (left) vs Python's (right)");
}
