//! The rotating log file writer used for child logs and the main log.
//!
//! Owns one open descriptor on a log path and the rotation policy that
//! Supervisor's `RotatingFileHandler` applies: after each write, when the
//! file has reached `maxbytes`, shift `f.(n-1)`→`f.n` … `f`→`f.1` (keeping
//! `backups` files) and start `f` again empty. Special files (`/dev/stdout`,
//! ttys, FIFOs, …) are written as they are and never seeked, truncated,
//! renamed or removed. Errors are returned, never panicked on, and a failed
//! write or reopen leaves the writer usable: the next call tries again.

use std::ffi::OsString;
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

/// A log file that rotates by size, like Supervisor's `RotatingFileHandler`
/// (or its plain `FileHandler` when `maxbytes` is 0).
#[derive(Debug)]
pub struct RotatingFile {
    path: PathBuf,
    maxbytes: u64,
    backups: u32,
    /// `None` only after an open failed (rotation or reopen); the next write
    /// retries the open.
    file: Option<File>,
    /// Not a regular file (or a path naming one of our own standard
    /// streams): never rotated, truncated or removed.
    special: bool,
}

/// Paths that name the process's own standard streams. Even when stdout is
/// redirected to a regular file, rotating would try to rename `/dev/stdout`.
fn names_std_stream(path: &Path) -> bool {
    let p = path.as_os_str().as_bytes();
    matches!(
        p,
        b"/dev/stdout" | b"/dev/stderr" | b"/dev/stdin" | b"/dev/tty"
    ) || p.starts_with(b"/dev/fd/")
        || p.starts_with(b"/proc/self/fd/")
}

/// `path` with `.n` appended, as Python's `"%s.%d"`.
fn numbered(path: &Path, n: u32) -> PathBuf {
    let mut s: OsString = path.as_os_str().to_owned();
    s.push(format!(".{n}"));
    PathBuf::from(s)
}

/// Python's `removeAndRename`: drop the target if present, then rename;
/// ENOENT on either step is a lost race and not an error.
fn remove_and_rename(src: &Path, dst: &Path) -> io::Result<()> {
    if dst.exists() {
        match std::fs::remove_file(dst) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
    }
    match std::fs::rename(src, dst) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

impl RotatingFile {
    /// Opens `path` for appending, creating it with mode 0o666 less the
    /// umask (as Python's `open(path, 'ab')`). `maxbytes == 0` disables
    /// rotation; `backups == 0` makes rotation truncate the file instead.
    pub fn open(path: &Path, maxbytes: u64, backups: u32) -> io::Result<RotatingFile> {
        let mut rf = RotatingFile {
            path: path.to_path_buf(),
            maxbytes,
            backups,
            file: None,
            special: names_std_stream(path),
        };
        rf.open_file(false)?;
        Ok(rf)
    }

    fn open_file(&mut self, truncate: bool) -> io::Result<()> {
        self.file = None;
        let mut opts = OpenOptions::new();
        // O_APPEND even after a rollover (Python reopens with 'wb'): another
        // writer on the same path (stdout and stderr sharing a file) must not
        // overwrite our bytes.
        opts.append(true).create(true).mode(0o666);
        if truncate && !self.special {
            opts.custom_flags(libc::O_TRUNC);
        }
        let file = opts.open(&self.path)?;
        let regular = file.metadata().map(|m| m.is_file()).unwrap_or(false);
        self.special = names_std_stream(&self.path) || !regular;
        self.file = Some(file);
        Ok(())
    }

    /// Writes all of `data` (short writes and EINTR handled), then rotates
    /// if the file reached `maxbytes`. The rollover check runs even after a
    /// failed write, as Python's handler does; the write error wins.
    pub fn write_all(&mut self, data: &[u8]) -> io::Result<()> {
        if data.is_empty() {
            return Ok(());
        }
        if self.file.is_none() {
            self.open_file(false)?;
        }
        let res = match self.file.as_mut() {
            Some(f) => f.write_all(data),
            None => Err(io::Error::other("log file not open")),
        };
        let rot = self.maybe_rotate();
        res.and(rot)
    }

    fn maybe_rotate(&mut self) -> io::Result<()> {
        if self.special || self.maxbytes == 0 {
            return Ok(());
        }
        let size = match self.file.as_ref() {
            Some(f) => f.metadata()?.len(),
            None => return Ok(()),
        };
        if size < self.maxbytes {
            return Ok(());
        }
        self.rotate()
    }

    /// The rollover itself. On a rename failure the current file is kept
    /// (reopened for appending, not truncated) so no logged bytes are lost.
    fn rotate(&mut self) -> io::Result<()> {
        self.file = None;
        let mut first_err: Option<io::Error> = None;
        let mut base_moved = true;
        if self.backups > 0 {
            for i in (1..self.backups).rev() {
                let src = numbered(&self.path, i);
                if src.exists() {
                    if let Err(e) = remove_and_rename(&src, &numbered(&self.path, i + 1)) {
                        first_err.get_or_insert(e);
                    }
                }
            }
            if let Err(e) = remove_and_rename(&self.path, &numbered(&self.path, 1)) {
                base_moved = false;
                first_err.get_or_insert(e);
            }
        }
        let opened = self.open_file(base_moved);
        match first_err {
            Some(e) => Err(e),
            None => opened,
        }
    }

    /// Closes and opens the path again (SIGUSR2 / logrotate): a file renamed
    /// away is left alone and a new one is created at the path.
    pub fn reopen(&mut self) -> io::Result<()> {
        self.open_file(false)
    }

    /// Supervisor's `clearProcessLogs` for one file: remove the file (a
    /// missing file is fine; backups are kept) and open it again, empty.
    /// Special files are never removed, only reopened. The writer is
    /// reopened even when the removal fails, so logging carries on.
    pub fn clear(&mut self) -> io::Result<()> {
        self.file = None;
        let removed = if self.special {
            Ok(())
        } else {
            match std::fs::remove_file(&self.path) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
                _ => Ok(()),
            }
        };
        let opened = self.open_file(false);
        removed.and(opened)
    }

    /// The path this writer was opened on.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Current size of the open file; 0 for special files or when closed.
    pub fn size(&self) -> u64 {
        if self.special {
            return 0;
        }
        self.file
            .as_ref()
            .and_then(|f| f.metadata().ok())
            .map_or(0, |m| m.len())
    }

    /// True for files that are never rotated (devices, FIFOs, std streams).
    pub fn is_special(&self) -> bool {
        self.special
    }

    /// The configured rotation size (0 = never rotate).
    pub fn maxbytes(&self) -> u64 {
        self.maxbytes
    }

    /// The configured number of backups kept.
    pub fn backups(&self) -> u32 {
        self.backups
    }

    /// `(st_dev, st_ino)` of the open file, to tell whether it is the same
    /// object as some other descriptor (e.g. our stdout).
    pub fn identity(&self) -> Option<(u64, u64)> {
        let m = self.file.as_ref()?.metadata().ok()?;
        Some((m.dev(), m.ino()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn read(p: &Path) -> Vec<u8> {
        fs::read(p).unwrap_or_default()
    }

    #[test]
    fn appends_to_existing_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.log");
        fs::write(&p, b"old\n").unwrap();
        let mut f = RotatingFile::open(&p, 0, 0).unwrap();
        f.write_all(b"new\n").unwrap();
        assert_eq!(read(&p), b"old\nnew\n");
        assert_eq!(f.size(), 8);
        assert!(!f.is_special());
        assert_eq!(f.path(), p.as_path());
    }

    #[test]
    fn creates_with_umask_mode() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("m.log");
        let _f = RotatingFile::open(&p, 0, 0).unwrap();
        let mode = fs::metadata(&p).unwrap().permissions().mode() & 0o777;
        let status = fs::read_to_string("/proc/self/status").unwrap();
        let mask = status
            .lines()
            .find_map(|l| l.strip_prefix("Umask:"))
            .map(|v| u32::from_str_radix(v.trim(), 8).unwrap())
            .unwrap();
        assert_eq!(mode, 0o666 & !mask);
    }

    #[test]
    fn rotation_naming_and_order() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("r.log");
        let mut f = RotatingFile::open(&p, 10, 3).unwrap();
        // Each write reaches maxbytes, so each one rotates right after.
        for c in b"abcde" {
            f.write_all(&[*c; 10]).unwrap();
        }
        assert_eq!(read(&p), b"");
        assert_eq!(read(&numbered(&p, 1)), [b'e'; 10]);
        assert_eq!(read(&numbered(&p, 2)), [b'd'; 10]);
        assert_eq!(read(&numbered(&p, 3)), [b'c'; 10]);
        assert!(!numbered(&p, 4).exists());
        f.write_all(b"xyz").unwrap();
        assert_eq!(read(&p), b"xyz");
    }

    #[test]
    fn rotates_only_at_or_over_maxbytes() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("r.log");
        let mut f = RotatingFile::open(&p, 10, 2).unwrap();
        f.write_all(b"123456789").unwrap();
        assert_eq!(read(&p), b"123456789");
        assert!(!numbered(&p, 1).exists());
        // A write that crosses the limit lands whole, then rotates.
        f.write_all(b"abcdef").unwrap();
        assert_eq!(read(&numbered(&p, 1)), b"123456789abcdef");
        assert_eq!(read(&p), b"");
    }

    #[test]
    fn backups_zero_truncates() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.log");
        let mut f = RotatingFile::open(&p, 5, 0).unwrap();
        f.write_all(b"abc").unwrap();
        f.write_all(b"def").unwrap();
        assert_eq!(read(&p), b"");
        assert!(!numbered(&p, 1).exists());
        f.write_all(b"gh").unwrap();
        assert_eq!(read(&p), b"gh");
    }

    #[test]
    fn one_backup_replaces_old_backup() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("o.log");
        let mut f = RotatingFile::open(&p, 3, 1).unwrap();
        f.write_all(b"aaa").unwrap();
        f.write_all(b"bbb").unwrap();
        assert_eq!(read(&numbered(&p, 1)), b"bbb");
        assert!(!numbered(&p, 2).exists());
    }

    #[test]
    fn zero_maxbytes_never_rotates() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("z.log");
        let mut f = RotatingFile::open(&p, 0, 5).unwrap();
        for _ in 0..100 {
            f.write_all(b"0123456789").unwrap();
        }
        assert_eq!(read(&p).len(), 1000);
        assert!(!numbered(&p, 1).exists());
    }

    #[test]
    fn special_files_not_rotated() {
        let mut f = RotatingFile::open(Path::new("/dev/null"), 1, 2).unwrap();
        assert!(f.is_special());
        f.write_all(b"hello").unwrap();
        f.write_all(b"hello").unwrap();
        assert_eq!(f.size(), 0);
        f.reopen().unwrap();
        f.clear().unwrap();
        assert!(Path::new("/dev/null").exists());

        // A FIFO: writes go straight through, nothing renamed.
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
        let reader = std::thread::spawn({
            let fifo = fifo.clone();
            move || fs::read(fifo).unwrap()
        });
        let mut w = RotatingFile::open(&fifo, 2, 3).unwrap();
        assert!(w.is_special());
        w.write_all(b"abc").unwrap();
        w.write_all(b"def").unwrap();
        drop(w);
        assert_eq!(reader.join().unwrap(), b"abcdef");
        assert!(!numbered(&fifo, 1).exists());
    }

    #[test]
    fn std_stream_names_are_special() {
        assert!(names_std_stream(Path::new("/dev/stdout")));
        assert!(names_std_stream(Path::new("/dev/stderr")));
        assert!(names_std_stream(Path::new("/dev/fd/1")));
        assert!(names_std_stream(Path::new("/proc/self/fd/2")));
        assert!(!names_std_stream(Path::new("/dev/shm/app.log")));
        assert!(!names_std_stream(Path::new("/var/log/x.log")));
    }

    #[test]
    fn reopen_after_rename() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("l.log");
        let moved = dir.path().join("l.log.moved");
        let mut f = RotatingFile::open(&p, 0, 0).unwrap();
        f.write_all(b"before\n").unwrap();
        fs::rename(&p, &moved).unwrap();
        f.write_all(b"still old\n").unwrap();
        f.reopen().unwrap();
        f.write_all(b"after\n").unwrap();
        assert_eq!(read(&moved), b"before\nstill old\n");
        assert_eq!(read(&p), b"after\n");
    }

    #[test]
    fn clear_removes_file_keeps_backups() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("c.log");
        let mut f = RotatingFile::open(&p, 4, 2).unwrap();
        f.write_all(b"1234").unwrap();
        f.write_all(b"ab").unwrap();
        f.clear().unwrap();
        assert_eq!(read(&p), b"");
        assert_eq!(read(&numbered(&p, 1)), b"1234");
        f.write_all(b"cd").unwrap();
        assert_eq!(read(&p), b"cd");
        // Clearing a file someone already removed is fine.
        fs::remove_file(&p).unwrap();
        f.clear().unwrap();
        assert!(p.exists());
    }

    #[test]
    fn write_error_is_returned_and_not_sticky() {
        let mut f = RotatingFile::open(Path::new("/dev/full"), 10, 1).unwrap();
        let e = f.write_all(b"x").unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::ENOSPC));
        assert!(f.write_all(b"y").is_err());
        f.reopen().unwrap();
        assert!(f.write_all(b"z").is_err());
    }

    #[test]
    fn open_failure_is_an_error() {
        assert!(RotatingFile::open(Path::new("/nonexistent-dir/x/y.log"), 0, 0).is_err());
    }

    #[test]
    fn failed_reopen_is_retried_by_next_write() {
        let dir = tempfile::tempdir().unwrap();
        let sub = dir.path().join("sub");
        fs::create_dir(&sub).unwrap();
        let p = sub.join("f.log");
        let mut f = RotatingFile::open(&p, 0, 0).unwrap();
        fs::remove_file(&p).unwrap();
        fs::remove_dir(&sub).unwrap();
        assert!(f.reopen().is_err());
        assert!(f.write_all(b"lost").is_err());
        fs::create_dir(&sub).unwrap();
        f.write_all(b"back").unwrap();
        assert_eq!(read(&p), b"back");
    }

    #[test]
    fn rotation_with_missing_backup_gaps() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("g.log");
        fs::write(numbered(&p, 2), b"two").unwrap();
        let mut f = RotatingFile::open(&p, 1, 3).unwrap();
        f.write_all(b"A").unwrap();
        assert_eq!(read(&numbered(&p, 1)), b"A");
        assert_eq!(read(&numbered(&p, 3)), b"two");
        assert!(!numbered(&p, 2).exists());
    }
}
