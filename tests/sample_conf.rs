//! The shipped configurations: the sample `echo_supervisord_conf` prints
//! and the two files under `conf/`. Each must be accepted by our loader and
//! by Python Supervisor, and our loader must accept Python's own sample.

mod util;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;
use util::{free_port, our_bin, our_bin_as, pyref_bin, pyref_venv, temp_dir, wait_until, Guard};

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

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

/// Runs Python's supervisord in the foreground on `conf` (whose paths must
/// already point into `dir`), waits until it reports that it started, then
/// asks it to shut down with SIGTERM so it stops its children (which live
/// in process groups of their own) before it exits.
fn python_accepts(conf: &Path, dir: &Path) {
    let out_path = dir.join("py.stdout");
    let err_path = dir.join("py.stderr");
    let mut cmd = Command::new(pyref_bin("supervisord"));
    cmd.arg("-n")
        .arg("-c")
        .arg(conf)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out_path).expect("create py.stdout"))
        .stderr(std::fs::File::create(&err_path).expect("create py.stderr"));
    let mut g = Guard::spawn(&mut cmd);
    let mut exited = None;
    let started = wait_until(Duration::from_secs(15), || {
        if let Ok(Some(st)) = g.child.try_wait() {
            exited = Some(st);
            return true;
        }
        std::fs::read_to_string(&out_path)
            .map(|s| s.contains("supervisord started with pid"))
            .unwrap_or(false)
    });
    let output = || {
        format!(
            "stdout:\n{}\nstderr:\n{}",
            std::fs::read_to_string(&out_path).unwrap_or_default(),
            std::fs::read_to_string(&err_path).unwrap_or_default()
        )
    };
    if let Some(st) = exited {
        panic!(
            "Python supervisord exited ({}) on {}\n{}",
            st,
            conf.display(),
            output()
        );
    }
    assert!(
        started,
        "Python supervisord did not report starting on {}\n{}",
        conf.display(),
        output()
    );
    // SAFETY: kill(2) on the pid of a child this test spawned.
    unsafe {
        libc::kill(g.pid(), libc::SIGTERM);
    }
    let st = g.wait_exit(Duration::from_secs(30));
    assert!(
        st.is_some(),
        "Python supervisord did not stop on SIGTERM\n{}",
        output()
    );
    // Dropping the guard kills anything left in its process group.
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

    // Python gets a copy whose socket, log and pid file live in the temp dir.
    let py_dir = dir.path().join("py");
    std::fs::create_dir(&py_dir).expect("create py dir");
    let moved = rewrite(&sample, "/tmp/", &format!("{}/", py_dir.display()));
    let py_conf = py_dir.join("sample.conf");
    write(&py_conf, &moved);
    python_accepts(&py_conf, &py_dir);
    assert!(py_dir.join("supervisord.log").exists());
}

/// Every commented-out example in the sample, switched on at once, must be
/// valid for both loaders: the documented values are real ones. Only what
/// depends on the machine is replaced (accounts, programs, paths, port).
#[test]
fn sample_with_every_example_enabled_is_valid_for_both_loaders() {
    let dir = temp_dir();
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
    let text = rewrite(&enabled, "/tmp", &dir.path().display().to_string());
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
    let conf = dir.path().join("everything.conf");
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
    python_accepts(&conf, dir.path());
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

    let dir = temp_dir();
    let text = read(&conf);
    let text = rewrite(
        &text,
        "%(here)s/../target/demo",
        &dir.path().display().to_string(),
    );
    let text = rewrite(
        &text,
        "port=127.0.0.1:9001",
        &format!("port=127.0.0.1:{}", free_port()),
    );
    let py_conf = dir.path().join("supervisord.conf");
    write(&py_conf, &text);
    our_check(&py_conf);
    python_accepts(&py_conf, dir.path());
}

#[test]
fn container_conf_is_valid_for_both_loaders() {
    let out = our_check(Path::new("conf/container.conf"));
    assert!(out.contains("app "), "{}", out);

    let dir = temp_dir();
    let text = read(&repo_root().join("conf/container.conf"));
    let text = rewrite(&text, "/tmp/", &format!("{}/", dir.path().display()));
    let py_conf = dir.path().join("container.conf");
    write(&py_conf, &text);
    our_check(&py_conf);
    python_accepts(&py_conf, dir.path());
}
