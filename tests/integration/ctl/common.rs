//! Shared by the supervisorctl tests: a daemon under test on PROGRAMS,
//! running a client, and the normalization that lets two runs be compared
//! byte for byte (pids, uptimes, dates, temp dirs, Python's traceback
//! frame, the program name in usage lines).

use crate::util::{self, pyref_bin, run_with_input, run_with_timeout, wait_until};
pub use crate::util::{Daemon, Impl};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

pub const WAIT: Duration = Duration::from_secs(30);

/// The programs every test daemon runs: running ones, a manual one, one
/// that exits at once (FATAL: with a long startsecs the daemon always
/// reports a spawn error, never a race with EXITED), one whose command does not exist (spawn
/// error), a group with an autostarted and a manual member, one that
/// echoes its stdin, and a long name that widens the status columns.
pub const PROGRAMS: &str = "
[program:sleeper]
command=sleep 1000
startsecs=0

[program:manual]
command=sleep 1000
autostart=false
startsecs=0

[program:quick]
command=true
startsecs=10
startretries=0

[program:bad]
command=/nonexistent/command
startretries=0

[program:talker]
command=sh -c 'echo hello; echo oops >&2; exec sleep 1000'
startsecs=0

[group:grp]
programs=g1,g2

[program:g1]
command=sleep 1000
startsecs=0

[program:g2]
command=sleep 1000
autostart=false
startsecs=0

[program:echoer]
command=cat
startsecs=0

[program:a_program_with_a_name_longer_than_thirty]
command=sleep 1000
autostart=false
";

/// A supervisord (Python's or ours) on PROGRAMS plus `extra` config, with
/// a unix socket (the `[supervisorctl]` serverurl) and a loopback port,
/// once every autostarted program has settled.
pub fn start(imp: Impl, extra: &str) -> Daemon {
    settled(builder(imp, extra).start())
}

/// Like `start`, with basic auth on the port.
pub fn start_with_auth(imp: Impl, user: &str, password: &str) -> Daemon {
    settled(builder(imp, "").auth(user, password).start())
}

fn builder(imp: Impl, extra: &str) -> util::DaemonBuilder {
    Daemon::builder(imp)
        .supervisord("silent=true")
        .inet()
        .unix("sock")
        .ctl()
        .sections(&format!("{PROGRAMS}\n{extra}\n"))
}

fn settled(d: Daemon) -> Daemon {
    wait_settled(&d);
    d
}

/// Waits until the server answers and no program is STARTING (quick
/// and bad have given up, the others run).
pub fn wait_settled(d: &Daemon) {
    let ok = wait_until(WAIT, || {
        let (_, out, _) = ctl(&pyref_bin("supervisorctl"), d, &["status"]);
        out.contains("quick ")
            && out.contains("FATAL")
            && !out.contains("STARTING")
            && !out.contains("BACKOFF")
            && !out.contains("refused")
            && !out.contains("no such file")
    });
    assert!(ok, "{} daemon did not settle:\n{}", d.name(), d.output());
}

/// Waits until the daemon process has exited (after `shutdown`).
pub fn wait_gone(d: &mut Daemon) {
    assert!(
        d.wait_exit(WAIT).is_some(),
        "{} daemon did not exit",
        d.name()
    );
}

/// Our supervisorctl, linked under that name in cargo's scratch dir for
/// integration tests (a temp dir held by a static was never removed: one
/// left in /tmp per run).
pub fn our_ctl() -> PathBuf {
    static LINK: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    LINK.get_or_init(|| util::our_bin_as(Path::new(env!("CARGO_TARGET_TMPDIR")), "supervisorctl"))
        .clone()
}

pub fn py_ctl() -> PathBuf {
    pyref_bin("supervisorctl")
}

/// Runs a client with `-c <daemon conf>` and `args`; (code, stdout, stderr).
pub fn ctl(bin: &Path, d: &Daemon, args: &[&str]) -> (Option<i32>, String, String) {
    let mut cmd = Command::new(bin);
    cmd.arg("-c").arg(d.conf()).args(args).current_dir(d.dir());
    run_with_timeout(&mut cmd, WAIT)
}

/// Runs a client with `args` and `stdin` text.
pub fn ctl_stdin(
    bin: &Path,
    d: &Daemon,
    args: &[&str],
    stdin: &str,
) -> (Option<i32>, String, String) {
    let mut cmd = Command::new(bin);
    cmd.arg("-c").arg(d.conf()).args(args).current_dir(d.dir());
    run_with_input(&mut cmd, stdin, WAIT)
}

/// Replaces every match of a simple pattern: `pat` is literal text with
/// `#` standing for one or more ASCII digits.
fn replace_digits_pattern(s: &str, pat: &str, with: &str) -> String {
    let pat: Vec<char> = pat.chars().collect();
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    'outer: while i < chars.len() {
        let mut j = i;
        let mut k = 0;
        while k < pat.len() {
            if pat[k] == '#' {
                let start = j;
                while j < chars.len() && chars[j].is_ascii_digit() {
                    j += 1;
                }
                if j == start {
                    out.push(chars[i]);
                    i += 1;
                    continue 'outer;
                }
            } else {
                if j >= chars.len() || chars[j] != pat[k] {
                    out.push(chars[i]);
                    i += 1;
                    continue 'outer;
                }
                j += 1;
            }
            k += 1;
        }
        out.push_str(with);
        i = j;
    }
    out
}

/// Makes two runs comparable: pids, uptimes, stop dates, log timestamps,
/// temp dirs, program names in usage lines, Python's traceback frame.
pub fn normalize(s: &str, dirs: &[&Path]) -> String {
    let mut s = s.to_string();
    for d in dirs {
        s = s.replace(&d.display().to_string(), "<DIR>");
    }
    s = s.replace(&py_ctl().display().to_string(), "<CTL>");
    s = s.replace(&our_ctl().display().to_string(), "<CTL>");
    s = replace_digits_pattern(&s, "pid #, uptime #:#:#", "pid <PID>, uptime <UP>");
    s = replace_digits_pattern(&s, "with pid #", "with pid <PID>");
    s = replace_digits_pattern(&s, "#-#-# #:#:#,#", "<TIME>");
    for m in [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ] {
        for ampm in ["AM", "PM"] {
            s = replace_digits_pattern(&s, &format!("{} # #:# {}", m, ampm), "<DATE>");
        }
    }
    // Python's catch-all names its own source file and line.
    let mut out = String::new();
    for line in s.split_inclusive('\n') {
        // Python's `fg` reads the tail in a thread, which sometimes says
        // this when the main thread exits under it (a race in Python's
        // client, seen on a busy machine; our client has no such thread).
        if line.trim_end() == "CLOSED Cannot connect, error: <class 'SystemExit'> ()" {
            continue;
        }
        match line.find(": file: ") {
            Some(i) if line.starts_with("error: <class ") => {
                out.push_str(&line[..i]);
                out.push_str(": file: <F> line: <N>");
                if line.ends_with('\n') {
                    out.push('\n');
                }
            }
            _ => out.push_str(line),
        }
    }
    out
}

/// Lines that only list pids (`pid`, `pid all`) compare as "<PID>".
pub fn normalize_pid_lines(s: &str) -> String {
    s.split_inclusive('\n')
        .map(|l| {
            let t = l.trim_end();
            if !t.is_empty() && t != "0" && t.bytes().all(|b| b.is_ascii_digit()) {
                l.replacen(t, "<PID>", 1)
            } else {
                l.to_string()
            }
        })
        .collect()
}

/// Collects mismatches so one run reports all of them.
#[derive(Default)]
pub struct Report {
    pub failures: Vec<String>,
    pub passed: usize,
}

impl Report {
    pub fn compare(
        &mut self,
        what: &str,
        py: &(Option<i32>, String, String),
        rs: &(Option<i32>, String, String),
        norm: impl Fn(&str) -> String,
    ) {
        let p = (py.0, norm(&py.1), norm(&py.2));
        let r = (rs.0, norm(&rs.1), norm(&rs.2));
        if p == r {
            self.passed += 1;
        } else {
            self.failures.push(format!(
                "--- {}\npython: code {:?}\nstdout:\n{}\nstderr:\n{}\nours: code {:?}\nstdout:\n{}\nstderr:\n{}",
                what, p.0, p.1, p.2, r.0, r.1, r.2
            ));
        }
    }

    pub fn finish(self) {
        assert!(
            self.failures.is_empty(),
            "{} of {} comparisons differ:\n{}",
            self.failures.len(),
            self.failures.len() + self.passed,
            self.failures.join("\n")
        );
    }
}
