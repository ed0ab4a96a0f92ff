//! The event-listener protocol reader: `events::listener::Listener::feed`
//! on what a listener writes to its stdout (`READY\n`, `RESULT <len>\n`
//! and the result, or anything else). The input is a script: bytes the
//! listener writes, with `0xFF` bytes standing for "the pool sends the
//! next event now, if the listener is READY" and `0xFE` bytes marking
//! where one read from the pipe ends and the next begins.
//!
//! Checked: no panic, no hang, bounded memory; and the outcome (state,
//! event in hand, events given back) is the same whether the bytes
//! between two sends arrive in the pieces the script has, all at once, or
//! one byte at a time: the pipe decides the chunking, not the listener.

#![no_main]

use libfuzzer_sys::fuzz_target;
use std::sync::Arc;
use supervisord::events::listener::{Listener, ListenerState};
use supervisord::events::pool::Buffered;
use supervisord::events::{Event, EventType};

const SEND: u8 = 0xFF;

#[derive(Clone, Copy)]
enum Chunking {
    AsGiven,
    Whole,
    Bytes,
}

fuzz_target!(|data: &[u8]| {
    let given = run(data, Chunking::AsGiven);
    assert_eq!(given, run(data, Chunking::Whole));
    assert_eq!(given, run(data, Chunking::Bytes));
});

/// What the pool sees after each send and at the end.
#[derive(Debug, PartialEq)]
struct Seen {
    state: ListenerState,
    holding: Option<u64>,
    rejected: Vec<u64>,
}

fn run(script: &[u8], chunking: Chunking) -> Vec<Seen> {
    let mut l = Listener::new();
    let mut serial = 0;
    let mut rejected = Vec::new();
    let mut trace = Vec::new();
    // Runs of listener output between sends; within a run, the pieces the
    // script gives are separated by 0xFE.
    for run in script.split(|&b| b == SEND) {
        let mut feed = |bytes: &[u8]| {
            let mut back = |ev: Buffered| rejected.push(ev.event.serial);
            l.feed("listener", bytes, &mut back);
        };
        match chunking {
            Chunking::AsGiven => run.split(|&b| b == 0xFE).for_each(&mut feed),
            Chunking::Whole => feed(
                &run.iter()
                    .copied()
                    .filter(|&b| b != 0xFE)
                    .collect::<Vec<_>>(),
            ),
            Chunking::Bytes => run.iter().filter(|&&b| b != 0xFE).for_each(|&b| feed(&[b])),
        }
        trace.push(Seen {
            state: l.state,
            holding: l.event.as_ref().map(|e| e.event.serial),
            rejected: rejected.clone(),
        });
        if l.state == ListenerState::Ready {
            serial += 1;
            l.sent(event(serial));
        }
    }
    trace
}

fn event(serial: u64) -> Buffered {
    Buffered {
        event: Arc::new(Event {
            kind: EventType::Tick5,
            payload: "when:0".into(),
            serial,
        }),
        pool_serial: serial,
    }
}
