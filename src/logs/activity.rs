//! The activity (main) log: supervisord's own log, `[supervisord] logfile`.
//!
//! Owns the process-global logger that every thread writes to. Lines look
//! like Python's `%(asctime)s %(levelname)s %(message)s\n`, e.g.
//! `2026-11-21 10:00:00,123 INFO spawned: 'web' with pid 42`. The target is
//! a [`RotatingFile`], syslog or nothing, plus an optional copy on stdout
//! (Python's `nodaemon and not silent` stream handler).
//!
//! Messages logged before the first [`init`] (config parsing, privilege
//! drops) are kept and written when `init` runs, filtered by the new level,
//! most severe first, stamped at that time: Python collects its parse
//! messages and replays criticals, then warnings, then infos the same way.
//! [`hold`] goes back to buffering until the next `init`, for HUP reloads.
//!
//! Writes are serialized by one mutex; a failing write (full disk) is
//! noted once on stderr and never panics or stops later messages.

use std::collections::VecDeque;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::SystemTime;

use super::localtime::LocalTime;
use super::rotating::RotatingFile;
use super::syslog;

/// Log levels with Supervisor's numeric values (`loggers.LevelsByName`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum Level {
    Critical = 50,
    Error = 40,
    Warn = 30,
    Info = 20,
    Debug = 10,
    Trace = 5,
    Blather = 3,
}

impl Level {
    /// All levels, most severe first.
    pub const ALL: [Level; 7] = [
        Level::Critical,
        Level::Error,
        Level::Warn,
        Level::Info,
        Level::Debug,
        Level::Trace,
        Level::Blather,
    ];

    /// Python's number for the level (CRIT=50 … BLAT=3).
    pub const fn value(self) -> u8 {
        self as u8
    }

    /// The level with Python's number `v`, if any.
    pub fn from_value(v: u8) -> Option<Level> {
        Level::ALL.into_iter().find(|l| l.value() == v)
    }

    /// Parses a `loglevel=` value: Python's names, any case. `warning` is
    /// also taken as `warn` (an extension; Python rejects it).
    pub fn from_config(s: &str) -> Option<Level> {
        let s = s.to_ascii_lowercase();
        match s.as_str() {
            "warning" => Some(Level::Warn),
            _ => Level::ALL.into_iter().find(|l| l.description() == s),
        }
    }

    /// The four-letter name written in log lines (`LevelsByName`).
    pub const fn tag(self) -> &'static str {
        match self {
            Level::Critical => "CRIT",
            Level::Error => "ERRO",
            Level::Warn => "WARN",
            Level::Info => "INFO",
            Level::Debug => "DEBG",
            Level::Trace => "TRAC",
            Level::Blather => "BLAT",
        }
    }

    /// The configuration name (`LevelsByDescription`), e.g. `"info"`.
    pub const fn description(self) -> &'static str {
        match self {
            Level::Critical => "critical",
            Level::Error => "error",
            Level::Warn => "warn",
            Level::Info => "info",
            Level::Debug => "debug",
            Level::Trace => "trace",
            Level::Blather => "blather",
        }
    }
}

/// One main-log line: `YYYY-mm-dd HH:MM:SS,mmm TAG msg\n`, local time,
/// milliseconds truncated as Python's `'%03d' % msecs` does.
pub fn format_line(t: SystemTime, level: Level, msg: &str) -> String {
    let lt = LocalTime::from_system(t);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02},{:03} {} {}\n",
        lt.year,
        lt.month,
        lt.day,
        lt.hour,
        lt.minute,
        lt.second,
        lt.millis,
        level.tag(),
        msg
    )
}

/// Where the main log goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MainLogTarget {
    /// A file, rotated by `maxbytes`/`backups`; `/dev/stdout` and other
    /// special files are written as they are.
    File(PathBuf),
    /// `logfile=syslog`: each line to `/dev/log`.
    Syslog,
    /// No main log output (echo to stdout may still be on).
    None,
}

/// Everything [`init`] needs; built from `[supervisord]` and the command line.
#[derive(Clone, Debug)]
pub struct MainLogConfig {
    pub target: MainLogTarget,
    pub maxbytes: u64,
    pub backups: u32,
    pub level: Level,
    /// Copy every line to stdout (`nodaemon` and not `silent`).
    pub echo_stdout: bool,
}

enum Sink {
    File(RotatingFile),
    Syslog,
    None,
}

/// One configured main log. Separate from the global so tests can run
/// several side by side.
struct MainLog {
    sink: Sink,
    level: Level,
    /// Python's stdout handler exists (`echo_stdout` was asked for).
    echo_configured: bool,
    /// Where echoed lines go; `None` when not echoing or when the log file
    /// is stdout itself (Python would print every line twice).
    echo: Option<Box<dyn Write + Send>>,
    make_echo: EchoFactory,
    /// A write failed and was reported; quiet until one succeeds.
    failing: bool,
}

/// Makes the stream echoed lines go to (stdout; tests capture it).
type EchoFactory = Box<dyn Fn() -> Box<dyn Write + Send> + Send>;

fn stdout_echo() -> EchoFactory {
    Box::new(|| Box::new(io::stdout()))
}

/// `(st_dev, st_ino)` of our fd 1, if it is open.
fn stdout_identity() -> Option<(u64, u64)> {
    let st = nix::sys::stat::fstat(io::stdout()).ok()?;
    Some((st.st_dev as u64, st.st_ino as u64))
}

impl MainLog {
    fn open(cfg: &MainLogConfig, make_echo: EchoFactory) -> io::Result<MainLog> {
        let sink = match &cfg.target {
            MainLogTarget::File(p) => Sink::File(RotatingFile::open(p, cfg.maxbytes, cfg.backups)?),
            MainLogTarget::Syslog => Sink::Syslog,
            MainLogTarget::None => Sink::None,
        };
        let mut log = MainLog {
            sink,
            level: cfg.level,
            echo_configured: cfg.echo_stdout,
            echo: None,
            make_echo,
            failing: false,
        };
        log.choose_echo();
        Ok(log)
    }

    /// Echo unless the file we write is the very object stdout points at.
    fn choose_echo(&mut self) {
        let same = match &self.sink {
            Sink::File(f) => f.identity().is_some() && f.identity() == stdout_identity(),
            _ => false,
        };
        self.echo = (self.echo_configured && !same).then(|| (self.make_echo)());
    }

    fn path(&self) -> Option<&Path> {
        match &self.sink {
            Sink::File(f) => Some(f.path()),
            _ => None,
        }
    }

    fn emit(&mut self, t: SystemTime, level: Level, msg: &str) {
        if level < self.level {
            return;
        }
        let line = format_line(t, level, msg);
        if let Some(out) = self.echo.as_mut() {
            // Output on a closed or full stdout is not worth reporting.
            let _ = out.write_all(line.as_bytes()).and_then(|()| out.flush());
        }
        match &mut self.sink {
            Sink::File(f) => match f.write_all(line.as_bytes()) {
                Ok(()) => self.failing = false,
                Err(e) => {
                    if !self.failing {
                        self.failing = true;
                        let note = format!(
                            "supervisord: cannot write main log {}: {e}\n",
                            f.path().display()
                        );
                        let _ = io::stderr().write_all(note.as_bytes());
                    }
                }
            },
            Sink::Syslog => {
                syslog::send_lines(msg, |l| format_line(t, level, l));
            }
            Sink::None => {}
        }
    }

    fn reopen(&mut self) -> io::Result<()> {
        let r = match &mut self.sink {
            Sink::File(f) => f.reopen(),
            _ => Ok(()),
        };
        self.choose_echo();
        r
    }

    /// Python's `clearLog`: remove the file, log "reopening log file" once
    /// per handler (the stdout copy counts), then reopen.
    fn clear(&mut self) -> io::Result<()> {
        let Sink::File(f) = &mut self.sink else {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                "main log is not a file",
            ));
        };
        if f.is_special() {
            // Python would unlink /dev/stdout here; refuse instead.
            return Err(io::Error::new(
                io::ErrorKind::PermissionDenied,
                "main log is a special file",
            ));
        }
        let path = f.path().to_path_buf();
        if !path.exists() {
            return Err(io::Error::new(io::ErrorKind::NotFound, "no main log file"));
        }
        std::fs::remove_file(&path)?;
        let handlers = 1 + usize::from(self.echo_configured);
        for _ in 0..handlers {
            self.emit(SystemTime::now(), Level::Info, "reopening log file");
        }
        self.reopen()
    }
}

/// Pending messages beyond these limits are dropped (a logger never
/// initialised must not grow without end).
const PENDING_MAX_COUNT: usize = 10_000;
const PENDING_MAX_BYTES: usize = 4 << 20;

struct State {
    log: Option<MainLog>,
    holding: bool,
    pending: VecDeque<(Level, String)>,
    pending_bytes: usize,
}

static STATE: Mutex<State> = Mutex::new(State {
    log: None,
    holding: true,
    pending: VecDeque::new(),
    pending_bytes: 0,
});

/// Lowest level written. 0 while buffering: everything is kept and the
/// level chosen by `init` filters the replay.
static THRESHOLD: AtomicU8 = AtomicU8::new(0);

fn lock() -> MutexGuard<'static, State> {
    STATE.lock().unwrap_or_else(|p| p.into_inner())
}

impl State {
    fn push_pending(&mut self, level: Level, msg: &str) {
        if self.pending.len() >= PENDING_MAX_COUNT
            || self.pending_bytes + msg.len() > PENDING_MAX_BYTES
        {
            return;
        }
        self.pending_bytes += msg.len();
        self.pending.push_back((level, msg.to_string()));
    }

    fn take_pending(&mut self) -> Vec<(Level, String)> {
        self.pending_bytes = 0;
        let mut v: Vec<_> = std::mem::take(&mut self.pending).into();
        // Stable: same-level messages keep their order.
        v.sort_by_key(|(l, _)| std::cmp::Reverse(*l));
        v
    }
}

/// Configures (or, on reload, reconfigures) the main log and writes the
/// messages buffered since start-up or since [`hold`]. On error the old
/// configuration and the buffer are left as they were.
pub fn init(cfg: MainLogConfig) -> io::Result<()> {
    let log = MainLog::open(&cfg, stdout_echo())?;
    let mut st = lock();
    st.log = Some(log);
    st.holding = false;
    THRESHOLD.store(cfg.level.value(), Ordering::Relaxed);
    let pending = st.take_pending();
    if let Some(log) = st.log.as_mut() {
        for (level, msg) in pending {
            log.emit(SystemTime::now(), level, &msg);
        }
    }
    Ok(())
}

/// Buffers messages from now until the next [`init`] (a HUP reload: the
/// new config's parse messages belong in the new log).
pub fn hold() {
    let mut st = lock();
    st.holding = true;
    THRESHOLD.store(0, Ordering::Relaxed);
}

/// Would a message at `level` be written? One atomic load; use it to skip
/// building expensive messages.
pub fn enabled(level: Level) -> bool {
    level.value() >= THRESHOLD.load(Ordering::Relaxed)
}

/// Logs `msg` at `level` (from any thread).
pub fn log(level: Level, msg: &str) {
    if !enabled(level) {
        return;
    }
    let mut st = lock();
    let st = &mut *st;
    match st.log.as_mut() {
        Some(log) if !st.holding => log.emit(SystemTime::now(), level, msg),
        _ => st.push_pending(level, msg),
    }
}

pub fn critical(msg: impl AsRef<str>) {
    log(Level::Critical, msg.as_ref());
}
/// Alias of [`critical`], Python's `logger.critical` is logged as CRIT.
pub fn crit(msg: impl AsRef<str>) {
    log(Level::Critical, msg.as_ref());
}
pub fn error(msg: impl AsRef<str>) {
    log(Level::Error, msg.as_ref());
}
pub fn warn(msg: impl AsRef<str>) {
    log(Level::Warn, msg.as_ref());
}
pub fn info(msg: impl AsRef<str>) {
    log(Level::Info, msg.as_ref());
}
pub fn debug(msg: impl AsRef<str>) {
    log(Level::Debug, msg.as_ref());
}
pub fn trace(msg: impl AsRef<str>) {
    log(Level::Trace, msg.as_ref());
}
pub fn blather(msg: impl AsRef<str>) {
    log(Level::Blather, msg.as_ref());
}

/// SIGUSR2: logs `supervisord logreopen` (as Python's `options.reopenlogs`
/// does, into the old file) and reopens the main log file. A failed open is
/// noted on stderr; the next write retries it.
pub fn reopen() {
    info("supervisord logreopen");
    let mut st = lock();
    if let Some(log) = st.log.as_mut() {
        if let Err(e) = log.reopen() {
            let path = log
                .path()
                .map(|p| p.display().to_string())
                .unwrap_or_default();
            let note = format!("supervisord: cannot reopen main log {path}: {e}\n");
            let _ = io::stderr().write_all(note.as_bytes());
        }
    }
}

/// The `clearLog` RPC, as Python does it: remove the file, log
/// `reopening log file` (into the removed file, still open), reopen.
/// `NotFound` when there is no file (syslog, none, or already gone: the
/// RPC's NO_FILE); any other error is the RPC's FAILED. Special files
/// (`/dev/stdout`) are refused rather than unlinked.
pub fn clear() -> io::Result<()> {
    let mut st = lock();
    match st.log.as_mut() {
        Some(log) => log.clear(),
        None => Err(io::Error::new(
            io::ErrorKind::NotFound,
            "main log not configured",
        )),
    }
}

/// The main log file's path, for `readLog` and `/mainlogtail`; `None` for
/// syslog, no log, or before `init`.
pub fn path() -> Option<PathBuf> {
    lock().log.as_ref()?.path().map(Path::to_path_buf)
}

/// The configured level, `None` before `init`.
pub fn level() -> Option<Level> {
    lock().log.as_ref().map(|l| l.level)
}

/// For a start-up failure before `init`: writes the buffered messages to
/// stderr in main-log format (most severe first) and empties the buffer.
pub fn flush_pending_to_stderr() {
    let pending = lock().take_pending();
    let mut err = io::stderr().lock();
    for (level, msg) in pending {
        let _ = err.write_all(format_line(SystemTime::now(), level, &msg).as_bytes());
    }
}

struct Facade;

impl log::Log for Facade {
    fn enabled(&self, m: &log::Metadata) -> bool {
        enabled(from_log_level(m.level()))
    }

    fn log(&self, r: &log::Record) {
        let level = from_log_level(r.level());
        if enabled(level) {
            log(level, &r.args().to_string());
        }
    }

    fn flush(&self) {}
}

fn from_log_level(l: log::Level) -> Level {
    match l {
        log::Level::Error => Level::Error,
        log::Level::Warn => Level::Warn,
        log::Level::Info => Level::Info,
        log::Level::Debug => Level::Debug,
        log::Level::Trace => Level::Trace,
    }
}

/// Routes the `log` crate's macros (`log::info!` …) into the main log.
/// Harmless if another logger was installed first (then it stays).
pub fn install_log_facade() {
    static FACADE: Facade = Facade;
    if log::set_logger(&FACADE).is_ok() {
        log::set_max_level(log::LevelFilter::Trace);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::time::{Duration, UNIX_EPOCH};

    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);
    impl Write for Captured {
        fn write(&mut self, b: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    fn echo_into(cap: &Captured) -> EchoFactory {
        let cap = cap.clone();
        Box::new(move || Box::new(cap.clone()))
    }
    fn captured_echo() -> EchoFactory {
        echo_into(&Captured::default())
    }

    fn cfg(target: MainLogTarget, level: Level, echo: bool) -> MainLogConfig {
        MainLogConfig {
            target,
            maxbytes: 0,
            backups: 0,
            level,
            echo_stdout: echo,
        }
    }

    fn strip_stamp(s: &str) -> Vec<String> {
        // "YYYY-mm-dd HH:MM:SS,mmm " is 24 bytes.
        s.lines()
            .map(|l| l.get(24..).unwrap_or(l).to_string())
            .collect()
    }

    #[test]
    fn level_values_and_tags() {
        let v: Vec<u8> = Level::ALL.iter().map(|l| l.value()).collect();
        assert_eq!(v, [50, 40, 30, 20, 10, 5, 3]);
        let t: Vec<&str> = Level::ALL.iter().map(|l| l.tag()).collect();
        assert_eq!(t, ["CRIT", "ERRO", "WARN", "INFO", "DEBG", "TRAC", "BLAT"]);
        assert!(Level::Critical > Level::Error && Level::Trace > Level::Blather);
        assert_eq!(Level::from_value(5), Some(Level::Trace));
        assert_eq!(Level::from_value(7), None);
    }

    #[test]
    fn level_parsing() {
        for l in Level::ALL {
            assert_eq!(Level::from_config(l.description()), Some(l));
            assert_eq!(Level::from_config(&l.description().to_uppercase()), Some(l));
        }
        assert_eq!(Level::from_config("Info"), Some(Level::Info));
        assert_eq!(Level::from_config("warning"), Some(Level::Warn));
        assert_eq!(Level::from_config("WARNING"), Some(Level::Warn));
        assert_eq!(Level::from_config("crit"), None);
        assert_eq!(Level::from_config("INFO "), None);
        assert_eq!(Level::from_config(""), None);
        assert_eq!(Level::from_config("fatal"), None);
    }

    #[test]
    fn format_line_shape() {
        let t = UNIX_EPOCH + Duration::from_millis(1_795_255_200_123);
        let line = format_line(t, Level::Info, "msg");
        let lt = LocalTime::from_system(t);
        let want = format!(
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02},123 INFO msg\n",
            lt.year, lt.month, lt.day, lt.hour, lt.minute, lt.second
        );
        assert_eq!(line, want);
        if lt.hour == 10 && lt.minute == 0 {
            // Zone is UTC here: check the literal too.
            assert_eq!(line, "2026-11-21 10:00:00,123 INFO msg\n");
        }
        let t = UNIX_EPOCH + Duration::from_millis(1_795_255_200_007);
        assert!(format_line(t, Level::Blather, "a\nb").ends_with(",007 BLAT a\nb\n"));
    }

    #[test]
    fn file_log_filters_by_level() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("main.log");
        let mut log = MainLog::open(
            &cfg(MainLogTarget::File(p.clone()), Level::Info, false),
            captured_echo(),
        )
        .unwrap();
        log.emit(SystemTime::now(), Level::Debug, "hidden");
        log.emit(SystemTime::now(), Level::Info, "shown");
        log.emit(SystemTime::now(), Level::Critical, "bad");
        let s = std::fs::read_to_string(&p).unwrap();
        assert_eq!(strip_stamp(&s), ["INFO shown", "CRIT bad"]);
        assert_eq!(log.path(), Some(p.as_path()));
    }

    #[test]
    fn echo_copies_lines_to_stdout_stream() {
        let cap = Captured::default();
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("main.log");
        let mut log = MainLog::open(
            &cfg(MainLogTarget::File(p.clone()), Level::Debug, true),
            echo_into(&cap),
        )
        .unwrap();
        log.emit(SystemTime::now(), Level::Debug, "both");
        let echoed = String::from_utf8(cap.0.lock().unwrap().clone()).unwrap();
        assert_eq!(echoed, std::fs::read_to_string(&p).unwrap());
        assert_eq!(strip_stamp(&echoed), ["DEBG both"]);
    }

    #[test]
    fn no_echo_when_log_file_is_stdout() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("main.log");
        let mut log = MainLog::open(
            &cfg(MainLogTarget::File(p), Level::Info, true),
            captured_echo(),
        )
        .unwrap();
        assert!(log.echo.is_some());
        // Pretend the file is our stdout: /dev/stdout resolves to fd 1.
        let mut log2 = MainLog::open(
            &cfg(
                MainLogTarget::File(PathBuf::from("/dev/stdout")),
                Level::Info,
                true,
            ),
            captured_echo(),
        );
        if let Ok(l) = log2.as_mut() {
            assert!(l.echo.is_none());
            if let Sink::File(f) = &l.sink {
                assert!(f.is_special());
            }
        }
        log.emit(SystemTime::now(), Level::Info, "x");
    }

    #[test]
    fn special_file_main_log_never_rotates() {
        let mut c = cfg(
            MainLogTarget::File(PathBuf::from("/dev/null")),
            Level::Info,
            false,
        );
        c.maxbytes = 1;
        c.backups = 3;
        let mut log = MainLog::open(&c, captured_echo()).unwrap();
        for _ in 0..3 {
            log.emit(SystemTime::now(), Level::Info, "x");
        }
        assert!(!Path::new("/dev/null.1").exists());
        assert_eq!(
            log.clear().unwrap_err().kind(),
            io::ErrorKind::PermissionDenied
        );
    }

    #[test]
    fn full_disk_does_not_panic() {
        let mut log = MainLog::open(
            &cfg(
                MainLogTarget::File(PathBuf::from("/dev/full")),
                Level::Info,
                false,
            ),
            captured_echo(),
        )
        .unwrap();
        log.emit(SystemTime::now(), Level::Info, "one");
        assert!(log.failing);
        log.emit(SystemTime::now(), Level::Info, "two");
    }

    #[test]
    fn clear_logs_once_per_handler_then_reopens() {
        let cap = Captured::default();
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("main.log");
        let mut log = MainLog::open(
            &cfg(MainLogTarget::File(p.clone()), Level::Info, true),
            echo_into(&cap),
        )
        .unwrap();
        log.emit(SystemTime::now(), Level::Info, "before");
        log.clear().unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "");
        log.emit(SystemTime::now(), Level::Info, "after");
        assert_eq!(
            strip_stamp(&std::fs::read_to_string(&p).unwrap()),
            ["INFO after"]
        );
        let echoed = String::from_utf8(cap.0.lock().unwrap().clone()).unwrap();
        assert_eq!(
            strip_stamp(&echoed),
            [
                "INFO before",
                "INFO reopening log file",
                "INFO reopening log file",
                "INFO after"
            ]
        );
        std::fs::remove_file(&p).unwrap();
        assert_eq!(log.clear().unwrap_err().kind(), io::ErrorKind::NotFound);
    }

    #[test]
    fn rotates_main_log() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("main.log");
        let mut c = cfg(MainLogTarget::File(p.clone()), Level::Info, false);
        c.maxbytes = 100;
        c.backups = 2;
        let mut log = MainLog::open(&c, captured_echo()).unwrap();
        for i in 0..10 {
            log.emit(
                SystemTime::now(),
                Level::Info,
                &format!("message number {i} padded out"),
            );
        }
        assert!(dir.path().join("main.log.1").exists());
        assert!(dir.path().join("main.log.2").exists());
        assert!(!dir.path().join("main.log.3").exists());
    }

    #[test]
    fn syslog_target_does_not_fail_without_dev_log() {
        let mut log = MainLog::open(
            &cfg(MainLogTarget::Syslog, Level::Info, false),
            captured_echo(),
        )
        .unwrap();
        log.emit(SystemTime::now(), Level::Info, "to syslog\nsecond line\n");
        assert_eq!(log.path(), None);
        assert_eq!(log.clear().unwrap_err().kind(), io::ErrorKind::NotFound);
    }

    /// The only test touching the process-global logger (other modules'
    /// tests may log into it concurrently, so only containment is checked).
    #[test]
    fn global_logger_lifecycle() {
        let dir = tempfile::tempdir().unwrap();
        let p1 = dir.path().join("one.log");
        let p2 = dir.path().join("two.log");
        hold();
        info("early info");
        debug("early debug");
        crit("early crit");
        assert!(enabled(Level::Blather));
        init(cfg(MainLogTarget::File(p1.clone()), Level::Info, false)).unwrap();
        assert!(!enabled(Level::Debug));
        assert!(enabled(Level::Info));
        assert_eq!(path(), Some(p1.clone()));
        assert_eq!(level(), Some(Level::Info));
        warn("direct warn");
        let s = strip_stamp(&std::fs::read_to_string(&p1).unwrap());
        let pos = |needle: &str| s.iter().position(|l| l == needle);
        assert!(pos("CRIT early crit").unwrap() < pos("INFO early info").unwrap());
        assert!(pos("DEBG early debug").is_none());
        assert!(pos("WARN direct warn").is_some());

        // SIGUSR2 after logrotate moved the file away.
        let moved = dir.path().join("one.log.moved");
        std::fs::rename(&p1, &moved).unwrap();
        reopen();
        info("after reopen");
        assert!(std::fs::read_to_string(&moved)
            .unwrap()
            .contains("INFO supervisord logreopen"));
        assert!(std::fs::read_to_string(&p1)
            .unwrap()
            .contains("INFO after reopen"));

        clear().unwrap();
        info("after clear");
        assert!(!std::fs::read_to_string(&p1)
            .unwrap()
            .contains("after reopen"));

        // Reload: messages wait for the new config.
        hold();
        warn("reload warn");
        assert!(!std::fs::read_to_string(&p1)
            .unwrap()
            .contains("reload warn"));
        init(cfg(MainLogTarget::File(p2.clone()), Level::Debug, false)).unwrap();
        assert!(std::fs::read_to_string(&p2)
            .unwrap()
            .contains("WARN reload warn"));
        assert!(enabled(Level::Debug) && !enabled(Level::Trace));

        install_log_facade();
        ::log::warn!("through the facade");
        // Another test binary component may own the `log` facade; only
        // check when ours is installed.
        if std::fs::read_to_string(&p2)
            .unwrap()
            .contains("through the facade")
        {
            assert!(std::fs::read_to_string(&p2)
                .unwrap()
                .contains("WARN through the facade"));
        }

        // A bad path leaves the old config in place.
        assert!(init(cfg(
            MainLogTarget::File(dir.path().join("no/such/x.log")),
            Level::Info,
            false
        ))
        .is_err());
        assert_eq!(path(), Some(p2.clone()));
        init(cfg(MainLogTarget::None, Level::Info, false)).unwrap();
        assert_eq!(path(), None);
        assert_eq!(clear().unwrap_err().kind(), io::ErrorKind::NotFound);
    }
}
