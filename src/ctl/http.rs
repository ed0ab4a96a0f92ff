//! A small HTTP/1.1 client over TCP or a unix socket: what supervisorctl
//! needs and no more. XML-RPC calls are POSTs with a Content-Length body on
//! one keep-alive connection; `tail -f` is a GET whose chunked body is
//! streamed as it arrives. Every wait polls the Ctrl-C pipe too. Response
//! heads and body framing are read by the servers' own module,
//! `http::wire` (httparse underneath), with the same strictness.

use super::error::{gai_error, Error, Kind};
use super::sigint::{self, Wake};
use crate::http::wire::{self, Framing};
use std::io::{self, BufRead, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;

/// Where the server listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    Tcp { host: String, port: u16 },
    Unix(PathBuf),
}

impl Endpoint {
    /// Reads a server URL the way Python's transport does: `http://host[:port]`
    /// (port 80 by default) or `unix:///path`; anything else is a ValueError.
    #[track_caller]
    pub fn parse(url: &str) -> Result<Endpoint, Error> {
        if let Some(path) = url.strip_prefix("unix://") {
            return Ok(Endpoint::Unix(PathBuf::from(path)));
        }
        let Some(rest) = url.strip_prefix("http://") else {
            return Err(Error::value(format!(
                "Unknown protocol for serverurl {}",
                url
            )));
        };
        // netloc ends at the first '/', '?' or '#'; credentials are dropped.
        let netloc = rest.split(['/', '?', '#']).next().unwrap_or("");
        let hostport = netloc.rsplit('@').next().unwrap_or("");
        let (host, port) = if let Some(v6) = hostport.strip_prefix('[') {
            match v6.split_once(']') {
                Some((h, p)) => (h.to_string(), p.strip_prefix(':').unwrap_or("")),
                None => (v6.to_string(), ""),
            }
        } else {
            match hostport.split_once(':') {
                Some((h, p)) => (h.to_string(), p),
                None => (hostport.to_string(), ""),
            }
        };
        let port = if port.is_empty() {
            80
        } else {
            let n: i64 = match port.parse() {
                Ok(n) if port.bytes().all(|b| b.is_ascii_digit()) => n,
                _ => {
                    return Err(Error::value(format!(
                        "Port could not be cast to integer value as {}",
                        crate::pycompat::repr::py_repr(port)
                    )))
                }
            };
            if !(0..=65535).contains(&n) {
                return Err(Error::value("Port out of range 0-65535"));
            }
            n as u16
        };
        Ok(Endpoint::Tcp {
            host: host.to_lowercase(),
            port,
        })
    }

    /// The Host header Python's http.client sends for this endpoint.
    fn host_header(&self) -> String {
        match self {
            Endpoint::Unix(_) => "localhost".into(),
            Endpoint::Tcp { host, port } => {
                let h = if host.contains(':') {
                    format!("[{}]", host)
                } else {
                    host.clone()
                };
                if *port == 80 {
                    h
                } else {
                    format!("{}:{}", h, port)
                }
            }
        }
    }

    /// Opens a connection.
    pub fn connect(&self) -> Result<Conn, Error> {
        let stream = match self {
            Endpoint::Unix(path) => {
                Stream::Unix(UnixStream::connect(path).map_err(|e| Error::io(&e))?)
            }
            Endpoint::Tcp { host, port } => {
                let addrs: Vec<_> = (host.as_str(), *port)
                    .to_socket_addrs()
                    .map_err(|e| gai_error(&e))?
                    .collect();
                // Like socket.create_connection: try each address, and
                // report the first failure if none works.
                let mut first: Option<io::Error> = None;
                let mut found = None;
                for a in addrs {
                    match TcpStream::connect(a) {
                        Ok(s) => {
                            found = Some(s);
                            break;
                        }
                        Err(e) => {
                            first.get_or_insert(e);
                        }
                    }
                }
                match (found, first) {
                    (Some(s), _) => {
                        let _ = s.set_nodelay(true);
                        Stream::Tcp(s)
                    }
                    (None, Some(e)) => return Err(Error::io(&e)),
                    (None, None) => {
                        return Err(Error::new(Kind::Gai {
                            code: -2,
                            text: "Name or service not known".into(),
                        }))
                    }
                }
            }
        };
        Ok(Conn {
            stream,
            buf: Vec::new(),
            pos: 0,
            host: self.host_header(),
            used: false,
            watch_sigint: true,
        })
    }
}

enum Stream {
    Tcp(TcpStream),
    Unix(UnixStream),
}

impl Stream {
    fn fd(&self) -> BorrowedFd<'_> {
        match self {
            Stream::Tcp(s) => s.as_fd(),
            Stream::Unix(s) => s.as_fd(),
        }
    }

    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.read(buf),
            Stream::Unix(s) => s.read(buf),
        }
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        match self {
            Stream::Tcp(s) => s.write_all(buf),
            Stream::Unix(s) => s.write_all(buf),
        }
    }

    /// A handle another thread can use to end a blocking read.
    pub fn shutdown_handle(&self) -> Option<Shutdown> {
        match self {
            Stream::Tcp(s) => s.try_clone().ok().map(Shutdown::Tcp),
            Stream::Unix(s) => s.try_clone().ok().map(Shutdown::Unix),
        }
    }
}

/// Ends a streaming GET from another thread (Python's `handler.close()`).
pub enum Shutdown {
    Tcp(TcpStream),
    Unix(UnixStream),
}

impl Shutdown {
    pub fn shutdown(&self) {
        let _ = match self {
            Shutdown::Tcp(s) => s.shutdown(std::net::Shutdown::Both),
            Shutdown::Unix(s) => s.shutdown(std::net::Shutdown::Both),
        };
    }
}

/// A response's head.
#[derive(Debug)]
pub struct Head {
    pub status: u16,
    pub reason: String,
    pub headers: Vec<(String, String)>,
    /// HTTP/1.0 without keep-alive, `Connection: close`, or a body that
    /// ends with the connection.
    pub close: bool,
    framing: Framing,
}

impl Head {
    pub fn header(&self, name: &str) -> Option<&str> {
        wire::field(&self.headers, name)
    }
}

/// One open connection. It reads through its own buffer, as a `BufRead`
/// for the shared framing code; each read that must wait for the server
/// waits for Ctrl-C too, when `watch_sigint` says so.
pub struct Conn {
    stream: Stream,
    buf: Vec<u8>,
    pos: usize,
    host: String,
    /// Whether a full exchange already went over it (a reused keep-alive
    /// connection the server may have closed meanwhile).
    pub used: bool,
    /// Whether reads end on Ctrl-C. Off for fg's streaming threads: only
    /// the thread reading the keyboard may take the Ctrl-C.
    pub watch_sigint: bool,
}

/// What a streaming GET ended with.
pub enum StreamEnd {
    /// A status other than 200 (nothing was streamed).
    Status(u16),
    /// The server ended the body or closed the connection.
    Closed,
    /// Ctrl-C.
    Interrupted,
}

/// Bytes read from the socket at once.
const READ_SIZE: usize = 16 * 1024;

/// The I/O error a read ends with on Ctrl-C (not `Interrupted`, which
/// readers retry).
#[derive(Debug)]
struct CtrlC;

impl std::fmt::Display for CtrlC {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("interrupted")
    }
}

impl std::error::Error for CtrlC {}

/// A framing error as supervisorctl reports it.
#[track_caller]
fn framing_error(e: wire::Error) -> Error {
    match e {
        wire::Error::Closed => Error::new(Kind::Disconnected),
        wire::Error::Io(e) if e.get_ref().is_some_and(|inner| inner.is::<CtrlC>()) => {
            Error::new(Kind::Interrupted)
        }
        wire::Error::Io(e) => Error::io(&e),
        other => Error::new(Kind::BadResponse(other.to_string())),
    }
}

impl Read for Conn {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let got = self.fill_buf()?;
        let n = got.len().min(out.len());
        out[..n].copy_from_slice(&got[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl BufRead for Conn {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.pos >= self.buf.len() {
            self.buf.clear();
            self.pos = 0;
            if self.watch_sigint {
                match sigint::wait_readable(self.stream.fd(), -1) {
                    Wake::Interrupted => return Err(io::Error::other(CtrlC)),
                    Wake::Ready | Wake::TimedOut => {}
                }
            }
            self.buf.resize(READ_SIZE, 0);
            let got = self.stream.read(&mut self.buf);
            self.buf.truncate(*got.as_ref().unwrap_or(&0));
            got?;
        }
        Ok(&self.buf[self.pos..])
    }

    fn consume(&mut self, n: usize) {
        self.pos = (self.pos + n).min(self.buf.len());
    }
}

impl Conn {
    /// Overrides the Host header (the logtail client sends the URL's
    /// netloc, as Python's does).
    pub fn set_host(&mut self, host: &str) {
        self.host = host.to_string();
    }

    /// Sends one request.
    pub fn send(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, String)],
        body: &[u8],
    ) -> io::Result<()> {
        let mut req = format!("{} {} HTTP/1.1\r\nHost: {}\r\n", method, path, self.host);
        for (k, v) in headers {
            req.push_str(k);
            req.push_str(": ");
            req.push_str(v);
            req.push_str("\r\n");
        }
        if method == "POST" {
            req.push_str(&format!("Content-Length: {}\r\n", body.len()));
        }
        req.push_str("\r\n");
        let mut bytes = req.into_bytes();
        bytes.extend_from_slice(body);
        self.stream.write_all(&bytes)
    }

    /// Reads a status line and headers (past a `100 Continue`), and how
    /// the body is framed. Ok(None) when the connection was closed before
    /// the first byte (a keep-alive connection the server dropped: safe
    /// to retry on a new one).
    pub fn read_head(&mut self) -> Result<Option<Head>, Error> {
        loop {
            let head = match wire::read_response_head(self) {
                Ok(Some(head)) => head,
                Ok(None) => return Ok(None),
                Err(e) => return Err(framing_error(e)),
            };
            if head.status == 100 {
                continue;
            }
            let framing = wire::response_framing(head.version, head.status, &head.headers)
                .map_err(framing_error)?;
            let close =
                framing == Framing::UntilClose || !wire::persistent(head.version, &head.headers);
            return Ok(Some(Head {
                status: head.status,
                reason: head.reason,
                headers: head.headers,
                close,
                framing,
            }));
        }
    }

    /// Reads a whole body.
    pub fn read_body(&mut self, head: &mut Head) -> Result<Vec<u8>, Error> {
        let mut body = Vec::new();
        wire::read_body(self, head.framing, u64::MAX, |piece| {
            body.extend_from_slice(piece)
        })
        .map_err(framing_error)?;
        Ok(body)
    }

    /// A handle that can end this connection's blocking reads.
    pub fn shutdown_handle(&self) -> Option<Shutdown> {
        self.stream.shutdown_handle()
    }

    /// `GET path`, streaming the body to `sink` as it arrives.
    pub fn stream_get(
        &mut self,
        path: &str,
        headers: &[(&str, String)],
        mut sink: impl FnMut(&[u8]),
    ) -> StreamEnd {
        if self.send("GET", path, headers, b"").is_err() {
            return StreamEnd::Closed;
        }
        let head = match self.read_head() {
            Ok(Some(h)) => h,
            Ok(None) => return StreamEnd::Closed,
            Err(e) if matches!(e.kind, Kind::Interrupted) => return StreamEnd::Interrupted,
            Err(_) => return StreamEnd::Closed,
        };
        if head.status != 200 {
            return StreamEnd::Status(head.status);
        }
        match wire::read_body(self, head.framing, u64::MAX, |piece| sink(piece))
            .map_err(framing_error)
        {
            Err(e) if matches!(e.kind, Kind::Interrupted) => StreamEnd::Interrupted,
            _ => StreamEnd::Closed,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert_eq!(
            Endpoint::parse("http://LocalHost:9001").ok(),
            Some(Endpoint::Tcp {
                host: "localhost".into(),
                port: 9001
            })
        );
        assert_eq!(
            Endpoint::parse("http://h").ok(),
            Some(Endpoint::Tcp {
                host: "h".into(),
                port: 80
            })
        );
        assert_eq!(
            Endpoint::parse("unix:///tmp/s").ok(),
            Some(Endpoint::Unix("/tmp/s".into()))
        );
        let e = Endpoint::parse("foo://bar").err().map(|e| e.message());
        assert_eq!(
            e.as_deref(),
            Some("Unknown protocol for serverurl foo://bar")
        );
        assert_eq!(
            Endpoint::parse("http://[::1]:5")
                .ok()
                .map(|e| e.host_header()),
            Some("[::1]:5".into())
        );
    }

    /// A connection whose server already sent `answer` and is done
    /// sending (requests still go into its socket buffer).
    fn answered(answer: &[u8]) -> Conn {
        let (ours, mut theirs) = UnixStream::pair().unwrap();
        theirs.write_all(answer).unwrap();
        theirs.shutdown(std::net::Shutdown::Write).unwrap();
        SERVERS.with(|s| s.borrow_mut().push(theirs));
        Conn {
            stream: Stream::Unix(ours),
            buf: Vec::new(),
            pos: 0,
            host: "localhost".into(),
            used: false,
            watch_sigint: false,
        }
    }

    thread_local! {
        /// The server ends of `answered`, open until the test ends.
        static SERVERS: std::cell::RefCell<Vec<UnixStream>> = const { std::cell::RefCell::new(Vec::new()) };
    }

    #[test]
    fn keep_alive_answers_come_one_after_another() {
        let mut conn = answered(
            b"HTTP/1.1 100 Continue\r\n\r\n\
              HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok\
              HTTP/1.1 404 Not Found\r\nContent-Length: 3\r\nConnection: close\r\n\r\nnot",
        );
        let mut head = conn.read_head().unwrap().unwrap();
        assert_eq!((head.status, head.close), (200, false));
        assert_eq!(conn.read_body(&mut head).unwrap(), b"ok");
        let mut head = conn.read_head().unwrap().unwrap();
        assert_eq!(
            (head.status, head.reason.as_str(), head.close),
            (404, "Not Found", true)
        );
        assert_eq!(conn.read_body(&mut head).unwrap(), b"not");
        assert!(conn.read_head().unwrap().is_none());
    }

    #[test]
    fn streams_chunked_and_until_close() {
        let mut got = Vec::new();
        let mut conn = answered(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n",
        );
        let end = conn.stream_get("/logtail/x", &[], |b| got.extend_from_slice(b));
        assert!(matches!(end, StreamEnd::Closed));
        assert_eq!(got, b"abcde");
        got.clear();
        let mut conn = answered(b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nto the end");
        conn.stream_get("/mainlogtail", &[], |b| got.extend_from_slice(b));
        assert_eq!(got, b"to the end");
        let mut conn = answered(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
        assert!(matches!(
            conn.stream_get("/logtail/x", &[], |_| {}),
            StreamEnd::Status(404)
        ));
    }

    #[test]
    fn ambiguous_or_cut_answers_are_errors() {
        let err = |answer: &[u8]| {
            let mut conn = answered(answer);
            match conn.read_head() {
                Ok(Some(mut head)) => conn.read_body(&mut head).err(),
                Ok(None) => None,
                Err(e) => Some(e),
            }
            .map(|e| e.kind)
        };
        assert!(matches!(
            err(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok"),
            Some(Kind::BadResponse(_))
        ));
        assert!(matches!(
            err(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"),
            Some(Kind::BadResponse(_))
        ));
        assert!(matches!(
            err(b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nok"),
            Some(Kind::Disconnected)
        ));
        assert!(matches!(
            err(b"HTTP/1.1 200 OK\r\nContent-"),
            Some(Kind::Disconnected)
        ));
    }
}
