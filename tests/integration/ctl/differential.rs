//! supervisorctl, ours next to Python's 4.3.0: the same arguments against
//! the same daemon state must give the same stdout, stderr and exit code
//! (after normalizing pids, uptimes, dates and temp paths).
//!
//! Every scenario takes the daemon under test as a parameter and runs
//! against Python's supervisord and against ours.
//!
//! Read-only actions run both clients against one daemon. Actions that
//! change state run Python's client against daemon A and ours against an
//! identical daemon B, step by step, so both always see the same state.

use super::common;
use crate::util;

use common::*;
use std::path::Path;
use std::process::{Command, Stdio};
use util::Captured;

macro_rules! against_both {
    ($scenario:ident, $py:ident, $ours:ident) => {
        #[test]
        fn $py() {
            $scenario(Impl::Python);
        }

        #[test]
        fn $ours() {
            $scenario(Impl::Ours);
        }
    };
}

against_both!(read_only, read_only_python_daemon, read_only_our_daemon);
against_both!(
    state_changes,
    state_changes_python_daemon,
    state_changes_our_daemon
);
against_both!(
    config_changes,
    config_changes_python_daemon,
    config_changes_our_daemon
);
against_both!(
    reload_and_shutdown,
    reload_and_shutdown_python_daemon,
    reload_and_shutdown_our_daemon
);
against_both!(auth, auth_python_daemon, auth_our_daemon);
against_both!(
    tail_follow,
    tail_follow_python_daemon,
    tail_follow_our_daemon
);
against_both!(foreground, foreground_python_daemon, foreground_our_daemon);
against_both!(
    interactive_piped,
    interactive_piped_python_daemon,
    interactive_piped_our_daemon
);

/// Actions that do not change the daemon's state, and argument errors.
fn read_only(imp: Impl) {
    let d = start(imp, "");
    let mut rep = Report::default();
    let dirs = [d.dir()];
    let norm = |s: &str| normalize(s, &dirs);
    let http = d.http_url();
    let cases: Vec<Vec<&str>> = vec![
        vec!["status"],
        vec!["status", "all"],
        vec!["status", "sleeper"],
        vec!["status", "manual"],
        vec![
            "status",
            "sleeper",
            "nosuch",
            "grp:*",
            "grp:",
            "nogroup:*",
            "grp:nosuch",
        ],
        vec!["status", "grp:g1", "quick", "bad"],
        vec!["-s", &http, "status"],
        vec!["--serverurl", &http, "status", "sleeper"],
        vec!["status sleeper talker"],
        vec!["help"],
        vec!["?"],
        vec!["help", "help"],
        vec!["help", "nosuch"],
        vec!["help", "EOF"],
        vec!["help", "start", "stop"],
        vec!["EOF"],
        vec![""],
        vec!["nosuch", "args"],
        vec!["!ls"],
        vec!["-x"],
        vec!["STATUS"],
        vec!["pid"],
        vec!["pid", "sleeper"],
        vec!["pid", "manual"],
        vec!["pid", "nosuch", "sleeper"],
        vec!["pid", "all"],
        vec!["version"],
        vec!["version", "x"],
        vec!["avail"],
        vec!["avail", "x"],
        vec!["tail", "talker"],
        vec!["tail", "talker", "stderr"],
        vec!["tail", "talker", "STDOUT"],
        vec!["tail", "-3", "talker"],
        vec!["tail", "-0", "talker"],
        vec!["tail", "--2", "talker"],
        vec!["tail", "-x", "talker"],
        vec!["tail", "talker", "bad"],
        vec!["tail", "talker", "x", "stderr"],
        vec!["tail", "a", "b", "c", "d"],
        vec!["tail"],
        vec!["tail", "-5"],
        vec!["tail", "nosuch"],
        vec!["tail", "-99999999999", "talker"],
        vec!["maintail", "x"],
        vec!["maintail", "-x"],
        vec!["maintail", "a", "b"],
        vec!["start"],
        vec!["stop"],
        vec!["restart"],
        vec!["clear"],
        vec!["signal"],
        vec!["signal", "HUP"],
        vec!["fg"],
        vec!["fg", "a", "b"],
        vec!["fg", "nosuch"],
        vec!["fg", "manual"],
        vec!["open", "ftp://x"],
        vec!["open", &http],
        vec!["reread", "x"],
        vec!["reload", "x"],
        vec!["shutdown", "x"],
        vec!["reread"],
        vec!["add"],
        vec!["remove"],
        vec!["exit"],
        vec!["quit"],
        vec!["-h"],
        vec!["--help"],
        vec!["-?"],
        vec!["-h", "status"],
        vec!["-s", "notaurl", "status"],
        vec!["-s", "foo://bar", "status"],
        vec!["-s", "foo://bar", "add", "x"],
        vec!["-u", "a", "-u", "b", "status"],
        vec!["--nosuch"],
        vec!["-s"],
    ];
    for args in &cases {
        let py = ctl(&py_ctl(), &d, args);
        let rs = ctl(&our_ctl(), &d, args);
        rep.compare(&format!("{:?}", args), &py, &rs, norm);
    }
    // pids differ between runs of `pid all` only if a process restarted;
    // the daemon's pid is the same for both clients.
    let py = ctl(&py_ctl(), &d, &["maintail", "-200"]);
    let rs = ctl(&our_ctl(), &d, &["maintail", "-200"]);
    rep.compare("maintail -200", &py, &rs, |s| normalize_pid_lines(&norm(s)));
    rep.finish();
}

/// Two identical daemons; each step runs Python's client on A and ours
/// on B and compares.
struct Pair {
    a: Daemon,
    b: Daemon,
    rep: Report,
}

impl Pair {
    fn start(imp: Impl, extra: &str) -> Pair {
        Pair {
            a: start(imp, extra),
            b: start(imp, extra),
            rep: Report::default(),
        }
    }

    fn step(&mut self, args: &[&str]) {
        let py = ctl(&py_ctl(), &self.a, args);
        let rs = ctl(&our_ctl(), &self.b, args);
        let dirs = [self.a.dir(), self.b.dir()];
        // Calls on several processes (`all`, `group:*`) answer in the
        // order the processes finish, which differs between two daemons.
        let several = args
            .iter()
            .any(|a| *a == "all" || a.ends_with(':') || a.ends_with(":*"));
        self.rep.compare(&format!("{:?}", args), &py, &rs, |s| {
            let s = normalize_pid_lines(&normalize(s, &dirs));
            if several {
                let mut lines: Vec<&str> = s.lines().collect();
                lines.sort();
                lines.join("\n")
            } else {
                s
            }
        });
    }

    /// Both daemons settle (a started program passes startsecs).
    fn settle(&self) {
        wait_settled(&self.a);
        wait_settled(&self.b);
    }

    fn finish(self) {
        self.rep.finish();
    }
}

fn state_changes(imp: Impl) {
    let mut p = Pair::start(imp, "");
    for args in [
        &["start", "manual"][..],
        &["start", "manual"],
        &["status", "manual"],
        &["start", "nosuch"],
        &["start", "bad"],
        &["start", "quick"],
        &["status", "quick"],
        &["start", "grp:*"],
        &["start", "nogroup:*"],
        &["start", "nosuch", "nogroup:", "sleeper"],
        &["stop", "manual"],
        &["stop", "manual"],
        &["stop", "nosuch"],
        &["stop", "grp:"],
        &["stop", "nogroup:*"],
        &["status"],
        &["restart", "sleeper"],
        &["restart", "grp:*", "manual"],
        &["signal", "HUP", "sleeper"],
        &["signal", "NOSIG", "sleeper"],
        &["signal", "HUP", "quick"],
        &["signal", "USR1", "grp:*"],
        &["signal", "HUP", "nogroup:*", "nosuch"],
        &["signal", "CONT", "all"],
        &["clear", "talker"],
        &["clear", "nosuch", "grp:*"],
        &["clear", "all"],
        &["tail", "talker"],
        &["stop", "all"],
        &["status"],
        &["pid", "sleeper"],
        &["pid", "all"],
        &["start", "all"],
        &["status"],
        &["stop", "grp:*"],
        &["remove", "grp"],
        &["remove", "grp"],
        &["add", "grp"],
        &["add", "grp"],
        &["add", "nosuch"],
        &["remove", "sleeper"],
        &["status"],
    ] {
        p.step(args);
        p.settle();
    }
    p.finish();
}

fn config_changes(imp: Impl) {
    let mut p = Pair::start(imp, "");
    p.step(&["reread"]);
    p.step(&["update"]);
    p.step(&["avail"]);
    // Add a program, change one, drop one, on both daemons.
    for d in [&p.a, &p.b] {
        let text = std::fs::read_to_string(d.conf()).expect("read config");
        let text = text
            .replace("[program:talker]", "[program:gone]")
            .replace("command=sleep 1000\nstartsecs=0\n\n[program:manual]", "command=sleep 999\nstartsecs=0\n\n[program:manual]")
            + "\n[program:newprog]\ncommand=sleep 1000\nstartsecs=0\n\n[program:later]\ncommand=sleep 1000\nautostart=false\n";
        std::fs::write(d.conf(), text).expect("write config");
    }
    p.step(&["reread"]);
    p.step(&["avail"]);
    p.step(&["update", "nosuch"]);
    p.step(&["update", "newprog"]);
    p.settle();
    p.step(&["status"]);
    p.step(&["update", "all"]);
    p.settle();
    p.step(&["status"]);
    p.step(&["update"]);
    p.step(&["reread"]);
    // A config the daemon cannot read: reread reports the fault string.
    for d in [&p.a, &p.b] {
        let text = std::fs::read_to_string(d.conf()).expect("read config");
        std::fs::write(d.conf(), text + "\n[program:broken]\n").expect("write config");
    }
    p.step(&["reread"]);
    p.step(&["update"]);
    p.finish();
}

fn reload_and_shutdown(imp: Impl) {
    let mut p = Pair::start(imp, "");
    p.step(&["reload"]);
    p.settle();
    p.step(&["status"]);
    p.step(&["shutdown"]);
    wait_gone(&mut p.a);
    wait_gone(&mut p.b);
    p.step(&["shutdown"]);
    p.step(&["status"]);
    p.step(&["version"]);
    p.step(&["pid"]);
    p.step(&["add", "x"]);
    p.step(&["tail", "talker"]);
    let (ua, ub) = (p.a.http_url(), p.b.http_url());
    // Nothing listens on the ports any more: refused connections.
    for (args_a, args_b) in [
        (vec!["-s", &ua, "status"], vec!["-s", &ub, "status"]),
        (vec!["-s", &ua, "shutdown"], vec!["-s", &ub, "shutdown"]),
        (vec!["-s", &ua, "avail"], vec!["-s", &ub, "avail"]),
        (vec!["-s", &ua, "start", "x"], vec!["-s", &ub, "start", "x"]),
    ] {
        let py = ctl(&py_ctl(), &p.a, &args_a);
        let rs = ctl(&our_ctl(), &p.b, &args_b);
        let (pa, pb) = (p.a.port().to_string(), p.b.port().to_string());
        let dirs = [p.a.dir(), p.b.dir()];
        p.rep.compare(&format!("{:?}", args_b), &py, &rs, |s| {
            normalize(s, &dirs)
                .replace(&pa, "<PORT>")
                .replace(&pb, "<PORT>")
        });
    }
    p.finish();
}

fn auth(imp: Impl) {
    let d = start_with_auth(imp, "user", "secret");
    let mut rep = Report::default();
    let dirs = [d.dir()];
    let norm = |s: &str| normalize(s, &dirs);
    let url = d.http_url();
    for args in [
        vec!["-s", &url, "status"],
        vec!["-s", &url, "-u", "user", "status"],
        vec!["-s", &url, "-u", "user", "-p", "wrong", "version"],
        vec!["-s", &url, "-u", "user", "-p", "secret", "version"],
        vec![
            "-s", &url, "-u", "user", "-p", "secret", "status", "sleeper",
        ],
        vec!["-s", &url, "shutdown"],
        vec!["-s", &url, "add", "x"],
        vec!["-s", &url, "tail", "-f", "talker"],
        vec!["-s", &url, "help"],
    ] {
        let py = ctl(&py_ctl(), &d, &args);
        let rs = ctl(&our_ctl(), &d, &args);
        rep.compare(&format!("{:?}", args), &py, &rs, norm);
    }
    // Interactive: a 401 asks for credentials (stdin is not a terminal,
    // so the password is read from stdin after a warning on stderr).
    let script = "user\nsecret\nversion\n";
    let py = ctl_stdin(&py_ctl(), &d, &["-s", &url], script);
    let rs = ctl_stdin(&our_ctl(), &d, &["-s", &url], script);
    rep.compare("interactive 401", &py, &rs, |s| {
        // Python's getpass adds a Python warning with its own source line.
        let s = norm(s);
        s.lines()
            .filter(|l| !l.contains("GetPassWarning") && !l.contains("fallback_getpass"))
            .map(|l| l.replace("Username:", "Username:\n"))
            .collect::<Vec<_>>()
            .join("\n")
    });
    rep.finish();
}

/// Starts a client whose output is read as it comes; Ctrl-C (SIGINT) is
/// sent once stdout holds `needle`. Returns what the client printed.
fn run_until_then_interrupt(
    bin: &Path,
    d: &Daemon,
    args: &[&str],
    needle: &str,
) -> (Option<i32>, String, String) {
    let mut cmd = Command::new(bin);
    cmd.arg("-c")
        .arg(d.conf())
        .args(args)
        .current_dir(d.dir())
        .stdin(Stdio::null());
    let client = Captured::spawn(&mut cmd);
    assert!(
        client.wait_stdout(needle, WAIT),
        "{} {:?} never printed {:?}",
        bin.display(),
        args,
        needle
    );
    util::signal(client.pid(), libc::SIGINT);
    client.finish(WAIT)
}

fn tail_follow(imp: Impl) {
    let d = start(imp, "");
    let mut rep = Report::default();
    let dirs = [d.dir()];
    let norm = |s: &str| normalize(s, &dirs);
    for (args, needle) in [
        (vec!["tail", "-f", "talker"], "hello\n"),
        (vec!["tail", "-f", "talker", "stderr"], "oops\n"),
        (vec!["maintail", "-f"], "RUNNING state"),
    ] {
        let py = run_until_then_interrupt(&py_ctl(), &d, &args, needle);
        let rs = run_until_then_interrupt(&our_ctl(), &d, &args, needle);
        rep.compare(&format!("{:?} + Ctrl-C", args), &py, &rs, norm);
    }
    // Unknown process: the stream's 404 goes to stderr and the exit is 0.
    for args in [
        vec!["tail", "-f", "nosuch"],
        vec!["tail", "-f", "nosuch", "stderr"],
    ] {
        let py = ctl(&py_ctl(), &d, &args);
        let rs = ctl(&our_ctl(), &d, &args);
        rep.compare(&format!("{:?}", args), &py, &rs, norm);
    }
    rep.finish();
}

/// `fg`: typed lines reach the program's stdin and its output comes back;
/// end of input leaves fg mode with the program still running.
fn foreground(imp: Impl) {
    use std::io::Write;
    let p = Pair::start(imp, "");
    let mut rep = Report::default();
    let mut results = Vec::new();
    for (bin, d) in [(py_ctl(), &p.a), (our_ctl(), &p.b)] {
        let mut cmd = Command::new(&bin);
        cmd.arg("-c")
            .arg(d.conf())
            .args(["fg", "echoer"])
            .current_dir(d.dir())
            .stdin(Stdio::piped());
        let mut client = Captured::spawn(&mut cmd);
        let mut stdin = client.take_stdin().expect("stdin");
        assert!(
            client.wait_stdout("Ctrl-C to exit <==\n", WAIT),
            "fg did not start"
        );
        let _ = stdin.write_all(b"ping one\n");
        assert!(
            client.wait_stdout("ping one\n", WAIT),
            "{}: echo never came back",
            bin.display()
        );
        let _ = stdin.write_all(b"ping two\n");
        assert!(
            client.wait_stdout("ping two\n", WAIT),
            "{}: second echo never came back",
            bin.display()
        );
        drop(stdin);
        // Python's client leaves fg at once but exits only 30 s later, when
        // the socket of its log-stream thread times out: a longer bound.
        results.push(client.finish(2 * WAIT));
    }
    rep.compare("fg echoer", &results[0], &results[1], |s| s.to_string());
    // The program still runs after fg ends.
    let (_, out, _) = ctl(&our_ctl(), &p.b, &["status", "echoer"]);
    assert!(out.contains("RUNNING"), "echoer stopped after fg: {}", out);
    rep.finish();
}

/// The shell with stdin that is not a terminal: prompts without editing,
/// `status` first, commands in order, EOF leaves; exit status always 0.
fn interactive_piped(imp: Impl) {
    let d = start(imp, "");
    let mut rep = Report::default();
    let dirs = [d.dir()];
    let norm = |s: &str| normalize(s, &dirs);
    for (args, script) in [
        (
            vec![],
            "status sleeper\nnosuch cmd\n\nhelp\nhelp tail\nstop nosuch\n",
        ),
        (vec!["-i"], "version\nquit\nstatus\n"),
        (vec![], "tail -x talker\nexit\n"),
        (vec![], "shutdown\nn\nreload\nno\nstatus manual\n"),
        (vec!["-i", "shutdown"], "n\n"),
        (
            vec![],
            "open ftp://x\nopen unix:///nonexistent/sock\nstatus\n",
        ),
        (vec!["-s", "unix:///nonexistent/sock"], "status\npid\n"),
        (vec![], ""),
    ] {
        let py = ctl_stdin(&py_ctl(), &d, &args, script);
        let rs = ctl_stdin(&our_ctl(), &d, &args, script);
        rep.compare(&format!("{:?} <<< {:?}", args, script), &py, &rs, norm);
    }
    rep.finish();
}

/// No daemon at all: the default URL, a missing socket, bad config files.
#[test]
fn without_a_daemon() {
    let dir = util::temp_dir();
    let mut rep = Report::default();
    let dirs = [dir.path()];
    let norm = |s: &str| normalize(s, &dirs);
    let sock = format!("unix://{}/nosock", dir.path().display());
    let noctl = dir.path().join("noctl.conf");
    std::fs::write(&noctl, "[supervisord]\n").expect("write");
    let withurl = dir.path().join("url.conf");
    std::fs::write(
        &withurl,
        format!(
            "[supervisorctl]\nserverurl=unix://%(here)s/../{}/nosock\nprompt=mine\n",
            dir.path()
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default()
        ),
    )
    .expect("write");
    let missing = dir.path().join("missing.conf");
    let (noctl, withurl, missing) = (
        noctl.display().to_string(),
        withurl.display().to_string(),
        missing.display().to_string(),
    );
    let cases: Vec<Vec<&str>> = vec![
        vec!["-s", &sock, "status"],
        vec!["-s", &sock, "version"],
        vec!["-s", &sock, "shutdown"],
        vec!["-s", &sock, "reload"],
        vec!["-s", &sock, "add", "x"],
        vec!["-s", &sock, "remove", "x"],
        vec!["-s", &sock, "update"],
        vec!["-s", &sock, "reread"],
        vec!["-s", &sock, "avail"],
        vec!["-s", &sock, "pid"],
        vec!["-s", &sock, "start", "x"],
        vec!["-s", &sock, "tail", "-f", "x"],
        vec!["-s", &sock, "help"],
        vec!["-c", &noctl, "status"],
        vec!["-c", &missing, "status"],
        vec!["-c", &withurl, "status"],
        vec!["-c", &withurl, "-s", "http://127.0.0.1:1", "status"],
        vec!["-s", "http://127.0.0.1:1", "shutdown"],
        vec!["-s", "http://127.0.0.1:1", "update"],
        vec!["-s", "http://127.0.0.1:1", "signal", "HUP", "x"],
    ];
    for args in &cases {
        let mut a = Command::new(py_ctl());
        a.args(args).current_dir(dir.path());
        let mut b = Command::new(our_ctl());
        b.args(args).current_dir(dir.path());
        let py = util::run_with_timeout(&mut a, WAIT);
        let rs = util::run_with_timeout(&mut b, WAIT);
        rep.compare(&format!("{:?}", args), &py, &rs, norm);
    }
    // The interactive shell on a config with its own prompt.
    let py = run_piped(&py_ctl(), dir.path(), &["-c", &withurl], "version\n");
    let rs = run_piped(&our_ctl(), dir.path(), &["-c", &withurl], "version\n");
    rep.compare("prompt from config", &py, &rs, norm);
    rep.finish();
}

fn run_piped(bin: &Path, cwd: &Path, args: &[&str], stdin: &str) -> (Option<i32>, String, String) {
    let mut cmd = Command::new(bin);
    cmd.args(args).current_dir(cwd);
    util::run_with_input(&mut cmd, stdin, WAIT)
}
