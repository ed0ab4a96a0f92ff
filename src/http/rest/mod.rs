//! The Go supervisord's REST API (an extension; Python Supervisor answers
//! 404 at these paths), on every HTTP server behind its basic auth:
//!
//! | Route | Methods | Answer |
//! |---|---|---|
//! | `/program/list` | GET | every process's info, by name |
//! | `/program/info/{node}/{name}` | GET | one process's info |
//! | `/program/start\|stop\|restart/{node}/{name}` | POST, PUT | `{"success":…}` once it has started/stopped |
//! | `/program/startPrograms`, `/program/stopPrograms` | POST, PUT | the same for `[{"node","program"}]` |
//! | `/program/log/{node}/{name}/stdout\|stderr` | GET | the whole log file, as text |
//! | `/supervisor/listNodes` | GET | this node, its CPU and memory |
//! | `/supervisor/{node}/ping` | GET | `{"success":…}` |
//! | `/supervisor[/{node}]/shutdown\|reload` | POST, PUT | `{"success":true}` |
//!
//! Every action goes through the same standard-interface call as XML-RPC
//! (with `wait=true`), so it has the same effect and log lines. This
//! module decides routes, status codes and JSON; it never touches process
//! state. Where the Go version answers 200 or 500 to a request that was
//! wrong (an unknown program, a body that is not JSON), we answer a 4xx
//! with a JSON `error`; see README.md "REST API" for the whole table.

pub mod json;
mod node;
mod programs;

use super::wire::{self, Request, Version};
use crate::logs::activity;
use crate::pycompat::url::unquote;
use crate::rpc::faults;
use crate::rpc::Dispatcher;
use json::Json;
use programs::Act;
use std::io::{Read, Write};
use std::path::PathBuf;

/// Whether a path is the REST API's (all of it, wrong routes included:
/// those get its JSON 404).
pub fn owns(path: &str) -> bool {
    path.starts_with("/program/") || path.starts_with("/supervisor/")
}

/// Answers one request; false when the connection cannot carry another.
pub fn serve<W: Write>(d: &Dispatcher, req: &Request, out: &mut W, keep: bool) -> bool {
    let path = req.url.split(['?', '#']).next().unwrap_or("");
    activity::trace(format!("REST {} {}", req.method, path));
    // Split first, then decode: an escaped '/' stays inside its segment.
    let segments: Vec<String> = path.split('/').skip(1).map(unquote).collect();
    let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
    let reply = match Route::parse(&segments) {
        None => error(404, "no such route"),
        Some(route) if !route.methods().split(", ").any(|m| m == req.method) => Reply::Json {
            status: 405,
            body: Json::object([("error", Json::from("method not allowed"))]),
            allow: Some(route.methods()),
        },
        Some(route) => run(d, route, &req.body),
    };
    reply.send(out, req.version, keep).unwrap_or(false)
}

/// A REST route, its `{node}` and `{name}` percent-decoded.
#[derive(Debug, PartialEq)]
enum Route<'a> {
    List,
    Info {
        node: &'a str,
        name: &'a str,
    },
    Act {
        act: Act,
        node: &'a str,
        name: &'a str,
    },
    Many {
        act: Act,
    },
    Log {
        node: &'a str,
        name: &'a str,
        channel: &'a str,
    },
    Nodes,
    Ping {
        node: &'a str,
    },
    /// Shutdown (true) or reload; `node` is "" when the URL has none.
    Daemon {
        shutdown: bool,
        node: &'a str,
    },
}

impl<'a> Route<'a> {
    /// The route of a path's segments (after the leading '/'), as the Go
    /// version's router has them: `{node}` and `{name}` are whole,
    /// non-empty segments, and a trailing '/' is another route.
    fn parse(segments: &[&'a str]) -> Option<Route<'a>> {
        let act = |a: &str| match a {
            "start" => Some(Act::Start),
            "stop" => Some(Act::Stop),
            "restart" => Some(Act::Restart),
            _ => None,
        };
        let some = |s: &&str| !s.is_empty();
        Some(match *segments {
            ["program", "list"] => Route::List,
            ["program", "info", node, name] if some(&node) && some(&name) => {
                Route::Info { node, name }
            }
            ["program", a, node, name] if some(&node) && some(&name) => Route::Act {
                act: act(a)?,
                node,
                name,
            },
            ["program", "log", node, name, channel @ ("stdout" | "stderr")]
                if some(&node) && some(&name) =>
            {
                Route::Log {
                    node,
                    name,
                    channel,
                }
            }
            ["program", "startPrograms"] => Route::Many { act: Act::Start },
            ["program", "stopPrograms"] => Route::Many { act: Act::Stop },
            ["supervisor", "listNodes"] => Route::Nodes,
            ["supervisor", "shutdown"] => Route::Daemon {
                shutdown: true,
                node: "",
            },
            ["supervisor", "reload"] => Route::Daemon {
                shutdown: false,
                node: "",
            },
            ["supervisor", node, "ping"] if some(&node) => Route::Ping { node },
            ["supervisor", node, "shutdown"] if some(&node) => Route::Daemon {
                shutdown: true,
                node,
            },
            ["supervisor", node, "reload"] if some(&node) => Route::Daemon {
                shutdown: false,
                node,
            },
            _ => return None,
        })
    }

    /// The methods it answers, as an `Allow` header lists them.
    fn methods(&self) -> &'static str {
        match self {
            Route::List
            | Route::Info { .. }
            | Route::Log { .. }
            | Route::Nodes
            | Route::Ping { .. } => "GET",
            _ => "POST, PUT",
        }
    }
}

/// What a route answers.
enum Reply {
    Json {
        status: u16,
        body: Json,
        /// The `Allow` header of a 405.
        allow: Option<&'static str>,
    },
    /// A whole log file, as text.
    File(PathBuf),
}

fn json(status: u16, body: Json) -> Reply {
    Reply::Json {
        status,
        body,
        allow: None,
    }
}

/// `{"error": message}`.
fn error(status: u16, message: impl Into<String>) -> Reply {
    json(
        status,
        Json::object([("error", Json::from(message.into()))]),
    )
}

/// `{"success": true}`, or `{"success": false, "error": …}` with the
/// failure's status.
fn success(outcome: Result<(), programs::Failure>) -> Reply {
    match outcome {
        Ok(()) => json(200, Json::object([("success", Json::Bool(true))])),
        Err(f) => json(
            f.status,
            Json::object([
                ("success", Json::Bool(false)),
                ("error", Json::from(f.error)),
            ]),
        ),
    }
}

/// The failure for a `{node}` that is not this daemon. The Go version
/// forwards the request to a remote node of that name; we have none, so
/// it is not found (the Go version, without such a remote, answers 200
/// with `success: false`, or an empty 200, depending on the route).
fn unknown_node(node: &str) -> programs::Failure {
    programs::Failure {
        status: 404,
        error: format!("no node named {} (this node is {})", node, node::name()),
        code: None,
    }
}

fn run(d: &Dispatcher, route: Route, body: &[u8]) -> Reply {
    let local = |node: &str| node::is_local(d, node);
    match route {
        Route::List => match programs::list(d, &node::name()) {
            Ok(all) => json(200, all),
            Err(f) => error(f.status, f.error),
        },
        Route::Info { node, .. } | Route::Log { node, .. } if !local(node) => {
            error(404, unknown_node(node).error)
        }
        Route::Act { node, .. } | Route::Daemon { node, .. } if !local(node) => {
            success(Err(unknown_node(node)))
        }
        Route::Info { name, .. } => match programs::info(d, &node::name(), name) {
            Ok(info) => json(200, info),
            Err(f) => error(f.status, f.error),
        },
        Route::Act { act, name, .. } => success(programs::act(d, act, name)),
        Route::Many { act } => match programs::many(d, act, body) {
            Ok(results) => {
                let all = results
                    .iter()
                    .all(|r| r.struct_bool("success") == Some(true));
                json(
                    200,
                    Json::object([
                        ("success", Json::Bool(all)),
                        ("results", Json::Array(results)),
                    ]),
                )
            }
            Err(f) => error(f.status, f.error),
        },
        Route::Log { name, channel, .. } => match programs::log_file(d, name, channel) {
            Ok(path) => Reply::File(path),
            Err(f) => error(f.status, f.error),
        },
        Route::Nodes => {
            let load = node::load();
            json(
                200,
                Json::Array(vec![Json::object([
                    ("name", Json::from(node::name())),
                    ("status", Json::from("ONLINE")),
                    ("cpu_percent", Json::Float(load.cpu_percent)),
                    ("mem_total", Json::Int(saturate(load.mem_total))),
                    ("mem_used", Json::Int(saturate(load.mem_used))),
                    ("mem_used_percent", Json::Float(load.mem_used_percent)),
                ])]),
            )
        }
        // A question, not an action: an unknown node just does not answer,
        // as the Go version has it.
        Route::Ping { node } => json(200, Json::object([("success", Json::Bool(local(node)))])),
        Route::Daemon { shutdown, .. } => {
            let method = if shutdown { "shutdown" } else { "restart" };
            success(
                d.standard(method, Vec::new())
                    .map(drop)
                    .map_err(|f| programs::Failure::of_fault(&f, 500)),
            )
        }
    }
}

fn saturate(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

impl Json {
    /// A boolean member of an object.
    fn struct_bool(&self, key: &str) -> Option<bool> {
        match self {
            Json::Object(m) => m
                .iter()
                .rev()
                .find(|(k, _)| k == key)
                .and_then(|(_, v)| match v {
                    Json::Bool(b) => Some(*b),
                    _ => None,
                }),
            _ => None,
        }
    }
}

impl Reply {
    /// Writes the answer; Ok(false) when the connection must close.
    fn send<W: Write>(self, out: &mut W, version: Version, keep: bool) -> std::io::Result<bool> {
        match self {
            Reply::Json {
                status,
                body,
                allow,
            } => {
                let body = body.to_line();
                let mut headers = vec![("Content-Type", "application/json")];
                headers.extend(allow.map(|a| ("Allow", a)));
                head(out, version, keep, status, &headers, body.len() as u64)?;
                out.write_all(body.as_bytes())?;
                out.flush()?;
                Ok(keep)
            }
            Reply::File(path) => send_file(out, version, keep, &path),
        }
    }
}

/// A response head with Content-Length and the connection header the
/// other routes send (see server.rs `send`).
fn head<W: Write>(
    out: &mut W,
    version: Version,
    keep: bool,
    status: u16,
    headers: &[(&str, &str)],
    length: u64,
) -> std::io::Result<()> {
    let length = length.to_string();
    let mut all: Vec<(&str, &str)> = headers.to_vec();
    all.push(("Content-Length", &length));
    match (version, keep) {
        (Version::Http10, true) => all.push(("Connection", "Keep-Alive")),
        (Version::Http11, false) => all.push(("Connection", "close")),
        _ => {}
    }
    wire::write_head(out, version, status, &all)
}

const TEXT: &str = "text/plain; charset=utf-8";

/// A whole log, copied from the file as it goes out rather than read into
/// memory (a log may be 50 MiB). A file not made yet is an empty log, as
/// the Go version answers; a file cut short while it is sent (rotated)
/// ends the connection, since its length is already promised.
fn send_file<W: Write>(
    out: &mut W,
    version: Version,
    keep: bool,
    path: &PathBuf,
) -> std::io::Result<bool> {
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            head(out, version, keep, 200, &[("Content-Type", TEXT)], 0)?;
            out.flush()?;
            return Ok(keep);
        }
        Err(e) => {
            return error(
                500,
                format!(
                    "{}: cannot read {}: {}",
                    faults::name(faults::FAILED),
                    path.display(),
                    e
                ),
            )
            .send(out, version, keep);
        }
    };
    let length = file.metadata()?.len();
    head(out, version, keep, 200, &[("Content-Type", TEXT)], length)?;
    let copied = std::io::copy(&mut file.take(length), out)?;
    out.flush()?;
    Ok(keep && copied == length)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(path: &str) -> Option<Route<'_>> {
        let segments: Vec<&str> = path.split('/').skip(1).collect();
        Route::parse(&segments)
    }

    #[test]
    fn routes_as_the_go_router_has_them() {
        assert_eq!(route("/program/list"), Some(Route::List));
        assert_eq!(
            route("/program/info/n/g:p"),
            Some(Route::Info {
                node: "n",
                name: "g:p"
            })
        );
        assert_eq!(
            route("/program/restart/n/p"),
            Some(Route::Act {
                act: Act::Restart,
                node: "n",
                name: "p"
            })
        );
        assert_eq!(
            route("/program/log/n/p/stderr"),
            Some(Route::Log {
                node: "n",
                name: "p",
                channel: "stderr"
            })
        );
        assert_eq!(
            route("/program/stopPrograms"),
            Some(Route::Many { act: Act::Stop })
        );
        assert_eq!(route("/supervisor/listNodes"), Some(Route::Nodes));
        assert_eq!(route("/supervisor/n/ping"), Some(Route::Ping { node: "n" }));
        assert_eq!(
            route("/supervisor/reload"),
            Some(Route::Daemon {
                shutdown: false,
                node: ""
            })
        );
        assert_eq!(
            route("/supervisor/n/shutdown"),
            Some(Route::Daemon {
                shutdown: true,
                node: "n"
            })
        );
        for wrong in [
            "/program/list/",
            "/program/",
            "/program/info/n",
            "/program/info//p",
            "/program/info/n/",
            "/program/kill/n/p",
            "/program/log/n/p",
            "/program/log/n/p/other",
            "/program/start/n/p/x",
            "/supervisor/",
            "/supervisor/n/",
            "/supervisor//ping",
            "/supervisor/n/reload/x",
        ] {
            assert_eq!(route(wrong), None, "{wrong}");
        }
        assert_eq!(route("/program/list").map(|r| r.methods()), Some("GET"));
        assert_eq!(
            route("/supervisor/shutdown").map(|r| r.methods()),
            Some("POST, PUT")
        );
    }

    #[test]
    fn json_answers_carry_length_and_the_connection_header() {
        let mut out = Vec::new();
        let open = error(404, "x <y>")
            .send(&mut out, Version::Http11, false)
            .expect("write");
        assert!(!open);
        let text = String::from_utf8(out).expect("utf-8");
        assert!(text.starts_with("HTTP/1.1 404 Not Found\r\n"), "{text}");
        assert!(
            text.contains("Content-Type: application/json\r\n"),
            "{text}"
        );
        assert!(text.contains("Content-Length: 28\r\n"), "{text}");
        assert!(text.contains("Connection: close\r\n"), "{text}");
        assert!(
            text.ends_with("\r\n\r\n{\"error\":\"x \\u003cy\\u003e\"}\n"),
            "{text}"
        );
    }

    #[test]
    fn a_missing_log_file_is_an_empty_log_and_a_file_is_sent_whole() {
        let dir = tempfile::tempdir().expect("tempdir");
        let missing = dir.path().join("none.log");
        let mut out = Vec::new();
        assert!(Reply::File(missing)
            .send(&mut out, Version::Http10, true)
            .expect("write"));
        let text = String::from_utf8(out).expect("utf-8");
        assert!(text.starts_with("HTTP/1.0 200 OK\r\n"), "{text}");
        assert!(text.contains("Content-Length: 0\r\n"), "{text}");
        assert!(text.contains("Connection: Keep-Alive\r\n"), "{text}");

        let file = dir.path().join("out.log");
        std::fs::write(&file, b"one\ntwo\xff\n").expect("write log");
        let mut out = Vec::new();
        assert!(Reply::File(file)
            .send(&mut out, Version::Http11, true)
            .expect("write"));
        assert!(out.ends_with(b"Content-Length: 9\r\n\r\none\ntwo\xff\n"));
    }
}
