//! The static binary alone in an empty root, as PID 1 of its own PID
//! namespace: nothing in there but the binary (and its supervisorctl
//! name), a static busybox as /bin/sh, and a config. No /etc/passwd, no
//! /tmp, no /dev, no /proc, no locale files.
//!
//! Needs `make static` (make test builds it first) and busybox-static
//! (installed here with apt-get where missing). Skips, saying why, only
//! where the machine forbids namespaces.

use crate::util;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;
use util::*;

fn static_binary() -> PathBuf {
    let p = repo_root().join("target/x86_64-unknown-linux-musl/release/supervisord");
    assert!(
        p.exists(),
        "the static binary is missing at {}: run `make static` (make test does it)",
        p.display()
    );
    p
}

fn busybox() -> PathBuf {
    let p = PathBuf::from("/bin/busybox");
    let _apt = apt_lock();
    if !p.exists() {
        let (code, out, err) = run_with_timeout(
            Command::new("apt-get").args(["install", "-y", "busybox-static"]),
            Duration::from_secs(300),
        );
        assert_eq!(
            code,
            Some(0),
            "apt-get install busybox-static failed: {out}{err}"
        );
    }
    let (_, out, _) = run_with_timeout(Command::new("file").arg(&p), Duration::from_secs(10));
    assert!(
        out.is_empty() || out.contains("statically linked"),
        "{} is not static: {out}",
        p.display()
    );
    p
}

const CONF: &str = r#"[supervisord]
logfile=/supervisord.log
pidfile=/supervisord.pid
nodaemon=true
loglevel=debug

[unix_http_server]
file=/supervisor.sock

[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

[supervisorctl]
serverurl=unix:///supervisor.sock

[program:reader]
command=/bin/sh -c 'echo started; read x'

[program:orphaner]
command=/supervisord -c /inner.conf
autorestart=false
startsecs=0
"#;

/// A second supervisord that daemonizes: its first process exits at once
/// and the daemon lives on as an orphan re-parented to PID 1. (busybox sh
/// cannot make a background job here: it needs /dev/null for one.)
const INNER: &str =
    "[supervisord]\nlogfile=/inner.log\npidfile=/inner.pid\nidentifier=inner\nnocleanup=true\n";

const SECOND: &str = r#"
[program:second]
command=/bin/sh -c 'read x'
"#;

fn make_root(dir: &Path) {
    std::fs::copy(static_binary(), dir.join("supervisord")).expect("copy binary");
    std::os::unix::fs::symlink("supervisord", dir.join("supervisorctl")).expect("ctl link");
    std::fs::create_dir(dir.join("bin")).expect("bin");
    std::fs::copy(busybox(), dir.join("bin/sh")).expect("copy busybox");
    std::fs::write(dir.join("supervisord.conf"), CONF).expect("config");
    std::fs::write(dir.join("inner.conf"), INNER).expect("inner config");
}

/// Whether this machine lets us make mount and PID namespaces.
fn namespaces_allowed(root: &Path) -> Result<(), String> {
    let (code, out, err) = run_with_timeout(
        Command::new("unshare")
            .args(["--mount", "--pid", "--fork"])
            .arg(format!("--root={}", root.display()))
            .args(["/supervisord", "-v"]),
        Duration::from_secs(20),
    );
    if code == Some(0) {
        Ok(())
    } else {
        Err(format!(
            "unshare exited {:?}: {}{}",
            code,
            out.trim(),
            err.trim()
        ))
    }
}

fn children_of(pid: i32) -> Vec<(i32, char)> {
    let mut out = Vec::new();
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return out;
    };
    for e in dir.flatten() {
        let Some(p) = e.file_name().to_str().and_then(|s| s.parse::<i32>().ok()) else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{}/stat", p)) else {
            continue;
        };
        let Some((_, rest)) = stat.rsplit_once(')') else {
            continue;
        };
        let mut fields = rest.split_whitespace();
        let state = fields.next().and_then(|s| s.chars().next()).unwrap_or('?');
        let ppid = fields.next().and_then(|s| s.parse::<i32>().ok());
        if ppid == Some(pid) {
            out.push((p, state));
        }
    }
    out
}

fn log(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("supervisord.log")).unwrap_or_default()
}

fn ctl(sup: i32, args: &[&str]) -> (Option<i32>, String, String) {
    run_with_timeout(
        Command::new("nsenter")
            .arg(format!("--target={}", sup))
            .args(["--mount", "--pid", "--root", "/supervisorctl"])
            .args(args),
        Duration::from_secs(20),
    )
}

#[test]
fn runs_alone_as_pid_1_of_an_empty_root() {
    let tmp = temp_dir();
    let root_dir = tmp.path().join("root");
    std::fs::create_dir(&root_dir).expect("root dir");
    let root = root_dir.as_path();
    make_root(root);
    if let Err(why) = namespaces_allowed(root) {
        eprintln!(
            "skipped: this machine does not allow mount+PID namespaces with a new root: {why}"
        );
        return;
    }
    let out = std::fs::File::create(tmp.path().join("console.txt")).expect("console file");
    let mut guard = Guard::spawn(
        Command::new("unshare")
            .args(["--mount", "--pid", "--fork"])
            .arg(format!("--root={}", root.display()))
            .args(["/supervisord", "-n", "-c", "/supervisord.conf"])
            .stdin(Stdio::null())
            .stdout(out.try_clone().expect("dup"))
            .stderr(out),
    );
    // supervisord is unshare's only child.
    let mut sup = 0;
    assert!(
        wait_until(Duration::from_secs(10), || {
            sup = children_of(guard.pid()).first().map(|c| c.0).unwrap_or(0);
            sup != 0
        }),
        "supervisord did not start"
    );
    assert!(
        wait_until(Duration::from_secs(15), || log(root)
            .contains("success: reader entered RUNNING state")),
        "reader never ran; log:\n{}",
        log(root)
    );
    let text = log(root);
    assert!(text.contains("supervisord started with pid 1"), "{text}");
    // Without /tmp the AUTO child logs go to the current directory, as
    // Python's tempfile.gettempdir() falls back to it.
    let autos = std::fs::read_dir(root)
        .expect("root")
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("reader-stdout---")
        })
        .count();
    assert_eq!(autos, 1, "AUTO log of reader in /");

    // The orphaner's daemon is re-parented to us; once it exits it is
    // reaped: no zombie, only reader left.
    let is_inner = |pid: i32| {
        std::fs::read(format!("/proc/{}/cmdline", pid))
            .map(|c| String::from_utf8_lossy(&c).contains("inner.conf"))
            .unwrap_or(false)
    };
    let mut inner = 0;
    assert!(
        wait_until(Duration::from_secs(10), || {
            inner = children_of(sup)
                .into_iter()
                .map(|k| k.0)
                .find(|&p| is_inner(p))
                .unwrap_or(0);
            inner != 0
                && std::fs::read_to_string(root.join("inner.log"))
                    .is_ok_and(|l| l.contains("supervisord started"))
        }),
        "no orphaned inner daemon; children of PID 1: {:?}; log:\n{}",
        children_of(sup),
        log(root)
    );
    signal(inner, libc::SIGTERM);
    assert!(
        wait_until(Duration::from_secs(10), || {
            let kids = children_of(sup);
            kids.len() == 1 && kids.iter().all(|k| k.1 != 'Z')
        }),
        "children of PID 1: {:?}",
        children_of(sup)
    );
    assert!(log(root).contains("reaped unknown pid"), "{}", log(root));

    // supervisorctl, the same binary by another name, over the socket.
    let (code, out, err) = ctl(sup, &["status"]);
    assert!(
        out.contains("reader") && out.contains("RUNNING"),
        "status: {out}{err}"
    );
    assert!(
        out.contains("orphaner") && out.contains("EXITED"),
        "status: {out}{err}"
    );
    assert_eq!(
        code,
        Some(3),
        "status exits 3 when a process is not running: {out}{err}"
    );

    // HUP: same pid, re-read config.
    let mut conf = CONF.to_string();
    conf.push_str(SECOND);
    std::fs::write(root.join("supervisord.conf"), conf).expect("new config");
    signal(sup, libc::SIGHUP);
    assert!(
        wait_until(Duration::from_secs(15), || log(root)
            .contains("success: second entered RUNNING state")),
        "no restart; log:\n{}",
        log(root)
    );
    let (_, out, err) = ctl(sup, &["status", "second"]);
    assert!(
        out.contains("second") && out.contains("RUNNING"),
        "{out}{err}"
    );

    // TERM: everything stops, exit 0, nothing left.
    signal(sup, libc::SIGTERM);
    let status = guard
        .wait_exit(Duration::from_secs(20))
        .expect("supervisord exits on TERM");
    assert_eq!(status.code(), Some(0), "log:\n{}", log(root));
    assert!(children_of(sup).is_empty());
    assert!(
        !root.join("supervisor.sock").exists(),
        "socket removed at exit"
    );
}
