//! Process and supervisor states with Supervisor's codes and names, and the
//! process state machine as one table: `next(state, event)`.

/// A process's state; the numbers are Supervisor's (RPC, events, status).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProcessState {
    Stopped,
    Starting,
    Running,
    Backoff,
    Stopping,
    Exited,
    Fatal,
    Unknown,
}

impl ProcessState {
    /// Every state, in code order.
    pub const ALL: [ProcessState; 8] = [
        ProcessState::Stopped,
        ProcessState::Starting,
        ProcessState::Running,
        ProcessState::Backoff,
        ProcessState::Stopping,
        ProcessState::Exited,
        ProcessState::Fatal,
        ProcessState::Unknown,
    ];

    /// The state a code (as RPC answers carry it) stands for.
    pub fn from_code(code: i64) -> Option<ProcessState> {
        ProcessState::ALL.into_iter().find(|s| s.code() == code)
    }

    pub fn code(self) -> i64 {
        match self {
            ProcessState::Stopped => 0,
            ProcessState::Starting => 10,
            ProcessState::Running => 20,
            ProcessState::Backoff => 30,
            ProcessState::Stopping => 40,
            ProcessState::Exited => 100,
            ProcessState::Fatal => 200,
            ProcessState::Unknown => 1000,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            ProcessState::Stopped => "STOPPED",
            ProcessState::Starting => "STARTING",
            ProcessState::Running => "RUNNING",
            ProcessState::Backoff => "BACKOFF",
            ProcessState::Stopping => "STOPPING",
            ProcessState::Exited => "EXITED",
            ProcessState::Fatal => "FATAL",
            ProcessState::Unknown => "UNKNOWN",
        }
    }

    /// STOPPED_STATES: nothing is running and nothing will run by itself.
    pub fn is_stopped(self) -> bool {
        matches!(
            self,
            ProcessState::Stopped
                | ProcessState::Exited
                | ProcessState::Fatal
                | ProcessState::Unknown
        )
    }

    /// RUNNING_STATES: started, or trying to start.
    pub fn is_running(self) -> bool {
        matches!(
            self,
            ProcessState::Running | ProcessState::Backoff | ProcessState::Starting
        )
    }

    /// SIGNALLABLE_STATES: a pid exists to signal.
    pub fn is_signallable(self) -> bool {
        matches!(
            self,
            ProcessState::Running | ProcessState::Starting | ProcessState::Stopping
        )
    }
}

/// supervisord's own state ("mood").
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Mood {
    Shutdown,
    Restarting,
    Running,
}

impl Mood {
    pub fn code(self) -> i64 {
        match self {
            Mood::Shutdown => -1,
            Mood::Restarting => 0,
            Mood::Running => 1,
        }
    }

    /// For an atomic; [`Mood::from_u8`] reads it back.
    pub fn to_u8(self) -> u8 {
        match self {
            Mood::Shutdown => 0,
            Mood::Restarting => 1,
            Mood::Running => 2,
        }
    }

    pub fn from_u8(v: u8) -> Mood {
        match v {
            0 => Mood::Shutdown,
            1 => Mood::Restarting,
            _ => Mood::Running,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Mood::Shutdown => "SHUTDOWN",
            Mood::Restarting => "RESTARTING",
            Mood::Running => "RUNNING",
        }
    }
}

/// What happens to a process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// A start request, autostart, autorestart or a backoff retry.
    Spawn,
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
    fn codes_and_names() {
        assert_eq!(S::Backoff.code(), 30);
        assert_eq!(S::Unknown.code(), 1000);
        assert_eq!(S::Exited.name(), "EXITED");
        for st in ALL {
            assert_eq!(S::from_code(st.code()), Some(st));
        }
        assert_eq!(S::from_code(7), None);
        assert_eq!(Mood::Shutdown.code(), -1);
        assert!(Mood::Shutdown < Mood::Restarting && Mood::Restarting < Mood::Running);
    }

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
