//! The web page: the status of every process with the actions that fit its
//! state, at Python Supervisor's URLs (`/`, `/index.html`, `/tail.html`,
//! `/ok.html`) and with its query-string actions and redirects, so
//! bookmarks and curl scripts keep working. Plain HTML and CSS, no
//! script, nothing fetched from elsewhere; every name, description and
//! log line is escaped. Actions go through the same RPC methods as
//! XML-RPC clients (the standard interface, whatever the config names it).

use crate::pycompat::url::unquote_plus;
use crate::rpc::faults;
use crate::rpc::xmlrpc::Value;
use crate::rpc::Dispatcher;

/// What the UI answers with.
pub enum Page {
    Html(String),
    /// 301 to this location.
    Redirect(String),
}

/// The request as the UI sees it.
pub struct UiRequest<'a> {
    /// Path without the query, e.g. `/index.html`.
    pub path: &'a str,
    pub query: &'a str,
    /// A urlencoded POST body (empty for GET).
    pub form_body: &'a str,
    /// `http://host[:port]` from the Host header, for redirects.
    pub server_url: String,
}

/// Serves `/`, `/index.html`, `/tail.html`, `/ok.html`; None for other paths.
pub fn handle(d: &Dispatcher, req: &UiRequest) -> Option<Page> {
    let form = parse_form(req.query, req.form_body);
    match req.path.trim_start_matches('/') {
        "" | "index.html" => Some(status_page(d, req, &form)),
        "tail.html" => Some(Page::Html(tail_page(d, &form))),
        "ok.html" => Some(Page::Html("OK".to_string())),
        _ => None,
    }
}

/// Whether the request asks for an action (start, stop, clear…): those
/// change state, so the server refuses them from other sites.
pub fn acts(req: &UiRequest) -> bool {
    matches!(req.path.trim_start_matches('/'), "" | "index.html")
        && get(&parse_form(req.query, req.form_body), "action").is_some()
}

type Form = Vec<(String, String)>;

fn get<'a>(form: &'a Form, key: &str) -> Option<&'a str> {
    // Python keeps the first value of the query and the last of the body;
    // the body is parsed after the query, so the last one found wins.
    form.iter()
        .rev()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

fn parse_form(query: &str, body: &str) -> Form {
    let mut form = Form::new();
    let mut seen = Vec::new();
    for (k, v) in pairs(query) {
        // parse_qs keeps only the first of repeated query keys.
        if !seen.contains(&k) {
            seen.push(k.clone());
            form.push((k, v));
        }
    }
    form.extend(pairs(body));
    form
}

fn pairs(s: &str) -> Vec<(String, String)> {
    s.split(['&', ';'])
        .filter(|p| !p.is_empty())
        .filter_map(|p| {
            let (k, v) = p.split_once('=')?;
            let v = unquote_plus(v);
            // Python's parse_qs drops blank values.
            (!v.is_empty()).then(|| (unquote_plus(k), v))
        })
        .collect()
}

/// Python's urllib.quote (safe: `/` and the unreserved characters).
pub fn quote(s: &str) -> String {
    let mut out = String::new();
    for &c in s.as_bytes() {
        if c.is_ascii_alphanumeric() || b"_.-~/".contains(&c) {
            out.push(c as char);
        } else {
            out.push_str(&format!("%{:02X}", c));
        }
    }
    out
}

/// Text for HTML content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Python's time.ctime(): `Mon Nov 23 19:00:00 2026`, local time.
fn ctime() -> String {
    let lt = crate::logs::localtime::LocalTime::from_system(std::time::SystemTime::now());
    const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    format!(
        "{} {} {:>2} {:02}:{:02}:{:02} {}",
        DAYS[weekday(lt.year, lt.month, lt.day)],
        lt.month_abbr(),
        lt.day,
        lt.hour,
        lt.minute,
        lt.second,
        lt.year
    )
}

/// Monday = 0, for a proleptic Gregorian date.
fn weekday(year: i64, month: u32, day: u32) -> usize {
    // Days since 1970-01-01 (a Thursday) by the civil-from-days inverse.
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146097 + doe - 719468;
    (days + 3).rem_euclid(7) as usize
}

fn call(d: &Dispatcher, method: &str, params: Vec<Value>) -> Result<Value, (i64, String)> {
    d.standard(method, params).map_err(|f| (f.code, f.string))
}

/// Runs an action; the message for the page.
fn act(d: &Dispatcher, action: &str, name: Option<&str>) -> String {
    match action {
        "refresh" => format!("Page refreshed at {}", ctime()),
        "stopall" => {
            let _ = call(d, "stopAllProcesses", vec![]);
            format!("All stopped at {}", ctime())
        }
        "restartall" => {
            let _ = call(d, "stopAllProcesses", vec![]);
            let _ = call(d, "startAllProcesses", vec![]);
            format!("All restarted at {}", ctime())
        }
        "start" | "stop" | "restart" | "clearlog" => {
            let Some(name) = name else {
                return format!("Unknown action {}", action);
            };
            if call(d, "getProcessInfo", vec![Value::from(name)]).is_err() {
                return format!("No such process named {}", name);
            }
            process_action(d, action, name)
        }
        // Python answers an unknown action with a 500; say what happened.
        other => format!("Unknown action {}", other),
    }
}

fn process_action(d: &Dispatcher, action: &str, name: &str) -> String {
    let arg = || vec![Value::from(name)];
    match action {
        "start" => match call(d, "startProcess", arg()) {
            Ok(_) => format!("Process {} started", name),
            Err((code, text)) => {
                let why = match code {
                    faults::NO_FILE => "no such file".to_string(),
                    faults::NOT_EXECUTABLE => "file not executable".to_string(),
                    faults::ALREADY_STARTED => "already started".to_string(),
                    faults::SPAWN_ERROR => "spawn error".to_string(),
                    faults::ABNORMAL_TERMINATION => "abnormal termination".to_string(),
                    _ => format!("unexpected rpc fault [{}] {}", code, text),
                };
                format!("ERROR: Process {}: {}", name, why)
            }
        },
        "stop" => match call(d, "stopProcess", arg()) {
            Ok(_) => format!("Process {} stopped", name),
            Err((code, text)) => format!("unexpected rpc fault [{}] {}", code, text),
        },
        "restart" => {
            // As Python's multicall: faults of either half are ignored.
            let _ = call(d, "stopProcess", arg());
            let _ = call(d, "startProcess", arg());
            format!("Process {} restarted", name)
        }
        _ => match call(d, "clearProcessLogs", arg()) {
            Ok(_) => format!("Log for {} cleared", name),
            Err((code, text)) => format!("unexpected rpc fault [{}] {}", code, text),
        },
    }
}

fn status_page(d: &Dispatcher, req: &UiRequest, form: &Form) -> Page {
    if let Some(action) = get(form, "action") {
        let message = act(d, action, get(form, "processname"));
        return Page::Redirect(format!("{}/?message={}", req.server_url, quote(&message)));
    }
    let message = get(form, "message");
    let infos = match call(d, "getAllProcessInfo", vec![]) {
        Ok(Value::Array(a)) => a,
        _ => Vec::new(),
    };
    let ident = call(d, "getIdentification", vec![])
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    let mut rows = String::new();
    for info in &infos {
        rows.push_str(&row(info));
    }
    let table = if infos.is_empty() {
        "<p class=\"empty\">No programs to manage</p>".to_string()
    } else {
        format!(
            "<table>\n<thead><tr><th>State</th><th>Description</th><th>Name</th><th>Action</th></tr></thead>\n<tbody>\n{}</tbody>\n</table>",
            rows
        )
    };
    let message = message
        .map(|m| {
            format!(
                "<p class=\"status_msg\" role=\"status\">{}</p>\n",
                escape(m)
            )
        })
        .unwrap_or_default();
    Page::Html(format!(
        "{head}<header><h1>Supervisor status</h1><p class=\"ident\">{ident}</p></header>\n<main>\n{message}<form class=\"buttons\" action=\"index.html\" method=\"post\">\
<button name=\"action\" value=\"refresh\">Refresh</button>\
<button name=\"action\" value=\"restartall\">Restart All</button>\
<button name=\"action\" value=\"stopall\">Stop All</button></form>\n{table}\n</main>\n<footer>supervisord-rs {ours} &middot; Supervisor {sv} compatible</footer>\n</body>\n</html>\n",
        head = head("Supervisor Status"),
        ident = escape(&ident),
        message = message,
        table = table,
        ours = escape(crate::VERSION),
        sv = escape(crate::SUPERVISOR_VERSION),
    ))
}

fn row(info: &Value) -> String {
    let text = |k: &str| {
        info.struct_get(k)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    let state = info
        .struct_get("state")
        .and_then(Value::as_int)
        .unwrap_or(0);
    let (group, name) = (text("group"), text("name"));
    let spec = crate::config::make_namespec(&group, &name);
    let statename = text("statename");
    // Python's classes, kept for people who style or scrape the page.
    let class = match state {
        20 => "statusrunning",
        30 | 200 => "statuserror",
        _ => "statusnominal",
    };
    let button = |action: &str, label: &str| {
        format!(
            "<form action=\"index.html\" method=\"post\"><input type=\"hidden\" name=\"processname\" value=\"{}\"><button name=\"action\" value=\"{}\">{}</button></form>",
            escape(&spec),
            action,
            label
        )
    };
    let mut actions = String::new();
    match state {
        20 => {
            actions.push_str(&button("restart", "Restart"));
            actions.push_str(&button("stop", "Stop"));
        }
        0 | 100 | 200 => actions.push_str(&button("start", "Start")),
        _ => {}
    }
    actions.push_str(&button("clearlog", "Clear Log"));
    let quoted = quote(&spec);
    actions.push_str(&format!(
        "<a href=\"logtail/{q}\" target=\"_blank\">Tail -f Stdout</a><a href=\"logtail/{q}/stderr\" target=\"_blank\">Tail -f Stderr</a>",
        q = escape(&quoted)
    ));
    format!(
        "<tr><td><span class=\"state {class}\">{state}</span></td><td class=\"desc\">{desc}</td><td class=\"name\"><a href=\"tail.html?processname={q}\">{name}</a></td><td><div class=\"actions\">{actions}</div></td></tr>\n",
        class = class,
        state = escape(&statename.to_lowercase()),
        desc = escape(&text("description")),
        q = escape(&quoted),
        name = escape(&spec),
        actions = actions
    )
}

fn tail_page(d: &Dispatcher, form: &Form) -> String {
    let name = get(form, "processname");
    // At least the last 1024 bytes, more if `limit` asks (digits only).
    let limit = get(form, "limit")
        .filter(|l| !l.is_empty() && l.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|l| l.parse::<i64>().ok())
        .unwrap_or(1024)
        .max(1024);
    let body = match name {
        None | Some("") => "No process name found".to_string(),
        Some(n) => match call(
            d,
            "readProcessStdoutLog",
            vec![Value::from(n), Value::Int(-limit), Value::Int(0)],
        ) {
            Ok(v) => v.as_str().unwrap_or("").to_string(),
            Err((faults::NO_FILE, _)) => format!("No file for {}", n),
            Err((code, text)) => format!("ERROR: unexpected rpc fault [{}] {}", code, text),
        },
    };
    let title = format!("Supervisor tail of process {}", name.unwrap_or("None"));
    let refresh = match name {
        Some(n) => format!(
            "<p><a href=\"tail.html?processname={}&amp;limit={}\">Refresh</a> &middot; <a href=\"index.html\">Status</a></p>\n",
            escape(&quote(n)),
            limit
        ),
        None => "<p><a href=\"index.html\">Status</a></p>\n".to_string(),
    };
    format!(
        "{head}<header><h1>{title}</h1></header>\n<main>\n{refresh}<pre class=\"tail\">{body}</pre>\n</main>\n</body>\n</html>\n",
        head = head(&title),
        title = escape(&title),
        refresh = refresh,
        body = escape(&body)
    )
}

fn head(title: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{}</title>\n<style>{}</style>\n</head>\n<body>\n",
        escape(title),
        CSS
    )
}

/// The whole look: system fonts, one accent colour, states in colour and
/// in words, a table that stacks into cards on narrow screens.
const CSS: &str = "\
*{box-sizing:border-box}\
body{margin:0;font:15px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;color:#1d232a;background:#f4f6f8}\
header{background:#24313d;color:#fff;padding:.8em 1.2em;display:flex;flex-wrap:wrap;align-items:baseline;gap:.2em 1em}\
h1{font-size:1.2em;margin:0;font-weight:600}\
.ident{margin:0;opacity:.75}\
main{padding:1em 1.2em;max-width:1200px}\
.status_msg{background:#fff8d6;border:1px solid #e8d372;padding:.5em .8em;border-radius:4px}\
.buttons{display:flex;gap:.5em;margin:0 0 1em}\
button{font:inherit;padding:.3em .8em;border:1px solid #9aa7b3;border-radius:4px;background:#fff;color:#1d232a;cursor:pointer}\
button:hover{background:#e8eef3}\
table{width:100%;border-collapse:collapse;background:#fff;border:1px solid #d5dce2}\
th,td{text-align:left;padding:.45em .6em;border-bottom:1px solid #e3e8ec;vertical-align:middle}\
th{background:#eaeef2;font-weight:600}\
td.desc{color:#4a5560}\
div.actions{display:flex;flex-wrap:wrap;gap:.3em;align-items:center}\
div.actions form{margin:0}\
div.actions a{padding:.2em .3em;color:#1b5fa8;white-space:nowrap;font-size:.92em}\
.state{display:inline-block;min-width:6.5em;text-align:center;padding:.1em .5em;border-radius:3px;font-weight:600;font-size:.85em;text-transform:uppercase}\
.statusrunning{background:#d9f2df;color:#17612c}\
.statuserror{background:#fbdcdc;color:#9b1c1c}\
.statusnominal{background:#e6e9ed;color:#3d4750}\
pre.tail{background:#fff;border:1px solid #d5dce2;padding:.8em;overflow:auto;white-space:pre-wrap;word-break:break-all}\
footer{padding:1em 1.2em;color:#6b7680;font-size:.85em}\
@media (max-width:700px){thead{display:none}table,tbody,tr,td{display:block;width:100%}tr{border-bottom:2px solid #d5dce2;padding:.3em 0}td{border:0;padding:.2em .6em}}\
";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_and_quoting() {
        let form = parse_form("processname=a%3Ab&action=start&action=stop", "");
        assert_eq!(get(&form, "processname"), Some("a:b"));
        assert_eq!(get(&form, "action"), Some("start"));
        let form = parse_form("action=refresh", "action=stop&processname=x+y");
        assert_eq!(get(&form, "action"), Some("stop"));
        assert_eq!(get(&form, "processname"), Some("x y"));
        assert_eq!(
            quote("Process foo:bar started"),
            "Process%20foo%3Abar%20started"
        );
        assert_eq!(unquote_plus("%zz%41+"), "%zzA ");
        assert_eq!(escape("<script>\"&'"), "&lt;script&gt;&quot;&amp;&#39;");
    }

    #[test]
    fn weekdays() {
        assert_eq!(weekday(1970, 1, 1), 3); // Thursday
        assert_eq!(weekday(2026, 11, 23), 0); // Monday
        assert_eq!(weekday(2000, 2, 29), 1); // Tuesday
    }
}
