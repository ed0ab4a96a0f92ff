//! Refusing state-changing requests that a browser says come from another
//! site. A page on any site can make the user's browser send a form POST
//! (or, for Python's GET action links, a plain GET) to
//! `http://127.0.0.1:9001/index.html?action=stop`, with the basic-auth
//! credentials the browser remembers. Browsers mark such requests, and a
//! page cannot take the marks off: `Sec-Fetch-Site: cross-site`, or an
//! `Origin` (`null` included) naming another host than the request's
//! `Host`, or, without an `Origin`, a `Referer` that does. supervisorctl,
//! curl, scripts and XML-RPC libraries send none of these headers, so
//! they are served exactly as before (and as Python serves them).
//!
//! A deliberate difference from Python, which has no such check.

use super::wire::Request;
use crate::logs::activity;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Why a request is refused, or None to serve it. `Host` is compared with
/// the authority of the `Origin` or `Referer` (ASCII case folded, the
/// scheme's default port dropped).
pub fn refusal(req: &Request) -> Option<String> {
    if req
        .header("Sec-Fetch-Site")
        .is_some_and(|s| s.trim().eq_ignore_ascii_case("cross-site"))
    {
        return Some("the browser marks it cross-site (Sec-Fetch-Site)".to_string());
    }
    let host = req.header("Host").map(|h| normalize(h.trim(), "http"));
    let (header, value) = match (req.header("Origin"), req.header("Referer")) {
        (Some(origin), _) => ("Origin", origin.trim()),
        (None, Some(referer)) => ("Referer", referer.trim()),
        (None, None) => return None,
    };
    if header == "Origin" && value.eq_ignore_ascii_case("null") {
        return Some("it comes from an opaque origin (Origin: null)".to_string());
    }
    let from = authority(value);
    if from.is_some() && from == host {
        return None;
    }
    Some(format!("{} {} is not this server", header, value))
}

/// `host[:port]` of an absolute http(s) URL, normalized; None otherwise.
fn authority(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "http" && scheme != "https" {
        return None;
    }
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    // Credentials in a URL are not part of the authority we compare.
    let hostport = rest[..end].rsplit('@').next().unwrap_or("");
    (!hostport.is_empty()).then(|| normalize(hostport, &scheme))
}

/// Lower case, without the scheme's default port.
fn normalize(hostport: &str, scheme: &str) -> String {
    let lower = hostport.to_ascii_lowercase();
    let default = if scheme == "https" { ":443" } else { ":80" };
    match lower.strip_suffix(default) {
        Some(h) => h.to_string(),
        None => lower,
    }
}

/// Logs a refusal, at most once a minute (a page can send many).
pub fn log_refusal(req: &Request, reason: &str) {
    static LAST: Mutex<Option<Instant>> = Mutex::new(None);
    let Ok(mut last) = LAST.lock() else {
        return;
    };
    let now = Instant::now();
    if last.is_some_and(|t| now < t + Duration::from_secs(60)) {
        return;
    }
    *last = Some(now);
    activity::warn(format!(
        "refused a cross-site request {} {}: {} (more are not logged for a minute)",
        req.method, req.url, reason
    ));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::wire::Version;

    fn req(headers: &[(&str, &str)]) -> Request {
        Request {
            method: "POST".into(),
            url: "/RPC2".into(),
            version: Version::Http11,
            headers: headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            body: Vec::new(),
        }
    }

    #[test]
    fn clients_without_browser_headers_are_served() {
        assert_eq!(refusal(&req(&[])), None);
        assert_eq!(refusal(&req(&[("Host", "127.0.0.1:9001")])), None);
        assert_eq!(refusal(&req(&[("Host", "localhost")])), None);
    }

    #[test]
    fn same_origin_is_served() {
        let host = ("Host", "127.0.0.1:9001");
        for headers in [
            vec![host, ("Origin", "http://127.0.0.1:9001")],
            vec![host, ("Origin", "HTTP://127.0.0.1:9001")],
            vec![host, ("Referer", "http://127.0.0.1:9001/index.html?x=1")],
            vec![host, ("Sec-Fetch-Site", "same-origin")],
            vec![
                host,
                ("Sec-Fetch-Site", "same-site"),
                ("Origin", "http://127.0.0.1:9001"),
            ],
            vec![("Host", "Example.org"), ("Origin", "http://example.org:80")],
            vec![
                ("Host", "example.org:80"),
                ("Referer", "http://example.org/"),
            ],
            vec![
                ("Host", "example.org"),
                ("Origin", "https://example.org:443"),
            ],
            vec![("Host", "[::1]:9001"), ("Origin", "http://[::1]:9001")],
        ] {
            assert_eq!(refusal(&req(&headers)), None, "{headers:?}");
        }
    }

    #[test]
    fn other_sites_are_refused() {
        let host = ("Host", "127.0.0.1:9001");
        for headers in [
            vec![host, ("Sec-Fetch-Site", "cross-site")],
            vec![
                host,
                ("Sec-Fetch-Site", "Cross-Site"),
                ("Origin", "http://127.0.0.1:9001"),
            ],
            vec![host, ("Origin", "null")],
            vec![host, ("Origin", "http://127.0.0.1:8000")],
            vec![host, ("Origin", "http://evil.example")],
            vec![host, ("Origin", "http://127.0.0.1:9001.evil.example")],
            vec![host, ("Referer", "http://evil.example/page")],
            vec![host, ("Referer", "http://127.0.0.1:9001@evil.example/")],
            // An Origin wins over a Referer that would pass.
            vec![
                host,
                ("Origin", "http://evil.example"),
                ("Referer", "http://127.0.0.1:9001/"),
            ],
            // Something a browser would send, but not a URL we can compare.
            vec![host, ("Referer", "about:blank")],
            vec![host, ("Origin", "file://")],
            // No Host to compare with.
            vec![("Origin", "http://127.0.0.1:9001")],
        ] {
            assert!(refusal(&req(&headers)).is_some(), "{headers:?}");
        }
    }

    #[test]
    fn the_reason_names_the_header() {
        let r = refusal(&req(&[("Host", "a:1"), ("Origin", "http://b:2")]));
        assert_eq!(r.as_deref(), Some("Origin http://b:2 is not this server"));
    }
}
