//! The web page (src/http/web.rs) against Python Supervisor 4.3.0's
//! (supervisor/web.py): the same requests to both daemons on equivalent
//! configs, and for each one the status code, the redirect target (times
//! in `... at <ctime>` messages normalized), the page's key content, and
//! the effect on every process's state over XML-RPC, checked right after
//! the answer (both wait for a start or stop to finish before answering).
//! Where the two differ on purpose or by Python's own failure, the step
//! says so and pins each side.

use super::common;
use crate::util;

use std::collections::BTreeMap;
use std::time::Duration;

use common::{is_ctime, unescape, unquote, Daemon, Impl};
use supervisord::rpc::xmlrpc::Value;
use util::http::{self, Response};

/// A name with every character that HTML or a URL cares about and that
/// a program name may hold (names may not have a space, `:` or `/`).
const ODD: &str = "a&b<c>+d'e\"%";
/// ODD as Python's urllib.quote writes it.
const ODDQ: &str = "a%26b%3Cc%3E%2Bd%27e%22%25";

fn programs() -> String {
    format!(
        "[program:sleeper]\ncommand=sleep 1000\n\
         [program:idle]\ncommand=sleep 1000\nautostart=false\n\
         [program:ga]\ncommand=sleep 1000\n\
         [program:gb]\ncommand=sleep 1000\n\
         [group:grp]\nprograms=ga,gb\n\
         [program:broken]\ncommand=/nonexistent/program\nautostart=false\n\
         [program:nolog]\ncommand=sleep 1000\nautostart=false\nstdout_logfile=NONE\n\
         [program:chatty]\n\
         command=sh -c 'i=0; while [ $i -lt 300 ]; do echo \"line $i\"; i=$((i+1)); done; exec sleep 1000'\n\
         [program:{ODD}]\ncommand=sh -c 'echo \"<b>hi</b> & bye\"; exec sleep 1000'\n"
    )
}

/// What chatty prints.
fn chatty_output() -> String {
    (0..300).map(|i| format!("line {i}\n")).collect()
}

fn last(s: &str, n: usize) -> String {
    s[s.len().saturating_sub(n)..].to_string()
}

/// Python's urllib.parse.quote (safe: `/` and the unreserved characters).
fn py_quote(s: &str) -> String {
    let mut out = String::new();
    for &c in s.as_bytes() {
        if c.is_ascii_alphanumeric() || b"_.-~/".contains(&c) {
            out.push(c as char);
        } else {
            out.push_str(&format!("%{c:02X}"));
        }
    }
    out
}

#[derive(Clone)]
enum Req {
    Get(&'static str),
    /// A urlencoded form to a target (which may have a query too).
    Post(&'static str, &'static str),
    /// Method, target, extra headers, body, how long to wait for an answer.
    Raw(
        &'static str,
        &'static str,
        &'static [(&'static str, &'static str)],
        Option<&'static str>,
        u64,
    ),
}

/// What one daemon answered.
#[derive(Clone, Debug, PartialEq)]
enum Answer {
    /// No answer within the step's time.
    Silent,
    Status(u16),
    /// 301 to `/?message=<this, decoded>` on the same host and port.
    Redirect(String),
}

#[derive(Clone)]
struct Step {
    what: &'static str,
    send: Req,
    /// The answer from both, or (python, ours) where they differ.
    answer: (Answer, Answer),
    /// Why they differ, when they do.
    differs: Option<&'static str>,
    /// States both must show right after the answer.
    then: Vec<(&'static str, &'static str)>,
    /// A process whose pid must change (restarts).
    new_pid: Option<&'static str>,
    /// tail.html: the log text shown, and the refresh link's href as written.
    pre: Option<String>,
    refresh: Option<Option<&'static str>>,
}

fn step(what: &'static str, send: Req, answer: Answer) -> Step {
    Step {
        what,
        send,
        answer: (answer.clone(), answer),
        differs: None,
        then: Vec::new(),
        new_pid: None,
        pre: None,
        refresh: None,
    }
}

fn redirect(msg: &str) -> Answer {
    Answer::Redirect(msg.to_string())
}

impl Step {
    fn then(mut self, states: &[(&'static str, &'static str)]) -> Step {
        self.then = states.to_vec();
        self
    }
    fn differs(mut self, python: Answer, ours: Answer, why: &'static str) -> Step {
        self.answer = (python, ours);
        self.differs = Some(why);
        self
    }
    fn new_pid(mut self, name: &'static str) -> Step {
        self.new_pid = Some(name);
        self
    }
    fn tail(mut self, pre: String, refresh: Option<&'static str>) -> Step {
        self.pre = Some(pre);
        self.refresh = Some(refresh);
        self
    }
}

const ALL: [&str; 8] = [
    "sleeper", "idle", "grp:ga", "grp:gb", "broken", "nolog", "chatty", ODD,
];

fn steps() -> Vec<Step> {
    use Answer::{Redirect, Status};
    use Req::{Get, Post, Raw};
    let chatty = chatty_output();
    let ok = Status(200);
    let mut s = vec![
        // --- pages
        step("status page at /", Get("/"), ok.clone()),
        step("status page at /index.html", Get("/index.html"), ok.clone()),
        step(
            "tail: the last 1024 bytes by default",
            Get("/tail.html?processname=chatty"),
            ok.clone(),
        )
        .tail(
            last(&chatty, 1024),
            Some("tail.html?processname=chatty&amp;limit=1024"),
        ),
        step(
            "tail: limit=2048",
            Get("/tail.html?processname=chatty&limit=2048"),
            ok.clone(),
        )
        .tail(
            last(&chatty, 2048),
            Some("tail.html?processname=chatty&amp;limit=2048"),
        ),
        step(
            "tail: a limit under 1024 counts as 1024",
            Get("/tail.html?processname=chatty&limit=10"),
            ok.clone(),
        )
        .tail(
            last(&chatty, 1024),
            Some("tail.html?processname=chatty&amp;limit=1024"),
        ),
        step(
            "tail: a limit that is no number counts as 1024",
            Get("/tail.html?processname=chatty&limit=abc"),
            ok.clone(),
        )
        .tail(
            last(&chatty, 1024),
            Some("tail.html?processname=chatty&amp;limit=1024"),
        ),
        step(
            "tail: no log file",
            Get("/tail.html?processname=nolog"),
            ok.clone(),
        )
        .tail(
            "No file for nolog".into(),
            Some("tail.html?processname=nolog&amp;limit=1024"),
        ),
        step(
            "tail: unknown process",
            Get("/tail.html?processname=nope"),
            ok.clone(),
        )
        .tail(
            "ERROR: unexpected rpc fault [10] BAD_NAME: nope".into(),
            Some("tail.html?processname=nope&amp;limit=1024"),
        ),
        step("tail: no process name", Get("/tail.html"), ok.clone())
            .tail("No process name found".into(), None),
        step(
            "tail: an empty process name",
            Get("/tail.html?processname="),
            ok.clone(),
        )
        .tail("No process name found".into(), None),
        step(
            "tail: a name that needs escaping, and its output",
            Get("/tail.html?processname=a%26b%3Cc%3E%2Bd%27e%22%25"),
            ok.clone(),
        )
        .tail(
            "<b>hi</b> & bye\n".into(),
            Some("tail.html?processname=a%26b%3Cc%3E%2Bd%27e%22%25&amp;limit=1024"),
        ),
        step(
            "tail: a group member",
            Get("/tail.html?processname=grp%3Aga"),
            ok.clone(),
        )
        .tail(
            String::new(),
            Some("tail.html?processname=grp%3Aga&amp;limit=1024"),
        ),
        step("ok.html", Get("/ok.html"), ok.clone()),
        step(
            "a message with a script in it",
            Get("/?message=%3Cscript%3Ealert(1)%3C%2Fscript%3E"),
            ok.clone(),
        ),
        step("unknown path", Get("/nope"), Status(404)),
        step("unknown page under index.html", Get("/index.html/x"), Status(404)),
        step("a page name cut short", Get("/tail.htm"), Status(404)),
        step(
            "HEAD is not served",
            Raw("HEAD", "/index.html", &[], None, 30),
            Status(404),
        ),
        // --- one process at a time
        step(
            "start a stopped program",
            Get("/index.html?processname=idle&action=start"),
            redirect("Process idle started"),
        )
        .then(&[("idle", "RUNNING")]),
        step(
            "start it again",
            Get("/index.html?processname=idle&action=start"),
            redirect("ERROR: Process idle: already started"),
        )
        .then(&[("idle", "RUNNING")]),
        step(
            "stop it",
            Get("/index.html?processname=idle&action=stop"),
            redirect("Process idle stopped"),
        )
        .then(&[("idle", "STOPPED")]),
        step(
            "stop it again",
            Get("/index.html?processname=idle&action=stop"),
            redirect("unexpected rpc fault [70] NOT_RUNNING: idle"),
        )
        .then(&[("idle", "STOPPED")]),
        step(
            "restart a stopped program",
            Get("/index.html?processname=idle&action=restart"),
            redirect("Process idle restarted"),
        )
        .then(&[("idle", "RUNNING")]),
        step(
            "restart a running program",
            Get("/?processname=sleeper&action=restart"),
            redirect("Process sleeper restarted"),
        )
        .then(&[("sleeper", "RUNNING")])
        .new_pid("sleeper"),
        step(
            "clear a log",
            Get("/index.html?processname=chatty&action=clearlog"),
            redirect("Log for chatty cleared"),
        )
        .then(&[("chatty", "RUNNING")]),
        step(
            "the cleared log is empty",
            Get("/tail.html?processname=chatty"),
            ok.clone(),
        )
        .tail(
            String::new(),
            Some("tail.html?processname=chatty&amp;limit=1024"),
        ),
        step(
            "stop a group member, quoted",
            Get("/index.html?processname=grp%3Aga&action=stop"),
            redirect("Process grp:ga stopped"),
        )
        .then(&[("grp:ga", "STOPPED"), ("grp:gb", "RUNNING")]),
        step(
            "start a group member, colon as is",
            Get("/index.html?processname=grp:ga&action=start"),
            redirect("Process grp:ga started"),
        )
        .then(&[("grp:ga", "RUNNING")]),
        step(
            "restart a group member",
            Get("/index.html?processname=grp%3Agb&action=restart"),
            redirect("Process grp:gb restarted"),
        )
        .then(&[("grp:gb", "RUNNING")])
        .new_pid("grp:gb"),
        step(
            "a group member without its group",
            Get("/index.html?processname=ga&action=stop"),
            redirect("No such process named ga"),
        )
        .then(&[("grp:ga", "RUNNING")]),
        step(
            "an unknown process",
            Get("/index.html?processname=nope&action=start"),
            redirect("No such process named nope"),
        ),
        step(
            "a whole group is no process",
            Get("/index.html?processname=grp%3A%2A&action=stop"),
            redirect("No such process named grp:*"),
        )
        .then(&[("grp:ga", "RUNNING"), ("grp:gb", "RUNNING")]),
        step(
            "an unknown process's log",
            Get("/index.html?processname=nope&action=clearlog"),
            redirect("No such process named nope"),
        ),
        step(
            "a command that does not exist",
            Get("/index.html?processname=broken&action=start"),
            redirect("ERROR: Process broken: no such file"),
        )
        .then(&[("broken", "STOPPED")]),
        step(
            "stop the oddly named program",
            Get("/index.html?processname=a%26b%3Cc%3E%2Bd%27e%22%25&action=stop"),
            redirect("Process a&b<c>+d'e\"% stopped"),
        )
        .then(&[(ODD, "STOPPED")]),
        step(
            "start it",
            Get("/index.html?processname=a%26b%3Cc%3E%2Bd%27e%22%25&action=start"),
            redirect("Process a&b<c>+d'e\"% started"),
        )
        .then(&[(ODD, "RUNNING")]),
        step(
            "clear its log",
            Get("/index.html?processname=a%26b%3Cc%3E%2Bd%27e%22%25&action=clearlog"),
            redirect("Log for a&b<c>+d'e\"% cleared"),
        ),
        step(
            "refresh",
            Get("/index.html?action=refresh"),
            redirect("Page refreshed at <ctime>"),
        ),
        // --- the same as forms
        step(
            "POST: stop a group member",
            Post("/index.html", "processname=grp%3Agb&action=stop"),
            redirect("Process grp:gb stopped"),
        )
        .then(&[("grp:gb", "STOPPED")]),
        step(
            "POST: name in the query, action in the body",
            Post("/index.html?processname=grp%3Agb", "action=start"),
            redirect("Process grp:gb started"),
        )
        .then(&[("grp:gb", "RUNNING")]),
        step(
            "POST: the body wins over the query",
            Post(
                "/index.html?action=refresh",
                "action=stop&processname=sleeper",
            ),
            redirect("Process sleeper stopped"),
        )
        .then(&[("sleeper", "STOPPED")]),
        step(
            "POST: start",
            Post("/", "processname=sleeper&action=start"),
            redirect("Process sleeper started"),
        )
        .then(&[("sleeper", "RUNNING")]),
        step(
            "POST: restart",
            Post("/index.html", "processname=sleeper&action=restart"),
            redirect("Process sleeper restarted"),
        )
        .then(&[("sleeper", "RUNNING")])
        .new_pid("sleeper"),
        step(
            "POST: clear a log",
            Post("/index.html", "processname=chatty&action=clearlog"),
            redirect("Log for chatty cleared"),
        ),
        step(
            "POST: an unknown process",
            Post("/index.html", "processname=nope&action=stop"),
            redirect("No such process named nope"),
        ),
        step(
            "POST: a start error",
            Post("/index.html", "processname=broken&action=start"),
            redirect("ERROR: Process broken: no such file"),
        )
        .then(&[("broken", "STOPPED")]),
        step(
            "POST: refresh",
            Post("/index.html", "action=refresh"),
            redirect("Page refreshed at <ctime>"),
        ),
        // --- everything at once
        step(
            "stop all",
            Get("/index.html?action=stopall"),
            redirect("All stopped at <ctime>"),
        )
        .then(&ALL.map(|n| (n, "STOPPED"))),
        step(
            "restart all: every program that can start, autostart or not",
            Get("/index.html?action=restartall"),
            redirect("All restarted at <ctime>"),
        )
        .then(&ALL.map(|n| (n, if n == "broken" { "STOPPED" } else { "RUNNING" }))),
        step(
            "POST: stop all",
            Post("/index.html", "action=stopall"),
            redirect("All stopped at <ctime>"),
        )
        .then(&ALL.map(|n| (n, "STOPPED"))),
        step(
            "POST: restart all",
            Post("/", "action=restartall"),
            redirect("All restarted at <ctime>"),
        )
        .then(&ALL.map(|n| (n, if n == "broken" { "STOPPED" } else { "RUNNING" }))),
        // --- where the two differ
        step("unknown action", Get("/index.html?action=bogus"), ok.clone()).differs(
            Status(500),
            Redirect("Unknown action bogus".into()),
            "Python raises ValueError (500); ours redirects with a message",
        ),
        step(
            "unknown action on a process",
            Get("/index.html?processname=sleeper&action=bogus"),
            ok.clone(),
        )
        .differs(
            Status(500),
            Redirect("Unknown action bogus".into()),
            "Python raises ValueError (500); ours redirects with a message",
        )
        .then(&[("sleeper", "RUNNING")]),
        step(
            "a process action without a process",
            Get("/index.html?action=stop"),
            ok.clone(),
        )
        .differs(
            Status(500),
            Redirect("Unknown action stop".into()),
            "Python raises ValueError (500); ours redirects with a message",
        )
        .then(&ALL.map(|n| (n, if n == "broken" { "STOPPED" } else { "RUNNING" }))),
        step("Python's template", Get("/status.html"), ok.clone()).differs(
            Status(200),
            Status(404),
            "Python's default handler serves the files of supervisor/ui; ours embeds its CSS and serves no files",
        ),
        step(
            "Python's stylesheet",
            Get("/stylesheets/supervisor.css"),
            ok.clone(),
        )
        .differs(Status(200), Status(404), "as above"),
        step("Python's icon", Get("/images/icon.png"), ok.clone()).differs(
            Status(200),
            Status(404),
            "as above",
        ),
        step(
            "PUT",
            Raw("PUT", "/index.html?action=refresh", &[], Some("x"), 30),
            ok.clone(),
        )
        .differs(
            Status(400),
            Status(404),
            "Python's medusa answers 400 to a method it has no handler for",
        ),
        step(
            "POST without Content-Length",
            Raw("POST", "/index.html?action=refresh", &[], None, 30),
            ok.clone(),
        )
        .differs(
            Status(411),
            Redirect("Page refreshed at <ctime>".into()),
            "Python's collector requires a Content-Length; ours takes an empty body",
        ),
        // Last: Python never answers it, and keeps the connection open.
        step(
            "POST with an empty body",
            Raw(
                "POST",
                "/index.html?processname=sleeper&action=stop",
                &[("Content-Type", "application/x-www-form-urlencoded")],
                Some(""),
                3,
            ),
            ok.clone(),
        )
        .differs(
            Answer::Silent,
            Redirect("Process sleeper stopped".into()),
            "Python's collector waits for a body of 0 bytes forever; ours answers",
        ),
    ];
    // Python's state after its silent answer is whatever it is; ours stopped it.
    s.last_mut().expect("steps").then = Vec::new();
    s
}

/// What one daemon did at one step.
#[derive(Debug)]
struct Record {
    answer: Answer,
    /// The raw Location with the host and any time normalized.
    location: Option<String>,
    states: BTreeMap<String, String>,
    resp: Option<Response>,
    problems: Vec<String>,
}

/// Replaces the host and a trailing ctime of `location`; checks its shape.
fn normalize_location(d: &Daemon, location: &str, problems: &mut Vec<String>) -> (String, String) {
    let prefix = format!("{}/?message=", d.http_url());
    let Some(quoted) = location.strip_prefix(&prefix) else {
        problems.push(format!(
            "redirect {location:?} does not start with {prefix:?}"
        ));
        return (location.to_string(), String::new());
    };
    let mut message = unquote(quoted);
    let mut quoted = quoted.to_string();
    for lead in ["Page refreshed at ", "All stopped at ", "All restarted at "] {
        if let Some(time) = message.strip_prefix(lead) {
            if !is_ctime(time) {
                problems.push(format!("{time:?} is not a ctime() time"));
            }
            message = format!("{lead}<ctime>");
            quoted = format!("{}<ctime>", py_quote(lead));
        }
    }
    if quoted != py_quote(&message).replace("%3Cctime%3E", "<ctime>") {
        problems.push(format!(
            "redirect message not quoted as Python does: {quoted:?}"
        ));
    }
    (format!("http://HOST/?message={quoted}"), message)
}

fn pid_of(d: &Daemon, name: &str) -> i64 {
    d.rpc("supervisor.getProcessInfo", &[Value::from(name)])
        .ok()
        .and_then(|i| i.struct_get("pid").and_then(Value::as_int))
        .unwrap_or(0)
}

fn run(d: &Daemon, steps: &[Step]) -> Vec<Record> {
    let mut records = Vec::new();
    for st in steps {
        let mut problems = Vec::new();
        let pid_before = st.new_pid.map(|n| pid_of(d, n));
        let sent = match &st.send {
            Req::Get(t) => d.get(t),
            Req::Post(t, body) => d.post_form(t, body),
            Req::Raw(m, t, h, body, secs) => {
                d.request(m, t, h, body.map(str::as_bytes), Duration::from_secs(*secs))
            }
        };
        let expected = match d.imp() {
            Impl::Python => &st.answer.0,
            Impl::Ours => &st.answer.1,
        };
        let (answer, location) = match &sent {
            Err(_) => (Answer::Silent, None),
            Ok(r) if r.status == 301 => match r.header("Location") {
                Some(loc) => {
                    let (norm, message) = normalize_location(d, loc, &mut problems);
                    (Answer::Redirect(message), Some(norm))
                }
                None => {
                    problems.push("301 without a Location".into());
                    (Answer::Status(301), None)
                }
            },
            Ok(r) => (Answer::Status(r.status), None),
        };
        if &answer != expected {
            let raw = match &sent {
                Ok(r) => format!("{} {:?}", r.status, r.header("Location")),
                Err(e) => e.clone(),
            };
            problems.push(format!(
                "answered {answer:?}, expected {expected:?} ({raw})"
            ));
        }
        let states = d.states();
        for (name, want) in &st.then {
            let got = d.state(name);
            if got != *want {
                problems.push(format!("{name} is {got}, expected {want}"));
            }
        }
        if let (Some(name), Some(before)) = (st.new_pid, pid_before) {
            let after = pid_of(d, name);
            if after == before || after == 0 {
                problems.push(format!(
                    "{name}: pid {before} before, {after} after a restart"
                ));
            }
        }
        records.push(Record {
            answer,
            location,
            states,
            resp: sent.ok(),
            problems,
        });
    }
    records
}

/// The text of the first `<pre ...>` and the href of the tail refresh link.
fn tail_parts(html: &str) -> (Option<String>, Option<String>) {
    let pre = html.find("<pre").and_then(|at| {
        let open = at + html[at..].find('>')? + 1;
        let close = open + html[open..].find("</pre>")?;
        Some(unescape(&html[open..close]))
    });
    let href = html.find("href=\"tail.html?processname=").map(|at| {
        let start = at + "href=\"".len();
        let end = start + html[start..].find('"').unwrap_or(0);
        html[start..end].to_string()
    });
    (pre, href)
}

/// The names the status page links to tail.html, in page order.
fn listed_names(html: &str) -> Vec<String> {
    html.match_indices("href=\"tail.html?processname=")
        .map(|(at, m)| {
            let start = at + m.len();
            let end = start + html[start..].find('"').unwrap_or(0);
            unquote(&unescape(&html[start..end]))
        })
        .collect()
}

fn start_pair(auth: Option<(&str, &str)>, programs: &str) -> (Daemon, Daemon) {
    std::thread::scope(|s| {
        let py = s.spawn(|| common::start(Impl::Python, programs, auth));
        let ours = s.spawn(|| common::start(Impl::Ours, programs, auth));
        (
            py.join().expect("start python"),
            ours.join().expect("start ours"),
        )
    })
}

fn settle(d: &Daemon) {
    d.wait_states(
        &[
            ("sleeper", "RUNNING"),
            ("grp:ga", "RUNNING"),
            ("grp:gb", "RUNNING"),
            ("chatty", "RUNNING"),
            (ODD, "RUNNING"),
            ("idle", "STOPPED"),
            ("broken", "STOPPED"),
            ("nolog", "STOPPED"),
        ],
        Duration::from_secs(20),
    );
    let full = util::wait_until(Duration::from_secs(20), || {
        d.get("/tail.html?processname=chatty")
            .is_ok_and(|r| r.text().contains("line 299"))
    });
    assert!(full, "{}: chatty's output never reached its log", d.name());
}

#[test]
fn actions_and_pages_match_python() {
    let programs = programs();
    let (py, ours) = start_pair(None, &programs);
    std::thread::scope(|s| {
        s.spawn(|| settle(&py));
        s.spawn(|| settle(&ours));
    });
    assert_eq!(py.states(), ours.states(), "states at start");

    let steps = steps();
    let (py_rec, our_rec) = std::thread::scope(|s| {
        let a = s.spawn(|| run(&py, &steps));
        let b = s.spawn(|| run(&ours, &steps));
        (a.join().expect("python run"), b.join().expect("our run"))
    });

    let mut failures = Vec::new();
    for (i, st) in steps.iter().enumerate() {
        let (p, o) = (&py_rec[i], &our_rec[i]);
        let mut fail = |who: &str, what: String| {
            failures.push(format!("step {i} ({}), {who}: {what}", st.what));
        };
        for pr in &p.problems {
            fail("python", pr.clone());
        }
        for pr in &o.problems {
            fail("ours", pr.clone());
        }
        if st.differs.is_none() {
            if p.location != o.location {
                fail(
                    "both",
                    format!("Location python {:?} ours {:?}", p.location, o.location),
                );
            }
            if p.states != o.states {
                fail(
                    "both",
                    format!("states python {:?} ours {:?}", p.states, o.states),
                );
            }
        }
        let (Some(pr), Some(or)) = (&p.resp, &o.resp) else {
            continue;
        };
        if let Some(want_pre) = &st.pre {
            let want_href = st.refresh.flatten().map(str::to_string);
            for (who, r) in [("python", pr), ("ours", or)] {
                let (pre, href) = tail_parts(&r.text());
                let pre = pre.unwrap_or_else(|| "<no pre>".into());
                if pre != *want_pre {
                    fail(who, format!("tail text {pre:?}"));
                }
                if href != want_href {
                    fail(
                        who,
                        format!("refresh link {href:?}, expected {want_href:?}"),
                    );
                }
            }
        }
        if st.what.starts_with("status page") {
            let (pn, on) = (listed_names(&pr.text()), listed_names(&or.text()));
            if pn != on {
                fail("both", format!("listed python {pn:?} ours {on:?}"));
            }
            let mut sorted = ALL.map(String::from).to_vec();
            sorted.sort();
            if on != sorted {
                fail("ours", format!("listed {on:?}"));
            }
        }
        if st.what == "ok.html" {
            for (who, r) in [("python", pr), ("ours", or)] {
                if r.text() != "OK" {
                    fail(who, format!("ok.html says {:?}", r.text()));
                }
            }
        }
        if st.what.starts_with("a message with a script") {
            for (who, r) in [("python", pr), ("ours", or)] {
                if r.text().contains("<script>") {
                    fail(who, "the message came back as a script".into());
                }
            }
            if !or.text().contains("&lt;script&gt;alert(1)&lt;/script&gt;") {
                fail("ours", "the message is not shown escaped".into());
            }
        }
    }

    // Every name on our page is escaped: the odd one only ever appears as
    // entities (in text and attributes) or quoted (in links).
    let page = ours.get("/").expect("our page");
    let html = page.text();
    if html.contains(ODD) || html.contains("a&b<c>") {
        failures.push("ours: the odd name appears unescaped on the status page".into());
    }
    if !html.contains("a&amp;b&lt;c&gt;+d&#39;e&quot;%") || !html.contains(ODDQ) {
        failures.push("ours: the odd name is missing (escaped or quoted)".into());
    }
    // The message of a redirect shows on the page it leads to.
    let shown = ours
        .get("/?message=Process%20grp%3Aga%20started")
        .expect("our page with a message")
        .text();
    if !shown.contains("class=\"status_msg\"") || !shown.contains("Process grp:ga started") {
        failures.push("ours: the message line is missing".into());
    }
    let py_page = py.get("/").expect("python page");
    println!(
        "status page bytes: ours {} python {} (8 programs)",
        page.body.len(),
        py_page.body.len()
    );
    for (i, st) in steps.iter().enumerate() {
        if let Some(why) = st.differs {
            println!(
                "differs: {} {:?}: python {:?}, ours {:?}: {why}",
                st.what,
                match &st.send {
                    Req::Get(t) => format!("GET {t}"),
                    Req::Post(t, b) => format!("POST {t} [{b}]"),
                    Req::Raw(m, t, _, b, _) => format!("{m} {t} [{}]", b.unwrap_or("no body")),
                },
                py_rec[i].answer,
                our_rec[i].answer
            );
        }
    }

    common::stop(py);
    common::stop(ours);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn credentials_are_required_when_configured() {
    let programs = "[program:sleeper]\ncommand=sleep 1000\n";
    let (py, ours) = start_pair(Some(("alice", "s3cr&t")), programs);
    for d in [&py, &ours] {
        let who = d.name();
        for target in [
            "/",
            "/index.html",
            "/index.html?processname=sleeper&action=stop",
            "/tail.html?processname=sleeper",
            "/ok.html",
            "/nope",
        ] {
            let bare =
                common::get_as(d, target, &[]).unwrap_or_else(|e| panic!("{who} {target}: {e}"));
            assert_eq!(bare.status, 401, "{who} {target} without credentials");
            let challenge = bare.header("WWW-Authenticate").unwrap_or("");
            assert!(
                challenge.starts_with("Basic realm="),
                "{who} {target}: challenge {challenge:?}"
            );
            let wrong = http::basic_auth("alice", "nope");
            let bad = common::get_as(d, target, &[&wrong])
                .unwrap_or_else(|e| panic!("{who} {target}: {e}"));
            assert_eq!(bad.status, 401, "{who} {target} with a wrong password");
        }
        // Nothing was stopped by the refused request.
        d.wait_states(&[("sleeper", "RUNNING")], Duration::from_secs(20));
        let good = d.get("/").expect("page with credentials");
        assert_eq!(good.status, 200, "{who} / with credentials");
        assert!(good.text().contains("sleeper"), "{who}: {}", good.text());
        assert_eq!(d.get("/ok.html").expect("ok.html").status, 200, "{who}");
        assert_eq!(d.get("/nope").expect("nope").status, 404, "{who}");
        let stop = d
            .get("/index.html?processname=sleeper&action=stop")
            .expect("stop with credentials");
        assert_eq!(stop.status, 301, "{who}");
        assert_eq!(
            stop.header("Location"),
            Some(format!("{}/?message=Process%20sleeper%20stopped", d.http_url()).as_str()),
            "{who}"
        );
        assert_eq!(d.state("sleeper"), "STOPPED", "{who}");
    }
    common::stop(py);
    common::stop(ours);
}
