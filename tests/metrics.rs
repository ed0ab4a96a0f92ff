//! `GET /metrics`, the Go supervisord's Prometheus endpoint (an extension:
//! Python Supervisor answers 404): the Go version's metric names and
//! labels for every program, the daemon's own process metrics, and the
//! server's basic auth in front of it.

mod util;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;
use util::*;

/// `GET path` with an optional Authorization header; (status, headers and
/// body as text). The connection is closed by the request.
fn get(port: u16, path: &str, auth: Option<&str>) -> (u16, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let auth = auth
        .map(|a| format!("Authorization: Basic {a}\r\n"))
        .unwrap_or_default();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: localhost\r\n{auth}Connection: close\r\n\r\n"
    )
    .expect("send");
    let mut text = String::new();
    s.read_to_string(&mut text).expect("read");
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (status, text)
}

#[test]
fn metrics_report_every_program_behind_auth() {
    let dir = temp_dir();
    let d = dir.path();
    let port = free_port();
    let conf = write_conf(
        d,
        &format!(
            "[inet_http_server]\nport=127.0.0.1:{port}\nusername=user\npassword=pass\n\n{RPCINTERFACE}\
             [program:web]\ncommand=sleep 1000\nstartsecs=0\n\n\
             [program:job]\ncommand=sh -c 'exit 3'\nstartsecs=0\nautorestart=false\n"
        ),
    );
    let _daemon = start_ours(&conf);
    let log = d.join("sd.log");
    assert!(
        wait_until(Duration::from_secs(15), || {
            let l = std::fs::read_to_string(&log).unwrap_or_default();
            l.contains("success: web entered RUNNING") && l.contains("exited: job (exit status 3")
        }),
        "programs did not settle:\n{}",
        std::fs::read_to_string(&log).unwrap_or_default()
    );

    let (status, _) = get(port, "/metrics", None);
    assert_eq!(status, 401, "no credentials");

    // "user:pass"
    let (status, page) = get(port, "/metrics", Some("dXNlcjpwYXNz"));
    assert_eq!(status, 200, "{page}");
    assert!(
        page.contains("Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"),
        "{page}"
    );
    let body = page.split("\r\n\r\n").nth(1).unwrap_or("");
    for line in [
        "node_supervisord_up{group=\"web\",name=\"web\"} 1",
        "node_supervisord_up{group=\"job\",name=\"job\"} 0",
        "node_supervisord_state{group=\"web\",name=\"web\"} 20",
        "node_supervisord_state{group=\"job\",name=\"job\"} 100",
        "node_supervisord_exit_status{group=\"job\",name=\"job\"} 3",
    ] {
        assert!(body.lines().any(|l| l == line), "{line:?} not in:\n{body}");
    }
    let started = body
        .lines()
        .find_map(|l| {
            l.strip_prefix("node_supervisord_start_time_seconds{group=\"web\",name=\"web\"} ")
        })
        .and_then(|v| v.parse::<f64>().ok())
        .expect("web's start time");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0);
    assert!(
        (now - started).abs() < 60.0,
        "start time {started}, now {now}"
    );
    for name in [
        "process_open_fds",
        "process_resident_memory_bytes",
        "process_start_time_seconds",
    ] {
        assert!(
            body.lines().any(|l| l.starts_with(&format!("{name} "))),
            "{name} missing:\n{body}"
        );
    }
    // Every sample line is `name{labels} value` or `name value`.
    for l in body
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let value = l.rsplit(' ').next().unwrap_or("");
        assert!(value.parse::<f64>().is_ok(), "bad sample line {l:?}");
    }
}
