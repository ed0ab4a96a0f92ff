//! Turns a burst of file changes into one action: a key fires once its
//! changes have gone quiet for [`SETTLE`], or [`CAP`] after the first one
//! if they never do. Pure: the caller passes the clock in and wakes the
//! loop at [`Debounce::next_due`], so nothing sleeps and nothing ticks.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// How long changes must stop before acting (an editor's save, a copy of
/// many files: a few ms between events).
pub const SETTLE: Duration = Duration::from_millis(200);

/// The longest a never-ending stream of changes delays the action.
pub const CAP: Duration = Duration::from_secs(2);

/// The changes of one key since it last fired.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Burst {
    first: Instant,
    last: Instant,
    /// The first file that changed, for the log line.
    pub path: PathBuf,
    /// How many other changes came with it.
    pub more: usize,
}

impl Burst {
    fn due(&self) -> Instant {
        (self.last + SETTLE).min(self.first + CAP)
    }
}

#[derive(Debug)]
pub struct Debounce<K> {
    pending: BTreeMap<K, Burst>,
}

impl<K: Ord + Clone> Debounce<K> {
    pub fn new() -> Debounce<K> {
        Debounce {
            pending: BTreeMap::new(),
        }
    }

    /// A change of `path` for `key` at `now`.
    pub fn note(&mut self, key: K, path: PathBuf, now: Instant) {
        self.pending
            .entry(key)
            .and_modify(|b| {
                b.last = now;
                if b.path != path {
                    b.more += 1;
                }
            })
            .or_insert(Burst {
                first: now,
                last: now,
                path,
                more: 0,
            });
    }

    /// Takes the keys whose time has come.
    pub fn take_due(&mut self, now: Instant) -> Vec<(K, Burst)> {
        let due: Vec<K> = self
            .pending
            .iter()
            .filter(|(_, b)| b.due() <= now)
            .map(|(k, _)| k.clone())
            .collect();
        due.into_iter()
            .filter_map(|k| self.pending.remove(&k).map(|b| (k, b)))
            .collect()
    }

    /// When the next key fires, if any is pending.
    pub fn next_due(&self) -> Option<Instant> {
        self.pending.values().map(Burst::due).min()
    }

    /// Forgets the keys `keep` says no to (programs no longer watched).
    pub fn retain(&mut self, mut keep: impl FnMut(&K) -> bool) {
        self.pending.retain(|k, _| keep(k));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn a_burst_fires_once_after_it_settles() {
        let t0 = Instant::now();
        let mut d = Debounce::new();
        assert_eq!(d.next_due(), None);
        for i in 0..100u64 {
            d.note("web", PathBuf::from(format!("/srv/f{}", i)), t0 + ms(i));
        }
        assert_eq!(d.next_due(), Some(t0 + ms(99) + SETTLE));
        assert!(d.take_due(t0 + ms(99) + SETTLE - ms(1)).is_empty());
        let fired = d.take_due(t0 + ms(99) + SETTLE);
        assert_eq!(fired.len(), 1);
        assert_eq!(fired[0].1.path, PathBuf::from("/srv/f0"));
        assert_eq!(fired[0].1.more, 99);
        assert_eq!(d.next_due(), None);
        assert!(d.take_due(t0 + CAP * 10).is_empty());
    }

    #[test]
    fn a_stream_that_never_settles_fires_at_the_cap() {
        let t0 = Instant::now();
        let mut d = Debounce::new();
        let mut fired = Vec::new();
        // One change every 100 ms for 5 s.
        for i in 0..50u64 {
            let now = t0 + ms(100 * i);
            fired.extend(d.take_due(now).into_iter().map(|_| now));
            d.note("web", PathBuf::from("/srv/log"), now);
        }
        assert_eq!(fired, vec![t0 + CAP, t0 + CAP * 2]);
    }

    #[test]
    fn keys_are_independent_and_can_be_dropped() {
        let t0 = Instant::now();
        let mut d = Debounce::new();
        d.note("a", PathBuf::from("/x"), t0);
        d.note("b", PathBuf::from("/y"), t0 + ms(150));
        d.note("a", PathBuf::from("/x"), t0 + ms(10));
        let fired = d.take_due(t0 + ms(210));
        assert_eq!(fired.len(), 1);
        assert_eq!(fired[0].0, "a");
        assert_eq!(fired[0].1.more, 0, "the same file again is not another");
        d.retain(|k| *k != "b");
        assert_eq!(d.next_due(), None);
    }
}
