//! HTTP: the servers (TCP and unix socket), basic auth, the `tail -f`
//! streams, the routes to XML-RPC, and the web page.

pub mod auth;
pub mod cross_site;
pub mod listen;
pub mod logtail;
pub mod metrics;
pub mod server;
pub mod spill;
pub mod web;
pub mod wire;
