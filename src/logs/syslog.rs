//! Messages to the local syslog daemon over `/dev/log`.
//!
//! Owns the process's one datagram socket to syslog. Python Supervisor
//! calls `syslog.syslog(msg)` without `openlog`, so every message goes out
//! at `LOG_USER | LOG_INFO` whatever its log level, tagged with the program
//! name; glibc frames it as `<14>Mmm dd hh:mm:ss ident: msg`, which we
//! reproduce. A missing or dead `/dev/log` is not an error: messages are
//! dropped and the connection is retried at most once a second.

use std::os::unix::net::UnixDatagram;
use std::path::Path;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime};

use super::localtime::LocalTime;

/// `LOG_USER | LOG_INFO`, what `syslog.syslog(msg)` uses.
const PRIORITY: u8 = 14;
const SOCKET_PATH: &str = "/dev/log";
const RETRY: Duration = Duration::from_secs(1);

struct Conn {
    /// `None` means `/dev/log`; tests point this at their own socket.
    path: Option<std::path::PathBuf>,
    sock: Option<UnixDatagram>,
    last_try: Option<Instant>,
    ident: Option<String>,
}

static CONN: Mutex<Conn> = Mutex::new(Conn {
    path: None,
    sock: None,
    last_try: None,
    ident: None,
});

fn lock() -> MutexGuard<'static, Conn> {
    CONN.lock().unwrap_or_else(|p| p.into_inner())
}

/// The tag glibc would use: the base name of argv\[0\].
fn default_ident() -> String {
    std::env::args_os()
        .next()
        .and_then(|a| {
            Path::new(&a)
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
        })
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "supervisord".to_string())
}

/// Formats one syslog datagram as glibc's `syslog(3)` does.
pub fn frame(ident: &str, t: SystemTime, msg: &str) -> String {
    let lt = LocalTime::from_system(t);
    format!(
        "<{PRIORITY}>{} {:>2} {:02}:{:02}:{:02} {ident}: {msg}",
        lt.month_abbr(),
        lt.day,
        lt.hour,
        lt.minute,
        lt.second
    )
}

impl Conn {
    fn connect(&mut self) {
        let now = Instant::now();
        if let Some(t) = self.last_try {
            if now.duration_since(t) < RETRY {
                return;
            }
        }
        self.last_try = Some(now);
        let path = self.path.as_deref().unwrap_or(Path::new(SOCKET_PATH));
        self.sock = UnixDatagram::unbound()
            .and_then(|s| s.connect(path).map(|()| s))
            .ok();
    }

    fn send(&mut self, msg: &str) {
        if self.sock.is_none() {
            self.connect();
        }
        let ident = self.ident.get_or_insert_with(default_ident).clone();
        let data = frame(&ident, SystemTime::now(), msg);
        let Some(sock) = self.sock.as_ref() else {
            return;
        };
        if let Err(e) = sock.send(data.as_bytes()) {
            // syslogd restarted: our peer is gone. Reconnect once, resend.
            if matches!(
                e.raw_os_error(),
                Some(libc::ECONNREFUSED | libc::ENOTCONN | libc::ECONNRESET)
            ) {
                self.sock = None;
                self.last_try = None;
                self.connect();
                if let Some(sock) = self.sock.as_ref() {
                    let _ = sock.send(data.as_bytes());
                }
            }
            // Anything else (EAGAIN, ENOBUFS, EMSGSIZE): drop the message.
        }
    }
}

/// Sends one message to syslog; never blocks on a full socket for long and
/// never fails (undeliverable messages are dropped).
pub fn send(msg: &str) {
    lock().send(msg);
}

/// Sends each line of `text` as its own message, formatted by `fmt`, the
/// way Python's `SyslogHandler` splits `message.rstrip('\n')` on newlines.
pub fn send_lines(text: &str, mut fmt: impl FnMut(&str) -> String) {
    let mut conn = lock();
    for line in text.trim_end_matches('\n').split('\n') {
        conn.send(&fmt(line));
    }
}

/// Overrides the tag put before each message (default: argv\[0\] base name).
pub fn set_ident(ident: &str) {
    lock().ident = Some(ident.to_string());
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::UNIX_EPOCH;

    #[test]
    fn frame_shape() {
        // 2026-11-01 10:00:00 UTC: day is space-padded like %e.
        let t = UNIX_EPOCH + Duration::from_secs(1_793_527_200);
        let f = frame("supervisord", t, "hello");
        let lt = LocalTime::from_system(t);
        let want = format!(
            "<14>{} {:>2} {:02}:{:02}:{:02} supervisord: hello",
            lt.month_abbr(),
            lt.day,
            lt.hour,
            lt.minute,
            lt.second
        );
        assert_eq!(f, want);
        if lt.hour == 10 {
            assert_eq!(f, "<14>Nov  1 10:00:00 supervisord: hello");
        }
    }

    #[test]
    fn delivers_datagrams_and_reconnects() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("log");
        let server = UnixDatagram::bind(&p).unwrap();
        server
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let mut c = Conn {
            path: Some(p.clone()),
            sock: None,
            last_try: None,
            ident: Some("sd".into()),
        };
        c.send("one");
        let mut buf = [0u8; 256];
        let n = server.recv(&mut buf).unwrap();
        let got = String::from_utf8_lossy(&buf[..n]).into_owned();
        assert!(
            got.starts_with("<14>") && got.ends_with(" sd: one"),
            "{got}"
        );
        // The daemon restarts: a new socket at the same path.
        drop(server);
        std::fs::remove_file(&p).unwrap();
        let server = UnixDatagram::bind(&p).unwrap();
        server
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        c.send("two");
        let n = server.recv(&mut buf).unwrap();
        assert!(String::from_utf8_lossy(&buf[..n]).ends_with(" sd: two"));
    }

    #[test]
    fn send_without_dev_log_is_harmless() {
        send("no syslog here");
        send_lines("a\nb\n\n", |l| format!("prog {l}"));
    }
}
