//! XML-RPC: the codec, the fault codes, and the `supervisor.*` and
//! `system.*` methods.
//!
//! [`Dispatcher::call`] is what the HTTP layer calls with a decoded
//! request. It checks the method name against our table (never an
//! attribute lookup: CVE-2017-11610), answers `system.*` itself, and sends
//! `supervisor.*` calls to the loop as jobs, waiting on a reply channel.

pub mod docs;
pub mod faults;
pub mod methods;
pub mod supervisor_ns;
pub mod xmlrpc;

use crate::supervisor::{Job, LoopGone, LoopHandle, Supervisor};
use methods::{Method, Run, System};
use std::sync::{mpsc, Arc, RwLock};
use supervisor_ns::{Handler, Offload, Outcome, Step};
use xmlrpc::{Fault, Value};

/// The published names with the standard interface under each of
/// `namespaces` (the `[rpcinterface:x]` section names), sorted.
fn published(namespaces: &[String]) -> Vec<String> {
    let mut names: Vec<String> = methods::METHODS
        .iter()
        .flat_map(|m| match m.name.strip_prefix("supervisor.") {
            Some(bare) => namespaces
                .iter()
                .map(|ns| format!("{}.{}", ns, bare))
                .collect(),
            None => vec![m.name.to_string()],
        })
        .collect();
    names.sort();
    names
}

/// Runs calls for the HTTP threads. Clones share the loop they talk to,
/// which a restart replaces ([`Dispatcher::attach`]).
#[derive(Clone)]
pub struct Dispatcher {
    target: Arc<RwLock<Target>>,
}

/// The loop to talk to and the namespaces the config publishes the
/// standard interface under (Python serves `supervisor.*` only when
/// `[rpcinterface:supervisor]` is configured).
struct Target {
    handle: LoopHandle,
    namespaces: Vec<String>,
}

/// What the loop sends back for one call.
enum Reply {
    Now(Outcome),
    Offload(Offload),
}

impl Dispatcher {
    pub fn new(handle: LoopHandle, namespaces: Vec<String>) -> Dispatcher {
        Dispatcher {
            target: Arc::new(RwLock::new(Target { handle, namespaces })),
        }
    }

    /// Talks to a new loop (and config) from now on.
    pub fn attach(&self, handle: LoopHandle, namespaces: Vec<String>) {
        if let Ok(mut t) = self.target.write() {
            *t = Target { handle, namespaces };
        }
    }

    /// Queues a job on the current loop.
    fn send(&self, job: Job) -> Result<(), LoopGone> {
        match self.target.read() {
            Ok(t) => t.handle.send(job),
            Err(_) => Err(LoopGone),
        }
    }

    fn namespaces(&self) -> Vec<String> {
        self.target
            .read()
            .map(|t| t.namespaces.clone())
            .unwrap_or_default()
    }

    /// One call, by its full name, with Python's faults.
    pub fn call(&self, method: &str, params: Vec<Value>) -> Outcome {
        let Some((namespace, name)) = split_method(method) else {
            return Err(faults::bare(faults::UNKNOWN_METHOD));
        };
        let found = match namespace {
            "system" => methods::find(method).filter(|m| matches!(m.run, Run::System(_))),
            ns if self.namespaces().iter().any(|n| n == ns) => methods::standard(name),
            _ => None,
        };
        match found {
            Some(m) => self.run(m, params),
            None => Err(faults::bare(faults::UNKNOWN_METHOD)),
        }
    }

    /// A method of the standard interface by its bare name, whatever the
    /// config publishes it as (the web page uses it, as Python's does).
    pub fn standard(&self, name: &str, params: Vec<Value>) -> Outcome {
        match methods::standard(name) {
            Some(m) => self.run(m, params),
            None => Err(faults::bare(faults::UNKNOWN_METHOD)),
        }
    }

    /// Runs a method of the table: the parameter count, then its answer.
    fn run(&self, method: &Method, params: Vec<Value>) -> Outcome {
        let (least, most) = method.params;
        if params.len() < least || params.len() > most {
            return Err(faults::bare(faults::INCORRECT_PARAMETERS));
        }
        match method.run {
            Run::Mood(_) => {
                let mood = match self.target.read() {
                    Ok(t) => t.handle.mood(),
                    Err(_) => return Err(faults::bare(faults::SHUTDOWN_STATE)),
                };
                methods::by_mood(method, mood).unwrap_or(Err(faults::bare(faults::FAILED)))
            }
            Run::Loop { handler, gated } => self.on_loop(handler, gated, params),
            Run::System(which) => self.system(which, params),
        }
    }

    /// Sends a supervisor.* call to the loop and waits for its answer. A
    /// loop that has gone (shutting down) answers SHUTDOWN_STATE.
    fn on_loop(&self, handler: Handler, gated: bool, params: Vec<Value>) -> Outcome {
        let (tx, rx) = mpsc::sync_channel::<Reply>(1);
        let job = Box::new(move |sup: &mut Supervisor| {
            let step = if gated {
                supervisor_ns::check_mood(sup.mood()).and_then(|()| handler(sup, &params))
            } else {
                handler(sup, &params)
            };
            match step.unwrap_or_else(|fault| Step::Done(Err(fault))) {
                Step::Done(outcome) => {
                    let _ = tx.send(Reply::Now(outcome));
                }
                Step::Offload(run) => {
                    let _ = tx.send(Reply::Offload(run));
                }
                Step::Wait(mut pending) => sup.park(Box::new(move |sup: &mut Supervisor| {
                    match pending(sup) {
                        Some(outcome) => {
                            let _ = tx.send(Reply::Now(outcome));
                            true
                        }
                        // A client that went away no longer needs the answer.
                        None => false,
                    }
                })),
            }
        });
        if self.send(job).is_err() {
            return Err(faults::bare(faults::SHUTDOWN_STATE));
        }
        match rx.recv() {
            Ok(Reply::Now(outcome)) => outcome,
            Ok(Reply::Offload(run)) => run(),
            Err(_) => Err(faults::bare(faults::SHUTDOWN_STATE)),
        }
    }

    /// The processes with a health check that did not pass (yet), as
    /// (group, name), for `/ready`; empty if the loop has gone.
    pub fn not_healthy(&self) -> Vec<(String, String)> {
        let (tx, rx) = mpsc::sync_channel(1);
        let job = Box::new(move |sup: &mut Supervisor| {
            let ids = sup.processes(crate::supervisor::Order::Priority);
            let out: Vec<(String, String)> = ids
                .into_iter()
                .filter(|&id| sup.healthy(id) == Some(false))
                .filter_map(|id| {
                    sup.info(id)
                        .map(|i| (i.group.to_string(), i.name.to_string()))
                })
                .collect();
            let _ = tx.send(out);
        });
        if self.send(job).is_err() {
            return Vec::new();
        }
        rx.recv().unwrap_or_default()
    }

    /// Whether the loop runs a no-op job within `deadline` (`/live`).
    pub fn loop_answers(&self, deadline: std::time::Duration) -> bool {
        let (tx, rx) = mpsc::sync_channel(1);
        let job = Box::new(move |_: &mut Supervisor| {
            let _ = tx.send(());
        });
        self.send(job).is_ok() && rx.recv_timeout(deadline).is_ok()
    }

    /// The log file behind `/logtail/<spec>/<channel>`, if the process
    /// exists and the channel (`stdout` or `stderr`) has a file.
    pub fn process_log_path(&self, spec: &str, channel: &str) -> Option<std::path::PathBuf> {
        let (tx, rx) = mpsc::sync_channel(1);
        let (spec, channel) = (spec.to_string(), channel.to_string());
        let job = Box::new(move |sup: &mut Supervisor| {
            let _ = tx.send(supervisor_ns::log_path(sup, &spec, &channel));
        });
        self.send(job).ok()?;
        rx.recv().ok().flatten()
    }

    fn system(&self, which: System, params: Vec<Value>) -> Outcome {
        let names = published(&self.namespaces());
        // The docs are written for `supervisor.*`; another namespace
        // publishing the same interface shares them.
        let known = |v: &Value| -> Option<String> {
            let asked = v.as_str().filter(|s| names.iter().any(|n| n == s))?;
            Some(match asked.split_once('.') {
                Some(("system", _)) | None => asked.to_string(),
                Some((_, m)) => format!("supervisor.{}", m),
            })
        };
        match which {
            System::ListMethods => Ok(Value::array(names.iter().map(Value::from))),
            System::MethodHelp => known(&params[0])
                .and_then(|m| methods::help(&m))
                .map(Value::from)
                .ok_or_else(|| faults::bare(faults::SIGNATURE_UNSUPPORTED)),
            System::MethodSignature => known(&params[0])
                .and_then(|m| methods::signature(&m))
                .map(|sig| Value::array(sig.into_iter().map(Value::from)))
                .ok_or_else(|| faults::bare(faults::SIGNATURE_UNSUPPORTED)),
            System::Multicall => {
                let mut results = Vec::new();
                self.multicall_each(params, &mut |v| results.push(v))?;
                Ok(Value::Array(results))
            }
        }
    }

    /// system.multicall: runs the calls in order, each to its end (waiting
    /// ones included); a result is the value itself or `{faultCode,
    /// faultString}`. (The XML-RPC multicall convention wraps values as
    /// `[value]`; Supervisor does not, and its clients expect bare ones.)
    /// Each result goes to `each` as soon as its call has ended, so that a server can send it before the next one
    /// runs instead of holding every answer at once (200 reads of a 1 MiB
    /// log are 200 MiB). A fault of the whole call (no array of calls)
    /// comes before any result.
    pub fn multicall_each(
        &self,
        params: Vec<Value>,
        each: &mut dyn FnMut(Value),
    ) -> Result<(), Fault> {
        let Ok([calls]) = <[Value; 1]>::try_from(params) else {
            return Err(faults::bare(faults::INCORRECT_PARAMETERS));
        };
        let Value::Array(calls) = calls else {
            return Err(faults::bare(faults::INCORRECT_PARAMETERS));
        };
        for call in calls {
            let outcome = match call {
                Value::Struct(members) => self.one_of_multicall(members),
                // Python fails on `call.get` with a generic FAILED fault.
                _ => Err(faults::with(faults::FAILED, "each call must be a struct")),
            };
            each(match outcome {
                Ok(v) => v,
                Err(Fault { code, string }) => Value::structure([
                    ("faultCode", Value::Int(code)),
                    ("faultString", Value::from(string)),
                ]),
            });
        }
        Ok(())
    }

    /// One `{methodName, params}` of a multicall, with Python's faults.
    fn one_of_multicall(&self, members: Vec<(String, Value)>) -> Outcome {
        let mut method = None;
        let mut params = None;
        // Python's dict keeps the last of a repeated member.
        for (name, value) in members {
            match name.as_str() {
                "methodName" => method = Some(value),
                "params" => params = Some(value),
                _ => {}
            }
        }
        let params = match params {
            None => Ok(Vec::new()),
            Some(Value::Array(p)) => Ok(p),
            Some(_) => Err(faults::bare(faults::INCORRECT_PARAMETERS)),
        };
        match (method, params) {
            (None, _) => Err(faults::with(faults::INCORRECT_PARAMETERS, "No methodName")),
            (Some(Value::String(m)), _) if is_multicall(&m) => Err(faults::with(
                faults::INCORRECT_PARAMETERS,
                "Recursive system.multicall forbidden",
            )),
            (Some(Value::String(m)), Ok(p)) => self.call(&m, p),
            (Some(_), Ok(_)) => Err(faults::bare(faults::UNKNOWN_METHOD)),
            (Some(_), Err(e)) => Err(e),
        }
    }
}

/// Whether a call is `system.multicall` (whose answer a server may send
/// in parts: [`Dispatcher::multicall_each`]).
pub fn is_multicall(method: &str) -> bool {
    method == "system.multicall"
}

/// `namespace.method` with exactly one dot and no leading underscore on
/// the method (Python's traverse rules).
fn split_method(method: &str) -> Option<(&str, &str)> {
    let (ns, name) = method.split_once('.')?;
    if name.contains('.') || name.starts_with('_') || ns.is_empty() || name.is_empty() {
        return None;
    }
    Some((ns, name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn method_name_rules() {
        assert_eq!(
            split_method("supervisor.getState"),
            Some(("supervisor", "getState"))
        );
        assert_eq!(split_method("getState"), None);
        assert_eq!(split_method("supervisor.supervisord.options.execve"), None);
        assert_eq!(split_method("supervisor._update"), None);
        assert_eq!(split_method("a.b.c"), None);
    }

    #[test]
    fn namespaces_follow_the_rpcinterface_sections() {
        let none = published(&[]);
        assert!(none.iter().all(|n| n.starts_with("system.")));
        assert_eq!(none.len(), 4);
        let two = published(&["supervisor".to_string(), "other".to_string()]);
        assert!(two.contains(&"other.getState".to_string()));
        assert!(two.contains(&"supervisor.getState".to_string()));
        assert_eq!(two.len(), 4 + 2 * 37);
        let mut sorted = two.clone();
        sorted.sort();
        assert_eq!(two, sorted);
    }
}
