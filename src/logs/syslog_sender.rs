//! Delivery of child output to syslog targets (the Go supervisord's
//! `syslog` and `syslog @[proto:]host[:port]` log targets).
//!
//! Owns one bounded queue and one sender thread per destination, shared by
//! every channel that logs there. A pump only appends finished messages to
//! the queue and never waits for the network: a target that is down or slow
//! costs it nothing but a mutex. When the queue is full (1000 messages or
//! 1 MiB) the oldest message is dropped, so what reaches the server after
//! an outage is the most recent output. Losses and failures are reported to
//! the activity log at most once a minute per destination.
//!
//! The sender thread sleeps on its queue's condvar while there is nothing to
//! do; it sets a deadline only for a reconnect (backoff 1 s doubling to
//! 60 s) or for a loss report that is due. TCP uses RFC 6587
//! non-transparent framing: each message ends with LF (our messages are
//! single lines, so no LF can occur inside one).

use std::collections::VecDeque;
use std::fmt;
use std::io::{self, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs, UdpSocket};
use std::os::unix::net::UnixDatagram;
use std::path::PathBuf;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant};

use super::activity;

/// Where a syslog target's messages go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyslogDest {
    /// A local datagram socket (`/dev/log`).
    Unix(PathBuf),
    Udp(String, u16),
    /// RFC 6587 non-transparent framing (LF after each message).
    Tcp(String, u16),
}

impl SyslogDest {
    /// True for udp/tcp: RFC 3164 wants a HOSTNAME in a relayed message
    /// (the local daemon adds its own, as for glibc's `syslog(3)`).
    pub fn is_network(&self) -> bool {
        !matches!(self, SyslogDest::Unix(_))
    }
}

impl fmt::Display for SyslogDest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let host = |h: &str| {
            if h.contains(':') {
                format!("[{h}]")
            } else {
                h.to_string()
            }
        };
        match self {
            SyslogDest::Unix(p) => write!(f, "unix:{}", p.display()),
            SyslogDest::Udp(h, p) => write!(f, "udp:{}:{p}", host(h)),
            SyslogDest::Tcp(h, p) => write!(f, "tcp:{}:{p}", host(h)),
        }
    }
}

/// Messages queued per destination at most.
const MAX_MESSAGES: usize = 1000;
/// Bytes queued per destination at most.
const MAX_BYTES: usize = 1 << 20;
/// Loss and failure reports per destination: at most one per this.
const REPORT_EVERY: Duration = Duration::from_secs(60);
const BACKOFF_MIN: Duration = Duration::from_secs(1);
const BACKOFF_MAX: Duration = Duration::from_secs(60);
/// A connect or a blocked write gives up after this; the queue, not the
/// pump, absorbs the wait.
const IO_TIMEOUT: Duration = Duration::from_secs(5);
/// getaddrinfo may need more than a pump's 64 KiB.
const STACK_SIZE: usize = 256 * 1024;

#[derive(Default)]
struct Queue {
    messages: VecDeque<Vec<u8>>,
    bytes: usize,
    /// Dropped on overflow since the sender last looked.
    dropped: u64,
    /// Every producer handle is gone: send what is left, then exit.
    closed: bool,
    /// The sender sleeps on the condvar; only then is a notify needed
    /// (notifying costs a syscall even with nobody waiting).
    sender_waiting: bool,
}

impl Queue {
    /// Appends `msg`, dropping the oldest messages past the bounds.
    fn push(&mut self, msg: Vec<u8>) {
        self.bytes += msg.len();
        self.messages.push_back(msg);
        while self.messages.len() > MAX_MESSAGES || self.bytes > MAX_BYTES {
            match self.messages.pop_front() {
                Some(old) => {
                    self.bytes -= old.len();
                    self.dropped += 1;
                }
                None => break,
            }
        }
    }

    /// Puts back messages the sender could not deliver, in front, within
    /// the bounds (the oldest go first).
    fn requeue(&mut self, undelivered: Vec<Vec<u8>>) {
        let newer = std::mem::take(&mut self.messages);
        self.bytes = 0;
        for m in undelivered.into_iter().chain(newer) {
            self.push(m);
        }
    }
}

struct Shared {
    queue: Mutex<Queue>,
    wake: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A producer's handle on one destination's queue. Dropping the last one
/// lets the sender thread finish the queue and exit.
pub struct SyslogSender {
    shared: Arc<Shared>,
    dest: SyslogDest,
}

impl fmt::Debug for SyslogSender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SyslogSender({})", self.dest)
    }
}

/// The live senders, one per destination.
static SENDERS: Mutex<Vec<Weak<SyslogSender>>> = Mutex::new(Vec::new());

impl SyslogSender {
    /// The sender for `dest`, starting its thread if there is none.
    pub fn for_dest(dest: &SyslogDest) -> io::Result<Arc<SyslogSender>> {
        let mut all = SENDERS.lock().unwrap_or_else(|p| p.into_inner());
        all.retain(|w| w.strong_count() > 0);
        if let Some(s) = all
            .iter()
            .filter_map(Weak::upgrade)
            .find(|s| &s.dest == dest)
        {
            return Ok(s);
        }
        let shared = Arc::new(Shared {
            queue: Mutex::new(Queue::default()),
            wake: Condvar::new(),
        });
        let thread_shared = Arc::clone(&shared);
        let thread_dest = dest.clone();
        std::thread::Builder::new()
            .name(format!("syslog {dest}"))
            .stack_size(STACK_SIZE)
            .spawn(move || run(thread_shared, thread_dest))?;
        let s = Arc::new(SyslogSender {
            shared,
            dest: dest.clone(),
        });
        all.push(Arc::downgrade(&s));
        Ok(s)
    }

    pub fn dest(&self) -> &SyslogDest {
        &self.dest
    }

    /// Queues finished messages; never blocks on the destination.
    pub fn push_all(&self, messages: Vec<Vec<u8>>) {
        if messages.is_empty() {
            return;
        }
        let mut q = self.shared.lock();
        for m in messages {
            q.push(m);
        }
        let wake = q.sender_waiting;
        drop(q);
        if wake {
            self.shared.wake.notify_one();
        }
    }
}

impl Drop for SyslogSender {
    fn drop(&mut self) {
        self.shared.lock().closed = true;
        self.shared.wake.notify_one();
    }
}

/// An open connection to a destination.
enum Conn {
    Unix(UnixDatagram),
    Udp(UdpSocket),
    Tcp(TcpStream),
}

fn resolve(host: &str, port: u16) -> io::Result<Vec<SocketAddr>> {
    let addrs: Vec<SocketAddr> = (host, port).to_socket_addrs()?.collect();
    if addrs.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::NotFound,
            format!("no address for {host}"),
        ));
    }
    Ok(addrs)
}

impl Conn {
    fn open(dest: &SyslogDest) -> io::Result<Conn> {
        match dest {
            SyslogDest::Unix(path) => {
                let s = UnixDatagram::unbound()?;
                s.connect(path)?;
                s.set_write_timeout(Some(IO_TIMEOUT))?;
                Ok(Conn::Unix(s))
            }
            SyslogDest::Udp(host, port) => {
                let addr = resolve(host, *port)?[0];
                let any: SocketAddr = if addr.is_ipv4() {
                    ([0, 0, 0, 0], 0).into()
                } else {
                    ([0u16; 8], 0).into()
                };
                let s = UdpSocket::bind(any)?;
                s.connect(addr)?;
                Ok(Conn::Udp(s))
            }
            SyslogDest::Tcp(host, port) => {
                let mut last = None;
                for addr in resolve(host, *port)? {
                    match TcpStream::connect_timeout(&addr, IO_TIMEOUT) {
                        Ok(s) => {
                            s.set_write_timeout(Some(IO_TIMEOUT))?;
                            return Ok(Conn::Tcp(s));
                        }
                        Err(e) => last = Some(e),
                    }
                }
                Err(last.unwrap_or_else(|| io::Error::other("no address")))
            }
        }
    }

    fn send(&mut self, msg: &[u8]) -> io::Result<()> {
        match self {
            Conn::Unix(s) => s.send(msg).map(drop),
            Conn::Udp(s) => s.send(msg).map(drop),
            Conn::Tcp(s) => s.write_all(msg),
        }
    }

    /// After a failed send, is the connection still worth using? A UDP
    /// socket is (ECONNREFUSED only echoes an ICMP error for an earlier
    /// datagram); a stream, or a datagram socket whose reader is gone, is
    /// not.
    fn survives(&self, e: &io::Error) -> bool {
        match self {
            Conn::Udp(_) => true,
            Conn::Unix(_) => !matches!(
                e.raw_os_error(),
                Some(libc::ECONNREFUSED | libc::ENOTCONN | libc::ECONNRESET | libc::ENOENT)
            ),
            Conn::Tcp(_) => false,
        }
    }
}

/// What the activity log has yet to hear about one destination.
#[derive(Default)]
struct Report {
    last: Option<Instant>,
    lost: u64,
    error: Option<String>,
}

impl Report {
    /// When the pending report may be written (`now` for the first one);
    /// None if nothing is pending.
    fn due(&self, now: Instant) -> Option<Instant> {
        if self.lost == 0 && self.error.is_none() {
            return None;
        }
        Some(match self.last {
            Some(t) => t + REPORT_EVERY,
            None => now,
        })
    }

    fn write(&mut self, dest: &SyslogDest, now: Instant) {
        let error = self.error.take();
        let text = match (std::mem::take(&mut self.lost), error) {
            (0, Some(e)) => format!("syslog target {dest}: {e}"),
            (n, Some(e)) => format!("syslog target {dest}: {n} lines dropped ({e})"),
            (n, None) => format!("syslog target {dest}: {n} lines dropped (queue full)"),
        };
        activity::warn(text);
        self.last = Some(now);
    }
}

/// What the sender does next.
enum Step {
    Send(Vec<Vec<u8>>),
    Report,
    Exit,
}

fn run(shared: Arc<Shared>, dest: SyslogDest) {
    let mut conn: Option<Conn> = None;
    let mut retry_at: Option<Instant> = None;
    let mut backoff = BACKOFF_MIN;
    let mut report = Report::default();
    loop {
        let step = {
            let mut q = shared.lock();
            loop {
                report.lost += std::mem::take(&mut q.dropped);
                let now = Instant::now();
                let waiting_retry = retry_at.filter(|t| *t > now);
                if !q.messages.is_empty() && waiting_retry.is_none() {
                    q.bytes = 0;
                    break Step::Send(q.messages.drain(..).collect());
                }
                if report.due(now).is_some_and(|t| t <= now) {
                    break Step::Report;
                }
                if q.closed && (q.messages.is_empty() || waiting_retry.is_some()) {
                    // Nobody will write here again; what cannot go now is lost.
                    report.lost += q.messages.len() as u64;
                    break Step::Exit;
                }
                let deadline = [
                    waiting_retry.filter(|_| !q.messages.is_empty()),
                    report.due(now),
                ]
                .into_iter()
                .flatten()
                .min();
                q.sender_waiting = true;
                q = match deadline {
                    None => shared.wake.wait(q).unwrap_or_else(|p| p.into_inner()),
                    Some(t) => {
                        let left = t.saturating_duration_since(now);
                        shared
                            .wake
                            .wait_timeout(q, left)
                            .unwrap_or_else(|p| p.into_inner())
                            .0
                    }
                };
                q.sender_waiting = false;
            }
        };
        match step {
            Step::Exit => {
                let now = Instant::now();
                if report.due(now).is_some() {
                    report.write(&dest, now);
                }
                return;
            }
            Step::Report => report.write(&dest, Instant::now()),
            Step::Send(batch) => {
                if conn.is_none() {
                    match Conn::open(&dest) {
                        Ok(c) => {
                            conn = Some(c);
                            retry_at = None;
                        }
                        Err(e) => {
                            report.error = Some(format!("cannot connect: {e}"));
                            retry_at = Some(Instant::now() + backoff);
                            backoff = (backoff * 2).min(BACKOFF_MAX);
                            shared.lock().requeue(batch);
                            continue;
                        }
                    }
                }
                match send_batch(&shared, &mut conn, batch, &mut report) {
                    // A server that accepts and then drops us at once must
                    // not make us reconnect in a loop.
                    Sent::Broken => {
                        retry_at = Some(Instant::now() + backoff);
                        backoff = (backoff * 2).min(BACKOFF_MAX);
                    }
                    Sent::Some => backoff = BACKOFF_MIN,
                    Sent::None => {}
                }
            }
        }
    }
}

/// How a batch went.
enum Sent {
    /// The connection broke and was dropped.
    Broken,
    /// At least one message went out.
    Some,
    /// Nothing went out, but the connection is still usable.
    None,
}

/// Sends `batch` in order. A broken connection is dropped (a later batch
/// reconnects) and what was not sent goes back in front of the queue.
fn send_batch(
    shared: &Shared,
    conn: &mut Option<Conn>,
    batch: Vec<Vec<u8>>,
    report: &mut Report,
) -> Sent {
    let mut outcome = Sent::None;
    let mut rest = batch.into_iter();
    while let Some(msg) = rest.next() {
        let Some(c) = conn.as_mut() else {
            break;
        };
        match c.send(&msg) {
            Ok(()) => outcome = Sent::Some,
            Err(e) if c.survives(&e) => {
                report.error = Some(format!("cannot send: {e}"));
                report.lost += 1;
            }
            Err(e) => {
                report.error = Some(format!("cannot send: {e}"));
                *conn = None;
                // A stream write may have sent part of it: send it again
                // whole (the server sees a cut line, then the full one).
                let mut undelivered = vec![msg];
                undelivered.extend(rest);
                shared.lock().requeue(undelivered);
                return Sent::Broken;
            }
        }
    }
    outcome
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead, BufReader};
    use std::net::TcpListener;

    #[test]
    fn queue_drops_oldest_past_its_bounds() {
        let mut q = Queue::default();
        for i in 0..(MAX_MESSAGES + 5) {
            q.push(format!("m{i}").into_bytes());
        }
        assert_eq!(q.messages.len(), MAX_MESSAGES);
        assert_eq!(q.dropped, 5);
        assert_eq!(q.messages.front().map(Vec::as_slice), Some(&b"m5"[..]));
        let mut q = Queue::default();
        q.push(vec![b'x'; MAX_BYTES - 10]);
        q.push(vec![b'y'; 20]);
        assert_eq!(q.messages.len(), 1);
        assert_eq!(q.bytes, 20);
        q.requeue(vec![b"old".to_vec()]);
        assert_eq!(q.messages.front().map(Vec::as_slice), Some(&b"old"[..]));
        assert_eq!(q.bytes, 23);
    }

    #[test]
    fn display_names_the_destination() {
        assert_eq!(
            SyslogDest::Udp("::1".into(), 514).to_string(),
            "udp:[::1]:514"
        );
        assert_eq!(SyslogDest::Tcp("h".into(), 6514).to_string(), "tcp:h:6514");
        assert_eq!(
            SyslogDest::Unix("/dev/log".into()).to_string(),
            "unix:/dev/log"
        );
    }

    #[test]
    fn one_sender_per_destination() {
        let d = SyslogDest::Udp("127.0.0.1".into(), 9);
        let a = SyslogSender::for_dest(&d).unwrap();
        let b = SyslogSender::for_dest(&d).unwrap();
        assert!(Arc::ptr_eq(&a, &b));
        let c = SyslogSender::for_dest(&SyslogDest::Udp("127.0.0.1".into(), 10)).unwrap();
        assert!(!Arc::ptr_eq(&a, &c));
    }

    #[test]
    fn tcp_frames_with_lf_and_reconnects_after_the_server_returns() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let s = SyslogSender::for_dest(&SyslogDest::Tcp("127.0.0.1".into(), port)).unwrap();
        s.push_all(vec![b"one\n".to_vec(), b"two\n".to_vec()]);
        let (conn, _) = listener.accept().unwrap();
        conn.set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let mut r = BufReader::new(conn);
        let mut line = String::new();
        r.read_line(&mut line).unwrap();
        assert_eq!(line, "one\n");
        line.clear();
        r.read_line(&mut line).unwrap();
        assert_eq!(line, "two\n");
        // The server drops the connection; later lines come on a new one.
        drop(r);
        let end = Instant::now() + Duration::from_secs(20);
        listener.set_nonblocking(true).unwrap();
        let mut got = String::new();
        while Instant::now() < end && !got.contains("again") {
            s.push_all(vec![b"again\n".to_vec()]);
            if let Ok((c, _)) = listener.accept() {
                c.set_nonblocking(false).unwrap();
                c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
                let mut r = BufReader::new(c);
                r.read_line(&mut got).unwrap();
            } else {
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        assert!(got.contains("again"), "{got:?}");
    }
}
