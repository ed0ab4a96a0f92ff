//! The `tail -f` stream behind `GET /logtail/<name>[/<channel>]` and
//! `GET /mainlogtail`, which `supervisorctl tail -f` and `maintail -f` read.
//!
//! Behaviour follows Supervisor's `tail_f_producer`:
//!
//! * The stream starts `head` bytes (the handlers use [`HEAD`], 1024) before
//!   the end of the file, or at its start when it is smaller than that.
//! * When the path comes to name another file (log rotation, or a log
//!   cleared by remove-and-reopen), the new file is opened and sent from its
//!   first byte.
//! * When the file becomes shorter than what was already sent (truncated in
//!   place), [`TRUNCATED`] is sent and the file is sent again from its start.
//! * When the path disappears, the stream keeps following the file it has
//!   open.
//!
//! Unlike Python, which polls the file ten times a second, we sleep in
//! inotify until something happens to the file's name in its directory, so
//! an idle tail costs nothing. Only when inotify cannot be used (or the
//! path is a symlink) do we look every 200 ms (see [`Watch`]).
//!
//! Where we knowingly differ from Python: on rotation, bytes that reached
//! the old file after our last look are still sent before switching (Python
//! drops them); appended data is read and sent in pieces of at most 64 KiB
//! (Python reads it all at once); and inode identity includes the device.

use std::ffi::{OsStr, OsString};
use std::fs::{self, File};
use std::io::{self, Write};
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags, PollTimeout};
use nix::sys::inotify::{AddWatchFlags, InitFlags, Inotify, WatchDescriptor};

/// How far before the end of the file the stream starts (Supervisor's
/// logtail handlers both use 1024).
pub const HEAD: u64 = 1024;

/// Sent when the file shrank below what was already sent.
pub const TRUNCATED: &[u8] = b"==> File truncated <==\n";

/// Largest piece read from the file (and so written to the output) at once.
const PIECE: usize = 64 * 1024;

/// Interval of the fallback when inotify is unavailable.
const POLL_INTERVAL_MS: u16 = 200;

/// Events on the log's directory that may concern the log: its content
/// changed, or its name now points elsewhere (rename away, new file, unlink).
const DIR_EVENTS: AddWatchFlags = AddWatchFlags::IN_MODIFY
    .union(AddWatchFlags::IN_CREATE)
    .union(AddWatchFlags::IN_MOVED_TO)
    .union(AddWatchFlags::IN_MOVED_FROM)
    .union(AddWatchFlags::IN_DELETE)
    .union(AddWatchFlags::IN_CLOSE_WRITE)
    .union(AddWatchFlags::IN_ATTRIB);

/// An HTTP/1.1 chunked body over `W`: every `write` becomes one chunk (of at
/// most 64 KiB; a longer buffer is taken in part, as `Write` allows) and is
/// flushed at once. [`finish`](ChunkedWriter::finish) writes the last chunk;
/// dropping the writer without it leaves the body unterminated, which is
/// right when the connection is being abandoned.
pub struct ChunkedWriter<W: Write> {
    inner: W,
    /// Size line, data and CRLF of the chunk being sent, so a chunk goes to
    /// the socket in one write.
    frame: Vec<u8>,
}

impl<W: Write> ChunkedWriter<W> {
    pub fn new(inner: W) -> ChunkedWriter<W> {
        ChunkedWriter {
            inner,
            frame: Vec::new(),
        }
    }

    /// The underlying writer.
    pub fn get_ref(&self) -> &W {
        &self.inner
    }

    /// Writes the zero-length last chunk (`0\r\n\r\n`), flushes, and gives
    /// the underlying writer back.
    pub fn finish(mut self) -> io::Result<W> {
        self.inner.write_all(b"0\r\n\r\n")?;
        self.inner.flush()?;
        Ok(self.inner)
    }
}

impl<W: Write> Write for ChunkedWriter<W> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        // An empty chunk would end the body: write nothing instead.
        if data.is_empty() {
            return Ok(0);
        }
        let data = &data[..data.len().min(PIECE)];
        self.frame.clear();
        write!(self.frame, "{:x}\r\n", data.len())?;
        self.frame.extend_from_slice(data);
        self.frame.extend_from_slice(b"\r\n");
        self.inner.write_all(&self.frame)?;
        self.inner.flush()?;
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Follows `path` like `tail -f`, writing through `out` (normally a
/// [`ChunkedWriter`] over the client's socket), starting `head` bytes before
/// the end. It returns only with an error: opening the file failed, reading
/// it failed, a write to `out` failed (the client is gone), or `hangup`
/// reported a hang-up.
///
/// `hangup` should be the client's socket when the caller can reach it: a
/// client that closes its connection while the file is idle is then noticed
/// at once (as Python's event loop does), instead of at the next write after
/// the file changes. Only hang-up is watched (POLLRDHUP/POLLHUP/POLLERR),
/// never readability, so a client sending more bytes does not end or spin
/// the stream. The read end of a pipe works too: closing every write end
/// stops the stream, which makes a cancellation handle.
pub fn follow(
    path: &Path,
    head: u64,
    out: &mut dyn Write,
    hangup: Option<BorrowedFd<'_>>,
) -> io::Result<()> {
    // Watch before the first look, so nothing after it goes unseen.
    let mut watch = Watch::new(path);
    follow_with(path, head, out, hangup, &mut watch)
}

fn follow_with(
    path: &Path,
    head: u64,
    out: &mut dyn Write,
    hangup: Option<BorrowedFd<'_>>,
    watch: &mut Watch,
) -> io::Result<()> {
    let mut tail = Tail::open(path, head)?;
    loop {
        tail.catch_up(path, out)?;
        watch.wait(hangup)?;
    }
}

/// The file being followed and how much of it was sent.
struct Tail {
    file: File,
    /// (device, inode) of `file`, to notice the path naming another file.
    id: (u64, u64),
    /// Offset of the next byte to send.
    offset: u64,
    buf: Vec<u8>,
}

fn open_file(path: &Path) -> io::Result<(File, (u64, u64), u64)> {
    let file = File::open(path)?;
    let meta = file.metadata()?;
    Ok((file, (meta.dev(), meta.ino()), meta.len()))
}

impl Tail {
    fn open(path: &Path, head: u64) -> io::Result<Tail> {
        let (file, id, size) = open_file(path)?;
        Ok(Tail {
            file,
            id,
            offset: size.saturating_sub(head),
            buf: vec![0; PIECE],
        })
    }

    /// Sends whatever is new since the last call, switching files first if
    /// the path was rotated.
    fn catch_up(&mut self, path: &Path, out: &mut dyn Write) -> io::Result<()> {
        // A path that cannot be looked at (unlinked, or a moment between a
        // rename and the creation of the new file) keeps the open file.
        if let Ok(meta) = fs::metadata(path) {
            if (meta.dev(), meta.ino()) != self.id {
                if let Ok((file, id, _)) = open_file(path) {
                    // What reached the old file before the rename still goes.
                    self.send_new(out, false)?;
                    self.file = file;
                    self.id = id;
                    self.offset = 0;
                }
            }
        }
        self.send_new(out, true)?;
        out.flush()
    }

    /// Sends the bytes between `offset` and the current end of the file. A
    /// file now shorter than `offset` restarts from 0, announced with
    /// [`TRUNCATED`] when `report_truncation`.
    fn send_new(&mut self, out: &mut dyn Write, report_truncation: bool) -> io::Result<()> {
        let size = self.file.metadata()?.len();
        if size < self.offset {
            if !report_truncation {
                return Ok(());
            }
            out.write_all(TRUNCATED)?;
            self.offset = 0;
        }
        while self.offset < size {
            let want = usize::try_from(size - self.offset).map_or(PIECE, |n| n.min(PIECE));
            let n = loop {
                match self.file.read_at(&mut self.buf[..want], self.offset) {
                    Ok(n) => break n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(e),
                }
            };
            if n == 0 {
                // Shrank under us; the next look will say so.
                break;
            }
            out.write_all(&self.buf[..n])?;
            self.offset += n as u64;
        }
        Ok(())
    }
}

/// Waits until the followed file may have changed.
///
/// Normally an inotify watch on the file's directory, whose events are kept
/// only when they carry the file's name: that sees writes, truncation, and
/// the name being renamed away, replaced or removed. (Writes to a file that
/// was unlinked are still reported under its old name.) A watch on the
/// directory rather than on the file is what lets a rotation be seen.
///
/// When inotify cannot be set up (no support, ENOSYS; too many instances or
/// watches, EMFILE/ENOSPC; a path without a file name), or the watch goes
/// away (the directory was removed), we fall back to looking every 200 ms,
/// and try to set inotify up again at each look. The same fallback serves a
/// path that is itself a symlink: the file's own directory may be anywhere
/// and change with the link, so its directory's events would not be seen.
struct Watch {
    path: PathBuf,
    dir: PathBuf,
    name: Option<OsString>,
    inotify: Option<(Inotify, WatchDescriptor)>,
}

impl Watch {
    fn new(path: &Path) -> Watch {
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let name = path.file_name().map(OsStr::to_os_string);
        let mut w = Watch {
            path: path.to_path_buf(),
            dir,
            name,
            inotify: None,
        };
        w.inotify = w.setup();
        w
    }

    #[cfg(test)]
    fn polling(path: &Path) -> Watch {
        let mut w = Watch::new(path);
        w.inotify = None;
        w.name = None; // never upgrades to inotify
        w
    }

    fn setup(&self) -> Option<(Inotify, WatchDescriptor)> {
        self.name.as_ref()?;
        if is_symlink(&self.path) {
            return None;
        }
        let fd = Inotify::init(InitFlags::IN_CLOEXEC).ok()?;
        let wd = fd.add_watch(self.dir.as_path(), DIR_EVENTS).ok()?;
        Some((fd, wd))
    }

    fn wait(&mut self, hangup: Option<BorrowedFd<'_>>) -> io::Result<()> {
        if self.inotify.is_some() && is_symlink(&self.path) {
            self.inotify = None;
        }
        if self.inotify.is_some() {
            self.wait_inotify(hangup)
        } else {
            self.wait_poll(hangup)
        }
    }

    fn wait_inotify(&mut self, hangup: Option<BorrowedFd<'_>>) -> io::Result<()> {
        loop {
            let Some((fd, wd)) = &self.inotify else {
                return Ok(());
            };
            let mut fds = vec![PollFd::new(fd.as_fd(), PollFlags::POLLIN)];
            if let Some(h) = hangup {
                fds.push(PollFd::new(h, hangup_events()));
            }
            match nix::poll::poll(&mut fds, PollTimeout::NONE) {
                Ok(_) => {}
                Err(Errno::EINTR) => continue,
                Err(e) => return Err(e.into()),
            }
            if fds[1..].iter().any(hung_up) {
                return Err(gone());
            }
            if !fds[0].any().unwrap_or(true) {
                continue;
            }
            drop(fds);
            let events = match fd.read_events() {
                Ok(ev) => ev,
                Err(Errno::EINTR | Errno::EAGAIN) => continue,
                Err(_) => {
                    // The instance is unusable: fall back, and look now.
                    self.inotify = None;
                    return Ok(());
                }
            };
            let (mut relevant, mut lost) = (false, false);
            for ev in &events {
                if ev.mask.contains(AddWatchFlags::IN_Q_OVERFLOW) {
                    relevant = true; // events were dropped: just look
                } else if ev.wd != *wd {
                    // left over from an earlier watch
                } else if ev.mask.contains(AddWatchFlags::IN_IGNORED) {
                    lost = true; // the directory is gone or was unmounted
                    relevant = true;
                } else if ev.name.as_deref() == self.name.as_deref() {
                    relevant = true;
                }
            }
            if lost {
                self.inotify = self.setup();
            }
            if relevant {
                return Ok(());
            }
        }
    }

    /// The fallback: one look every 200 ms (still noticing a hang-up at once).
    fn wait_poll(&mut self, hangup: Option<BorrowedFd<'_>>) -> io::Result<()> {
        match hangup {
            Some(h) => {
                let mut fds = [PollFd::new(h, hangup_events())];
                match nix::poll::poll(&mut fds, PollTimeout::from(POLL_INTERVAL_MS)) {
                    Ok(_) | Err(Errno::EINTR) => {}
                    Err(e) => return Err(e.into()),
                }
                if hung_up(&fds[0]) {
                    return Err(gone());
                }
            }
            None => std::thread::sleep(Duration::from_millis(POLL_INTERVAL_MS.into())),
        }
        // Inotify may work now (limits raised, instances freed, directory
        // back); the caller looks at the file anyway, so nothing is missed.
        self.inotify = self.setup();
        Ok(())
    }
}

fn is_symlink(path: &Path) -> bool {
    fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink())
}

/// Only hang-up: POLLRDHUP (peer closed a socket); POLLHUP and POLLERR are
/// always reported.
fn hangup_events() -> PollFlags {
    PollFlags::from_bits_retain(libc::POLLRDHUP)
}

fn hung_up(fd: &PollFd<'_>) -> bool {
    // `any` is None when POLLRDHUP (unknown to nix) is set: a hang-up too.
    fd.any().unwrap_or(true)
}

fn gone() -> io::Error {
    io::Error::new(io::ErrorKind::BrokenPipe, "the log tail client went away")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs::OpenOptions;
    use std::os::fd::OwnedFd;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, Mutex};
    use std::thread::JoinHandle;
    use std::time::Instant;

    /// Collects what `follow` sends; fails every write once told to.
    #[derive(Clone, Default)]
    struct Sink {
        data: Arc<Mutex<Vec<u8>>>,
        largest_write: Arc<Mutex<usize>>,
        fail: Arc<AtomicBool>,
    }

    impl Write for Sink {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            if self.fail.load(Ordering::SeqCst) {
                return Err(io::Error::new(io::ErrorKind::BrokenPipe, "closed"));
            }
            self.data.lock().unwrap().extend_from_slice(buf);
            let mut l = self.largest_write.lock().unwrap();
            *l = (*l).max(buf.len());
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl Sink {
        fn get(&self) -> Vec<u8> {
            self.data.lock().unwrap().clone()
        }
        /// Waits (at most 10 s) until exactly `want` has arrived.
        fn expect(&self, want: &[u8]) {
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if self.get().len() >= want.len() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(2));
            }
            let got = self.get();
            assert!(
                got == want,
                "got {:?}\nwant {:?}",
                String::from_utf8_lossy(&got),
                String::from_utf8_lossy(want)
            );
        }
    }

    /// A follower thread, stopped by closing the pipe given as `hangup`.
    struct Follower {
        sink: Sink,
        stop: Option<OwnedFd>,
        thread: Option<JoinHandle<io::Result<()>>>,
    }

    impl Follower {
        fn start(path: &Path, head: u64, polling: bool) -> Follower {
            let sink = Sink::default();
            let (rd, wr) = nix::unistd::pipe().unwrap();
            let (path, mut out) = (path.to_path_buf(), sink.clone());
            let thread = std::thread::spawn(move || {
                let mut watch = if polling {
                    Watch::polling(&path)
                } else {
                    Watch::new(&path)
                };
                assert_eq!(watch.inotify.is_some(), !polling);
                follow_with(&path, head, &mut out, Some(rd.as_fd()), &mut watch)
            });
            Follower {
                sink,
                stop: Some(wr),
                thread: Some(thread),
            }
        }

        fn stop(mut self) -> io::Result<()> {
            drop(self.stop.take());
            self.thread.take().unwrap().join().unwrap()
        }
    }

    fn append(path: &Path, data: &[u8]) {
        let mut f = OpenOptions::new().append(true).open(path).unwrap();
        f.write_all(data).unwrap();
    }

    fn both_modes(test: impl Fn(bool)) {
        test(false);
        test(true);
    }

    #[test]
    fn small_file_is_sent_whole() {
        both_modes(|polling| {
            let dir = tempfile::tempdir().unwrap();
            let p = dir.path().join("a.log");
            fs::write(&p, b"hello\nworld\n").unwrap();
            let f = Follower::start(&p, HEAD, polling);
            f.sink.expect(b"hello\nworld\n");
            let err = f.stop().unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::BrokenPipe);
        });
    }

    #[test]
    fn large_file_starts_head_bytes_before_the_end() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.log");
        let body: Vec<u8> = (0..5000u32).map(|i| b'a' + (i % 26) as u8).collect();
        fs::write(&p, &body).unwrap();
        let f = Follower::start(&p, HEAD, false);
        f.sink.expect(&body[body.len() - 1024..]);
        f.stop().unwrap_err();

        // Exactly `head` bytes: the whole file.
        fs::write(&p, &body[..1024]).unwrap();
        let f = Follower::start(&p, HEAD, false);
        f.sink.expect(&body[..1024]);
        f.stop().unwrap_err();
    }

    #[test]
    fn appended_data_arrives() {
        both_modes(|polling| {
            let dir = tempfile::tempdir().unwrap();
            let p = dir.path().join("a.log");
            fs::write(&p, b"start\n").unwrap();
            let f = Follower::start(&p, HEAD, polling);
            f.sink.expect(b"start\n");
            let mut want = b"start\n".to_vec();
            let writer = {
                let p = p.clone();
                std::thread::spawn(move || {
                    for i in 0..50 {
                        append(&p, format!("line {i}\n").as_bytes());
                        if i % 10 == 0 {
                            std::thread::sleep(Duration::from_millis(2));
                        }
                    }
                })
            };
            for i in 0..50 {
                want.extend_from_slice(format!("line {i}\n").as_bytes());
            }
            writer.join().unwrap();
            f.sink.expect(&want);
            f.stop().unwrap_err();
        });
    }

    #[test]
    fn big_appends_go_in_bounded_pieces() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.log");
        fs::write(&p, b"start\n").unwrap();
        let f = Follower::start(&p, HEAD, false);
        // The follower has found its place before the big append (else,
        // on a busy machine, it may start HEAD bytes before its end).
        f.sink.expect(b"start\n");
        let big: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
        append(&p, &big);
        let mut want = b"start\n".to_vec();
        want.extend_from_slice(&big);
        f.sink.expect(&want);
        assert!(*f.sink.largest_write.lock().unwrap() <= PIECE);
        f.stop().unwrap_err();
    }

    #[test]
    fn truncation_is_announced_and_the_file_resent() {
        both_modes(|polling| {
            let dir = tempfile::tempdir().unwrap();
            let p = dir.path().join("a.log");
            fs::write(&p, b"abcdef\n").unwrap();
            let f = Follower::start(&p, HEAD, polling);
            f.sink.expect(b"abcdef\n");
            // Truncate in place (same inode), then write less than before.
            let file = OpenOptions::new().write(true).open(&p).unwrap();
            file.set_len(0).unwrap();
            append(&p, b"xyz\n");
            f.sink.expect(b"abcdef\n==> File truncated <==\nxyz\n");
            append(&p, b"more\n");
            f.sink
                .expect(b"abcdef\n==> File truncated <==\nxyz\nmore\n");
            f.stop().unwrap_err();
        });
    }

    #[test]
    fn rotation_switches_to_the_new_file() {
        both_modes(|polling| {
            let dir = tempfile::tempdir().unwrap();
            let p = dir.path().join("a.log");
            let old = dir.path().join("a.log.1");
            fs::write(&p, b"one\n").unwrap();
            let f = Follower::start(&p, HEAD, polling);
            f.sink.expect(b"one\n");
            fs::rename(&p, &old).unwrap();
            // Late bytes in the old file still go out before the switch.
            append(&old, b"late\n");
            fs::write(&p, b"").unwrap();
            append(&p, b"two\n");
            f.sink.expect(b"one\nlate\ntwo\n");
            append(&p, b"three\n");
            // The old file is no longer followed.
            append(&old, b"ignored\n");
            f.sink.expect(b"one\nlate\ntwo\nthree\n");
            f.stop().unwrap_err();
        });
    }

    #[test]
    fn remove_and_recreate_is_a_rotation() {
        // What Python's clearProcessLogs and clearLog do to a log file.
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.log");
        fs::write(&p, b"before\n").unwrap();
        let f = Follower::start(&p, HEAD, false);
        f.sink.expect(b"before\n");
        fs::remove_file(&p).unwrap();
        fs::write(&p, b"after\n").unwrap();
        f.sink.expect(b"before\nafter\n");
        f.stop().unwrap_err();
    }

    #[test]
    fn an_unlinked_file_is_still_followed() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.log");
        fs::write(&p, b"x\n").unwrap();
        let mut keep = OpenOptions::new().append(true).open(&p).unwrap();
        let f = Follower::start(&p, HEAD, false);
        f.sink.expect(b"x\n");
        fs::remove_file(&p).unwrap();
        keep.write_all(b"y\n").unwrap();
        f.sink.expect(b"x\ny\n");
        f.stop().unwrap_err();
    }

    #[test]
    fn a_symlinked_log_is_followed_by_looking() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("real")).unwrap();
        let real = dir.path().join("real/a.log");
        let link = dir.path().join("a.log");
        fs::write(&real, b"one\n").unwrap();
        std::os::unix::fs::symlink(&real, &link).unwrap();
        assert!(Watch::new(&link).inotify.is_none());
        let sink = Sink::default();
        let mut out = sink.clone();
        let (rd, wr) = nix::unistd::pipe().unwrap();
        let t = std::thread::spawn(move || follow(&link, HEAD, &mut out, Some(rd.as_fd())));
        sink.expect(b"one\n");
        append(&real, b"two\n");
        sink.expect(b"one\ntwo\n");
        drop(wr);
        t.join().unwrap().unwrap_err();
    }

    #[test]
    fn other_files_in_the_directory_are_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.log");
        let other = dir.path().join("b.log");
        fs::write(&p, b"a\n").unwrap();
        fs::write(&other, b"b\n").unwrap();
        let f = Follower::start(&p, HEAD, false);
        f.sink.expect(b"a\n");
        append(&other, b"bb\n");
        fs::remove_file(&other).unwrap();
        append(&p, b"aa\n");
        f.sink.expect(b"a\naa\n");
        f.stop().unwrap_err();
    }

    #[test]
    fn a_failing_output_ends_the_stream() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.log");
        fs::write(&p, b"first\n").unwrap();
        let sink = Sink::default();
        let mut out = sink.clone();
        let path = p.clone();
        let t = std::thread::spawn(move || follow(&path, HEAD, &mut out, None));
        sink.expect(b"first\n");
        sink.fail.store(true, Ordering::SeqCst);
        append(&p, b"second\n");
        let err = t.join().unwrap().unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::BrokenPipe);
        assert_eq!(sink.get(), b"first\n");
    }

    #[test]
    fn a_missing_file_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let mut out = Sink::default();
        let err = follow(&dir.path().join("nope"), HEAD, &mut out, None).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
    }

    #[test]
    fn a_closed_socket_ends_an_idle_stream() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.log");
        fs::write(&p, b"idle\n").unwrap();
        let (ours, theirs) = std::os::unix::net::UnixStream::pair().unwrap();
        let sink = Sink::default();
        let mut out = sink.clone();
        let path = p.clone();
        let t = std::thread::spawn(move || follow(&path, HEAD, &mut out, Some(ours.as_fd())));
        sink.expect(b"idle\n");
        // The client sending bytes does not end the stream...
        (&theirs).write_all(b"GET / HTTP/1.1\r\n\r\n").unwrap();
        append(&p, b"busy\n");
        sink.expect(b"idle\nbusy\n");
        // ...its going away does.
        drop(theirs);
        let err = t.join().unwrap().unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::BrokenPipe);
    }

    #[test]
    fn chunked_framing() {
        let mut w = ChunkedWriter::new(Vec::new());
        w.write_all(b"hello").unwrap();
        w.write_all(b"").unwrap();
        w.write_all(&[b'x'; 26]).unwrap();
        assert_eq!(
            w.get_ref().as_slice(),
            b"5\r\nhello\r\n1a\r\nxxxxxxxxxxxxxxxxxxxxxxxxxx\r\n"
        );
        let bytes = w.finish().unwrap();
        assert_eq!(
            bytes,
            b"5\r\nhello\r\n1a\r\nxxxxxxxxxxxxxxxxxxxxxxxxxx\r\n0\r\n\r\n"
        );

        // A write longer than a piece is split into several chunks.
        let mut w = ChunkedWriter::new(Vec::new());
        w.write_all(&vec![b'y'; PIECE + 3]).unwrap();
        let bytes = w.finish().unwrap();
        let mut want = b"10000\r\n".to_vec();
        want.extend(std::iter::repeat_n(b'y', PIECE));
        want.extend_from_slice(b"\r\n3\r\nyyy\r\n0\r\n\r\n");
        assert_eq!(bytes, want);
    }

    #[test]
    fn chunked_writer_flushes_every_chunk() {
        struct Counting(Vec<u8>, usize);
        impl Write for Counting {
            fn write(&mut self, b: &[u8]) -> io::Result<usize> {
                self.0.extend_from_slice(b);
                Ok(b.len())
            }
            fn flush(&mut self) -> io::Result<()> {
                self.1 += 1;
                Ok(())
            }
        }
        let mut w = ChunkedWriter::new(Counting(Vec::new(), 0));
        w.write_all(b"a").unwrap();
        assert_eq!(w.get_ref().1, 1);
        w.write_all(b"b").unwrap();
        assert_eq!(w.get_ref().1, 2);
    }

    #[test]
    fn follow_through_a_chunked_writer() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.log");
        fs::write(&p, b"hi\n").unwrap();
        let sink = Sink::default();
        let mut out = ChunkedWriter::new(sink.clone());
        let (rd, wr) = nix::unistd::pipe().unwrap();
        let path = p.clone();
        let t = std::thread::spawn(move || follow(&path, HEAD, &mut out, Some(rd.as_fd())));
        sink.expect(b"3\r\nhi\n\r\n");
        drop(wr);
        t.join().unwrap().unwrap_err();
    }
}
