//! The XML-RPC interface and the HTTP server under it.

mod common;
mod differential;
mod docs_python;
mod http;
