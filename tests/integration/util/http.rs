//! The tests' HTTP client: one connection (TCP or unix socket) on which
//! raw request bytes go out and responses are read back as they arrive
//! (Content-Length, chunked, or read to close), request builders, basic
//! auth, and XML-RPC calls on top. Written from the RFCs, not from our
//! server's code, so it checks the server instead of agreeing with it.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use supervisord::rpc::xmlrpc::{self, Fault, Value};

/// Socket read/write timeout of a connection unless a test asks otherwise.
pub const IO: Duration = Duration::from_secs(15);

/// Where a daemon serves HTTP.
#[derive(Clone, Debug)]
pub enum Addr {
    /// 127.0.0.1 and this port.
    Tcp(u16),
    Unix(PathBuf),
}

/// An HTTP response as read from the wire.
#[derive(Debug, Clone)]
pub struct Response {
    pub version: String,
    pub status: u16,
    pub headers: Vec<(String, String)>,
    /// The status line and headers as sent, up to the empty line, for
    /// checks on exact bytes.
    pub head: String,
    pub body: Vec<u8>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

trait Stream: Read + Write + Send {}
impl<T: Read + Write + Send> Stream for T {}

/// One client connection with socket timeouts.
pub struct Conn {
    reader: BufReader<Box<dyn Stream>>,
}

impl Conn {
    /// Connects to `addr` with `timeout` for the connect and every read
    /// and write.
    pub fn open(addr: &Addr, timeout: Duration) -> std::io::Result<Conn> {
        Conn::open_with(addr, timeout, timeout)
    }

    fn open_with(addr: &Addr, read: Duration, write: Duration) -> std::io::Result<Conn> {
        let stream: Box<dyn Stream> = match addr {
            Addr::Tcp(port) => {
                let sa = SocketAddr::from(([127, 0, 0, 1], *port));
                let s = TcpStream::connect_timeout(&sa, write)?;
                s.set_read_timeout(Some(read))?;
                s.set_write_timeout(Some(write))?;
                Box::new(s)
            }
            Addr::Unix(path) => {
                let s = UnixStream::connect(path)?;
                s.set_read_timeout(Some(read))?;
                s.set_write_timeout(Some(write))?;
                Box::new(s)
            }
        };
        Ok(Conn {
            reader: BufReader::new(stream),
        })
    }

    pub fn tcp(port: u16) -> Conn {
        Conn::open(&Addr::Tcp(port), IO).expect("connect tcp")
    }

    pub fn unix(path: &Path) -> Conn {
        Conn::open(&Addr::Unix(path.to_path_buf()), IO).expect("connect unix")
    }

    /// A TCP connection with its own read timeout (for "nothing more
    /// arrives" checks); writes keep `IO`.
    pub fn tcp_with_timeout(port: u16, read: Duration) -> Conn {
        Conn::open_with(&Addr::Tcp(port), read, IO).expect("connect tcp")
    }

    pub fn send(&mut self, bytes: &[u8]) {
        self.try_send(bytes).expect("send request");
    }

    /// Sends, reporting a write error instead of panicking (the server may
    /// close a connection while a big body is still being sent).
    pub fn try_send(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        let w = self.reader.get_mut();
        w.write_all(bytes)?;
        w.flush()
    }

    /// Reads the status line and headers; None if the connection closed
    /// (or timed out) first.
    pub fn head(&mut self) -> Option<Response> {
        let mut head = String::new();
        let mut line = String::new();
        match self.reader.read_line(&mut line) {
            Ok(0) | Err(_) => return None,
            Ok(_) => {}
        }
        head.push_str(&line);
        let mut parts = line.trim_end().splitn(3, ' ');
        let version = parts.next()?.to_owned();
        let status = parts.next()?.parse().ok()?;
        let mut headers = Vec::new();
        loop {
            let mut h = String::new();
            match self.reader.read_line(&mut h) {
                Ok(0) | Err(_) => return None,
                Ok(_) => {}
            }
            head.push_str(&h);
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                headers.push((k.trim().to_owned(), v.trim().to_owned()));
            }
        }
        Some(Response {
            version,
            status,
            headers,
            head,
            body: Vec::new(),
        })
    }

    /// A whole response, body included; None if the connection closed or
    /// timed out before it was complete.
    pub fn response(&mut self) -> Option<Response> {
        let mut r = self.head()?;
        if r.header("Transfer-Encoding")
            .is_some_and(|v| v.eq_ignore_ascii_case("chunked"))
        {
            loop {
                let chunk = self.chunk()?;
                if chunk.is_empty() {
                    // trailers, then the empty line
                    loop {
                        let mut t = String::new();
                        self.reader.read_line(&mut t).ok()?;
                        if t.trim_end().is_empty() {
                            break;
                        }
                    }
                    break;
                }
                r.body.extend_from_slice(&chunk);
            }
        } else if let Some(n) = r.header("Content-Length") {
            let n: usize = n.parse().ok()?;
            let mut body = vec![0; n];
            self.reader.read_exact(&mut body).ok()?;
            r.body = body;
        } else {
            self.reader.read_to_end(&mut r.body).ok()?;
        }
        Some(r)
    }

    /// One chunk of a chunked body (empty at the end); None on close or
    /// timeout.
    pub fn chunk(&mut self) -> Option<Vec<u8>> {
        let mut size = String::new();
        match self.reader.read_line(&mut size) {
            Ok(0) | Err(_) => return None,
            Ok(_) => {}
        }
        let size = size.trim_end();
        let size = size.split(';').next().unwrap_or("");
        let n = usize::from_str_radix(size.trim(), 16).ok()?;
        let mut data = vec![0; n];
        self.reader.read_exact(&mut data).ok()?;
        // The last chunk (size 0) has no data and no CRLF of its own: the
        // trailer section follows it, which the caller reads.
        if n > 0 {
            let mut crlf = [0u8; 2];
            self.reader.read_exact(&mut crlf).ok()?;
        }
        Some(data)
    }

    /// Reads chunks until `needle` is in what came so far, or `timeout`
    /// passes, or the stream ends; returns everything read.
    pub fn chunks_until(&mut self, needle: &str, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        let mut got = Vec::new();
        while Instant::now() < deadline {
            match self.chunk() {
                Some(c) if c.is_empty() => break,
                Some(c) => got.extend_from_slice(&c),
                None => break,
            }
            if String::from_utf8_lossy(&got).contains(needle) {
                break;
            }
        }
        String::from_utf8_lossy(&got).into_owned()
    }

    /// Whether the peer has closed the connection (reads EOF or an error
    /// other than a timeout within `t`).
    pub fn closed_within(&mut self, t: Duration) -> bool {
        let deadline = Instant::now() + t;
        let mut buf = [0u8; 4096];
        while Instant::now() < deadline {
            match self.reader.read(&mut buf) {
                Ok(0) => return true,
                Ok(_) => continue,
                Err(e)
                    if e.kind() == std::io::ErrorKind::WouldBlock
                        || e.kind() == std::io::ErrorKind::TimedOut =>
                {
                    continue
                }
                Err(_) => return true,
            }
        }
        false
    }
}

/// One request on a fresh connection and its whole response, or why there
/// is none within `timeout`.
pub fn exchange(addr: &Addr, request: &[u8], timeout: Duration) -> Result<Response, String> {
    let mut c = Conn::open(addr, timeout).map_err(|e| format!("connect: {e}"))?;
    c.try_send(request).map_err(|e| format!("send: {e}"))?;
    let answer = if request.starts_with(b"HEAD ") {
        // No body follows, whatever Content-Length says.
        c.head()
    } else {
        c.response()
    };
    answer.ok_or_else(|| format!("no complete answer within {timeout:?}"))
}

/// A request: `method target version`, `Host: localhost` unless the
/// `headers` (whole lines without CRLF) have a Host, the headers, then the
/// body, if any, with a Content-Length unless the headers have one.
pub fn request(
    method: &str,
    target: &str,
    version: &str,
    headers: &[&str],
    body: Option<&[u8]>,
) -> Vec<u8> {
    let has = |name: &str| {
        headers.iter().any(|h| {
            h.split_once(':')
                .is_some_and(|(k, _)| k.trim().eq_ignore_ascii_case(name))
        })
    };
    let mut r = format!("{method} {target} {version}\r\n");
    if !has("host") {
        r.push_str("Host: localhost\r\n");
    }
    for h in headers {
        r.push_str(h);
        r.push_str("\r\n");
    }
    if let (Some(b), false) = (body, has("content-length")) {
        r.push_str(&format!("Content-Length: {}\r\n", b.len()));
    }
    r.push_str("\r\n");
    let mut v = r.into_bytes();
    v.extend_from_slice(body.unwrap_or_default());
    v
}

/// A POST of XML in HTTP/1.1; `extra` headers are whole lines.
pub fn post(path: &str, body: &str, extra: &[&str]) -> Vec<u8> {
    post_v(path, "HTTP/1.1", body, extra)
}

/// A POST of XML in the given HTTP version.
pub fn post_v(path: &str, version: &str, body: &str, extra: &[&str]) -> Vec<u8> {
    let mut headers = vec!["Content-Type: text/xml"];
    headers.extend_from_slice(extra);
    request("POST", path, version, &headers, Some(body.as_bytes()))
}

/// A GET; `extra` headers are whole lines.
pub fn get(path: &str, version: &str, extra: &[&str]) -> Vec<u8> {
    request("GET", path, version, extra, None)
}

/// Standard base64 with padding.
pub fn base64(data: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(T[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The `Authorization: Basic ...` header line for user:password.
pub fn basic_auth(user: &str, password: &str) -> String {
    format!(
        "Authorization: Basic {}",
        base64(format!("{user}:{password}").as_bytes())
    )
}

/// An XML-RPC call written by hand: `params_xml` is `<param>`s as text,
/// so a test can send any value, well-formed or not.
pub fn rpc_body(method: &str, params_xml: &str) -> String {
    format!(
        "<?xml version=\"1.0\"?>\n<methodCall>\n<methodName>{method}</methodName>\n<params>\n{params_xml}</params>\n</methodCall>\n"
    )
}

/// An XML-RPC string value, as text.
pub fn string(s: &str) -> String {
    let s = s
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    format!("<value><string>{s}</string></value>")
}

/// An XML-RPC int value, as text.
pub fn int(i: i64) -> String {
    format!("<value><int>{i}</int></value>")
}

/// Why an XML-RPC call has no value.
#[derive(Debug, Clone)]
pub enum RpcError {
    /// The server answered with a Fault.
    Fault(Fault),
    /// No answer, an HTTP error or an answer that is no XML-RPC response.
    Transport(String),
}

impl std::fmt::Display for RpcError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RpcError::Fault(x) => write!(f, "FAULT {} {}", x.code, x.string),
            RpcError::Transport(e) => f.write_str(e),
        }
    }
}

/// One XML-RPC call on /RPC2 over a fresh connection (HTTP/1.1,
/// `Connection: close`), with `auth` header line if given.
pub fn xmlrpc_call(
    addr: &Addr,
    auth: Option<&str>,
    method: &str,
    params: &[Value],
    timeout: Duration,
) -> Result<Value, RpcError> {
    let body = xmlrpc::write_call(method, params);
    let mut headers = vec!["Content-Type: text/xml", "Connection: close"];
    headers.extend(auth);
    let req = request("POST", "/RPC2", "HTTP/1.1", &headers, Some(&body));
    let r = exchange(addr, &req, timeout).map_err(RpcError::Transport)?;
    if r.status != 200 {
        return Err(RpcError::Transport(format!(
            "HTTP {}: {}",
            r.status,
            r.text()
        )));
    }
    match xmlrpc::parse_response(&r.body) {
        Ok(xmlrpc::Response::Value(v)) => Ok(v),
        Ok(xmlrpc::Response::Fault(f)) => Err(RpcError::Fault(f)),
        Err(e) => Err(RpcError::Transport(format!(
            "bad XML-RPC answer: {}",
            e.message()
        ))),
    }
}
