//! The one harness of the integration tests: the binaries under test and
//! the Python reference, temp dirs and ports, bounded waits, commands run
//! to completion, process guards (`proc`), supervisord daemons of either
//! kind (`daemon`) and the HTTP / XML-RPC client that talks to them
//! (`http`).

pub mod daemon;
pub mod http;
pub mod proc;

pub use daemon::{Daemon, DaemonBuilder, Impl, START};
pub use proc::{
    alive, connection_threads, descendants, run_with_input, run_with_timeout, signal, Captured,
    Guard, ProcessTree,
};

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Our multi-call binary as cargo built it for this test run.
pub fn our_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_supervisord"))
}

/// A link to our binary under another name (`supervisorctl`,
/// `echo_supervisord_conf`, `pidproxy`) inside `dir`, since the binary
/// dispatches on the name it was called by. An existing link is replaced
/// at once (made aside, then renamed over it), so runs that share `dir`
/// never see it missing or pointing elsewhere.
pub fn our_bin_as(dir: &Path, name: &str) -> PathBuf {
    static MADE: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let link = dir.join(name);
    if std::fs::read_link(&link).is_ok_and(|to| to == our_bin()) {
        return link;
    }
    let n = MADE.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let aside = dir.join(format!(".{name}.{}.{n}", std::process::id()));
    std::os::unix::fs::symlink(our_bin(), &aside).expect("symlink to our binary");
    std::fs::rename(&aside, &link).expect("rename the link into place");
    link
}

/// The venv holding Python Supervisor 4.3.0 (made by `make pyref`).
/// Tests that compare against the reference fail loudly when it is missing:
/// a skipped differential test would prove nothing.
pub fn pyref_venv() -> PathBuf {
    let dir = std::env::var_os("SUPERVISOR_PYREF")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("target/pyref"));
    assert!(
        dir.join("bin/supervisord").exists(),
        "the Python reference is missing at {}: run `make pyref` (make test does it)",
        dir.display()
    );
    dir
}

/// A program from the reference venv's bin dir (supervisord, supervisorctl, python).
pub fn pyref_bin(name: &str) -> PathBuf {
    pyref_venv().join("bin").join(name)
}

/// The checkout the tests run from.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A file the tests ship (a driver script, a corpus), by its path under
/// `tests/`.
pub fn test_file(path: &str) -> PathBuf {
    repo_root().join("tests").join(path)
}

/// A fresh temp dir, removed when dropped.
pub fn temp_dir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("svd-test-")
        .tempdir()
        .expect("create temp dir")
}

/// A loopback TCP port that was free a moment ago, and that no other test
/// of this process has been given. It comes from below the kernel's
/// ephemeral range (32768-60999 here), so no outgoing connection of
/// another test can take it as its local port before the daemon under
/// test binds it (ports from `bind(0)` come from that range, and did).
pub fn free_port() -> u16 {
    use std::hash::{BuildHasher, Hasher};
    static GIVEN: Mutex<Option<HashSet<u16>>> = Mutex::new(None);
    const LOW: u64 = 20_000;
    const HIGH: u64 = 32_000;
    loop {
        let random = std::collections::hash_map::RandomState::new()
            .build_hasher()
            .finish();
        let port = (LOW + random % (HIGH - LOW)) as u16;
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_err() {
            continue;
        }
        let mut given = GIVEN.lock().unwrap_or_else(|e| e.into_inner());
        if given.get_or_insert_with(HashSet::new).insert(port) {
            return port;
        }
    }
}

/// Polls `cond` until it holds or `timeout` passes; returns whether it held.
pub fn wait_until(timeout: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if cond() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The whole of a file, or "" when it is not there (yet).
pub fn read_text(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

/// Whether the tests run as root (some switch users, some need a user who
/// cannot).
pub fn is_root() -> bool {
    // SAFETY: geteuid(2) only reads the process's credentials.
    unsafe { libc::geteuid() == 0 }
}

/// Held while a test installs a system package: apt-get takes dpkg's lock
/// for the machine, so two tests of this binary installing at once would
/// make one of them fail.
pub fn apt_lock() -> std::sync::MutexGuard<'static, ()> {
    static APT: Mutex<()> = Mutex::new(());
    APT.lock().unwrap_or_else(|e| e.into_inner())
}
