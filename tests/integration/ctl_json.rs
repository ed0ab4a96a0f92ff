//! supervisorctl's additions for scripts: `status --json` and `avail
//! --json` (read back with Python's json module and compared member by
//! member, type by type, with what XML-RPC answers), and `wait` (success,
//! timeout, a FATAL program ending it early, unknown names). Without the
//! new flag and action, the output is Python's byte for byte.

use crate::util::{self, pyref_bin, run_with_input, run_with_timeout, Daemon, Impl};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(60);

/// Our binary as `supervisorctl`, in cargo's scratch dir for tests.
fn our_ctl() -> PathBuf {
    util::our_bin_as(Path::new(env!("CARGO_TARGET_TMPDIR")), "supervisorctl")
}

fn ctl_with(bin: &Path, d: &Daemon, args: &[&str]) -> (Option<i32>, String, String) {
    let mut cmd = Command::new(bin);
    cmd.arg("-c").arg(d.conf()).args(args).current_dir(d.dir());
    run_with_timeout(&mut cmd, WAIT)
}

fn ctl(d: &Daemon, args: &[&str]) -> (Option<i32>, String, String) {
    ctl_with(&our_ctl(), d, args)
}

/// A log file name with every kind of character a JSON string must
/// escape or keep: quotes, backslash, a tab, non-ASCII, `<&>`. It shows
/// in getProcessInfo and getAllConfigInfo alike.
const ODD: &str = "\u{e9}t\u{e9} \"q\" back\\slash tab\there <&>";

fn programs(dir: &Path) -> String {
    format!(
        "[program:running]\n\
         command=sleep 1000\n\
         stdout_logfile={dir}/{ODD}.log\n\
         startsecs=0\n\
         \n\
         [program:manual]\n\
         command=sleep 1000\n\
         autostart=false\n\
         \n\
         [group:grp]\n\
         programs=g1\n\
         \n\
         [program:g1]\n\
         command=sleep 1000\n\
         startsecs=0\n",
        dir = dir.display()
    )
}

fn start() -> Daemon {
    let b = Daemon::builder(Impl::Ours).inet().unix("sock").ctl();
    let sections = programs(b.dir());
    let d = b.sections(&sections).start();
    d.wait_states(
        &[("running", "RUNNING"), ("grp:g1", "RUNNING")],
        util::START,
    );
    d
}

/// Runs a Python check with the JSON text in a file and the daemon's
/// XML-RPC URL: `script` sets `problems` (a list of strings).
fn python_check(d: &Daemon, json_text: &str, script: &str) -> Vec<String> {
    let file = d.dir().join("out.json");
    std::fs::write(&file, json_text).expect("write out.json");
    let prelude = "import json, sys, xmlrpc.client\n\
                   doc = json.load(open(sys.argv[1], encoding='utf-8'))\n\
                   rpc = xmlrpc.client.ServerProxy(sys.argv[2] + '/RPC2').supervisor\n\
                   problems = []\n";
    let epilogue = "\nprint('\\n'.join(problems))\n";
    let mut cmd = Command::new(pyref_bin("python"));
    cmd.arg("-c")
        .arg(format!("{prelude}{script}{epilogue}"))
        .arg(&file)
        .arg(d.http_url());
    let (code, out, err) = run_with_timeout(&mut cmd, WAIT);
    assert_eq!(code, Some(0), "python check failed:\n{out}\n{err}");
    out.lines()
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

/// Every member of each JSON object against getProcessInfo: same names
/// in the same order, same types, same values (`now` and the uptime in
/// `description` may have moved on by a second).
const COMPARE_STATUS: &str = r#"
for obj in doc:
    spec = obj['group'] + ':' + obj['name']
    info = rpc.getProcessInfo(spec)
    if list(obj) != list(info):
        problems.append('%s: members %r != %r' % (spec, list(obj), list(info)))
    for k, v in info.items():
        j = obj.get(k)
        if type(j) is not type(v):
            problems.append('%s.%s: type %r != %r' % (spec, k, type(j), type(v)))
        elif k == 'now':
            if abs(j - v) > 2:
                problems.append('%s.now: %r vs %r' % (spec, j, v))
        elif k == 'description' and 'uptime' in v:
            if j.split('uptime')[0] != v.split('uptime')[0]:
                problems.append('%s.description: %r != %r' % (spec, j, v))
        elif j != v:
            problems.append('%s.%s: %r != %r' % (spec, k, j, v))
"#;

#[test]
fn status_json_is_getprocessinfo_member_by_member() {
    let d = start();
    let (code, out, err) = ctl(&d, &["status", "--json"]);
    // `manual` is STOPPED: status's exit code 3, as without --json.
    assert_eq!(code, Some(3), "{out}\n{err}");
    assert_eq!(err, "");
    let problems = python_check(
        &d,
        &out,
        &format!("{COMPARE_STATUS}\nif len(doc) != 3: problems.append('count %d' % len(doc))\n"),
    );
    assert!(problems.is_empty(), "{problems:#?}\n{out}");
    // One line per process between the brackets.
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 5, "{out}");
    assert_eq!((lines[0], lines[4]), ("[", "]"));
    assert!(lines[1..4].iter().all(|l| l.starts_with("{\"name\":")));
    // Non-ASCII goes out as UTF-8, the tab and the quotes escaped.
    assert!(
        out.contains("\u{e9}t\u{e9} \\\"q\\\" back\\\\slash tab\\there"),
        "{out}"
    );
}

#[test]
fn status_json_exit_codes_and_errors_stay_off_stdout() {
    let d = start();
    let (code, out, err) = ctl(&d, &["status", "--json", "running", "grp:*"]);
    assert_eq!(code, Some(0), "{out}\n{err}");
    let problems = python_check(
        &d,
        &out,
        "names = [o['name'] for o in doc]\n\
         if names != ['running', 'g1']: problems.append(repr(names))\n",
    );
    assert!(problems.is_empty(), "{problems:#?}");
    // Python's status exits 4 for an unknown name; the message goes to
    // stderr so stdout stays one JSON document.
    let (code, out, err) = ctl(&d, &["status", "nosuch", "--json", "running"]);
    assert_eq!(code, Some(4), "{out}\n{err}");
    assert_eq!(err, "nosuch: ERROR (no such process)\n");
    let problems = python_check(
        &d,
        &out,
        "if [o['name'] for o in doc] != ['running']: problems.append(repr(doc))\n",
    );
    assert!(problems.is_empty(), "{problems:#?}");
    let (code, out, _) = ctl(&d, &["status", "--json", "manual"]);
    assert_eq!(code, Some(3), "{out}");
    let (code, out, err) = ctl(&d, &["status", "--json", "nogroup:*"]);
    assert_eq!((code, out.as_str()), (Some(4), "[]\n"));
    assert_eq!(err, "nogroup: ERROR (no such group)\n");
}

#[test]
fn avail_json_is_getallconfiginfo_member_by_member() {
    let d = start();
    let (code, out, err) = ctl(&d, &["avail", "--json"]);
    assert_eq!(code, Some(0), "{out}\n{err}");
    let problems = python_check(
        &d,
        &out,
        &format!(
            "infos = rpc.getAllConfigInfo()\n\
             if len(infos) != len(doc): problems.append('count')\n\
             for obj, info in zip(doc, infos):\n\
             \x20   if list(obj) != list(info): problems.append('members %r' % list(obj))\n\
             \x20   for k, v in info.items():\n\
             \x20       if type(obj.get(k)) is not type(v) or obj.get(k) != v:\n\
             \x20           problems.append('%s.%s: %r != %r' % (info['name'], k, obj.get(k), v))\n\
             log = [o['stdout_logfile'] for o in doc if o['name'] == 'running'][0]\n\
             if not log.endswith('/' + {ODD:?} + '.log'): problems.append('log %r' % log)\n\
             if [o['autostart'] for o in doc if o['name'] == 'manual'] != [False]: problems.append('autostart')\n"
        ),
    );
    assert!(problems.is_empty(), "{problems:#?}\n{out}");
    // The tab inside the file name is escaped, so every record is one line.
    assert!(out.contains("tab\\there"), "{out}");
    assert_eq!(out.lines().count(), 3 + 2, "{out}");
}

#[test]
fn json_works_in_the_shell() {
    let d = start();
    let mut cmd = Command::new(our_ctl());
    cmd.arg("-c").arg(d.conf()).current_dir(d.dir());
    let (code, out, err) =
        run_with_input(&mut cmd, "status --json running\nstatus running\n", WAIT);
    assert_eq!(code, Some(0), "{out}\n{err}");
    let record = out
        .lines()
        .find(|l| l.starts_with("{\"name\":\"running\""))
        .unwrap_or_else(|| panic!("no JSON record in:\n{out}"));
    assert!(record.contains("\"statename\":\"RUNNING\""), "{record}");
    // The next command prints its plain line as before.
    assert!(
        out.lines()
            .any(|l| l.starts_with("running") && l.contains("RUNNING   pid")),
        "{out}"
    );
}

/// Without the new flag and action, ours prints what Python's prints.
#[test]
fn without_the_flags_the_output_is_pythons() {
    let d = start();
    for args in [
        vec!["status"],
        vec!["status", "running", "nosuch"],
        vec!["avail"],
        vec!["avail", "x"],
        vec!["help"],
        vec!["help", "version"],
    ] {
        let ours = ctl(&d, &args);
        let pys = ctl_with(&pyref_bin("supervisorctl"), &d, &args);
        let strip = |s: &str| -> String {
            s.lines()
                .map(|l| l.split(", uptime").next().unwrap_or(""))
                .collect::<Vec<_>>()
                .join("\n")
        };
        assert_eq!(ours.0, pys.0, "{args:?}");
        assert_eq!(strip(&ours.1), strip(&pys.1), "{args:?}");
    }
}

// ----- wait

fn wait_daemon(sections: &str) -> Daemon {
    Daemon::builder(Impl::Ours)
        .unix("sock")
        .ctl()
        .sections(sections)
        .start()
}

#[test]
fn wait_returns_once_the_autostarted_programs_run() {
    let d = wait_daemon(
        "[program:slow]\ncommand=sleep 1000\nstartsecs=2\n\
         [program:manual]\ncommand=sleep 1000\nautostart=false\n",
    );
    let t = Instant::now();
    let (code, out, err) = ctl(&d, &["wait"]);
    assert_eq!(code, Some(0), "{out}\n{err}");
    assert_eq!(out, "");
    assert_eq!(d.state("slow"), "RUNNING");
    assert!(t.elapsed() < Duration::from_secs(30));
    // Named, with a group spec, and `all` (manual is not started: it
    // would time out, so only the named ones).
    let (code, out, _) = ctl(&d, &["wait", "--timeout", "5", "slow:*"]);
    assert_eq!((code, out.as_str()), (Some(0), ""));
}

#[test]
fn wait_times_out_naming_the_laggards() {
    let d = wait_daemon(
        "[program:up]\ncommand=sleep 1000\nstartsecs=0\n\
         [program:manual]\ncommand=sleep 1000\nautostart=false\n",
    );
    let t = Instant::now();
    let (code, out, err) = ctl(&d, &["wait", "--timeout=1", "up", "manual"]);
    let took = t.elapsed();
    assert_eq!(code, Some(1), "{out}\n{err}");
    assert!(took >= Duration::from_millis(900), "{took:?}");
    assert!(took < Duration::from_secs(20), "{took:?}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 1, "{out}");
    assert!(
        lines[0].starts_with("manual ") && lines[0].contains("STOPPED"),
        "{out}"
    );
}

#[test]
fn wait_ends_early_when_a_program_goes_fatal() {
    let d = wait_daemon(
        "[program:crash]\ncommand=sh -c 'sleep 0.2; exit 3'\nstartsecs=1\nstartretries=1\n\
         [program:up]\ncommand=sleep 1000\nstartsecs=0\n",
    );
    let t = Instant::now();
    let (code, out, err) = ctl(&d, &["wait", "--timeout", "120"]);
    assert_eq!(code, Some(1), "{out}\n{err}");
    assert!(t.elapsed() < Duration::from_secs(60), "{:?}", t.elapsed());
    assert!(out.starts_with("crash ") && out.contains("FATAL"), "{out}");
    assert!(!out.contains("up "), "{out}");
}

#[test]
fn wait_refuses_unknown_names_and_bad_timeouts() {
    let d = wait_daemon("[program:up]\ncommand=sleep 1000\nstartsecs=0\n");
    let (code, out, _) = ctl(&d, &["wait", "up", "nosuch", "nogroup:*"]);
    assert_eq!(code, Some(1));
    assert_eq!(
        out,
        "nosuch: ERROR (no such process)\nnogroup: ERROR (no such group)\n"
    );
    let (code, out, _) = ctl(&d, &["wait", "--timeout", "soon"]);
    assert_eq!(code, Some(1));
    assert!(out.starts_with("Error: bad timeout"), "{out}");
    assert!(out.contains("wait --timeout N"), "{out}");
    // `help wait` documents it; `help` lists only Python's actions.
    let (_, out, _) = ctl(&d, &["help", "wait"]);
    assert!(out.starts_with("wait\t"), "{out}");
    let (_, out, _) = ctl(&d, &["help"]);
    assert!(!out.contains("wait"), "{out}");
}
