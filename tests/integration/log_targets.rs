//! Log lists and syslog targets (the Go supervisord's `stdout_logfile =
//! a.log, /dev/stdout, syslog @host` and `syslog_*` keys): every target
//! gets every byte, files rotate on their own, reads serve the first file,
//! syslog receivers get RFC 3164 lines with the configured PRI and tag,
//! and a dead syslog server never holds up the child, its files or the
//! daemon. Python has none of this (it would take a comma list as one
//! file name); a single value keeps Python's meaning, which the python_*
//! and rpc tests cover.

use crate::util;

use std::net::{TcpListener, UdpSocket};
use std::os::unix::net::UnixDatagram;
use std::path::Path;
use std::time::Duration;
use supervisord::rpc::xmlrpc::Value;
use util::*;

const WAIT: Duration = Duration::from_secs(30);

/// A log and its backups, oldest first, as one byte string.
fn concat_rotated(p: &Path) -> Vec<u8> {
    let mut n = 1;
    while Path::new(&format!("{}.{n}", p.display())).exists() {
        n += 1;
    }
    let mut all = Vec::new();
    for i in (1..n).rev() {
        all.extend(std::fs::read(format!("{}.{i}", p.display())).unwrap_or_default());
    }
    all.extend(std::fs::read(p).unwrap_or_default());
    all
}

/// `seq 1 n` as bytes.
fn seq(from: u32, to: u32) -> Vec<u8> {
    (from..=to)
        .flat_map(|i| format!("{i}\n").into_bytes())
        .collect()
}

/// Where `p` rolled over, as offsets into everything written to it:
/// the cumulative sizes of its backups, oldest first.
fn rollover_points(p: &Path) -> Vec<usize> {
    let mut sizes = Vec::new();
    let mut n = 1;
    while let Ok(m) = std::fs::metadata(format!("{}.{n}", p.display())) {
        sizes.push(m.len() as usize);
        n += 1;
    }
    sizes.reverse();
    sizes
        .iter()
        .scan(0, |sum, s| {
            *sum += s;
            Some(*sum)
        })
        .collect()
}

#[test]
fn two_files_get_every_byte_and_rotate_on_their_own() {
    // Small writes, spaced out, so rollovers fall where each file's size
    // says rather than after every (large) read.
    let b = Daemon::builder(Impl::Ours).inet().sections(
        "[program:many]\ncommand=sh -c 'i=0; while [ $i -lt 300 ]; do i=$((i+1)); printf \"%%039d\\n\" $i; sleep 0.005; done'\n\
         startsecs=0\nautorestart=false\n\
         stdout_logfile=%(here)s/a.log, %(here)s/b.log\n\
         stdout_logfile_maxbytes=1KB\nstdout_logfile_backups=100\n",
    );
    // b.log starts 500 bytes in, so its rollovers come 500 bytes earlier.
    std::fs::write(b.dir().join("b.log"), vec![b'#'; 500]).expect("prefill");
    let d = b.start();
    let want: Vec<u8> = (1..=300)
        .flat_map(|i| format!("{i:039}\n").into_bytes())
        .collect();
    let (a, bl) = (d.dir().join("a.log"), d.dir().join("b.log"));
    assert!(
        wait_until(WAIT, || concat_rotated(&a).len() >= want.len()
            && concat_rotated(&bl).len() >= want.len() + 500),
        "not all output arrived\n{}",
        d.output()
    );
    assert!(concat_rotated(&a) == want, "a.log and its backups differ");
    let mut b_want = vec![b'#'; 500];
    b_want.extend(&want);
    assert!(
        concat_rotated(&bl) == b_want,
        "b.log and its backups differ"
    );
    // Each rolled over by its own size: in output offsets, b's points are
    // not a's.
    let pa = rollover_points(&a);
    let pb: Vec<usize> = rollover_points(&bl).iter().map(|p| p - 500).collect();
    assert!(pa.len() >= 5 && pb.len() >= 5, "{pa:?} {pb:?}");
    assert_ne!(pa, pb, "the two files rolled over in step");
    // getProcessInfo names the first file.
    let info = d.info("many");
    assert_eq!(
        info.struct_get("stdout_logfile").and_then(|v| v.as_str()),
        Some(a.to_str().expect("utf-8 path"))
    );
}

#[test]
fn dev_stdout_as_a_second_target_reaches_the_daemons_stdout() {
    let d = Daemon::builder(Impl::Ours)
        .inet()
        .sections(
            "[program:echo]\ncommand=sh -c 'echo to-both-targets; exec sleep 1000'\nstartsecs=0\n\
             stdout_logfile=%(here)s/echo.log, /dev/stdout\n\
             stderr_logfile=/dev/stderr, %(here)s/echo.err\n\
             [program:err]\ncommand=sh -c 'echo on-stderr >&2; exec sleep 1000'\nstartsecs=0\n\
             stderr_logfile=/dev/stderr, %(here)s/err.err\n",
        )
        .start();
    let out = d.dir().join("daemon.out");
    assert!(
        wait_until(WAIT, || read_text(&out).contains("to-both-targets\n")
            && read_text(&out).contains("on-stderr\n")),
        "the child's output is not on the daemon's stdout/stderr\n{}",
        d.output()
    );
    assert_eq!(read_text(&d.dir().join("echo.log")), "to-both-targets\n");
    assert_eq!(read_text(&d.dir().join("err.err")), "on-stderr\n");
    // /dev/stderr first: the file after it is the main log.
    let text = d.call(
        "supervisor.readProcessStderrLog",
        &[Value::from("err"), Value::from(0), Value::from(0)],
    );
    assert_eq!(text.as_str(), Some("on-stderr\n"));
}

#[test]
fn reads_tails_and_clears_serve_the_first_file() {
    let b = Daemon::builder(Impl::Ours).inet().sections(
        "[program:talk]\ncommand=sh -c 'echo hello; exec sleep 1000'\nstartsecs=0\n\
         stdout_logfile=/dev/null, %(here)s/first.log,%(here)s/second.log\n",
    );
    std::fs::write(b.dir().join("second.log"), "OLD\n").expect("prefill");
    let d = b.start();
    let (first, second) = (d.dir().join("first.log"), d.dir().join("second.log"));
    assert!(
        wait_until(WAIT, || read_text(&second) == "OLD\nhello\n"),
        "{}",
        d.output()
    );
    assert_eq!(read_text(&first), "hello\n");
    let read = d.call(
        "supervisor.readProcessStdoutLog",
        &[Value::from("talk"), Value::from(0), Value::from(0)],
    );
    assert_eq!(read.as_str(), Some("hello\n"));
    let tail = d.call(
        "supervisor.tailProcessStdoutLog",
        &[Value::from("talk"), Value::from(0), Value::from(100)],
    );
    let tail = tail.as_array().expect("tail answer");
    assert_eq!(tail[0].as_str(), Some("hello\n"));
    assert_eq!(tail[1].as_int(), Some(6));
    let info = d.info("talk");
    assert_eq!(
        info.struct_get("stdout_logfile").and_then(|v| v.as_str()),
        first.to_str()
    );
    d.call("supervisor.clearProcessLogs", &[Value::from("talk")]);
    assert_eq!(read_text(&first), "");
    assert_eq!(read_text(&second), "OLD\nhello\n");
}

/// `<PRI>Mmm dd hh:mm:ss [HOST ]TAG[PID]: MSG` split into (PRI, the part
/// after the timestamp).
fn split_rfc3164(m: &str) -> (u32, String) {
    let rest = m.strip_prefix('<').expect("starts with <PRI>");
    let (pri, rest) = rest.split_once('>').expect("PRI ends with >");
    // "Mmm dd hh:mm:ss " is 16 bytes.
    assert!(rest.len() > 16, "{m:?}");
    let ts = &rest[..16];
    let b = ts.as_bytes();
    assert!(
        b[3] == b' ' && b[6] == b' ' && b[9] == b':' && b[12] == b':' && b[15] == b' ',
        "bad timestamp in {m:?}"
    );
    (pri.parse().expect("numeric PRI"), rest[16..].to_string())
}

/// Strips `TAG[digits]: ` from the front of `s`, giving the message.
fn after_tag<'a>(s: &'a str, tag: &str) -> Option<&'a str> {
    let rest = s.strip_prefix(tag)?.strip_prefix('[')?;
    let (pid, msg) = rest.split_once("]: ")?;
    pid.parse::<u32>().ok()?;
    Some(msg)
}

fn recv_udp(sock: &UdpSocket, n: usize) -> Vec<String> {
    let mut got = Vec::new();
    let mut buf = [0u8; 8192];
    while got.len() < n {
        match sock.recv(&mut buf) {
            Ok(k) => got.push(String::from_utf8_lossy(&buf[..k]).into_owned()),
            Err(e) => panic!("only {got:?} before {e}"),
        }
    }
    got
}

#[test]
fn udp_receiver_gets_rfc3164_lines_with_facility_priority_and_tag() {
    let sock = UdpSocket::bind("127.0.0.1:0").expect("udp bind");
    sock.set_read_timeout(Some(WAIT)).expect("timeout");
    let port = sock.local_addr().expect("addr").port();
    let d = Daemon::builder(Impl::Ours)
        .inet()
        .sections(&format!(
            "[program:sys]\ncommand=sh -c 'echo out-one; echo err-one >&2; printf \"out-two\\npartial\"'\n\
             startsecs=0\nautorestart=false\n\
             stdout_logfile=%(here)s/sys.log, syslog @udp:127.0.0.1:{port}\n\
             stderr_logfile=syslog @127.0.0.1:{port}\n\
             syslog_facility=daemon\nsyslog_tag=mytag\n\
             syslog_stdout_priority=info\nsyslog_stderr_priority=err\n"
        ))
        .start();
    let got = recv_udp(&sock, 4);
    let host = nix::unistd::gethostname()
        .expect("hostname")
        .to_string_lossy()
        .into_owned();
    let mut seen: Vec<(u32, String)> = got
        .iter()
        .map(|m| {
            let (pri, rest) = split_rfc3164(m);
            let rest = rest
                .strip_prefix(&format!("{host} "))
                .unwrap_or_else(|| panic!("no hostname in {m:?}"));
            let msg = after_tag(rest, "mytag").unwrap_or_else(|| panic!("no tag in {m:?}"));
            (pri, msg.to_string())
        })
        .collect();
    seen.sort();
    // daemon (3) * 8 + err (3) = 27; + info (6) = 30. The partial last
    // line goes out when the child exits.
    assert_eq!(
        seen,
        vec![
            (27, "err-one".to_string()),
            (30, "out-one".to_string()),
            (30, "out-two".to_string()),
            (30, "partial".to_string()),
        ],
        "{got:?}"
    );
    assert_eq!(
        read_text(&d.dir().join("sys.log")),
        "out-one\nout-two\npartial"
    );
    // stderr had no file: nothing to read.
    assert!(d
        .rpc(
            "supervisor.readProcessStderrLog",
            &[Value::from("sys"), Value::from(0), Value::from(0)]
        )
        .is_err());
}

#[test]
fn unix_datagram_receiver_gets_lines_with_the_defaults() {
    let dir = temp_dir();
    let path = dir.path().join("log.sock");
    let sock = UnixDatagram::bind(&path).expect("bind");
    sock.set_read_timeout(Some(WAIT)).expect("timeout");
    let d = Daemon::builder(Impl::Ours)
        .inet()
        .sections(&format!(
            "[program:local]\ncommand=sh -c 'echo one; echo two >&2; exec sleep 1000'\nstartsecs=0\n\
             stdout_logfile=syslog @unix:{p}\nstderr_logfile=NONE, syslog @unix:{p}\n",
            p = path.display()
        ))
        .start();
    let mut got = Vec::new();
    let mut buf = [0u8; 8192];
    while got.len() < 2 {
        let n = sock
            .recv(&mut buf)
            .unwrap_or_else(|e| panic!("{got:?}: {e}\n{}", d.output()));
        got.push(String::from_utf8_lossy(&buf[..n]).into_owned());
    }
    let pid = d.proc_pid("local");
    let mut seen: Vec<(u32, String)> = got.iter().map(|m| split_rfc3164(m)).collect();
    seen.sort();
    // LOCAL0 (16) * 8 + NOTICE (5) = 133; the tag is the process name;
    // no host name to a local socket; the pid is the child's.
    assert_eq!(
        seen,
        vec![
            (133, format!("local[{pid}]: one")),
            (133, format!("local[{pid}]: two")),
        ]
    );
}

#[test]
fn dead_syslog_servers_never_hold_up_the_child_or_the_daemon() {
    // Ports nobody listens on: bound, then released.
    let udp_port = UdpSocket::bind("127.0.0.1:0")
        .and_then(|s| s.local_addr())
        .expect("udp")
        .port();
    let tcp_port = TcpListener::bind("127.0.0.1:0")
        .and_then(|s| s.local_addr())
        .expect("tcp")
        .port();
    let d = Daemon::builder(Impl::Ours)
        .inet()
        .sections(&format!(
            "[program:loud]\ncommand=sh -c 'seq 1 5000; sleep 2; seq 5001 10000; exec sleep 1000'\n\
             startsecs=0\nstdout_logfile_maxbytes=0\n\
             stdout_logfile=%(here)s/loud.log, syslog @udp:127.0.0.1:{udp_port}, syslog @tcp:127.0.0.1:{tcp_port}\n"
        ))
        .start();
    let log = d.dir().join("loud.log");
    let want = seq(1, 10000);
    assert!(
        wait_until(WAIT, || std::fs::read(&log).unwrap_or_default().len()
            >= want.len()),
        "the file target fell behind\n{}",
        d.output()
    );
    assert!(std::fs::read(&log).unwrap_or_default() == want);
    assert_eq!(d.state("loud"), "RUNNING");
    assert!(d.answers());
    let tcp = format!("syslog target tcp:127.0.0.1:{tcp_port}: ");
    let udp = format!("syslog target udp:127.0.0.1:{udp_port}: ");
    assert!(d.wait_log(&tcp), "no failure line for TCP\n{}", d.log());
    assert!(d.wait_log(&udp), "no failure line for UDP\n{}", d.log());
    // Both bursts failed, yet each target said so once (the next report
    // may come a minute after the first).
    let text = d.log();
    assert_eq!(text.matches(&tcp).count(), 1, "{text}");
    assert_eq!(text.matches(&udp).count(), 1, "{text}");
    assert!(text.contains("Connection refused"), "{text}");
}

#[test]
fn bad_syslog_settings_are_config_errors() {
    for (line, key, value) in [
        ("syslog_facility=local9", "syslog_facility", "local9"),
        (
            "syslog_stderr_priority=loud",
            "syslog_stderr_priority",
            "loud",
        ),
        (
            "stdout_logfile=syslog @tcp:host:99999",
            "stdout_logfile",
            "syslog @tcp:host:99999",
        ),
    ] {
        let b = Daemon::builder(Impl::Ours)
            .sections(&format!("[program:x]\ncommand=sleep 1000\n{line}\n"));
        let (code, out, err) = b.run(Duration::from_secs(20));
        assert_eq!(code, Some(2), "{line}: {out}{err}");
        let text = format!("{out}{err}");
        for want in [
            format!("'{value}'"),
            "section 'program:x'".to_string(),
            format!("key: '{key}'"),
            "supervisord.conf".to_string(),
        ] {
            assert!(text.contains(&want), "{line}: no {want:?} in {text}");
        }
    }
}

/// What one daemon makes of a `stdout_logfile` value: getAllConfigInfo's
/// stdout_logfile and stdout_syslog, and whether it warned.
fn single_value_meaning(imp: Impl, value: &str) -> (String, bool, bool) {
    let d = Daemon::builder(imp)
        .inet()
        .sections(&format!(
            "[program:one]\ncommand=sleep 1000\nautostart=false\nstdout_logfile={value}\n"
        ))
        .start();
    let all = d.call("supervisor.getAllConfigInfo", &[]);
    let one = &all.as_array().expect("array")[0];
    let file = one
        .struct_get("stdout_logfile")
        .and_then(|v| v.as_str())
        .unwrap_or("?")
        .replace(&d.dir().display().to_string(), "DIR");
    let syslog = one
        .struct_get("stdout_syslog")
        .and_then(|v| v.as_bool())
        .expect("stdout_syslog");
    let warned = d.log().contains(
        "For [program:one], stdout_logfile=syslog but this is deprecated and will be removed.  Use stdout_syslog=true to enable syslog instead.",
    );
    (file, syslog, warned)
}

#[test]
fn single_values_keep_pythons_meaning() {
    for value in [
        "syslog",
        "SYSLOG",
        "NONE",
        "%(here)s/plain.log",
        "/dev/stdout",
    ] {
        let py = single_value_meaning(Impl::Python, value);
        let ours = single_value_meaning(Impl::Ours, value);
        assert_eq!(ours, py, "stdout_logfile={value}");
    }
    assert_eq!(
        single_value_meaning(Impl::Ours, "syslog"),
        ("none".to_string(), true, true)
    );
}

#[test]
fn a_server_that_never_reads_never_holds_up_the_child() {
    // Connections are accepted by the kernel (the backlog) but nobody
    // reads: once the socket buffers are full, every write would block.
    let listener = TcpListener::bind("127.0.0.1:0").expect("tcp");
    let port = listener.local_addr().expect("addr").port();
    let d = Daemon::builder(Impl::Ours)
        .inet()
        .sections(&format!(
            "[program:flood]\ncommand=sh -c 'seq 1 300000; exec sleep 1000'\n\
             startsecs=0\nstdout_logfile_maxbytes=0\n\
             stdout_logfile=%(here)s/flood.log, syslog @tcp:127.0.0.1:{port}\n"
        ))
        .start();
    let log = d.dir().join("flood.log");
    let want = seq(1, 300000);
    assert!(
        wait_until(WAIT, || std::fs::read(&log).unwrap_or_default().len()
            >= want.len()),
        "the file target fell behind\n{}",
        d.output()
    );
    assert!(std::fs::read(&log).unwrap_or_default() == want);
    assert_eq!(d.state("flood"), "RUNNING");
    assert!(d.answers());
    let tcp = format!("syslog target tcp:127.0.0.1:{port}: ");
    assert!(
        d.wait_log(&tcp) && d.log().contains("lines dropped"),
        "no loss reported\n{}",
        d.log()
    );
    assert_eq!(d.log().matches(&tcp).count(), 1, "{}", d.log());
    drop(listener);
}
