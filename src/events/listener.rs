//! The event listener protocol, read from a listener's stdout: `READY\n`
//! asks for an event; after one is sent, `RESULT <len>\n` and `<len>` bytes
//! answer it (`OK` acknowledges, anything else rejects it and it is sent
//! again later). Anything else is a protocol violation: the listener goes
//! UNKNOWN and gets no more events. Python's states, transitions and log
//! lines, including its leniencies (the word before the length is not
//! checked).

use super::pool::Buffered;
use crate::logs::activity;
use crate::pycompat::repr::py_repr_bytes;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListenerState {
    Ready,
    Busy,
    Acknowledged,
    Unknown,
}

impl ListenerState {
    pub fn code(self) -> i64 {
        match self {
            ListenerState::Ready => 10,
            ListenerState::Busy => 20,
            ListenerState::Acknowledged => 30,
            ListenerState::Unknown => 40,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            ListenerState::Ready => "READY",
            ListenerState::Busy => "BUSY",
            ListenerState::Acknowledged => "ACKNOWLEDGED",
            ListenerState::Unknown => "UNKNOWN",
        }
    }
}

const READY: &[u8] = b"READY\n";
const RESULT_PREFIX_LEN: usize = "RESULT ".len();

/// One listener process's side of the protocol (reset at every spawn).
#[derive(Debug)]
pub struct Listener {
    pub state: ListenerState,
    /// The event sent and not yet answered.
    pub event: Option<Buffered>,
    buf: Vec<u8>,
    result: Vec<u8>,
    result_len: Option<usize>,
}

impl Default for Listener {
    fn default() -> Self {
        Listener::new()
    }
}

impl Listener {
    /// A freshly spawned listener: ACKNOWLEDGED until it says READY.
    pub fn new() -> Listener {
        Listener {
            state: ListenerState::Acknowledged,
            event: None,
            buf: Vec::new(),
            result: Vec::new(),
            result_len: None,
        }
    }

    /// The event was written to the listener's stdin (Python sets BUSY
    /// without a log line; the caller logs `event N sent to listener`).
    pub fn sent(&mut self, event: Buffered) {
        self.state = ListenerState::Busy;
        self.event = Some(event);
    }

    /// Feeds protocol bytes. Each event the listener rejects goes to
    /// `rejected` at once (back to the head of the pool's buffer), so the
    /// log lines come in Python's order.
    pub fn feed(&mut self, name: &str, data: &[u8], rejected: &mut dyn FnMut(Buffered)) {
        self.buf.extend_from_slice(data);
        while !self.buf.is_empty() {
            match self.state {
                ListenerState::Unknown => {
                    self.buf.clear();
                }
                ListenerState::Acknowledged => {
                    if self.buf.len() < READY.len() {
                        break;
                    }
                    if self.buf.starts_with(READY) {
                        self.change(name, ListenerState::Ready);
                        self.buf.drain(..READY.len());
                    } else {
                        self.change(name, ListenerState::Unknown);
                        self.buf.clear();
                    }
                    self.event = None;
                }
                ListenerState::Ready => {
                    // Output while nothing was asked of it: be strict.
                    self.change(name, ListenerState::Unknown);
                    self.buf.clear();
                    self.event = None;
                }
                ListenerState::Busy => {
                    if !self.busy_step(name, rejected) {
                        break;
                    }
                }
            }
        }
    }

    /// One step in BUSY; false when more bytes are needed.
    fn busy_step(&mut self, name: &str, rejected: &mut dyn FnMut(Buffered)) -> bool {
        let Some(len) = self.result_len else {
            let Some(pos) = self.buf.iter().position(|&b| b == b'\n') else {
                return false;
            };
            let line: Vec<u8> = self.buf.drain(..=pos).take(pos).collect();
            let digits = line.get(RESULT_PREFIX_LEN..).unwrap_or(&[]);
            match parse_len(digits) {
                Some(n) => self.result_len = Some(n),
                None => {
                    let shown = match std::str::from_utf8(&line) {
                        Ok(s) => s.to_string(),
                        Err(_) => format!("Undecodable: {}", py_repr_bytes(&line)),
                    };
                    activity::warn(format!("{}: bad result line: '{}'", name, shown));
                    self.change(name, ListenerState::Unknown);
                    self.buf.clear();
                    if let Some(ev) = self.event.take() {
                        rejected(ev);
                    }
                }
            }
            return true;
        };
        let needed = len.saturating_sub(self.result.len());
        let take = needed.min(self.buf.len());
        self.result.extend(self.buf.drain(..take));
        if self.result.len() == len {
            let result = std::mem::take(&mut self.result);
            self.result_len = None;
            let event = self.event.take();
            if result == b"OK" {
                activity::debug(format!("{}: event was processed", name));
                self.change(name, ListenerState::Acknowledged);
            } else {
                activity::warn(format!("{}: event was rejected", name));
                self.change(name, ListenerState::Acknowledged);
                if let Some(ev) = event {
                    rejected(ev);
                }
            }
        }
        // Python looks again only while bytes are left.
        true
    }

    fn change(&mut self, name: &str, to: ListenerState) {
        activity::debug(format!("{}: {} -> {}", name, self.state.name(), to.name()));
        self.state = to;
        if to == ListenerState::Unknown {
            activity::warn(format!(
                "{}: has entered the UNKNOWN state and will no longer receive events, this usually indicates the process violated the eventlistener protocol",
                name
            ));
        }
    }
}

/// The length after `RESULT `, as Python's int() reads it (surrounding
/// whitespace allowed); a negative length is a bad line here.
fn parse_len(digits: &[u8]) -> Option<usize> {
    let text = std::str::from_utf8(digits).ok()?;
    let n = crate::pycompat::int::py_int(text.trim())?;
    usize::try_from(n).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::{Event, EventType};
    use std::sync::Arc;

    fn ev(serial: u64) -> Buffered {
        Buffered {
            event: Arc::new(Event {
                kind: EventType::Tick5,
                payload: "when:0".into(),
                serial,
            }),
            pool_serial: serial,
        }
    }

    fn feed(l: &mut Listener, data: &[u8]) -> Vec<Buffered> {
        let mut out = Vec::new();
        l.feed("l", data, &mut |ev| out.push(ev));
        out
    }

    #[test]
    fn ready_result_ok_cycle_in_any_chunking() {
        let script = b"READY\nRESULT 2\nOKREADY\n";
        for cut in 0..=script.len() {
            let mut l = Listener::new();
            assert!(feed(&mut l, &script[..cut.min(6)]).is_empty());
            if cut >= 6 {
                assert_eq!(l.state, ListenerState::Ready);
                l.sent(ev(1));
                let rest = &script[6..];
                let k = (cut - 6).min(rest.len());
                assert!(feed(&mut l, &rest[..k]).is_empty());
                assert!(feed(&mut l, &rest[k..]).is_empty());
                assert_eq!(l.state, ListenerState::Ready, "cut {cut}");
                assert!(l.event.is_none());
            }
        }
    }

    #[test]
    fn fail_rejects_the_event() {
        let mut l = Listener::new();
        feed(&mut l, b"READY\n");
        l.sent(ev(7));
        let rejected = feed(&mut l, b"RESULT 4\nFAIL");
        assert_eq!(rejected.len(), 1);
        assert_eq!(rejected[0].event.serial, 7);
        assert_eq!(l.state, ListenerState::Acknowledged);
    }

    #[test]
    fn violations_make_it_unknown() {
        let mut l = Listener::new();
        feed(&mut l, b"HELLO!\n");
        assert_eq!(l.state, ListenerState::Unknown);
        assert!(feed(&mut l, b"READY\n").is_empty());
        assert_eq!(l.state, ListenerState::Unknown);

        let mut spurious = Listener::new();
        feed(&mut spurious, b"READY\nextra");
        assert_eq!(spurious.state, ListenerState::Unknown);

        let mut bad = Listener::new();
        feed(&mut bad, b"READY\n");
        bad.sent(ev(2));
        let rejected = feed(&mut bad, b"RESULT x\n");
        assert_eq!(rejected.len(), 1);
        assert_eq!(bad.state, ListenerState::Unknown);
    }

    #[test]
    fn short_ready_waits_for_more() {
        let mut l = Listener::new();
        feed(&mut l, b"REA");
        assert_eq!(l.state, ListenerState::Acknowledged);
        feed(&mut l, b"DY\n");
        assert_eq!(l.state, ListenerState::Ready);
    }
}
