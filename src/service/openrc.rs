//! The OpenRC init script `service install` writes where OpenRC is the
//! service manager. The text is ours; the choices are explained in it.

use super::{Invocation, ServiceError, DESCRIPTION, NAME};

/// The init script for `inv`, stopping within `stop_timeout` seconds.
///
/// OpenRC passes `command` and `command_args` through `eval`, so a path
/// with blanks, quotes, `$`, backslashes or other shell syntax would be
/// changed on the way; such a path is refused rather than quoted for two
/// rounds of shell parsing.
pub fn script(inv: &Invocation, stop_timeout: u64) -> Result<String, ServiceError> {
    check_word(&inv.exe)?;
    for a in inv.args() {
        check_word(a)?;
    }
    let command = &inv.exe;
    let args = inv.args().join(" ");
    Ok(format!(
        "\
#!/sbin/openrc-run
# Written by `supervisord service install`; `supervisord service uninstall`
# removes it.

name=\"{NAME}\"
description=\"{DESCRIPTION}\"
command=\"{command}\"
command_args=\"{args}\"
# -n: supervisord stays in the foreground under supervise-daemon, which
# restarts it if it dies.
supervisor=supervise-daemon
respawn_delay=5
pidfile=\"/run/${{RC_SVCNAME}}.pid\"
# supervisord alone gets SIGTERM and stops its programs itself (group by
# group, each with its stopsignal and stopwaitsecs); KILL only after the
# slowest shutdown the config allowed at install time.
retry=\"TERM/{stop_timeout}/KILL/5\"

depend() {{
\tneed net
}}
"
    ))
}

/// Letters, digits and `/._-+=:,@%`: nothing OpenRC's eval would read as
/// shell syntax.
fn check_word(word: &str) -> Result<(), ServiceError> {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-+=:,@%".contains(c));
    if plain {
        Ok(())
    } else {
        Err(ServiceError::BadPath(format!(
            "OpenRC evaluates the command line as shell words, so it cannot hold {:?} as it is; use a path of letters, digits and /._-+=:,@%",
            word
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn the_script_runs_this_binary_in_the_foreground_under_supervise_daemon() {
        let inv = Invocation::new(
            Path::new("/usr/bin/supervisord"),
            Path::new("/etc/supervisord.conf"),
            Some(Path::new("/etc/conf.d/sv.env")),
        )
        .expect("valid");
        let text = script(&inv, 95).expect("script");
        assert!(text.starts_with("#!/sbin/openrc-run\n"), "{text}");
        let lines: Vec<&str> = text.lines().collect();
        for want in [
            "command=\"/usr/bin/supervisord\"",
            "command_args=\"-n -c /etc/supervisord.conf --env-file /etc/conf.d/sv.env\"",
            "supervisor=supervise-daemon",
            "pidfile=\"/run/${RC_SVCNAME}.pid\"",
            "retry=\"TERM/95/KILL/5\"",
            "depend() {",
            "\tneed net",
            "name=\"go-supervisord\"",
        ] {
            assert!(lines.contains(&want), "{want:?} missing from:\n{text}");
        }
    }

    #[test]
    fn shell_syntax_in_a_path_is_refused() {
        for conf in [
            "/my dir/s.conf",
            "/etc/$x.conf",
            "/etc/a'b.conf",
            "/etc/a\"b",
        ] {
            let inv = Invocation::new(Path::new("/usr/bin/supervisord"), Path::new(conf), None)
                .expect("valid for systemd");
            let e = script(&inv, 90).unwrap_err().to_string();
            assert!(e.contains("OpenRC evaluates"), "{e}");
        }
    }

    /// What the script sets is what sh reads back (OpenRC sources it).
    #[test]
    fn sh_reads_the_variables_back() {
        let inv = Invocation::new(
            Path::new("/usr/bin/supervisord"),
            Path::new("/etc/s-1_x.conf"),
            None,
        )
        .expect("valid");
        let text = script(&inv, 90).expect("script");
        let body: String = text
            .lines()
            .filter(|l| l.contains('=') && !l.starts_with('#'))
            .map(|l| format!("{l}\n"))
            .collect();
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!(
                "RC_SVCNAME=go-supervisord\n{body}eval set -- $command $command_args\nprintf '%s\\n' \"$@\" \"$pidfile\" \"$retry\""
            ))
            .output()
            .expect("sh");
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            "/usr/bin/supervisord\n-n\n-c\n/etc/s-1_x.conf\n/run/go-supervisord.pid\nTERM/90/KILL/5\n"
        );
    }
}
