//! The one table of supervisorctl's actions. Each entry gives an action's
//! name, where its name shows (the `help` list, Tab completion), what its
//! argument completes to, whether it ends the shell, the method that runs
//! it, and its `help <action>` text. The shell's dispatch, `help`, `help
//! <action>`, Tab completion and the man page's ACTIONS section are all
//! read from here; no other place lists actions.
//!
//! The entries are in byte order of their names: that is the order of
//! Python's `help` list and of its completions.

use super::error::Error;
use super::Ctl;

/// Where an action's name shows besides the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shown {
    /// In `help`'s list, and among the completions of an action name.
    Listed,
    /// Completed as an action name but not in `help`'s list: Python lists
    /// what its action plugin documents, and `help`'s own text belongs to
    /// the shell, not to the plugin.
    Unlisted,
    /// Neither: `EOF`, which end of input sends.
    Hidden,
    /// Ours, not Python's (`wait`): completed, in the man page and
    /// `help <action>`, but not in `help`'s list, which stays Python's.
    Extension,
}

/// What Tab completes in an action's arguments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Completes {
    /// Action names (`help <action>`).
    Actions,
    /// Group names, from getAllProcessInfo.
    Groups,
    /// Process names (`name`, `group:name`, `group:*`), from
    /// getAllProcessInfo.
    Processes,
    Nothing,
}

/// One action of the shell and of the command line.
pub struct Action {
    pub name: &'static str,
    pub shown: Shown,
    pub completes: Completes,
    /// The shell ends after it (`quit`, `exit`, end of input).
    pub leaves_shell: bool,
    pub run: fn(&mut Ctl, &str) -> Result<(), Error>,
    /// `help <name>`, without the final newline; `None` answers
    /// `*** No help on <name>`. For Python's actions this is Python's
    /// text, which a misused action prints again after its error.
    pub help: Option<&'static str>,
    /// What we add to a Python action (`status --json`): shown by `help
    /// <name>` and the man page after `help`, not after a misuse, so the
    /// output of a plain command stays Python's.
    pub help_ours: Option<&'static str>,
}

/// Every action, in byte order of name.
pub static ACTIONS: &[Action] = &[
    Action {
        name: "EOF",
        shown: Shown::Hidden,
        completes: Completes::Nothing,
        leaves_shell: true,
        run: Ctl::do_quit,
        // Python has a text for it, but `help EOF` never reaches it.
        help: None,
        help_ours: None,
    },
    Action {
        name: "add",
        shown: Shown::Listed,
        completes: Completes::Groups,
        leaves_shell: false,
        run: Ctl::do_add,
        help: Some("add <name> [...]\tActivates any updates in config for process/group"),
        help_ours: None,
    },
    Action {
        name: "avail",
        shown: Shown::Listed,
        completes: Completes::Nothing,
        leaves_shell: false,
        run: Ctl::do_avail,
        help: Some("avail\t\t\tDisplay all configured processes"),
        help_ours: Some("avail --json\t\tThe same as one JSON array of getAllConfigInfo structs,\n\t\t\tone per line"),
    },
    Action {
        name: "clear",
        shown: Shown::Listed,
        completes: Completes::Processes,
        leaves_shell: false,
        run: Ctl::do_clear,
        help: Some("clear <name>\t\tClear a process' log files.\nclear <name> <name>\tClear multiple process' log files\nclear all\t\tClear all process' log files"),
        help_ours: None,
    },
    Action {
        name: "exit",
        shown: Shown::Listed,
        completes: Completes::Nothing,
        leaves_shell: true,
        run: Ctl::do_quit,
        help: Some("exit\tExit the supervisor shell."),
        help_ours: None,
    },
    Action {
        name: "fg",
        shown: Shown::Listed,
        completes: Completes::Processes,
        leaves_shell: false,
        run: Ctl::do_fg,
        help: Some("fg <process>\tConnect to a process in foreground mode\n\t\tCtrl-C to exit"),
        help_ours: None,
    },
    Action {
        name: "help",
        shown: Shown::Unlisted,
        completes: Completes::Actions,
        leaves_shell: false,
        run: Ctl::do_help,
        help: Some("help\t\tPrint a list of available actions\nhelp <action>\tPrint help for <action>"),
        help_ours: None,
    },
    Action {
        name: "maintail",
        shown: Shown::Listed,
        completes: Completes::Nothing,
        leaves_shell: false,
        run: Ctl::do_maintail,
        // Python's text ends in a newline of its own, so a blank line follows.
        help: Some("maintail -f \tContinuous tail of supervisor main log file (Ctrl-C to exit)\nmaintail -100\tlast 100 *bytes* of supervisord main log file\nmaintail\tlast 1600 *bytes* of supervisor main log file\n"),
        help_ours: None,
    },
    Action {
        name: "open",
        shown: Shown::Listed,
        completes: Completes::Nothing,
        leaves_shell: false,
        run: Ctl::do_open,
        help: Some("open <url>\tConnect to a remote supervisord process.\n\t\t(for UNIX domain socket, use unix:///socket/path)"),
        help_ours: None,
    },
    Action {
        name: "pid",
        shown: Shown::Listed,
        completes: Completes::Processes,
        leaves_shell: false,
        run: Ctl::do_pid,
        help: Some("pid\t\t\tGet the PID of supervisord.\npid <name>\t\tGet the PID of a single child process by name.\npid all\t\t\tGet the PID of every child process, one per line."),
        help_ours: None,
    },
    Action {
        name: "quit",
        shown: Shown::Listed,
        completes: Completes::Nothing,
        leaves_shell: true,
        run: Ctl::do_quit,
        help: Some("quit\tExit the supervisor shell."),
        help_ours: None,
    },
    Action {
        name: "reload",
        shown: Shown::Listed,
        completes: Completes::Nothing,
        leaves_shell: false,
        run: Ctl::do_reload,
        help: Some("reload \t\tRestart the remote supervisord."),
        help_ours: None,
    },
    Action {
        name: "remove",
        shown: Shown::Listed,
        completes: Completes::Groups,
        leaves_shell: false,
        run: Ctl::do_remove,
        help: Some("remove <name> [...]\tRemoves process/group from active config"),
        help_ours: None,
    },
    Action {
        name: "reread",
        shown: Shown::Listed,
        completes: Completes::Nothing,
        leaves_shell: false,
        run: Ctl::do_reread,
        help: Some("reread \t\t\tReload the daemon's configuration files without add/remove"),
        help_ours: None,
    },
    Action {
        name: "restart",
        shown: Shown::Listed,
        completes: Completes::Processes,
        leaves_shell: false,
        run: Ctl::do_restart,
        help: Some("restart <name>\t\tRestart a process\nrestart <gname>:*\tRestart all processes in a group\nrestart <name> <name>\tRestart multiple processes or groups\nrestart all\t\tRestart all processes\nNote: restart does not reread config files. For that, see reread and update."),
        help_ours: None,
    },
    Action {
        name: "shutdown",
        shown: Shown::Listed,
        completes: Completes::Nothing,
        leaves_shell: false,
        run: Ctl::do_shutdown,
        help: Some("shutdown \tShut the remote supervisord down."),
        help_ours: None,
    },
    Action {
        name: "signal",
        shown: Shown::Listed,
        completes: Completes::Processes,
        leaves_shell: false,
        run: Ctl::do_signal,
        help: Some("signal <signal name> <name>\t\tSignal a process\nsignal <signal name> <gname>:*\t\tSignal all processes in a group\nsignal <signal name> <name> <name>\tSignal multiple processes or groups\nsignal <signal name> all\t\tSignal all processes"),
        help_ours: None,
    },
    Action {
        name: "start",
        shown: Shown::Listed,
        completes: Completes::Processes,
        leaves_shell: false,
        run: Ctl::do_start,
        help: Some("start <name>\t\tStart a process\nstart <gname>:*\t\tStart all processes in a group\nstart <name> <name>\tStart multiple processes or groups\nstart all\t\tStart all processes"),
        help_ours: None,
    },
    Action {
        name: "status",
        shown: Shown::Listed,
        completes: Completes::Processes,
        leaves_shell: false,
        run: Ctl::do_status,
        help: Some("status <name>\t\tGet status for a single process\nstatus <gname>:*\tGet status for all processes in a group\nstatus <name> <name>\tGet status for multiple named processes\nstatus\t\t\tGet all process status info"),
        help_ours: Some("status --json [...]\tThe same as one JSON array of getProcessInfo structs,\n\t\t\tone per line"),
    },
    Action {
        name: "stop",
        shown: Shown::Listed,
        completes: Completes::Processes,
        leaves_shell: false,
        run: Ctl::do_stop,
        help: Some("stop <name>\t\tStop a process\nstop <gname>:*\t\tStop all processes in a group\nstop <name> <name>\tStop multiple processes or groups\nstop all\t\tStop all processes"),
        help_ours: None,
    },
    Action {
        name: "tail",
        shown: Shown::Listed,
        completes: Completes::Processes,
        leaves_shell: false,
        run: Ctl::do_tail,
        help: Some("tail [-f] <name> [stdout|stderr] (default stdout)\nEx:\ntail -f <name>\t\tContinuous tail of named process stdout\n\t\t\tCtrl-C to exit.\ntail -100 <name>\tlast 100 *bytes* of process stdout\ntail <name> stderr\tlast 1600 *bytes* of process stderr"),
        help_ours: None,
    },
    Action {
        name: "update",
        shown: Shown::Listed,
        completes: Completes::Groups,
        leaves_shell: false,
        run: Ctl::do_update,
        help: Some("update\t\t\tReload config and add/remove as necessary, and will restart affected programs\nupdate all\t\tReload config and add/remove as necessary, and will restart affected programs\nupdate <gname> [...]\tUpdate specific groups"),
        help_ours: None,
    },
    Action {
        name: "version",
        shown: Shown::Listed,
        completes: Completes::Nothing,
        leaves_shell: false,
        run: Ctl::do_version,
        help: Some("version\t\t\tShow the version of the remote supervisord process"),
        help_ours: None,
    },
    Action {
        name: "wait",
        shown: Shown::Extension,
        completes: Completes::Processes,
        leaves_shell: false,
        run: Ctl::do_wait,
        help: Some("wait\t\t\tWait until every autostarted process is RUNNING\nwait <name> <name>\tWait for the named processes (<gname>:* for a group)\nwait --timeout N ...\tGive up after N seconds (default 60; 0: never)\n\t\t\tExit 1, printing the status of those not RUNNING,\n\t\t\ton the timeout or as soon as one is FATAL"),
        help_ours: None,
    },
];

/// The action a command word names (case matters: `STATUS` is unknown).
pub fn find(name: &str) -> Option<&'static Action> {
    ACTIONS.iter().find(|a| a.name == name)
}

/// The text of `help <name>`: Python's, then what we add.
pub fn topic(name: &str) -> Option<String> {
    let action = find(name)?;
    let help = action.help?;
    Some(match action.help_ours {
        Some(ours) => format!("{}\n{}", help, ours),
        None => help.to_string(),
    })
}

/// The text a misused action prints after its error: Python's.
pub fn misuse_help(name: &str) -> Option<&'static str> {
    find(name).and_then(|a| a.help)
}

/// The actions `help` lists, in its order.
pub fn listed() -> impl Iterator<Item = &'static Action> {
    ACTIONS.iter().filter(|a| a.shown == Shown::Listed)
}

/// The actions the man page documents: those `help` lists, and ours.
pub fn documented() -> impl Iterator<Item = &'static Action> {
    ACTIONS
        .iter()
        .filter(|a| matches!(a.shown, Shown::Listed | Shown::Extension))
}

/// The names Tab offers for an action name, in Python's order. (Python
/// offers `help` twice, first and again in its place; the line editor, like
/// readline, shows a candidate once, so once is the same to the user.)
pub fn completed_names() -> impl Iterator<Item = &'static str> {
    ACTIONS
        .iter()
        .filter(|a| a.shown != Shown::Hidden)
        .map(|a| a.name)
}

/// What the arguments after the first word `word` of a line complete to.
pub fn argument_completes(word: &str) -> Completes {
    ACTIONS
        .iter()
        .find(|a| match a.completes {
            // Python tests `action in ('help')`, a substring test on the
            // string "help": so `he` or `l` complete action names too.
            Completes::Actions => a.name.contains(word),
            _ => a.name == word,
        })
        .map_or(Completes::Nothing, |a| a.completes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rpc::xmlrpc::Value;

    #[test]
    fn names_are_unique_and_in_byte_order() {
        for pair in ACTIONS.windows(2) {
            assert!(
                pair[0].name < pair[1].name,
                "{} before {}",
                pair[0].name,
                pair[1].name
            );
        }
    }

    #[test]
    fn every_action_dispatches_from_a_typed_line() {
        for a in ACTIONS {
            let (cmd, arg, _) = super::super::parseline(&format!("{} x", a.name));
            assert_eq!(cmd.as_deref(), Some(a.name), "{} is not one word", a.name);
            assert_eq!(arg, "x");
            let found = find(a.name).map(|f| f as *const Action);
            assert_eq!(found, Some(a as *const Action), "{}", a.name);
        }
        assert!(find("STATUS").is_none());
        assert!(find("").is_none());
    }

    #[test]
    fn only_quit_exit_and_eof_leave_the_shell() {
        let leaving: Vec<&str> = ACTIONS
            .iter()
            .filter(|a| a.leaves_shell)
            .map(|a| a.name)
            .collect();
        assert_eq!(leaving, ["EOF", "exit", "quit"]);
    }

    #[test]
    fn help_has_a_text_for_every_action_it_shows() {
        for a in ACTIONS {
            match a.shown {
                Shown::Listed | Shown::Unlisted | Shown::Extension => {
                    assert!(a.help.is_some_and(|h| !h.is_empty()), "{}", a.name)
                }
                Shown::Hidden => assert_eq!(a.help, None, "{}", a.name),
            }
        }
        assert_eq!(topic("nosuch"), None);
        assert_eq!(topic("EOF"), None);
    }

    /// `help` lists what Python lists; ours are documented, not listed.
    #[test]
    fn extensions_are_documented_not_listed() {
        assert!(!listed().any(|a| a.name == "wait"));
        assert!(documented().any(|a| a.name == "wait"));
        assert!(completed_names().any(|n| n == "wait"));
        let status = topic("status").unwrap_or_default();
        assert!(status.starts_with(misuse_help("status").unwrap_or("?")));
        assert!(status.contains("--json"));
        assert!(!misuse_help("avail").unwrap_or("--json").contains("--json"));
        assert!(topic("avail").is_some_and(|t| t.contains("--json")));
    }

    /// Each action asks for its own help text by name when it is misused;
    /// those names must be in the table, or the user gets nothing.
    #[test]
    fn actions_ask_for_help_texts_that_exist() {
        let source = include_str!("actions.rs");
        let mut asked = 0;
        for marker in ["help_for(\"", "no_args(\""] {
            for (i, _) in source.match_indices(marker) {
                let rest = &source[i + marker.len()..];
                let name = &rest[..rest.find('"').unwrap_or(0)];
                assert!(topic(name).is_some(), "no help text for {:?}", name);
                asked += 1;
            }
        }
        assert!(asked >= 10, "found only {} help lookups", asked);
    }

    #[test]
    fn argument_completion_follows_the_table() {
        let kinds: Vec<(&str, Completes)> = ACTIONS.iter().map(|a| (a.name, a.completes)).collect();
        for (name, kind) in kinds {
            assert_eq!(argument_completes(name), kind, "{}", name);
        }
        // Python's substring quirk.
        assert_eq!(argument_completes("he"), Completes::Actions);
        assert_eq!(argument_completes("l"), Completes::Actions);
        assert_eq!(argument_completes("sta"), Completes::Nothing);
        assert_eq!(argument_completes("nosuch"), Completes::Nothing);
    }

    fn ctl_with_processes(infos: &[(&str, &str)]) -> Ctl {
        let mut ctl = Ctl::new(
            super::super::client::Client::new("unix:///nonexistent".into(), None, None),
            false,
            "supervisor".into(),
        );
        let infos = infos
            .iter()
            .map(|(group, name)| {
                Value::structure([
                    ("group", Value::String(group.to_string())),
                    ("name", Value::String(name.to_string())),
                ])
            })
            .collect();
        ctl.complete_info = Some(infos);
        ctl
    }

    #[test]
    fn completion_of_action_names_comes_from_the_table() {
        let mut ctl = ctl_with_processes(&[]);
        let all: Vec<String> = completed_names().map(|n| format!("{} ", n)).collect();
        assert_eq!(ctl.complete("", ""), all);
        assert_eq!(ctl.complete("  ", ""), all);
        assert!(!all.contains(&"EOF ".to_string()));
        assert_eq!(all.len(), ACTIONS.len() - 1);
        assert_eq!(
            ctl.complete("re", "re"),
            ["reload ", "remove ", "reread ", "restart "]
        );
        assert_eq!(
            ctl.complete("help st", "st"),
            ["start ", "status ", "stop "]
        );
        assert_eq!(ctl.complete("he q", "q"), ["quit "]);
        assert!(ctl.complete("x", "x").is_empty());
    }

    #[test]
    fn completion_of_arguments_by_kind() {
        let mut ctl = ctl_with_processes(&[("web", "web"), ("grp", "a"), ("grp", "b")]);
        assert_eq!(ctl.complete("add ", ""), ["web ", "grp "]);
        assert_eq!(
            ctl.complete("start ", ""),
            ["web ", "grp:a ", "grp:* ", "grp:b "]
        );
        assert_eq!(ctl.complete("tail w", "w"), ["web "]);
        assert_eq!(ctl.complete("stop web:", "web:"), ["web:web ", "web:* "]);
        assert!(ctl.complete("version ", "").is_empty());
        assert!(ctl.complete("open ", "").is_empty());
        assert!(ctl.complete("EOF ", "").is_empty());
    }
}
