//! An event listener pool's buffer: the events its subscriptions took, in
//! order, each with the pool's own serial number, bounded by
//! `buffer_size` (the oldest is dropped, with Python's error line).

use super::{next_global_serial, Event, EventType};
use crate::logs::activity;
use std::collections::VecDeque;
use std::sync::Arc;

/// An event as one pool holds it.
#[derive(Debug, Clone)]
pub struct Buffered {
    pub event: Arc<Event>,
    pub pool_serial: u64,
}

pub struct Pool {
    pub name: String,
    /// The subscribed type names, as configured.
    pub subscriptions: Vec<String>,
    pub buffer_size: usize,
    buffer: VecDeque<Buffered>,
    next_serial: u64,
}

impl Pool {
    pub fn new(name: &str, subscriptions: &[String], buffer_size: usize) -> Pool {
        Pool {
            name: name.to_string(),
            subscriptions: subscriptions.to_vec(),
            buffer_size,
            buffer: VecDeque::new(),
            next_serial: 0,
        }
    }

    pub fn subscribes(&self, kind: EventType) -> bool {
        self.subscriptions.iter().any(|s| kind.is_a(s))
    }

    /// A new event for this pool (it gets the pool's next serial).
    pub fn accept(&mut self, event: Arc<Event>) {
        let pool_serial = self.next_serial;
        self.next_serial += 1;
        self.push(Buffered { event, pool_serial }, false);
    }

    /// An event a listener did not take (FAIL, a bad result, or the
    /// listener died): back to the head, keeping its serials.
    pub fn rebuffer(&mut self, ev: Buffered) {
        activity::debug(format!(
            "rebuffering event {} for pool {} (buf size={}, max={})",
            ev.event.serial,
            self.name,
            self.buffer.len(),
            self.buffer_size
        ));
        self.push(ev, true);
    }

    fn push(&mut self, ev: Buffered, head: bool) {
        if self.buffer.len() >= self.buffer_size {
            if let Some(dropped) = self.buffer.pop_front() {
                activity::error(format!(
                    "pool {} event buffer overflowed, discarding event {}",
                    self.name, dropped.event.serial
                ));
            }
        }
        if head {
            self.buffer.push_front(ev);
        } else {
            self.buffer.push_back(ev);
        }
    }

    /// The oldest buffered event.
    pub fn pop(&mut self) -> Option<Buffered> {
        self.buffer.pop_front()
    }

    /// Puts back an event that could not be sent, at the head, silently.
    pub fn unpop(&mut self, ev: Buffered) {
        self.buffer.push_front(ev);
    }

    pub fn is_empty(&self) -> bool {
        self.buffer.is_empty()
    }

    pub fn len(&self) -> usize {
        self.buffer.len()
    }
}

/// Offers an event to every pool; the event gets the global serial only
/// if some pool takes it, as in Python. True if one did.
pub fn notify<'a>(
    pools: impl IntoIterator<Item = &'a mut Pool>,
    kind: EventType,
    payload: impl FnOnce() -> String,
) -> bool {
    let takers: Vec<&mut Pool> = pools.into_iter().filter(|p| p.subscribes(kind)).collect();
    if takers.is_empty() {
        return false;
    }
    let event = Arc::new(Event {
        kind,
        payload: payload(),
        serial: next_global_serial(),
    });
    for pool in takers {
        pool.accept(Arc::clone(&event));
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pool(size: usize) -> Pool {
        Pool::new("p", &["PROCESS_STATE".to_string()], size)
    }

    #[test]
    fn only_subscribers_take_events_and_serials_count_per_pool() {
        let mut a = pool(10);
        let mut b = Pool::new("b", &["TICK_5".to_string()], 10);
        notify([&mut a, &mut b], EventType::ProcessStateRunning, || {
            "x".into()
        });
        notify([&mut a, &mut b], EventType::ProcessStateExited, || {
            "y".into()
        });
        notify([&mut a, &mut b], EventType::Tick60, || "never".into());
        assert_eq!(a.len(), 2);
        assert!(b.is_empty());
        let first = a.pop().expect("first");
        let second = a.pop().expect("second");
        assert_eq!((first.pool_serial, second.pool_serial), (0, 1));
        assert!(second.event.serial > first.event.serial);
        assert_eq!(first.event.payload, "x");
    }

    #[test]
    fn overflow_drops_the_oldest_and_rebuffer_goes_first() {
        let mut p = pool(2);
        for i in 0..3 {
            notify([&mut p], EventType::ProcessStateRunning, || format!("e{i}"));
        }
        let a = p.pop().expect("a");
        assert_eq!(a.event.payload, "e1");
        p.rebuffer(a);
        assert_eq!(p.pop().expect("again").event.payload, "e1");
        assert_eq!(p.pop().expect("last").event.payload, "e2");
        assert!(p.pop().is_none());
    }
}
