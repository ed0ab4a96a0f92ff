//! The systemd unit `service install` writes. The text is ours (not the
//! Go supervisord's kardianos template); each choice says why beside it,
//! in the unit itself, where an administrator reads it.

use super::{Invocation, DESCRIPTION, NAME};

/// `go-supervisord.service`.
pub fn unit_name() -> String {
    format!("{}.service", NAME)
}

/// The unit file for `inv`, stopping within `stop_timeout` seconds.
pub fn unit(inv: &Invocation, stop_timeout: u64) -> String {
    let mut exec = quote(&inv.exe);
    for a in inv.args() {
        exec.push(' ');
        exec.push_str(&quote(a));
    }
    format!(
        "\
# Written by `supervisord service install`; `supervisord service uninstall`
# removes it.
[Unit]
Description={DESCRIPTION}
Documentation=man:supervisord(1)
After=network.target

[Service]
# -n: supervisord stays in the foreground, as systemd wants it.
Type=simple
ExecStart={exec}
# SIGHUP: supervisord stops its programs, reads its config again and
# starts over, in the same process.
ExecReload=/bin/kill -HUP $MAINPID
# supervisord stops its programs itself on SIGTERM: group by group in
# priority order, each with its own stopsignal and stopwaitsecs, then
# SIGKILL. So SIGTERM goes to supervisord alone (the default,
# control-group, would signal every program at once and skip all that),
# and SIGKILL to whatever is left in the cgroup once supervisord has
# exited or TimeoutStopSec has passed (process would leave such leftovers
# running, to be started twice by the next start).
KillMode=mixed
# The slowest shutdown the config allowed at install time (per group, the
# longest stopwaitsecs times its stop signals, summed, plus a margin),
# and at least systemd's default. Install again after raising stopwaitsecs.
TimeoutStopSec={stop_timeout}
# A crash is restarted; `supervisorctl shutdown` (exit 0) stays stopped.
Restart=on-failure
RestartSec=5

[Install]
WantedBy=multi-user.target
"
    )
}

/// One word of a systemd command line. `%` starts a specifier and `$`
/// a variable everywhere, quoted or not, so they are doubled; a word
/// with blanks, quotes, backslashes or `;` is double-quoted with C
/// escapes. (Control characters were refused before.)
fn quote(word: &str) -> String {
    let escaped = word.replace('%', "%%").replace('$', "$$");
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_alphanumeric() || "/._-+=:,@%$".contains(c));
    if plain {
        return escaped;
    }
    let mut out = String::from("\"");
    for c in escaped.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn the_unit_runs_this_binary_in_the_foreground_on_the_absolute_config() {
        let inv = Invocation::new(
            Path::new("/opt/sv/bin/supervisord"),
            Path::new("/etc/sv/supervisord.conf"),
            Some(Path::new("/etc/sv/sv.env")),
        )
        .expect("valid");
        let text = unit(&inv, 123);
        let lines: Vec<&str> = text.lines().collect();
        for want in [
            "ExecStart=/opt/sv/bin/supervisord -n -c /etc/sv/supervisord.conf --env-file /etc/sv/sv.env",
            "Type=simple",
            "KillMode=mixed",
            "TimeoutStopSec=123",
            "Restart=on-failure",
            "ExecReload=/bin/kill -HUP $MAINPID",
            "WantedBy=multi-user.target",
            "Description=Supervisor process control system (supervisord-rs)",
        ] {
            assert!(lines.contains(&want), "{want:?} missing from:\n{text}");
        }
        assert_eq!(
            lines.iter().filter(|l| l.starts_with("ExecStart=")).count(),
            1
        );
    }

    #[test]
    fn words_are_quoted_for_systemd() {
        assert_eq!(quote("/usr/bin/supervisord"), "/usr/bin/supervisord");
        assert_eq!(quote("/etc/100%.conf"), "/etc/100%%.conf");
        assert_eq!(quote("/etc/$HOME.conf"), "/etc/$$HOME.conf");
        assert_eq!(quote("/my dir/a.conf"), "\"/my dir/a.conf\"");
        assert_eq!(quote("/a\"b\\c;"), "\"/a\\\"b\\\\c;\"");
        assert_eq!(quote("/x y/%i"), "\"/x y/%%i\"");
        assert_eq!(quote(""), "\"\"");
    }
}
