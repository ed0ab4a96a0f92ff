//! `tempfile.mkstemp` as Supervisor uses it for AUTO child logs: the name
//! is `prefix + 8 characters of [a-z0-9_] + suffix`, the file is created
//! exclusively with mode 0600, and a name that exists is drawn again.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::io;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// Python's `_RandomNameSequence.characters`.
const CHARACTERS: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789_";

/// Python's `os.TMP_MAX` on Linux: how many names are tried.
const TMP_MAX: u32 = 238_328;

/// Creates a new empty file in `dir` named as Python's mkstemp names it
/// and returns its path (the file is closed again).
pub fn mkstemp(dir: &Path, prefix: &str, suffix: &str) -> io::Result<PathBuf> {
    let mut last = io::Error::from(io::ErrorKind::AlreadyExists);
    for _ in 0..TMP_MAX {
        let path = dir.join(format!("{}{}{}", prefix, random_name(), suffix));
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
        {
            Ok(_) => return Ok(path),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last = e,
            Err(e) => return Err(e),
        }
    }
    Err(last)
}

/// Eight characters drawn from [`CHARACTERS`]. `RandomState` is seeded
/// from the OS's random source per process and varies per instance,
/// which is all a name that is then created exclusively needs.
fn random_name() -> String {
    let mut bits = RandomState::new().build_hasher().finish();
    (0..8)
        .map(|_| {
            let c = CHARACTERS[(bits % CHARACTERS.len() as u64) as usize];
            bits /= CHARACTERS.len() as u64;
            char::from(c)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_like_python_mkstemp() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = mkstemp(dir.path(), "web-stdout---supervisor-", ".log").expect("mkstemp");
        let name = p.file_name().and_then(|n| n.to_str()).expect("utf-8 name");
        let middle = name
            .strip_prefix("web-stdout---supervisor-")
            .and_then(|r| r.strip_suffix(".log"))
            .expect("prefix and suffix");
        assert_eq!(middle.len(), 8, "{name}");
        assert!(middle.bytes().all(|b| CHARACTERS.contains(&b)), "{name}");
        let meta = std::fs::metadata(&p).expect("created");
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(meta.permissions().mode() & 0o777, 0o600);
        assert_eq!(meta.len(), 0);
    }

    #[test]
    fn names_differ() {
        let dir = tempfile::tempdir().expect("tempdir");
        let a = mkstemp(dir.path(), "x-", ".log").expect("a");
        let b = mkstemp(dir.path(), "x-", ".log").expect("b");
        assert_ne!(a, b);
    }

    #[test]
    fn a_missing_directory_is_an_error() {
        let dir = tempfile::tempdir().expect("tempdir");
        let e = mkstemp(&dir.path().join("nope"), "x-", ".log").expect_err("no dir");
        assert_eq!(e.kind(), io::ErrorKind::NotFound);
    }
}
