//! What can go wrong while talking to supervisord, described the way
//! Python's supervisorctl reports it: its generic handler prints
//! `error: <class 'X'>, MESSAGE: file: F line: N`, so each error knows
//! the Python class name and message a script would see.

use crate::pycompat::repr::py_repr;
use crate::rpc::xmlrpc::Fault;
use std::io;
use std::panic::Location;

/// One failed call (or a failure inside an action).
#[derive(Debug)]
pub struct Error {
    pub kind: Kind,
    /// Where we raised it; stands in for Python's traceback frame.
    pub at: &'static Location<'static>,
}

#[derive(Debug)]
pub enum Kind {
    /// An XML-RPC fault from the server.
    Fault(Fault),
    /// A non-200 HTTP answer (`xmlrpc.client.ProtocolError`).
    Http { status: u16, reason: String },
    /// A socket-level error with its errno.
    Os(i32),
    /// A name lookup failure (`socket.gaierror`).
    Gai { code: i32, text: String },
    /// The server closed the connection before answering.
    Disconnected,
    /// Anything Python raises as ValueError (bad URL, unknown result code).
    Value(String),
    /// Another Python exception, by class name (OverflowError, EOFError).
    Other { class: &'static str, msg: String },
    /// A response body that is not XML-RPC.
    BadResponse(String),
    /// Ctrl-C (Python's KeyboardInterrupt).
    Interrupted,
}

impl Error {
    #[track_caller]
    pub fn new(kind: Kind) -> Error {
        Error {
            kind,
            at: Location::caller(),
        }
    }

    #[track_caller]
    pub fn fault(f: Fault) -> Error {
        Error::new(Kind::Fault(f))
    }

    #[track_caller]
    pub fn value(msg: impl Into<String>) -> Error {
        Error::new(Kind::Value(msg.into()))
    }

    /// From an I/O error of a socket operation.
    #[track_caller]
    pub fn io(e: &io::Error) -> Error {
        match e.raw_os_error() {
            Some(code) => Error::new(Kind::Os(code)),
            None if e.kind() == io::ErrorKind::UnexpectedEof => Error::new(Kind::Disconnected),
            None if e.kind() == io::ErrorKind::Interrupted => Error::new(Kind::Interrupted),
            None => Error::new(Kind::Os(libc::EIO)),
        }
    }

    /// The fault code, when this is a fault.
    pub fn fault_code(&self) -> Option<i64> {
        match &self.kind {
            Kind::Fault(f) => Some(f.code),
            _ => None,
        }
    }

    /// The errno of a socket error, as `socket.error.args[0]`.
    pub fn errno(&self) -> Option<i32> {
        match &self.kind {
            Kind::Os(code) => Some(*code),
            _ => None,
        }
    }

    /// Python's class of this exception, as `<class '...'>` shows it.
    pub fn class(&self) -> &'static str {
        match &self.kind {
            Kind::Fault(_) => "xmlrpc.client.Fault",
            Kind::Http { .. } => "xmlrpc.client.ProtocolError",
            Kind::Os(code) => os_class(*code),
            Kind::Gai { .. } => "socket.gaierror",
            Kind::Disconnected => "http.client.RemoteDisconnected",
            Kind::Value(_) => "ValueError",
            Kind::Other { class, .. } => class,
            Kind::BadResponse(_) => "xml.parsers.expat.ExpatError",
            Kind::Interrupted => "KeyboardInterrupt",
        }
    }

    /// Python's `str()` of the exception.
    pub fn message(&self) -> String {
        match &self.kind {
            Kind::Fault(f) => fault_repr(f),
            // The client talks to a fake `http://127.0.0.1` host, so
            // Python's URL in this message is always the same.
            Kind::Http { status, reason } => {
                format!("<ProtocolError for 127.0.0.1/RPC2: {} {}>", status, reason)
            }
            Kind::Os(code) => format!("[Errno {}] {}", code, strerror(*code)),
            Kind::Gai { code, text } => format!("[Errno {}] {}", code, text),
            Kind::Disconnected => "Remote end closed connection without response".into(),
            Kind::Value(m) | Kind::BadResponse(m) | Kind::Other { msg: m, .. } => m.clone(),
            Kind::Interrupted => String::new(),
        }
    }

    /// The line Python's catch-all handler prints for this error.
    pub fn report(&self) -> String {
        format!(
            "error: <class '{}'>, {}: file: {} line: {}",
            self.class(),
            self.message(),
            self.at.file(),
            self.at.line()
        )
    }
}

/// `repr(xmlrpc.client.Fault)`: `<Fault 10: 'BAD_NAME: foo'>`.
pub fn fault_repr(f: &Fault) -> String {
    format!("<Fault {}: {}>", f.code, py_repr(&f.string))
}

/// The OSError subclass Python picks for an errno.
fn os_class(code: i32) -> &'static str {
    match code {
        libc::ECONNREFUSED => "ConnectionRefusedError",
        libc::ENOENT => "FileNotFoundError",
        libc::EACCES | libc::EPERM => "PermissionError",
        libc::ECONNRESET => "ConnectionResetError",
        libc::ECONNABORTED => "ConnectionAbortedError",
        libc::EPIPE | libc::ESHUTDOWN => "BrokenPipeError",
        libc::ETIMEDOUT => "TimeoutError",
        libc::EINTR => "InterruptedError",
        libc::ENOTDIR => "NotADirectoryError",
        libc::EISDIR => "IsADirectoryError",
        libc::EAGAIN | libc::EALREADY | libc::EINPROGRESS => "BlockingIOError",
        _ => "OSError",
    }
}

/// The C library's text for an errno, as Python's `strerror` shows it.
pub fn strerror(code: i32) -> &'static str {
    nix::errno::Errno::from_raw(code).desc()
}

/// Python's errno codes for getaddrinfo failures (`EAI_*` on glibc), found
/// from the message the standard library gives, since it keeps no code.
pub fn gai_error(e: &io::Error) -> Error {
    let text = e.to_string();
    let text = text
        .strip_prefix("failed to lookup address information: ")
        .unwrap_or(&text)
        .to_string();
    let code = match text.as_str() {
        "Name or service not known" => -2,
        "Temporary failure in name resolution" => -3,
        "Non-recoverable failure in name resolution" => -4,
        "No address associated with hostname" => -5,
        "Servname not supported for ai_socktype" => -8,
        "System error" => -11,
        _ => -2,
    };
    Error::new(Kind::Gai { code, text })
}
