//! Helpers shared by the web page tests (tests/web_*.rs): a daemon of
//! either kind on a loopback port, a bare HTTP/1.0 client, XML-RPC calls
//! and small text helpers. Included with `#[path]`, next to `mod util`.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use supervisord::rpc::xmlrpc::{self, Fault, Value};

use crate::util::{free_port, our_bin, pyref_bin, temp_dir, wait_until, Guard};

/// Which supervisord answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Ours,
    Python,
}

impl Kind {
    pub fn label(self) -> &'static str {
        match self {
            Kind::Ours => "ours",
            Kind::Python => "python",
        }
    }
}

/// A running daemon with an `[inet_http_server]` on 127.0.0.1.
pub struct Daemon {
    pub kind: Kind,
    pub port: u16,
    pub auth: Option<(String, String)>,
    pub dir: tempfile::TempDir,
    guard: Guard,
}

impl Daemon {
    /// Starts `kind` on `programs` (config sections; `DIR` in them is the
    /// daemon's temp dir) and waits until `ok.html` answers.
    pub fn start(kind: Kind, programs: &str, auth: Option<(&str, &str)>) -> Daemon {
        let dir = temp_dir();
        let port = free_port();
        let d = dir.path().display().to_string();
        let auth_lines = auth
            .map(|(u, p)| format!("username={u}\npassword={p}\n"))
            .unwrap_or_default();
        let conf = format!(
            "[supervisord]\nlogfile={d}/supervisord.log\npidfile={d}/supervisord.pid\n\
             childlogdir={d}\nloglevel=debug\n\
             [inet_http_server]\nport=127.0.0.1:{port}\n{auth_lines}\
             [rpcinterface:supervisor]\n\
             supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n\
             {}",
            programs.replace("DIR", &d)
        );
        let conf_path = dir.path().join("supervisord.conf");
        std::fs::write(&conf_path, conf).expect("write config");
        let bin: PathBuf = match kind {
            Kind::Ours => our_bin(),
            Kind::Python => pyref_bin("supervisord"),
        };
        let out = std::fs::File::create(dir.path().join("stdout.txt")).expect("stdout file");
        let err = out.try_clone().expect("dup stdout file");
        let guard = Guard::spawn(
            Command::new(bin)
                .arg("-n")
                .arg("-c")
                .arg(&conf_path)
                .current_dir(dir.path())
                .stdin(Stdio::null())
                .stdout(out)
                .stderr(err),
        );
        let daemon = Daemon {
            kind,
            port,
            auth: auth.map(|(u, p)| (u.to_string(), p.to_string())),
            dir,
            guard,
        };
        let up = wait_until(Duration::from_secs(20), || {
            daemon
                .get("/ok.html")
                .is_ok_and(|r| r.status == 200 || r.status == 401)
        });
        assert!(
            up,
            "{} supervisord did not answer on port {}: {}",
            kind.label(),
            port,
            daemon.output()
        );
        daemon
    }

    pub fn pid(&self) -> i32 {
        self.guard.pid()
    }

    /// What the daemon printed and logged so far (for failure messages).
    pub fn output(&self) -> String {
        let read = |p: &Path| std::fs::read_to_string(p).unwrap_or_default();
        format!(
            "--- stdout/stderr\n{}--- supervisord.log\n{}",
            read(&self.dir.path().join("stdout.txt")),
            read(&self.dir.path().join("supervisord.log"))
        )
    }

    /// SIGTERM by pid, then a bounded wait; the guard kills the process
    /// group if the daemon is still there.
    pub fn stop(mut self) {
        // SAFETY: kill(2) on the pid of the daemon this test started.
        unsafe { libc::kill(self.guard.pid(), libc::SIGTERM) };
        let exited = self.guard.wait_exit(Duration::from_secs(20));
        assert!(
            exited.is_some(),
            "{} supervisord did not exit on SIGTERM",
            self.kind.label()
        );
    }

    /// The start of every absolute URL this daemon makes.
    pub fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn auth_header(&self) -> Option<String> {
        self.auth
            .as_ref()
            .map(|(u, p)| format!("Basic {}", base64(format!("{u}:{p}").as_bytes())))
    }

    /// GET with this daemon's credentials, if it has any.
    pub fn get(&self, target: &str) -> Result<Resp, String> {
        self.request("GET", target, &[], None, Duration::from_secs(30))
    }

    /// POST of a urlencoded form.
    pub fn post_form(&self, target: &str, body: &str) -> Result<Resp, String> {
        self.request(
            "POST",
            target,
            &[("Content-Type", "application/x-www-form-urlencoded")],
            Some(body.as_bytes()),
            Duration::from_secs(30),
        )
    }

    /// Any request, with this daemon's credentials added.
    pub fn request(
        &self,
        method: &str,
        target: &str,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
        timeout: Duration,
    ) -> Result<Resp, String> {
        let auth = self.auth_header();
        let mut all: Vec<(&str, &str)> = headers.to_vec();
        if let Some(a) = &auth {
            all.push(("Authorization", a));
        }
        http(self.port, method, target, &all, body, timeout)
    }

    /// An XML-RPC call on /RPC2.
    pub fn rpc(&self, method: &str, params: &[Value]) -> Result<Value, Fault> {
        let body = xmlrpc::write_call(method, params);
        let resp = self
            .request(
                "POST",
                "/RPC2",
                &[("Content-Type", "text/xml")],
                Some(&body),
                Duration::from_secs(60),
            )
            .unwrap_or_else(|e| panic!("{}: XML-RPC {method}: {e}", self.kind.label()));
        assert_eq!(
            resp.status,
            200,
            "{}: XML-RPC {method}: {}",
            self.kind.label(),
            resp.text()
        );
        match xmlrpc::parse_response(&resp.body) {
            Ok(xmlrpc::Response::Value(v)) => Ok(v),
            Ok(xmlrpc::Response::Fault(f)) => Err(f),
            Err(e) => panic!("{}: bad XML-RPC answer to {method}: {e}", self.kind.label()),
        }
    }

    /// Every process's statename, by namespec (`group:name`, or `name`
    /// when the group has the program's name).
    pub fn states(&self) -> BTreeMap<String, String> {
        let all = self
            .rpc("supervisor.getAllProcessInfo", &[])
            .unwrap_or_else(|f| panic!("{}: getAllProcessInfo: {f}", self.kind.label()));
        let mut out = BTreeMap::new();
        for info in all.as_array().unwrap_or(&[]) {
            let text = |k: &str| {
                info.struct_get(k)
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string()
            };
            let (group, name) = (text("group"), text("name"));
            let spec = if group == name {
                name
            } else {
                format!("{group}:{name}")
            };
            out.insert(spec, text("statename"));
        }
        out
    }

    /// One process's statename, through getProcessInfo.
    pub fn state(&self, namespec: &str) -> String {
        let info = self
            .rpc("supervisor.getProcessInfo", &[Value::from(namespec)])
            .unwrap_or_else(|f| panic!("{}: getProcessInfo {namespec}: {f}", self.kind.label()));
        info.struct_get("statename")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    }

    /// Waits (bounded) until every listed process has its state.
    pub fn wait_states(&self, want: &[(&str, &str)], timeout: Duration) {
        let ok = wait_until(timeout, || {
            let now = self.states();
            want.iter()
                .all(|(n, s)| now.get(*n).map(String::as_str) == Some(*s))
        });
        assert!(
            ok,
            "{}: states {:?} never reached; now {:?}\n{}",
            self.kind.label(),
            want,
            self.states(),
            self.output()
        );
    }
}

/// An HTTP answer.
#[derive(Debug, Clone)]
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// One HTTP/1.0 request to 127.0.0.1:`port` (both servers close the
/// connection after answering a 1.0 request); the whole answer, or why
/// there is none within `timeout`.
pub fn http(
    port: u16,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
    body: Option<&[u8]>,
    timeout: Duration,
) -> Result<Resp, String> {
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let mut s = TcpStream::connect_timeout(&addr, timeout).map_err(|e| format!("connect: {e}"))?;
    s.set_read_timeout(Some(timeout))
        .map_err(|e| e.to_string())?;
    s.set_write_timeout(Some(timeout))
        .map_err(|e| e.to_string())?;
    let mut req = format!("{method} {target} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    if let Some(b) = body {
        if !headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        {
            req.push_str(&format!("Content-Length: {}\r\n", b.len()));
        }
    }
    req.push_str("\r\n");
    let mut bytes = req.into_bytes();
    bytes.extend_from_slice(body.unwrap_or(&[]));
    s.write_all(&bytes).map_err(|e| format!("send: {e}"))?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw)
        .map_err(|e| format!("no complete answer within {timeout:?}: {e}"))?;
    parse_response(&raw)
}

fn parse_response(raw: &[u8]) -> Result<Resp, String> {
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| format!("no header end in {:?}", String::from_utf8_lossy(raw)))?;
    let head = String::from_utf8_lossy(&raw[..end]).into_owned();
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or("");
    let status = status_line
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| format!("bad status line {status_line:?}"))?;
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    Ok(Resp {
        status,
        headers,
        body: raw[end + 4..].to_vec(),
    })
}

/// Standard base64 with padding.
pub fn base64(data: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(T[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// `%xx` decoding (and `+` as a space), as a form decoder does.
pub fn unquote(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            let hex = std::str::from_utf8(&b[i + 1..i + 3]).ok();
            if let Some(v) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(if b[i] == b'+' { b' ' } else { b[i] });
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// HTML text back to plain text (the entities either page uses).
pub fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&amp;", "&")
}

/// Whether `s` has the shape of Python's time.ctime(): `Mon Nov  3 19:00:00 2026`.
pub fn is_ctime(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() != 24 {
        return false;
    }
    let alpha = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_alphabetic);
    let digit = |i: usize| b[i].is_ascii_digit();
    alpha(0..3)
        && b[3] == b' '
        && alpha(4..7)
        && b[7] == b' '
        && (b[8] == b' ' || digit(8))
        && digit(9)
        && b[10] == b' '
        && digit(11)
        && digit(12)
        && b[13] == b':'
        && digit(14)
        && digit(15)
        && b[16] == b':'
        && digit(17)
        && digit(18)
        && b[19] == b' '
        && (20..24).all(digit)
}
