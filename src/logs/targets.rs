//! The targets of one output channel besides its main log file: the rest
//! of a `stdout_logfile = app.log, /dev/stdout, syslog @host` list (the Go
//! supervisord's extension).
//!
//! Owns the extra files (each rotated on its own by the channel's maxbytes
//! and backups; `/dev/stdout` and other special files never rotate) and
//! the channel's handles on its syslog destinations, with the PRI and TAG
//! its messages carry. The main log stays the pump's [`ChannelSink::log`]:
//! RPC reads, tails and clears only that one, and events are emitted once
//! per chunk whatever the number of targets.
//!
//! Syslog messages are one per line, RFC 3164: `<PRI>Mmm dd hh:mm:ss
//! TAG[PID]: MSG` to a local socket (the local daemon adds the host name,
//! as for glibc's `syslog(3)`), `<PRI>Mmm dd hh:mm:ss HOSTNAME TAG[PID]:
//! MSG` over the network. PID is the child's. Formatting happens here, on
//! the pump thread; delivery is [`syslog_sender`]'s and never blocks.
//!
//! [`ChannelSink::log`]: super::pump::ChannelSink::log
//! [`syslog_sender`]: super::syslog_sender

use std::fmt;
use std::fs::File;
use std::io::{self, Write};
use std::os::fd::AsFd;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::SystemTime;

use super::activity;
use super::localtime::LocalTime;
use super::rotating::RotatingFile;
use super::syslog_sender::{SyslogDest, SyslogSender};
use crate::pycompat::repr::py_repr;

/// What to open, as the configuration says it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetSpec {
    File(PathBuf),
    Syslog {
        dest: SyslogDest,
        facility: u8,
        severity: u8,
        tag: String,
    },
}

/// A partial line is sent once it reaches this many bytes: a bound on
/// what a child that never writes a newline makes us hold, and a message
/// size every syslog server takes.
pub const MAX_LINE: usize = 4096;

struct ExtraFile {
    file: Mutex<Writer>,
    /// A write failed and was reported; quiet until one succeeds.
    failing: AtomicBool,
}

/// An extra file, or the daemon's own stdout/stderr.
enum Writer {
    File(RotatingFile),
    /// A dup of our fd 1 or 2, written like our own output (as the Go
    /// supervisord does). Opening `/dev/stdout` instead would make a new
    /// open file description: when our stdout is a regular file opened
    /// without O_APPEND, its bytes and the daemon's echoed log lines
    /// would overwrite each other.
    Std(&'static str, File),
}

impl Writer {
    fn open(path: &Path, maxbytes: u64, backups: u32) -> io::Result<Writer> {
        let std = match path.as_os_str().as_bytes() {
            b"/dev/stdout" => Some(("/dev/stdout", io::stdout().as_fd().try_clone_to_owned())),
            b"/dev/stderr" => Some(("/dev/stderr", io::stderr().as_fd().try_clone_to_owned())),
            _ => None,
        };
        match std {
            Some((name, fd)) => Ok(Writer::Std(name, File::from(fd?))),
            None => RotatingFile::open(path, maxbytes, backups).map(Writer::File),
        }
    }

    fn write_all(&mut self, data: &[u8]) -> io::Result<()> {
        match self {
            Writer::File(f) => f.write_all(data),
            Writer::Std(_, f) => f.write_all(data),
        }
    }

    fn path(&self) -> &Path {
        match self {
            Writer::File(f) => f.path(),
            Writer::Std(name, _) => Path::new(name),
        }
    }

    fn reopen(&mut self) -> io::Result<()> {
        match self {
            Writer::File(f) => f.reopen(),
            Writer::Std(..) => Ok(()),
        }
    }
}

struct SyslogTarget {
    sender: Arc<SyslogSender>,
    pri: u8,
    tag: String,
}

/// The opened extra targets of one channel. Kept by the process across
/// restarts (so a respawn does not reopen files or restart senders) and
/// shared with each of its pumps.
pub struct ExtraTargets {
    files: Vec<ExtraFile>,
    syslogs: Vec<SyslogTarget>,
}

impl fmt::Debug for ExtraTargets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ExtraTargets")
            .field("files", &self.files.len())
            .field("syslogs", &self.syslogs.len())
            .finish()
    }
}

/// This host's name for network messages, looked up once.
fn hostname() -> &'static str {
    static HOST: OnceLock<String> = OnceLock::new();
    HOST.get_or_init(|| {
        nix::unistd::gethostname()
            .ok()
            .map(|h| h.to_string_lossy().into_owned())
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "localhost".to_string())
    })
}

/// The RFC 3164 PRI, TIMESTAMP, HOSTNAME (for the network) and TAG
/// before each message of one chunk.
fn header(pri: u8, t: &LocalTime, host: Option<&str>, tag: &str, pid: i32) -> Vec<u8> {
    let host = host.map(|h| format!("{h} ")).unwrap_or_default();
    format!(
        "<{pri}>{} {:>2} {:02}:{:02}:{:02} {host}{tag}[{pid}]: ",
        t.month_abbr(),
        t.day,
        t.hour,
        t.minute,
        t.second
    )
    .into_bytes()
}

impl ExtraTargets {
    /// Opens every target of `specs`. One that cannot be opened is
    /// reported (as an unopenable main log is) and left out; None when
    /// nothing is left.
    pub fn open(
        name: &str,
        specs: &[TargetSpec],
        maxbytes: u64,
        backups: u32,
    ) -> Option<Arc<ExtraTargets>> {
        let mut files = Vec::new();
        let mut syslogs = Vec::new();
        for spec in specs {
            match spec {
                TargetSpec::File(path) => match Writer::open(path, maxbytes, backups) {
                    Ok(f) => files.push(ExtraFile {
                        file: Mutex::new(f),
                        failing: AtomicBool::new(false),
                    }),
                    Err(e) => {
                        activity::error(format!("cannot open log file {}: {e}", path.display()))
                    }
                },
                TargetSpec::Syslog {
                    dest,
                    facility,
                    severity,
                    tag,
                } => match SyslogSender::for_dest(dest) {
                    Ok(sender) => syslogs.push(SyslogTarget {
                        sender,
                        pri: (facility << 3) | (severity & 7),
                        tag: tag.clone(),
                    }),
                    Err(e) => activity::error(format!(
                        "{}: cannot start the sender for syslog target {dest}: {e}",
                        py_repr(name)
                    )),
                },
            }
        }
        if files.is_empty() && syslogs.is_empty() {
            return None;
        }
        Some(Arc::new(ExtraTargets { files, syslogs }))
    }

    /// True when output must be cut into lines for syslog.
    pub fn has_syslog(&self) -> bool {
        !self.syslogs.is_empty()
    }

    /// Writes `data` to every extra file. A failure is reported once per
    /// file until a write to it succeeds again; it never stops the others.
    pub fn write_files(&self, name: &str, channel: &str, data: &[u8]) {
        for f in &self.files {
            let mut file = f.file.lock().unwrap_or_else(|p| p.into_inner());
            match file.write_all(data) {
                Ok(()) => f.failing.store(false, Ordering::Relaxed),
                Err(e) => {
                    if !f.failing.swap(true, Ordering::Relaxed) {
                        let path = file.path().display().to_string();
                        drop(file);
                        activity::error(format!(
                            "{}: error writing {channel} log {path}: {e}",
                            py_repr(name)
                        ));
                    }
                }
            }
        }
    }

    /// Queues one message per line (without its newline; a trailing CR
    /// goes too, and empty lines are skipped) to every syslog target.
    pub fn send_lines(&self, lines: &[Vec<u8>], pid: i32) {
        let lines: Vec<&[u8]> = lines
            .iter()
            .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
            .filter(|l| !l.is_empty())
            .collect();
        if lines.is_empty() {
            return;
        }
        let t = LocalTime::from_system(SystemTime::now());
        for s in &self.syslogs {
            let network = s.sender.dest().is_network();
            let head = header(s.pri, &t, network.then(hostname), &s.tag, pid);
            // RFC 6587 non-transparent framing for TCP.
            let lf = matches!(s.sender.dest(), SyslogDest::Tcp(..));
            let msgs = lines
                .iter()
                .map(|l| {
                    let mut m = Vec::with_capacity(head.len() + l.len() + 1);
                    m.extend_from_slice(&head);
                    m.extend_from_slice(l);
                    if lf {
                        m.push(b'\n');
                    }
                    m
                })
                .collect();
            s.sender.push_all(msgs);
        }
    }

    /// SIGUSR2 / logrotate: reopens every extra file.
    pub fn reopen(&self) {
        for f in &self.files {
            let mut file = f.file.lock().unwrap_or_else(|p| p.into_inner());
            if let Err(e) = file.reopen() {
                activity::error(format!("cannot reopen {}: {e}", file.path().display()));
            }
        }
    }
}

/// Cuts a channel's output into lines for syslog: complete lines go out
/// at once, a partial one is held until its newline, until it reaches
/// [`MAX_LINE`], or until the pipe closes ([`LineBuf::flush`]).
#[derive(Debug, Default)]
pub struct LineBuf {
    partial: Vec<u8>,
}

impl LineBuf {
    /// Appends to `out` the lines `data` completes, without newlines.
    pub fn split(&mut self, data: &[u8], out: &mut Vec<Vec<u8>>) {
        let mut rest = data;
        while let Some(i) = rest.iter().position(|&b| b == b'\n') {
            let line = &rest[..i];
            if self.partial.is_empty() {
                out.push(line.to_vec());
            } else {
                self.partial.extend_from_slice(line);
                out.push(std::mem::take(&mut self.partial));
            }
            rest = &rest[i + 1..];
        }
        self.partial.extend_from_slice(rest);
        while self.partial.len() >= MAX_LINE {
            let tail = self.partial.split_off(MAX_LINE);
            out.push(std::mem::replace(&mut self.partial, tail));
        }
    }

    /// The held partial line, if any.
    pub fn flush(&mut self, out: &mut Vec<Vec<u8>>) {
        if !self.partial.is_empty() {
            out.push(std::mem::take(&mut self.partial));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::net::UnixDatagram;
    use std::time::Duration;

    #[test]
    fn lines_are_held_until_complete_and_bounded() {
        let mut b = LineBuf::default();
        let mut out = Vec::new();
        b.split(b"one\ntw", &mut out);
        assert_eq!(out, vec![b"one".to_vec()]);
        b.split(b"o\n\nthr", &mut out);
        assert_eq!(out, vec![b"one".to_vec(), b"two".to_vec(), b"".to_vec()]);
        b.flush(&mut out);
        assert_eq!(out.last().unwrap(), b"thr");
        b.flush(&mut out);
        assert_eq!(out.len(), 4);
        let mut out = Vec::new();
        b.split(&vec![b'x'; MAX_LINE * 2 + 3], &mut out);
        assert_eq!(out.len(), 2);
        assert!(out.iter().all(|l| l.len() == MAX_LINE));
        b.split(b"\n", &mut out);
        assert_eq!(out[2], b"xxx");
    }

    #[test]
    fn header_is_rfc3164() {
        let t = LocalTime {
            year: 2026,
            month: 11,
            day: 1,
            hour: 9,
            minute: 5,
            second: 7,
            millis: 0,
        };
        assert_eq!(
            header(133, &t, None, "web", 42),
            b"<133>Nov  1 09:05:07 web[42]: "
        );
        assert_eq!(
            header(133, &t, Some("box"), "web", 42),
            b"<133>Nov  1 09:05:07 box web[42]: "
        );
    }

    #[test]
    fn local_socket_gets_one_message_per_line() {
        let dir = tempfile::tempdir().unwrap();
        let sock = dir.path().join("log");
        let server = UnixDatagram::bind(&sock).unwrap();
        server
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let t = ExtraTargets::open(
            "prog",
            &[TargetSpec::Syslog {
                dest: SyslogDest::Unix(sock.clone()),
                facility: 3,
                severity: 4,
                tag: "tg".into(),
            }],
            0,
            0,
        )
        .unwrap();
        assert!(t.has_syslog());
        t.send_lines(&[b"a\r".to_vec(), b"".to_vec(), b"b c".to_vec()], 7);
        let mut buf = [0u8; 512];
        let mut got = Vec::new();
        for _ in 0..2 {
            let n = server.recv(&mut buf).unwrap();
            got.push(String::from_utf8_lossy(&buf[..n]).into_owned());
        }
        // daemon (3) * 8 + warning (4) = 28
        assert!(
            got[0].starts_with("<28>") && got[0].ends_with(" tg[7]: a"),
            "{got:?}"
        );
        assert!(got[1].ends_with(" tg[7]: b c"), "{got:?}");
    }

    #[test]
    fn extra_files_rotate_on_their_own() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.log");
        let b = dir.path().join("b.log");
        std::fs::write(&b, vec![b'.'; 8]).unwrap();
        let t = ExtraTargets::open(
            "prog",
            &[TargetSpec::File(a.clone()), TargetSpec::File(b.clone())],
            10,
            2,
        )
        .unwrap();
        assert!(!t.has_syslog());
        t.write_files("prog", "stdout", b"12345");
        // b was at 8 bytes: it reached 10 and rotated; a did not.
        assert_eq!(std::fs::read(&a).unwrap(), b"12345");
        assert_eq!(std::fs::read(&b).unwrap(), b"");
        assert!(dir.path().join("b.log.1").exists());
        assert!(!dir.path().join("a.log.1").exists());
    }

    #[test]
    fn nothing_openable_is_none() {
        let t = ExtraTargets::open(
            "prog",
            &[TargetSpec::File("/nonexistent-dir/x.log".into())],
            0,
            0,
        );
        assert!(t.is_none());
    }
}
