//! The shipped configurations: the sample `echo_supervisord_conf` prints
//! and the two files under `conf/`. Each must be accepted by our loader and
//! by Python Supervisor, and our loader must accept Python's own sample.

use crate::util;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;
use util::{
    free_port, our_bin, our_bin_as, pyref_venv, repo_root, temp_dir, Daemon, DaemonBuilder, Impl,
};

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {}", path.display(), e))
}

fn write(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap_or_else(|e| panic!("write {}: {}", path.display(), e));
}

/// Replaces `from` with `to`, insisting that `from` occurs, so a config
/// change cannot silently leave a real path in the copy under test.
fn rewrite(text: &str, from: &str, to: &str) -> String {
    assert!(
        text.contains(from),
        "expected {:?} in the config to rewrite it",
        from
    );
    text.replace(from, to)
}

/// `supervisord --check-config -c FILE` from the repo root; returns stdout
/// after asserting exit 0.
fn our_check(file: &Path) -> String {
    let (code, out, err) = util::run_with_timeout(
        Command::new(our_bin())
            .arg("--check-config")
            .arg("-c")
            .arg(file)
            .current_dir(repo_root()),
        Duration::from_secs(20),
    );
    assert_eq!(
        code,
        Some(0),
        "our loader rejected {}\nstdout:\n{}\nstderr:\n{}",
        file.display(),
        out,
        err
    );
    out
}

/// Runs Python's supervisord in the foreground on `conf` (a file in the
/// builder's dir, whose paths must already point there), waits until it
/// reports that it started, then asks it to shut down with SIGTERM so it
/// stops its children (which live in process groups of their own) before
/// it exits. Returns the stopped daemon, which holds its dir.
fn python_accepts(b: DaemonBuilder, conf: &Path) -> Daemon {
    let mut d = b
        .config_file(conf)
        .log_name("supervisord.log")
        .args(["-n"])
        .start();
    assert!(
        d.stop().is_some(),
        "Python supervisord did not stop on SIGTERM on {}\n{}",
        conf.display(),
        d.output()
    );
    d
}

/// Python's own sample, found in the installed reference package whatever
/// the Python version of the venv.
fn python_sample_conf() -> PathBuf {
    let lib = pyref_venv().join("lib");
    let mut found: Vec<PathBuf> = std::fs::read_dir(&lib)
        .unwrap_or_else(|e| panic!("read {}: {}", lib.display(), e))
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("python"))
        .map(|e| e.path().join("site-packages/supervisor/skel/sample.conf"))
        .filter(|p| p.is_file())
        .collect();
    found.sort();
    found
        .pop()
        .unwrap_or_else(|| panic!("no supervisor/skel/sample.conf under {}", lib.display()))
}

#[test]
fn echo_supervisord_conf_prints_the_sample() {
    let dir = temp_dir();
    let bin = our_bin_as(dir.path(), "echo_supervisord_conf");
    let (code, out, err) = util::run_with_timeout(&mut Command::new(bin), Duration::from_secs(20));
    assert_eq!(code, Some(0), "stderr: {}", err);
    let expected = read(&repo_root().join("src/config/sample.conf"));
    assert_eq!(out, expected);
    assert!(err.is_empty(), "unexpected stderr: {}", err);
}

#[test]
fn sample_shows_every_section() {
    let sample = read(&repo_root().join("src/config/sample.conf"));
    for header in [
        "[unix_http_server]",
        "[supervisord]",
        "[rpcinterface:supervisor]",
        "[supervisorctl]",
        ";[inet_http_server]",
        ";[program:",
        ";[eventlistener:",
        ";[group:",
        ";[fcgi-program:",
        ";[include]",
    ] {
        assert!(sample.contains(header), "sample lacks {}", header);
    }
    assert!(sample.len() < 12 * 1024, "sample is {} bytes", sample.len());
}

#[test]
fn sample_is_valid_for_both_loaders() {
    let dir = temp_dir();
    let bin = our_bin_as(dir.path(), "echo_supervisord_conf");
    let (code, sample, err) =
        util::run_with_timeout(&mut Command::new(bin), Duration::from_secs(20));
    assert_eq!(code, Some(0), "stderr: {}", err);

    let ours = dir.path().join("sample.conf");
    write(&ours, &sample);
    our_check(&ours);

    // Python gets a copy whose socket, log and pid file live in its dir.
    let py = Daemon::builder(Impl::Python);
    let py_dir = py.dir().to_path_buf();
    let moved = rewrite(&sample, "/tmp/", &format!("{}/", py_dir.display()));
    let py_conf = py_dir.join("sample.conf");
    write(&py_conf, &moved);
    let _stopped = python_accepts(py, &py_conf);
    assert!(py_dir.join("supervisord.log").exists());
}

/// Every commented-out example in the sample, switched on at once, must be
/// valid for both loaders: the documented values are real ones. Only what
/// depends on the machine is replaced (accounts, programs, paths, port).
#[test]
fn sample_with_every_example_enabled_is_valid_for_both_loaders() {
    let py = Daemon::builder(Impl::Python);
    let dir = py.dir().to_path_buf();
    let sample = read(&repo_root().join("src/config/sample.conf"));
    let mut enabled = String::new();
    for line in sample.lines() {
        let body = line.strip_prefix(';').unwrap_or(line);
        let is_setting = body.starts_with('[')
            || body
                .split_once('=')
                .map(|(k, _)| {
                    let k = k.trim_end();
                    !k.is_empty()
                        && k.chars()
                            .all(|c| c.is_ascii_lowercase() || c == '_' || c == '.')
                })
                .unwrap_or(false);
        enabled.push_str(if is_setting { body } else { line });
        enabled.push('\n');
    }
    // SAFETY: getuid(2) has no preconditions.
    let uid = unsafe { libc::getuid() }.to_string();
    let text = rewrite(&enabled, "/tmp", &dir.display().to_string());
    let text = rewrite(&text, "user=supervisord", &format!("user={}", uid));
    let text = rewrite(&text, "user=nobody", &format!("user={}", uid));
    let text = rewrite(&text, "nobody:nogroup", &uid);
    let text = rewrite(&text, "/usr/bin/example -v", "/bin/cat");
    let text = rewrite(&text, "/usr/bin/example_listener", "/bin/cat");
    let text = rewrite(&text, "/usr/bin/example_fcgi", "/bin/cat");
    let text = rewrite(
        &text,
        "127.0.0.1:9001",
        &format!("127.0.0.1:{}", free_port()),
    );
    let conf = dir.join("everything.conf");
    write(&conf, &text);

    let out = our_check(&conf);
    for expect in [
        "[example_listener] priority -1",
        "example_group:example ",
        "example_group:example_fcgi_0",
        "example_group:example_fcgi_1",
    ] {
        assert!(out.contains(expect), "{:?} missing from:\n{}", expect, out);
    }
    python_accepts(py, &conf);
}

#[test]
fn our_loader_accepts_pythons_sample() {
    let out = our_check(&python_sample_conf());
    assert!(out.contains(": OK"), "{}", out);
}

#[test]
fn demo_conf_is_valid_for_both_loaders() {
    let root = repo_root();
    std::fs::create_dir_all(root.join("target/demo")).expect("create target/demo");
    let conf = root.join("conf/supervisord.conf");
    let out = our_check(Path::new("conf/supervisord.conf"));
    for expect in [
        "demo:ticker",
        "demo:worker_00",
        "demo:worker_01",
        "greeter                        manual",
    ] {
        assert!(out.contains(expect), "{:?} missing from:\n{}", expect, out);
    }

    let py = Daemon::builder(Impl::Python);
    let text = read(&conf);
    let text = rewrite(
        &text,
        "%(here)s/../target/demo",
        &py.dir().display().to_string(),
    );
    let text = rewrite(
        &text,
        "port=127.0.0.1:9001",
        &format!("port=127.0.0.1:{}", free_port()),
    );
    let py_conf = py.dir().join("supervisord.conf");
    write(&py_conf, &text);
    our_check(&py_conf);
    python_accepts(py, &py_conf);
}

#[test]
fn container_conf_is_valid_for_both_loaders() {
    let out = our_check(Path::new("conf/container.conf"));
    assert!(out.contains("app "), "{}", out);

    let py = Daemon::builder(Impl::Python);
    let text = read(&repo_root().join("conf/container.conf"));
    let text = rewrite(&text, "/tmp/", &format!("{}/", py.dir().display()));
    let py_conf = py.dir().join("container.conf");
    write(&py_conf, &text);
    our_check(&py_conf);
    python_accepts(py, &py_conf);
}
