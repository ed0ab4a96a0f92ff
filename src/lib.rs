//! supervisord-rs: a drop-in replacement for Python Supervisor 4.3.0.
//!
//! The library holds every part; `main.rs` only dispatches on the name the
//! binary was called by. `app` holds the entry points; `cli` the command
//! lines; `config` reads the config file; `supervisor` is the loop; `logs`
//! the log writers; `rpc` the XML-RPC codec and methods; `http` the
//! servers; `ctl` the client. `sys` is the only module with `unsafe`
//! (the OS calls), `pycompat` holds Python's quirks we must match.

#![deny(unsafe_code)]

pub mod app;
pub mod cli;
pub mod config;
pub mod ctl;
pub mod events;
pub mod http;
pub mod logs;
pub mod pidproxy;
pub mod pycompat;
pub mod rpc;
pub mod supervisor;
#[allow(unsafe_code)]
pub mod sys;

/// The version we report for ourselves (`supervisord -v`).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The Supervisor version we are compatible with; RPC's getSupervisorVersion
/// and supervisorctl's `version` report it, because clients compare it.
pub const SUPERVISOR_VERSION: &str = "4.3.0";

/// XML-RPC API version (`getAPIVersion`); supervisorctl refuses anything else.
pub const API_VERSION: &str = "3.0";
