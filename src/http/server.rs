//! The HTTP servers: one tiny_http server per configured socket, each with
//! a small pool of handler threads that grows while every handler is busy
//! (a `wait=true` call or a slow client holds one) up to a cap. Handlers
//! talk to the supervisor loop only through the RPC dispatcher's messages.
//!
//! Routes, in Python's order: `/RPC2...` (XML-RPC), `/logtail/...`,
//! `/mainlogtail`, the web UI pages, then 404. Basic auth guards them all
//! when the server has a username.

use super::auth::Credentials;
use super::listen::{BoundServer, Listener};
use super::logtail;
use super::web;
use crate::config::ServerConfig;
use crate::logs::activity;
use crate::rpc::xmlrpc;
use crate::rpc::Dispatcher;
use crate::supervisor::LoopHandle;
use std::io::{Read, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::thread::JoinHandle;
use std::time::Duration;
use tiny_http::{Header, Method, Request, Response, StatusCode};

/// Request bodies larger than this are refused with 413 (Python has no
/// limit; an XML-RPC call is a few KiB, and sendProcessStdin data this
/// large belongs in a file).
pub const MAX_BODY: usize = 8 * 1024 * 1024;

/// Handler threads per server: the most that can be busy at once. More
/// concurrent requests wait in tiny_http's queue.
const MAX_WORKERS: usize = 64;

/// Handler threads started with each server.
const INITIAL_WORKERS: usize = 2;

/// Stack of a handler thread: request decoding is bounded in depth (64
/// nested values), which an unoptimised build needs most of this for;
/// only the pages touched cost memory.
const WORKER_STACK: usize = 1024 * 1024;

/// The running servers; dropping them stops them.
pub struct HttpServers {
    pools: Vec<Arc<Pool>>,
    dispatcher: Dispatcher,
    /// Closing the write end ends every `tail -f` stream.
    _streams_cancel: OwnedFd,
}

struct Pool {
    bound: BoundServer,
    server: RwLock<Arc<tiny_http::Server>>,
    ctx: Context,
    idle: AtomicUsize,
    workers: AtomicUsize,
    closing: AtomicBool,
    handles: Mutex<Vec<JoinHandle<()>>>,
}

struct Context {
    dispatcher: Dispatcher,
    auth: Option<Credentials>,
    /// Read end of the pipe whose closing cancels `tail -f` streams.
    streams_cancel: Arc<OwnedFd>,
}

impl HttpServers {
    /// Starts serving on the sockets bound at start-up, for the loop
    /// behind `handle`.
    pub fn start(
        bound: Vec<BoundServer>,
        handle: LoopHandle,
        namespaces: Vec<String>,
    ) -> std::io::Result<HttpServers> {
        let dispatcher = Dispatcher::new(handle, namespaces);
        let (cancel_r, cancel_w) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)?;
        let cancel_r = Arc::new(cancel_r);
        let mut pools = Vec::new();
        for b in bound {
            let auth = b.config.username.as_ref().map(|u| Credentials {
                username: u.clone(),
                password: b.config.password.clone().unwrap_or_default(),
            });
            let server = tiny_server(&b.listener)?;
            let pool = Arc::new(Pool {
                bound: b,
                server: RwLock::new(Arc::new(server)),
                ctx: Context {
                    dispatcher: dispatcher.clone(),
                    auth,
                    streams_cancel: Arc::clone(&cancel_r),
                },
                idle: AtomicUsize::new(0),
                workers: AtomicUsize::new(0),
                closing: AtomicBool::new(false),
                handles: Mutex::new(Vec::new()),
            });
            for _ in 0..INITIAL_WORKERS {
                Pool::grow(&pool);
            }
            pools.push(pool);
        }
        Ok(HttpServers {
            pools,
            dispatcher,
            _streams_cancel: cancel_w,
        })
    }

    /// The server configs these sockets were made from.
    pub fn configs(&self) -> Vec<ServerConfig> {
        self.pools.iter().map(|p| p.bound.config.clone()).collect()
    }

    /// Serves the next life of the loop (after a restart).
    pub fn attach(&self, handle: LoopHandle, namespaces: Vec<String>) {
        self.dispatcher.attach(handle, namespaces);
    }
}

impl Drop for HttpServers {
    fn drop(&mut self) {
        for pool in &self.pools {
            pool.closing.store(true, Ordering::SeqCst);
            // Wakes tiny_http's accept thread, which then ends.
            pool.bound.shutdown();
            if let Ok(server) = pool.server.read() {
                for _ in 0..pool.workers.load(Ordering::SeqCst) + 1 {
                    server.unblock();
                }
            }
        }
        for pool in &self.pools {
            let handles = pool
                .handles
                .lock()
                .map(|mut h| std::mem::take(&mut *h))
                .unwrap_or_default();
            for h in handles {
                let _ = h.join();
            }
        }
    }
}

/// A tiny_http server on a duplicate of our listening socket (the
/// original stays with us, to shut down and to rebuild from).
fn tiny_server(listener: &Listener) -> std::io::Result<tiny_http::Server> {
    let made = match listener {
        Listener::Tcp(l) => tiny_http::Server::from_listener(l.try_clone()?, None),
        Listener::Unix(l, _) => tiny_http::Server::from_listener(l.try_clone()?, None),
    };
    made.map_err(|e| std::io::Error::other(e.to_string()))
}

impl Pool {
    /// Adds a handler thread unless the cap is reached.
    fn grow(pool: &Arc<Pool>) {
        if pool.workers.fetch_add(1, Ordering::SeqCst) >= MAX_WORKERS {
            pool.workers.fetch_sub(1, Ordering::SeqCst);
            return;
        }
        let me = Arc::clone(pool);
        let spawned = std::thread::Builder::new()
            .name("http".into())
            .stack_size(WORKER_STACK)
            .spawn(move || me.work());
        match spawned {
            Ok(h) => {
                if let Ok(mut handles) = pool.handles.lock() {
                    handles.retain(|h| !h.is_finished());
                    handles.push(h);
                }
            }
            Err(e) => {
                pool.workers.fetch_sub(1, Ordering::SeqCst);
                activity::error(format!("cannot start an HTTP handler thread: {}", e));
            }
        }
    }

    fn work(self: Arc<Pool>) {
        loop {
            if self.closing.load(Ordering::SeqCst) {
                break;
            }
            let server = match self.server.read() {
                Ok(s) => Arc::clone(&s),
                Err(_) => break,
            };
            self.idle.fetch_add(1, Ordering::SeqCst);
            let got = server.recv();
            let idle_left = self.idle.fetch_sub(1, Ordering::SeqCst) - 1;
            if self.closing.load(Ordering::SeqCst) {
                break;
            }
            match got {
                Ok(request) => {
                    if idle_left == 0 {
                        Pool::grow(&self);
                    }
                    handle(&self.ctx, request);
                }
                Err(e) => self.rebuild(&server, e),
            }
        }
        self.workers.fetch_sub(1, Ordering::SeqCst);
    }

    /// tiny_http's accept thread stops at the first accept error (EMFILE
    /// when out of descriptors, for one): start a new server on the same
    /// socket, after a pause so a lasting error does not spin.
    fn rebuild(&self, failed: &Arc<tiny_http::Server>, err: std::io::Error) {
        let Ok(mut current) = self.server.write() else {
            return;
        };
        if !Arc::ptr_eq(&current, failed) {
            return; // another handler rebuilt it already
        }
        activity::error(format!(
            "HTTP server {} stopped accepting ({}); restarting it",
            self.bound.config.section, err
        ));
        std::thread::sleep(Duration::from_millis(100));
        match tiny_server(&self.bound.listener) {
            Ok(fresh) => {
                let old = std::mem::replace(&mut *current, Arc::new(fresh));
                // The other handlers wait on the old server: send them over.
                for _ in 0..self.workers.load(Ordering::SeqCst) {
                    old.unblock();
                }
            }
            Err(e) => activity::error(format!(
                "cannot restart HTTP server {}: {}",
                self.bound.config.section, e
            )),
        }
    }
}

fn header(value: &str, name: &str) -> Header {
    // Only constant, valid names and values are passed in.
    Header::from_bytes(name.as_bytes(), value.as_bytes()).unwrap_or_else(|_| {
        Header::from_bytes(&b"X-Invalid"[..], &b"1"[..]).expect("static header")
    })
}

fn request_header<'a>(req: &'a Request, name: &str) -> Option<&'a str> {
    req.headers()
        .iter()
        .find(|h| h.field.as_str().as_str().eq_ignore_ascii_case(name))
        .map(|h| h.value.as_str())
}

thread_local! {
    /// The handler thread's reply buffer, reused from call to call.
    static REPLY: std::cell::Cell<String> = const { std::cell::Cell::new(String::new()) };
}

/// The largest reply buffer a handler thread keeps between calls.
const KEPT_REPLY_CAPACITY: usize = 1 << 20;

fn respond(req: Request, status: u16, content_type: &str, body: &[u8]) {
    // An HTTP/1.0 client asking for keep-alive is told it got it, as
    // Python answers. tiny_http keeps such a connection open but will not
    // let us set Connection, so it rides in the value of a header we
    // control (a constant, nothing from the client).
    let keep_alive_10 = req.http_version() == &tiny_http::HTTPVersion(1, 0)
        && request_header(&req, "Connection")
            .is_some_and(|c| c.to_ascii_lowercase().contains("keep-alive"));
    let content_type = if keep_alive_10 {
        format!("{}\r\nConnection: Keep-Alive", content_type)
    } else {
        content_type.to_string()
    };
    // Always a Content-Length, as Python sends (tiny_http would switch to
    // chunked from 32 KiB, e.g. getAllProcessInfo with many programs).
    let response = Response::new(StatusCode(200), Vec::new(), body, Some(body.len()), None)
        .with_chunked_threshold(usize::MAX)
        .with_status_code(StatusCode(status))
        .with_header(header(&content_type, "Content-Type"));
    let _ = req.respond(response);
}

fn error_page(req: Request, status: u16) {
    let reason = StatusCode(status).default_reason_phrase();
    let body = format!(
        "<html><head><title>Error response</title></head><body><h1>Error response</h1><p>Error code {status}.</p><p>Message: {reason}.</p></body></html>\n"
    );
    respond(req, status, "text/html", body.as_bytes());
}

fn handle(ctx: &Context, req: Request) {
    let url = req.url().to_string();
    let path = url.split(['?', '#']).next().unwrap_or("");
    if let Some(creds) = &ctx.auth {
        if !creds.accepts(request_header(&req, "Authorization")) {
            let response = Response::from_string("Unauthorized\n")
                .with_status_code(StatusCode(401))
                .with_header(header("Basic realm=\"default\"", "WWW-Authenticate"));
            let _ = req.respond(response);
            return;
        }
    }
    if path.starts_with("/RPC2") {
        xmlrpc_request(ctx, req);
    } else if path.starts_with("/logtail") {
        logtail_request(ctx, req, path);
    } else if path.starts_with("/mainlogtail") {
        if *req.method() != Method::Get {
            return error_page(req, 400);
        }
        let file = activity::path();
        stream_file(ctx, req, file, false);
    } else {
        ui_request(ctx, req, &url);
    }
}

/// The web page routes; anything else is 404, as Python's default handler
/// answers for files it does not have.
fn ui_request(ctx: &Context, mut req: Request, url: &str) {
    if !matches!(req.method(), Method::Get | Method::Post) {
        return error_page(req, 404);
    }
    let (path, query) = url.split_once('?').unwrap_or((url, ""));
    let query = query.split('#').next().unwrap_or("");
    let mut body = Vec::new();
    if *req.method() == Method::Post {
        if req.body_length().is_some_and(|n| n > MAX_BODY) {
            return error_page(req, 413);
        }
        if req
            .as_reader()
            .take(MAX_BODY as u64)
            .read_to_end(&mut body)
            .is_err()
        {
            return error_page(req, 400);
        }
    }
    let body = String::from_utf8_lossy(&body);
    let host = request_header(&req, "Host")
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
    match web::handle(&ctx.dispatcher, &ui) {
        Some(web::Page::Html(html)) => {
            let response = Response::from_data(html.into_bytes())
                .with_header(header("text/html;charset=utf-8", "Content-Type"))
                .with_header(header("no-cache", "Pragma"))
                .with_header(header("no-cache", "Cache-Control"))
                .with_header(header("Thu, 01 Jan 1970 00:00:00 GMT", "Expires"));
            let _ = req.respond(response);
        }
        Some(web::Page::Redirect(location)) => {
            let response = Response::empty(StatusCode(301))
                .with_header(header(&location, "Location"))
                .with_header(header("text/html;charset=utf-8", "Content-Type"));
            let _ = req.respond(response);
        }
        None => error_page(req, 404),
    }
}

fn xmlrpc_request(ctx: &Context, mut req: Request) {
    if *req.method() != Method::Post {
        return error_page(req, 400);
    }
    if req.body_length().is_some_and(|n| n > MAX_BODY) {
        return error_page(req, 413);
    }
    let mut body = Vec::new();
    let read = req
        .as_reader()
        .take(MAX_BODY as u64 + 1)
        .read_to_end(&mut body);
    if read.is_err() {
        return error_page(req, 400);
    }
    if body.len() > MAX_BODY {
        return error_page(req, 413);
    }
    let call = match xmlrpc::parse_call(&body) {
        Ok(call) => call,
        Err(e) => {
            activity::error(format!(
                "XML-RPC request data {} is invalid: {}",
                request_excerpt(&body),
                if e.message().contains("methodName") {
                    "no method name"
                } else {
                    "unmarshallable"
                }
            ));
            return error_page(req, 400);
        }
    };
    if call.method.is_empty() {
        activity::error(format!(
            "XML-RPC request data {} is invalid: no method name",
            request_excerpt(&body)
        ));
        return error_page(req, 400);
    }
    activity::trace(format!("XML-RPC method called: {}()", call.method));
    let method = call.method.clone();
    let result = ctx.dispatcher.call(&call.method, call.params);
    REPLY.with(|cell| {
        let mut reply = cell.take();
        reply.clear();
        match result {
            Ok(value) => {
                activity::trace(format!("XML-RPC method {}() returned successfully", method));
                xmlrpc::write_response_into(&mut reply, &value);
            }
            Err(fault) => {
                activity::trace(format!(
                    "XML-RPC method {}() returned fault: [{}] {}",
                    method, fault.code, fault.string
                ));
                xmlrpc::write_fault_into(&mut reply, fault.code, &fault.string);
            }
        }
        respond(req, 200, "text/xml", reply.as_bytes());
        // Kept for the next reply, unless one huge reply (a large log
        // read) would pin its memory for the life of the thread.
        if reply.capacity() <= KEPT_REPLY_CAPACITY {
            cell.set(reply);
        }
    });
}

/// The request body as Python's `%r` shows it, cut short: the log is no
/// place for megabytes of a bad request.
fn request_excerpt(body: &[u8]) -> String {
    const KEEP: usize = 512;
    let shown = &body[..body.len().min(KEEP)];
    let mut text = crate::logs::pyrepr::py_repr_bytes(shown);
    if body.len() > KEEP {
        text.push_str(&format!("... ({} bytes)", body.len()));
    }
    text
}

/// Python's `%xx` unquoting of a URL path.
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
            if let Some(v) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn logtail_request(ctx: &Context, req: Request, path: &str) {
    if *req.method() != Method::Get {
        return error_page(req, 400);
    }
    let path = percent_decode(path);
    let rest = path.trim_start_matches('/');
    // "logtail/<name>[/<channel>]"
    let Some((_, spec_and_channel)) = rest.split_once('/') else {
        return error_page(req, 404);
    };
    let (spec, channel) = spec_and_channel
        .split_once('/')
        .unwrap_or((spec_and_channel, "stdout"));
    let file = ctx.dispatcher.process_log_path(spec, channel);
    match file {
        Some(file) => stream_file(ctx, req, Some(file), true),
        None => error_page(req, 404),
    }
}

/// Streams a log like `tail -f` on a thread of its own (a stream lasts as
/// long as the client wants; a handler is not held that long).
fn stream_file(ctx: &Context, req: Request, file: Option<PathBuf>, accel_header: bool) {
    let Some(file) = file.filter(|f| f.exists()) else {
        return error_page(req, 404);
    };
    let cancel = Arc::clone(&ctx.streams_cancel);
    let (tx, rx) = std::sync::mpsc::sync_channel::<Request>(1);
    let spawned = std::thread::Builder::new()
        .name("logtail".into())
        .stack_size(WORKER_STACK)
        .spawn(move || {
            if let Ok(req) = rx.recv() {
                follow_to_client(&cancel, req, &file, accel_header);
            }
        });
    match spawned {
        Ok(_) => {
            let _ = tx.send(req);
        }
        Err(_) => error_page(req, 503),
    }
}

/// The last 1024 bytes, then whatever is appended, chunked, until the
/// client goes away or the server stops.
fn follow_to_client(cancel: &OwnedFd, req: Request, file: &std::path::Path, accel_header: bool) {
    let mtime = std::fs::metadata(file)
        .and_then(|m| m.modified())
        .unwrap_or_else(|_| std::time::SystemTime::now());
    let chunked = req.http_version() >= &tiny_http::HTTPVersion(1, 1);
    // tiny_http buffers chunked bodies 8 KiB at a time, which would hold
    // back a tail; so the stream is written on the raw connection, and
    // the headers tiny_http does not let us set ride along in the value of
    // one it does (a date we format, so nothing a client sends gets there).
    let mut last_modified = httpdate::fmt_http_date(mtime);
    if chunked {
        last_modified.push_str("\r\nTransfer-Encoding: chunked");
    }
    let mut response = Response::empty(StatusCode(200))
        .with_header(header("text/plain;charset=utf-8", "Content-Type"))
        .with_header(header(&last_modified, "Last-Modified"));
    // Python sends this (for nginx) on /logtail but not on /mainlogtail.
    if accel_header {
        response = response.with_header(header("no", "X-Accel-Buffering"));
    }
    let mut stream = req.upgrade("logtail", response);
    let cancel = cancel.as_fd();
    let result = if chunked {
        let mut out = logtail::ChunkedWriter::new(&mut stream);
        logtail::follow(file, 1024, &mut out, Some(cancel))
    } else {
        logtail::follow(file, 1024, &mut stream, Some(cancel))
    };
    if let Err(e) = result {
        activity::debug(format!("tail of {} ended: {}", file.display(), e));
    }
    let _ = stream.flush();
}
