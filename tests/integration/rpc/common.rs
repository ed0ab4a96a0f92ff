//! Helpers shared by the XML-RPC/HTTP tests (`differential`, `http`): a
//! daemon (Python's or ours) on a config written by
//! `tests/rpc/driver.py`, the driver itself, and a line diff for readable
//! failures.

use crate::util::{pyref_bin, run_with_timeout, test_file};
pub use crate::util::{Daemon, Impl};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// How long a daemon may take to exit.
pub const START: Duration = crate::util::START;
/// The longest a driver scenario may run.
pub const SCENARIO: Duration = Duration::from_secs(240);

/// Whether the tests also run against our daemon (always, unless
/// `RPC_AGAINST_OURS=0` asks to check the tests on Python alone).
pub fn against_ours() -> bool {
    std::env::var("RPC_AGAINST_OURS").as_deref() != Ok("0")
}

/// The implementations a test runs against.
pub fn impls() -> Vec<Impl> {
    if against_ours() {
        vec![Impl::Python, Impl::Ours]
    } else {
        vec![Impl::Python]
    }
}

pub fn driver_path() -> PathBuf {
    test_file("rpc/driver.py")
}

/// Basic-auth credentials for the config and the client.
#[derive(Clone, Debug)]
pub struct Auth {
    pub user: String,
    /// What goes into the config (may be `{SHA}hex`).
    pub config_password: String,
    /// What the client sends.
    pub password: String,
}

/// A daemon on the scenario's config (written by the driver), serving
/// 127.0.0.1:port and dir/supervisor.sock.
pub fn start(which: Impl, scenario: &str, auth: Option<&Auth>) -> Daemon {
    start_with(which, scenario, auth, |_| {})
}

/// Like `start`, with a chance to edit the config file first.
pub fn start_with(
    which: Impl,
    scenario: &str,
    auth: Option<&Auth>,
    edit: impl FnOnce(&Path),
) -> Daemon {
    let mut b = Daemon::builder(which)
        .inet()
        .unix("supervisor.sock")
        .log_name("supervisord.log")
        .args(["-n"]);
    let mut cmd = Command::new(pyref_bin("python"));
    cmd.arg(driver_path())
        .arg("--config")
        .arg("--dir")
        .arg(b.dir())
        .arg("--port")
        .arg(b.port().to_string());
    if let Some(a) = auth {
        cmd.arg("--user")
            .arg(&a.user)
            .arg("--password")
            .arg(&a.config_password);
        b = b.client_auth(&a.user, &a.password);
    }
    cmd.arg(scenario);
    let (code, out, err) = run_with_timeout(&mut cmd, START);
    assert_eq!(code, Some(0), "driver --config failed:\n{out}\n{err}");
    let conf = b.dir().join("supervisord.conf");
    edit(&conf);
    b.config_file(&conf).start()
}

/// Runs a driver scenario against `url`; returns its JSON lines.
pub fn drive(d: &Daemon, url: &str, scenario: &str, auth: Option<&Auth>) -> Vec<String> {
    let mut cmd = Command::new(pyref_bin("python"));
    cmd.arg(driver_path()).arg("--dir").arg(d.dir());
    if let Some(a) = auth {
        cmd.arg("--user")
            .arg(&a.user)
            .arg("--password")
            .arg(&a.password);
    }
    cmd.arg(url).arg(scenario);
    let (code, out, err) = run_with_timeout(&mut cmd, SCENARIO);
    assert_eq!(
        code,
        Some(0),
        "driver {scenario} against {} {url} failed (None = timed out):\n{err}\n--- output so far ---\n{out}\n{}",
        d.name(),
        d.output()
    );
    out.lines().map(str::to_owned).collect()
}

/// A unified diff of two line lists (LCS; the lists are short).
pub fn unified_diff(a: &[String], b: &[String], a_name: &str, b_name: &str) -> String {
    let (n, m) = (a.len(), b.len());
    let mut lcs = vec![vec![0usize; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let mut ops = Vec::new(); // (tag, line)
    let (mut i, mut j) = (0, 0);
    while i < n || j < m {
        if i < n && j < m && a[i] == b[j] {
            ops.push((' ', &a[i]));
            i += 1;
            j += 1;
        } else if i < n && (j == m || lcs[i + 1][j] >= lcs[i][j + 1]) {
            ops.push(('-', &a[i]));
            i += 1;
        } else {
            ops.push(('+', &b[j]));
            j += 1;
        }
    }
    let mut out = format!("--- {a_name}\n+++ {b_name}\n");
    const CONTEXT: usize = 2;
    let changed: Vec<usize> = (0..ops.len()).filter(|&k| ops[k].0 != ' ').collect();
    let mut k = 0;
    while k < changed.len() {
        let start = changed[k].saturating_sub(CONTEXT);
        let mut end = changed[k];
        while k < changed.len() && changed[k] <= end + 2 * CONTEXT + 1 {
            end = changed[k];
            k += 1;
        }
        let end = (end + CONTEXT + 1).min(ops.len());
        out.push_str(&format!("@@ lines {}..{} @@\n", start + 1, end));
        for (tag, line) in &ops[start..end] {
            out.push_str(&format!("{tag}{line}\n"));
        }
    }
    out
}

/// Failed checks collected so a test reports all of them, not the first.
#[derive(Default)]
pub struct Problems(Vec<String>);

impl Problems {
    pub fn check(&mut self, ok: bool, what: impl FnOnce() -> String) -> bool {
        if !ok {
            let w = what();
            eprintln!("PROBLEM: {w}");
            self.0.push(w);
        }
        ok
    }

    pub fn finish(self) {
        assert!(
            self.0.is_empty(),
            "{} problem(s):\n{}",
            self.0.len(),
            self.0.join("\n")
        );
    }
}
