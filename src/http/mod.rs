//! HTTP: the servers (TCP and unix socket), basic auth, the `tail -f`
//! streams, and the routes to XML-RPC and the web UI.

pub mod auth;
pub mod listen;
pub mod logtail;
pub mod server;
