//! The process state machine as one table: `next(state, event)`. The
//! states themselves, with Supervisor's codes and names, are the crate's
//! shared vocabulary in `crate::states`.

use crate::states::ProcessState;

/// What happens to a process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// A start request, autostart, autorestart or a backoff retry.
    Spawn,
    /// An automatic restart waits `restartpause` first (in BACKOFF).
    Pause,
    /// The command could not be started (not found, pipes, fork).
    SpawnFailed,
    /// It stayed up for startsecs.
    StartSecsElapsed,
    /// It exited before startsecs.
    ExitedTooQuickly,
    /// It exited on its own after reaching RUNNING.
    Exited,
    /// The stop signal was sent (or SIGKILL after stopwaitsecs).
    Kill,
    /// It was reaped after a stop signal.
    Reaped,
    /// Too many failed starts in a row.
    GiveUp,
    /// kill(2) failed in a way we do not understand.
    SignalError,
}

/// The state machine: the state after `event` in `state`, or None when the
/// event does not apply there (the caller treats that as a no-op, or as an
/// error to report, e.g. ALREADY_STARTED).
pub fn next(state: ProcessState, event: Event) -> Option<ProcessState> {
    use Event as E;
    use ProcessState as S;
    match (state, event) {
        (S::Stopped | S::Exited | S::Fatal | S::Backoff, E::Spawn) => Some(S::Starting),
        (S::Starting | S::Running | S::Stopping | S::Unknown, E::Spawn) => None,

        (S::Exited, E::Pause) => Some(S::Backoff),
        (_, E::Pause) => None,

        (S::Starting, E::SpawnFailed) => Some(S::Backoff),
        (_, E::SpawnFailed) => None,

        (S::Starting, E::StartSecsElapsed) => Some(S::Running),
        (_, E::StartSecsElapsed) => None,

        (S::Starting, E::ExitedTooQuickly) => Some(S::Backoff),
        (_, E::ExitedTooQuickly) => None,

        (S::Running, E::Exited) => Some(S::Exited),
        (_, E::Exited) => None,

        (S::Running | S::Starting | S::Stopping, E::Kill) => Some(S::Stopping),
        // Stopping a process in BACKOFF ends the retries at once.
        (S::Backoff, E::Kill) => Some(S::Stopped),
        (S::Stopped | S::Exited | S::Fatal | S::Unknown, E::Kill) => None,

        (S::Stopping, E::Reaped) => Some(S::Stopped),
        (_, E::Reaped) => None,

        (S::Backoff, E::GiveUp) => Some(S::Fatal),
        (_, E::GiveUp) => None,

        (_, E::SignalError) => Some(S::Unknown),
    }
}

#[cfg(test)]
mod tests {
    use super::Event as E;
    use super::ProcessState as S;
    use super::*;

    const ALL: [S; 8] = S::ALL;

    #[test]
    fn spawn_only_from_stopped_like_states() {
        for s in ALL {
            let allowed = matches!(s, S::Stopped | S::Exited | S::Fatal | S::Backoff);
            assert_eq!(next(s, E::Spawn).is_some(), allowed, "{:?}", s);
        }
    }

    #[test]
    fn starting_transitions() {
        assert_eq!(next(S::Starting, E::StartSecsElapsed), Some(S::Running));
        assert_eq!(next(S::Starting, E::ExitedTooQuickly), Some(S::Backoff));
        assert_eq!(next(S::Starting, E::SpawnFailed), Some(S::Backoff));
        assert_eq!(next(S::Starting, E::Kill), Some(S::Stopping));
        assert_eq!(next(S::Running, E::StartSecsElapsed), None);
    }

    #[test]
    fn running_and_stopping() {
        assert_eq!(next(S::Running, E::Exited), Some(S::Exited));
        assert_eq!(next(S::Running, E::Kill), Some(S::Stopping));
        assert_eq!(next(S::Stopping, E::Kill), Some(S::Stopping));
        assert_eq!(next(S::Stopping, E::Reaped), Some(S::Stopped));
        assert_eq!(next(S::Running, E::Reaped), None);
    }

    #[test]
    fn backoff_transitions() {
        assert_eq!(next(S::Backoff, E::Spawn), Some(S::Starting));
        assert_eq!(next(S::Backoff, E::GiveUp), Some(S::Fatal));
        assert_eq!(next(S::Backoff, E::Kill), Some(S::Stopped));
        assert_eq!(next(S::Fatal, E::GiveUp), None);
    }

    #[test]
    fn signal_errors_go_unknown_from_anywhere() {
        for s in ALL {
            assert_eq!(next(s, E::SignalError), Some(S::Unknown));
        }
    }

    #[test]
    fn stopped_like_states_ignore_kill() {
        for s in [S::Stopped, S::Exited, S::Fatal, S::Unknown] {
            assert_eq!(next(s, E::Kill), None);
        }
    }
}
