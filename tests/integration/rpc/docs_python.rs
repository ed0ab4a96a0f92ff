//! Our method table (src/rpc/methods.rs) against Python Supervisor 4.3.0:
//! the same names from system.listMethods, in the same order, and the same
//! system.methodSignature answer for every one of them.

use crate::util;

use std::process::Command;
use std::time::Duration;

use supervisord::rpc::methods;
use util::{pyref_bin, run_with_timeout, Daemon, Impl};

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
    let mut daemon = Daemon::builder(Impl::Python).inet().start();
    let url = format!("{}/RPC2", daemon.http_url());
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

    assert!(daemon.stop().is_some(), "Python supervisord did not stop");
}
