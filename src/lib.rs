//! supervisord-rs: a drop-in replacement for Python Supervisor 4.3.0.
//!
//! The library holds every part; `main.rs` only dispatches on the name the
//! binary was called by. `app` holds the entry points; `cli` the command
//! lines; `config` reads the config file; `daemon` is the daemon's
//! lifecycle around the loop; `supervisor` is the loop; `logs` the log
//! writers; `events` the event system; `states` the process and daemon
//! states with Supervisor's codes; `rpc` the XML-RPC codec and
//! methods; `http` the servers; `ctl` the client; `sys` the only place
//! with `unsafe`; `pycompat` Python's quirks we match.
//!
//! Imports run one way: `app` → `daemon` → `http` → `rpc` → `supervisor`
//! → `events`/`logs`/`config`/`states` → `sys`/`pycompat`. The loop knows no
//! transport, and `http` and `rpc` never touch process state.

#![deny(unsafe_code)]

pub mod app;
pub mod cli;
pub mod config;
pub mod ctl;
pub mod daemon;
pub mod events;
pub mod http;
pub mod logs;
pub mod pidproxy;
pub mod pycompat;
pub mod rpc;
pub mod service;
pub mod states;
pub mod supervisor;
#[allow(unsafe_code)]
pub mod sys;

/// Our own version (`supervisord version`).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The Supervisor version we are compatible with; `supervisord --version`,
/// RPC's getSupervisorVersion and supervisorctl's `version` report it,
/// because scripts and clients compare it.
pub const SUPERVISOR_VERSION: &str = "4.3.0";

/// XML-RPC API version (`getAPIVersion`); supervisorctl refuses anything else.
pub const API_VERSION: &str = "3.0";
