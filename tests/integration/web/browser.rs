//! The web page in a real browser: Debian's Chromium, headless, driven by
//! playwright-core (tests/web/browser.mjs) against our daemon on a
//! demo-like config. The browser clicks Stop in a running program's row
//! and Start in a stopped one's, follows each redirect to the message
//! line, and takes a screenshot (target/web-screenshot.png); this test
//! then checks the states over XML-RPC. No request may leave 127.0.0.1.
//!
//! Chromium (apt-get) and playwright-core (npm, into tests/web/node_modules)
//! are installed when missing; if that fails, the test fails saying so.

use super::common;
use crate::util;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::Impl;
use util::run_with_timeout;

const CHROMIUM: &str = "/usr/bin/chromium";

pub(super) fn web_dir() -> PathBuf {
    util::test_file("web")
}

/// Runs an install step, bounded; panics with its output when it fails.
fn install(what: &str, cmd: &mut Command, timeout: Duration) {
    let (code, out, err) = run_with_timeout(cmd, timeout);
    assert_eq!(
        code,
        Some(0),
        "cannot install {what} ({cmd:?} exited {code:?}; is the package registry reachable?)\n\
         --- stdout\n{out}\n--- stderr\n{err}"
    );
}

/// Debian's chromium, unless it is there already.
pub(super) fn ensure_chromium() {
    let _apt = util::apt_lock();
    if Path::new(CHROMIUM).exists() {
        return;
    }
    install(
        "chromium (apt-get update)",
        Command::new("apt-get").arg("update"),
        Duration::from_secs(600),
    );
    install(
        "chromium (apt-get install)",
        Command::new("apt-get")
            .args(["install", "-y", "--no-install-recommends", "chromium"])
            .env("DEBIAN_FRONTEND", "noninteractive"),
        Duration::from_secs(1200),
    );
    assert!(
        Path::new(CHROMIUM).exists(),
        "apt-get installed chromium but {CHROMIUM} is missing"
    );
}

/// playwright-core as tests/web/package-lock.json pins it, unless there.
pub(super) fn ensure_playwright() {
    let dir = web_dir();
    if dir
        .join("node_modules/playwright-core/package.json")
        .exists()
    {
        return;
    }
    install(
        "playwright-core (npm ci)",
        Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(&dir),
        Duration::from_secs(600),
    );
}

/// Like conf/supervisord.conf: a ticker and two workers in group `demo`,
/// a one-shot greeter, plus a long-running program that does not start by
/// itself and one whose command is missing.
const PROGRAMS: &str = "\
[program:ticker]
command=sh -c 'while :; do date; sleep 5; done'
stopasgroup=true
[program:worker]
command=sh -c 'n=0; while :; do n=$((n+1)); echo \"worker %(process_num)d: step $n\"; sleep 3; done'
process_name=%(program_name)s_%(process_num)02d
numprocs=2
stopasgroup=true
[group:demo]
programs=ticker,worker
[program:greeter]
command=sh -c 'echo hello'
autostart=false
autorestart=false
startsecs=0
[program:nightly]
command=sh -c 'while :; do sleep 5; done'
autostart=false
stopasgroup=true
[program:broken]
command=/nonexistent/program
startretries=0
";

/// Processes whose command line names `needle` (our browser's unique
/// user-data-dir): the browser and its helpers, if any are left.
pub(super) fn pids_naming(needle: &str) -> Vec<i32> {
    let mut pids = Vec::new();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return pids;
    };
    for e in entries.flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|n| n.parse::<i32>().ok()) else {
            continue;
        };
        if let Ok(cmd) = std::fs::read(e.path().join("cmdline")) {
            if String::from_utf8_lossy(&cmd).contains(needle) {
                pids.push(pid);
            }
        }
    }
    pids
}

#[test]
fn stop_and_start_from_a_real_browser() {
    ensure_chromium();
    ensure_playwright();

    let daemon = common::start(Impl::Ours, PROGRAMS, None);
    daemon.wait_states(
        &[
            ("demo:ticker", "RUNNING"),
            ("demo:worker_00", "RUNNING"),
            ("demo:worker_01", "RUNNING"),
            ("nightly", "STOPPED"),
            ("broken", "FATAL"),
        ],
        Duration::from_secs(30),
    );

    let profile = util::temp_dir();
    let user_data_dir = profile.path().join("chromium-profile");
    let screenshot = util::repo_root().join("target/web-screenshot.png");
    let _ = std::fs::remove_file(&screenshot);
    let (code, out, err) = run_with_timeout(
        Command::new("node")
            .arg(web_dir().join("browser.mjs"))
            .arg(daemon.http_url())
            .arg(&user_data_dir)
            .arg(&screenshot)
            .arg("demo:ticker")
            .arg("nightly")
            .current_dir(web_dir()),
        Duration::from_secs(120),
    );
    // The browser is gone with its context; anything left is killed by pid.
    let needle = user_data_dir.display().to_string();
    for pid in pids_naming(&needle) {
        util::signal(pid, libc::SIGKILL);
    }
    let report = format!("--- browser stdout\n{out}--- browser stderr\n{err}");

    let lines: Vec<Vec<&str>> = out.lines().map(|l| l.split('\t').collect()).collect();
    let field = |key: &str| -> Vec<&Vec<&str>> { lines.iter().filter(|l| l[0] == key).collect() };
    assert!(
        field("error").is_empty(),
        "the browser run failed\n{report}"
    );
    assert_eq!(code, Some(0), "browser.mjs exited {code:?}\n{report}");
    assert!(
        field("pid")
            .first()
            .is_some_and(|l| l.len() > 1 && !l[1].is_empty()),
        "no browser pid found\n{report}"
    );

    // Nothing but 127.0.0.1 was asked for.
    assert!(
        field("blocked").is_empty(),
        "requests left 127.0.0.1\n{report}"
    );
    let requests = field("request");
    assert!(!requests.is_empty(), "{report}");
    for r in &requests {
        println!("browser request: {}", r[1]);
    }
    for r in &requests {
        assert!(
            r[1].split(' ')
                .nth(1)
                .is_some_and(|u| u.starts_with(&format!("{}/", daemon.http_url()))),
            "request {:?} is not to our daemon\n{report}",
            r[1]
        );
    }
    assert!(field("pageerror").is_empty(), "{report}");
    assert!(field("console").is_empty(), "{report}");

    // The page as loaded.
    assert_eq!(field("status")[0][1], "200", "{report}");
    assert_eq!(field("title")[0][1], "Supervisor Status", "{report}");
    let rows = field("row");
    let row = |name: &str| {
        rows.iter()
            .find(|r| r[1] == name)
            .unwrap_or_else(|| panic!("no row for {name}\n{report}"))
    };
    assert_eq!(row("demo:ticker")[2], "running", "{report}");
    assert_eq!(row("demo:ticker")[3], "restart,stop,clearlog", "{report}");
    assert_eq!(row("nightly")[2], "stopped", "{report}");
    assert_eq!(row("nightly")[3], "start,clearlog", "{report}");
    assert_eq!(row("broken")[2], "fatal", "{report}");
    assert_eq!(rows.len(), 6, "{report}");

    // The two clicks, their redirects and message lines.
    let steps = field("step");
    assert_eq!(steps.len(), 2, "{report}");
    assert_eq!(
        steps[0][1..5],
        [
            "demo:ticker",
            "stop",
            "Process demo:ticker stopped",
            "stopped"
        ],
        "{report}"
    );
    assert_eq!(
        steps[0][5],
        format!(
            "{}/?message=Process%20demo%3Aticker%20stopped",
            daemon.http_url()
        ),
        "{report}"
    );
    assert_eq!(
        steps[1][1..5],
        ["nightly", "start", "Process nightly started", "running"],
        "{report}"
    );
    assert_eq!(
        steps[1][5],
        format!("{}/?message=Process%20nightly%20started", daemon.http_url()),
        "{report}"
    );

    // And the effect, over XML-RPC.
    assert_eq!(daemon.state("demo:ticker"), "STOPPED");
    assert_eq!(daemon.state("nightly"), "RUNNING");
    assert_eq!(daemon.state("demo:worker_00"), "RUNNING");

    let png = std::fs::read(&screenshot).unwrap_or_default();
    assert!(
        png.starts_with(b"\x89PNG\r\n\x1a\n") && png.len() > 1000,
        "no screenshot at {}\n{report}",
        screenshot.display()
    );
    println!("screenshot: {} ({} bytes)", screenshot.display(), png.len());
    common::stop(daemon);
}
