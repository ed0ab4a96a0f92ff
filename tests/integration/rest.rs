//! The Go supervisord's REST API (`/program/...`, `/supervisor/...`; an
//! extension, Python answers 404): real daemons and real children, the
//! effect of every action checked through XML-RPC, answers read as JSON
//! by Python's `json` module (not by our own reader), and the failure
//! paths: unknown names and nodes, bad bodies, wrong methods, missing
//! credentials, cross-site requests, over TCP and the unix socket.

use crate::util;

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;
use supervisord::rpc::xmlrpc::Value;
use util::http::{self, Addr, Response};
use util::{wait_until, Daemon, Impl};

const CALL: Duration = Duration::from_secs(30);

/// A request to the inet server with the daemon's credentials.
fn rest(d: &Daemon, method: &str, path: &str, body: Option<&str>) -> Response {
    rest_with(d, method, path, body, &[])
}

fn rest_with(
    d: &Daemon,
    method: &str,
    path: &str,
    body: Option<&str>,
    headers: &[(&str, &str)],
) -> Response {
    d.request(method, path, headers, body.map(str::as_bytes), CALL)
        .unwrap_or_else(|e| panic!("{method} {path}: {e}\n{}", d.output()))
}

/// `expr` (Python, over the parsed body `v`) evaluated by python3 on a
/// JSON answer, printed with repr(). Fails the test when the body is not
/// JSON.
fn py(r: &Response, expr: &str) -> String {
    let script =
        format!("import json,sys\nv=json.loads(sys.stdin.buffer.read())\nprint(repr({expr}))");
    let mut child = Command::new(util::pyref_bin("python"))
        .args(["-c", &script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(&r.body)
        .expect("write body");
    let out = child.wait_with_output().expect("python output");
    assert!(
        out.status.success(),
        "{expr} on {:?}: {}",
        r.text(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim_end().to_string()
}

/// A JSON answer with this status.
fn assert_json(r: &Response, status: u16) {
    assert_eq!(r.status, status, "{}{}", r.head, r.text());
    assert_eq!(
        r.header("Content-Type"),
        Some("application/json"),
        "{}",
        r.head
    );
    assert!(r.text().ends_with('\n'), "{:?}", r.text());
}

fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .expect("host name")
        .trim()
        .to_string()
}

const PROGRAMS: &str = "\
[program:web]
command=sleep 1000
startsecs=0

[program:idle]
command=sleep 1000
startsecs=1
autostart=false

[program:talk]
command=sh -c 'echo hello; echo oops >&2; exec sleep 1000'
startsecs=0

[program:worker]
command=sleep 1000
process_name=%(program_name)s_%(process_num)d
numprocs=2
startsecs=0
autostart=false

[program:broken]
command=sh -c 'exit 3'
startsecs=1
startretries=0
autostart=false
";

fn started(auth: bool) -> Daemon {
    let mut b = Daemon::builder(Impl::Ours)
        .inet()
        .unix("sock")
        .sections(PROGRAMS);
    if auth {
        b = b.auth("user", "pass");
    }
    let d = b.start();
    d.wait_states(
        &[("web", "RUNNING"), ("talk", "RUNNING"), ("idle", "STOPPED")],
        Duration::from_secs(20),
    );
    d
}

#[test]
fn list_and_info_have_the_go_fields() {
    let d = started(false);
    let node = host_name();
    let r = rest(&d, "GET", "/program/list", None);
    assert_json(&r, 200);
    assert_eq!(
        py(&r, "[(p['group'], p['name'], p['statename'], p['node']) for p in v]"),
        format!(
            "[('broken', 'broken', 'STOPPED', '{node}'), ('idle', 'idle', 'STOPPED', '{node}'), \
             ('talk', 'talk', 'RUNNING', '{node}'), ('web', 'web', 'RUNNING', '{node}'), \
             ('worker', 'worker_0', 'STOPPED', '{node}'), ('worker', 'worker_1', 'STOPPED', '{node}')]"
        )
    );
    assert_eq!(
        py(&r, "list(v[0].keys())"),
        "['node', 'name', 'group', 'description', 'start', 'stop', 'now', 'state', 'statename', \
         'spawnerr', 'exitstatus', 'logfile', 'stdout_logfile', 'stderr_logfile', 'pid']"
    );

    let pid = d.proc_pid("web");
    let r = rest(&d, "GET", &format!("/program/info/{node}/web"), None);
    assert_json(&r, 200);
    assert_eq!(
        py(
            &r,
            "(v['name'], v['state'], v['pid'], v['description'].startswith('pid '))"
        ),
        format!("('web', 20, {pid}, True)")
    );
    // group:name, escaped or not, and a bare process name of another group.
    for name in [
        "worker:worker_1",
        "worker%3Aworker_1",
        "worker_1",
        "worke%72_1",
    ] {
        let r = rest(&d, "GET", &format!("/program/info/{node}/{name}"), None);
        assert_json(&r, 200);
        assert_eq!(
            py(&r, "(v['group'], v['name'])"),
            "('worker', 'worker_1')",
            "{name}"
        );
    }
    // The identifier of [supervisord] names this node too.
    let r = rest(&d, "GET", "/program/info/supervisor/web", None);
    assert_json(&r, 200);

    let r = rest(&d, "GET", &format!("/program/info/{node}/nosuch"), None);
    assert_json(&r, 404);
    assert_eq!(py(&r, "v"), "{'error': 'BAD_NAME: nosuch'}");
    let r = rest(&d, "GET", "/program/info/elsewhere/web", None);
    assert_json(&r, 404);
    assert!(py(&r, "v['error']").contains("no node named elsewhere"));
}

#[test]
fn start_stop_restart_wait_and_change_the_state() {
    let d = started(false);
    let node = host_name();
    let ok = "{'success': True}";

    let r = rest(&d, "POST", &format!("/program/start/{node}/idle"), None);
    assert_json(&r, 200);
    assert_eq!(py(&r, "v"), ok);
    // The answer came once it had started (startsecs=1: not STARTING).
    assert_eq!(d.state("idle"), "RUNNING");
    assert!(d.log().contains("spawned: 'idle' with pid"), "{}", d.log());

    let r = rest(&d, "POST", &format!("/program/start/{node}/idle"), None);
    assert_json(&r, 409);
    assert_eq!(
        py(&r, "v"),
        "{'success': False, 'error': 'ALREADY_STARTED: idle'}"
    );

    let before = d.proc_pid("web");
    let r = rest(&d, "PUT", &format!("/program/restart/{node}/web"), None);
    assert_json(&r, 200);
    assert_eq!(py(&r, "v"), ok);
    assert_eq!(d.state("web"), "RUNNING");
    assert_ne!(d.proc_pid("web"), before, "web was not restarted");

    let r = rest(&d, "POST", &format!("/program/stop/{node}/idle"), None);
    assert_json(&r, 200);
    assert_eq!(py(&r, "v"), ok);
    assert_eq!(d.state("idle"), "STOPPED");

    let r = rest(&d, "POST", &format!("/program/stop/{node}/idle"), None);
    assert_json(&r, 409);
    assert_eq!(
        py(&r, "v"),
        "{'success': False, 'error': 'NOT_RUNNING: idle'}"
    );

    // Restart of a stopped program starts it (supervisorctl's and Go's).
    let r = rest(&d, "POST", &format!("/program/restart/{node}/idle"), None);
    assert_json(&r, 200);
    assert_eq!(d.state("idle"), "RUNNING");

    // A whole group by group:*.
    let r = rest(&d, "POST", &format!("/program/start/{node}/worker:*"), None);
    assert_json(&r, 200);
    assert_eq!(d.state("worker:worker_0"), "RUNNING");
    assert_eq!(d.state("worker:worker_1"), "RUNNING");

    for (method, path) in [
        ("POST", format!("/program/start/{node}/nosuch")),
        ("POST", format!("/program/restart/{node}/nosuch")),
        ("PUT", format!("/program/stop/{node}/nosuch")),
    ] {
        let r = rest(&d, method, &path, None);
        assert_json(&r, 404);
        assert_eq!(
            py(&r, "v"),
            "{'success': False, 'error': 'BAD_NAME: nosuch'}"
        );
    }
    let r = rest(&d, "POST", "/program/stop/elsewhere/web", None);
    assert_json(&r, 404);
    assert_eq!(py(&r, "v['success']"), "False");
    assert_eq!(d.state("web"), "RUNNING");

    // A program that cannot start: success false; 200 for start (the Go
    // version's), 500 for restart.
    let r = rest(&d, "POST", &format!("/program/start/{node}/broken"), None);
    assert_json(&r, 200);
    assert_eq!(py(&r, "v['success']"), "False");
    assert!(py(&r, "v['error']").contains("broken"), "{}", r.text());
    let r = rest(&d, "POST", &format!("/program/restart/{node}/broken"), None);
    assert_json(&r, 500);
    assert_eq!(py(&r, "v['success']"), "False");
}

#[test]
fn start_and_stop_programs_take_a_json_list() {
    let d = started(false);
    let node = host_name();
    let body = format!(
        r#"[{{"node":"{node}","program":"worker_0"}}, {{"program":"worker:worker_1"}},
            {{"node":"elsewhere","program":"idle"}}, {{"Program":"nosuch"}}]"#
    );
    let r = rest(&d, "POST", "/program/startPrograms", Some(&body));
    assert_json(&r, 200);
    assert_eq!(
        py(&r, "(v['success'], [(x['program'], x['success']) for x in v['results']])"),
        "(False, [('worker_0', True), ('worker:worker_1', True), ('idle', False), ('nosuch', False)])"
    );
    assert_eq!(d.state("worker:worker_0"), "RUNNING");
    assert_eq!(d.state("worker:worker_1"), "RUNNING");
    assert_eq!(d.state("idle"), "STOPPED");

    let r = rest(
        &d,
        "PUT",
        "/program/stopPrograms",
        Some(r#"[{"program":"worker_0"},{"program":"worker_1"}]"#),
    );
    assert_json(&r, 200);
    assert_eq!(py(&r, "v['success']"), "True");
    assert_eq!(d.state("worker:worker_0"), "STOPPED");
    assert_eq!(d.state("worker:worker_1"), "STOPPED");

    let deep = "[".repeat(100_000);
    for bad in [
        "",
        "[{\"program\":\"idle\"},]",
        "{\"program\":\"idle\"}",
        "[{\"program\":1}]",
        &deep,
    ] {
        let r = rest(&d, "POST", "/program/startPrograms", Some(bad));
        assert_json(&r, 400);
        assert!(
            py(&r, "v['error']").starts_with("'not a valid request"),
            "{}",
            r.text()
        );
    }
    assert_eq!(
        d.state("idle"),
        "STOPPED",
        "a refused body started something"
    );
    assert!(d.answers());
}

#[test]
fn logs_are_sent_whole_as_text() {
    let d = started(false);
    let node = host_name();
    // Both pipes are read by the pump thread as the bytes come.
    assert!(wait_until(Duration::from_secs(10), || {
        ["stdout", "stderr"].iter().all(|ch| {
            !rest(&d, "GET", &format!("/program/log/{node}/talk/{ch}"), None)
                .body
                .is_empty()
        })
    }));
    let r = rest(&d, "GET", &format!("/program/log/{node}/talk/stderr"), None);
    assert_eq!(r.text(), "oops\n");
    let r = rest(&d, "GET", &format!("/program/log/{node}/talk/stdout"), None);
    assert_eq!(r.status, 200, "{}", r.head);
    assert_eq!(r.header("Content-Type"), Some("text/plain; charset=utf-8"));
    assert_eq!(r.text(), "hello\n");
    // The same bytes XML-RPC reads.
    let rpc = d.call(
        "supervisor.readProcessStdoutLog",
        &[Value::from("talk"), Value::Int(0), Value::Int(0)],
    );
    assert_eq!(rpc.as_str(), Some("hello\n"));

    let r = rest(
        &d,
        "GET",
        &format!("/program/log/{node}/nosuch/stdout"),
        None,
    );
    assert_json(&r, 404);
    assert_eq!(py(&r, "v"), "{'error': 'BAD_NAME: nosuch'}");
    let r = rest(&d, "GET", &format!("/program/log/{node}/talk/other"), None);
    assert_json(&r, 404);
}

#[test]
fn wrong_routes_and_methods_are_json_errors() {
    let d = started(false);
    let node = host_name();
    for (method, path, allow) in [
        ("GET", format!("/program/start/{node}/idle"), "POST, PUT"),
        ("DELETE", format!("/program/stop/{node}/web"), "POST, PUT"),
        ("POST", "/program/list".to_string(), "GET"),
        ("PUT", format!("/program/info/{node}/web"), "GET"),
        ("GET", "/supervisor/shutdown".to_string(), "POST, PUT"),
        ("POST", "/supervisor/listNodes".to_string(), "GET"),
    ] {
        let r = rest(&d, method, &path, None);
        assert_json(&r, 405);
        assert_eq!(r.header("Allow"), Some(allow), "{method} {path}");
        assert_eq!(py(&r, "v"), "{'error': 'method not allowed'}");
    }
    for path in [
        "/program/nope",
        "/program/list/",
        "/supervisor/x/y/z",
        "/program/info/n",
    ] {
        let r = rest(&d, "GET", path, None);
        assert_json(&r, 404);
        assert_eq!(py(&r, "v"), "{'error': 'no such route'}");
    }
    assert_eq!(d.state("idle"), "STOPPED");
    assert_eq!(d.state("web"), "RUNNING");
}

#[test]
fn nodes_and_ping() {
    let d = started(false);
    let node = host_name();
    let r = rest(&d, "GET", "/supervisor/listNodes", None);
    assert_json(&r, 200);
    assert_eq!(
        py(&r, "[sorted(n.keys()) for n in v]"),
        "[['cpu_percent', 'mem_total', 'mem_used', 'mem_used_percent', 'name', 'status']]"
    );
    assert_eq!(
        py(&r, "(v[0]['name'], v[0]['status'])"),
        format!("('{node}', 'ONLINE')")
    );
    assert_eq!(
        py(
            &r,
            "0 <= v[0]['cpu_percent'] <= 100 and 0 < v[0]['mem_used'] <= v[0]['mem_total']"
        ),
        "True"
    );
    let r = rest(&d, "GET", &format!("/supervisor/{node}/ping"), None);
    assert_json(&r, 200);
    assert_eq!(py(&r, "v"), "{'success': True}");
    let r = rest(&d, "GET", "/supervisor/elsewhere/ping", None);
    assert_json(&r, 200);
    assert_eq!(py(&r, "v"), "{'success': False}");
    let r = rest(&d, "POST", "/supervisor/elsewhere/shutdown", None);
    assert_json(&r, 404);
    assert!(d.answers(), "a shutdown for another node stopped this one");
}

#[test]
fn credentials_and_cross_site_requests() {
    let d = started(true);
    let node = host_name();
    for (method, path) in [
        ("GET", "/program/list".to_string()),
        ("POST", format!("/program/start/{node}/idle")),
        ("PUT", "/supervisor/shutdown".to_string()),
    ] {
        let req = http::request(method, &path, "HTTP/1.1", &["Connection: close"], Some(b""));
        let r = http::exchange(&Addr::Tcp(d.port()), &req, CALL).expect("answer");
        assert_eq!(r.status, 401, "{method} {path}");
        let wrong = http::basic_auth("user", "wrong");
        let req = http::request(
            method,
            &path,
            "HTTP/1.1",
            &["Connection: close", &wrong],
            Some(b""),
        );
        let r = http::exchange(&Addr::Tcp(d.port()), &req, CALL).expect("answer");
        assert_eq!(r.status, 401, "{method} {path} with a wrong password");
    }
    // The unix server has no username here: served without one.
    assert_json(&on_socket(&d, "GET", "/program/list"), 200);
    assert_eq!(d.state("idle"), "STOPPED");
    let r = rest(&d, "GET", "/program/list", None);
    assert_json(&r, 200);

    for headers in [
        &[("Sec-Fetch-Site", "cross-site")][..],
        &[("Origin", "http://evil.example")][..],
        &[("Origin", "null")][..],
    ] {
        let r = rest_with(
            &d,
            "POST",
            &format!("/program/start/{node}/idle"),
            None,
            headers,
        );
        assert_eq!(r.status, 403, "{headers:?}: {}{}", r.head, r.text());
        let r = rest_with(&d, "PUT", "/supervisor/shutdown", None, headers);
        assert_eq!(r.status, 403, "{headers:?}");
    }
    assert_eq!(d.state("idle"), "STOPPED");
    assert!(d.answers());
    // The page's own origin is served.
    let origin = d.http_url();
    let r = rest_with(
        &d,
        "POST",
        &format!("/program/start/{node}/idle"),
        None,
        &[("Origin", &origin)],
    );
    assert_json(&r, 200);
    assert_eq!(d.state("idle"), "RUNNING");
}

/// A request on the unix socket (HTTP/1.1, closed after the answer).
fn on_socket(d: &Daemon, method: &str, path: &str) -> Response {
    let req = http::request(method, path, "HTTP/1.1", &["Connection: close"], Some(b""));
    http::exchange(&Addr::Unix(d.sock()), &req, CALL).expect("answer on the socket")
}

#[test]
fn the_unix_socket_serves_it_and_shutdown_ends_the_daemon() {
    let mut d = started(false);
    let node = host_name();
    let r = on_socket(&d, "GET", "/program/list");
    assert_json(&r, 200);
    assert_eq!(py(&r, "len(v)"), "6");
    let r = on_socket(&d, "POST", &format!("/program/start/{node}/idle"));
    assert_json(&r, 200);
    assert_eq!(d.state("idle"), "RUNNING");
    let web = d.proc_pid("web") as i32;

    let r = on_socket(&d, "POST", &format!("/supervisor/{node}/shutdown"));
    assert_json(&r, 200);
    assert_eq!(py(&r, "v"), "{'success': True}");
    assert_eq!(
        d.wait_exit(Duration::from_secs(30)),
        Some(0),
        "{}",
        d.output()
    );
    assert!(!util::proc::alive(web), "web outlived the shutdown");
    assert!(d.log().contains("stopped: web"), "{}", d.log());
}

#[test]
fn reload_restarts_the_daemon() {
    let d = started(false);
    let before = d.proc_pid("web");
    let r = rest(&d, "POST", "/supervisor/reload", None);
    assert_json(&r, 200);
    assert_eq!(py(&r, "v"), "{'success': True}");
    assert!(
        wait_until(Duration::from_secs(30), || {
            let p = d
                .try_rpc("supervisor.getProcessInfo", &[Value::from("web")])
                .ok()
                .and_then(|v| v.struct_get("pid").and_then(Value::as_int));
            p.is_some_and(|p| p != 0 && p != before)
        }),
        "web was not restarted by the reload\n{}",
        d.output()
    );
    // The same daemon (pid) started over, as supervisor.restart does it.
    assert!(
        d.wait_log_count(&format!("supervisord started with pid {}", d.pid()), 2),
        "{}",
        d.log()
    );
}
