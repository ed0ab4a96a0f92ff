//! `[supervisord] sighup = update` (ours, not Python's): a SIGHUP does on
//! the server what `supervisorctl update` does through XML-RPC. The
//! config is read again (reloadConfig); removed and changed groups are
//! stopped as stopProcessGroup stops them, and once all their processes
//! have stopped they are removed, then changed and added groups are
//! added (removeProcessGroup, addProcessGroup). Unchanged groups, their
//! processes and the daemon itself are left alone, and so is everything
//! of `[supervisord]` and the HTTP servers: only program groups change.
//!
//! A config that no longer reads is logged with reread's error text and
//! changes nothing. Nothing here blocks the loop: the stops are waited
//! for by a parked [`super::Waiter`].

use super::{ProcessId, Supervisor};
use crate::logs::activity;
use crate::states::Mood;

/// A group being stopped so that it can be removed (and maybe added
/// again from the new config).
struct Leaving {
    name: String,
    /// Its processes when the update began: if the group in the loop has
    /// other ones by the time they have stopped, someone else (another
    /// update, removeProcessGroup) has replaced it, and it is left alone.
    members: Vec<ProcessId>,
}

impl Supervisor {
    /// SIGHUP when `sighup = update`.
    pub(super) fn hup_update(&mut self, signame: &str) {
        if self.mood() != Mood::Running {
            activity::warn(format!(
                "ignored {} indicating update request (shutdown in progress)",
                signame
            ));
            return;
        }
        activity::warn(format!("received {} indicating update request", signame));
        self.update_groups();
    }

    /// reread, then stop, remove and add groups as `supervisorctl update`
    /// does; the removals and additions happen once the stops are done.
    fn update_groups(&mut self) {
        let [added, changed, removed] = match self.reread() {
            Ok(changes) => changes,
            Err(msg) => {
                activity::error(format!(
                    "update not done, the running groups are unchanged: CANT_REREAD: {}",
                    msg
                ));
                return;
            }
        };
        if added.is_empty() && changed.is_empty() && removed.is_empty() {
            activity::info("update: no config updates to processes");
            return;
        }
        let mut leaving = Vec::new();
        let mut joining = Vec::new();
        for name in removed.iter().chain(&changed) {
            if !self.stop_for_update(name) {
                activity::error(format!("update: {}: has problems; not removing", name));
                continue;
            }
            let members = self.members(name).unwrap_or_default();
            leaving.push(Leaving {
                name: name.clone(),
                members,
            });
            if changed.contains(name) {
                joining.push(name.clone());
            }
        }
        joining.extend(added);
        self.park(Box::new(move |sup: &mut Supervisor| {
            sup.finish_update(&leaving, &joining)
        }));
    }

    /// Stops a group's running processes in priority order, after what
    /// depends on them, as stopProcessGroup does; false if a stop failed.
    fn stop_for_update(&mut self, group: &str) -> bool {
        let mut ok = true;
        for id in self.members(group).unwrap_or_default() {
            if self.state(id).is_some_and(|s| s.is_running()) {
                if let Err(super::StopError::Failed(_)) = self.stop_after_dependents(id) {
                    ok = false;
                }
            }
        }
        ok
    }

    /// The waiter's step: nothing until every leaving process has
    /// stopped; then the removals and additions. True when done (or when
    /// a shutdown or restart has taken over).
    fn finish_update(&mut self, leaving: &[Leaving], joining: &[String]) -> bool {
        if self.mood() != Mood::Running {
            return true;
        }
        let stopped = leaving
            .iter()
            .flat_map(|g| &g.members)
            .all(|&id| self.state(id).is_none_or(|s| s.is_stopped()));
        if !stopped {
            return false;
        }
        for g in leaving {
            if self.members(&g.name).as_ref() != Some(&g.members) {
                continue;
            }
            match self.remove_group(&g.name) {
                Ok(()) if joining.contains(&g.name) => {}
                Ok(()) => activity::info(format!("update: {}: removed process group", g.name)),
                Err(e) => activity::error(format!("update: {}: not removed: {:?}", g.name, e)),
            }
        }
        for name in joining {
            let was_leaving = leaving.iter().any(|g| &g.name == name);
            match self.add_configured_group(name) {
                Ok(()) if was_leaving => {
                    activity::info(format!("update: {}: updated process group", name))
                }
                Ok(()) => activity::info(format!("update: {}: added process group", name)),
                // Added meanwhile (addProcessGroup), or gone from the
                // config by a later reread: nothing to do.
                Err(_) => {}
            }
        }
        true
    }
}
