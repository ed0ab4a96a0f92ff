//! A page on another site cannot act on the daemon through the user's
//! browser: tests/web/cross_site.mjs serves such a page on another port,
//! opens it in headless Chromium, and the page at once loads Python's GET
//! action link for one program (as an image) and auto-submits a form POST
//! stopping another. The daemon answers both with 403, and both programs
//! still run. (The same actions from the daemon's own page work: see
//! browser.rs.)

use super::browser::{ensure_chromium, ensure_playwright, pids_naming, web_dir};
use crate::util::{self, run_with_timeout, Daemon, Impl};
use std::process::Command;
use std::time::Duration;

#[test]
fn a_page_on_another_site_cannot_stop_a_program() {
    ensure_chromium();
    ensure_playwright();
    let daemon = Daemon::builder(Impl::Ours)
        .inet()
        .sections(
            "[program:posted]\ncommand=sleep 1000\nstartsecs=0\n\
             [program:linked]\ncommand=sleep 1000\nstartsecs=0\n",
        )
        .start();
    daemon.wait_state("posted", "RUNNING");
    daemon.wait_state("linked", "RUNNING");

    let profile = util::temp_dir();
    let user_data_dir = profile.path().join("chromium-profile");
    let (code, out, err) = run_with_timeout(
        Command::new("node")
            .arg(web_dir().join("cross_site.mjs"))
            .arg(daemon.http_url())
            .arg(&user_data_dir)
            .arg("posted")
            .arg("linked")
            .current_dir(web_dir()),
        Duration::from_secs(120),
    );
    for pid in pids_naming(&user_data_dir.display().to_string()) {
        util::signal(pid, libc::SIGKILL);
    }
    let report = format!("--- browser stdout\n{out}--- browser stderr\n{err}");
    assert_eq!(code, Some(0), "cross_site.mjs exited {code:?}\n{report}");
    let answers: Vec<Vec<&str>> = out
        .lines()
        .map(|l| l.split('\t').collect::<Vec<_>>())
        .filter(|f| f[0] == "answer")
        .collect();
    let post = answers.iter().find(|f| f[1] == "POST");
    assert!(
        post.is_some_and(|f| f.get(3) == Some(&"403")),
        "the form POST was not refused\n{report}"
    );
    let get = answers
        .iter()
        .find(|f| f[1] == "GET" && f[2].contains("action=stop"));
    assert!(
        get.is_some_and(|f| f.get(3) == Some(&"403")),
        "the action link was not refused\n{report}"
    );
    assert!(
        !out.lines().any(|l| l.starts_with("blocked")),
        "requests left 127.0.0.1\n{report}"
    );
    assert_eq!(daemon.state("posted"), "RUNNING", "{report}");
    assert_eq!(daemon.state("linked"), "RUNNING", "{report}");
    assert!(
        daemon.log().contains("refused a cross-site request"),
        "the refusal is not logged"
    );
}
