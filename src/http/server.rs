//! The HTTP servers: for each configured socket an accept thread, and a
//! thread per open connection that reads a request, answers it and reads
//! the next (keep-alive), until the client closes. A `wait=true` call, a
//! slow client or a `tail -f` stream holds only its own connection's
//! thread; an idle keep-alive connection costs a blocked thread and
//! nothing else (no timer). Handlers talk to the supervisor loop only
//! through the RPC dispatcher's messages.
//!
//! Routes, in Python's order: `/RPC2...` (XML-RPC), `/logtail/...`,
//! `/mainlogtail`, then the Go version's `/metrics` and REST API
//! (`/program/...`, `/supervisor/...`), the web UI pages, then 404. Basic
//! auth guards them all when the server has a username.

use super::auth::Credentials;
use super::cross_site;
use super::listen::{BoundServer, Listener};
use super::logtail;
use super::metrics;
use super::probes;
use super::rest;
use super::spill::{Finished, SpillingBody};
use super::web;
use super::wire::{self, Incoming, Request, Version};
use crate::config::ServerConfig;
use crate::logs::activity;
use crate::rpc::xmlrpc;
use crate::rpc::{self, Dispatcher};
use std::collections::HashMap;
use std::io::{BufReader, BufWriter, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Request bodies larger than this are refused with 413 (Python has no
/// limit; an XML-RPC call is a few KiB, and sendProcessStdin data this
/// large belongs in a file).
pub const MAX_BODY: usize = 8 * 1024 * 1024;

/// Open connections per server; a client past it gets a 503. Below the
/// descriptor limit: see `connection_cap`.
const MAX_CONNECTIONS: usize = 4096;

/// The connection cap of each of `servers` servers when the daemon may
/// open `open_files` descriptors: together they take at most half, so
/// idle clients cannot take the descriptors that spawning programs and
/// opening their logs need (with 1024, a systemd service's default, 1020
/// idle connections did: new clients then hung unaccepted, and a program
/// could not have been spawned). Python has no cap at all.
fn connection_cap(open_files: u64, servers: usize) -> usize {
    let share = open_files / 2 / servers.max(1) as u64;
    usize::try_from(share)
        .unwrap_or(usize::MAX)
        .clamp(1, MAX_CONNECTIONS)
}

/// Stack of a connection thread: request decoding is bounded in depth (64
/// nested values), which an unoptimised build needs most of this for;
/// only the pages touched cost memory.
const CONNECTION_STACK: usize = 1024 * 1024;

/// The running servers; dropping them stops them and closes every
/// connection (which ends `tail -f` streams too).
pub struct HttpServers {
    served: Vec<Arc<Served>>,
    accept_threads: Vec<JoinHandle<()>>,
}

/// One listening socket and its open connections.
struct Served {
    bound: BoundServer,
    ctx: Context,
    /// Open connections past which a new one gets 503.
    cap: usize,
    closing: AtomicBool,
    connections: Mutex<Connections>,
}

#[derive(Default)]
struct Connections {
    next_id: u64,
    open: HashMap<u64, Arc<Stream>>,
}

struct Context {
    dispatcher: Dispatcher,
    auth: Option<Credentials>,
}

/// An accepted connection.
enum Stream {
    Tcp(TcpStream),
    Unix(UnixStream),
}

impl Stream {
    fn shutdown(&self, how: Shutdown) {
        let _ = match self {
            Stream::Tcp(s) => s.shutdown(how),
            Stream::Unix(s) => s.shutdown(how),
        };
    }

    fn set_read_timeout(&self, timeout: Duration) -> std::io::Result<()> {
        match self {
            Stream::Tcp(s) => s.set_read_timeout(Some(timeout)),
            Stream::Unix(s) => s.set_read_timeout(Some(timeout)),
        }
    }

    fn fd(&self) -> BorrowedFd<'_> {
        match self {
            Stream::Tcp(s) => s.as_fd(),
            Stream::Unix(s) => s.as_fd(),
        }
    }
}

impl Read for &Stream {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Stream::Tcp(s) => (&*s).read(buf),
            Stream::Unix(s) => (&*s).read(buf),
        }
    }
}

impl Write for &Stream {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Stream::Tcp(s) => (&*s).write(buf),
            Stream::Unix(s) => (&*s).write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The writing half of a connection, as handlers see it.
type Out<'a> = BufWriter<&'a Stream>;

impl HttpServers {
    /// Starts serving on the sockets bound at start-up, for the loop
    /// behind `handle`.
    pub fn start(bound: Vec<BoundServer>, dispatcher: Dispatcher) -> std::io::Result<HttpServers> {
        let mut served = Vec::new();
        let mut accept_threads = Vec::new();
        let open_files = nix::sys::resource::getrlimit(nix::sys::resource::Resource::RLIMIT_NOFILE)
            .map_or(1024, |(soft, _)| soft);
        let cap = connection_cap(open_files, bound.len());
        for b in bound {
            let auth = b.config.username.as_ref().map(|u| Credentials {
                username: u.clone(),
                password: b.config.password.clone().unwrap_or_default(),
            });
            let server = Arc::new(Served {
                bound: b,
                ctx: Context {
                    dispatcher: dispatcher.clone(),
                    auth,
                },
                cap,
                closing: AtomicBool::new(false),
                connections: Mutex::new(Connections::default()),
            });
            let me = Arc::clone(&server);
            accept_threads.push(
                std::thread::Builder::new()
                    .name("http accept".into())
                    .stack_size(64 * 1024)
                    .spawn(move || me.accept_loop())?,
            );
            served.push(server);
        }
        Ok(HttpServers {
            served,
            accept_threads,
        })
    }

    /// The server configs these sockets were made from.
    pub fn configs(&self) -> Vec<ServerConfig> {
        self.served.iter().map(|s| s.bound.config.clone()).collect()
    }

    /// Whether every server can still be reached at its address (a unix
    /// socket's file may have been removed or replaced under us).
    pub fn reachable(&self) -> bool {
        self.served.iter().all(|s| s.bound.socket_file_intact())
    }
}

impl Drop for HttpServers {
    fn drop(&mut self) {
        for s in &self.served {
            s.closing.store(true, Ordering::SeqCst);
            // accept() returns at once on a shut-down listening socket;
            // the unix socket's file goes now, not when the last
            // connection thread lets go of the server.
            s.bound.close();
            // Reads see end-of-file (idle keep-alive connections end, and
            // streams see the hang-up), while an answer being written
            // still goes out: supervisor.shutdown's own reply, for one.
            s.each_connection(|c| c.shutdown(Shutdown::Read));
        }
        let deadline = Instant::now() + DRAIN_AT_CLOSE;
        while Instant::now() < deadline && self.served.iter().any(|s| s.open_connections() > 0) {
            std::thread::sleep(Duration::from_millis(5));
        }
        for s in &self.served {
            // A client that does not read its answer holds no one up.
            s.each_connection(|c| c.shutdown(Shutdown::Both));
        }
        for t in self.accept_threads.drain(..) {
            let _ = t.join();
        }
    }
}

/// How long closing the servers waits for answers in flight.
const DRAIN_AT_CLOSE: Duration = Duration::from_secs(1);

impl Served {
    fn each_connection(&self, f: impl Fn(&Stream)) {
        if let Ok(conns) = self.connections.lock() {
            conns.open.values().for_each(|c| f(c));
        }
    }

    fn open_connections(&self) -> usize {
        self.connections.lock().map(|c| c.open.len()).unwrap_or(0)
    }

    fn accept_loop(self: Arc<Served>) {
        // An error report at most every 10 s: out of descriptors, accept
        // fails for as long as every connection stays.
        let mut reported: Option<Instant> = None;
        loop {
            let accepted = match &self.bound.listener {
                Listener::Tcp(l) => l.accept().map(|(s, _)| {
                    let _ = s.set_nodelay(true);
                    Stream::Tcp(s)
                }),
                Listener::Unix(l, _, _) => l.accept().map(|(s, _)| Stream::Unix(s)),
            };
            if self.closing.load(Ordering::SeqCst) {
                break;
            }
            match accepted {
                Ok(stream) => self.start_connection(stream),
                Err(e) => {
                    if matches!(
                        e.raw_os_error(),
                        Some(libc::EINTR | libc::ECONNABORTED | libc::EPROTO)
                    ) {
                        continue;
                    }
                    if reported.is_none_or(|t| t.elapsed() >= Duration::from_secs(10)) {
                        reported = Some(Instant::now());
                        activity::error(format!(
                            "HTTP server {} cannot accept a connection: {}",
                            self.bound.config.section, e
                        ));
                    }
                    // EMFILE and the like last until connections close:
                    // look again shortly rather than spin.
                    std::thread::sleep(Duration::from_millis(100));
                }
            }
        }
    }

    fn start_connection(self: &Arc<Served>, stream: Stream) {
        let stream = Arc::new(stream);
        let id = {
            let Ok(mut conns) = self.connections.lock() else {
                return;
            };
            if conns.open.len() >= self.cap {
                drop(conns);
                let mut out = BufWriter::new(&*stream);
                let _ = send(&mut out, Version::Http11, false, 503, &[], b"");
                return;
            }
            conns.next_id += 1;
            let id = conns.next_id;
            conns.open.insert(id, Arc::clone(&stream));
            id
        };
        let me = Arc::clone(self);
        let conn = Arc::clone(&stream);
        let spawned = std::thread::Builder::new()
            .name("http".into())
            .stack_size(CONNECTION_STACK)
            .spawn(move || {
                me.serve(&conn);
                drop(conn);
                if let Ok(mut conns) = me.connections.lock() {
                    conns.open.remove(&id);
                }
            });
        if let Err(e) = spawned {
            if let Ok(mut conns) = self.connections.lock() {
                conns.open.remove(&id);
            }
            activity::error(format!("cannot start an HTTP connection thread: {}", e));
            let mut out = BufWriter::new(&*stream);
            let _ = send(&mut out, Version::Http11, false, 503, &[], b"");
        }
    }

    /// Requests on one connection until the client closes it, a request is
    /// refused, the answer closes it, or the server stops.
    fn serve(&self, stream: &Stream) {
        let mut reader = BufReader::with_capacity(8 * 1024, stream);
        let mut out: Out = BufWriter::with_capacity(16 * 1024, stream);
        loop {
            if self.closing.load(Ordering::SeqCst) {
                return;
            }
            match wire::read_request(&mut reader, &mut out, MAX_BODY) {
                Incoming::Closed => return,
                Incoming::Reject(status) => {
                    // Its status, a short page and `Connection: close`;
                    // then the connection ends (what follows is not
                    // trusted to be a request).
                    let _ = error_page(&mut out, Version::Http11, false, status);
                    drop(out);
                    linger(stream);
                    return;
                }
                Incoming::Request(req) => {
                    // No route serves HEAD (no client of supervisord sends
                    // it): its answer carries a body, so the connection
                    // cannot be trusted for another request after it.
                    let keep = req.keep_alive() && req.method != "HEAD";
                    let still_open = handle(&self.ctx, req, &mut out, keep, stream);
                    if !keep || !still_open {
                        return;
                    }
                }
            }
        }
    }
}

/// How long, and for how many bytes, a refused client is read from after
/// its answer.
const LINGER: Duration = Duration::from_secs(2);
const LINGER_BYTES: usize = 1024 * 1024;

/// Ends a refused connection gently (RFC 9112 9.6): our side is shut
/// first (the client sees the answer, then end-of-file), and what the
/// client still sends (the body of a refused request) is read and
/// dropped for a moment. Closing with those bytes unread would reset the
/// connection, and a reset can destroy the answer before the client
/// reads it.
fn linger(stream: &Stream) {
    stream.shutdown(Shutdown::Write);
    let deadline = Instant::now() + LINGER;
    let mut scratch = [0u8; 8 * 1024];
    let mut drained = 0;
    while drained < LINGER_BYTES {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() || stream.set_read_timeout(left).is_err() {
            return;
        }
        match (&mut &*stream).read(&mut scratch) {
            Ok(0) => return,
            Ok(n) => drained += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => return,
        }
    }
}

/// Writes a whole response: Content-Length always (Python sends it), and
/// for an HTTP/1.0 client that asked for keep-alive, Python's
/// `Connection: Keep-Alive`.
fn send(
    out: &mut Out,
    version: Version,
    keep: bool,
    status: u16,
    headers: &[(&str, &str)],
    body: &[u8],
) -> std::io::Result<()> {
    let length = body.len().to_string();
    let mut all: Vec<(&str, &str)> = headers.to_vec();
    all.push(("Content-Length", &length));
    match (version, keep) {
        (Version::Http10, true) => all.push(("Connection", "Keep-Alive")),
        (Version::Http11, false) => all.push(("Connection", "close")),
        _ => {}
    }
    wire::write_head(out, version, status, &all)?;
    out.write_all(body)?;
    out.flush()
}

/// Python's (medusa's) error page, byte for byte: clients that report
/// the body of an error (a node.js XML-RPC client, for one) show the
/// same text for both daemons.
fn error_body(status: u16) -> String {
    format!(
        "<head>\r\n<title>Error response</title>\r\n</head>\r\n<body>\r\n<h1>Error response</h1>\r\n<p>Error code {}.\r\n<p>Message: {}.\r\n</body>\r\n",
        status,
        wire::reason(status)
    )
}

fn error_page(out: &mut Out, version: Version, keep: bool, status: u16) -> std::io::Result<()> {
    let body = error_body(status);
    send(
        out,
        version,
        keep,
        status,
        &[("Content-Type", "text/html")],
        body.as_bytes(),
    )
}

/// Answers one request. False when the connection cannot carry another
/// (a write failed, or a stream ended it).
fn handle(ctx: &Context, req: Request, out: &mut Out, keep: bool, stream: &Stream) -> bool {
    let version = req.version;
    let url = req.url.clone();
    let path = url.split(['?', '#']).next().unwrap_or("");
    if let Some(creds) = &ctx.auth {
        if !creds.accepts(req.header("Authorization")) {
            // Python's answer: its error page, and `Connection: close`
            // (we also close, as the header says).
            let mut headers = vec![
                ("WWW-Authenticate", "Basic realm=\"default\""),
                ("Content-Type", "text/html"),
            ];
            if version == Version::Http10 {
                // (send() says it for HTTP/1.1 connections it closes.)
                headers.push(("Connection", "close"));
            }
            let _ = send(
                out,
                version,
                false,
                401,
                &headers,
                error_body(401).as_bytes(),
            );
            return false;
        }
    }
    let sent = if path.starts_with("/RPC2") {
        if req.method == "POST" {
            if let Some(reason) = cross_site::refusal(&req) {
                return refuse_cross_site(&req, &reason, out, keep).is_ok();
            }
        }
        return xmlrpc_request(ctx, &req, out, keep);
    } else if path.starts_with("/logtail") {
        return logtail_request(ctx, &req, path, out, stream);
    } else if path.starts_with("/mainlogtail") {
        if req.method != "GET" {
            error_page(out, version, keep, 400)
        } else {
            return stream_file(&req, activity::path(), false, out, stream);
        }
    } else if path == "/metrics" {
        metrics_request(ctx, &req, out, keep)
    } else if probes::owns(path) {
        if req.method != "GET" {
            error_page(out, version, keep, 405)
        } else {
            let (status, body) = probes::answer(&ctx.dispatcher, path);
            send(
                out,
                version,
                keep,
                status,
                &[("Content-Type", "application/json")],
                body.as_bytes(),
            )
        }
    } else if rest::owns(path) {
        if matches!(req.method.as_str(), "POST" | "PUT") {
            if let Some(reason) = cross_site::refusal(&req) {
                return refuse_cross_site(&req, &reason, out, keep).is_ok();
            }
        }
        return rest::serve(&ctx.dispatcher, &req, out, keep);
    } else {
        ui_request(ctx, &req, out, keep)
    };
    sent.is_ok()
}

/// 403 for a state-changing request from another site (see cross_site.rs).
fn refuse_cross_site(
    req: &Request,
    reason: &str,
    out: &mut Out,
    keep: bool,
) -> std::io::Result<()> {
    cross_site::log_refusal(req, reason);
    let body = format!("Forbidden: cross-site request refused: {}\n", reason);
    send(
        out,
        req.version,
        keep,
        403,
        &[("Content-Type", "text/plain; charset=utf-8")],
        body.as_bytes(),
    )
}

/// The Prometheus page (the Go supervisord's extension; see metrics.rs).
fn metrics_request(ctx: &Context, req: &Request, out: &mut Out, keep: bool) -> std::io::Result<()> {
    if req.method != "GET" {
        return error_page(out, req.version, keep, 404);
    }
    let programs: Vec<metrics::ProgramSample> =
        match ctx.dispatcher.standard("getAllProcessInfo", Vec::new()) {
            Ok(xmlrpc::Value::Array(infos)) => infos
                .iter()
                .filter_map(metrics::ProgramSample::from_info)
                .collect(),
            // Stopping or restarting: no programs to report.
            _ => Vec::new(),
        };
    let page = metrics::render(&programs, &metrics::SelfSample::read());
    send(
        out,
        req.version,
        keep,
        200,
        &[("Content-Type", metrics::CONTENT_TYPE)],
        page.as_bytes(),
    )
}

/// The web page routes; anything else is 404, as Python's default handler
/// answers for files it does not have.
fn ui_request(ctx: &Context, req: &Request, out: &mut Out, keep: bool) -> std::io::Result<()> {
    if !matches!(req.method.as_str(), "GET" | "POST") {
        return error_page(out, req.version, keep, 404);
    }
    let url = req.url.as_str();
    let (path, query) = url.split_once('?').unwrap_or((url, ""));
    let query = query.split('#').next().unwrap_or("");
    let body = if req.method == "POST" {
        String::from_utf8_lossy(&req.body)
    } else {
        std::borrow::Cow::Borrowed("")
    };
    let host = req
        .header("Host")
        .map(str::trim)
        .filter(|h| !h.is_empty())
        .map(|h| h.strip_suffix(":80").unwrap_or(h).to_string())
        .unwrap_or_else(|| "localhost".to_string());
    let ui = web::UiRequest {
        path,
        query,
        form_body: &body,
        server_url: format!("http://{}", host),
    };
    if web::acts(&ui) {
        if let Some(reason) = cross_site::refusal(req) {
            return refuse_cross_site(req, &reason, out, keep);
        }
    }
    match web::handle(&ctx.dispatcher, &ui) {
        Some(web::Page::Html(html)) => send(
            out,
            req.version,
            keep,
            200,
            &[
                ("Content-Type", "text/html;charset=utf-8"),
                ("Pragma", "no-cache"),
                ("Cache-Control", "no-cache"),
                ("Expires", "Thu, 01 Jan 1970 00:00:00 GMT"),
            ],
            html.as_bytes(),
        ),
        Some(web::Page::Redirect(location)) => {
            // The location is built by web.rs from quoted names; a line
            // break in it would split the header, so none passes.
            let location = location.replace(['\r', '\n'], "");
            send(
                out,
                req.version,
                keep,
                301,
                &[
                    ("Location", &location),
                    ("Content-Type", "text/html;charset=utf-8"),
                ],
                b"",
            )
        }
        None => error_page(out, req.version, keep, 404),
    }
}

thread_local! {
    /// The connection thread's reply buffer, reused from call to call.
    static REPLY: std::cell::Cell<String> = const { std::cell::Cell::new(String::new()) };
}

/// The largest reply buffer a connection thread keeps between calls.
const KEPT_REPLY_CAPACITY: usize = 1 << 20;

/// Answers a POST to /RPC2. False when the connection cannot carry
/// another request.
fn xmlrpc_request(ctx: &Context, req: &Request, out: &mut Out, keep: bool) -> bool {
    if req.method != "POST" {
        return error_page(out, req.version, keep, 400).is_ok();
    }
    let body = &req.body;
    let call = match xmlrpc::parse_call(body) {
        Ok(call) => call,
        Err(e) => {
            activity::error(format!(
                "XML-RPC request data {} is invalid: {}",
                request_excerpt(body),
                if e.message().contains("methodName") {
                    "no method name"
                } else {
                    "unmarshallable"
                }
            ));
            return error_page(out, req.version, keep, 400).is_ok();
        }
    };
    if call.method.is_empty() {
        activity::error(format!(
            "XML-RPC request data {} is invalid: no method name",
            request_excerpt(body)
        ));
        return error_page(out, req.version, keep, 400).is_ok();
    }
    activity::trace(format!("XML-RPC method called: {}()", call.method));
    let method = call.method;
    REPLY.with(|cell| {
        let mut reply = cell.take();
        reply.clear();
        let answer = if rpc::is_multicall(&method) {
            multicall_answer(ctx, req, out, keep, call.params, reply)
        } else {
            let result = ctx.dispatcher.call(&method, call.params);
            match &result {
                Ok(value) => xmlrpc::write_response_into(&mut reply, value),
                Err(fault) => xmlrpc::write_fault_into(&mut reply, fault.code, &fault.string),
            }
            (result.map(drop), Finished::Whole(reply))
        };
        let (result, finished) = answer;
        match result {
            Ok(()) => {
                activity::trace(format!("XML-RPC method {}() returned successfully", method));
            }
            Err(fault) => activity::trace(format!(
                "XML-RPC method {}() returned fault: [{}] {}",
                method, fault.code, fault.string
            )),
        }
        match finished {
            Finished::Whole(reply) => {
                let sent = send(
                    out,
                    req.version,
                    keep,
                    200,
                    &[("Content-Type", "text/xml")],
                    reply.as_bytes(),
                );
                // Kept for the next reply, unless one huge reply (a large
                // log read) would pin its memory for the life of the thread.
                if reply.capacity() <= KEPT_REPLY_CAPACITY {
                    cell.set(reply);
                }
                sent.is_ok()
            }
            Finished::Streamed(still_open) => still_open,
        }
    })
}

/// system.multicall, its results written as the calls end: an answer past
/// [`KEPT_REPLY_CAPACITY`] goes out in parts (see spill.rs), so that its
/// size is not what the daemon holds. A smaller one is the same bytes, sent
/// the same way, as any other answer.
fn multicall_answer(
    ctx: &Context,
    req: &Request,
    out: &mut Out,
    keep: bool,
    params: Vec<xmlrpc::Value>,
    reply: String,
) -> (Result<(), rpc::xmlrpc::Fault>, Finished) {
    let mut body = SpillingBody::new(out, req.version, keep, "text/xml", KEPT_REPLY_CAPACITY);
    *body.text() = reply;
    body.text().push_str(xmlrpc::ARRAY_RESPONSE_HEAD);
    let ran = ctx.dispatcher.multicall_each(params, &mut |result| {
        xmlrpc::write_value_into(body.text(), &result);
        body.spill();
    });
    match ran {
        Ok(()) => {
            body.text().push_str(xmlrpc::ARRAY_RESPONSE_TAIL);
            (Ok(()), body.finish())
        }
        // Before any result, so nothing has been sent: the fault answers.
        Err(fault) => {
            let mut text = match body.finish() {
                Finished::Whole(text) => text,
                Finished::Streamed(_) => String::new(),
            };
            text.clear();
            xmlrpc::write_fault_into(&mut text, fault.code, &fault.string);
            (Err(fault), Finished::Whole(text))
        }
    }
}

/// The request body as Python's `%r` shows it, cut short: the log is no
/// place for megabytes of a bad request.
fn request_excerpt(body: &[u8]) -> String {
    const KEEP: usize = 512;
    let shown = &body[..body.len().min(KEEP)];
    let mut text = crate::pycompat::repr::py_repr_bytes(shown);
    if body.len() > KEEP {
        text.push_str(&format!("... ({} bytes)", body.len()));
    }
    text
}

fn logtail_request(
    ctx: &Context,
    req: &Request,
    path: &str,
    out: &mut Out,
    stream: &Stream,
) -> bool {
    let keep = req.keep_alive();
    if req.method != "GET" {
        return error_page(out, req.version, keep, 400).is_ok();
    }
    let path = crate::pycompat::url::unquote(path);
    let rest = path.trim_start_matches('/');
    // "logtail/<name>[/<channel>]"
    let Some((_, spec_and_channel)) = rest.split_once('/') else {
        return error_page(out, req.version, keep, 404).is_ok();
    };
    let (spec, channel) = spec_and_channel
        .split_once('/')
        .unwrap_or((spec_and_channel, "stdout"));
    match ctx.dispatcher.process_log_path(spec, channel) {
        Some(file) => stream_file(req, Some(file), true, out, stream),
        None => error_page(out, req.version, keep, 404).is_ok(),
    }
}

/// Streams a log like `tail -f` on this connection: the last 1024 bytes,
/// then whatever is appended, chunked for HTTP/1.1, until the client goes
/// away or the server stops (both hang up the socket, which the follower
/// watches). The connection is not used again after a stream; a missing
/// file is a 404 and keeps it.
fn stream_file(
    req: &Request,
    file: Option<PathBuf>,
    accel_header: bool,
    out: &mut Out,
    stream: &Stream,
) -> bool {
    let Some(file) = file.filter(|f| f.exists()) else {
        return error_page(out, req.version, req.keep_alive(), 404).is_ok();
    };
    let mtime = std::fs::metadata(&file)
        .and_then(|m| m.modified())
        .unwrap_or_else(|_| std::time::SystemTime::now());
    let chunked = req.version >= Version::Http11;
    let last_modified = httpdate::fmt_http_date(mtime);
    let mut headers = vec![
        ("Content-Type", "text/plain;charset=utf-8"),
        ("Last-Modified", last_modified.as_str()),
    ];
    // Python sends this (for nginx) on /logtail but not on /mainlogtail.
    if accel_header {
        headers.push(("X-Accel-Buffering", "no"));
    }
    if chunked {
        headers.push(("Transfer-Encoding", "chunked"));
    }
    headers.push(("Connection", "close"));
    if wire::write_head(out, req.version, 200, &headers)
        .and_then(|_| out.flush())
        .is_err()
    {
        return false;
    }
    let mut raw: &Stream = stream;
    let result = if chunked {
        let mut body = logtail::ChunkedWriter::new(&mut raw);
        logtail::follow(&file, 1024, &mut body, Some(stream.fd()))
    } else {
        logtail::follow(&file, 1024, &mut raw, Some(stream.fd()))
    };
    if let Err(e) = result {
        activity::debug(format!("tail of {} ended: {}", file.display(), e));
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connections_take_at_most_half_the_descriptors() {
        assert_eq!(connection_cap(1024, 1), 512);
        assert_eq!(connection_cap(1024, 2), 256);
        assert_eq!(connection_cap(20_000, 1), MAX_CONNECTIONS);
        assert_eq!(connection_cap(u64::MAX, 2), MAX_CONNECTIONS);
        assert_eq!(connection_cap(1, 3), 1);
        assert_eq!(connection_cap(1024, 0), 512);
    }
}
