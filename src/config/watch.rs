//! The restart-on-change keys of a program section (an extension of the
//! Go supervisord; Python has none of them): what to watch, and what to do
//! when it changes. Plain data; the supervisor loop does the watching.

use super::datatypes as dt;
use super::expand::Expansions;
use super::{normalize, ConfigError, Loader};
use std::path::{Path, PathBuf};

/// What a program watches. None of the keys set: no `RestartWatch` at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestartWatch {
    /// `restart_when_binary_changed = true`: the command's file.
    pub binary: Option<OnChange>,
    /// `restart_directory_monitor`: a directory tree.
    pub files: Option<FilesWatch>,
}

/// `restart_directory_monitor` and its pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilesWatch {
    /// Absolute; a relative value is taken from the directory of the file
    /// holding the key (`%(here)s`), like `envfiles`.
    pub directory: PathBuf,
    /// `restart_file_pattern`, an fnmatch pattern on the file name.
    pub pattern: String,
    pub on_change: OnChange,
}

/// What a change leads to; the first one configured wins, in this order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OnChange {
    /// A shell command (`/bin/sh -c`), run instead of a restart.
    Command(String),
    /// Signals sent to the process group in order, `stopwaitsecs` apart.
    Signals(Vec<i32>),
    /// Stop, then start, as `supervisorctl restart` does.
    Restart,
}

impl Loader<'_> {
    /// The restart-on-change keys of `section`; None when it sets none
    /// that takes effect. A bad value is an error even where it would not
    /// be used, so a typo does not wait for the day it matters.
    pub(super) fn restart_watch(
        &self,
        section: &str,
        e: &Expansions,
    ) -> Result<Option<RestartWatch>, ConfigError> {
        let on_binary = self.typed(
            section,
            "restart_when_binary_changed",
            "false",
            e,
            dt::boolean,
        )?;
        let binary_action = self.on_change(section, "binary", e)?;
        let files_action = self.on_change(section, "file", e)?;
        let pattern = match self.get(section, "restart_file_pattern", None, e, true)? {
            Some((p, origin)) => {
                let p = p.trim().to_string();
                if p.contains('/') {
                    return Err(origin.wrap(&format!(
                        "restart_file_pattern matches file names, not paths: {}",
                        crate::pycompat::repr::py_repr(&p)
                    )));
                }
                p
            }
            None => String::new(),
        };
        let directory = self
            .get(section, "restart_directory_monitor", None, e, true)?
            .map(|(d, _)| d.trim().to_string())
            .filter(|d| !d.is_empty());
        let files = directory.map(|d| {
            let here = PathBuf::from(self.here_for(section, "restart_directory_monitor"));
            FilesWatch {
                directory: normalize(&here.join(Path::new(&dt::expand_user(&d)))),
                pattern: if pattern.is_empty() {
                    "*".to_string()
                } else {
                    pattern
                },
                on_change: files_action,
            }
        });
        let binary = on_binary.then_some(binary_action);
        Ok((binary.is_some() || files.is_some()).then_some(RestartWatch { binary, files }))
    }

    /// `restart_cmd_when_<what>_changed`, else
    /// `restart_signal_when_<what>_changed`, else a restart.
    fn on_change(
        &self,
        section: &str,
        what: &str,
        e: &Expansions,
    ) -> Result<OnChange, ConfigError> {
        let cmd_key = format!("restart_cmd_when_{}_changed", what);
        let sig_key = format!("restart_signal_when_{}_changed", what);
        let command = self
            .get(section, &cmd_key, None, e, true)?
            .map(|(c, _)| c.trim().to_string())
            .filter(|c| !c.is_empty());
        let signals = match self.get(section, &sig_key, None, e, true)? {
            Some((s, origin)) if !s.trim().is_empty() => {
                Some(dt::signal_list(&s).map_err(|m| origin.wrap(&m))?)
            }
            _ => None,
        };
        Ok(match (command, signals) {
            (Some(c), _) => OnChange::Command(c),
            (None, Some(s)) => OnChange::Signals(s),
            (None, None) => OnChange::Restart,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{load_str, Environment};

    fn watch_of(program: &str) -> Result<Option<RestartWatch>, String> {
        let text = format!(
            "[supervisord]\n[program:web]\ncommand=/bin/true\n{}",
            program
        );
        let env = Environment {
            vars: vec![("HOME".into(), "/home/u".into())],
            host_node_name: "h".into(),
        };
        let cfg =
            load_str(&text, Path::new("/etc/sv/supervisord.conf"), &env).map_err(|e| e.message)?;
        let watch = cfg
            .processes()
            .next()
            .and_then(|p| p.restart_on_change.clone());
        Ok(watch)
    }

    #[test]
    fn none_of_the_keys_means_no_watch() {
        assert_eq!(watch_of(""), Ok(None));
        // The action keys alone do nothing (as in Go).
        assert_eq!(
            watch_of("restart_cmd_when_binary_changed=echo\nrestart_file_pattern=*.py\n"),
            Ok(None)
        );
        assert_eq!(watch_of("restart_when_binary_changed=false\n"), Ok(None));
    }

    #[test]
    fn binary_actions_in_order_of_precedence() {
        let b = |s: &str| watch_of(s).map(|w| w.and_then(|w| w.binary));
        assert_eq!(
            b("restart_when_binary_changed=true\n"),
            Ok(Some(OnChange::Restart))
        );
        assert_eq!(
            b("restart_when_binary_changed=yes\nrestart_signal_when_binary_changed=HUP USR2\n"),
            Ok(Some(OnChange::Signals(vec![libc::SIGHUP, libc::SIGUSR2])))
        );
        assert_eq!(
            b("restart_when_binary_changed=1\nrestart_signal_when_binary_changed=HUP\nrestart_cmd_when_binary_changed= kill -HUP 1 \n"),
            Ok(Some(OnChange::Command("kill -HUP 1".into())))
        );
    }

    #[test]
    fn directory_is_taken_from_the_config_files_directory() {
        let w = watch_of("restart_directory_monitor=conf/%(program_name)s\n").expect("parses");
        let f = w.and_then(|w| w.files).expect("files watch");
        assert_eq!(f.directory, PathBuf::from("/etc/sv/conf/web"));
        assert_eq!(f.pattern, "*");
        assert_eq!(f.on_change, OnChange::Restart);
        let w = watch_of(
            "restart_directory_monitor=/srv/../srv/app/\nrestart_file_pattern=*.py\nrestart_signal_when_file_changed=HUP\n",
        )
        .expect("parses");
        let f = w.and_then(|w| w.files).expect("files watch");
        assert_eq!(f.directory, PathBuf::from("/srv/app"));
        assert_eq!(f.pattern, "*.py");
        assert_eq!(f.on_change, OnChange::Signals(vec![libc::SIGHUP]));
        let f = watch_of("restart_directory_monitor=~/app\n")
            .expect("parses")
            .and_then(|w| w.files)
            .expect("files watch");
        assert_eq!(f.directory, normalize(Path::new(&dt::expand_user("~/app"))));
    }

    #[test]
    fn bad_values_name_the_key() {
        let e = watch_of("restart_when_binary_changed=maybe\n").unwrap_err();
        assert!(e.contains("'restart_when_binary_changed'"), "{}", e);
        let e = watch_of("restart_signal_when_file_changed=NOPE\n").unwrap_err();
        assert!(
            e.contains("'restart_signal_when_file_changed'") && e.contains("NOPE"),
            "{}",
            e
        );
        let e =
            watch_of("restart_directory_monitor=/srv\nrestart_file_pattern=a/*.py\n").unwrap_err();
        assert!(
            e.contains("'restart_file_pattern'") && e.contains("a/*.py"),
            "{}",
            e
        );
    }
}
