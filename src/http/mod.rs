//! HTTP: the servers (TCP and unix socket), basic auth, the `tail -f`
//! streams, the routes to XML-RPC, the web page, and the Go version's
//! REST API.

pub mod auth;
pub mod cross_site;
pub mod listen;
pub mod logtail;
pub mod metrics;
pub mod probes;
pub mod rest;
pub mod server;
pub mod spill;
pub mod web;
pub mod wire;
