//! Log files: rotating writers, ANSI stripping, the activity (main) log,
//! and the pump threads that carry child output to its logs.
//!
//! - [`rotating`]: [`RotatingFile`], Supervisor's size-based rotation.
//! - [`ansi`]: [`strip_ansi`], Supervisor's per-chunk escape stripping.
//! - [`activity`]: the process-global main log (`[supervisord] logfile`).
//! - [`pump`]: one thread per child reading its stdout/stderr pipes,
//!   writing child logs and reporting events to the supervisor loop.
//! - [`syslog`]: messages to `/dev/log`, shared by the main log and
//!   `stdout_syslog`/`stderr_syslog`.
//! - [`targets`]: the other targets of a `stdout_logfile` list (extra
//!   files, syslog targets) and the line splitting syslog needs.
//! - [`syslog_sender`]: one bounded queue and sender thread per syslog
//!   destination, so a slow or dead server never blocks a pump.
//! - [`localtime`]: broken-down local time for timestamps.
//!
//! The supervisor loop never handles ordinary log bytes: a pump writes
//! them straight to the files, and the loop only gets the events it has
//! to act on.

pub mod activity;
pub mod ansi;
pub mod localtime;
pub mod pump;
pub mod rotating;
pub mod syslog;
pub mod syslog_sender;
pub mod targets;

pub use activity::{Level, MainLogConfig, MainLogTarget};
pub use ansi::strip_ansi;
pub use pump::{spawn_pump, spawn_pump_stoppable, Channel, ChannelSink, PumpEvent, PumpStop};
pub use rotating::RotatingFile;
pub use syslog_sender::SyslogDest;
pub use targets::{ExtraTargets, TargetSpec};
