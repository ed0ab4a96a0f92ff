//! A child's stdin, written from the loop without ever blocking it: what
//! fits in the pipe is written at once, so a closed pipe (EPIPE) is
//! reported to the caller as Python reports it; anything the pipe cannot
//! take yet goes to a writer thread made on first need, which keeps the
//! order of the bytes and ends when the pipe breaks or the process ends.

use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};

pub struct Stdin {
    fd: Arc<OwnedFd>,
    backlog: Option<mpsc::Sender<Vec<u8>>>,
    /// Bytes handed to the writer thread and not yet written.
    queued: Arc<AtomicUsize>,
    /// Set when a write found the pipe closed.
    broken: Arc<AtomicBool>,
}

impl Stdin {
    pub fn new(fd: OwnedFd) -> Stdin {
        // The loop must never block on a child that does not read.
        let _ = nix::fcntl::fcntl(
            fd.as_fd(),
            nix::fcntl::FcntlArg::F_SETFL(nix::fcntl::OFlag::O_NONBLOCK),
        );
        Stdin {
            fd: Arc::new(fd),
            backlog: None,
            queued: Arc::new(AtomicUsize::new(0)),
            broken: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Writes `data`; Err(EPIPE) when the child closed its stdin.
    pub fn write(&mut self, data: &[u8]) -> io::Result<()> {
        if self.broken.load(Ordering::Acquire) {
            return Err(io::Error::from_raw_os_error(libc::EPIPE));
        }
        if self.queued.load(Ordering::Acquire) > 0 {
            return self.enqueue(data.to_vec());
        }
        let mut rest = data;
        while !rest.is_empty() {
            match nix::unistd::write(self.fd.as_fd(), rest) {
                Ok(n) => rest = &rest[n..],
                Err(nix::errno::Errno::EINTR) => {}
                Err(nix::errno::Errno::EAGAIN) => return self.enqueue(rest.to_vec()),
                Err(e) => {
                    if e == nix::errno::Errno::EPIPE {
                        self.broken.store(true, Ordering::Release);
                    }
                    return Err(io::Error::from_raw_os_error(e as i32));
                }
            }
        }
        Ok(())
    }

    fn enqueue(&mut self, data: Vec<u8>) -> io::Result<()> {
        if self.backlog.is_none() {
            self.backlog = Some(self.spawn_writer()?);
        }
        self.queued.fetch_add(data.len(), Ordering::AcqRel);
        let len = data.len();
        let sent = self.backlog.as_ref().map(|tx| tx.send(data));
        if !matches!(sent, Some(Ok(()))) {
            self.queued.fetch_sub(len, Ordering::AcqRel);
            return Err(io::Error::from_raw_os_error(libc::EPIPE));
        }
        Ok(())
    }

    fn spawn_writer(&self) -> io::Result<mpsc::Sender<Vec<u8>>> {
        let (tx, rx) = mpsc::channel::<Vec<u8>>();
        let fd = Arc::clone(&self.fd);
        let queued = Arc::clone(&self.queued);
        let broken = Arc::clone(&self.broken);
        std::thread::Builder::new()
            .name("stdin-writer".into())
            .stack_size(64 * 1024)
            .spawn(move || {
                for chunk in rx {
                    let ok = write_blocking(&fd, &chunk);
                    queued.fetch_sub(chunk.len(), Ordering::AcqRel);
                    if !ok {
                        broken.store(true, Ordering::Release);
                        return;
                    }
                }
            })?;
        Ok(tx)
    }
}

/// Writes all of `data` to a non-blocking fd, waiting for room with
/// poll(2). False when the pipe broke.
fn write_blocking(fd: &OwnedFd, mut data: &[u8]) -> bool {
    use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
    while !data.is_empty() {
        match nix::unistd::write(fd.as_fd(), data) {
            Ok(n) => data = &data[n..],
            Err(nix::errno::Errno::EINTR) => {}
            Err(nix::errno::Errno::EAGAIN) => {
                let mut fds = [PollFd::new(fd.as_fd(), PollFlags::POLLOUT)];
                match poll(&mut fds, PollTimeout::NONE) {
                    Ok(_) | Err(nix::errno::Errno::EINTR) => {}
                    Err(_) => return false,
                }
            }
            Err(_) => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn pipe() -> (std::fs::File, OwnedFd) {
        let (r, w) = nix::unistd::pipe().expect("pipe");
        (std::fs::File::from(r), w)
    }

    #[test]
    fn small_writes_go_straight_through() {
        let (mut r, w) = pipe();
        let mut s = Stdin::new(w);
        s.write(b"hello ").expect("write");
        s.write(b"world").expect("write");
        drop(s);
        let mut out = String::new();
        r.read_to_string(&mut out).expect("read");
        assert_eq!(out, "hello world");
    }

    #[test]
    fn more_than_a_pipe_holds_does_not_block_and_keeps_order() {
        let (mut r, w) = pipe();
        let mut s = Stdin::new(w);
        let big: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
        s.write(&big).expect("write big");
        s.write(b"tail").expect("write tail");
        let reader = std::thread::spawn(move || {
            let mut all = Vec::new();
            r.read_to_end(&mut all).expect("read");
            all
        });
        drop(s);
        let all = reader.join().expect("reader");
        assert_eq!(all.len(), big.len() + 4);
        assert_eq!(&all[..big.len()], &big[..]);
        assert_eq!(&all[big.len()..], b"tail");
    }

    #[test]
    fn closed_reader_is_epipe() {
        let (r, w) = pipe();
        drop(r);
        let mut s = Stdin::new(w);
        let e = s.write(b"x").expect_err("epipe");
        assert_eq!(e.raw_os_error(), Some(libc::EPIPE));
        assert!(s.write(b"y").is_err());
    }
}
