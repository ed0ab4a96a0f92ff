//! `exit_on` and `shutdown_on_fatal` (extensions): a program's failure
//! ends the daemon. The loop stops everything as for SIGTERM (reverse
//! priority, the usual `stopped:` lines) and the daemon exits with the
//! program's exit status, or 1 when it has none.

use super::Supervisor;
use crate::logs::activity;
use crate::states::{Mood, ProcessState};

impl Supervisor {
    /// Looks at this pass's state changes for a failure that ends the
    /// daemon; the first one found decides the exit status.
    pub(super) fn check_exit_on(&mut self) {
        if self.changes.is_empty() || self.exit_status.is_some() || self.mood < Mood::Running {
            return;
        }
        let exit_on = self.config.supervisord.exit_on;
        let watched = exit_on.fatal
            || exit_on.unexpected_exit
            || self.config.processes().any(|p| p.shutdown_on_fatal);
        if !watched {
            return;
        }
        let mut found = None;
        for c in &self.changes {
            let Some((gi, pi)) = self.process_index(&c.group, &c.name) else {
                continue;
            };
            let p = &self.groups[gi].processes[pi];
            let why = match c.to {
                ProcessState::Fatal if exit_on.fatal || p.config.shutdown_on_fatal => {
                    "entered FATAL state"
                }
                ProcessState::Exited if !c.expected && exit_on.unexpected_exit => {
                    "exited unexpectedly"
                }
                _ => continue,
            };
            found = Some((p.config.namespec(), why, p.last_exit));
            break;
        }
        let Some((name, why, last_exit)) = found else {
            return;
        };
        // An exit code the orchestrator can show; a signal or a clean
        // exit (a program that exited 0 too quickly) still means failure.
        let status = last_exit.filter(|&c| (1..=255).contains(&c)).unwrap_or(1);
        activity::crit(format!(
            "{} {}: shutting down (exit_on), exit status {}",
            name, why, status
        ));
        self.exit_status = Some(status);
        self.set_mood(Mood::Shutdown);
        self.again = true;
    }

    /// The status the daemon exits with after an exit_on shutdown.
    pub fn exit_status(&self) -> Option<i32> {
        self.exit_status
    }
}
