//! A burst of clients that connect at once, each holding its connection
//! while its request is slow to arrive, are all answered, and the threads
//! that served them go away with them. (tiny_http, used before, queued
//! some connections of such a burst behind idle keep-alive ones, for as
//! long as those stayed open.)

mod util;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;
use util::*;

/// Threads of `pid` named `http` (the connection threads).
fn connection_threads(pid: i32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/task"))
        .map(|tasks| {
            tasks
                .flatten()
                .filter(|t| {
                    std::fs::read_to_string(t.path().join("comm"))
                        .is_ok_and(|c| c.trim_end() == "http")
                })
                .count()
        })
        .unwrap_or(0)
}

/// Starts our daemon in `d` with an inet server on a free port and the
/// given program sections; returns it (killed on drop) and the port, once
/// the port accepts connections.
fn start_daemon(d: &std::path::Path, programs: &str) -> (Guard, u16) {
    let port = free_port();
    let conf = write_conf(
        d,
        &format!("[inet_http_server]\nport=127.0.0.1:{port}\n\n{RPCINTERFACE}{programs}"),
    );
    let daemon = start_ours(&conf);
    // Probe with a whole request that closes its connection, so the
    // probe's thread is known to come and go before the test counts.
    let answered = || {
        let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
            return false;
        };
        let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
        let mut reply = String::new();
        s.write_all(b"GET /probe HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .is_ok()
            && s.read_to_string(&mut reply).is_ok()
            && reply.starts_with("HTTP/1.1 404")
    };
    assert!(
        wait_until(Duration::from_secs(15), answered),
        "daemon not answering"
    );
    let pid = daemon.pid();
    assert!(
        wait_until(Duration::from_secs(10), || connection_threads(pid) == 0),
        "{} connection threads with no client",
        connection_threads(pid)
    );
    (daemon, port)
}

#[test]
fn a_burst_of_slow_clients_is_served_and_its_threads_go() {
    let dir = temp_dir();
    let (daemon, port) = start_daemon(dir.path(), "");
    let pid = daemon.pid();
    let base = connection_threads(pid);

    // Eight clients each send a request whose body is late, and keep
    // their connections open after the answer.
    let body = format!(
        "<?xml version='1.0'?><methodCall>{}<methodName>supervisor.getState</methodName><params></params></methodCall>",
        " ".repeat(2048)
    );
    let mut clients: Vec<TcpStream> = (0..8)
        .map(|_| {
            let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
            write!(
                s,
                "POST /RPC2 HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\nContent-Length: {}\r\n\r\n{}",
                body.len(),
                &body[..10]
            )
            .expect("send head");
            s
        })
        .collect();
    assert!(
        wait_until(Duration::from_secs(10), || connection_threads(pid)
            >= base + 8),
        "not a thread per connection: {} connection threads (before: {base})",
        connection_threads(pid)
    );
    // The last to connect first: none may wait for another to finish.
    for s in clients.iter_mut().rev() {
        s.write_all(&body.as_bytes()[10..]).expect("send rest");
        s.set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        let mut reply = [0u8; 512];
        let n = s.read(&mut reply).expect("reply");
        assert!(
            String::from_utf8_lossy(&reply[..n]).starts_with("HTTP/1.1 200"),
            "{}",
            String::from_utf8_lossy(&reply[..n])
        );
    }
    drop(clients);
    assert!(
        wait_until(Duration::from_secs(10), || connection_threads(pid) == base),
        "{} connection threads after the clients closed (before: {base})",
        connection_threads(pid)
    );
}

/// A `tail -f` client that goes away while the log is idle frees its
/// connection thread at once, not at the log's next write.
#[test]
fn a_tail_client_that_leaves_an_idle_log_is_noticed() {
    let dir = temp_dir();
    let d = dir.path();
    let program = format!(
        "[program:quiet]\ncommand=sh -c 'echo started; exec sleep 1000'\nstartsecs=0\nstdout_logfile={}/quiet.log\n",
        d.display()
    );
    let (daemon, port) = start_daemon(d, &program);
    let pid = daemon.pid();
    let log = d.join("quiet.log");
    assert!(
        wait_until(Duration::from_secs(15), || std::fs::read_to_string(&log)
            .is_ok_and(|t| t.contains("started"))),
        "no output from quiet"
    );
    let base = connection_threads(pid);
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.write_all(b"GET /logtail/quiet HTTP/1.1\r\nHost: x\r\n\r\n")
        .expect("request");
    s.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let mut seen = Vec::new();
    let mut buf = [0u8; 1024];
    while !String::from_utf8_lossy(&seen).contains("started") {
        let n = s.read(&mut buf).expect("stream");
        assert!(n > 0, "stream ended: {}", String::from_utf8_lossy(&seen));
        seen.extend_from_slice(&buf[..n]);
    }
    assert_eq!(connection_threads(pid), base + 1, "a thread for the stream");
    drop(s);
    assert!(
        wait_until(Duration::from_secs(5), || connection_threads(pid) == base),
        "the stream's thread is still there after its client left"
    );
}

/// The answer to supervisor.shutdown reaches its client even when the
/// daemon has nothing to stop and exits at once: closing the servers lets
/// answers in flight go out.
#[test]
fn the_shutdown_answer_gets_out_before_the_exit() {
    for round in 0..5 {
        let dir = temp_dir();
        let (mut daemon, port) = start_daemon(dir.path(), "");
        let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
        let body = "<?xml version='1.0'?><methodCall><methodName>supervisor.shutdown</methodName><params></params></methodCall>";
        write!(
            s,
            "POST /RPC2 HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\nContent-Length: {}\r\n\r\n{}",
            body.len(),
            body
        )
        .expect("send");
        s.set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        let mut reply = String::new();
        let _ = s.read_to_string(&mut reply);
        assert!(
            reply.starts_with("HTTP/1.1 200") && reply.contains("<boolean>1</boolean>"),
            "round {round}: {reply:?}"
        );
        assert!(
            daemon.wait_exit(Duration::from_secs(10)).is_some(),
            "round {round}: still running"
        );
    }
}
