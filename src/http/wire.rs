//! HTTP/1.x on the wire: reading one request (head and whole body) from a
//! connection and writing a response head. Just what supervisord's clients
//! send: XML-RPC POSTs, the web page's GETs and form POSTs, the log tails.
//!
//! Limits: a request head of at most [`MAX_HEAD`] bytes, a body of at most
//! `max_body` (413 past it), `Content-Length` or chunked bodies; anything
//! malformed is a 400 and the connection is closed after the answer.

use std::io::{self, BufRead, Read, Write};

/// Request line plus headers, in bytes.
pub const MAX_HEAD: usize = 64 * 1024;

/// HTTP version of a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Version {
    Http10,
    Http11,
}

impl Version {
    pub fn text(self) -> &'static str {
        match self {
            Version::Http10 => "HTTP/1.0",
            Version::Http11 => "HTTP/1.1",
        }
    }
}

/// One request, body included.
#[derive(Debug)]
pub struct Request {
    pub method: String,
    /// The request target as sent (path and query).
    pub url: String,
    pub version: Version,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    /// The first header of that name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn connection_has(&self, token: &str) -> bool {
        self.header("Connection")
            .is_some_and(|c| c.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
    }

    /// Whether the connection stays open after the answer: HTTP/1.1
    /// unless the client says close, HTTP/1.0 only when it asks.
    pub fn keep_alive(&self) -> bool {
        match self.version {
            Version::Http11 => !self.connection_has("close"),
            Version::Http10 => self.connection_has("keep-alive"),
        }
    }
}

/// What reading the next request gave.
#[derive(Debug)]
pub enum Incoming {
    Request(Request),
    /// The client closed the connection (or it broke) between or inside
    /// requests: nothing to answer.
    Closed,
    /// A request we refuse with this status; the connection is closed
    /// after the answer.
    Reject(u16),
}

/// Reads one request. `interim` gets `100 Continue` when the client asks
/// for it before sending its body.
pub fn read_request<R: BufRead, W: Write>(
    conn: &mut R,
    interim: &mut W,
    max_body: usize,
) -> Incoming {
    let mut head_left = MAX_HEAD;
    // Blank lines before a request line are allowed (RFC 9112 2.2).
    let request_line = loop {
        match read_line(conn, &mut head_left) {
            Line::Text(l) if l.is_empty() => continue,
            Line::Text(l) => break l,
            Line::Closed => return Incoming::Closed,
            Line::TooLong => return Incoming::Reject(431),
            Line::Bad => return Incoming::Reject(400),
        }
    };
    let mut parts = request_line.split(' ');
    let (Some(method), Some(url), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Incoming::Reject(400);
    };
    let version = match version {
        "HTTP/1.1" => Version::Http11,
        "HTTP/1.0" => Version::Http10,
        v if v.starts_with("HTTP/") => return Incoming::Reject(505),
        _ => return Incoming::Reject(400),
    };
    let valid_method = !method.is_empty() && method.bytes().all(|b| b.is_ascii_uppercase());
    if !valid_method || url.is_empty() {
        return Incoming::Reject(400);
    }
    let mut headers = Vec::new();
    loop {
        match read_line(conn, &mut head_left) {
            Line::Text(l) if l.is_empty() => break,
            Line::Text(l) => {
                // No obsolete line folding, no name without a colon.
                if l.starts_with([' ', '\t']) {
                    return Incoming::Reject(400);
                }
                let Some((name, value)) = l.split_once(':') else {
                    return Incoming::Reject(400);
                };
                if name.is_empty() || name.contains([' ', '\t']) {
                    return Incoming::Reject(400);
                }
                headers.push((name.to_string(), value.trim().to_string()));
            }
            Line::Closed => return Incoming::Closed,
            Line::TooLong => return Incoming::Reject(431),
            Line::Bad => return Incoming::Reject(400),
        }
    }
    let mut req = Request {
        method: method.to_string(),
        url: url.to_string(),
        version,
        headers,
        body: Vec::new(),
    };
    // RFC 9112 section 6, strictly: one Content-Length of digits only, a
    // Transfer-Encoding only when it is exactly `chunked`, never both. A
    // reader more lenient than the proxy in front of it (`+5`, a second
    // length, `gzip` read as no body) is how requests get smuggled.
    let values = |name: &str| -> Vec<&str> {
        req.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    };
    let (lengths, codings) = (values("Content-Length"), values("Transfer-Encoding"));
    let (length, chunked) = match (&lengths[..], &codings[..]) {
        ([], []) => (None, false),
        ([], [c]) if c.eq_ignore_ascii_case("chunked") => (None, true),
        ([l], []) if !l.is_empty() && l.bytes().all(|b| b.is_ascii_digit()) => {
            // Only digits: too many of them for a u64 is too large.
            (Some(l.parse::<u64>().unwrap_or(u64::MAX)), false)
        }
        _ => return Incoming::Reject(400),
    };
    if !chunked && length.unwrap_or(0) == 0 {
        return Incoming::Request(req);
    }
    if length.is_some_and(|n| n > max_body as u64) {
        return Incoming::Reject(413);
    }
    if version == Version::Http11
        && req
            .header("Expect")
            .is_some_and(|e| e.eq_ignore_ascii_case("100-continue"))
    {
        let _ = interim.write_all(b"HTTP/1.1 100 Continue\r\n\r\n");
        let _ = interim.flush();
    }
    let body = if chunked {
        read_chunked(conn, max_body)
    } else {
        read_exact_body(conn, length.unwrap_or(0) as usize)
    };
    match body {
        Ok(b) => {
            req.body = b;
            Incoming::Request(req)
        }
        Err(BodyError::TooLarge) => Incoming::Reject(413),
        Err(BodyError::Bad) => Incoming::Reject(400),
        Err(BodyError::Closed) => Incoming::Closed,
    }
}

enum Line {
    Text(String),
    Closed,
    TooLong,
    Bad,
}

/// One line without its CRLF (a bare LF is accepted), charged to `left`.
fn read_line<R: BufRead>(conn: &mut R, left: &mut usize) -> Line {
    let mut raw = Vec::new();
    let limit = (*left as u64).saturating_add(1);
    match conn.by_ref().take(limit).read_until(b'\n', &mut raw) {
        Ok(0) => return Line::Closed,
        Ok(_) => {}
        Err(_) => return Line::Closed,
    }
    if raw.last() != Some(&b'\n') {
        // Either the limit cut the line or the peer closed mid-line.
        return if raw.len() as u64 >= limit {
            Line::TooLong
        } else {
            Line::Closed
        };
    }
    *left = left.saturating_sub(raw.len());
    raw.pop();
    if raw.last() == Some(&b'\r') {
        raw.pop();
    }
    // Header values are ISO-8859-1 by the RFC; ours are ASCII in practice.
    let text = match String::from_utf8(raw) {
        Ok(s) => s,
        Err(e) => e.into_bytes().iter().map(|&b| b as char).collect(),
    };
    // A NUL or another control character (but tab) in the head is a
    // malformed request.
    if text.chars().any(|c| c.is_control() && c != '\t') {
        Line::Bad
    } else {
        Line::Text(text)
    }
}

enum BodyError {
    TooLarge,
    Bad,
    Closed,
}

fn read_exact_body<R: Read>(conn: &mut R, n: usize) -> Result<Vec<u8>, BodyError> {
    let mut body = Vec::new();
    match conn.take(n as u64).read_to_end(&mut body) {
        Ok(got) if got == n => Ok(body),
        _ => Err(BodyError::Closed),
    }
}

fn read_chunked<R: BufRead>(conn: &mut R, max_body: usize) -> Result<Vec<u8>, BodyError> {
    let mut body = Vec::new();
    let mut head_left = MAX_HEAD;
    loop {
        let size_line = match read_line(conn, &mut head_left) {
            Line::Text(l) => l,
            Line::Closed => return Err(BodyError::Closed),
            Line::TooLong | Line::Bad => return Err(BodyError::Bad),
        };
        // chunk-size is hex digits only (from_str_radix would take a sign);
        // blanks may come before a chunk extension.
        let digits = size_line
            .split(';')
            .next()
            .unwrap_or("")
            .trim_end_matches([' ', '\t']);
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(BodyError::Bad);
        }
        let size = usize::from_str_radix(digits, 16).map_err(|_| BodyError::TooLarge)?;
        if size == 0 {
            // Trailers, up to the blank line.
            loop {
                match read_line(conn, &mut head_left) {
                    Line::Text(l) if l.is_empty() => return Ok(body),
                    Line::Text(_) => continue,
                    Line::Closed => return Err(BodyError::Closed),
                    Line::TooLong | Line::Bad => return Err(BodyError::Bad),
                }
            }
        }
        if body.len().saturating_add(size) > max_body {
            return Err(BodyError::TooLarge);
        }
        let chunk = read_exact_body(conn, size)?;
        body.extend_from_slice(&chunk);
        match read_line(conn, &mut head_left) {
            Line::Text(l) if l.is_empty() => {}
            Line::Closed => return Err(BodyError::Closed),
            _ => return Err(BodyError::Bad),
        }
    }
}

/// The reason phrase of the statuses we send.
pub fn reason(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        200 => "OK",
        301 => "Moved Permanently",
        400 => "Bad Request",
        401 => "Unauthorized",
        404 => "Not Found",
        413 => "Payload Too Large",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        505 => "HTTP Version Not Supported",
        _ => "Unknown",
    }
}

/// Writes a response head: status line, `Date`, the given headers, then
/// the blank line. Header values are ours (constants, or text we made
/// safe), never a client's raw bytes.
pub fn write_head<W: Write>(
    out: &mut W,
    version: Version,
    status: u16,
    headers: &[(&str, &str)],
) -> io::Result<()> {
    let mut head = format!(
        "{} {} {}\r\nDate: {}\r\n",
        version.text(),
        status,
        reason(status),
        httpdate::fmt_http_date(std::time::SystemTime::now())
    );
    for (name, value) in headers {
        head.push_str(name);
        head.push_str(": ");
        head.push_str(value);
        head.push_str("\r\n");
    }
    head.push_str("\r\n");
    out.write_all(head.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn read(raw: &[u8]) -> (Incoming, Vec<u8>) {
        let mut conn = Cursor::new(raw.to_vec());
        let mut interim = Vec::new();
        let got = read_request(&mut conn, &mut interim, 100);
        (got, interim)
    }

    fn request(raw: &[u8]) -> Request {
        match read(raw).0 {
            Incoming::Request(r) => r,
            other => panic!("{other:?} for {:?}", String::from_utf8_lossy(raw)),
        }
    }

    fn status(raw: &[u8]) -> Option<u16> {
        match read(raw).0 {
            Incoming::Reject(s) => Some(s),
            _ => None,
        }
    }

    #[test]
    fn post_with_length() {
        let r = request(b"POST /RPC2 HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhelloEXTRA");
        assert_eq!(r.method, "POST");
        assert_eq!(r.url, "/RPC2");
        assert_eq!(r.version, Version::Http11);
        assert_eq!(r.header("host"), Some("x"));
        assert_eq!(r.body, b"hello");
        assert!(r.keep_alive());
    }

    #[test]
    fn pipelined_requests_come_one_at_a_time() {
        let mut conn = Cursor::new(
            b"GET /a HTTP/1.1\r\n\r\nPOST /b HTTP/1.0\r\nContent-Length: 2\r\n\r\nokGET".to_vec(),
        );
        let mut sink = Vec::new();
        let urls: Vec<String> = (0..3)
            .map(|_| match read_request(&mut conn, &mut sink, 100) {
                Incoming::Request(r) => r.url,
                other => format!("{other:?}"),
            })
            .collect();
        assert_eq!(urls, ["/a", "/b", "Closed"]);
    }

    #[test]
    fn keep_alive_rules() {
        assert!(!request(b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n").keep_alive());
        assert!(!request(b"GET / HTTP/1.0\r\n\r\n").keep_alive());
        assert!(request(b"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n").keep_alive());
        assert!(!request(b"GET / HTTP/1.1\r\nConnection: TE, close\r\n\r\n").keep_alive());
    }

    #[test]
    fn chunked_body_and_continue() {
        let (got, interim) = read(
            b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n3;x=y\r\nabc\r\n2\r\nde\r\n0\r\nTrailer: 1\r\n\r\n",
        );
        match got {
            Incoming::Request(r) => assert_eq!(r.body, b"abcde"),
            other => panic!("{other:?}"),
        }
        assert_eq!(interim, b"HTTP/1.1 100 Continue\r\n\r\n");
    }

    #[test]
    fn limits_and_malformed_requests() {
        assert_eq!(
            status(b"POST / HTTP/1.1\r\nContent-Length: 101\r\n\r\n"),
            Some(413)
        );
        assert_eq!(
            status(b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n65\r\n"),
            Some(413)
        );
        assert_eq!(
            status(b"POST / HTTP/1.1\r\nContent-Length: x\r\n\r\n"),
            Some(400)
        );
        assert_eq!(status(b"GET /\r\n\r\n"), Some(400));
        assert_eq!(status(b"GET / HTTP/2.0\r\n\r\n"), Some(505));
        assert_eq!(status(b"get / HTTP/1.1\r\n\r\n"), Some(400));
        assert_eq!(status(b"GET / HTTP/1.1\r\nNoColon\r\n\r\n"), Some(400));
        assert_eq!(
            status(b"GET / HTTP/1.1\r\nA: 1\r\n folded\r\n\r\n"),
            Some(400)
        );
        assert_eq!(status(b"GET / HTTP/1.1\r\nA: \x00\r\n\r\n"), Some(400));
        let mut huge = b"GET / HTTP/1.1\r\nX: ".to_vec();
        huge.extend(std::iter::repeat_n(b'a', MAX_HEAD));
        huge.extend_from_slice(b"\r\n\r\n");
        assert_eq!(status(&huge), Some(431));
    }

    #[test]
    fn framing_is_strict() {
        // Found by fuzz/fuzz_targets/http_request.rs: each of these was
        // read with a body length a proxy could have read differently.
        for raw in [
            &b"POST / HTTP/1.1\r\nContent-Length: +2\r\n\r\nok"[..],
            b"POST / HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok",
            b"POST / HTTP/1.1\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
            b"POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
            b"POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\nGET /x HTTP/1.1\r\n\r\n",
            b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
            b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n+2\r\nok\r\n0\r\n\r\n",
            b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n 2\r\nok\r\n0\r\n\r\n",
        ] {
            assert_eq!(status(raw), Some(400), "{:?}", String::from_utf8_lossy(raw));
        }
        assert_eq!(
            status(b"POST / HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n"),
            Some(413)
        );
        let r = request(
            b"POST / HTTP/1.1\r\nTransfer-Encoding: Chunked\r\n\r\n2 ;x\r\nok\r\n0\r\n\r\n",
        );
        assert_eq!(r.body, b"ok");
        assert_eq!(
            request(b"POST / HTTP/1.1\r\nContent-Length: 0\r\n\r\n").body,
            b""
        );
    }

    #[test]
    fn a_request_cut_short_is_closed_not_answered() {
        for raw in [
            &b""[..],
            b"GET / HT",
            b"GET / HTTP/1.1\r\nHost: x\r\n",
            b"POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc",
            b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab",
        ] {
            assert!(matches!(read(raw).0, Incoming::Closed), "{raw:?}");
        }
    }

    #[test]
    fn head_has_date_and_headers() {
        let mut out = Vec::new();
        write_head(
            &mut out,
            Version::Http10,
            404,
            &[("Content-Length", "0"), ("Connection", "close")],
        )
        .unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.starts_with("HTTP/1.0 404 Not Found\r\nDate: "),
            "{text}"
        );
        assert!(
            text.ends_with("Content-Length: 0\r\nConnection: close\r\n\r\n"),
            "{text}"
        );
    }
}
