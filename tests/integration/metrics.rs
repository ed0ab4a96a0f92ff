//! `GET /metrics`, the Go supervisord's Prometheus endpoint (an extension:
//! Python Supervisor answers 404): the Go version's metric names and
//! labels for every program, the daemon's own process metrics, and the
//! server's basic auth in front of it.

use crate::util;

use std::time::Duration;
use util::http::{self, Addr, Response};
use util::{wait_until, Daemon, Impl};

/// `GET path` with an optional `Authorization` header line, on a
/// connection the request closes.
fn get(d: &Daemon, path: &str, auth: Option<&str>) -> Response {
    let mut headers = vec!["Connection: close"];
    headers.extend(auth);
    let req = http::request("GET", path, "HTTP/1.1", &headers, None);
    http::exchange(&Addr::Tcp(d.port()), &req, Duration::from_secs(10)).expect("answer")
}

#[test]
fn metrics_report_every_program_behind_auth() {
    let daemon = Daemon::builder(Impl::Ours)
        .inet()
        .auth("user", "pass")
        .sections(
            "[program:web]\ncommand=sleep 1000\nstartsecs=0\n\n\
             [program:job]\ncommand=sh -c 'exit 3'\nstartsecs=0\nautorestart=false\n",
        )
        .start();
    assert!(
        wait_until(Duration::from_secs(15), || {
            let l = daemon.log();
            l.contains("success: web entered RUNNING") && l.contains("exited: job (exit status 3")
        }),
        "programs did not settle:\n{}",
        daemon.log()
    );

    let r = get(&daemon, "/metrics", None);
    assert_eq!(r.status, 401, "no credentials");

    // "user:pass", spelt out rather than made by the harness's encoder.
    let r = get(
        &daemon,
        "/metrics",
        Some("Authorization: Basic dXNlcjpwYXNz"),
    );
    let body = r.text();
    assert_eq!(r.status, 200, "{}{body}", r.head);
    assert!(
        r.head
            .contains("Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"),
        "{}",
        r.head
    );
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
