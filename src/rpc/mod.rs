//! XML-RPC: the codec and the supervisor.* / system.* methods.

pub mod xmlrpc;
