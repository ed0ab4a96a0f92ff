//! Requests framed ambiguously (the shapes request smuggling takes: two
//! lengths, a length and a coding, codings we do not know) are refused by
//! the daemon with their status, a short page and `Connection: close`,
//! and the connection is closed after it; the daemon keeps serving
//! everyone else.

use crate::util::{Daemon, Impl};
use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::time::Duration;

/// Our daemon on a free loopback port, answering.
fn start_daemon() -> Daemon {
    Daemon::builder(Impl::Ours).inet().start()
}

const GET_STATE: &str = "<?xml version='1.0'?><methodCall><methodName>supervisor.getState</methodName><params></params></methodCall>";

fn get_state_request() -> String {
    format!(
        "POST /RPC2 HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\nContent-Length: {}\r\n\r\n{}",
        GET_STATE.len(),
        GET_STATE
    )
}

/// A getState call on a new connection is answered 200 with the state.
fn get_state_answers(port: u16) -> bool {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(10)));
    let request = get_state_request().replace("Host: x\r\n", "Host: x\r\nConnection: close\r\n");
    let mut reply = String::new();
    s.write_all(request.as_bytes()).is_ok()
        && s.read_to_string(&mut reply).is_ok()
        && reply.starts_with("HTTP/1.1 200 OK\r\n")
        && reply.contains("<string>RUNNING</string>")
}

/// Sends `raw`, then reads until the daemon closes the connection (a
/// daemon that keeps it open fails the read's timeout).
fn exchange(port: u16, raw: &[u8]) -> String {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    // The daemon may answer and stop reading before all of a large
    // request is sent.
    let _ = s.write_all(raw);
    let mut reply = Vec::new();
    s.read_to_end(&mut reply)
        .unwrap_or_else(|e| panic!("no close after {:?}: {e}", excerpt(raw)));
    String::from_utf8_lossy(&reply).into_owned()
}

fn excerpt(raw: &[u8]) -> String {
    let text = String::from_utf8_lossy(&raw[..raw.len().min(120)]).into_owned();
    format!("{text:?}")
}

/// The reply is exactly one refusal with `status`: its status line, a
/// `Connection: close` field, a short body of the declared length, and
/// nothing after it (a smuggled request got no answer).
fn assert_refused(reply: &str, status: u16, raw: &[u8]) {
    let what = excerpt(raw);
    assert!(
        reply.starts_with(&format!("HTTP/1.1 {status} ")),
        "{what}: {reply:?}"
    );
    let (head, body) = reply.split_once("\r\n\r\n").expect("a whole head");
    assert!(head.contains("\r\nConnection: close"), "{what}: {head:?}");
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("Content-Length: "))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("{what}: no Content-Length in {head:?}"));
    assert_eq!(body.len(), length, "{what}: {reply:?}");
    assert!(length < 512, "{what}: a short page, not {length} bytes");
}

#[test]
fn ambiguous_requests_are_refused_and_closed_and_others_still_served() {
    let daemon = start_daemon();
    let port = daemon.port();
    // Each would smuggle this request past a reader that framed the
    // first one differently.
    let smuggled = "GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n";
    let post = |fields: &str, body: &str| {
        format!("POST /RPC2 HTTP/1.1\r\nHost: x\r\n{fields}\r\n{body}").into_bytes()
    };
    let chunked_body = format!("0\r\n\r\n{smuggled}");
    let mut cases: Vec<(Vec<u8>, u16)> = vec![
        // Transfer-Encoding other than exactly `chunked`: 501.
        (
            post("Transfer-Encoding: gzip, chunked\r\n", &chunked_body),
            501,
        ),
        (
            post("Transfer-Encoding: chunked, gzip\r\n", &chunked_body),
            501,
        ),
        (post("Transfer-Encoding: identity\r\n", smuggled), 501),
        (
            post(
                "Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n",
                &chunked_body,
            ),
            501,
        ),
        (
            post(
                "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n",
                &chunked_body,
            ),
            501,
        ),
        // Both framings: 400, whichever comes first.
        (
            post(
                "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n",
                &chunked_body,
            ),
            400,
        ),
        (
            post(
                "Transfer-Encoding: chunked\r\nContent-Length: 38\r\n",
                &chunked_body,
            ),
            400,
        ),
        // Content-Length: one field, digits only.
        (
            post("Content-Length: 0\r\nContent-Length: 0\r\n", smuggled),
            400,
        ),
        (
            post("Content-Length: 0\r\nContent-Length: 36\r\n", smuggled),
            400,
        ),
        (post("Content-Length: 0, 0\r\n", smuggled), 400),
        (post("Content-Length: +0\r\n", smuggled), 400),
        (post("Content-Length: -1\r\n", smuggled), 400),
        (post("Content-Length: 0x0\r\n", smuggled), 400),
        (post("Content-Length: 3 6\r\n", smuggled), 400),
        (post("Content-Length: \r\n", smuggled), 400),
        (post("Content-Length: 99999999999999999999999\r\n", ""), 400),
        // Chunk sizes: hex digits only.
        (
            post(
                "Transfer-Encoding: chunked\r\n",
                &format!("-0\r\n\r\n{smuggled}"),
            ),
            400,
        ),
        (
            post(
                "Transfer-Encoding: chunked\r\n",
                &format!("0x0\r\n\r\n{smuggled}"),
            ),
            400,
        ),
        (
            post(
                "Transfer-Encoding: chunked\r\n",
                "ffffffffffffffffff1\r\nx\r\n0\r\n\r\n",
            ),
            400,
        ),
        // Malformed heads.
        (post("Content-Length : 36\r\n", smuggled), 400),
        (post("X: 1\r\n folded: 2\r\n", ""), 400),
        (b"GET / HTTP/1.1\r\nA: 1\rB: 2\r\n\r\n".to_vec(), 400),
        // Past the caps.
        (post("Content-Length: 9999999999\r\n", ""), 413),
        (b"GET / HTTP/2.0\r\n\r\n".to_vec(), 505),
    ];
    let mut many_fields = b"GET / HTTP/1.1\r\n".to_vec();
    for i in 0..101 {
        many_fields.extend_from_slice(format!("X-{i}: 1\r\n").as_bytes());
    }
    many_fields.extend_from_slice(b"\r\n");
    cases.push((many_fields, 431));
    let mut long_head = b"GET / HTTP/1.1\r\nX: ".to_vec();
    long_head.extend(std::iter::repeat_n(b'a', 70 * 1024));
    long_head.extend_from_slice(b"\r\n\r\n");
    cases.push((long_head, 431));

    for (raw, status) in &cases {
        let reply = exchange(port, raw);
        assert_refused(&reply, *status, raw);
        assert!(!reply.contains("smuggled"), "{reply:?}");
    }
    // The daemon is still there for everyone else.
    assert!(get_state_answers(port));
}

#[test]
fn what_worked_before_still_works() {
    let daemon = start_daemon();
    let port = daemon.port();

    // Pipelined keep-alive calls, one answer each, on one connection.
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let two = format!("\r\n{}{}", get_state_request(), get_state_request());
    s.write_all(two.as_bytes()).expect("send");
    s.shutdown(Shutdown::Write).expect("shutdown");
    let mut reply = String::new();
    s.read_to_string(&mut reply).expect("answers");
    assert_eq!(reply.matches("HTTP/1.1 200 OK\r\n").count(), 2, "{reply}");

    // A chunked body with an extension and a trailer, after 100-continue.
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    s.write_all(
        b"POST /RPC2 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n",
    )
    .expect("send head");
    let mut interim = [0u8; 25];
    s.read_exact(&mut interim).expect("100 Continue");
    assert_eq!(&interim, b"HTTP/1.1 100 Continue\r\n\r\n");
    let (a, b) = GET_STATE.split_at(20);
    let body = format!(
        "{:x};ext=1\r\n{a}\r\n{:X}\r\n{b}\r\n0\r\nX-Trailer: 1\r\n\r\n",
        a.len(),
        b.len()
    );
    s.write_all(body.as_bytes()).expect("send body");
    let mut reply = String::new();
    s.read_to_string(&mut reply).expect("answer");
    assert!(reply.starts_with("HTTP/1.1 200 OK\r\n"), "{reply}");
    assert!(reply.contains("RUNNING"), "{reply}");

    // HTTP/1.0 with bare LF line ends: answered, then closed.
    let request = format!(
        "POST /RPC2 HTTP/1.0\nContent-Length: {}\n\n{GET_STATE}",
        GET_STATE.len()
    );
    let reply = exchange(port, request.as_bytes());
    assert!(reply.starts_with("HTTP/1.0 200 OK\r\n"), "{reply}");
    assert!(reply.contains("RUNNING"), "{reply}");

    // A client that leaves inside its request gets no answer.
    for partial in [
        &b"POST /RPC2 HTTP/1.1\r\nHost: x\r\n"[..],
        b"POST /RPC2 HTTP/1.1\r\nContent-Length: 50\r\n\r\n<?xml",
        b"POST /RPC2 HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n10\r\nabc",
    ] {
        let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        s.write_all(partial).expect("send");
        s.shutdown(Shutdown::Write).expect("shutdown");
        let mut reply = Vec::new();
        s.read_to_end(&mut reply).expect("closed");
        assert!(reply.is_empty(), "{:?}", String::from_utf8_lossy(&reply));
    }
    assert!(get_state_answers(port));
}
