//! Our method table (src/rpc/methods.rs) against Python Supervisor 4.3.0:
//! the same names from system.listMethods, in the same order, and the same
//! system.methodSignature answer for every one of them.

mod util;

use std::process::{Command, Stdio};
use std::time::Duration;

use supervisord::rpc::methods;
use util::{free_port, pyref_bin, run_with_timeout, temp_dir, wait_until, Guard};

/// Asks the daemon at `url`, one line per method: `name<TAB>type,type…`, or
/// `name<TAB>FAULT <code>`; then two lines for a method that does not exist.
const CLIENT: &str = r#"
import sys, xmlrpc.client as x
s = x.ServerProxy(sys.argv[1])
def sig(m):
    try:
        return ",".join(s.system.methodSignature(m))
    except x.Fault as f:
        return "FAULT %d" % f.faultCode
def hlp(m):
    try:
        return "str" if isinstance(s.system.methodHelp(m), str) else "?"
    except x.Fault as f:
        return "FAULT %d" % f.faultCode
for m in s.system.listMethods():
    print("%s\t%s\t%s" % (m, sig(m), hlp(m)))
for m in ("supervisor.nope", "nope"):
    print("%s\t%s\t%s" % (m, sig(m), hlp(m)))
"#;

#[test]
fn method_names_and_signatures_match_python() {
    let dir = temp_dir();
    let port = free_port();
    let conf = dir.path().join("supervisord.conf");
    std::fs::write(
        &conf,
        format!(
            "[supervisord]\nlogfile={d}/supervisord.log\npidfile={d}/supervisord.pid\n\
             [inet_http_server]\nport=127.0.0.1:{port}\n\
             [rpcinterface:supervisor]\n\
             supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n",
            d = dir.path().display()
        ),
    )
    .unwrap();
    let mut daemon = Guard::spawn(
        Command::new(pyref_bin("supervisord"))
            .arg("-n")
            .arg("-c")
            .arg(&conf)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null()),
    );
    assert!(
        wait_until(Duration::from_secs(15), || {
            std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
        }),
        "Python supervisord did not listen on port {port}"
    );

    let url = format!("http://127.0.0.1:{port}/RPC2");
    let (code, out, err) = run_with_timeout(
        Command::new(pyref_bin("python"))
            .arg("-c")
            .arg(CLIENT)
            .arg(&url),
        Duration::from_secs(30),
    );
    assert_eq!(code, Some(0), "client failed: {err}");

    let rows: Vec<Vec<&str>> = out.lines().map(|l| l.split('\t').collect()).collect();
    assert!(rows.iter().all(|r| r.len() == 3), "bad output: {out}");
    let (listed, unknown) = rows.split_at(rows.len() - 2);

    let python_names: Vec<&str> = listed.iter().map(|r| r[0]).collect();
    assert_eq!(
        methods::METHODS.iter().map(|m| m.name).collect::<Vec<_>>(),
        python_names
    );

    for row in listed {
        let ours = match methods::signature(row[0]) {
            Some(sig) => sig.join(","),
            None => "FAULT 4".to_string(),
        };
        assert_eq!(ours, row[1], "signature of {}", row[0]);
        assert_eq!(row[2], "str", "help of {}", row[0]);
        assert!(methods::help(row[0]).is_some(), "our help of {}", row[0]);
    }
    // An unknown name: both answers fault SIGNATURE_UNSUPPORTED, which our
    // caller raises when docs has nothing.
    for row in unknown {
        assert_eq!(row[1], "FAULT 4", "{row:?}");
        assert_eq!(row[2], "FAULT 4", "{row:?}");
        assert_eq!(methods::signature(row[0]), None);
        assert_eq!(methods::help(row[0]), None);
    }

    // Stop the daemon by its pid (the guard also kills its process group).
    let pid = nix::unistd::Pid::from_raw(daemon.pid());
    let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
    assert!(daemon.wait_exit(Duration::from_secs(10)).is_some());
}
