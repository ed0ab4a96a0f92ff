//! A burst of clients that connect at once, each holding its connection
//! while its request is slow to arrive, are all answered, and the threads
//! that served them go away with them. (tiny_http, used before, queued
//! some connections of such a burst behind idle keep-alive ones, for as
//! long as those stayed open.)

use crate::util;

use std::time::Duration;
use util::http::{self, Conn};
use util::{connection_threads, wait_until, Daemon, Impl};

/// Our daemon with an inet server and the given program sections, once
/// it answers and the thread that served the harness's probe (a request
/// that closes its connection) has gone.
fn start_daemon(programs: &str) -> Daemon {
    let daemon = Daemon::builder(Impl::Ours)
        .inet()
        .sections(programs)
        .start();
    let pid = daemon.pid();
    assert!(
        wait_until(Duration::from_secs(10), || connection_threads(pid) == 0),
        "{} connection threads with no client",
        connection_threads(pid)
    );
    daemon
}

#[test]
fn a_burst_of_slow_clients_is_served_and_its_threads_go() {
    let daemon = start_daemon("");
    let (pid, port) = (daemon.pid(), daemon.port());
    let base = connection_threads(pid);

    // Eight clients each send a request whose body is late, and keep
    // their connections open after the answer.
    let body = format!(
        "<?xml version='1.0'?><methodCall>{}<methodName>supervisor.getState</methodName><params></params></methodCall>",
        " ".repeat(2048)
    );
    let request = http::post("/RPC2", &body, &[]);
    let late = request.len() - (body.len() - 10);
    let mut clients: Vec<Conn> = (0..8)
        .map(|_| {
            let mut c = Conn::tcp_with_timeout(port, Duration::from_secs(10));
            c.send(&request[..late]);
            c
        })
        .collect();
    assert!(
        wait_until(Duration::from_secs(10), || connection_threads(pid)
            >= base + 8),
        "not a thread per connection: {} connection threads (before: {base})",
        connection_threads(pid)
    );
    // The last to connect first: none may wait for another to finish.
    for c in clients.iter_mut().rev() {
        c.send(&request[late..]);
        let reply = c.head().expect("reply");
        assert_eq!(
            (reply.version.as_str(), reply.status),
            ("HTTP/1.1", 200),
            "{}",
            reply.head
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
    let daemon = start_daemon(
        "[program:quiet]\ncommand=sh -c 'echo started; exec sleep 1000'\nstartsecs=0\nstdout_logfile=%(here)s/quiet.log\n",
    );
    let pid = daemon.pid();
    let log = daemon.dir().join("quiet.log");
    assert!(
        wait_until(Duration::from_secs(15), || util::read_text(&log)
            .contains("started")),
        "no output from quiet"
    );
    let base = connection_threads(pid);
    let mut c = Conn::tcp_with_timeout(daemon.port(), Duration::from_secs(10));
    c.send(&http::get("/logtail/quiet", "HTTP/1.1", &[]));
    let head = c.head().expect("stream head");
    assert_eq!(head.status, 200, "{}", head.head);
    let seen = c.chunks_until("started", Duration::from_secs(10));
    assert!(seen.contains("started"), "stream ended: {seen}");
    assert_eq!(connection_threads(pid), base + 1, "a thread for the stream");
    drop(c);
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
        let mut daemon = start_daemon("");
        let body = "<?xml version='1.0'?><methodCall><methodName>supervisor.shutdown</methodName><params></params></methodCall>";
        let mut c = Conn::tcp_with_timeout(daemon.port(), Duration::from_secs(10));
        c.send(&http::post("/RPC2", body, &[]));
        let reply = c.response();
        assert!(
            reply.as_ref().is_some_and(|r| r.version == "HTTP/1.1"
                && r.status == 200
                && r.text().contains("<boolean>1</boolean>")),
            "round {round}: {reply:?}"
        );
        assert!(
            daemon.wait_exit(Duration::from_secs(10)).is_some(),
            "round {round}: still running"
        );
    }
}
