//! Helpers shared by the XML-RPC/HTTP tests (`rpc_differential.rs`,
//! `rpc_http.rs`): a daemon (Python's or ours) on a config written by
//! `tests/rpc/driver.py`, the driver itself, a small HTTP/1.x client on raw
//! sockets, and a line diff for readable failures.
#![allow(dead_code)]

use crate::util::{free_port, pyref_bin, temp_dir, wait_until, Guard};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How long a daemon may take to start answering, or to exit.
pub const START: Duration = Duration::from_secs(20);
/// Socket read/write timeout for every connection a test opens.
pub const IO: Duration = Duration::from_secs(15);
/// The longest a driver scenario may run.
pub const SCENARIO: Duration = Duration::from_secs(240);

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Impl {
    Python,
    Ours,
}

impl Impl {
    pub fn bin(self) -> PathBuf {
        match self {
            Impl::Python => pyref_bin("supervisord"),
            Impl::Ours => crate::util::our_bin(),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Impl::Python => "python",
            Impl::Ours => "ours",
        }
    }
}

/// Whether the tests also run against our daemon (always, unless
/// `RPC_AGAINST_OURS=0` asks to check the tests on Python alone).
pub fn against_ours() -> bool {
    std::env::var("RPC_AGAINST_OURS").as_deref() != Ok("0")
}

/// The implementations a test runs against.
pub fn impls() -> Vec<Impl> {
    if against_ours() {
        vec![Impl::Python, Impl::Ours]
    } else {
        vec![Impl::Python]
    }
}

pub fn driver_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/rpc/driver.py")
}

/// Basic-auth credentials for the config and the client.
#[derive(Clone, Debug)]
pub struct Auth {
    pub user: String,
    /// What goes into the config (may be `{SHA}hex`).
    pub config_password: String,
    /// What the client sends.
    pub password: String,
}

/// A daemon under test in its own temp dir, serving 127.0.0.1:port and
/// dir/supervisor.sock. Dropping it sends TERM (so it stops its programs),
/// waits a bounded time, then kills its process group.
pub struct Daemon {
    pub which: Impl,
    pub dir: tempfile::TempDir,
    pub port: u16,
    pub guard: Guard,
    /// Credentials `rpc` sends, if the config asks for them.
    pub auth: Option<Auth>,
}

impl Daemon {
    /// Writes the scenario's config with the driver and starts the daemon.
    pub fn start(which: Impl, scenario: &str, auth: Option<&Auth>) -> Daemon {
        Self::start_with(which, scenario, auth, |_| {})
    }

    /// Like `start`, with a chance to edit the config file first.
    pub fn start_with(
        which: Impl,
        scenario: &str,
        auth: Option<&Auth>,
        edit: impl FnOnce(&Path),
    ) -> Daemon {
        let dir = temp_dir();
        let port = free_port();
        let mut cmd = Command::new(pyref_bin("python"));
        cmd.arg(driver_path())
            .arg("--config")
            .arg("--dir")
            .arg(dir.path())
            .arg("--port")
            .arg(port.to_string());
        if let Some(a) = auth {
            cmd.arg("--user")
                .arg(&a.user)
                .arg("--password")
                .arg(&a.config_password);
        }
        cmd.arg(scenario);
        let (code, out, err) = crate::util::run_with_timeout(&mut cmd, START);
        assert_eq!(code, Some(0), "driver --config failed:\n{out}\n{err}");
        edit(&dir.path().join("supervisord.conf"));
        let log = std::fs::File::create(dir.path().join("daemon.out")).expect("daemon.out");
        let mut cmd = Command::new(which.bin());
        cmd.arg("-n")
            .arg("-c")
            .arg(dir.path().join("supervisord.conf"))
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("dup"))
            .stderr(log);
        let guard = Guard::spawn(&mut cmd);
        let mut d = Daemon {
            which,
            dir,
            port,
            guard,
            auth: auth.cloned(),
        };
        let sock = d.sock();
        let ready = wait_until(START, || {
            if let Ok(Some(_)) = d.guard.child.try_wait() {
                return true;
            }
            UnixStream::connect(&sock).is_ok() && TcpStream::connect(("127.0.0.1", port)).is_ok()
        });
        let exited = d.guard.child.try_wait().ok().flatten();
        assert!(
            ready && exited.is_none(),
            "{} daemon did not come up ({exited:?}):\n{}",
            which.name(),
            d.output()
        );
        d
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn sock(&self) -> PathBuf {
        self.dir.path().join("supervisor.sock")
    }

    pub fn tcp_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn unix_url(&self) -> String {
        format!("unix://{}", self.sock().display())
    }

    /// What the daemon printed, and its activity log: for failure messages.
    pub fn output(&self) -> String {
        let read = |n: &str| std::fs::read_to_string(self.dir.path().join(n)).unwrap_or_default();
        format!(
            "--- {} daemon.out ---\n{}--- supervisord.log ---\n{}",
            self.which.name(),
            read("daemon.out"),
            read("supervisord.log")
        )
    }

    /// Runs a driver scenario against `url`; returns its JSON lines.
    pub fn drive(&self, url: &str, scenario: &str, auth: Option<&Auth>) -> Vec<String> {
        let mut cmd = Command::new(pyref_bin("python"));
        cmd.arg(driver_path()).arg("--dir").arg(self.path());
        if let Some(a) = auth {
            cmd.arg("--user")
                .arg(&a.user)
                .arg("--password")
                .arg(&a.password);
        }
        cmd.arg(url).arg(scenario);
        let (code, out, err) = crate::util::run_with_timeout(&mut cmd, SCENARIO);
        assert_eq!(
            code,
            Some(0),
            "driver {scenario} against {} {url} failed (None = timed out):\n{err}\n--- output so far ---\n{out}\n{}",
            self.which.name(),
            self.output()
        );
        out.lines().map(str::to_owned).collect()
    }

    /// A raw XML-RPC call over TCP with a fresh connection: (status, body).
    /// `params` are XML-RPC values (see `string`, `int`).
    pub fn rpc(&self, method: &str, params: &[String]) -> (u16, String) {
        let params: String = params
            .iter()
            .map(|p| format!("<param>{p}</param>\n"))
            .collect();
        let body = rpc_body(method, &params);
        let auth = self.auth_header();
        let extra: Vec<&str> = auth.iter().map(String::as_str).collect();
        let mut c = Conn::tcp(self.port);
        c.send(&post("/RPC2", &body, &extra));
        let r = c.response().unwrap_or_else(|| {
            panic!(
                "{}: no answer to {method}\n{}",
                self.which.name(),
                self.output()
            )
        });
        (r.status, r.text())
    }

    /// The Authorization header line for the configured credentials.
    pub fn auth_header(&self) -> Option<String> {
        self.auth.as_ref().map(|a| basic_auth(&a.user, &a.password))
    }

    /// Whether the daemon still answers getState over a new TCP connection.
    pub fn answers(&self) -> bool {
        let Ok(s) = TcpStream::connect(("127.0.0.1", self.port)) else {
            return false;
        };
        s.set_read_timeout(Some(IO)).unwrap();
        s.set_write_timeout(Some(IO)).unwrap();
        let mut c = Conn {
            reader: BufReader::new(Box::new(s)),
        };
        let auth = self.auth_header();
        let extra: Vec<&str> = auth.iter().map(String::as_str).collect();
        if c.try_send(&post("/RPC2", &rpc_body("supervisor.getState", ""), &extra))
            .is_err()
        {
            return false;
        }
        c.response()
            .is_some_and(|r| r.status == 200 && r.text().contains("RUNNING"))
    }

    pub fn pid(&self) -> i32 {
        self.guard.pid()
    }

    /// Waits for the daemon to exit on its own; returns its exit code.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<i32> {
        self.guard
            .wait_exit(timeout)
            .map(|s| s.code().unwrap_or(-1))
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Ok(None) = self.guard.child.try_wait() {
            // SAFETY: kill(2) on the pid of a child we started.
            unsafe {
                libc::kill(self.guard.pid(), libc::SIGTERM);
            }
            let _ = self.guard.wait_exit(START);
        }
        // the Guard then kills the process group, whatever is left
    }
}

/// An XML-RPC string value.
pub fn string(s: &str) -> String {
    let s = s
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    format!("<value><string>{s}</string></value>")
}

/// An XML-RPC int value.
pub fn int(i: i64) -> String {
    format!("<value><int>{i}</int></value>")
}

/// `Authorization: Basic ...` for user:password.
pub fn basic_auth(user: &str, password: &str) -> String {
    format!(
        "Authorization: Basic {}",
        base64(format!("{user}:{password}").as_bytes())
    )
}

pub fn base64(data: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for c in data.chunks(3) {
        let b = [c[0], *c.get(1).unwrap_or(&0), *c.get(2).unwrap_or(&0)];
        let n = (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32;
        for k in 0..4 {
            if k <= c.len() {
                out.push(T[(n >> (18 - 6 * k) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

pub fn rpc_body(method: &str, params_xml: &str) -> String {
    format!(
        "<?xml version=\"1.0\"?>\n<methodCall>\n<methodName>{method}</methodName>\n<params>\n{params_xml}</params>\n</methodCall>\n"
    )
}

/// A POST request with a body; `extra` headers are full lines without CRLF.
pub fn post(path: &str, body: &str, extra: &[&str]) -> Vec<u8> {
    post_v(path, "HTTP/1.1", body, extra)
}

/// A POST request in the given HTTP version.
pub fn post_v(path: &str, version: &str, body: &str, extra: &[&str]) -> Vec<u8> {
    let mut r = format!(
        "POST {path} {version}\r\nHost: localhost\r\nContent-Type: text/xml\r\nContent-Length: {}\r\n",
        body.len()
    );
    for h in extra {
        r.push_str(h);
        r.push_str("\r\n");
    }
    r.push_str("\r\n");
    let mut v = r.into_bytes();
    v.extend_from_slice(body.as_bytes());
    v
}

/// A GET request; `extra` headers are full lines without CRLF.
pub fn get(path: &str, version: &str, extra: &[&str]) -> Vec<u8> {
    let mut r = format!("GET {path} {version}\r\nHost: localhost\r\n");
    for h in extra {
        r.push_str(h);
        r.push_str("\r\n");
    }
    r.push_str("\r\n");
    r.into_bytes()
}

/// An HTTP response as read from the wire.
#[derive(Debug, Clone)]
pub struct Response {
    pub version: String,
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
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

trait Stream: Read + Write + Send {}
impl<T: Read + Write + Send> Stream for T {}

/// One client connection (TCP or unix) with socket timeouts, reading
/// responses with Content-Length, chunked, or read-to-close bodies.
pub struct Conn {
    reader: BufReader<Box<dyn Stream>>,
}

impl Conn {
    pub fn tcp(port: u16) -> Conn {
        let s = TcpStream::connect(("127.0.0.1", port)).expect("connect tcp");
        s.set_read_timeout(Some(IO)).unwrap();
        s.set_write_timeout(Some(IO)).unwrap();
        Conn {
            reader: BufReader::new(Box::new(s)),
        }
    }

    pub fn unix(path: &Path) -> Conn {
        let s = UnixStream::connect(path).expect("connect unix");
        s.set_read_timeout(Some(IO)).unwrap();
        s.set_write_timeout(Some(IO)).unwrap();
        Conn {
            reader: BufReader::new(Box::new(s)),
        }
    }

    /// Shortens the read timeout (for "nothing more arrives" checks).
    pub fn tcp_with_timeout(port: u16, t: Duration) -> Conn {
        let s = TcpStream::connect(("127.0.0.1", port)).expect("connect tcp");
        s.set_read_timeout(Some(t)).unwrap();
        s.set_write_timeout(Some(IO)).unwrap();
        Conn {
            reader: BufReader::new(Box::new(s)),
        }
    }

    pub fn send(&mut self, bytes: &[u8]) {
        let w = self.reader.get_mut();
        w.write_all(bytes).expect("send request");
        w.flush().expect("flush");
    }

    /// Sends, reporting a write error instead of panicking (the server may
    /// close a connection while a big body is still being sent).
    pub fn try_send(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        let w = self.reader.get_mut();
        w.write_all(bytes)?;
        w.flush()
    }

    /// Reads the status line and headers; None if the connection closed
    /// (or timed out) first.
    pub fn head(&mut self) -> Option<Response> {
        let mut line = String::new();
        match self.reader.read_line(&mut line) {
            Ok(0) | Err(_) => return None,
            Ok(_) => {}
        }
        let mut parts = line.trim_end().splitn(3, ' ');
        let version = parts.next()?.to_owned();
        let status = parts.next()?.parse().ok()?;
        let mut headers = Vec::new();
        loop {
            let mut h = String::new();
            match self.reader.read_line(&mut h) {
                Ok(0) | Err(_) => return None,
                Ok(_) => {}
            }
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                headers.push((k.trim().to_owned(), v.trim().to_owned()));
            }
        }
        Some(Response {
            version,
            status,
            headers,
            body: Vec::new(),
        })
    }

    /// A whole response, body included; None if the connection closed or
    /// timed out before it was complete.
    pub fn response(&mut self) -> Option<Response> {
        let mut r = self.head()?;
        if r.header("Transfer-Encoding")
            .is_some_and(|v| v.eq_ignore_ascii_case("chunked"))
        {
            loop {
                let chunk = self.chunk()?;
                if chunk.is_empty() {
                    // trailers, then the empty line
                    loop {
                        let mut t = String::new();
                        self.reader.read_line(&mut t).ok()?;
                        if t.trim_end().is_empty() {
                            break;
                        }
                    }
                    break;
                }
                r.body.extend_from_slice(&chunk);
            }
        } else if let Some(n) = r.header("Content-Length") {
            let n: usize = n.parse().ok()?;
            let mut body = vec![0; n];
            self.reader.read_exact(&mut body).ok()?;
            r.body = body;
        } else {
            let _ = self.reader.read_to_end(&mut r.body);
        }
        Some(r)
    }

    /// One chunk of a chunked body (empty at the end); None on close or
    /// timeout.
    pub fn chunk(&mut self) -> Option<Vec<u8>> {
        let mut size = String::new();
        match self.reader.read_line(&mut size) {
            Ok(0) | Err(_) => return None,
            Ok(_) => {}
        }
        let size = size.trim_end();
        let size = size.split(';').next().unwrap_or("");
        let n = usize::from_str_radix(size.trim(), 16).ok()?;
        let mut data = vec![0; n];
        self.reader.read_exact(&mut data).ok()?;
        let mut crlf = [0u8; 2];
        self.reader.read_exact(&mut crlf).ok()?;
        Some(data)
    }

    /// Reads chunks until `needle` is in what came so far, or `timeout`
    /// passes, or the stream ends; returns everything read.
    pub fn chunks_until(&mut self, needle: &str, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        let mut got = Vec::new();
        while Instant::now() < deadline {
            match self.chunk() {
                Some(c) if c.is_empty() => break,
                Some(c) => got.extend_from_slice(&c),
                None => break,
            }
            if String::from_utf8_lossy(&got).contains(needle) {
                break;
            }
        }
        String::from_utf8_lossy(&got).into_owned()
    }

    /// Whether the peer has closed the connection (reads EOF or an error
    /// other than a timeout within `t`).
    pub fn closed_within(&mut self, t: Duration) -> bool {
        let deadline = Instant::now() + t;
        let mut buf = [0u8; 4096];
        while Instant::now() < deadline {
            match self.reader.read(&mut buf) {
                Ok(0) => return true,
                Ok(_) => continue,
                Err(e)
                    if e.kind() == std::io::ErrorKind::WouldBlock
                        || e.kind() == std::io::ErrorKind::TimedOut =>
                {
                    continue
                }
                Err(_) => return true,
            }
        }
        false
    }
}

/// A unified diff of two line lists (LCS; the lists are short).
pub fn unified_diff(a: &[String], b: &[String], a_name: &str, b_name: &str) -> String {
    let (n, m) = (a.len(), b.len());
    let mut lcs = vec![vec![0usize; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let mut ops = Vec::new(); // (tag, line)
    let (mut i, mut j) = (0, 0);
    while i < n || j < m {
        if i < n && j < m && a[i] == b[j] {
            ops.push((' ', &a[i]));
            i += 1;
            j += 1;
        } else if i < n && (j == m || lcs[i + 1][j] >= lcs[i][j + 1]) {
            ops.push(('-', &a[i]));
            i += 1;
        } else {
            ops.push(('+', &b[j]));
            j += 1;
        }
    }
    let mut out = format!("--- {a_name}\n+++ {b_name}\n");
    const CONTEXT: usize = 2;
    let changed: Vec<usize> = (0..ops.len()).filter(|&k| ops[k].0 != ' ').collect();
    let mut k = 0;
    while k < changed.len() {
        let start = changed[k].saturating_sub(CONTEXT);
        let mut end = changed[k];
        while k < changed.len() && changed[k] <= end + 2 * CONTEXT + 1 {
            end = changed[k];
            k += 1;
        }
        let end = (end + CONTEXT + 1).min(ops.len());
        out.push_str(&format!("@@ lines {}..{} @@\n", start + 1, end));
        for (tag, line) in &ops[start..end] {
            out.push_str(&format!("{tag}{line}\n"));
        }
    }
    out
}

/// Failed checks collected so a test reports all of them, not the first.
#[derive(Default)]
pub struct Problems(Vec<String>);

impl Problems {
    pub fn check(&mut self, ok: bool, what: impl FnOnce() -> String) -> bool {
        if !ok {
            let w = what();
            eprintln!("PROBLEM: {w}");
            self.0.push(w);
        }
        ok
    }

    pub fn finish(self) {
        assert!(
            self.0.is_empty(),
            "{} problem(s):\n{}",
            self.0.len(),
            self.0.join("\n")
        );
    }
}
