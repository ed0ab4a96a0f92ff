//! The `envfiles` extension (the Go supervisord's `envFiles`): what a
//! program sees, the precedence against `environment` and `[supervisord]
//! environment`, bad files as config errors that name file and line, and
//! `reread` noticing a changed file. Python ignores the key (it does not
//! check unknown keys), so a config using it still loads there.

use crate::util;

use std::path::Path;
use std::process::Command;
use std::time::Duration;
use util::*;

fn write(path: &Path, text: &str) {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).expect("mkdir");
    }
    std::fs::write(path, text).expect("write");
}

/// Our daemon whose `show` program prints the four variables once, with
/// `envfiles` (relative names are relative to the config's dir). It runs
/// from the checkout, not from its dir, so a name resolved against the
/// cwd would miss.
fn daemon(envfiles: &str) -> DaemonBuilder {
    Daemon::builder(Impl::Ours)
        .supervisord("environment=A=\"sup\",D=\"sup\"")
        .unix("s.sock")
        .ctl()
        .cwd(&repo_root())
        .sections(&format!(
            "[program:show]\ncommand=sh -c 'echo \"A=$A B=$B C=$C D=$D\"; exec sleep 1000'\n\
             startsecs=0\nstdout_logfile=%(here)s/show.log\nenvironment=C=\"prog\"\nenvFiles={envfiles}\n"
        ))
}

#[test]
fn program_sees_its_files_between_its_environment_and_supervisords() {
    let b = daemon("one.env, sub/two.env");
    let d = b.dir().to_path_buf();
    write(
        &d.join("one.env"),
        "# shared\nexport A=file1\nB=file1\nC='file1'\n",
    );
    write(&d.join("sub/two.env"), "B=\"file2\" # wins over one.env\n");
    let daemon = b.start();
    let log = d.join("show.log");
    let read = || read_text(&log);
    assert!(
        wait_until(Duration::from_secs(15), || read().contains('\n')),
        "no output from show; main log:\n{}",
        daemon.log()
    );
    // The program's environment beats the files, the files beat
    // [supervisord] environment, and a later file beats an earlier one.
    assert_eq!(read(), "A=file1 B=file2 C=prog D=sup\n");

    // A changed file is a changed program for reread.
    write(&d.join("sub/two.env"), "B=changed\n");
    let (code, out, err) = run_with_timeout(
        Command::new(our_bin())
            .args(["ctl", "-c"])
            .arg(daemon.conf())
            .arg("reread"),
        Duration::from_secs(20),
    );
    assert_eq!(code, Some(0), "{out}{err}");
    assert_eq!(out, "show: changed\n");
}

#[test]
fn a_bad_line_is_a_config_error_naming_file_and_line() {
    let b = daemon("app.env");
    write(&b.dir().join("app.env"), "A=1\n\nthis is not a pair\n");
    let (code, out, err) = b.run(Duration::from_secs(20));
    assert_eq!(code, Some(2), "{out}{err}");
    let text = format!("{out}{err}");
    for want in [
        "Error: envfiles file ",
        "app.env, line 3: expected KEY=VALUE",
        "in section 'program:show'",
        "key: 'envfiles'",
    ] {
        assert!(text.contains(want), "{want:?} not in:\n{text}");
    }
}

#[test]
fn a_missing_file_is_a_config_error_naming_it() {
    let b = daemon("%(here)s/nowhere.env");
    let want = format!(
        "cannot read envfiles file {}/nowhere.env: [Errno 2] No such file or directory",
        b.dir().display()
    );
    let (code, out, err) = b.run(Duration::from_secs(20));
    assert_eq!(code, Some(2), "{out}{err}");
    let text = format!("{out}{err}");
    assert!(text.contains(&want), "{want:?} not in:\n{text}");
}
