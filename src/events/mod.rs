//! Events: Supervisor's event types, their payload texts and the envelope a
//! listener reads, the per-pool buffers, and the listener protocol.
//!
//! The loop creates an [`Event`] where Python calls `notify()`; every pool
//! subscribed to its type (or to an abstract parent: `PROCESS_STATE`,
//! `PROCESS_LOG`, `TICK`, ..., or `EVENT`) buffers it, and the loop hands
//! buffered events to READY listeners after every pass.

pub mod listener;
pub mod pool;

use crate::pycompat::repr::py_repr_bytes;
use crate::states::ProcessState;
use std::sync::atomic::{AtomicU64, Ordering};

/// Every concrete event type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    ProcessStateStopped,
    ProcessStateExited,
    ProcessStateStarting,
    ProcessStateStopping,
    ProcessStateBackoff,
    ProcessStateFatal,
    ProcessStateRunning,
    ProcessStateUnknown,
    ProcessCommunicationStdout,
    ProcessCommunicationStderr,
    ProcessLogStdout,
    ProcessLogStderr,
    RemoteCommunication,
    SupervisorStateChangeRunning,
    SupervisorStateChangeStopping,
    Tick5,
    Tick60,
    Tick3600,
    ProcessGroupAdded,
    ProcessGroupRemoved,
    /// A program failed its health check `healthcheck_retries` times in a
    /// row (an extension; only `EVENT` is its parent).
    ProcessHealthFailed,
}

impl EventType {
    /// The name in the envelope and in `events=`.
    pub fn name(self) -> &'static str {
        use EventType::*;
        match self {
            ProcessStateStopped => "PROCESS_STATE_STOPPED",
            ProcessStateExited => "PROCESS_STATE_EXITED",
            ProcessStateStarting => "PROCESS_STATE_STARTING",
            ProcessStateStopping => "PROCESS_STATE_STOPPING",
            ProcessStateBackoff => "PROCESS_STATE_BACKOFF",
            ProcessStateFatal => "PROCESS_STATE_FATAL",
            ProcessStateRunning => "PROCESS_STATE_RUNNING",
            ProcessStateUnknown => "PROCESS_STATE_UNKNOWN",
            ProcessCommunicationStdout => "PROCESS_COMMUNICATION_STDOUT",
            ProcessCommunicationStderr => "PROCESS_COMMUNICATION_STDERR",
            ProcessLogStdout => "PROCESS_LOG_STDOUT",
            ProcessLogStderr => "PROCESS_LOG_STDERR",
            RemoteCommunication => "REMOTE_COMMUNICATION",
            SupervisorStateChangeRunning => "SUPERVISOR_STATE_CHANGE_RUNNING",
            SupervisorStateChangeStopping => "SUPERVISOR_STATE_CHANGE_STOPPING",
            Tick5 => "TICK_5",
            Tick60 => "TICK_60",
            Tick3600 => "TICK_3600",
            ProcessGroupAdded => "PROCESS_GROUP_ADDED",
            ProcessGroupRemoved => "PROCESS_GROUP_REMOVED",
            ProcessHealthFailed => "PROCESS_HEALTH_FAILED",
        }
    }

    /// The abstract type this one belongs to (REMOTE_COMMUNICATION has
    /// none but EVENT).
    fn parent(self) -> Option<&'static str> {
        use EventType::*;
        Some(match self {
            ProcessStateStopped | ProcessStateExited | ProcessStateStarting
            | ProcessStateStopping | ProcessStateBackoff | ProcessStateFatal
            | ProcessStateRunning | ProcessStateUnknown => "PROCESS_STATE",
            ProcessCommunicationStdout | ProcessCommunicationStderr => "PROCESS_COMMUNICATION",
            ProcessLogStdout | ProcessLogStderr => "PROCESS_LOG",
            SupervisorStateChangeRunning | SupervisorStateChangeStopping => {
                "SUPERVISOR_STATE_CHANGE"
            }
            Tick5 | Tick60 | Tick3600 => "TICK",
            ProcessGroupAdded | ProcessGroupRemoved => "PROCESS_GROUP",
            RemoteCommunication | ProcessHealthFailed => return None,
        })
    }

    /// Whether a subscription to `name` receives this type (Python's
    /// isinstance on the event classes).
    pub fn is_a(self, name: &str) -> bool {
        name == "EVENT" || name == self.name() || self.parent() == Some(name)
    }

    /// The PROCESS_STATE_* type for entering `state`.
    pub fn for_state(state: ProcessState) -> EventType {
        use EventType::*;
        match state {
            ProcessState::Stopped => ProcessStateStopped,
            ProcessState::Starting => ProcessStateStarting,
            ProcessState::Running => ProcessStateRunning,
            ProcessState::Backoff => ProcessStateBackoff,
            ProcessState::Stopping => ProcessStateStopping,
            ProcessState::Exited => ProcessStateExited,
            ProcessState::Fatal => ProcessStateFatal,
            ProcessState::Unknown => ProcessStateUnknown,
        }
    }

    /// The tick types with their periods in seconds.
    pub const TICKS: [(EventType, u64); 3] = [
        (EventType::Tick5, 5),
        (EventType::Tick60, 60),
        (EventType::Tick3600, 3600),
    ];
}

/// One event: its type, its payload text, and the serial number it got
/// when the first pool took it.
#[derive(Debug)]
pub struct Event {
    pub kind: EventType,
    pub payload: String,
    pub serial: u64,
}

/// Python's GlobalSerial: one counter for the daemon's whole life
/// (restarts included), advanced only for events some pool takes.
static GLOBAL_SERIAL: AtomicU64 = AtomicU64::new(0);

pub fn next_global_serial() -> u64 {
    GLOBAL_SERIAL.fetch_add(1, Ordering::Relaxed)
}

/// Bytes as Python's `as_string` gives them, or its `Undecodable: b'..'`.
fn text_of(data: &[u8]) -> String {
    match std::str::from_utf8(data) {
        Ok(s) => s.to_string(),
        Err(_) => format!("Undecodable: {}", py_repr_bytes(data)),
    }
}

/// The identity of a process in payloads.
pub struct ProcessRef<'a> {
    pub name: &'a str,
    pub group: &'a str,
}

/// PROCESS_STATE_*: `processname:x groupname:g from_state:S` and the
/// extra fields of the type (tries; expected and pid; pid).
pub fn process_state_payload(
    p: &ProcessRef,
    to: ProcessState,
    from: ProcessState,
    expected: bool,
    pid: i32,
    tries: i64,
) -> String {
    let mut s = format!(
        "processname:{} groupname:{} from_state:{}",
        p.name,
        p.group,
        from.name()
    );
    match to {
        ProcessState::Starting | ProcessState::Backoff => s.push_str(&format!(" tries:{}", tries)),
        ProcessState::Exited => {
            s.push_str(&format!(" expected:{} pid:{}", i32::from(expected), pid))
        }
        ProcessState::Running | ProcessState::Stopping | ProcessState::Stopped => {
            s.push_str(&format!(" pid:{}", pid))
        }
        ProcessState::Fatal | ProcessState::Unknown => {}
    }
    s
}

/// PROCESS_LOG_*: a header line, then the data as read.
pub fn process_log_payload(p: &ProcessRef, pid: i32, channel: &str, data: &[u8]) -> String {
    format!(
        "processname:{} groupname:{} pid:{} channel:{}\n{}",
        p.name,
        p.group,
        pid,
        channel,
        text_of(data)
    )
}

/// PROCESS_COMMUNICATION_*: a header line, then the captured text.
pub fn process_communication_payload(p: &ProcessRef, pid: i32, data: &[u8]) -> String {
    format!(
        "processname:{} groupname:{} pid:{}\n{}",
        p.name,
        p.group,
        pid,
        text_of(data)
    )
}

pub fn remote_communication_payload(kind: &str, data: &str) -> String {
    format!("type:{}\n{}", kind, data)
}

/// PROCESS_HEALTH_FAILED: Python's header fields, then the last probe's
/// failure on the next line (as PROCESS_COMMUNICATION puts its data).
pub fn health_failed_payload(p: &ProcessRef, pid: i32, failures: u32, reason: &str) -> String {
    format!(
        "processname:{} groupname:{} pid:{} failures:{}\n{}",
        p.name, p.group, pid, failures, reason
    )
}

pub fn group_payload(group: &str) -> String {
    format!("groupname:{}\n", group)
}

pub fn tick_payload(when: u64) -> String {
    format!("when:{}", when)
}

/// The header and payload a listener reads. `len` counts characters, as
/// Python's `len()` of the payload string does (listeners written with
/// `childutils` read that many characters from a text stream).
pub fn envelope(identifier: &str, pool: &str, pool_serial: u64, event: &Event) -> String {
    format!(
        "ver:3.0 server:{} serial:{} pool:{} poolserial:{} eventname:{} len:{}\n{}",
        identifier,
        event.serial,
        pool,
        pool_serial,
        event.kind.name(),
        event.payload.chars().count(),
        event.payload
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subscriptions_follow_the_class_tree() {
        assert!(EventType::ProcessStateFatal.is_a("PROCESS_STATE_FATAL"));
        assert!(EventType::ProcessStateFatal.is_a("PROCESS_STATE"));
        assert!(EventType::ProcessStateFatal.is_a("EVENT"));
        assert!(!EventType::ProcessStateFatal.is_a("PROCESS_STATE_RUNNING"));
        assert!(EventType::Tick5.is_a("TICK"));
        assert!(!EventType::Tick5.is_a("TICK_60"));
        assert!(EventType::RemoteCommunication.is_a("REMOTE_COMMUNICATION"));
        assert!(!EventType::RemoteCommunication.is_a("PROCESS_COMMUNICATION"));
        assert!(EventType::ProcessGroupAdded.is_a("PROCESS_GROUP"));
        for name in crate::config::EVENT_TYPES {
            // every configurable name matches at least one concrete type
            let all = [
                EventType::ProcessStateStopped,
                EventType::ProcessCommunicationStdout,
                EventType::ProcessLogStderr,
                EventType::RemoteCommunication,
                EventType::SupervisorStateChangeRunning,
                EventType::SupervisorStateChangeStopping,
                EventType::Tick5,
                EventType::Tick60,
                EventType::Tick3600,
                EventType::ProcessGroupAdded,
                EventType::ProcessGroupRemoved,
                EventType::ProcessStateExited,
                EventType::ProcessStateStarting,
                EventType::ProcessStateStopping,
                EventType::ProcessStateBackoff,
                EventType::ProcessStateFatal,
                EventType::ProcessStateRunning,
                EventType::ProcessStateUnknown,
                EventType::ProcessCommunicationStderr,
                EventType::ProcessLogStdout,
                EventType::ProcessHealthFailed,
            ];
            assert!(all.iter().any(|t| t.is_a(name)), "{name}");
        }
    }

    #[test]
    fn payloads_like_python() {
        let p = ProcessRef {
            name: "cat",
            group: "cats",
        };
        assert_eq!(
            process_state_payload(
                &p,
                ProcessState::Exited,
                ProcessState::Running,
                false,
                42,
                0
            ),
            "processname:cat groupname:cats from_state:RUNNING expected:0 pid:42"
        );
        assert_eq!(
            process_state_payload(
                &p,
                ProcessState::Backoff,
                ProcessState::Starting,
                true,
                0,
                2
            ),
            "processname:cat groupname:cats from_state:STARTING tries:2"
        );
        assert_eq!(
            process_state_payload(&p, ProcessState::Fatal, ProcessState::Backoff, true, 0, 3),
            "processname:cat groupname:cats from_state:BACKOFF"
        );
        assert_eq!(
            process_log_payload(&p, 7, "stderr", b"oops\n"),
            "processname:cat groupname:cats pid:7 channel:stderr\noops\n"
        );
        assert_eq!(
            process_communication_payload(&p, 7, b"\xff"),
            "processname:cat groupname:cats pid:7\nUndecodable: b'\\xff'"
        );
        assert_eq!(group_payload("g"), "groupname:g\n");
        assert_eq!(tick_payload(1700000005), "when:1700000005");
        assert_eq!(remote_communication_payload("t", "d"), "type:t\nd");
    }

    #[test]
    fn envelope_counts_characters() {
        let ev = Event {
            kind: EventType::RemoteCommunication,
            payload: "type:x\nhé".to_string(),
            serial: 3,
        };
        assert_eq!(
            envelope("supervisor", "listener", 0, &ev),
            "ver:3.0 server:supervisor serial:3 pool:listener poolserial:0 eventname:REMOTE_COMMUNICATION len:9\ntype:x\nhé"
        );
    }
}
