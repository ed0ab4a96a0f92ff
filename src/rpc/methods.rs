//! The one table of published XML-RPC methods: name, parameter counts,
//! docstring and handler. `system.listMethods`, `methodHelp`,
//! `methodSignature`, the INCORRECT_PARAMETERS checks and the dispatch
//! all come from it, so a method cannot be listed but not served, or
//! served without help.

use super::docs::*;
use super::supervisor_ns::{self as ns, Handler, Outcome};
use super::xmlrpc::Value;
use crate::states::Mood;

/// How a method is answered.
#[derive(Clone, Copy)]
pub enum Run {
    /// From the mood the loop publishes and constants alone, without a
    /// trip to the loop (SHUTDOWN_STATE while stopping): the most frequent
    /// call of monitoring tools, getState, costs no loop time.
    Mood(fn(Mood) -> Value),
    /// As a job on the loop. `gated`: SHUTDOWN_STATE before anything else
    /// while stopping; the ungated ones check the mood themselves where
    /// Python does.
    Loop { handler: Handler, gated: bool },
    /// `system.*`, answered by the dispatcher itself.
    System(System),
}

/// The `system.*` methods.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum System {
    ListMethods,
    MethodHelp,
    MethodSignature,
    Multicall,
}

/// One published method.
pub struct Method {
    /// The full name, under `supervisor.` for the standard interface
    /// (published under every `[rpcinterface:x]` name the config has).
    pub name: &'static str,
    /// How many parameters it takes (least, most).
    pub params: (usize, usize),
    /// Its docstring: `methodHelp`, and `methodSignature` from its tags.
    pub doc: &'static str,
    pub run: Run,
}

const fn mood(name: &'static str, doc: &'static str, f: fn(Mood) -> Value) -> Method {
    Method {
        name,
        params: (0, 0),
        doc,
        run: Run::Mood(f),
    }
}

/// A job on the loop that answers SHUTDOWN_STATE first while stopping.
const fn on_loop(
    name: &'static str,
    params: (usize, usize),
    doc: &'static str,
    handler: Handler,
) -> Method {
    job(name, params, doc, handler, true)
}

/// A job on the loop that checks the mood itself where Python does.
const fn ungated(
    name: &'static str,
    params: (usize, usize),
    doc: &'static str,
    handler: Handler,
) -> Method {
    job(name, params, doc, handler, false)
}

const fn job(
    name: &'static str,
    params: (usize, usize),
    doc: &'static str,
    handler: Handler,
    gated: bool,
) -> Method {
    Method {
        name,
        params,
        doc,
        run: Run::Loop { handler, gated },
    }
}

const fn system(name: &'static str, params: usize, doc: &'static str, which: System) -> Method {
    Method {
        name,
        params: (params, params),
        doc,
        run: Run::System(which),
    }
}

/// Every published method, sorted by name in byte order (as Python sorts
/// them for listMethods). Aliases share their target's docstring and
/// handler, as in Python, where they are the same function.
pub static METHODS: &[Method] = &[
    on_loop(
        "supervisor.addProcessGroup",
        (1, 1),
        ADD_PROCESS_GROUP,
        ns::add_process_group,
    ),
    on_loop(
        "supervisor.clearAllProcessLogs",
        (0, 0),
        CLEAR_ALL_PROCESS_LOGS,
        ns::clear_all_process_logs,
    ),
    on_loop("supervisor.clearLog", (0, 0), CLEAR_LOG, ns::clear_main_log),
    on_loop(
        "supervisor.clearProcessLog",
        (1, 1),
        CLEAR_PROCESS_LOGS,
        ns::clear_process_logs,
    ),
    on_loop(
        "supervisor.clearProcessLogs",
        (1, 1),
        CLEAR_PROCESS_LOGS,
        ns::clear_process_logs,
    ),
    mood("supervisor.getAPIVersion", GET_API_VERSION, ns::api_version),
    on_loop(
        "supervisor.getAllConfigInfo",
        (0, 0),
        GET_ALL_CONFIG_INFO,
        ns::get_all_config_info,
    ),
    on_loop(
        "supervisor.getAllProcessInfo",
        (0, 0),
        GET_ALL_PROCESS_INFO,
        ns::get_all_process_info,
    ),
    on_loop(
        "supervisor.getIdentification",
        (0, 0),
        GET_IDENTIFICATION,
        ns::identification,
    ),
    mood("supervisor.getPID", GET_PID, ns::pid),
    on_loop(
        "supervisor.getProcessInfo",
        (1, 1),
        GET_PROCESS_INFO,
        ns::get_process_info,
    ),
    mood("supervisor.getState", GET_STATE, ns::state),
    mood(
        "supervisor.getSupervisorVersion",
        GET_SUPERVISOR_VERSION,
        ns::supervisor_version,
    ),
    mood("supervisor.getVersion", GET_API_VERSION, ns::api_version),
    on_loop("supervisor.readLog", (2, 2), READ_LOG, ns::read_main_log),
    on_loop(
        "supervisor.readMainLog",
        (2, 2),
        READ_LOG,
        ns::read_main_log,
    ),
    on_loop(
        "supervisor.readProcessLog",
        (3, 3),
        READ_PROCESS_STDOUT_LOG,
        ns::read_process_stdout_log,
    ),
    on_loop(
        "supervisor.readProcessStderrLog",
        (3, 3),
        READ_PROCESS_STDERR_LOG,
        ns::read_process_stderr_log,
    ),
    on_loop(
        "supervisor.readProcessStdoutLog",
        (3, 3),
        READ_PROCESS_STDOUT_LOG,
        ns::read_process_stdout_log,
    ),
    on_loop(
        "supervisor.reloadConfig",
        (0, 0),
        RELOAD_CONFIG,
        ns::reload_config,
    ),
    on_loop(
        "supervisor.removeProcessGroup",
        (1, 1),
        REMOVE_PROCESS_GROUP,
        ns::remove_process_group,
    ),
    on_loop("supervisor.restart", (0, 0), RESTART, ns::restart),
    on_loop(
        "supervisor.sendProcessStdin",
        (2, 2),
        SEND_PROCESS_STDIN,
        ns::send_process_stdin,
    ),
    // The one call Python serves while stopping.
    ungated(
        "supervisor.sendRemoteCommEvent",
        (2, 2),
        SEND_REMOTE_COMM_EVENT,
        ns::send_remote_comm_event,
    ),
    on_loop("supervisor.shutdown", (0, 0), SHUTDOWN, ns::shutdown),
    // Python signals first and checks the mood after.
    ungated(
        "supervisor.signalAllProcesses",
        (1, 1),
        SIGNAL_ALL_PROCESSES,
        ns::signal_all_processes,
    ),
    on_loop(
        "supervisor.signalProcess",
        (2, 2),
        SIGNAL_PROCESS,
        ns::signal_process,
    ),
    ungated(
        "supervisor.signalProcessGroup",
        (2, 2),
        SIGNAL_PROCESS_GROUP,
        ns::signal_process_group,
    ),
    on_loop(
        "supervisor.startAllProcesses",
        (0, 1),
        START_ALL_PROCESSES,
        ns::start_all_processes,
    ),
    on_loop(
        "supervisor.startProcess",
        (1, 2),
        START_PROCESS,
        ns::start_process,
    ),
    on_loop(
        "supervisor.startProcessGroup",
        (1, 2),
        START_PROCESS_GROUP,
        ns::start_process_group,
    ),
    on_loop(
        "supervisor.stopAllProcesses",
        (0, 1),
        STOP_ALL_PROCESSES,
        ns::stop_all_processes,
    ),
    on_loop(
        "supervisor.stopProcess",
        (1, 2),
        STOP_PROCESS,
        ns::stop_process,
    ),
    on_loop(
        "supervisor.stopProcessGroup",
        (1, 2),
        STOP_PROCESS_GROUP,
        ns::stop_process_group,
    ),
    on_loop(
        "supervisor.tailProcessLog",
        (3, 3),
        TAIL_PROCESS_STDOUT_LOG,
        ns::tail_process_stdout_log,
    ),
    on_loop(
        "supervisor.tailProcessStderrLog",
        (3, 3),
        TAIL_PROCESS_STDERR_LOG,
        ns::tail_process_stderr_log,
    ),
    on_loop(
        "supervisor.tailProcessStdoutLog",
        (3, 3),
        TAIL_PROCESS_STDOUT_LOG,
        ns::tail_process_stdout_log,
    ),
    system("system.listMethods", 0, LIST_METHODS, System::ListMethods),
    system("system.methodHelp", 1, METHOD_HELP, System::MethodHelp),
    system(
        "system.methodSignature",
        1,
        METHOD_SIGNATURE,
        System::MethodSignature,
    ),
    system("system.multicall", 1, MULTICALL, System::Multicall),
];

/// The method of that full name (`supervisor.x` or `system.x`).
pub fn find(name: &str) -> Option<&'static Method> {
    METHODS
        .binary_search_by(|m| m.name.as_bytes().cmp(name.as_bytes()))
        .ok()
        .map(|i| &METHODS[i])
}

/// The method of the standard interface by its bare name (`getState`).
pub fn standard(name: &str) -> Option<&'static Method> {
    METHODS
        .iter()
        .find(|m| m.name.strip_prefix("supervisor.") == Some(name))
}

/// A call answered by the mood alone, with Python's fault while stopping;
/// None when the method is not one of those.
pub fn by_mood(method: &Method, mood: Mood) -> Option<Outcome> {
    let Run::Mood(answer) = method.run else {
        return None;
    };
    Some(ns::check_mood(mood).map(|()| answer(mood)))
}

/// The docstring of a published method (`system.methodHelp`); None for any
/// other name (Python then faults SIGNATURE_UNSUPPORTED).
pub fn help(name: &str) -> Option<&'static str> {
    find(name).map(|m| m.doc)
}

/// `system.methodSignature`: the return type, then the parameter types.
/// None for an unknown method or a docstring without `@return`; the caller
/// answers SIGNATURE_UNSUPPORTED (4) then, as Python does.
pub fn signature(name: &str) -> Option<Vec<&'static str>> {
    signature_of(help(name)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rpc::faults as f;

    #[test]
    fn sorted_bytewise_and_unique() {
        assert_eq!(METHODS.len(), 41);
        assert!(METHODS
            .windows(2)
            .all(|w| w[0].name.as_bytes() < w[1].name.as_bytes()));
        for m in METHODS {
            assert!(std::ptr::eq(find(m.name).expect("found"), m), "{}", m.name);
            let (least, most) = m.params;
            assert!(least <= most, "{}", m.name);
        }
        assert!(find("supervisor.nope").is_none());
        assert!(find("getState").is_none());
    }

    #[test]
    fn parameter_counts_agree_with_the_docstrings() {
        // Every @param is a parameter; the optional ones are the last.
        for m in METHODS {
            let params = signature_of(m.doc).expect("has @return").len() - 1;
            assert_eq!(m.params.1, params, "{}", m.name);
        }
    }

    #[test]
    fn standard_names_are_the_supervisor_namespace() {
        assert_eq!(
            standard("getState").map(|m| m.name),
            Some("supervisor.getState")
        );
        assert!(standard("listMethods").is_none());
    }

    #[test]
    fn mood_calls_answer_running_and_fault_otherwise() {
        let get_state = find("supervisor.getState").expect("listed");
        let state = by_mood(get_state, Mood::Running).map(|o| o.ok());
        assert_eq!(
            state,
            Some(Some(Value::structure([
                ("statecode", Value::Int(1)),
                ("statename", Value::from("RUNNING")),
            ])))
        );
        let version = find("supervisor.getAPIVersion").expect("listed");
        for mood in [Mood::Restarting, Mood::Shutdown] {
            let fault = by_mood(version, mood).and_then(|o| o.err());
            assert_eq!(fault.map(|f| f.code), Some(f::SHUTDOWN_STATE));
        }
        let info = find("supervisor.getProcessInfo").expect("listed");
        assert!(by_mood(info, Mood::Running).is_none());
    }
}
