//! HTTP request framing: `http::wire::read_request` on a connection's
//! bytes, read request after request as the server does (pipelining,
//! keep-alive, chunked bodies, `Expect: 100-continue`). The first byte
//! picks the body cap and how the bytes arrive; the rest is the stream.
//!
//! Checked: no panic, no hang, bounded memory; a body never exceeds the
//! cap; the interim answer is nothing or exactly one `100 Continue`; the
//! same bytes give the same requests however they are split across reads;
//! the requests read, written out again plainly (Content-Length framing)
//! and read back, come out the same; and a request is only taken with the
//! strict framing of RFC 9112 section 6 that DESIGN.md asks for (at most
//! one Content-Length, of digits only; a Transfer-Encoding only if it is
//! exactly `chunked`; never both), since a lenient reader behind a proxy
//! that reads the framing differently is how requests get smuggled.

#![no_main]

use libfuzzer_sys::fuzz_target;
use std::io::{BufReader, Cursor, Read};
use supervisord::http::wire::{read_request, Incoming, Request};

const CAPS: [usize; 8] = [0, 1, 5, 16, 100, 1000, 4096, 1 << 20];

fuzz_target!(|data: &[u8]| {
    let Some((&knobs, stream)) = data.split_first() else {
        return;
    };
    let max_body = CAPS[usize::from(knobs & 7)];
    let piece = usize::from(knobs >> 3 & 7) + 1;
    let capacity = [1, 2, 3, 7, 8, 64, 1024, 8192][usize::from(knobs >> 6)];

    let whole = read_all(&mut Cursor::new(stream), max_body);
    let mut split = BufReader::with_capacity(
        capacity,
        Dribble {
            data: stream,
            piece,
        },
    );
    let pieces = read_all(&mut split, max_body);
    assert_eq!(whole.len(), pieces.len());
    for (a, b) in whole.iter().zip(&pieces) {
        assert_eq!(format!("{a:?}"), format!("{b:?}"));
    }

    let requests: Vec<&Request> = whole
        .iter()
        .filter_map(|i| match i {
            Incoming::Request(r) => Some(r),
            _ => None,
        })
        .collect();
    if requests.is_empty() {
        return;
    }
    let mut again = Vec::new();
    for r in &requests {
        again.extend(write_plainly(r));
    }
    let back = read_all(&mut Cursor::new(&again[..]), max_body);
    assert_eq!(back.len(), requests.len() + 1, "{back:?}");
    assert!(matches!(back.last(), Some(Incoming::Closed)));
    for (r, b) in requests.iter().zip(&back) {
        let Incoming::Request(b) = b else {
            panic!("{r:?} written plainly read back as {b:?}");
        };
        assert_eq!(b.method, r.method);
        assert_eq!(b.url, r.url);
        assert_eq!(b.version, r.version);
        assert_eq!(b.headers, plain_headers(r));
        assert_eq!(b.body, r.body);
    }
});

/// Every outcome of reading `conn` until it is closed or a request is
/// refused (after which the server closes the connection).
fn read_all<R: std::io::BufRead>(conn: &mut R, max_body: usize) -> Vec<Incoming> {
    let mut out = Vec::new();
    loop {
        let mut interim = Vec::new();
        let got = read_request(conn, &mut interim, max_body);
        assert!(
            interim.is_empty() || interim == b"HTTP/1.1 100 Continue\r\n\r\n",
            "{interim:?}"
        );
        let done = !matches!(got, Incoming::Request(_));
        if let Incoming::Request(r) = &got {
            assert!(r.body.len() <= max_body, "{} > {max_body}", r.body.len());
            check_framing(r);
        }
        out.push(got);
        if done {
            return out;
        }
    }
}

/// RFC 9112 section 6, strictly: what a request we took may say about
/// its body.
fn check_framing(r: &Request) {
    let values = |name: &str| -> Vec<&str> {
        r.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    };
    let lengths = values("content-length");
    let codings = values("transfer-encoding");
    assert!(lengths.len() <= 1, "several Content-Length: {lengths:?}");
    assert!(codings.len() <= 1, "several Transfer-Encoding: {codings:?}");
    assert!(
        lengths.is_empty() || codings.is_empty(),
        "both Content-Length and Transfer-Encoding"
    );
    for l in lengths {
        assert!(
            !l.is_empty() && l.bytes().all(|b| b.is_ascii_digit()),
            "Content-Length {l:?}"
        );
    }
    for c in codings {
        assert!(c.eq_ignore_ascii_case("chunked"), "Transfer-Encoding {c:?}");
    }
}

/// The request's headers with its framing replaced by a Content-Length.
fn plain_headers(r: &Request) -> Vec<(String, String)> {
    let mut h: Vec<(String, String)> = r
        .headers
        .iter()
        .filter(|(n, _)| {
            !n.eq_ignore_ascii_case("content-length")
                && !n.eq_ignore_ascii_case("transfer-encoding")
        })
        .cloned()
        .collect();
    if !r.body.is_empty() {
        h.push(("Content-Length".into(), r.body.len().to_string()));
    }
    h
}

fn write_plainly(r: &Request) -> Vec<u8> {
    let mut out = format!("{} {} {}\r\n", r.method, r.url, r.version.text()).into_bytes();
    for (n, v) in plain_headers(r) {
        out.extend_from_slice(format!("{n}: {v}\r\n").as_bytes());
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(&r.body);
    out
}

/// A connection that hands over at most `piece` bytes per read.
struct Dribble<'a> {
    data: &'a [u8],
    piece: usize,
}

impl Read for Dribble<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.piece.min(buf.len()).min(self.data.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}
