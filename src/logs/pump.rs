//! Pump threads: one per child, draining its stdout/stderr pipes.
//!
//! A pump owns the read ends of one child's output pipes and does, per
//! chunk and per channel, what Python's `POutputDispatcher` (or, for an
//! event listener's stdout, `PEventListenerDispatcher`) does on the main
//! loop: capture-mode token handling, ANSI stripping, writing the child
//! log (and the other targets of a log list, see [`super::targets`]), the
//! syslog copy, the DEBUG copy in the main log, and handing
//! PROCESS_LOG / PROCESS_COMMUNICATION / listener data to the supervisor
//! loop through a callback. The loop never touches ordinary log bytes.
//!
//! A pump never stops reading because a log write failed (the child would
//! block on a full pipe); the failure is reported once to the main log.
//! It ends when both pipes reach EOF, or on [`PumpStop::drain_and_stop`],
//! and then sends [`PumpEvent::Closed`] exactly once.

use std::borrow::Cow;
use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags, PollTimeout};
use nix::sys::eventfd::{EfdFlags, EventFd};

use super::activity::{self, Level};
use super::ansi::strip_ansi;
use super::rotating::RotatingFile;
use super::syslog;
use super::targets::{ExtraTargets, LineBuf};
use crate::pycompat::repr::{py_repr, py_repr_bytes};

/// Which output pipe of the child.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Channel {
    Stdout,
    Stderr,
}

impl Channel {
    /// `"stdout"` / `"stderr"`, as in Supervisor's messages and event names.
    pub const fn name(self) -> &'static str {
        match self {
            Channel::Stdout => "stdout",
            Channel::Stderr => "stderr",
        }
    }
}

/// What to do with one channel's output.
#[derive(Clone, Debug, Default)]
pub struct ChannelSink {
    /// The channel's log file (`stdout_logfile`…); shared with the loop,
    /// which reopens or clears it under the same mutex.
    pub log: Option<Arc<Mutex<RotatingFile>>>,
    /// Remove ANSI escapes before logging (`[supervisord] strip_ansi`).
    pub strip_ansi: bool,
    /// Send every logged chunk as [`PumpEvent::Output`] (PROCESS_LOG events,
    /// `stdout_events_enabled`).
    pub events_enabled: bool,
    /// Event-listener stdout: every raw chunk goes to the loop as
    /// [`PumpEvent::Output`] for the listener protocol. Logged to `log`
    /// only (no capture mode, no syslog, no PROCESS_LOG), as Python's
    /// `PEventListenerDispatcher` does.
    pub forward_all: bool,
    /// `stdout_capture_maxbytes`; 0 disables capture mode.
    pub capture_maxbytes: usize,
    /// Copy to syslog as `<procname> <line>` (`stdout_syslog`).
    pub syslog: bool,
    /// The other targets of a `stdout_logfile` list; they get every byte
    /// the main log gets.
    pub more: Option<Arc<ExtraTargets>>,
    /// The child's pid, for the `TAG[PID]` of syslog targets in `more`.
    pub pid: i32,
}

/// What a pump reports to the supervisor loop.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PumpEvent {
    /// A chunk for PROCESS_LOG events (after ANSI stripping, and possibly
    /// empty when stripping removed everything, as in Python) or, on a
    /// `forward_all` channel, raw event-listener protocol bytes.
    Output { channel: Channel, data: Vec<u8> },
    /// The text between `<!--XSUPERVISOR:BEGIN-->` and
    /// `<!--XSUPERVISOR:END-->` (PROCESS_COMMUNICATION events).
    Communication { channel: Channel, data: Vec<u8> },
    /// Both pipes are closed; the pump thread is about to exit.
    Closed,
}

const BEGIN_TOKEN: &[u8] = b"<!--XSUPERVISOR:BEGIN-->";
const END_TOKEN: &[u8] = b"<!--XSUPERVISOR:END-->";
/// Pump threads do little and keep buffers on the heap.
const STACK_SIZE: usize = 64 * 1024;
/// Bytes per read at most: a full default pipe buffer.
const READ_SIZE: usize = 64 * 1024;
/// Bytes per read until a read fills the buffer: most children write a
/// little at a time, and 1000 idle pumps should not hold 64 MiB. The
/// buffer itself is allocated at the first output, so a child that never
/// writes costs no buffer at all.
const FIRST_READ_SIZE: usize = 1024;
/// Reads per pipe after a stop request.
const DRAIN_READS: usize = 16;

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Length of the longest proper prefix of `needle` that `hay` ends with
/// (medusa's `find_prefix_at_end`): bytes that may be the start of a token
/// completed by the next read.
fn prefix_at_end(hay: &[u8], needle: &[u8]) -> usize {
    let mut l = needle.len().saturating_sub(1).min(hay.len());
    while l > 0 && !hay.ends_with(&needle[..l]) {
        l -= 1;
    }
    l
}

/// Python's `BoundIO.write`: when the buffer would exceed `max`, drop as
/// many leading bytes as are being added (not just the overflow). So the
/// buffer holds at most `max(max, largest single write)` bytes.
fn bound_write(buf: &mut Vec<u8>, max: usize, data: &[u8]) {
    if buf.len() + data.len() > max {
        let drop = data.len().min(buf.len());
        buf.drain(..drop);
    }
    buf.extend_from_slice(data);
}

/// Capture-mode token scanner state.
#[derive(Default)]
struct Tokens {
    capturing: bool,
    /// Bytes held back because they may start a token.
    held: Vec<u8>,
}

/// The per-channel half of Python's output dispatcher, free of any I/O on
/// the pipe so it can be tested chunk by chunk.
struct ChanProc {
    channel: Channel,
    sink: ChannelSink,
    tokens: Option<Tokens>,
    /// The capture buffer (Python's BoundIO capture log).
    captured: Vec<u8>,
    /// A log write failed and was reported; quiet until one succeeds.
    write_failing: bool,
    /// The partial line not yet sent to syslog targets in `sink.more`.
    lines: LineBuf,
}

type Notify<'a> = &'a mut (dyn FnMut(PumpEvent) + Send);

impl ChanProc {
    fn new(channel: Channel, sink: ChannelSink) -> ChanProc {
        let tokens = (sink.capture_maxbytes > 0 && !sink.forward_all).then(Tokens::default);
        ChanProc {
            channel,
            sink,
            tokens,
            captured: Vec::new(),
            write_failing: false,
            lines: LineBuf::default(),
        }
    }

    /// One chunk read from the pipe.
    fn feed(&mut self, name: &str, data: &[u8], notify: Notify) {
        if data.is_empty() {
            return;
        }
        if self.sink.forward_all {
            self.feed_listener(name, data, notify);
            return;
        }
        let Some(mut tokens) = self.tokens.take() else {
            self.log_chunk(name, data, false, notify);
            return;
        };
        // Python waits until it holds more than a token's length before
        // looking; we hold back only a possible token prefix, so short
        // lines are logged at once (the logged bytes are the same).
        tokens.held.extend_from_slice(data);
        loop {
            let token = if tokens.capturing {
                END_TOKEN
            } else {
                BEGIN_TOKEN
            };
            if let Some(i) = find(&tokens.held, token) {
                let after = tokens.held.split_off(i + token.len());
                tokens.held.truncate(i);
                let before = std::mem::replace(&mut tokens.held, after);
                self.log_chunk(name, &before, tokens.capturing, notify);
                tokens.capturing = !tokens.capturing;
                if !tokens.capturing {
                    self.emit_communication(name, notify);
                }
                if tokens.held.is_empty() {
                    break;
                }
            } else {
                let keep = prefix_at_end(&tokens.held, token);
                let tail = tokens.held.split_off(tokens.held.len() - keep);
                let ready = std::mem::replace(&mut tokens.held, tail);
                self.log_chunk(name, &ready, tokens.capturing, notify);
                break;
            }
        }
        self.tokens = Some(tokens);
    }

    /// End of the pipe. Bytes held back as a possible token start are
    /// logged (Python leaves up to a token's length unlogged here).
    fn finish(&mut self, name: &str, notify: Notify) {
        if let Some(mut tokens) = self.tokens.take() {
            let held = std::mem::take(&mut tokens.held);
            self.log_chunk(name, &held, tokens.capturing, notify);
            self.tokens = Some(tokens);
        }
        // The child is gone: its last line needs no newline to be sent.
        if let Some(more) = self.sink.more.as_ref().filter(|m| m.has_syslog()) {
            let mut out = Vec::new();
            self.lines.flush(&mut out);
            more.send_lines(&out, self.sink.pid);
        }
    }

    /// Python's `POutputDispatcher._log`. In capture mode the text goes to
    /// the capture buffer instead of the log file and syslog, but, as in
    /// Python, still to the main log's DEBUG copy and to PROCESS_LOG events.
    fn log_chunk(&mut self, name: &str, raw: &[u8], capturing: bool, notify: Notify) {
        if raw.is_empty() {
            return;
        }
        let data: Cow<[u8]> = if self.sink.strip_ansi {
            Cow::Owned(strip_ansi(raw))
        } else {
            Cow::Borrowed(raw)
        };
        if capturing {
            bound_write(&mut self.captured, self.sink.capture_maxbytes, &data);
        } else {
            self.write_log(name, &data);
            if self.sink.syslog {
                let text = String::from_utf8_lossy(&data);
                syslog::send_lines(&text, |line| format!("{name} {line}"));
            }
        }
        if activity::enabled(Level::Debug) {
            let text = match std::str::from_utf8(&data) {
                Ok(s) => Cow::Borrowed(s),
                Err(_) => Cow::Owned(format!("Undecodable: {}", py_repr_bytes(&data))),
            };
            activity::debug(format!(
                "{} {} output:\n{}",
                py_repr(name),
                self.channel.name(),
                text
            ));
        }
        if self.sink.events_enabled {
            notify(PumpEvent::Output {
                channel: self.channel,
                data: data.into_owned(),
            });
        }
    }

    fn emit_communication(&mut self, name: &str, notify: Notify) {
        notify(PumpEvent::Communication {
            channel: self.channel,
            data: std::mem::take(&mut self.captured),
        });
        if activity::enabled(Level::Debug) {
            activity::debug(format!(
                "{} {} emitted a comm event",
                py_repr(name),
                self.channel.name()
            ));
        }
    }

    /// Python's `PEventListenerDispatcher.handle_read_event`: DEBUG copy of
    /// the raw bytes (as a bytes repr), the log, then the protocol data.
    fn feed_listener(&mut self, name: &str, data: &[u8], notify: Notify) {
        if activity::enabled(Level::Debug) {
            activity::debug(format!(
                "{} {} output:\n{}",
                py_repr(name),
                self.channel.name(),
                py_repr_bytes(data)
            ));
        }
        if self.sink.strip_ansi {
            self.write_log(name, &strip_ansi(data));
        } else {
            self.write_log(name, data);
        }
        notify(PumpEvent::Output {
            channel: self.channel,
            data: data.to_vec(),
        });
    }

    /// The main log, then the other targets of a list.
    fn write_log(&mut self, name: &str, data: &[u8]) {
        self.write_main(name, data);
        self.write_more(name, data);
    }

    fn write_main(&mut self, name: &str, data: &[u8]) {
        let Some(log) = self.sink.log.as_ref() else {
            return;
        };
        let mut file = log.lock().unwrap_or_else(|p| p.into_inner());
        match file.write_all(data) {
            Ok(()) => self.write_failing = false,
            Err(e) => {
                if !self.write_failing {
                    self.write_failing = true;
                    let path = file.path().display().to_string();
                    // Not while holding the file's lock.
                    drop(file);
                    activity::error(format!(
                        "{}: error writing {} log {path}: {e}",
                        py_repr(name),
                        self.channel.name()
                    ));
                }
            }
        }
    }

    /// The other targets of a list: the same bytes as the main log.
    fn write_more(&mut self, name: &str, data: &[u8]) {
        let Some(more) = self.sink.more.as_ref() else {
            return;
        };
        more.write_files(name, self.channel.name(), data);
        if more.has_syslog() {
            let mut out = Vec::new();
            self.lines.split(data, &mut out);
            more.send_lines(&out, self.sink.pid);
        }
    }
}

/// Ends a pump early: what Python does when it reaps a child (one last
/// drain, then the pipes are closed), so a grandchild holding the pipe open
/// does not keep the pump alive. Dropping it without calling
/// [`PumpStop::drain_and_stop`] changes nothing.
///
/// An eventfd rather than a pipe: one descriptor per child instead of
/// two, and every descriptor we hold is copied into each spawn and closed
/// again at its exec.
#[derive(Debug)]
pub struct PumpStop {
    event: Arc<EventFd>,
}

impl PumpStop {
    /// Asks the pump to read whatever is already in the pipes, then close
    /// them and send [`PumpEvent::Closed`]. Returns at once.
    pub fn drain_and_stop(&self) {
        // Non-blocking; a second request only adds to the pending count.
        let _ = self.event.write(1);
    }
}

/// Starts a pump thread (64 KiB stack) for one child. `stderr` is `None`
/// when stderr is redirected into stdout; `err` is then unused. `notify`
/// runs on the pump thread: keep it short (send on a channel, wake the
/// loop). It gets [`PumpEvent::Closed`] last, exactly once.
pub fn spawn_pump(
    process_name: String,
    stdout: OwnedFd,
    stderr: Option<OwnedFd>,
    out: ChannelSink,
    err: ChannelSink,
    notify: Box<dyn FnMut(PumpEvent) + Send>,
) -> io::Result<JoinHandle<()>> {
    spawn_pump_stoppable(process_name, stdout, stderr, out, err, notify).map(|(h, _)| h)
}

/// [`spawn_pump`] that also returns a [`PumpStop`] to end it early.
pub fn spawn_pump_stoppable(
    process_name: String,
    stdout: OwnedFd,
    stderr: Option<OwnedFd>,
    out: ChannelSink,
    err: ChannelSink,
    notify: Box<dyn FnMut(PumpEvent) + Send>,
) -> io::Result<(JoinHandle<()>, PumpStop)> {
    let event = Arc::new(EventFd::from_flags(
        EfdFlags::EFD_CLOEXEC | EfdFlags::EFD_NONBLOCK,
    )?);
    let stop_event = Arc::clone(&event);
    let mut chans = vec![Pipe {
        fd: Some(stdout),
        proc: ChanProc::new(Channel::Stdout, out),
    }];
    if let Some(fd) = stderr {
        chans.push(Pipe {
            fd: Some(fd),
            proc: ChanProc::new(Channel::Stderr, err),
        });
    }
    let thread_name: String = format!("pump {process_name}").replace('\0', "?");
    let handle = std::thread::Builder::new()
        .name(thread_name)
        .stack_size(STACK_SIZE)
        .spawn(move || run(process_name, chans, stop_event, notify))?;
    Ok((handle, PumpStop { event }))
}

struct Pipe {
    /// `None` once EOF or an error closed it.
    fd: Option<OwnedFd>,
    proc: ChanProc,
}

enum ReadOutcome {
    Data(usize),
    Closed,
    NotReady,
}

fn read_once(fd: &OwnedFd, buf: &mut [u8]) -> ReadOutcome {
    loop {
        match nix::unistd::read(fd, buf) {
            Ok(0) => return ReadOutcome::Closed,
            Ok(n) => return ReadOutcome::Data(n),
            Err(Errno::EINTR) => continue,
            Err(Errno::EAGAIN) => return ReadOutcome::NotReady,
            // EIO, EBADF…: nothing more will come from this pipe.
            Err(_) => return ReadOutcome::Closed,
        }
    }
}

/// Is `fd` readable (or hung up) right now? Used while draining so a read
/// never blocks, whatever the pipe's O_NONBLOCK flag.
fn ready_now(fd: &OwnedFd) -> bool {
    let mut p = [PollFd::new(fd.as_fd(), PollFlags::POLLIN)];
    loop {
        match nix::poll::poll(&mut p, PollTimeout::ZERO) {
            Ok(n) => return n > 0,
            Err(Errno::EINTR) => continue,
            Err(_) => return false,
        }
    }
}

impl Pipe {
    /// Reads one chunk and processes it; closes the pipe on EOF/error.
    fn pump_once(&mut self, name: &str, buf: &mut Vec<u8>, notify: Notify) -> bool {
        let Some(fd) = self.fd.as_ref() else {
            return false;
        };
        if buf.is_empty() {
            buf.resize(FIRST_READ_SIZE, 0);
        }
        match read_once(fd, buf) {
            ReadOutcome::Data(n) => {
                self.proc.feed(name, &buf[..n], notify);
                // A full read: this child writes a lot; read more at once.
                if n == buf.len() && buf.len() < READ_SIZE {
                    buf.resize(READ_SIZE, 0);
                }
                true
            }
            ReadOutcome::NotReady => false,
            ReadOutcome::Closed => {
                self.close(name, notify);
                false
            }
        }
    }

    fn close(&mut self, name: &str, notify: Notify) {
        if self.fd.take().is_some() {
            self.proc.finish(name, notify);
        }
    }
}

fn run(
    name: String,
    mut pipes: Vec<Pipe>,
    stop: Arc<EventFd>,
    mut notify: Box<dyn FnMut(PumpEvent) + Send>,
) {
    let notify: Notify = &mut *notify;
    let mut buf = Vec::new();
    let mut stopping = false;
    while pipes.iter().any(|p| p.fd.is_some()) && !stopping {
        // revents per pipe (same order), then the stop event's.
        let mut ready = [false; 2];
        let mut stop_ready = false;
        {
            let mut fds = Vec::with_capacity(3);
            let mut which = Vec::with_capacity(3);
            for (i, p) in pipes.iter().enumerate() {
                if let Some(fd) = p.fd.as_ref() {
                    fds.push(PollFd::new(fd.as_fd(), PollFlags::POLLIN));
                    which.push(Some(i));
                }
            }
            // A dropped PumpStop never fires: the pump runs until EOF.
            fds.push(PollFd::new(stop.as_fd(), PollFlags::POLLIN));
            which.push(None);
            match nix::poll::poll(&mut fds, PollTimeout::NONE) {
                Ok(_) => {}
                Err(Errno::EINTR) => continue,
                Err(Errno::EAGAIN | Errno::ENOMEM) => {
                    // Out of kernel memory: back off rather than spin.
                    std::thread::sleep(std::time::Duration::from_millis(10));
                    continue;
                }
                Err(_) => break,
            }
            for (pfd, w) in fds.iter().zip(&which) {
                // Any revents (IN, HUP, ERR, NVAL) means a read will not
                // block and will tell us what happened.
                let any = pfd.revents().is_some_and(|r| !r.is_empty());
                match (w, any) {
                    (Some(i), true) => ready[*i] = true,
                    (None, true) => stop_ready = true,
                    _ => {}
                }
            }
        }
        for (i, p) in pipes.iter_mut().enumerate() {
            if ready[i] {
                p.pump_once(&name, &mut buf, notify);
            }
        }
        if stop_ready && stop.read().is_ok() {
            stopping = true;
        }
    }
    if stopping {
        // One last look at what the child left in the pipes (Python reads
        // once; we empty a full pipe buffer but do not chase a grandchild
        // that keeps writing).
        for p in pipes.iter_mut() {
            for _ in 0..DRAIN_READS {
                if !p.fd.as_ref().is_some_and(ready_now) || !p.pump_once(&name, &mut buf, notify) {
                    break;
                }
            }
        }
    }
    for p in pipes.iter_mut() {
        p.close(&name, notify);
    }
    notify(PumpEvent::Closed);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;
    use std::process::{Command, Stdio};
    use std::sync::mpsc;
    use std::time::{Duration, Instant};

    const DEADLINE: Duration = Duration::from_secs(30);

    fn file_sink(path: &Path, maxbytes: u64, backups: u32) -> ChannelSink {
        ChannelSink {
            log: Some(Arc::new(Mutex::new(
                RotatingFile::open(path, maxbytes, backups).unwrap(),
            ))),
            ..ChannelSink::default()
        }
    }

    fn run_chunks(sink: ChannelSink, chunks: &[&[u8]]) -> Vec<PumpEvent> {
        let mut events = Vec::new();
        let mut notify = |e| events.push(e);
        let mut p = ChanProc::new(Channel::Stdout, sink);
        for c in chunks {
            p.feed("prog", c, &mut notify);
        }
        p.finish("prog", &mut notify);
        events
    }

    fn outputs(events: &[PumpEvent]) -> Vec<u8> {
        events
            .iter()
            .filter_map(|e| match e {
                PumpEvent::Output { data, .. } => Some(data.clone()),
                _ => None,
            })
            .flatten()
            .collect()
    }

    fn comms(events: &[PumpEvent]) -> Vec<Vec<u8>> {
        events
            .iter()
            .filter_map(|e| match e {
                PumpEvent::Communication { data, .. } => Some(data.clone()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn prefix_at_end_like_medusa() {
        assert_eq!(prefix_at_end(b"abc<!--XSUP", BEGIN_TOKEN), 8);
        assert_eq!(prefix_at_end(b"abc<", BEGIN_TOKEN), 1);
        assert_eq!(prefix_at_end(b"abc", BEGIN_TOKEN), 0);
        assert_eq!(prefix_at_end(b"", BEGIN_TOKEN), 0);
        // The whole token is not a "prefix": find() handles that.
        assert_eq!(prefix_at_end(BEGIN_TOKEN, BEGIN_TOKEN), 0);
    }

    #[test]
    fn bound_io_matches_python() {
        // Python 4.3.0: BoundIO(10) after each write.
        let mut b = Vec::new();
        let steps: &[(&[u8], &[u8])] = &[
            (b"12345678", b"12345678"),
            (b"abc", b"45678abc"),
            (b"0123456789ABCDEF", b"0123456789ABCDEF"),
            (b"xy", b"23456789ABCDEFxy"),
        ];
        for (w, want) in steps {
            bound_write(&mut b, 10, w);
            assert_eq!(&b, want);
        }
    }

    #[test]
    fn plain_output_logged_and_forwarded() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("out.log");
        let mut sink = file_sink(&p, 0, 0);
        sink.events_enabled = true;
        let ev = run_chunks(sink, &[b"hello ", b"world\n"]);
        assert_eq!(std::fs::read(&p).unwrap(), b"hello world\n");
        assert_eq!(outputs(&ev), b"hello world\n");
    }

    #[test]
    fn no_events_unless_enabled() {
        let ev = run_chunks(ChannelSink::default(), &[b"quiet"]);
        assert!(ev.is_empty());
    }

    #[test]
    fn strip_ansi_before_log_and_events() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("out.log");
        let mut sink = file_sink(&p, 0, 0);
        sink.strip_ansi = true;
        sink.events_enabled = true;
        let ev = run_chunks(sink, &[b"\x1b[31mred\x1b[0m\n", b"\x1b[0m"]);
        assert_eq!(std::fs::read(&p).unwrap(), b"red\n");
        // Python still sends the (now empty) second chunk as an event.
        assert_eq!(ev.len(), 2);
        assert_eq!(outputs(&ev), b"red\n");
    }

    const STREAM: &[u8] =
        b"before <!--XSUPERVISOR:BEGIN-->the captured text<!--XSUPERVISOR:END--> after\n";

    #[test]
    fn capture_tokens_split_at_every_position() {
        let dir = tempfile::tempdir().unwrap();
        for cut in 0..=STREAM.len() {
            let p = dir.path().join(format!("cap{cut}.log"));
            let mut sink = file_sink(&p, 0, 0);
            sink.capture_maxbytes = 1000;
            sink.events_enabled = true;
            let ev = run_chunks(sink, &[&STREAM[..cut], &STREAM[cut..]]);
            assert_eq!(std::fs::read(&p).unwrap(), b"before  after\n", "cut {cut}");
            assert_eq!(comms(&ev), vec![b"the captured text".to_vec()], "cut {cut}");
            // As in Python, captured text is still sent as PROCESS_LOG.
            assert_eq!(
                outputs(&ev),
                b"before the captured text after\n",
                "cut {cut}"
            );
        }
    }

    #[test]
    fn capture_byte_at_a_time() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("bytes.log");
        let mut sink = file_sink(&p, 0, 0);
        sink.capture_maxbytes = 1000;
        let chunks: Vec<&[u8]> = STREAM.chunks(1).collect();
        let ev = run_chunks(sink, &chunks);
        assert_eq!(std::fs::read(&p).unwrap(), b"before  after\n");
        assert_eq!(comms(&ev), vec![b"the captured text".to_vec()]);
    }

    #[test]
    fn capture_token_lookalikes_are_logged() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("look.log");
        let mut sink = file_sink(&p, 0, 0);
        sink.capture_maxbytes = 100;
        // A held-back token prefix that never completes, at EOF too.
        let ev = run_chunks(sink, &[b"a <!--XSUPER", b"VISOR:BEG and more <!--X"]);
        assert_eq!(
            std::fs::read(&p).unwrap(),
            b"a <!--XSUPERVISOR:BEG and more <!--X"
        );
        assert!(comms(&ev).is_empty());
    }

    #[test]
    fn capture_without_end_is_discarded() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("open.log");
        let mut sink = file_sink(&p, 0, 0);
        sink.capture_maxbytes = 100;
        let ev = run_chunks(sink, &[b"x<!--XSUPERVISOR:BEGIN-->never ends"]);
        assert_eq!(std::fs::read(&p).unwrap(), b"x");
        assert!(comms(&ev).is_empty());
    }

    #[test]
    fn capture_bound() {
        let mut sink = ChannelSink {
            capture_maxbytes: 5,
            ..ChannelSink::default()
        };
        // Chunked inside the capture: Python's BoundIO keeps "defgh".
        let ev = run_chunks(
            sink.clone(),
            &[BEGIN_TOKEN, b"abc", b"def", b"gh", END_TOKEN],
        );
        assert_eq!(comms(&ev), vec![b"defgh".to_vec()]);
        // One write bigger than the bound is kept whole, as in Python.
        let mut one = BEGIN_TOKEN.to_vec();
        one.extend_from_slice(b"abcdefghij");
        one.extend_from_slice(END_TOKEN);
        let ev = run_chunks(sink.clone(), &[&one]);
        assert_eq!(comms(&ev), vec![b"abcdefghij".to_vec()]);
        // Two captures in a row start from an empty buffer.
        sink.capture_maxbytes = 100;
        let mut two = one.clone();
        two.extend_from_slice(&one);
        let ev = run_chunks(sink, &[&two]);
        assert_eq!(
            comms(&ev),
            vec![b"abcdefghij".to_vec(), b"abcdefghij".to_vec()]
        );
    }

    #[test]
    fn forward_all_is_raw_and_not_captured() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("listener.log");
        let mut sink = file_sink(&p, 0, 0);
        sink.forward_all = true;
        sink.capture_maxbytes = 100;
        sink.strip_ansi = true;
        let data: &[u8] = b"READY\n\x1b[1m<!--XSUPERVISOR:BEGIN-->";
        let ev = run_chunks(sink, &[data]);
        assert_eq!(outputs(&ev), data);
        assert_eq!(
            std::fs::read(&p).unwrap(),
            b"READY\n<!--XSUPERVISOR:BEGIN-->"
        );
    }

    #[test]
    fn list_targets_get_what_the_main_log_gets() {
        use super::super::syslog_sender::SyslogDest;
        use super::super::targets::TargetSpec;
        use std::os::unix::net::UnixDatagram;
        let dir = tempfile::tempdir().unwrap();
        let main = dir.path().join("main.log");
        let second = dir.path().join("second.log");
        let sock = dir.path().join("sock");
        let server = UnixDatagram::bind(&sock).unwrap();
        server.set_read_timeout(Some(DEADLINE)).unwrap();
        let mut sink = file_sink(&main, 0, 0);
        sink.capture_maxbytes = 100;
        sink.events_enabled = true;
        sink.pid = 99;
        sink.more = ExtraTargets::open(
            "prog",
            &[
                TargetSpec::File(second.clone()),
                TargetSpec::Syslog {
                    dest: SyslogDest::Unix(sock),
                    facility: 16,
                    severity: 5,
                    tag: "prog".into(),
                },
            ],
            0,
            0,
        );
        assert!(sink.more.is_some());
        let ev = run_chunks(
            sink,
            &[
                b"a\nb<!--XSUPERVISOR:BEGIN-->hid",
                b"den<!--XSUPERVISOR:END-->c",
            ],
        );
        // The captured text goes to no target; events come once per chunk.
        assert_eq!(std::fs::read(&main).unwrap(), b"a\nbc");
        assert_eq!(std::fs::read(&second).unwrap(), b"a\nbc");
        assert_eq!(comms(&ev), vec![b"hidden".to_vec()]);
        // "bc" had no newline: sent when the pipe closed.
        let mut buf = [0u8; 256];
        let mut got = Vec::new();
        for _ in 0..2 {
            let n = server.recv(&mut buf).unwrap();
            got.push(String::from_utf8_lossy(&buf[..n]).into_owned());
        }
        assert!(
            got[0].starts_with("<133>") && got[0].ends_with(" prog[99]: a"),
            "{got:?}"
        );
        assert!(got[1].ends_with(" prog[99]: bc"), "{got:?}");
    }

    #[test]
    fn write_failure_reported_once_and_reading_goes_on() {
        let mut sink = file_sink(Path::new("/dev/full"), 0, 0);
        sink.events_enabled = true;
        let mut events = Vec::new();
        let mut notify = |e| events.push(e);
        let mut p = ChanProc::new(Channel::Stderr, sink);
        p.feed("prog", b"one", &mut notify);
        assert!(p.write_failing);
        p.feed("prog", b"two", &mut notify);
        assert_eq!(outputs(&events), b"onetwo");
    }

    /// Waits for Closed, collecting everything before it.
    fn collect(rx: &mpsc::Receiver<PumpEvent>) -> Vec<PumpEvent> {
        let end = Instant::now() + DEADLINE;
        let mut v = Vec::new();
        loop {
            let left = end.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(PumpEvent::Closed) => return v,
                Ok(e) => v.push(e),
                Err(e) => panic!("no Closed event before the deadline: {e}"),
            }
        }
    }

    fn notifier() -> (Box<dyn FnMut(PumpEvent) + Send>, mpsc::Receiver<PumpEvent>) {
        let (tx, rx) = mpsc::channel();
        (
            Box::new(move |e| {
                let _ = tx.send(e);
            }),
            rx,
        )
    }

    fn concat_rotated(p: &Path) -> Vec<u8> {
        let mut n = 1;
        while Path::new(&format!("{}.{n}", p.display())).exists() {
            n += 1;
        }
        let mut all = Vec::new();
        for i in (1..n).rev() {
            all.extend(std::fs::read(format!("{}.{i}", p.display())).unwrap());
        }
        all.extend(std::fs::read(p).unwrap());
        all
    }

    #[test]
    fn nothing_lost_through_rotation() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("src.bin");
        let data: Vec<u8> = (0..400_000u32).map(|i| (i * 7 % 251) as u8).collect();
        std::fs::write(&src, &data).unwrap();
        let out_log = dir.path().join("out.log");
        let err_log = dir.path().join("err.log");
        let mut child = Command::new("sh")
            .arg("-c")
            .arg("head -c 400000 \"$1\"; echo to-stderr >&2")
            .arg("sh")
            .arg(&src)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout: OwnedFd = child.stdout.take().unwrap().into();
        let stderr: OwnedFd = child.stderr.take().unwrap().into();
        let (notify, rx) = notifier();
        let h = spawn_pump(
            "prog".into(),
            stdout,
            Some(stderr),
            file_sink(&out_log, 7_000, 1000),
            file_sink(&err_log, 0, 0),
            notify,
        )
        .unwrap();
        let ev = collect(&rx);
        assert!(ev.is_empty());
        h.join().unwrap();
        child.wait().unwrap();
        let got = concat_rotated(&out_log);
        assert_eq!(got.len(), data.len());
        assert!(got == data, "bytes differ");
        assert!(Path::new(&format!("{}.5", out_log.display())).exists());
        assert_eq!(std::fs::read(&err_log).unwrap(), b"to-stderr\n");
        assert!(rx.try_recv().is_err(), "Closed must come once");
    }

    #[test]
    fn redirected_stderr_shares_stdout() {
        let dir = tempfile::tempdir().unwrap();
        let out_log = dir.path().join("out.log");
        let (r, w) = nix::unistd::pipe().unwrap();
        let w2 = w.try_clone().unwrap();
        let mut child = Command::new("sh")
            .arg("-c")
            .arg("echo out; echo err >&2; echo out2")
            .stdin(Stdio::null())
            .stdout(Stdio::from(w))
            .stderr(Stdio::from(w2))
            .spawn()
            .unwrap();
        // Command dropped its copies of the write ends after spawning.
        let (notify, rx) = notifier();
        let mut sink = file_sink(&out_log, 0, 0);
        sink.events_enabled = true;
        spawn_pump("prog".into(), r, None, sink, ChannelSink::default(), notify).unwrap();
        let ev = collect(&rx);
        child.wait().unwrap();
        assert_eq!(std::fs::read(&out_log).unwrap(), b"out\nerr\nout2\n");
        assert!(ev.iter().all(|e| matches!(
            e,
            PumpEvent::Output {
                channel: Channel::Stdout,
                ..
            }
        )));
        assert_eq!(outputs(&ev), b"out\nerr\nout2\n");
    }

    #[test]
    fn separate_stderr_events_name_their_channel() {
        let mut child = Command::new("sh")
            .arg("-c")
            .arg("echo out; echo err >&2")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout: OwnedFd = child.stdout.take().unwrap().into();
        let stderr: OwnedFd = child.stderr.take().unwrap().into();
        let (notify, rx) = notifier();
        let on = ChannelSink {
            events_enabled: true,
            ..ChannelSink::default()
        };
        spawn_pump("prog".into(), stdout, Some(stderr), on.clone(), on, notify).unwrap();
        let ev = collect(&rx);
        child.wait().unwrap();
        let of = |ch: Channel| -> Vec<u8> {
            ev.iter()
                .filter_map(|e| match e {
                    PumpEvent::Output { channel, data } if *channel == ch => Some(data.clone()),
                    _ => None,
                })
                .flatten()
                .collect()
        };
        assert_eq!(of(Channel::Stdout), b"out\n");
        assert_eq!(of(Channel::Stderr), b"err\n");
    }

    #[test]
    fn full_disk_pump_keeps_draining() {
        let mut child = Command::new("sh")
            .arg("-c")
            .arg("head -c 300000 /dev/zero")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout: OwnedFd = child.stdout.take().unwrap().into();
        let (notify, rx) = notifier();
        let mut sink = file_sink(Path::new("/dev/full"), 0, 0);
        sink.events_enabled = true;
        spawn_pump(
            "prog".into(),
            stdout,
            None,
            sink,
            ChannelSink::default(),
            notify,
        )
        .unwrap();
        let ev = collect(&rx);
        assert!(child.wait().unwrap().success());
        assert_eq!(outputs(&ev).len(), 300_000);
    }

    #[test]
    fn drain_and_stop_ends_pump_held_by_grandchild() {
        let mut child = Command::new("sh")
            .arg("-c")
            .arg("sleep 60 & echo $!")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout: OwnedFd = child.stdout.take().unwrap().into();
        let (notify, rx) = notifier();
        let on = ChannelSink {
            events_enabled: true,
            ..ChannelSink::default()
        };
        let (h, stop) = spawn_pump_stoppable(
            "prog".into(),
            stdout,
            None,
            on,
            ChannelSink::default(),
            notify,
        )
        .unwrap();
        child.wait().unwrap();
        // The grandchild's pid arrives; the pipe stays open behind it.
        let mut text = Vec::new();
        let end = Instant::now() + DEADLINE;
        while !text.ends_with(b"\n") {
            match rx.recv_timeout(end.saturating_duration_since(Instant::now())) {
                Ok(PumpEvent::Output { data, .. }) => text.extend(data),
                other => panic!("unexpected {other:?}"),
            }
        }
        stop.drain_and_stop();
        let rest = collect(&rx);
        assert!(rest.is_empty());
        h.join().unwrap();
        let pid: i32 = String::from_utf8_lossy(&text).trim().parse().unwrap();
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(pid),
            nix::sys::signal::Signal::SIGKILL,
        );
    }

    #[test]
    fn dropped_stop_handle_changes_nothing() {
        let mut child = Command::new("sh")
            .arg("-c")
            .arg("echo hi")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout: OwnedFd = child.stdout.take().unwrap().into();
        let (notify, rx) = notifier();
        let on = ChannelSink {
            events_enabled: true,
            ..ChannelSink::default()
        };
        let (_h, stop) = spawn_pump_stoppable(
            "prog".into(),
            stdout,
            None,
            on,
            ChannelSink::default(),
            notify,
        )
        .unwrap();
        drop(stop);
        let ev = collect(&rx);
        child.wait().unwrap();
        assert_eq!(outputs(&ev), b"hi\n");
    }
}
