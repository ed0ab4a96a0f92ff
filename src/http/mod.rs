//! HTTP: the servers (TCP and unix socket).

pub mod listen;
