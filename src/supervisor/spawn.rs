//! Starting a child: the checks Python makes before forking (with its
//! messages), the environment, and the fork/exec through
//! `std::process::Command` with a small `pre_exec`.
//!
//! Everything the child needs after fork is computed here in the parent
//! (a [`ChildSetup`]); the code that runs between fork and exec is
//! `sys::child`'s, which makes only async-signal-safe calls and
//! allocates nothing.

use crate::config::ProcessConfig;
use crate::pycompat::repr::py_repr;
use crate::pycompat::shlex;
use crate::sys::child::{Chdir, ChildSetup, SwitchMessages, UserSwitch};
use crate::sys::users;
use nix::unistd::{AccessFlags, Gid};
use std::ffi::CString;
use std::os::fd::OwnedFd;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Why a command cannot be run; the kind picks the RPC fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SpawnErrorKind {
    /// NO_FILE.
    NotFound,
    /// NOT_EXECUTABLE (directory, mode, permission, unparsable).
    NotExecutable,
    /// Anything else (pipes, fork): only BACKOFF.
    Other,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpawnError {
    pub kind: SpawnErrorKind,
    pub message: String,
}

fn err(kind: SpawnErrorKind, message: String) -> SpawnError {
    SpawnError { kind, message }
}

/// Python's `%r` of a path-ish string.
fn r(s: &str) -> String {
    py_repr(s)
}

/// `get_execv_args`: split the command and find the program, with Python's
/// checks and messages. `own_path` is supervisord's own PATH.
pub fn resolve_command(
    cfg: &ProcessConfig,
    own_path: Option<&str>,
) -> Result<(PathBuf, Vec<String>), SpawnError> {
    let argv = shlex::split(&cfg.command).map_err(|e| {
        err(
            SpawnErrorKind::NotExecutable,
            format!("can't parse command {}: {}", r(&cfg.command), e),
        )
    })?;
    let Some(program) = argv.first() else {
        return Err(err(
            SpawnErrorKind::NotExecutable,
            "command is empty".to_string(),
        ));
    };
    let (filename, meta) = if program.contains('/') {
        (PathBuf::from(program), std::fs::metadata(program).ok())
    } else {
        let env_path = cfg
            .environment
            .iter()
            .rev()
            .find(|(k, _)| k == "PATH")
            .map(|(_, v)| v.as_str());
        let path = match env_path {
            Some(p) => p.to_string(),
            None => match own_path {
                Some(p) if !p.is_empty() => p.to_string(),
                _ => "/bin:/usr/bin:/usr/local/bin".to_string(),
            },
        };
        let mut found = None;
        for dir in path.split(':') {
            let candidate = Path::new(dir).join(program);
            if let Ok(m) = std::fs::metadata(&candidate) {
                found = Some((candidate, m));
                break;
            }
        }
        match found {
            Some((p, m)) => (p, Some(m)),
            None => (PathBuf::from(program), None),
        }
    };
    let name = filename.to_string_lossy().into_owned();
    use std::os::unix::fs::PermissionsExt;
    match meta {
        None => Err(err(
            SpawnErrorKind::NotFound,
            format!("can't find command {}", r(&name)),
        )),
        Some(m) if m.is_dir() => Err(err(
            SpawnErrorKind::NotExecutable,
            format!("command at {} is a directory", r(&name)),
        )),
        Some(m) if m.permissions().mode() & 0o111 == 0 => Err(err(
            SpawnErrorKind::NotExecutable,
            format!("command at {} is not executable", r(&name)),
        )),
        Some(_) if !access_x(&filename) => Err(err(
            SpawnErrorKind::NotExecutable,
            format!("no permission to run command {}", r(&name)),
        )),
        Some(_) => Ok((filename, argv)),
    }
}

fn access_x(p: &Path) -> bool {
    nix::unistd::access(p, AccessFlags::X_OK).is_ok()
}

/// The pipes a spawned child is attached to, parent ends.
pub struct ChildPipes {
    pub stdin: OwnedFd,
    pub stdout: OwnedFd,
    /// None with redirect_stderr.
    pub stderr: Option<OwnedFd>,
}

/// Inputs for one spawn beyond the process config.
pub struct SpawnContext<'a> {
    /// SUPERVISOR_SERVER_URL when the program does not set serverurl.
    pub server_url: Option<&'a str>,
    pub group_name: &'a str,
}

/// Forks and execs the child. Returns its pid and our ends of its pipes.
/// A chdir or setuid failure happens in the child, which then writes
/// Python's message to its stderr and exits 127 (so it shows in the log).
pub fn spawn(
    cfg: &ProcessConfig,
    filename: &Path,
    argv: &[String],
    ctx: &SpawnContext,
) -> std::io::Result<(i32, ChildPipes)> {
    let (stdin_r, stdin_w) = pipe()?;
    let (stdout_r, stdout_w) = pipe()?;
    let stderr = if cfg.redirect_stderr {
        None
    } else {
        Some(pipe()?)
    };

    let mut cmd = Command::new(filename);
    cmd.arg0(&argv[0]).args(&argv[1..]);
    cmd.env_clear();
    let mut env: Vec<(String, String)> = std::env::vars_os()
        .map(|(k, v)| {
            (
                k.to_string_lossy().into_owned(),
                v.to_string_lossy().into_owned(),
            )
        })
        .collect();
    let mut set = |k: &str, v: &str| match env.iter_mut().find(|(key, _)| key == k) {
        Some(slot) => slot.1 = v.to_string(),
        None => env.push((k.to_string(), v.to_string())),
    };
    set("SUPERVISOR_ENABLED", "1");
    if let Some(url) = cfg.serverurl.as_deref().or(ctx.server_url) {
        set("SUPERVISOR_SERVER_URL", url);
    }
    set("SUPERVISOR_PROCESS_NAME", &cfg.name);
    set("SUPERVISOR_GROUP_NAME", ctx.group_name);
    for (k, v) in &cfg.environment {
        set(k, v);
    }
    cmd.envs(env);

    let stdout_w_dup = if cfg.redirect_stderr {
        Some(stdout_w.try_clone()?)
    } else {
        None
    };
    cmd.stdin(Stdio::from(stdin_r));
    cmd.stdout(Stdio::from(stdout_w));
    match (&stderr, stdout_w_dup) {
        (_, Some(dup)) => {
            cmd.stderr(Stdio::from(dup));
        }
        (Some((_, w)), None) => {
            cmd.stderr(Stdio::from(w.try_clone()?));
        }
        (None, None) => {
            cmd.stderr(Stdio::null());
        }
    }

    // Resolve the user switch and pre-format every message the child may
    // need, so the child allocates nothing.
    let uid_shown = cfg.uid.map(|u| u.to_string()).unwrap_or_default();
    let couldnt = |why: &str| {
        format!(
            "supervisor: couldn't setuid to {}: {}\n{}",
            uid_shown, why, NOT_SPAWNED
        )
        .into_bytes()
    };
    let user = match cfg.uid {
        // A switch when the user differs, or a `user:group` group does.
        Some(uid)
            if uid != users::current_uid()
                || cfg.gid.is_some_and(|g| g != users::current_gid()) =>
        {
            let gid = cfg
                .gid
                .unwrap_or_else(|| users::passwd_by_uid(uid).map(|p| p.gid).unwrap_or(uid));
            let name = users::name_of_uid(uid).unwrap_or_default();
            Some(UserSwitch {
                uid,
                gid,
                groups: users::group_list(&name, gid)
                    .into_iter()
                    .map(Gid::from_raw)
                    .collect(),
                as_root: users::current_uid() == 0,
                messages: SwitchMessages {
                    not_root: couldnt("Can't drop privilege as nonroot user"),
                    groups: couldnt("Could not set groups of effective user"),
                    gid: couldnt("Could not set group id of effective user"),
                    // Python's drop_privileges does not catch a failed
                    // os.setuid: the OSError ends _spawn_as_child, whose
                    // `finally` writes only this line and exits 127.
                    uid: NOT_SPAWNED.as_bytes().to_vec(),
                },
            })
        }
        _ => None,
    };
    let chdir = match &cfg.directory {
        Some(d) => Some(Chdir {
            dir: CString::new(d.as_bytes()).map_err(|_| {
                std::io::Error::new(std::io::ErrorKind::InvalidInput, "NUL in directory")
            })?,
            before: format!("supervisor: couldn't chdir to {}: ", d).into_bytes(),
            after: format!("\n{}", NOT_SPAWNED).into_bytes(),
        }),
        None => None,
    };
    let umask = cfg.umask;

    // Without a user switch, a directory or a umask the child needs no
    // code of ours between fork and exec: std then uses posix_spawn
    // (vfork-like), which does not copy the daemon's page tables. With
    // 1000 programs a fork copies thousands of mappings, and start-up time
    // grew with the square of the count. What the pre-exec code would do
    // is done otherwise: the process group by posix_spawn itself, signal
    // dispositions and mask by `reset_inherited_signals` once at start-up
    // (exec resets caught signals; std resets SIGPIPE), and every fd of
    // ours is close-on-exec (`mark_inherited_fds_cloexec` covers the rest).
    let needs_child_code = user.is_some() || chdir.is_some() || umask.is_some();
    if !needs_child_code {
        cmd.process_group(0);
    } else {
        ChildSetup { user, chdir, umask }.install(&mut cmd);
    }
    let child = cmd.spawn()?;
    // Drop our copies of the child's ends (held by `cmd`).
    drop(cmd);
    let pid = child.id() as i32;
    // The child is reaped by the loop's waitpid(-1); std's Child handle is
    // dropped without waiting (dropping it neither waits nor kills).
    drop(child);
    Ok((
        pid,
        ChildPipes {
            stdin: stdin_w,
            stdout: stdout_r,
            stderr: stderr.map(|(r, _w)| r),
        },
    ))
}

fn pipe() -> std::io::Result<(OwnedFd, OwnedFd)> {
    let (r, w) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)?;
    Ok((r, w))
}

/// The last line a child that could not exec writes to its stderr.
const NOT_SPAWNED: &str = "supervisor: child process was not spawned\n";

/// Marks every fd above 2 close-on-exec: once at start-up for what the
/// daemon inherited (so no child sees it; Python closes fds 3..minfds in
/// each child instead), and in the pre-exec code for good measure.
pub fn mark_inherited_fds_cloexec() {
    crate::sys::child::mark_fds_cloexec();
}

/// Default dispositions for signals the daemon inherited as ignored, and
/// an empty signal mask, for children spawned without pre-exec code.
/// Call once, before any thread exists.
pub fn reset_inherited_signals() {
    use crate::sys::signal;
    signal::clear_mask();
    for sig in 1..32 {
        if matches!(sig, libc::SIGKILL | libc::SIGSTOP | libc::SIGPIPE) {
            continue;
        }
        if signal::is_ignored(sig) {
            signal::set_default(sig);
        }
    }
}

/// `/bin/sh -c cmd` run on behalf of a program (a restart command, a
/// health check): its environment and directory, the SUPERVISOR_* names,
/// stdin from /dev/null, and its own process group (so a terminal's ^C
/// is not for it, and a timeout can kill all it started). The caller
/// never waits for it: the loop's waitpid(-1) reaps it.
pub(super) fn program_shell(
    cmd: &str,
    name: &str,
    group: &str,
    environment: &[(String, String)],
    directory: Option<&str>,
) -> std::process::Command {
    let mut c = std::process::Command::new("/bin/sh");
    c.arg("-c")
        .arg(cmd)
        .envs(environment.iter().map(|(k, v)| (k, v)))
        .env("SUPERVISOR_ENABLED", "1")
        .env("SUPERVISOR_PROCESS_NAME", name)
        .env("SUPERVISOR_GROUP_NAME", group)
        .stdin(std::process::Stdio::null());
    if let Some(d) = directory {
        c.current_dir(d);
    }
    std::os::unix::process::CommandExt::process_group(&mut c, 0);
    c
}

#[cfg(test)]
mod tests {
    use super::*;
    use nix::sys::wait::{waitpid, WaitStatus};
    use nix::unistd::Pid;
    use std::io::Read;

    fn program(command: &str) -> ProcessConfig {
        let text = format!("[supervisord]\n[program:p]\ncommand={command}\n");
        let env = crate::config::Environment::current();
        let cfg = crate::config::load_str(&text, Path::new("/tmp/spawn-test.conf"), &env)
            .expect("config");
        let p = cfg.processes().next().expect("one program").clone();
        p
    }

    /// Spawns `cfg` and waits for it: (stdout, stderr, exit code).
    fn run(cfg: &ProcessConfig) -> (String, String, i32) {
        let (filename, argv) = resolve_command(cfg, None).expect("resolve");
        let ctx = SpawnContext {
            server_url: None,
            group_name: "p",
        };
        let (pid, pipes) = spawn(cfg, &filename, &argv, &ctx).expect("spawn");
        drop(pipes.stdin);
        let mut out = String::new();
        std::fs::File::from(pipes.stdout)
            .read_to_string(&mut out)
            .expect("stdout");
        let mut err = String::new();
        if let Some(e) = pipes.stderr {
            std::fs::File::from(e)
                .read_to_string(&mut err)
                .expect("stderr");
        }
        // Only this test's child: never waitpid(-1) here.
        match waitpid(Pid::from_raw(pid), None) {
            Ok(WaitStatus::Exited(_, code)) => (out, err, code),
            other => panic!("child {pid} ended as {other:?}"),
        }
    }

    fn is_root() -> bool {
        let root = users::current_uid() == 0;
        if !root {
            eprintln!("skipped: switching users needs root");
        }
        root
    }

    #[test]
    fn a_failed_setuid_fails_the_spawn_like_python() {
        if !is_root() {
            return;
        }
        let mut cfg = program("/bin/echo ran");
        // (uid_t)-1 is no user: setuid(2) refuses it (EINVAL) even for
        // root, after setgroups and setgid (to gid 0) have succeeded. The
        // program must not run, as root or at all.
        cfg.uid = Some(u32::MAX);
        cfg.gid = Some(0);
        let (out, err, code) = run(&cfg);
        assert_eq!(out, "", "the program ran although setuid failed");
        // Python 4.3.0: os.setuid raises inside _spawn_as_child, whose
        // `finally` writes this one line and _exits 127.
        assert_eq!(err, "supervisor: child process was not spawned\n");
        assert_eq!(code, 127);
    }

    #[test]
    fn a_user_switch_runs_the_program_as_that_user() {
        if !is_root() {
            return;
        }
        let Some(nobody) = users::uid_of_name("nobody") else {
            eprintln!("skipped: no user nobody");
            return;
        };
        let mut cfg = program("/bin/sh -c 'id -u; id -g'");
        cfg.uid = Some(nobody);
        cfg.gid = Some(nobody);
        let (out, err, code) = run(&cfg);
        assert_eq!(
            (out, err, code),
            (format!("{nobody}\n{nobody}\n"), String::new(), 0)
        );
    }

    #[test]
    fn a_failed_chdir_names_the_errno() {
        let mut cfg = program("/bin/echo ran");
        cfg.directory = Some("/nonexistent/dir".to_string());
        let (out, err, code) = run(&cfg);
        assert_eq!(out, "");
        assert_eq!(
            err,
            "supervisor: couldn't chdir to /nonexistent/dir: ENOENT\nsupervisor: child process was not spawned\n"
        );
        assert_eq!(code, 127);
    }
}
