//! A supervisord under test, ours or Python's, built the same way for
//! both: a fresh temp dir (also its cwd), a config written there (or one
//! the test wrote), a free loopback port and/or a unix socket, output
//! captured in `daemon.out`, and a bounded wait until it answers. Dropping
//! it kills the daemon and every program it started (see `proc::Guard`).
//!
//! ```ignore
//! let d = Daemon::builder(Impl::Ours)
//!     .inet()
//!     .sections("[program:web]\ncommand=sleep 1000\n")
//!     .start();
//! d.wait_state("web", "RUNNING");
//! ```

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use supervisord::rpc::xmlrpc::{Fault, Value};

use super::http::{self, Addr, Conn, Response, RpcError};
use super::proc::{self, Guard};
use super::{free_port, pyref_bin, read_text, temp_dir, wait_until};

/// How long a daemon may take to answer after its start, or to exit after
/// TERM; also the bound of `wait_state` and `wait_log`.
pub const START: Duration = Duration::from_secs(30);

/// How long one XML-RPC call may take (waited starts and stops included).
const CALL: Duration = Duration::from_secs(60);

/// The standard XML-RPC interface section, which every config that talks
/// to its daemon needs.
const RPCINTERFACE: &str = "[rpcinterface:supervisor]\nsupervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n\n";

/// Which supervisord.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Impl {
    Python,
    Ours,
}

impl Impl {
    /// Python first: a test that runs on both shows on Python's that its
    /// expectation holds.
    pub const BOTH: [Impl; 2] = [Impl::Python, Impl::Ours];

    pub fn bin(self) -> PathBuf {
        match self {
            Impl::Python => pyref_bin("supervisord"),
            Impl::Ours => super::our_bin(),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Impl::Python => "python",
            Impl::Ours => "ours",
        }
    }
}

/// When `start` returns.
#[derive(Clone, Copy, Debug)]
enum Ready {
    /// Every configured server answers an HTTP request.
    Answers,
    /// The activity log (or the output) says the daemon started.
    Started,
}

/// The config the builder writes, kept so `Daemon::rewrite` can write the
/// same head with other sections.
#[derive(Clone, Debug)]
struct ConfText {
    log_name: String,
    supervisord: String,
    inet: Option<String>,
    unix: Option<String>,
    ctl: bool,
    auth: Option<(String, String)>,
}

impl ConfText {
    fn render(&self, dir: &Path, port: u16, sections: &str) -> String {
        let d = dir.display();
        let mut t = format!(
            "[supervisord]\nlogfile={d}/{}\npidfile={d}/sd.pid\nchildlogdir={d}\nnodaemon=true\n{}\n",
            self.log_name,
            lines(&self.supervisord)
        );
        if let Some(extra) = &self.inet {
            t.push_str(&format!("[inet_http_server]\nport=127.0.0.1:{port}\n"));
            if let Some((u, p)) = &self.auth {
                t.push_str(&format!("username={u}\npassword={p}\n"));
            }
            t.push_str(&format!("{}\n", lines(extra)));
        }
        if let Some(sock) = &self.unix {
            t.push_str(&format!("[unix_http_server]\nfile={d}/{sock}\n\n"));
            if self.ctl {
                t.push_str(&format!("[supervisorctl]\nserverurl=unix://{d}/{sock}\n\n"));
            }
        }
        if self.inet.is_some() || self.unix.is_some() {
            t.push_str(RPCINTERFACE);
        }
        t.push_str(sections);
        t
    }
}

/// `text` as whole lines: empty, or ending in a newline.
fn lines(text: &str) -> String {
    if text.is_empty() || text.ends_with('\n') {
        text.to_string()
    } else {
        format!("{text}\n")
    }
}

/// A change to the daemon's command before it is spawned.
type Prepare = Box<dyn FnOnce(&mut Command)>;

/// Sets up a daemon; `start` runs it. The temp dir and the port exist from
/// the beginning, so sections can name files in `dir()`.
pub struct DaemonBuilder {
    imp: Impl,
    dir: tempfile::TempDir,
    port: u16,
    text: ConfText,
    sections: String,
    client_auth: Option<(String, String)>,
    args: Vec<OsString>,
    cwd: Option<PathBuf>,
    conf_file: Option<PathBuf>,
    prepare: Vec<Prepare>,
}

impl Daemon {
    pub fn builder(imp: Impl) -> DaemonBuilder {
        DaemonBuilder {
            imp,
            dir: temp_dir(),
            port: free_port(),
            text: ConfText {
                log_name: "sd.log".into(),
                supervisord: String::new(),
                inet: None,
                unix: None,
                ctl: false,
                auth: None,
            },
            sections: String::new(),
            client_auth: None,
            args: Vec::new(),
            cwd: None,
            conf_file: None,
            prepare: Vec::new(),
        }
    }
}

impl DaemonBuilder {
    /// The daemon's temp dir.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The loopback port an `inet()` server listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Where the config is (or will be) written.
    pub fn conf_path(&self) -> PathBuf {
        self.conf_file
            .clone()
            .unwrap_or_else(|| self.dir().join("supervisord.conf"))
    }

    /// More lines for `[supervisord]` (`loglevel=debug`, `silent=true`).
    pub fn supervisord(mut self, lines: &str) -> Self {
        self.text.supervisord.push_str(&self::lines(lines));
        self
    }

    /// An `[inet_http_server]` on 127.0.0.1:`port()`.
    pub fn inet(self) -> Self {
        self.inet_lines("")
    }

    /// `inet()` with more lines in its section.
    pub fn inet_lines(mut self, lines: &str) -> Self {
        let extra = self.text.inet.take().unwrap_or_default();
        self.text.inet = Some(extra + &self::lines(lines));
        self
    }

    /// A `[unix_http_server]` on `dir()/name`.
    pub fn unix(mut self, name: &str) -> Self {
        self.text.unix = Some(name.to_string());
        self
    }

    /// A `[supervisorctl]` section whose serverurl is the unix socket.
    pub fn ctl(mut self) -> Self {
        assert!(self.text.unix.is_some(), "ctl() needs unix() first");
        self.text.ctl = true;
        self
    }

    /// Basic auth on the inet server; the harness's own requests send it.
    pub fn auth(mut self, user: &str, password: &str) -> Self {
        self.text.auth = Some((user.into(), password.into()));
        self.client_auth = Some((user.into(), password.into()));
        self
    }

    /// Credentials the harness's requests send, for a config that asks for
    /// them by itself (`config_file`).
    pub fn client_auth(mut self, user: &str, password: &str) -> Self {
        self.client_auth = Some((user.into(), password.into()));
        self
    }

    /// The rest of the config, after the sections the builder writes.
    pub fn sections(mut self, text: &str) -> Self {
        self.sections.push_str(text);
        self
    }

    /// More command-line arguments, after `-c CONF`.
    pub fn args<S: Into<OsString>>(mut self, args: impl IntoIterator<Item = S>) -> Self {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// Runs the daemon in `dir` instead of its temp dir.
    pub fn cwd(mut self, dir: &Path) -> Self {
        self.cwd = Some(dir.to_path_buf());
        self
    }

    /// Starts on `path`, a config the test wrote (in `dir()`), instead of
    /// writing one. `inet()`/`unix()`/`log_name()` then only say where
    /// that config puts its servers and its activity log.
    pub fn config_file(mut self, path: &Path) -> Self {
        self.conf_file = Some(path.to_path_buf());
        self
    }

    /// The activity log's file name in `dir()` (default `sd.log`).
    pub fn log_name(mut self, name: &str) -> Self {
        self.text.log_name = name.to_string();
        self
    }

    /// A last change to the command before it is spawned.
    pub fn prepare(mut self, f: impl FnOnce(&mut Command) + 'static) -> Self {
        self.prepare.push(Box::new(f));
        self
    }

    /// Writes the config (unless the test wrote it); returns its path.
    pub fn write_config(&self) -> PathBuf {
        let path = self.conf_path();
        if self.conf_file.is_none() {
            let text = self.text.render(self.dir(), self.port, &self.sections);
            std::fs::write(&path, text).expect("write config");
        }
        path
    }

    fn command(&mut self, conf: &Path) -> Command {
        let mut cmd = Command::new(self.imp.bin());
        cmd.arg("-c")
            .arg(conf)
            .args(&self.args)
            .current_dir(self.cwd.as_deref().unwrap_or(self.dir.path()));
        for f in self.prepare.drain(..) {
            f(&mut cmd);
        }
        cmd
    }

    /// Runs the daemon to its exit, for configs it must refuse; returns
    /// (code, stdout, stderr) as `run_with_timeout` does.
    pub fn run(mut self, timeout: Duration) -> (Option<i32>, String, String) {
        let conf = self.write_config();
        let mut cmd = self.command(&conf);
        proc::run_with_timeout(&mut cmd, timeout)
    }

    /// Starts the daemon and waits (bounded) until it answers: every
    /// configured server answers an HTTP request, or, with no server, its
    /// log says it started. Panics with its output if it exits first.
    pub fn start(mut self) -> Daemon {
        let conf = self.write_config();
        let out = std::fs::File::create(self.dir().join("daemon.out")).expect("daemon.out");
        let mut cmd = self.command(&conf);
        cmd.stdin(Stdio::null())
            .stdout(out.try_clone().expect("dup daemon.out"))
            .stderr(out);
        let has_server = self.text.inet.is_some() || self.text.unix.is_some();
        let ready = if has_server {
            Ready::Answers
        } else {
            Ready::Started
        };
        let mut d = Daemon {
            imp: self.imp,
            guard: Guard::spawn(&mut cmd),
            conf,
            port: self.port,
            inet: self.text.inet.is_some(),
            sock: self.text.unix.as_ref().map(|s| self.dir.path().join(s)),
            log: self.dir.path().join(&self.text.log_name),
            auth: self.client_auth,
            text: self.conf_file.is_none().then_some(self.text),
            dir: self.dir,
        };
        d.wait_ready(ready);
        d
    }
}

/// A running supervisord; see the module doc.
pub struct Daemon {
    imp: Impl,
    dir: tempfile::TempDir,
    conf: PathBuf,
    port: u16,
    inet: bool,
    sock: Option<PathBuf>,
    log: PathBuf,
    auth: Option<(String, String)>,
    /// How the config was written, when the builder wrote it.
    text: Option<ConfText>,
    guard: Guard,
}

impl Daemon {
    fn wait_ready(&mut self, ready: Ready) {
        let auth = self.auth_header();
        let auth: Vec<&str> = auth.iter().map(String::as_str).collect();
        let probe = http::request("GET", "/ok.html", "HTTP/1.0", &auth, None);
        let servers = self.servers();
        let (log, out) = (self.log.clone(), self.dir().join("daemon.out"));
        let mut exited = None;
        let ok = wait_until(START, || {
            if let Some(st) = self.guard.exited() {
                exited = Some(st);
                return true;
            }
            match ready {
                Ready::Started => [&log, &out]
                    .iter()
                    .any(|p| read_text(p).contains("supervisord started with pid")),
                // Any status will do (401 too): the server is up.
                Ready::Answers => servers
                    .iter()
                    .all(|a| http::exchange(a, &probe, Duration::from_secs(5)).is_ok()),
            }
        });
        if let Some(st) = exited {
            panic!(
                "{} supervisord exited ({st}) before it answered:\n{}",
                self.name(),
                self.output()
            );
        }
        assert!(
            ok,
            "{} supervisord did not answer within {START:?}:\n{}",
            self.name(),
            self.output()
        );
    }

    /// The servers the config has: TCP, then the unix socket.
    fn servers(&self) -> Vec<Addr> {
        let mut v = Vec::new();
        if self.inet {
            v.push(Addr::Tcp(self.port));
        }
        if let Some(s) = &self.sock {
            v.push(Addr::Unix(s.clone()));
        }
        v
    }

    pub fn imp(&self) -> Impl {
        self.imp
    }

    /// "python" or "ours", for messages.
    pub fn name(&self) -> &'static str {
        self.imp.name()
    }

    /// The temp dir holding the config, the logs and the socket.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    pub fn conf(&self) -> &Path {
        &self.conf
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn pid(&self) -> i32 {
        self.guard.pid()
    }

    /// The unix socket's path.
    pub fn sock(&self) -> PathBuf {
        self.sock.clone().expect("the daemon has no unix socket")
    }

    /// `http://127.0.0.1:PORT`, the start of every URL on the inet server.
    pub fn http_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// `unix:///path/to/socket`.
    pub fn unix_url(&self) -> String {
        format!("unix://{}", self.sock().display())
    }

    /// The activity log so far.
    pub fn log(&self) -> String {
        read_text(&self.log)
    }

    /// Waits (bounded) until the activity log holds `needle`.
    pub fn wait_log(&self, needle: &str) -> bool {
        wait_until(START, || self.log().contains(needle))
    }

    /// Waits (bounded) until `needle` is in the activity log `n` times.
    pub fn wait_log_count(&self, needle: &str, n: usize) -> bool {
        wait_until(START, || self.log().matches(needle).count() >= n)
    }

    /// What the daemon printed and logged so far, for failure messages.
    pub fn output(&self) -> String {
        format!(
            "--- {} daemon.out ---\n{}--- {} ---\n{}",
            self.name(),
            read_text(&self.dir().join("daemon.out")),
            self.log.file_name().unwrap_or_default().to_string_lossy(),
            self.log()
        )
    }

    /// Rewrites the config with the same head (servers, port, logs) and
    /// other `sections`, for a reload.
    pub fn rewrite(&self, sections: &str) {
        let text = self
            .text
            .as_ref()
            .expect("rewrite: the test wrote this config itself");
        std::fs::write(&self.conf, text.render(self.dir(), self.port, sections))
            .expect("rewrite config");
    }

    pub fn signal(&self, sig: i32) {
        proc::signal(self.pid(), sig);
    }

    /// The exit code (minus the signal, if one ended it), if the daemon
    /// has exited.
    pub fn exited(&mut self) -> Option<i32> {
        self.guard.exited().map(proc::exit_code)
    }

    /// Waits (bounded) for the daemon to exit on its own; its exit code
    /// as `exited` gives it.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<i32> {
        self.guard.wait_exit(timeout).map(proc::exit_code)
    }

    /// TERM, then the exit code within `START` (None: still running).
    pub fn stop(&mut self) -> Option<i32> {
        if self.exited().is_none() {
            self.signal(libc::SIGTERM);
        }
        self.wait_exit(START)
    }

    /// The Authorization header line for the client's credentials.
    pub fn auth_header(&self) -> Option<String> {
        self.auth.as_ref().map(|(u, p)| http::basic_auth(u, p))
    }

    /// Where calls go: the inet server if there is one, else the socket.
    fn addr(&self) -> Addr {
        self.servers()
            .into_iter()
            .next()
            .expect("the daemon has no HTTP server")
    }

    /// An HTTP/1.0 request to the inet server (the connection closes after
    /// the answer), with the client's credentials; `headers` are
    /// (name, value) pairs. The whole answer, or why there is none within
    /// `timeout`.
    pub fn request(
        &self,
        method: &str,
        target: &str,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
        timeout: Duration,
    ) -> Result<Response, String> {
        let mut all: Vec<String> = vec![format!("Host: 127.0.0.1:{}", self.port)];
        all.extend(headers.iter().map(|(k, v)| format!("{k}: {v}")));
        all.extend(self.auth_header());
        let all: Vec<&str> = all.iter().map(String::as_str).collect();
        let req = http::request(method, target, "HTTP/1.0", &all, body);
        http::exchange(&Addr::Tcp(self.port), &req, timeout)
    }

    /// GET with the client's credentials.
    pub fn get(&self, target: &str) -> Result<Response, String> {
        self.request("GET", target, &[], None, Duration::from_secs(30))
    }

    /// POST of a urlencoded form.
    pub fn post_form(&self, target: &str, body: &str) -> Result<Response, String> {
        self.request(
            "POST",
            target,
            &[("Content-Type", "application/x-www-form-urlencoded")],
            Some(body.as_bytes()),
            Duration::from_secs(30),
        )
    }

    /// An XML-RPC call; every way it can fail is an `Err`.
    pub fn try_rpc(&self, method: &str, params: &[Value]) -> Result<Value, RpcError> {
        let auth = self.auth_header();
        http::xmlrpc_call(&self.addr(), auth.as_deref(), method, params, CALL)
    }

    /// An XML-RPC call that must get an answer: its value or its Fault.
    pub fn rpc(&self, method: &str, params: &[Value]) -> Result<Value, Fault> {
        match self.try_rpc(method, params) {
            Ok(v) => Ok(v),
            Err(RpcError::Fault(f)) => Err(f),
            Err(e) => panic!("{}: XML-RPC {method}: {e}\n{}", self.name(), self.output()),
        }
    }

    /// An XML-RPC call that must succeed.
    pub fn call(&self, method: &str, params: &[Value]) -> Value {
        self.try_rpc(method, params).unwrap_or_else(|e| {
            panic!(
                "{}: {method}{params:?}: {e}\n{}",
                self.name(),
                self.output()
            )
        })
    }

    /// A hand-written XML-RPC call over a fresh TCP connection: `params`
    /// are `<value>`s as text (see `http::string`, `http::int`). Returns
    /// (HTTP status, body).
    pub fn rpc_raw(&self, method: &str, params: &[String]) -> (u16, String) {
        let params: String = params
            .iter()
            .map(|p| format!("<param>{p}</param>\n"))
            .collect();
        let body = http::rpc_body(method, &params);
        let auth = self.auth_header();
        let extra: Vec<&str> = auth.iter().map(String::as_str).collect();
        let mut c = Conn::tcp(self.port);
        c.send(&http::post("/RPC2", &body, &extra));
        let r = c
            .response()
            .unwrap_or_else(|| panic!("{}: no answer to {method}\n{}", self.name(), self.output()));
        (r.status, r.text())
    }

    /// Whether the daemon still answers getState RUNNING over a new
    /// connection to where calls go (the inet server, else the socket).
    pub fn answers(&self) -> bool {
        let auth = self.auth_header();
        let extra: Vec<&str> = auth.iter().map(String::as_str).collect();
        let req = http::post("/RPC2", &http::rpc_body("supervisor.getState", ""), &extra);
        http::exchange(&self.addr(), &req, http::IO)
            .is_ok_and(|r| r.status == 200 && r.text().contains("RUNNING"))
    }

    /// getProcessInfo, which must succeed.
    pub fn info(&self, name: &str) -> Value {
        self.call("supervisor.getProcessInfo", &[Value::from(name)])
    }

    /// A process's statename, or "" when there is no answer.
    pub fn state(&self, name: &str) -> String {
        self.try_rpc("supervisor.getProcessInfo", &[Value::from(name)])
            .ok()
            .and_then(|v| {
                v.struct_get("statename")
                    .and_then(|x| x.as_str().map(String::from))
            })
            .unwrap_or_default()
    }

    /// A process's pid (0 when not running).
    pub fn proc_pid(&self, name: &str) -> i64 {
        self.info(name)
            .struct_get("pid")
            .and_then(|p| p.as_int())
            .unwrap_or(0)
    }

    /// Every process's statename, by namespec (`group:name`, or `name`
    /// when the group has the program's name).
    pub fn states(&self) -> BTreeMap<String, String> {
        let all = self
            .rpc("supervisor.getAllProcessInfo", &[])
            .unwrap_or_else(|f| panic!("{}: getAllProcessInfo: {f}", self.name()));
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

    /// Waits (bounded) until a process is in `state`.
    pub fn wait_state(&self, name: &str, state: &str) {
        assert!(
            wait_until(START, || self.state(name) == state),
            "{}: {name} never reached {state} (now {:?})\n{}",
            self.name(),
            self.state(name),
            self.output()
        );
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
            self.name(),
            want,
            self.states(),
            self.output()
        );
    }
}
