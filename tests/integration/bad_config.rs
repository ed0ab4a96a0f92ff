//! The bad-config corpus: every `tests/bad_configs/NNN-what.conf` is a config
//! that Python supervisord 4.3.0 rejects at startup with exit status 2 and an
//! `Error: ...` line. Ours must reject it the same way and name the same things.
//!
//! Each case runs `supervisord -n -c FILE` for both implementations, each in a
//! fresh temp dir (also the cwd) holding the case as `supervisord.conf` and a
//! copy of `tests/bad_configs/aux/` as `aux/`, with a 20 s deadline (hitting it
//! means the config was accepted and a daemon started). A run passes when it
//! exits 2, writes a line starting with `Error: ` to stderr, and its output
//! (stdout + stderr, minus the `For help, use ... -h` line) contains every
//! `expect`.
//!
//! Header comment lines of a case:
//! * `; expect: TEXT`: a substring both outputs must contain (section and key
//!   names and bad values wherever Python's message names them).
//! * `; config-path: PATH`: pass this `-c` path instead of the case file (for
//!   missing or unreadable config files).
//! * `; requires: non-root`: the config is only bad for an unprivileged user
//!   (root may switch users); skipped when the tests run as root.
//!
//! Placeholders, replaced in the case, in `aux/` files, in `config-path` and in
//! expects: `@TMP@` the run's temp dir, `@FILE@` the case's absolute path
//! (`@TMP@/supervisord.conf`), `@AUX@` the copied aux dir (`@TMP@/aux`),
//! `@BUSYPORT@` a loopback port the harness keeps a listener on during the run.
//!
//! Environment switches:
//! * `BAD_CONFIG_PYTHON_ONLY=1` runs only the Python reference: use it to check
//!   that a new case really is rejected by Python and that its expects hold.
//! * `BAD_CONFIG_FILTER=TEXT` runs only the cases whose file name contains TEXT.

use crate::util;

use std::fmt::Write as _;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;
use util::Impl;

const DEADLINE: Duration = Duration::from_secs(20);
const MIN_CASES: usize = 40;

struct Case {
    name: String,
    text: String,
    expects: Vec<String>,
    config_path: Option<String>,
    non_root_only: bool,
}

fn corpus_dir() -> PathBuf {
    util::test_file("bad_configs")
}

fn load_cases() -> Vec<Case> {
    let dir = corpus_dir();
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .map(|e| e.expect("read corpus entry").file_name())
        .filter_map(|n| n.into_string().ok())
        .filter(|n| n.ends_with(".conf"))
        .collect();
    names.sort();
    names
        .into_iter()
        .map(|name| {
            let path = dir.join(&name);
            let text = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
            let mut expects = Vec::new();
            let mut config_path = None;
            let mut non_root_only = false;
            for line in text.lines() {
                if let Some(e) = line.strip_prefix("; expect:") {
                    expects.push(e.trim().to_string());
                } else if let Some(p) = line.strip_prefix("; config-path:") {
                    config_path = Some(p.trim().to_string());
                } else if let Some(r) = line.strip_prefix("; requires:") {
                    assert_eq!(r.trim(), "non-root", "{name}: unknown requirement");
                    non_root_only = true;
                }
            }
            Case {
                name,
                text,
                expects,
                config_path,
                non_root_only,
            }
        })
        .collect()
}

/// The placeholder values of one run.
struct Subst {
    tmp: String,
    busy_port: Option<u16>,
}

impl Subst {
    fn apply(&self, s: &str) -> String {
        let mut s = s
            .replace("@FILE@", &format!("{}/supervisord.conf", self.tmp))
            .replace("@AUX@", &format!("{}/aux", self.tmp))
            .replace("@TMP@", &self.tmp);
        if let Some(port) = self.busy_port {
            s = s.replace("@BUSYPORT@", &port.to_string());
        }
        s
    }
}

/// Copies `from` into `to` recursively, substituting placeholders in files.
fn copy_tree(from: &Path, to: &Path, subst: &Subst) {
    std::fs::create_dir_all(to).expect("create aux dir");
    for entry in std::fs::read_dir(from).expect("read aux dir") {
        let entry = entry.expect("aux entry");
        let src = entry.path();
        let dst = to.join(entry.file_name());
        if src.is_dir() {
            copy_tree(&src, &dst, subst);
        } else {
            let text = std::fs::read_to_string(&src)
                .unwrap_or_else(|e| panic!("read {}: {e}", src.display()));
            std::fs::write(&dst, subst.apply(&text)).expect("write aux file");
        }
    }
}

/// Runs one implementation on one case; returns a failure report, if any.
fn run_case(case: &Case, imp: Impl) -> Option<String> {
    let tmp = util::temp_dir();
    // Held open for the whole run, so the port really is busy.
    let listener = case
        .text
        .contains("@BUSYPORT@")
        .then(|| TcpListener::bind("127.0.0.1:0").expect("bind a busy port"));
    let subst = Subst {
        tmp: tmp.path().to_str().expect("utf-8 temp path").to_string(),
        busy_port: listener
            .as_ref()
            .map(|l| l.local_addr().expect("local addr").port()),
    };
    let aux = corpus_dir().join("aux");
    if aux.is_dir() {
        copy_tree(&aux, &tmp.path().join("aux"), &subst);
    }
    let case_file = tmp.path().join("supervisord.conf");
    std::fs::write(&case_file, subst.apply(&case.text)).expect("write case");
    let config = match &case.config_path {
        Some(p) => subst.apply(p),
        None => case_file.to_str().expect("utf-8 path").to_string(),
    };

    let mut cmd = Command::new(imp.bin());
    cmd.args(["-n", "-c", &config]).current_dir(tmp.path());
    let (code, stdout, stderr) = util::run_with_timeout(&mut cmd, DEADLINE);
    drop(listener);

    let mut problems = Vec::new();
    match code {
        Some(2) => {}
        Some(c) => problems.push(format!("exit status {c}, expected 2")),
        None => problems.push(format!(
            "no exit within {}s (config accepted, daemon started?)",
            DEADLINE.as_secs()
        )),
    }
    if !stderr.lines().any(|l| l.starts_with("Error: ")) {
        problems.push("no line starting with `Error: ` on stderr".to_string());
    }
    let output: String = stdout
        .lines()
        .chain(stderr.lines())
        .filter(|l| !l.starts_with("For help, use "))
        .map(|l| format!("{l}\n"))
        .collect();
    for e in &case.expects {
        let e = subst.apply(e);
        if !output.contains(&e) {
            problems.push(format!("output lacks {e:?}"));
        }
    }
    if problems.is_empty() {
        return None;
    }
    let mut r = format!("=== {} [{}]\n", case.name, imp.name());
    for p in &problems {
        let _ = writeln!(r, "  - {p}");
    }
    let _ = writeln!(r, "  expects: {:?}", case.expects);
    let _ = writeln!(r, "  exit: {code:?}");
    let _ = writeln!(r, "  stdout:\n{}", indent(&stdout));
    let _ = writeln!(r, "  stderr:\n{}", indent(&stderr));
    Some(r)
}

fn indent(s: &str) -> String {
    const MAX: usize = 3000;
    let s = if s.len() > MAX {
        let mut cut = MAX;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        format!("{}... [{} bytes cut]", &s[..cut], s.len() - cut)
    } else {
        s.to_string()
    };
    s.lines().map(|l| format!("    | {l}\n")).collect()
}

#[test]
fn bad_configs_exit_2_naming_the_culprit() {
    let python_only = std::env::var_os("BAD_CONFIG_PYTHON_ONLY").is_some_and(|v| v == "1");
    let filter = std::env::var("BAD_CONFIG_FILTER").unwrap_or_default();

    let all = load_cases();
    assert!(
        all.len() >= MIN_CASES,
        "the bad-config corpus has {} cases, expected at least {MIN_CASES}",
        all.len()
    );
    let root = util::is_root();
    let cases: Vec<&Case> = all
        .iter()
        .filter(|c| c.name.contains(&filter))
        .filter(|c| {
            let skip = root && c.non_root_only;
            if skip {
                eprintln!("skipped (runs as root): {}", c.name);
            }
            !skip
        })
        .collect();
    assert!(
        !cases.is_empty(),
        "no case matches BAD_CONFIG_FILTER={filter:?}"
    );

    let imps: &[Impl] = if python_only {
        &[Impl::Python]
    } else {
        &[Impl::Python, Impl::Ours]
    };
    let jobs: Vec<(&Case, Impl)> = cases
        .iter()
        .flat_map(|c| imps.iter().map(move |&i| (*c, i)))
        .collect();

    // Each start takes ~0.3 s (Python) and most of it is waiting, so run
    // several at once.
    let workers = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(4)
        .clamp(4, 16);
    let next = AtomicUsize::new(0);
    let failures: Mutex<Vec<(usize, String)>> = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some(&(case, imp)) = jobs.get(i) else {
                    break;
                };
                if let Some(report) = run_case(case, imp) {
                    failures.lock().unwrap().push((i, report));
                }
            });
        }
    });

    let mut failures = failures.into_inner().unwrap();
    failures.sort_by_key(|(i, _)| *i);
    if !failures.is_empty() {
        let mut report = format!(
            "{} of {} runs failed ({} cases{}):\n\n",
            failures.len(),
            jobs.len(),
            cases.len(),
            if python_only { ", Python only" } else { "" }
        );
        for (_, r) in &failures {
            report.push_str(r);
            report.push('\n');
        }
        panic!("{report}");
    }
}
