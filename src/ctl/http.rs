//! A small HTTP/1.1 client over TCP or a unix socket: what supervisorctl
//! needs and no more. XML-RPC calls are POSTs with a Content-Length body on
//! one keep-alive connection; `tail -f` is a GET whose chunked body is
//! streamed as it arrives. Every wait polls the Ctrl-C pipe too.

use super::error::{gai_error, Error, Kind};
use super::sigint::{self, Wake};
use std::io::{self, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;

/// Longest header block or chunk-size line we accept from a server.
const MAX_LINE: usize = 64 * 1024;

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
    /// HTTP/1.0 without keep-alive, or `Connection: close`.
    pub close: bool,
}

impl Head {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// How a body is delimited.
enum Framing {
    Length(usize),
    Chunked,
    UntilClose,
}

/// One open connection.
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

impl Conn {
    /// Sends one request.
    /// Overrides the Host header (the logtail client sends the URL's
    /// netloc, as Python's does).
    pub fn set_host(&mut self, host: &str) {
        self.host = host.to_string();
    }

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

    /// Makes more bytes available in the buffer; Ok(false) at EOF.
    fn fill(&mut self) -> Result<bool, Error> {
        if self.pos > 0 && self.pos == self.buf.len() {
            self.buf.clear();
            self.pos = 0;
        }
        let mut tmp = [0u8; 16 * 1024];
        loop {
            if self.watch_sigint {
                match sigint::wait_readable(self.stream.fd(), -1) {
                    Wake::Interrupted => return Err(Error::new(Kind::Interrupted)),
                    Wake::Ready | Wake::TimedOut => {}
                }
            }
            match self.stream.read(&mut tmp) {
                Ok(0) => return Ok(false),
                Ok(n) => {
                    self.buf.extend_from_slice(&tmp[..n]);
                    return Ok(true);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(Error::io(&e)),
            }
        }
    }

    fn pending(&self) -> &[u8] {
        &self.buf[self.pos..]
    }

    /// One line without its CRLF; None at EOF before any byte of it.
    fn line(&mut self) -> Result<Option<String>, Error> {
        loop {
            if let Some(i) = self.pending().iter().position(|&b| b == b'\n') {
                let raw = &self.buf[self.pos..self.pos + i];
                let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
                let s = String::from_utf8_lossy(raw).into_owned();
                self.pos += i + 1;
                return Ok(Some(s));
            }
            if self.pending().len() > MAX_LINE {
                return Err(Error::new(Kind::BadResponse("header line too long".into())));
            }
            if !self.fill()? {
                if self.pending().is_empty() {
                    return Ok(None);
                }
                return Err(Error::new(Kind::Disconnected));
            }
        }
    }

    /// Reads a status line and headers. Ok(None) when the connection was
    /// closed before the first byte (a keep-alive connection the server
    /// dropped: safe to retry on a new one).
    pub fn read_head(&mut self) -> Result<Option<Head>, Error> {
        let Some(status_line) = self.line()? else {
            return Ok(None);
        };
        let mut parts = status_line.splitn(3, ' ');
        let version = parts.next().unwrap_or("").to_string();
        let status: u16 = parts
            .next()
            .and_then(|s| s.trim().parse().ok())
            .filter(|_| version.starts_with("HTTP/"))
            .ok_or_else(|| {
                Error::new(Kind::BadResponse(format!(
                    "bad status line {:?}",
                    status_line
                )))
            })?;
        let reason = parts.next().unwrap_or("").trim().to_string();
        let mut headers = Vec::new();
        loop {
            let Some(l) = self.line()? else {
                return Err(Error::new(Kind::Disconnected));
            };
            if l.is_empty() {
                break;
            }
            if let Some((k, v)) = l.split_once(':') {
                headers.push((k.trim().to_string(), v.trim().to_string()));
            }
        }
        let mut head = Head {
            status,
            reason,
            headers,
            close: false,
        };
        let conn_hdr = head.header("Connection").map(str::to_ascii_lowercase);
        head.close = match conn_hdr.as_deref() {
            Some(v) if v.contains("close") => true,
            Some(v) if v.contains("keep-alive") => false,
            _ => version == "HTTP/1.0",
        };
        Ok(Some(head))
    }

    fn framing(head: &Head) -> Framing {
        if head
            .header("Transfer-Encoding")
            .is_some_and(|v| v.eq_ignore_ascii_case("chunked"))
        {
            Framing::Chunked
        } else if let Some(n) = head.header("Content-Length").and_then(|v| v.parse().ok()) {
            Framing::Length(n)
        } else {
            Framing::UntilClose
        }
    }

    /// Reads a whole body.
    pub fn read_body(&mut self, head: &mut Head) -> Result<Vec<u8>, Error> {
        let mut body = Vec::new();
        self.each_body_part(head, |b| {
            body.extend_from_slice(b);
            true
        })?;
        Ok(body)
    }

    /// Hands the next `left` body bytes to `f` as they arrive; false when
    /// `f` asked to stop.
    fn pass_bytes(
        &mut self,
        mut left: usize,
        f: &mut impl FnMut(&[u8]) -> bool,
    ) -> Result<bool, Error> {
        while left > 0 {
            if self.pending().is_empty() && !self.fill()? {
                return Err(Error::new(Kind::Disconnected));
            }
            let n = left.min(self.pending().len());
            let part = self.buf[self.pos..self.pos + n].to_vec();
            self.pos += n;
            left -= n;
            if !f(&part) {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Hands each part of the body to `f` as it arrives, until the body
    /// ends or `f` returns false.
    fn each_body_part(
        &mut self,
        head: &mut Head,
        mut f: impl FnMut(&[u8]) -> bool,
    ) -> Result<(), Error> {
        match Self::framing(head) {
            Framing::Length(left) => {
                self.pass_bytes(left, &mut f)?;
            }
            Framing::UntilClose => {
                head.close = true;
                loop {
                    if !self.pending().is_empty() {
                        let part = self.pending().to_vec();
                        self.pos = self.buf.len();
                        if !f(&part) {
                            return Ok(());
                        }
                    }
                    if !self.fill()? {
                        return Ok(());
                    }
                }
            }
            Framing::Chunked => loop {
                let Some(size_line) = self.line()? else {
                    return Err(Error::new(Kind::Disconnected));
                };
                let size_text = size_line.split(';').next().unwrap_or("").trim();
                if size_text.is_empty() {
                    continue;
                }
                let left = usize::from_str_radix(size_text, 16).map_err(|_| {
                    Error::new(Kind::BadResponse(format!("bad chunk size {:?}", size_line)))
                })?;
                if left == 0 {
                    // Trailer lines up to the blank one.
                    while let Some(l) = self.line()? {
                        if l.is_empty() {
                            break;
                        }
                    }
                    return Ok(());
                }
                if !self.pass_bytes(left, &mut f)? {
                    return Ok(());
                }
                // The CRLF after the chunk data.
                let _ = self.line()?;
            },
        }
        Ok(())
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
        let mut head = match self.read_head() {
            Ok(Some(h)) => h,
            Ok(None) => return StreamEnd::Closed,
            Err(e) if matches!(e.kind, Kind::Interrupted) => return StreamEnd::Interrupted,
            Err(_) => return StreamEnd::Closed,
        };
        if head.status != 200 {
            return StreamEnd::Status(head.status);
        }
        match self.each_body_part(&mut head, |b| {
            sink(b);
            true
        }) {
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
}
