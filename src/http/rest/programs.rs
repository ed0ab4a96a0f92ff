//! The `/program/...` routes: process info as the Go version's JSON, and
//! start/stop/restart through the standard interface's calls with
//! `wait=true`, so that an answer comes when the program has started or
//! stopped and the effect and log lines are XML-RPC's.

use super::json::{self, Json};
use super::node;
use crate::rpc::faults;
use crate::rpc::xmlrpc::{Fault, Value};
use crate::rpc::Dispatcher;
use std::path::PathBuf;

/// What a program route does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Act {
    Start,
    Stop,
    /// Stop (if running), then start: supervisorctl's restart, and the
    /// Go version's.
    Restart,
}

/// Why a request did not do what it asked: its HTTP status and the text
/// of the JSON `error`.
#[derive(Debug)]
pub struct Failure {
    pub status: u16,
    pub error: String,
    /// The fault code, when a call gave one.
    pub code: Option<i64>,
}

impl Failure {
    /// The status of a fault: 4xx where the request was wrong (no such
    /// program, or the state makes it pointless), 503 while the daemon
    /// stops, else `otherwise`: the Go version answers 200 with
    /// `success: false` when a start or stop fails, 500 when a restart
    /// does.
    pub fn of_fault(fault: &Fault, otherwise: u16) -> Failure {
        let status = match fault.code {
            faults::BAD_NAME => 404,
            faults::INCORRECT_PARAMETERS | faults::BAD_ARGUMENTS => 400,
            faults::ALREADY_STARTED | faults::NOT_RUNNING => 409,
            faults::SHUTDOWN_STATE => 503,
            _ => otherwise,
        };
        Failure {
            status,
            error: fault.string.clone(),
            code: Some(fault.code),
        }
    }

    fn bad_request(error: impl Into<String>) -> Failure {
        Failure {
            status: 400,
            error: error.into(),
            code: None,
        }
    }
}

/// The Go version's `ProcessInfo` fields after `node`, in its order
/// (true: an integer).
const FIELDS: [(&str, bool); 14] = [
    ("name", false),
    ("group", false),
    ("description", false),
    ("start", true),
    ("stop", true),
    ("now", true),
    ("state", true),
    ("statename", false),
    ("spawnerr", false),
    ("exitstatus", true),
    ("logfile", false),
    ("stdout_logfile", false),
    ("stderr_logfile", false),
    ("pid", true),
];

/// A getProcessInfo struct as the Go version's JSON, with `node` first.
/// (Its `statename` is Python's, `RUNNING`; the Go version writes
/// `Running`. Clients of its API read the numeric `state`.)
fn info_json(node: &str, info: &Value) -> Json {
    let mut members = vec![("node".to_string(), Json::from(node))];
    for (key, int) in FIELDS {
        let v = info.struct_get(key);
        members.push((
            key.to_string(),
            if int {
                Json::Int(v.and_then(Value::as_int).unwrap_or(0))
            } else {
                Json::from(v.and_then(Value::as_str).unwrap_or(""))
            },
        ));
    }
    Json::Object(members)
}

fn all_infos(d: &Dispatcher) -> Result<Vec<Value>, Failure> {
    match d.standard("getAllProcessInfo", Vec::new()) {
        Ok(Value::Array(all)) => Ok(all),
        Ok(_) => Ok(Vec::new()),
        Err(f) => Err(Failure::of_fault(&f, 500)),
    }
}

fn text<'a>(info: &'a Value, key: &str) -> &'a str {
    info.struct_get(key).and_then(Value::as_str).unwrap_or("")
}

/// `GET /program/list`: every process, by name (then group), as the Go
/// version sorts one node's list.
pub fn list(d: &Dispatcher, node: &str) -> Result<Json, Failure> {
    let mut all = all_infos(d)?;
    all.sort_by(|a, b| {
        (text(a, "name"), text(a, "group")).cmp(&(text(b, "name"), text(b, "group")))
    });
    Ok(Json::Array(
        all.iter().map(|i| info_json(node, i)).collect(),
    ))
}

/// The namespec the loop knows `name` by. The Go version's web page sends
/// a process's bare name (`web_01` of group `web`), which the Go version
/// looks up among process names; Python reads a bare name as
/// `name:name`. A bare name that is a process of its own group stays as
/// it is; else the one process of that name is `group:name`; names with a
/// ':' (`group:name`, `group:*`) and names of no process go as they are
/// (the loop answers BAD_NAME for the latter).
fn resolve(d: &Dispatcher, name: &str) -> Result<String, Failure> {
    if name.contains(':') {
        return Ok(name.to_string());
    }
    let all = all_infos(d)?;
    let named: Vec<&Value> = all.iter().filter(|i| text(i, "name") == name).collect();
    if named.iter().any(|i| text(i, "group") == name) {
        return Ok(name.to_string());
    }
    match named.as_slice() {
        [one] => Ok(format!("{}:{}", text(one, "group"), name)),
        [] => Ok(name.to_string()),
        _ => Err(Failure::bad_request(format!(
            "{}: several groups have a process named {}; use group:name",
            faults::name(faults::BAD_NAME),
            name
        ))),
    }
}

/// `GET /program/info/{node}/{name}`.
pub fn info(d: &Dispatcher, node: &str, name: &str) -> Result<Json, Failure> {
    let spec = resolve(d, name)?;
    d.standard("getProcessInfo", vec![Value::from(spec)])
        .map(|info| info_json(node, &info))
        .map_err(|f| Failure::of_fault(&f, 500))
}

/// startProcess or stopProcess with `wait=true`. A `group:*` spec answers
/// with a result per process; any that is not SUCCESS is a failure.
fn call(d: &Dispatcher, method: &str, spec: &str, otherwise: u16) -> Result<(), Failure> {
    match d.standard(method, vec![Value::from(spec), Value::Bool(true)]) {
        Ok(Value::Array(results)) => {
            let failed: Vec<String> = results
                .iter()
                .filter(|r| r.struct_get("status").and_then(Value::as_int) != Some(faults::SUCCESS))
                .map(|r| {
                    format!(
                        "{}:{}: {}",
                        text(r, "group"),
                        text(r, "name"),
                        text(r, "description")
                    )
                })
                .collect();
            if failed.is_empty() {
                Ok(())
            } else {
                Err(Failure {
                    status: otherwise,
                    error: failed.join("; "),
                    code: None,
                })
            }
        }
        Ok(Value::Bool(false)) => Err(Failure {
            status: otherwise,
            error: format!("{}: {}", faults::name(faults::FAILED), spec),
            code: Some(faults::FAILED),
        }),
        Ok(_) => Ok(()),
        Err(f) => Err(Failure::of_fault(&f, otherwise)),
    }
}

/// Start, stop or restart one program (or `group:*`) and wait for it.
pub fn act(d: &Dispatcher, act: Act, name: &str) -> Result<(), Failure> {
    let spec = resolve(d, name)?;
    match act {
        Act::Start => call(d, "startProcess", &spec, 200),
        Act::Stop => call(d, "stopProcess", &spec, 200),
        Act::Restart => {
            match call(d, "stopProcess", &spec, 500) {
                Err(f) if f.code != Some(faults::NOT_RUNNING) => return Err(f),
                _ => {}
            }
            call(d, "startProcess", &spec, 500)
        }
    }
}

/// One `{"node": …, "program": …}` of a `startPrograms` body.
#[derive(Debug, PartialEq)]
struct Item {
    node: String,
    program: String,
}

/// The body of `startPrograms`/`stopPrograms`, read as Go's decoder reads
/// it into `[]struct{Node, Program string}`: `null` is no items, an item
/// `null` is all empty, member names match case-insensitively and the
/// last of a repeated one wins, other members are ignored, and a member
/// of another type is an error. Stricter than Go in one way: nothing but
/// white space may follow the array.
fn items(body: &[u8]) -> Result<Vec<Item>, String> {
    let value = json::parse(body).map_err(|e| e.to_string())?;
    let list = match value {
        Json::Null => return Ok(Vec::new()),
        Json::Array(list) => list,
        _ => return Err("the body must be an array of {\"node\", \"program\"} objects".into()),
    };
    let mut out = Vec::with_capacity(list.len());
    for (i, entry) in list.into_iter().enumerate() {
        let members = match entry {
            Json::Null => Vec::new(),
            Json::Object(m) => m,
            _ => return Err(format!("item {} is not an object", i)),
        };
        let mut item = Item {
            node: String::new(),
            program: String::new(),
        };
        for (key, value) in members {
            let field = if key.eq_ignore_ascii_case("node") {
                &mut item.node
            } else if key.eq_ignore_ascii_case("program") {
                &mut item.program
            } else {
                continue;
            };
            match value {
                Json::String(s) => *field = s,
                // Go leaves the field as it was.
                Json::Null => {}
                _ => return Err(format!("item {}: \"{}\" is not a string", i, key)),
            }
        }
        out.push(item);
    }
    Ok(out)
}

/// `startPrograms`/`stopPrograms`: each item in order, waiting for each,
/// as the Go version does; a result per item. A body that is not such an
/// array is refused whole (400) before anything is done.
pub fn many(d: &Dispatcher, act: Act, body: &[u8]) -> Result<Vec<Json>, Failure> {
    let items =
        items(body).map_err(|e| Failure::bad_request(format!("not a valid request: {}", e)))?;
    Ok(items
        .into_iter()
        .map(|item| {
            let outcome = if node::is_local(d, &item.node) {
                self::act(d, act, &item.program)
            } else {
                Err(super::unknown_node(&item.node))
            };
            let mut members = vec![
                ("node", Json::from(item.node)),
                ("program", Json::from(item.program)),
                ("success", Json::Bool(outcome.is_ok())),
            ];
            if let Err(f) = outcome {
                members.push(("error", Json::from(f.error)));
            }
            Json::object(members)
        })
        .collect())
}

/// The log file behind `/program/log/{node}/{name}/{channel}`: the file
/// readProcessStdoutLog/readProcessStderrLog read. 404 for an unknown
/// process, or one with no file for that channel (NONE, syslog, or stderr
/// redirected).
pub fn log_file(d: &Dispatcher, name: &str, channel: &str) -> Result<PathBuf, Failure> {
    let spec = resolve(d, name)?;
    d.standard("getProcessInfo", vec![Value::from(spec.as_str())])
        .map_err(|f| Failure::of_fault(&f, 500))?;
    d.process_log_path(&spec, channel).ok_or_else(|| Failure {
        status: 404,
        error: format!(
            "{}: {} has no {} log file",
            faults::name(faults::NO_FILE),
            name,
            channel
        ),
        code: Some(faults::NO_FILE),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(node: &str, program: &str) -> Item {
        Item {
            node: node.into(),
            program: program.into(),
        }
    }

    #[test]
    fn bodies_are_read_as_go_reads_them() {
        assert_eq!(items(b"[]"), Ok(vec![]));
        assert_eq!(items(b"null"), Ok(vec![]));
        assert_eq!(
            items(br#"[{"node":"n","program":"a"},{"Program":"b","PROGRAM":"c","x":[1,{}]},null,{"node":null}]"#),
            Ok(vec![item("n", "a"), item("", "c"), item("", ""), item("", "")])
        );
        for bad in [
            &b""[..],
            b"{}",
            b"\"a\"",
            b"[1]",
            b"[[]]",
            br#"[{"node":1}]"#,
            br#"[{"program":true}]"#,
            br#"[{"program":"a"}] x"#,
            br#"[{"program":"a"}"#,
        ] {
            assert!(items(bad).is_err(), "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn info_has_the_go_fields_in_its_order() {
        let info = Value::structure([
            ("name", Value::from("web")),
            ("group", Value::from("g")),
            ("start", Value::Int(5)),
            ("state", Value::Int(20)),
            ("statename", Value::from("RUNNING")),
            ("pid", Value::Int(42)),
            ("description", Value::from("pid 42, uptime 0:00:01")),
        ]);
        let mut text = String::new();
        json::write(&mut text, &info_json("host", &info));
        assert_eq!(
            text,
            "{\"node\":\"host\",\"name\":\"web\",\"group\":\"g\",\"description\":\"pid 42, uptime 0:00:01\",\
             \"start\":5,\"stop\":0,\"now\":0,\"state\":20,\"statename\":\"RUNNING\",\"spawnerr\":\"\",\
             \"exitstatus\":0,\"logfile\":\"\",\"stdout_logfile\":\"\",\"stderr_logfile\":\"\",\"pid\":42}"
        );
    }

    #[test]
    fn fault_statuses() {
        let f = |code| Failure::of_fault(&crate::rpc::faults::bare(code), 200).status;
        assert_eq!(f(faults::BAD_NAME), 404);
        assert_eq!(f(faults::ALREADY_STARTED), 409);
        assert_eq!(f(faults::NOT_RUNNING), 409);
        assert_eq!(f(faults::SHUTDOWN_STATE), 503);
        assert_eq!(f(faults::INCORRECT_PARAMETERS), 400);
        assert_eq!(f(faults::SPAWN_ERROR), 200);
        assert_eq!(
            Failure::of_fault(&faults::bare(faults::SPAWN_ERROR), 500).status,
            500
        );
    }
}
