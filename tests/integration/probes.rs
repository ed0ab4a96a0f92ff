//! `GET /ready` and `GET /live` (extensions for Docker and Kubernetes
//! probes): readiness follows the autostart programs' states, liveness
//! goes through the loop, both behind the server's basic auth.

use crate::util;

use std::time::Duration;
use util::*;

#[test]
fn ready_waits_for_every_autostart_program() {
    let d = Daemon::builder(Impl::Ours)
        .inet()
        .sections(
            "[program:slow]\ncommand=sleep 1000\nstartsecs=3\n\n\
             [program:manual]\ncommand=sleep 1000\nautostart=false\n\n\
             [program:job]\ncommand=true\nstartsecs=0\nautorestart=false\n",
        )
        .start();
    let r = d.get("/ready").expect("an answer");
    assert_eq!(r.status, 503, "{}", r.text());
    assert_eq!(r.header("Content-Type"), Some("application/json"));
    assert_eq!(
        r.text(),
        "{\"ready\":false,\"not_ready\":[{\"name\":\"slow\",\"state\":\"STARTING\"}]}\n"
    );
    d.wait_state("slow", "RUNNING");
    let r = d.get("/ready").expect("an answer");
    // `manual` does not autostart; `job` ran and exited as expected.
    assert_eq!(
        (r.status, r.text()),
        (200, "{\"ready\":true,\"not_ready\":[]}\n".to_string())
    );

    d.call(
        "supervisor.stopProcess",
        &[supervisord::rpc::xmlrpc::Value::from("slow")],
    );
    let r = d.get("/ready").expect("an answer");
    assert_eq!(r.status, 503);
    assert!(r.text().contains("\"state\":\"STOPPED\""), "{}", r.text());
}

#[test]
fn live_answers_through_the_loop_and_probes_take_get_only() {
    let d = Daemon::builder(Impl::Ours).inet().start();
    let r = d.get("/live").expect("an answer");
    assert_eq!((r.status, r.text()), (200, "{\"live\":true}\n".to_string()));
    let r = d.post_form("/ready", "").expect("an answer");
    assert_eq!(r.status, 405);
}

#[test]
fn probes_need_the_servers_credentials() {
    let d = Daemon::builder(Impl::Ours)
        .inet()
        .auth("user", "secret")
        .start();
    let raw = util::http::exchange(
        &util::http::Addr::Tcp(d.port()),
        &util::http::get("/ready", "HTTP/1.1", &[]),
        Duration::from_secs(10),
    )
    .expect("an answer");
    assert_eq!(raw.status, 401);
    let r = d.get("/live").expect("an answer");
    assert_eq!(r.status, 200);
}
