//! The integration tests: the real binaries, ours next to Python
//! Supervisor 4.3.0 from `target/pyref`, on temp dirs, free loopback ports
//! and unix sockets of their own. One test binary for all of them, as
//! ripgrep has it, so a change links one binary instead of one per file.
//!
//! A module per area; run one with `cargo test --test integration ctl::`
//! (or any part of a test's path). The shared harness is `util`. Tests of
//! all areas run in parallel threads of this one process: whatever they
//! share on the machine takes a lock from `util` (installing packages, the
//! fixed /tmp paths of Supervisor's own end-to-end suite).

mod util;

mod backoff;
mod bad_config;
mod ctl;
mod ctl_json;
mod depends;
mod empty_root;
mod engine;
mod envfiles;
mod events;
mod exit_on;
mod healthcheck;
mod hostile;
mod http_framing;
mod http_pool;
mod ini_differential;
mod log_targets;
mod man_pages;
mod metrics;
mod pidproxy;
mod probes;
mod program_default;
mod python_details;
mod reload;
mod rest;
mod rpc;
mod sample_conf;
mod service;
mod sighup;
mod spawn_hygiene;
mod stop_signals;
mod user_group;
mod watch;
mod web;
