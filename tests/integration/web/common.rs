//! Helpers shared by the web page tests (`actions`, `browser`): a daemon of
//! either kind with an inet server, requests without its credentials, and
//! small text helpers.

use std::time::Duration;

use crate::util::http::{self, Addr, Response};
pub use crate::util::{Daemon, Impl};

/// Starts `imp` with debug logging, an inet server (with basic `auth`, if
/// given, which the daemon's own requests then send) and `programs`
/// (config sections; `DIR` in them is the daemon's temp dir); returns once
/// it answers.
pub fn start(imp: Impl, programs: &str, auth: Option<(&str, &str)>) -> Daemon {
    let mut b = Daemon::builder(imp).supervisord("loglevel=debug").inet();
    if let Some((user, password)) = auth {
        b = b.auth(user, password);
    }
    let programs = programs.replace("DIR", &b.dir().display().to_string());
    b.sections(&programs).start()
}

/// SIGTERM, and the daemon must exit within the harness's bound.
pub fn stop(mut d: Daemon) {
    assert!(
        d.stop().is_some(),
        "{} supervisord did not exit on SIGTERM",
        d.name()
    );
}

/// An HTTP/1.0 GET with exactly `headers` (whole lines): none of the
/// daemon's own credentials.
pub fn get_as(d: &Daemon, target: &str, headers: &[&str]) -> Result<Response, String> {
    let host = format!("Host: 127.0.0.1:{}", d.port());
    let mut all = vec![host.as_str()];
    all.extend_from_slice(headers);
    let req = http::request("GET", target, "HTTP/1.0", &all, None);
    http::exchange(&Addr::Tcp(d.port()), &req, Duration::from_secs(30))
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
