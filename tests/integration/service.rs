//! `supervisord service install|uninstall|start|stop`, `supervisord init`
//! and `supervisord --env-file` (the Go supervisord's set-up commands).
//! Units are only ever written under a temp `--root`, and start/stop run
//! fake `systemctl`/`rc-service` scripts: PATH holds nothing else, so no
//! test can reach the machine's service manager.

use crate::util;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;
use util::*;

const T: Duration = Duration::from_secs(20);

fn write(path: &Path, text: &str) {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).expect("mkdir");
    }
    std::fs::write(path, text).expect("write");
}

/// `supervisord ARGS` run in `cwd`.
fn sv(cwd: &Path, args: &[&str]) -> (Option<i32>, String, String) {
    run_with_timeout(Command::new(our_bin()).args(args).current_dir(cwd), T)
}

/// A temp dir (by its real path, as getcwd reports it) holding a small
/// valid config `s.conf` and an env file `a.env`.
fn setup() -> (tempfile::TempDir, PathBuf) {
    let dir = temp_dir();
    let real = std::fs::canonicalize(dir.path()).expect("canonical temp dir");
    write(
        &real.join("s.conf"),
        "[supervisord]\n[program:slow]\ncommand=sleep 1000\nstopwaitsecs=100\n",
    );
    write(&real.join("a.env"), "export A=1\n");
    (dir, real)
}

/// The path the unit must run: this test run's binary, symlinks resolved
/// (/proc/self/exe).
fn exe() -> String {
    std::fs::canonicalize(our_bin())
        .expect("our binary")
        .display()
        .to_string()
}

#[test]
fn install_writes_a_systemd_unit_for_this_binary_and_refuses_to_overwrite_it() {
    let (_guard, d) = setup();
    let root = d.join("root");
    let root_s = root.display().to_string();
    // Relative -c and --env-file: the unit gets them absolute.
    let (code, out, err) = sv(
        &d,
        &[
            "service",
            "install",
            "-c",
            "s.conf",
            "--env-file",
            "a.env",
            "--root",
            &root_s,
        ],
    );
    assert_eq!(code, Some(0), "{out}{err}");
    assert_eq!(out, "Succeed to install service go-supervisord\n");
    assert_eq!(err, "");
    let unit_path = root.join("etc/systemd/system/go-supervisord.service");
    let unit = read_text(&unit_path);
    let exec = format!(
        "ExecStart={} -n -c {}/s.conf --env-file {}/a.env",
        exe(),
        d.display(),
        d.display()
    );
    let lines: Vec<&str> = unit.lines().collect();
    for want in [
        exec.as_str(),
        "Type=simple",
        "KillMode=mixed",
        // 100 s of stopwaitsecs for the one group, + 2 + 10.
        "TimeoutStopSec=112",
        "Restart=on-failure",
        "WantedBy=multi-user.target",
    ] {
        assert!(lines.contains(&want), "{want:?} missing from:\n{unit}");
    }
    let mode = std::fs::metadata(&unit_path)
        .expect("unit")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o644);
    let link = root.join("etc/systemd/system/multi-user.target.wants/go-supervisord.service");
    assert_eq!(
        std::fs::read_link(&link).expect("enabled"),
        Path::new("/etc/systemd/system/go-supervisord.service")
    );

    // A second install is refused with kardianos/service's words and
    // leaves the unit as it was.
    let (code, out, err) = sv(
        &d,
        &["service", "install", "-c", "s.conf", "--root", &root_s],
    );
    assert_eq!(code, Some(1), "{out}{err}");
    assert_eq!(out, "");
    assert_eq!(
        err,
        format!(
            "Failed to install service go-supervisord: Init already exists: {}\n",
            unit_path.display()
        )
    );
    assert_eq!(read_text(&unit_path), unit);

    // uninstall removes the unit and its boot link; a second one fails
    // with Go's words.
    let (code, out, err) = sv(&d, &["service", "uninstall", "--root", &root_s]);
    assert_eq!(code, Some(0), "{out}{err}");
    assert_eq!(out, "Succeed to uninstall service go-supervisord\n");
    assert!(!unit_path.exists());
    assert!(link.symlink_metadata().is_err());
    let (code, out, err) = sv(&d, &["service", "uninstall", "--root", &root_s]);
    assert_eq!(code, Some(1), "{out}{err}");
    assert_eq!(
        err,
        format!(
            "Failed to uninstall service go-supervisord: remove {}: no such file or directory\n",
            unit_path.display()
        )
    );
}

#[test]
fn install_writes_an_openrc_script_where_openrc_run_exists() {
    let (_guard, d) = setup();
    let root = d.join("root");
    write(&root.join("sbin/openrc-run"), "#!/bin/sh\n");
    let root_s = root.display().to_string();
    let conf = d.join("s.conf").display().to_string();
    let (code, out, err) = sv(
        &d,
        &[
            "service",
            "install",
            "--root",
            &root_s,
            "--configuration",
            &conf,
            "--env-file=a.env",
        ],
    );
    assert_eq!(code, Some(0), "{out}{err}");
    assert_eq!(out, "Succeed to install service go-supervisord\n");
    let script_path = root.join("etc/init.d/go-supervisord");
    let script = read_text(&script_path);
    assert!(script.starts_with("#!/sbin/openrc-run\n"), "{script}");
    let lines: Vec<&str> = script.lines().collect();
    let command = format!("command=\"{}\"", exe());
    let args = format!(
        "command_args=\"-n -c {}/s.conf --env-file {}/a.env\"",
        d.display(),
        d.display()
    );
    for want in [
        command.as_str(),
        args.as_str(),
        "supervisor=supervise-daemon",
        "pidfile=\"/run/${RC_SVCNAME}.pid\"",
        "retry=\"TERM/112/KILL/5\"",
        "depend() {",
        "\tneed net",
    ] {
        assert!(lines.contains(&want), "{want:?} missing from:\n{script}");
    }
    let mode = std::fs::metadata(&script_path)
        .expect("script")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o755);
    let link = root.join("etc/runlevels/default/go-supervisord");
    assert_eq!(
        std::fs::read_link(&link).expect("in the default runlevel"),
        Path::new("/etc/init.d/go-supervisord")
    );

    let (code, _, err) = sv(&d, &["service", "install", "--root", &root_s, "-c", &conf]);
    assert_eq!(code, Some(1));
    assert!(err.contains("Init already exists: "), "{err}");

    let (code, out, err) = sv(&d, &["service", "uninstall", "--root", &root_s]);
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(!script_path.exists() && link.symlink_metadata().is_err());
}

#[test]
fn install_finds_the_config_as_the_daemon_does_and_checks_it() {
    let (_guard, d) = setup();
    let root_s = d.join("root").display().to_string();
    // No -c: ./supervisord.conf of the search order, made absolute.
    std::fs::copy(d.join("s.conf"), d.join("supervisord.conf")).expect("copy");
    let (code, out, err) = sv(&d, &["service", "install", "--root", &root_s]);
    assert_eq!(code, Some(0), "{out}{err}");
    let unit = read_text(&d.join("root/etc/systemd/system/go-supervisord.service"));
    assert!(
        unit.contains(&format!(" -n -c {}/supervisord.conf\n", d.display())),
        "{unit}"
    );

    // A config that does not load, a missing one, a bad env file: no
    // unit is written, and the message says why.
    let other = d.join("other");
    let other_s = other.display().to_string();
    write(&d.join("bad.conf"), "[program:x]\n");
    write(&d.join("bad.env"), "A=1\nnot a pair\n");
    for (args, want) in [
        (
            vec!["-c", "bad.conf"],
            "Failed to install service go-supervisord: ".to_string(),
        ),
        (
            vec!["-c", "missing.conf"],
            format!(
                "Failed to install service go-supervisord: could not find config file {}/missing.conf\n",
                d.display()
            ),
        ),
        (
            vec!["-c", "s.conf", "--env-file", "bad.env"],
            format!(
                "Failed to install service go-supervisord: --env-file {}/bad.env, line 2: expected KEY=VALUE",
                d.display()
            ),
        ),
    ] {
        let mut all = vec!["service", "install", "--root", &other_s];
        all.extend(args);
        let (code, out, err) = sv(&d, &all);
        assert_eq!(code, Some(1), "{all:?}: {out}{err}");
        assert!(err.starts_with(&want), "{all:?}: {err}");
        assert!(!other.join("etc/systemd/system/go-supervisord.service").exists());
    }
}

#[test]
fn no_or_a_bad_action_prints_gos_usage() {
    let (_guard, d) = setup();
    for args in [
        &["service"][..],
        &["service", "restart"][..],
        &["service", "install", "extra"][..],
        &["service", "-c", "s.conf"][..],
    ] {
        let (code, out, err) = sv(&d, args);
        assert_eq!(code, Some(2), "{args:?}: {out}{err}");
        assert_eq!(out, "");
        assert_eq!(
            err,
            "usage: supervisord service install/uninstall/start/stop\n"
        );
    }
    let (code, out, err) = sv(&d, &["service", "install", "--bogus"]);
    assert_eq!(code, Some(2), "{out}{err}");
    assert!(
        err.starts_with("Error: option --bogus not recognized\nFor help, use "),
        "{err}"
    );
    let (code, out, _) = sv(&d, &["service", "--help"]);
    assert_eq!(code, Some(0));
    assert!(out.contains("--root DIRECTORY -- "), "{out}");
}

/// A dir holding fake `systemctl` and `rc-service` that log their
/// arguments and exit with `code`.
fn fake_managers(dir: &Path, code: i32) -> PathBuf {
    let bin = dir.join("fakebin");
    for name in ["systemctl", "rc-service"] {
        let path = bin.join(name);
        write(
            &path,
            &format!(
                "#!/bin/sh\necho \"{name} $*\" >> '{}'\nexit {code}\n",
                dir.join("calls.log").display()
            ),
        );
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    bin
}

/// What start/stop must run on this machine: systemctl, unless OpenRC
/// is installed and systemd is not the running init.
fn expected_call(action: &str) -> String {
    let openrc =
        Path::new("/sbin/openrc-run").exists() && !Path::new("/run/systemd/system").is_dir();
    if openrc {
        format!("rc-service go-supervisord {action}\n")
    } else {
        format!("systemctl {action} go-supervisord.service\n")
    }
}

#[test]
fn start_and_stop_ask_the_service_manager() {
    let (_guard, d) = setup();
    let bin = fake_managers(&d, 0);
    for action in ["start", "stop"] {
        let _ = std::fs::remove_file(d.join("calls.log"));
        let (code, out, err) = run_with_timeout(
            Command::new(our_bin())
                .args(["service", action])
                .env("PATH", &bin)
                .current_dir(&d),
            T,
        );
        assert_eq!(code, Some(0), "{out}{err}");
        assert_eq!(out, format!("Succeed to {action} service go-supervisord\n"));
        assert_eq!(read_text(&d.join("calls.log")), expected_call(action));
    }

    // The manager's failure is ours, in Go's words (which name no service).
    let failing = temp_dir();
    let bin = fake_managers(failing.path(), 5);
    let (code, out, err) = run_with_timeout(
        Command::new(our_bin())
            .args(["service", "stop"])
            .env("PATH", &bin)
            .current_dir(&d),
        T,
    );
    assert_eq!(code, Some(1), "{out}{err}");
    assert!(err.starts_with("Failed to stop service: `"), "{err}");
    assert!(err.contains("exit status: 5"), "{err}");

    // With --root nothing is run: the message names the command instead.
    let _ = std::fs::remove_file(d.join("calls.log"));
    let root_s = d.join("root").display().to_string();
    let (code, out, err) = run_with_timeout(
        Command::new(our_bin())
            .args(["service", "start", "--root", &root_s])
            .env("PATH", &bin)
            .current_dir(&d),
        T,
    );
    assert_eq!(code, Some(1), "{out}{err}");
    assert_eq!(
        err,
        format!(
            "Failed to start service: --root {root_s} is not the running system; run `systemctl start go-supervisord.service` there\n"
        )
    );
    assert!(!d.join("calls.log").exists());
}

#[test]
fn init_prints_what_echo_supervisord_conf_prints() {
    let dir = temp_dir();
    let echo = our_bin_as(dir.path(), "echo_supervisord_conf");
    let (code, sample, _) = run_with_timeout(&mut Command::new(echo), T);
    assert_eq!(code, Some(0));
    let (code, out, err) = sv(dir.path(), &["init"]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(err, "");
    assert!(out == sample, "init differs from echo_supervisord_conf");
    assert!(out.contains("[supervisord]"));

    // -o FILE: the same bytes, nothing on stdout.
    let (code, out, err) = sv(dir.path(), &["init", "-o", "new.conf"]);
    assert_eq!((code, out.as_str(), err.as_str()), (Some(0), "", ""));
    assert!(read_text(&dir.path().join("new.conf")) == sample);

    // An existing file is left alone (the Go supervisord truncates it).
    write(&dir.path().join("mine.conf"), "[supervisord]\n");
    let (code, out, err) = sv(dir.path(), &["init", "--output", "mine.conf"]);
    assert_eq!(code, Some(1), "{out}{err}");
    assert_eq!(err, "Error: mine.conf already exists; not overwriting it\n");
    assert_eq!(read_text(&dir.path().join("mine.conf")), "[supervisord]\n");

    // A write error names the file.
    let (code, _, err) = sv(dir.path(), &["init", "-o", "no/such/dir.conf"]);
    assert_eq!(code, Some(1));
    assert!(
        err.starts_with("Error: cannot write no/such/dir.conf: "),
        "{err}"
    );
    let (code, _, err) = sv(dir.path(), &["init", "x"]);
    assert_eq!(code, Some(2));
    assert!(
        err.starts_with("Error: positional arguments are not supported: ['x']\n"),
        "{err}"
    );
}

#[test]
fn env_file_feeds_the_config_and_the_programs() {
    let b = Daemon::builder(Impl::Ours).unix("s.sock").sections(
        "[program:show]\n\
             command=sh -c 'echo \"X=%(ENV_SVT_X)s Y=$SVT_Y Z=$Z\"; exec sleep 1000'\n\
             startsecs=0\nstdout_logfile=%(here)s/show.log\n\
             environment=Z=\"%(ENV_SVT_Z)s\"\n",
    );
    let dir = b.dir().to_path_buf();
    let env = dir.join("svt.env");
    write(
        &env,
        "# for the test\nexport SVT_X=from-file\nSVT_Y='quoted # kept'\nSVT_Z=\"z\" # a comment\n",
    );
    let env_s = env.display().to_string();
    // The file beats what supervisord inherited.
    let daemon = b
        .args(["--env-file", &env_s])
        .prepare(|c| {
            c.env("SVT_X", "inherited");
        })
        .start();
    let log = dir.join("show.log");
    assert!(
        wait_until(T, || read_text(&log).contains('\n')),
        "no output from show; main log:\n{}",
        daemon.log()
    );
    assert_eq!(read_text(&log), "X=from-file Y=quoted # kept Z=z\n");
    assert_eq!(daemon.state("show"), "RUNNING");

    // The variables outlive a HUP restart, and the file is not read again.
    write(&env, "SVT_X=changed\nSVT_Y=changed\nSVT_Z=changed\n");
    daemon.signal(libc::SIGHUP);
    assert!(
        wait_until(T, || read_text(&log).lines().count() == 2),
        "show did not start again; main log:\n{}",
        daemon.log()
    );
    assert_eq!(
        read_text(&log),
        "X=from-file Y=quoted # kept Z=z\nX=from-file Y=quoted # kept Z=z\n"
    );
}

#[test]
fn a_bad_env_file_is_a_usage_error_naming_file_and_line() {
    let dir = temp_dir();
    let conf = dir.path().join("s.conf");
    write(&conf, "[supervisord]\n");
    let bad = dir.path().join("bad.env");
    write(&bad, "A=1\n\nthis is not a pair\n");
    let missing = dir.path().join("missing.env");
    for (file, want) in [
        (
            &bad,
            format!(
                "Error: --env-file {}, line 3: expected KEY=VALUE",
                bad.display()
            ),
        ),
        (
            &missing,
            format!(
                "Error: cannot read --env-file {}: [Errno 2] No such file or directory\n",
                missing.display()
            ),
        ),
    ] {
        let (code, out, err) = run_with_timeout(
            Command::new(our_bin())
                .arg("-n")
                .arg("-c")
                .arg(&conf)
                .arg("--env-file")
                .arg(file)
                .current_dir(dir.path()),
            T,
        );
        assert_eq!(code, Some(2), "{out}{err}");
        assert!(err.starts_with(&want), "{err}");
        assert!(err.contains("\nFor help, use "), "{err}");
    }
    let (code, out, _) = sv(dir.path(), &["-h"]);
    assert_eq!(code, Some(0));
    assert!(out.contains("\n--env-file FILENAME -- "), "{out}");
}
