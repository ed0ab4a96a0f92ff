//! HTTP/1.x on the wire, for both ends: the servers read requests with
//! it, supervisorctl reads the daemon's responses with it. Heads are
//! parsed by `httparse` (fuzzed upstream, no allocation); this module
//! only finds where a head ends and decides the body's framing around it,
//! strictly by RFC 9112 section 6, so that no two readers of the same
//! bytes can disagree on where a message ends:
//!
//! * `Transfer-Encoding` must be exactly `chunked` (one field, any case);
//!   any other coding is 501, and in an HTTP/1.0 message it is 400.
//! * `Transfer-Encoding` with `Content-Length` is 400.
//! * `Content-Length` is one field of digits only (no sign, no list, no
//!   duplicate even of the same value, no overflow), else 400.
//! * A head is at most [`MAX_HEAD`] bytes and [`MAX_HEADERS`] fields
//!   (431); a request body at most the caller's cap (413).
//! * A chunk-size line is hex digits (no sign, overflow-checked), then
//!   optional extensions; trailers are parsed as header fields and dropped.
//!
//! Python's medusa is laxer (it takes the first `Content-Length` through
//! `int()`, so `+5` passes, and reads no chunked request body): we refuse
//! on purpose, since a laxer reader is what a smuggled request needs.
//!
//! A bare LF ends a line as CRLF does (httparse accepts it in heads, and
//! RFC 9112 2.2 allows it); a bare CR anywhere is malformed.
//!
//! It must not decide what a request means or how it is answered: that is
//! the server's job (`server.rs`), and supervisorctl's (`ctl/http.rs`).

use std::fmt;
use std::io::{self, BufRead, Read, Write};

/// A head (request or status line plus fields), in bytes.
pub const MAX_HEAD: usize = 64 * 1024;

/// Header fields in a head (or a chunked body's trailers). Python's
/// clients send five; past this a request is 431.
pub const MAX_HEADERS: usize = 100;

/// A chunk-size line with its extensions, in bytes.
const MAX_CHUNK_LINE: usize = 4 * 1024;

/// HTTP version of a message.
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

    fn from_minor(minor: u8) -> Version {
        if minor == 0 {
            Version::Http10
        } else {
            Version::Http11
        }
    }
}

/// Why a message could not be read.
#[derive(Debug)]
pub enum Error {
    /// The peer closed the connection inside a message.
    Closed,
    /// Reading from the connection failed.
    Io(io::Error),
    /// The head or the body's framing is malformed (400).
    Malformed(&'static str),
    /// The head is too long or has too many fields (431).
    HeadTooLarge,
    /// The body is larger than the cap (413).
    BodyTooLarge,
    /// A transfer coding other than `chunked` (501).
    UnsupportedCoding,
    /// An HTTP version other than 1.0 and 1.1 (505).
    UnsupportedVersion,
}

impl Error {
    /// The status a server answers this with; None when there is no one
    /// to answer (the peer left).
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Closed | Error::Io(_) => None,
            Error::Malformed(_) => Some(400),
            Error::HeadTooLarge => Some(431),
            Error::BodyTooLarge => Some(413),
            Error::UnsupportedCoding => Some(501),
            Error::UnsupportedVersion => Some(505),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Closed => f.write_str("connection closed inside a message"),
            Error::Io(e) => write!(f, "{}", e),
            Error::Malformed(what) => write!(f, "malformed HTTP message: {}", what),
            Error::HeadTooLarge => f.write_str("HTTP head too large"),
            Error::BodyTooLarge => f.write_str("HTTP body too large"),
            Error::UnsupportedCoding => f.write_str("unsupported transfer coding"),
            Error::UnsupportedVersion => f.write_str("unsupported HTTP version"),
        }
    }
}

impl std::error::Error for Error {}

/// Header fields in the order received, names as sent; a value is text
/// (ISO-8859-1 when it is not UTF-8).
pub type Fields = Vec<(String, String)>;

/// The first field of that name (case-insensitive).
pub fn field<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// Whether the connection stays open after this message: HTTP/1.1
/// unless `Connection: close`, HTTP/1.0 only with `Connection:
/// keep-alive` (tokens of every Connection field, any case).
pub fn persistent(version: Version, fields: &[(String, String)]) -> bool {
    let has = |token: &str| {
        fields
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case("Connection"))
            .flat_map(|(_, v)| v.split(','))
            .any(|t| t.trim().eq_ignore_ascii_case(token))
    };
    match version {
        Version::Http11 => !has("close"),
        Version::Http10 => has("keep-alive"),
    }
}

/// A request line and its fields.
#[derive(Debug)]
pub struct RequestHead {
    pub method: String,
    /// The request target as sent (path and query).
    pub url: String,
    pub version: Version,
    pub headers: Fields,
}

/// A status line and its fields.
#[derive(Debug)]
pub struct ResponseHead {
    pub version: Version,
    pub status: u16,
    pub reason: String,
    pub headers: Fields,
}

/// How a message's body is delimited.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Framing {
    /// Exactly this many bytes (0: no body).
    Length(u64),
    Chunked,
    /// Everything up to the end of the connection (responses only).
    UntilClose,
}

/// Reads a request head. Ok(None) when the peer closed before a request
/// began (blank lines before it do not count).
pub fn read_request_head<R: BufRead>(conn: &mut R) -> Result<Option<RequestHead>, Error> {
    let mut block = Vec::new();
    if !read_head_block(conn, &mut block)? {
        return Ok(None);
    }
    let mut fields = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut fields);
    match req.parse(&block) {
        Ok(httparse::Status::Complete(n)) if n == block.len() => {}
        Ok(_) => return Err(Error::Malformed("request head")),
        Err(httparse::Error::Version) => return Err(version_error(&block)),
        Err(e) => return Err(parse_error(e)),
    }
    let (Some(method), Some(url), Some(minor)) = (req.method, req.path, req.version) else {
        return Err(Error::Malformed("request line"));
    };
    // httparse takes any token; methods are case-sensitive and all ours
    // (and every client's) are upper case.
    if !method.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(Error::Malformed("method"));
    }
    Ok(Some(RequestHead {
        method: method.to_string(),
        url: url.to_string(),
        version: Version::from_minor(minor),
        headers: owned_fields(req.headers),
    }))
}

/// Reads a response head. Ok(None) when the peer closed before a
/// response began.
pub fn read_response_head<R: BufRead>(conn: &mut R) -> Result<Option<ResponseHead>, Error> {
    let mut block = Vec::new();
    if !read_head_block(conn, &mut block)? {
        return Ok(None);
    }
    let mut fields = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut resp = httparse::Response::new(&mut fields);
    match resp.parse(&block) {
        Ok(httparse::Status::Complete(n)) if n == block.len() => {}
        Ok(_) => return Err(Error::Malformed("response head")),
        Err(httparse::Error::Version) => return Err(Error::UnsupportedVersion),
        Err(e) => return Err(parse_error(e)),
    }
    let (Some(minor), Some(status)) = (resp.version, resp.code) else {
        return Err(Error::Malformed("status line"));
    };
    Ok(Some(ResponseHead {
        version: Version::from_minor(minor),
        status,
        reason: resp.reason.unwrap_or("").to_string(),
        headers: owned_fields(resp.headers),
    }))
}

/// The body framing of a request (RFC 9112 6.3): chunked, a length, or
/// none at all.
pub fn request_framing(version: Version, fields: &[(String, String)]) -> Result<Framing, Error> {
    Ok(declared_framing(version, fields)?.unwrap_or(Framing::Length(0)))
}

/// The body framing of a response to a GET or POST (RFC 9112 6.3): none
/// for 1xx, 204 and 304; else chunked, a length, or up to the close.
pub fn response_framing(
    version: Version,
    status: u16,
    fields: &[(String, String)],
) -> Result<Framing, Error> {
    let declared = declared_framing(version, fields)?;
    if (100..200).contains(&status) || status == 204 || status == 304 {
        return Ok(Framing::Length(0));
    }
    Ok(declared.unwrap_or(Framing::UntilClose))
}

/// What `Transfer-Encoding` and `Content-Length` say, if anything; the
/// checks are the same for requests and responses.
fn declared_framing(
    version: Version,
    fields: &[(String, String)],
) -> Result<Option<Framing>, Error> {
    let named = |name: &'static str| {
        fields
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    };
    let codings: Vec<&str> = named("Transfer-Encoding").collect();
    let lengths: Vec<&str> = named("Content-Length").collect();
    if !codings.is_empty() {
        // Two framings at once is how requests are smuggled past a proxy
        // that reads the other one.
        if !lengths.is_empty() {
            return Err(Error::Malformed(
                "both Transfer-Encoding and Content-Length",
            ));
        }
        if version == Version::Http10 {
            return Err(Error::Malformed("Transfer-Encoding in HTTP/1.0"));
        }
        return match codings.as_slice() {
            [coding] if coding.eq_ignore_ascii_case("chunked") => Ok(Some(Framing::Chunked)),
            _ => Err(Error::UnsupportedCoding),
        };
    }
    match lengths.as_slice() {
        [] => Ok(None),
        [length] => parse_length(length).map(|n| Some(Framing::Length(n))),
        _ => Err(Error::Malformed("more than one Content-Length")),
    }
}

/// `Content-Length = 1*DIGIT`, and it must fit.
fn parse_length(text: &str) -> Result<u64, Error> {
    let bad = Error::Malformed("Content-Length");
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad);
    }
    text.parse().map_err(|_| bad)
}

/// Reads a body as `framing` delimits it, handing each piece to `sink`
/// as it arrives (a `tail -f` stream is never whole). More than `max`
/// bytes of body is [`Error::BodyTooLarge`], found before they are read
/// when the length is declared.
pub fn read_body<R: BufRead>(
    conn: &mut R,
    framing: Framing,
    max: u64,
    mut sink: impl FnMut(&[u8]),
) -> Result<(), Error> {
    match framing {
        Framing::Length(n) if n > max => Err(Error::BodyTooLarge),
        Framing::Length(n) => pass(conn, n, &mut sink),
        Framing::Chunked => read_chunked(conn, max, &mut sink),
        Framing::UntilClose => {
            let mut total: u64 = 0;
            loop {
                let n = step(conn, u64::MAX, &mut sink)?;
                if n == 0 {
                    return Ok(());
                }
                total = total.saturating_add(n as u64);
                if total > max {
                    return Err(Error::BodyTooLarge);
                }
            }
        }
    }
}

fn read_chunked<R: BufRead>(
    conn: &mut R,
    max: u64,
    sink: &mut impl FnMut(&[u8]),
) -> Result<(), Error> {
    let mut total: u64 = 0;
    let mut line = Vec::new();
    loop {
        line.clear();
        match read_line(conn, &mut line, MAX_CHUNK_LINE)? {
            Line::Whole => {}
            Line::Eof => return Err(Error::Closed),
            Line::TooLong => return Err(Error::Malformed("chunk-size line too long")),
        }
        let size = chunk_size(&line)?;
        if size == 0 {
            return read_trailers(conn);
        }
        total = total.saturating_add(size);
        if total > max {
            return Err(Error::BodyTooLarge);
        }
        pass(conn, size, sink)?;
        line.clear();
        match read_line(conn, &mut line, 2)? {
            Line::Whole if is_blank(&line) => {}
            Line::Eof => return Err(Error::Closed),
            _ => return Err(Error::Malformed("chunk data longer than its size")),
        }
    }
}

/// `chunk-size [ chunk-ext ]` of a line (its end included):
/// `1*HEXDIG *( BWS ";" ... )`.
fn chunk_size(line: &[u8]) -> Result<u64, Error> {
    let bad = Error::Malformed("chunk-size line");
    let line = strip_line_end(line);
    let digits = line.iter().take_while(|b| b.is_ascii_hexdigit()).count();
    if digits == 0 {
        return Err(bad);
    }
    let mut size: u64 = 0;
    for &b in &line[..digits] {
        let digit = char::from(b)
            .to_digit(16)
            .ok_or(Error::Malformed("chunk-size line"))?;
        size = size
            .checked_mul(16)
            .and_then(|s| s.checked_add(u64::from(digit)))
            .ok_or(Error::Malformed("chunk size overflows"))?;
    }
    let rest = &line[digits..];
    if rest.is_empty() {
        return Ok(size);
    }
    // Extensions are ignored, but must be text: whitespace may come only
    // before a `;`, and no control byte but HTAB anywhere.
    let ext = rest.trim_ascii_start();
    let text = |b: &u8| *b == b'\t' || (*b >= 0x20 && *b != 0x7f);
    if ext.first() != Some(&b';') || !ext.iter().all(text) {
        return Err(bad);
    }
    Ok(size)
}

/// The trailer section after the last chunk, up to its blank line: parsed
/// as header fields (a malformed one is 400), then dropped.
fn read_trailers<R: BufRead>(conn: &mut R) -> Result<(), Error> {
    let mut block = Vec::new();
    loop {
        let start = block.len();
        match read_line(conn, &mut block, MAX_HEAD.saturating_sub(start))? {
            Line::Whole => {}
            Line::Eof => return Err(Error::Closed),
            Line::TooLong => return Err(Error::HeadTooLarge),
        }
        if is_blank(&block[start..]) {
            break;
        }
    }
    let mut fields = [httparse::EMPTY_HEADER; MAX_HEADERS];
    match httparse::parse_headers(&block, &mut fields) {
        Ok(httparse::Status::Complete((n, _))) if n == block.len() => Ok(()),
        Ok(_) => Err(Error::Malformed("trailers")),
        Err(e) => Err(parse_error(e)),
    }
}

/// Hands the next `left` bytes to `sink` as they arrive.
fn pass<R: BufRead>(
    conn: &mut R,
    mut left: u64,
    sink: &mut impl FnMut(&[u8]),
) -> Result<(), Error> {
    while left > 0 {
        let n = step(conn, left, sink)?;
        if n == 0 {
            return Err(Error::Closed);
        }
        left -= n as u64;
    }
    Ok(())
}

/// Hands `sink` what is buffered, at most `most` bytes, reading first if
/// nothing is; the count given, 0 at the end of the connection.
fn step<R: BufRead>(conn: &mut R, most: u64, sink: &mut impl FnMut(&[u8])) -> Result<usize, Error> {
    loop {
        let n = match conn.fill_buf() {
            Ok(piece) => {
                let n = piece.len().min(usize::try_from(most).unwrap_or(usize::MAX));
                sink(&piece[..n]);
                n
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(Error::Io(e)),
        };
        conn.consume(n);
        return Ok(n);
    }
}

/// Reads lines into `block` up to the blank line ending a head, dropping
/// blank lines before the head (RFC 9112 2.2). False when the peer closed
/// before a head began.
fn read_head_block<R: BufRead>(conn: &mut R, block: &mut Vec<u8>) -> Result<bool, Error> {
    let mut left = MAX_HEAD;
    let mut begun = false;
    loop {
        let start = block.len();
        match read_line(conn, block, left)? {
            Line::Whole => {}
            Line::TooLong => return Err(Error::HeadTooLarge),
            Line::Eof if begun || block.len() > start => return Err(Error::Closed),
            Line::Eof => return Ok(false),
        }
        left -= block.len() - start;
        if is_blank(&block[start..]) {
            if begun {
                return Ok(true);
            }
            block.truncate(start);
        } else {
            begun = true;
        }
    }
}

/// The 505 for a request line that names another version (`HTTP/2.0`),
/// the 400 for any other httparse found no version in.
fn version_error(block: &[u8]) -> Error {
    let first = block.split(|&b| b == b'\n').next().unwrap_or(b"");
    let first = first.strip_suffix(b"\r").unwrap_or(first);
    let mut parts = first.split(|&b| b == b' ');
    let named_version = matches!(
        (parts.next(), parts.next(), parts.next(), parts.next()),
        (Some(_), Some(_), Some(v), None)
            if v.strip_prefix(b"HTTP/").is_some_and(|n| n.first().is_some_and(u8::is_ascii_digit))
    );
    if named_version {
        Error::UnsupportedVersion
    } else {
        Error::Malformed("HTTP version")
    }
}

/// What httparse's refusal means for us: too many fields is 431, the
/// rest is malformed.
fn parse_error(e: httparse::Error) -> Error {
    Error::Malformed(match e {
        httparse::Error::TooManyHeaders => return Error::HeadTooLarge,
        httparse::Error::HeaderName => "header name",
        httparse::Error::HeaderValue => "header value",
        httparse::Error::NewLine => "line ending",
        httparse::Error::Status => "status code",
        httparse::Error::Token => "request line",
        httparse::Error::Version => "HTTP version",
    })
}

fn owned_fields(fields: &[httparse::Header<'_>]) -> Fields {
    fields
        .iter()
        .map(|h| (h.name.to_string(), field_text(h.value)))
        .collect()
}

/// A field value as text: UTF-8, or ISO-8859-1 (the RFC's charset) when
/// it is not.
fn field_text(value: &[u8]) -> String {
    match std::str::from_utf8(value) {
        Ok(s) => s.to_string(),
        Err(_) => value.iter().map(|&b| char::from(b)).collect(),
    }
}

enum Line {
    /// A line with its end was appended.
    Whole,
    /// The peer closed (what it sent of a line was appended).
    Eof,
    /// No line end within the limit.
    TooLong,
}

/// Appends one line, its LF included, of at most `limit` bytes.
fn read_line<R: BufRead>(conn: &mut R, into: &mut Vec<u8>, limit: usize) -> Result<Line, Error> {
    let start = into.len();
    let cap = (limit as u64).saturating_add(1);
    match conn.by_ref().take(cap).read_until(b'\n', into) {
        Ok(_) => {}
        Err(e) => return Err(Error::Io(e)),
    }
    let got = into.len() - start;
    Ok(if got > limit {
        Line::TooLong
    } else if got > 0 && into.last() == Some(&b'\n') {
        Line::Whole
    } else {
        Line::Eof
    })
}

fn strip_line_end(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

fn is_blank(line: &[u8]) -> bool {
    line == b"\n" || line == b"\r\n"
}

/// One request, body included, as the server handles it.
#[derive(Debug)]
pub struct Request {
    pub method: String,
    /// The request target as sent (path and query).
    pub url: String,
    pub version: Version,
    pub headers: Fields,
    pub body: Vec<u8>,
}

impl Request {
    /// The first header of that name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        field(&self.headers, name)
    }

    /// Whether the connection stays open after the answer.
    pub fn keep_alive(&self) -> bool {
        persistent(self.version, &self.headers)
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

/// Reads one request for the server, its body capped at `max_body`.
/// `interim` gets `100 Continue` when the client asks for it before
/// sending its body.
pub fn read_request<R: BufRead, W: Write>(
    conn: &mut R,
    interim: &mut W,
    max_body: usize,
) -> Incoming {
    let refused = |e: Error| match e.status() {
        Some(status) => Incoming::Reject(status),
        None => Incoming::Closed,
    };
    let head = match read_request_head(conn) {
        Ok(Some(head)) => head,
        Ok(None) => return Incoming::Closed,
        Err(e) => return refused(e),
    };
    let framing = match request_framing(head.version, &head.headers) {
        Ok(f) => f,
        Err(e) => return refused(e),
    };
    let mut req = Request {
        method: head.method,
        url: head.url,
        version: head.version,
        headers: head.headers,
        body: Vec::new(),
    };
    let max_body = max_body as u64;
    match framing {
        Framing::Length(0) => return Incoming::Request(req),
        Framing::Length(n) if n > max_body => return Incoming::Reject(413),
        _ => {}
    }
    if req.version == Version::Http11
        && req
            .header("Expect")
            .is_some_and(|e| e.eq_ignore_ascii_case("100-continue"))
    {
        let _ = interim.write_all(b"HTTP/1.1 100 Continue\r\n\r\n");
        let _ = interim.flush();
    }
    let mut body = Vec::new();
    match read_body(conn, framing, max_body, |piece| {
        body.extend_from_slice(piece)
    }) {
        Ok(()) => {
            req.body = body;
            Incoming::Request(req)
        }
        Err(e) => refused(e),
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
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        409 => "Conflict",
        413 => "Payload Too Large",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
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

    /// The status a request is refused with; None when it is read (or
    /// the connection ends).
    fn status(raw: &[u8]) -> Option<u16> {
        match read(raw).0 {
            Incoming::Reject(s) => Some(s),
            _ => None,
        }
    }

    /// Each request must be refused with its status.
    fn refused(cases: &[(&[u8], u16)]) {
        for (raw, want) in cases {
            assert_eq!(
                status(raw),
                Some(*want),
                "{:?}",
                String::from_utf8_lossy(raw)
            );
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
            b"GET /a HTTP/1.1\r\n\r\nPOST /b HTTP/1.0\r\nContent-Length: 2\r\n\r\nok\
              POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n\r\nGET"
                .to_vec(),
        );
        let mut sink = Vec::new();
        let urls: Vec<String> = (0..4)
            .map(|_| match read_request(&mut conn, &mut sink, 100) {
                Incoming::Request(r) => r.url,
                other => format!("{other:?}"),
            })
            .collect();
        assert_eq!(urls, ["/a", "/b", "/c", "Closed"]);
    }

    #[test]
    fn keep_alive_rules() {
        assert!(request(b"GET / HTTP/1.1\r\n\r\n").keep_alive());
        assert!(!request(b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n").keep_alive());
        assert!(!request(b"GET / HTTP/1.0\r\n\r\n").keep_alive());
        assert!(request(b"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n").keep_alive());
        assert!(!request(b"GET / HTTP/1.1\r\nConnection: TE, close\r\n\r\n").keep_alive());
        // Every Connection field counts, not only the first.
        assert!(
            !request(b"GET / HTTP/1.1\r\nConnection: TE\r\nConnection: close\r\n\r\n").keep_alive()
        );
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
    fn continue_only_when_asked_and_only_for_a_body() {
        let (_, interim) = read(b"POST / HTTP/1.1\r\nContent-Length: 1\r\n\r\nx");
        assert!(interim.is_empty());
        let (_, interim) = read(b"GET / HTTP/1.1\r\nExpect: 100-continue\r\n\r\n");
        assert!(interim.is_empty());
        // HTTP/1.0 clients do not know 100.
        let (_, interim) =
            read(b"POST / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\nx");
        assert!(interim.is_empty());
        // Refused before the body: no 100 either.
        let (got, interim) =
            read(b"POST / HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 101\r\n\r\n");
        assert!(matches!(got, Incoming::Reject(413)));
        assert!(interim.is_empty());
    }

    #[test]
    fn chunked_forms_that_are_read() {
        for (raw, body) in [
            // Upper-case coding, upper-case hex, leading zeros.
            (&b"POST / HTTP/1.1\r\nTransfer-Encoding: Chunked\r\n\r\n00A\r\n0123456789\r\n0\r\n\r\n"[..], &b"0123456789"[..]),
            // Extensions, with whitespace before the `;`, and quoted.
            (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2 ;a=\"b c\"\r\nok\r\n0;end\r\n\r\n", b"ok"),
            // Several trailers.
            (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\nA: 1\r\nB: 2\r\n\r\n", b"x"),
            // Bare LF line ends throughout.
            (b"POST / HTTP/1.1\nTransfer-Encoding: chunked\n\n1\nx\n0\n\n", b"x"),
        ] {
            match read(raw).0 {
                Incoming::Request(r) => assert_eq!(r.body, body),
                other => panic!("{other:?} for {:?}", String::from_utf8_lossy(raw)),
            }
        }
    }

    #[test]
    fn transfer_encoding_other_than_chunked_is_501() {
        refused(&[
            (b"POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", 501),
            (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n", 501),
            (b"POST / HTTP/1.1\r\nTransfer-Encoding: identity\r\n\r\n", 501),
            (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 501),
            (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\n", 501),
            (b"POST / HTTP/1.1\r\nTransfer-Encoding: \r\n\r\n", 501),
            (b"POST / HTTP/1.1\r\nTransfer-Encoding: xchunked\r\n\r\n", 501),
            (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked,\r\n\r\n", 501),
        ]);
    }

    #[test]
    fn transfer_encoding_with_content_length_is_400() {
        refused(&[
            (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n", 400),
            (b"POST / HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
            (b"POST / HTTP/1.1\r\nContent-Length: 0\r\nTransfer-Encoding: gzip\r\n\r\n", 400),
            // And any Transfer-Encoding in HTTP/1.0 (RFC 9112 6.1).
            (b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
        ]);
    }

    #[test]
    fn content_length_is_one_field_of_digits() {
        refused(&[
            (
                b"POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello",
                400,
            ),
            (
                b"POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
                400,
            ),
            (b"POST / HTTP/1.1\r\nContent-Length: 5, 5\r\n\r\nhello", 400),
            (b"POST / HTTP/1.1\r\nContent-Length: 5,5\r\n\r\nhello", 400),
            (b"POST / HTTP/1.1\r\nContent-Length: +5\r\n\r\nhello", 400),
            (b"POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400),
            (b"POST / HTTP/1.1\r\nContent-Length: 0x5\r\n\r\nhello", 400),
            (
                b"POST / HTTP/1.1\r\nContent-Length: 1 0\r\n\r\nhellohello",
                400,
            ),
            (b"POST / HTTP/1.1\r\nContent-Length: \r\n\r\n", 400),
            (b"POST / HTTP/1.1\r\nContent-Length: 5x\r\n\r\nhello", 400),
            (b"POST / HTTP/1.1\r\nContent-Length: x\r\n\r\n", 400),
            (b"POST / HTTP/1.1\r\nContent-Length: 5.0\r\n\r\nhello", 400),
            (
                b"POST / HTTP/1.1\r\nContent-Length: \xd9\xa5\r\n\r\nhello",
                400,
            ),
            (
                b"POST / HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n",
                400,
            ),
            (
                b"POST / HTTP/1.1\r\nContent-Length: 18446744073709551616\r\n\r\n",
                400,
            ),
        ]);
        // Whitespace around the value is not part of it (OWS), and leading
        // zeros are digits.
        assert_eq!(
            request(b"POST / HTTP/1.1\r\nContent-Length:  005 \r\n\r\nhello").body,
            b"hello"
        );
        // The largest value that fits is a length, too big for the cap.
        assert_eq!(
            status(b"POST / HTTP/1.1\r\nContent-Length: 18446744073709551615\r\n\r\n"),
            Some(413)
        );
    }

    #[test]
    fn chunk_size_is_hex_digits_only() {
        let chunked = |size_line: &str| {
            let mut raw = b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
            raw.extend_from_slice(size_line.as_bytes());
            raw.extend_from_slice(b"\r\nhello\r\n0\r\n\r\n");
            status(&raw)
        };
        for bad in [
            "+5",
            "-5",
            "0x5",
            " 5",
            "",
            "5 ",
            "5 x",
            "g",
            "5;a\u{1}",
            "5\rx",
            "ffffffffffffffffff",
            "10000000000000000",
        ] {
            assert_eq!(chunked(bad), Some(400), "chunk size {bad:?}");
        }
        assert_eq!(chunked("5"), None);
        // A chunk longer than its size, or cut, or without its CRLF.
        refused(&[
            (
                b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhello\r\n0\r\n\r\n",
                400,
            ),
            (
                b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello0\r\n\r\n",
                400,
            ),
            // Malformed trailers.
            (
                b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nno colon\r\n\r\n",
                400,
            ),
        ]);
        // A chunk-size line is short; its extensions do not make it long.
        let mut long = b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1;".to_vec();
        long.extend(std::iter::repeat_n(b'a', MAX_CHUNK_LINE));
        long.extend_from_slice(b"\r\nx\r\n0\r\n\r\n");
        assert_eq!(status(&long), Some(400));
    }

    #[test]
    fn heads_past_the_caps_are_431() {
        let mut huge = b"GET / HTTP/1.1\r\nX: ".to_vec();
        huge.extend(std::iter::repeat_n(b'a', MAX_HEAD));
        huge.extend_from_slice(b"\r\n\r\n");
        assert_eq!(status(&huge), Some(431));
        // Many short lines add up.
        let mut many_lines = b"GET / HTTP/1.1\r\n".to_vec();
        for i in 0..MAX_HEAD / 16 {
            many_lines.extend_from_slice(format!("X{i:05}: aaaaaa\r\n").as_bytes());
        }
        many_lines.extend_from_slice(b"\r\n");
        assert_eq!(status(&many_lines), Some(431));
        // Endless blank lines before a request are a head too.
        assert_eq!(status(&b"\r\n".repeat(MAX_HEAD)), Some(431));
        let fields = |n: usize| {
            let mut raw = b"GET / HTTP/1.1\r\n".to_vec();
            for i in 0..n {
                raw.extend_from_slice(format!("X-{i}: 1\r\n").as_bytes());
            }
            raw.extend_from_slice(b"\r\n");
            raw
        };
        assert_eq!(request(&fields(MAX_HEADERS)).headers.len(), MAX_HEADERS);
        assert_eq!(status(&fields(MAX_HEADERS + 1)), Some(431));
        // Trailers have the same cap.
        let mut trailers = b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n".to_vec();
        for i in 0..=MAX_HEADERS {
            trailers.extend_from_slice(format!("T-{i}: 1\r\n").as_bytes());
        }
        trailers.extend_from_slice(b"\r\n");
        assert_eq!(status(&trailers), Some(431));
    }

    #[test]
    fn bodies_past_the_cap_are_413() {
        refused(&[
            (b"POST / HTTP/1.1\r\nContent-Length: 101\r\n\r\n", 413),
            (
                b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n65\r\n",
                413,
            ),
        ]);
        let mut at_cap = b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
        at_cap.extend_from_slice(b"32\r\n");
        at_cap.extend_from_slice(&[b'a'; 50]);
        at_cap.extend_from_slice(b"\r\n32\r\n");
        at_cap.extend_from_slice(&[b'b'; 50]);
        at_cap.extend_from_slice(b"\r\n1\r\nc\r\n0\r\n\r\n");
        assert_eq!(status(&at_cap), Some(413));
        at_cap.truncate(at_cap.len() - b"1\r\nc\r\n0\r\n\r\n".len());
        at_cap.extend_from_slice(b"0\r\n\r\n");
        assert_eq!(request(&at_cap).body.len(), 100);
    }

    #[test]
    fn versions_other_than_1_0_and_1_1_are_505() {
        refused(&[
            (b"GET / HTTP/2.0\r\n\r\n", 505),
            (b"GET / HTTP/1.2\r\n\r\n", 505),
            (b"GET / HTTP/3\r\n\r\n", 505),
            (b"GET / HTTP/0.9\r\n\r\n", 505),
            // Not a version at all.
            (b"GET / HTTP/x\r\n\r\n", 400),
            (b"GET / FTP/1.0\r\n\r\n", 400),
            (b"GET /\r\n\r\n", 400),
        ]);
    }

    #[test]
    fn malformed_heads_are_400() {
        refused(&[
            (b"get / HTTP/1.1\r\n\r\n", 400),
            (b"GET  / HTTP/1.1\r\n\r\n", 400),
            (b"GET / HTTP/1.1 \r\n\r\n", 400),
            (b"GET /a b HTTP/1.1\r\n\r\n", 400),
            (b"GET / HTTP/1.1\r\nNoColon\r\n\r\n", 400),
            (b"GET / HTTP/1.1\r\nContent-Length : 5\r\n\r\nhello", 400),
            (b"GET / HTTP/1.1\r\nA: 1\r\n folded\r\n\r\n", 400),
            (b"GET / HTTP/1.1\r\nA: 1\r\n\tfolded\r\n\r\n", 400),
            (b"GET / HTTP/1.1\r\nA: \x00\r\n\r\n", 400),
            // A bare CR is no line end.
            (b"GET / HTTP/1.1\r\nA: 1\rB: 2\r\n\r\n", 400),
            (b"GET / HTTP/1.1\rA: 1\r\n\r\n", 400),
            (b"GET / HTTP/1.1\r\nA: 1\r\r\n\r\n", 400),
            (b"GET /\x7f HTTP/1.1\r\n\r\n", 400),
            (b": empty name\r\n\r\n", 400),
        ]);
    }

    #[test]
    fn lenient_where_the_rfc_allows() {
        // Blank lines before the request line, and a bare LF as line end.
        let r = request(b"\r\n\n\r\nGET /x HTTP/1.1\nHost: h\n\n");
        assert_eq!((r.url.as_str(), r.header("Host")), ("/x", Some("h")));
        // A UTF-8 target, and a value that is not UTF-8 (read as Latin-1).
        let r = request(b"GET /logtail/caf\xc3\xa9 HTTP/1.1\r\nX: caf\xe9\r\n\r\n");
        assert_eq!(
            (r.url.as_str(), r.header("x")),
            ("/logtail/caf\u{e9}", Some("caf\u{e9}"))
        );
        // An empty value.
        assert_eq!(
            request(b"GET / HTTP/1.1\r\nX:\r\n\r\n").header("X"),
            Some("")
        );
    }

    #[test]
    fn a_request_cut_short_is_closed_not_answered() {
        for raw in [
            &b""[..],
            b"\r\n\r\n",
            b"GET / HT",
            b"GET / HTTP/1.1\r\nHost: x\r\n",
            b"GET / HTTP/2.0\r\n",
            b"POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc",
            b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab",
            b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5",
            b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello",
            b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n",
            b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nT: 1\r\n",
        ] {
            assert!(matches!(read(raw).0, Incoming::Closed), "{raw:?}");
        }
    }

    #[test]
    fn a_read_error_is_a_close() {
        struct Broken;
        impl Read for Broken {
            fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
                Err(io::Error::from_raw_os_error(libc::ECONNRESET))
            }
        }
        let mut conn = io::BufReader::new(Broken);
        assert!(matches!(
            read_request(&mut conn, &mut Vec::new(), 100),
            Incoming::Closed
        ));
    }

    fn response(raw: &[u8]) -> Result<(ResponseHead, Framing, Vec<u8>), Error> {
        let mut conn = Cursor::new(raw.to_vec());
        let head = read_response_head(&mut conn)?.ok_or(Error::Closed)?;
        let framing = response_framing(head.version, head.status, &head.headers)?;
        let mut body = Vec::new();
        read_body(&mut conn, framing, u64::MAX, |p| body.extend_from_slice(p))?;
        Ok((head, framing, body))
    }

    #[test]
    fn responses_as_the_daemons_send_them() {
        // Ours and medusa's XML-RPC answer.
        let (head, framing, body) = response(
            b"HTTP/1.1 200 OK\r\nServer: Medusa/1.12\r\nDate: x\r\nContent-Type: text/xml\r\nContent-Length: 2\r\n\r\nokNEXT",
        )
        .unwrap();
        assert_eq!((head.status, head.reason.as_str()), (200, "OK"));
        assert_eq!((framing, body.as_slice()), (Framing::Length(2), &b"ok"[..]));
        assert!(persistent(head.version, &head.headers));
        // A tail -f stream, chunked, and its HTTP/1.0 form up to the close.
        let (_, framing, body) = response(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n3\r\nabc\r\n1\r\nd\r\n0\r\n\r\n",
        )
        .unwrap();
        assert_eq!((framing, body.as_slice()), (Framing::Chunked, &b"abcd"[..]));
        let (head, framing, body) =
            response(b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nall of it").unwrap();
        assert_eq!(
            (framing, body.as_slice()),
            (Framing::UntilClose, &b"all of it"[..])
        );
        assert!(!persistent(head.version, &head.headers));
        // Medusa's keep-alive for HTTP/1.0.
        let (head, _, _) =
            response(b"HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 0\r\n\r\n")
                .unwrap();
        assert!(persistent(head.version, &head.headers));
        // No body for 204 and 304, whatever the fields say.
        let (_, framing, _) = response(b"HTTP/1.1 204 No Content\r\n\r\n").unwrap();
        assert_eq!(framing, Framing::Length(0));
    }

    #[test]
    fn responses_framed_ambiguously_are_errors() {
        for raw in [
            &b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok"[..],
            b"HTTP/1.1 200 OK\r\nContent-Length: +2\r\n\r\nok",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 2\r\n\r\n0\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
            b"HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\n",
            b"HTTP/2 200 OK\r\n\r\n",
            b"HTTP/1.1 2000 OK\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nBad Name: 1\r\n\r\n",
        ] {
            let got = response(raw);
            assert!(
                got.as_ref().is_err_and(|e| e.status().is_some()),
                "{:?}: {got:?}",
                String::from_utf8_lossy(raw)
            );
        }
        assert!(matches!(
            response(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nok"),
            Err(Error::Closed)
        ));
        let mut conn = Cursor::new(b"".to_vec());
        assert!(matches!(read_response_head(&mut conn), Ok(None)));
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
        assert_eq!(reason(501), "Not Implemented");
    }
}
