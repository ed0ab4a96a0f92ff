//! `wait [--timeout N] [name ...]` (not Python's): blocks until the named
//! processes (by default every autostarted program of the groups in use)
//! are RUNNING. Exit 0 when they are; exit 1, with a status line for each
//! one that is not, on the timeout or as soon as one is FATAL (it will not
//! become RUNNING by itself). Names are taken as `status` takes them
//! (`name`, `group:name`, `group:*`, `all`); an unknown one is an error
//! before any waiting.
//!
//! It polls getAllProcessInfo, which is the client's cost, not the
//! daemon's: 100 ms between calls at first, growing to 500 ms.

use super::actions::{exit, field, items, state, words};
use super::error::Error;
use super::{sigint, Ctl};
use crate::config::{make_namespec, split_namespec};
use crate::rpc::xmlrpc::Value;
use crate::states::ProcessState;
use std::time::{Duration, Instant};

/// How long `wait` waits without `--timeout`.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);
const FIRST_POLL: Duration = Duration::from_millis(100);
const LAST_POLL: Duration = Duration::from_millis(500);

/// What the words after `wait` ask for.
#[derive(Debug, PartialEq)]
struct Request {
    /// None: no limit (`--timeout 0`).
    timeout: Option<Duration>,
    names: Vec<String>,
}

/// Reads `--timeout N` / `--timeout=N` (seconds, fractions allowed) and
/// the names; the error is the message to print.
fn parse(args: Vec<String>) -> Result<Request, String> {
    let mut timeout = Some(DEFAULT_TIMEOUT);
    let mut names = Vec::new();
    let mut args = args.into_iter();
    while let Some(a) = args.next() {
        let value = if a == "--timeout" {
            args.next()
                .ok_or_else(|| "--timeout needs a number of seconds".to_string())?
        } else if let Some(v) = a.strip_prefix("--timeout=") {
            v.to_string()
        } else if a.starts_with('-') {
            return Err(format!("unknown option {}", a));
        } else {
            names.push(a);
            continue;
        };
        let secs: f64 = value
            .parse()
            .ok()
            .filter(|s: &f64| s.is_finite() && *s >= 0.0 && *s < 1e9)
            .ok_or_else(|| format!("bad timeout {:?} (seconds, 0 for none)", value))?;
        timeout = (secs > 0.0).then(|| Duration::from_secs_f64(secs));
    }
    Ok(Request { timeout, names })
}

/// A process waited for.
#[derive(Debug, Clone, PartialEq)]
struct Target {
    group: String,
    name: String,
}

impl Target {
    fn of(info: &Value) -> Target {
        Target {
            group: field(info, "group"),
            name: field(info, "name"),
        }
    }

    fn is(&self, info: &Value) -> bool {
        field(info, "group") == self.group && field(info, "name") == self.name
    }
}

/// How a poll ends the wait, if it does.
#[derive(Debug, PartialEq)]
enum Verdict {
    AllRunning,
    /// A target is FATAL: the infos of the targets not RUNNING.
    Fatal(Vec<Value>),
    /// A target left the daemon (its group was removed).
    Gone(Target),
    Waiting(Vec<Value>),
}

fn judge(targets: &[Target], infos: &[Value]) -> Verdict {
    let mut lagging = Vec::new();
    let mut fatal = false;
    for t in targets {
        let Some(info) = infos.iter().find(|i| t.is(i)) else {
            return Verdict::Gone(t.clone());
        };
        match state(info) {
            Some(ProcessState::Running) => continue,
            Some(ProcessState::Fatal) => fatal = true,
            _ => {}
        }
        lagging.push(info.clone());
    }
    if lagging.is_empty() {
        Verdict::AllRunning
    } else if fatal {
        Verdict::Fatal(lagging)
    } else {
        Verdict::Waiting(lagging)
    }
}

impl Ctl {
    pub(super) fn do_wait(&mut self, arg: &str) -> Result<(), Error> {
        let request = match parse(words(arg)) {
            Ok(r) => r,
            Err(msg) => {
                self.output(&format!("Error: {}", msg));
                self.exitstatus = exit::GENERIC;
                self.help_for("wait");
                return Ok(());
            }
        };
        if !self.upcheck()? {
            return Ok(());
        }
        self.client.check()?;
        let started = Instant::now();
        let Some(targets) = self.wait_targets(&request.names)? else {
            self.exitstatus = exit::GENERIC;
            return Ok(());
        };
        let mut pause = FIRST_POLL;
        loop {
            let infos = self.call("supervisor.getAllProcessInfo", &[])?;
            let lagging = match judge(&targets, items(&infos)) {
                Verdict::AllRunning => return Ok(()),
                Verdict::Gone(t) => {
                    let spec = make_namespec(&t.group, &t.name);
                    self.output(&format!("{}: ERROR (no such process)", spec));
                    self.exitstatus = exit::GENERIC;
                    return Ok(());
                }
                Verdict::Fatal(lagging) => {
                    self.show_statuses(&lagging);
                    self.exitstatus = exit::GENERIC;
                    return Ok(());
                }
                Verdict::Waiting(lagging) => lagging,
            };
            let left = match request.timeout {
                Some(t) => t.saturating_sub(started.elapsed()),
                None => pause,
            };
            if left.is_zero() {
                self.show_statuses(&lagging);
                self.exitstatus = exit::GENERIC;
                return Ok(());
            }
            if !sigint::sleep(pause.min(left)) {
                return Err(Error::new(super::error::Kind::Interrupted));
            }
            pause = (pause * 3 / 2).min(LAST_POLL);
        }
    }

    /// The processes `names` select (as `status` selects them), or, with
    /// no names, the autostarted programs of the groups in use. None
    /// when a name matched nothing (each one reported).
    fn wait_targets(&mut self, names: &[String]) -> Result<Option<Vec<Target>>, Error> {
        if names.is_empty() {
            let configs = self.call("supervisor.getAllConfigInfo", &[])?;
            let truthy = |c: &Value, k: &str| match c.struct_get(k) {
                Some(Value::Bool(b)) => *b,
                Some(Value::Int(i)) => *i != 0,
                _ => false,
            };
            let targets = items(&configs)
                .iter()
                .filter(|c| truthy(c, "autostart") && truthy(c, "inuse"))
                .map(Target::of)
                .collect();
            return Ok(Some(targets));
        }
        let all = self.call("supervisor.getAllProcessInfo", &[])?;
        let all = items(&all);
        if names.iter().any(|n| n == "all") {
            return Ok(Some(all.iter().map(Target::of).collect()));
        }
        let mut targets: Vec<Target> = Vec::new();
        let mut bad = false;
        for spec in names {
            let (group, process) = split_namespec(spec);
            let matching: Vec<Target> = all
                .iter()
                .filter(|i| {
                    field(i, "group") == group && process.is_none_or(|p| field(i, "name") == p)
                })
                .map(Target::of)
                .collect();
            if matching.is_empty() {
                bad = true;
                self.output(&match process {
                    None => format!("{}: ERROR (no such group)", group),
                    Some(_) => format!("{}: ERROR (no such process)", spec),
                });
            }
            for t in matching {
                if !targets.contains(&t) {
                    targets.push(t);
                }
            }
        }
        Ok((!bad).then_some(targets))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_string).collect()
    }

    #[test]
    fn timeout_forms_and_default() {
        assert_eq!(
            parse(args("a b")),
            Ok(Request {
                timeout: Some(DEFAULT_TIMEOUT),
                names: args("a b")
            })
        );
        assert_eq!(
            parse(args("--timeout 2.5 a")).map(|r| r.timeout),
            Ok(Some(Duration::from_millis(2500)))
        );
        assert_eq!(
            parse(args("a --timeout=3")).map(|r| (r.timeout, r.names)),
            Ok((Some(Duration::from_secs(3)), args("a")))
        );
        assert_eq!(parse(args("--timeout 0")).map(|r| r.timeout), Ok(None));
    }

    #[test]
    fn bad_timeouts_and_options_are_refused() {
        for bad in [
            "--timeout",
            "--timeout x",
            "--timeout -1",
            "--timeout nan",
            "--timeout=inf",
            "-x",
        ] {
            assert!(parse(args(bad)).is_err(), "{}", bad);
        }
    }

    fn info(group: &str, name: &str, state: ProcessState) -> Value {
        Value::structure([
            ("group", Value::from(group)),
            ("name", Value::from(name)),
            ("state", Value::Int(state.code())),
        ])
    }

    fn target(group: &str, name: &str) -> Target {
        Target {
            group: group.into(),
            name: name.into(),
        }
    }

    #[test]
    fn a_poll_ends_the_wait_when_all_run_one_is_fatal_or_one_is_gone() {
        let targets = [target("a", "a"), target("g", "x")];
        let running = [
            info("a", "a", ProcessState::Running),
            info("g", "x", ProcessState::Running),
        ];
        assert_eq!(judge(&targets, &running), Verdict::AllRunning);
        let starting = [
            info("a", "a", ProcessState::Running),
            info("g", "x", ProcessState::Starting),
        ];
        assert_eq!(
            judge(&targets, &starting),
            Verdict::Waiting(vec![starting[1].clone()])
        );
        let fatal = [
            info("a", "a", ProcessState::Backoff),
            info("g", "x", ProcessState::Fatal),
        ];
        assert_eq!(judge(&targets, &fatal), Verdict::Fatal(fatal.to_vec()));
        assert_eq!(
            judge(&targets, &running[..1]),
            Verdict::Gone(target("g", "x"))
        );
        assert_eq!(judge(&[], &[]), Verdict::AllRunning);
    }
}
