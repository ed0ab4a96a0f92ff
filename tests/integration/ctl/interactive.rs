//! The interactive shell in a pseudo-terminal (driven by pexpect from the
//! reference venv): prompt from the config, `status` first, help, Tab
//! completion of actions and process names, history kept across runs,
//! Ctrl-D and Ctrl-C leave with status 0. The same script runs against
//! Python's supervisorctl first, so the test itself is checked.

use super::common;
use crate::util;

use common::*;
use std::path::Path;
use std::process::Command;

fn session(ctl_bin: &Path, d: &Daemon, tag: &str) {
    let conf = d.dir().join(format!("ctl-{}.conf", tag));
    let history = d.dir().join(format!("history-{}", tag));
    std::fs::write(
        &conf,
        format!(
            "[supervisorctl]\nserverurl={}\nprompt=mine\nhistory_file={}\n",
            d.unix_url(),
            history.display()
        ),
    )
    .expect("write ctl config");
    let script = util::test_file("ctl/pty_session.py");
    let mut cmd = Command::new(util::pyref_bin("python"));
    cmd.arg(&script).arg(ctl_bin).arg(&conf);
    if tag == "ours" {
        // Python's client hangs at exit after fg; ours must not.
        cmd.arg("--exits-after-fg");
    }
    let (code, out, err) = util::run_with_timeout(&mut cmd, std::time::Duration::from_secs(120));
    assert_eq!(
        code,
        Some(0),
        "{} in a pty:\n{}\n{}",
        ctl_bin.display(),
        out,
        err
    );
    let saved = std::fs::read_to_string(&history).unwrap_or_default();
    for line in ["help", "status sleeper", "version", "nosuch thing"] {
        assert!(
            saved.lines().any(|l| l.trim_end() == line),
            "{}: history file lacks {:?}:\n{}",
            ctl_bin.display(),
            line,
            saved
        );
    }
}

#[test]
fn shell_in_a_pty() {
    let d = start(Impl::Python, "");
    session(&py_ctl(), &d, "py");
    session(&our_ctl(), &d, "ours");
}
