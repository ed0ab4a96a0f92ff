//! The states of a process and of supervisord itself, with Supervisor's
//! codes and names: what RPC answers, events carry and supervisorctl
//! prints. Written once here; the loop's state machine
//! (`supervisor::state`) moves between them.

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

#[cfg(test)]
mod tests {
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
}
