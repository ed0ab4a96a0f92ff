//! XML-RPC calls to supervisord over one keep-alive connection, with basic
//! auth, and the streaming GETs of `tail -f` and `fg`.

use super::error::{Error, Kind};
use super::http::{Conn, Endpoint, StreamEnd};
use crate::pycompat::base64::b64encode;
use crate::rpc::xmlrpc::{parse_response, write_call, Response, Value};

/// Sent in every request; servers do not look at it.
const USER_AGENT: &str = concat!(
    "supervisorctl (supervisord-rs ",
    env!("CARGO_PKG_VERSION"),
    ")"
);

/// Where and as whom to connect, and the open connection.
pub struct Client {
    pub url: String,
    pub username: Option<String>,
    pub password: Option<String>,
    conn: Option<(String, Conn)>,
}

impl Client {
    pub fn new(url: String, username: Option<String>, password: Option<String>) -> Client {
        Client {
            url,
            username,
            password,
            conn: None,
        }
    }

    /// What Python's `getServerProxy()` checks: the URL's scheme.
    #[track_caller]
    pub fn check(&self) -> Result<Endpoint, Error> {
        Endpoint::parse(&self.url)
    }

    fn headers(&self) -> Vec<(&'static str, String)> {
        let mut h = vec![
            ("User-Agent", USER_AGENT.to_string()),
            ("Content-Type", "text/xml".to_string()),
            ("Accept", "text/xml".to_string()),
        ];
        // Python sends credentials only when both are set.
        if let (Some(u), Some(p)) = (&self.username, &self.password) {
            h.push((
                "Authorization",
                format!("Basic {}", b64encode(format!("{}:{}", u, p).as_bytes())),
            ));
        }
        h
    }

    /// One call; the result value, or the fault or transport error.
    #[track_caller]
    pub fn call(&mut self, method: &str, params: &[Value]) -> Result<Value, Error> {
        let caller = std::panic::Location::caller();
        let at = |mut e: Error| {
            // Report errors at the action's call site, like a traceback's
            // innermost supervisorctl frame would.
            e.at = caller;
            e
        };
        let endpoint = self.check().map_err(at)?;
        for p in params {
            if let Value::Int(i) = p {
                if *i > i64::from(i32::MAX) || *i < i64::from(i32::MIN) {
                    return Err(at(Error::new(Kind::Other {
                        class: "OverflowError",
                        msg: "int exceeds XML-RPC limits".into(),
                    })));
                }
            }
        }
        let body = write_call(method, params);
        let headers = self.headers();
        // A keep-alive connection may have been closed by the server while
        // we were idle; then (and only then) one retry on a fresh one.
        for _attempt in 0..2 {
            let key = self.url.clone();
            let mut conn = match self.conn.take() {
                Some((k, c)) if k == key => c,
                _ => endpoint.connect().map_err(at)?,
            };
            let reused = conn.used;
            let hdrs: Vec<(&str, String)> = headers.iter().map(|(k, v)| (*k, v.clone())).collect();
            if let Err(e) = conn.send("POST", "/RPC2", &hdrs, &body) {
                if reused {
                    continue;
                }
                return Err(at(Error::io(&e)));
            }
            let mut head = match conn.read_head() {
                Ok(Some(h)) => h,
                // Closed or reset before answering: on a reused connection
                // that is the server having dropped it (idle, or restarted
                // by `reload`); Python, which connects per action, would
                // not have noticed, so neither do we.
                Ok(None) if reused => continue,
                Err(e) if reused && is_reset(&e) => continue,
                Ok(None) => return Err(at(Error::new(Kind::Disconnected))),
                Err(e) => return Err(at(e)),
            };
            let data = conn.read_body(&mut head).map_err(at)?;
            if head.status != 200 {
                // Python's transport closes the connection on any error.
                return Err(at(Error::new(Kind::Http {
                    status: head.status,
                    reason: head.reason,
                })));
            }
            if !head.close {
                conn.used = true;
                self.conn = Some((key, conn));
            }
            return match parse_response(&data) {
                Ok(Response::Value(v)) => Ok(v),
                Ok(Response::Fault(f)) => Err(at(Error::fault(f))),
                Err(e) => Err(at(Error::new(Kind::BadResponse(e.to_string())))),
            };
        }
        Err(at(Error::new(Kind::Disconnected)))
    }

    /// Drops the keep-alive connection (after `open` or new credentials).
    pub fn reset(&mut self) {
        self.conn = None;
    }

    /// Opens a fresh connection for a streaming GET of `path`, as Python's
    /// asyncore client does: Host is the URL's netloc, and credentials go
    /// along when a password is set. Errors are the line Python's listener
    /// prints to stderr.
    pub fn open_stream(&self, path: &str) -> Result<Conn, String> {
        let full = format!("{}{}", self.url, path);
        let endpoint = self.check().map_err(|e| e.message())?;
        let mut conn = endpoint.connect().map_err(|e| {
            format!(
                "{} Cannot connect, error: <class '{}'> ({})",
                full,
                e.class(),
                e.message()
            )
        })?;
        conn.set_host(&netloc(&self.url));
        Ok(conn)
    }

    /// The headers of a streaming GET.
    pub fn stream_headers(&self) -> Vec<(&'static str, String)> {
        let mut h = vec![
            ("Accept-Encoding", "chunked".to_string()),
            ("Accept", "*/*".to_string()),
            ("User-agent", USER_AGENT.to_string()),
        ];
        if let Some(p) = self.password.as_deref().filter(|p| !p.is_empty()) {
            // Python formats a missing username as "None".
            let u = self.username.as_deref().unwrap_or("None");
            h.push((
                "Authorization",
                format!("Basic {}", b64encode(format!("{}:{}", u, p).as_bytes())),
            ));
        }
        h
    }

    /// Streams `path` to `sink` until the server closes it or Ctrl-C;
    /// reports a failure to connect or a non-200 status on stderr the way
    /// Python's listener does.
    pub fn stream(&self, path: &str, sink: impl FnMut(&[u8])) -> StreamEnd {
        let mut conn = match self.open_stream(path) {
            Ok(c) => c,
            Err(line) => {
                eprintln!("{}", line);
                return StreamEnd::Closed;
            }
        };
        let headers = self.stream_headers();
        let end = conn.stream_get(path, &headers, sink);
        if let StreamEnd::Status(code) = end {
            eprintln!("{}{} Cannot read, status code {}", self.url, path, code);
        }
        end
    }
}

/// A connection the peer reset or closed under us.
fn is_reset(e: &Error) -> bool {
    matches!(e.kind, Kind::Disconnected)
        || matches!(e.errno(), Some(libc::ECONNRESET) | Some(libc::EPIPE))
}

/// The netloc of a URL (`host:port` for http, empty for `unix:///path`).
fn netloc(url: &str) -> String {
    let rest = url.split_once("://").map(|(_, r)| r).unwrap_or("");
    rest.split(['/', '?', '#']).next().unwrap_or("").to_string()
}
