//! `GET /metrics`: the Go supervisord's Prometheus endpoint (an
//! extension; Python Supervisor has none). The per-program metric names
//! and labels are the Go version's, so existing dashboards and alerts keep
//! working; the `process_*` ones are Prometheus' usual process metrics for
//! the daemon itself. Served on every HTTP server, behind its basic auth
//! like everything else (FEATURES.md decision 13).

use crate::rpc::xmlrpc::Value;
use std::fmt::Write as _;

/// The exposition format's content type.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// One program as the metrics need it.
#[derive(Debug, Clone, PartialEq)]
pub struct ProgramSample {
    pub name: String,
    pub group: String,
    /// Supervisor's numeric state (RUNNING = 20, ...).
    pub state: i64,
    pub exit_status: i64,
    /// Seconds since the epoch of the last start, 0 if never started.
    pub start: i64,
}

impl ProgramSample {
    /// The program's struct of a getAllProcessInfo reply.
    pub fn from_info(info: &Value) -> Option<ProgramSample> {
        let Value::Struct(members) = info else {
            return None;
        };
        let get = |key: &str| members.iter().find(|(k, _)| k == key).map(|(_, v)| v);
        let int = |key: &str| match get(key) {
            Some(Value::Int(i)) => Some(*i),
            _ => None,
        };
        let text = |key: &str| get(key).and_then(Value::as_str).map(str::to_string);
        Some(ProgramSample {
            name: text("name")?,
            group: text("group")?,
            state: int("state")?,
            exit_status: int("exitstatus")?,
            start: int("start")?,
        })
    }

    /// STARTING, RUNNING or STOPPING: the process exists.
    fn up(&self) -> bool {
        matches!(self.state, 10 | 20 | 40)
    }
}

/// What the daemon knows of itself, from /proc/self.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SelfSample {
    pub cpu_seconds: f64,
    pub open_fds: u64,
    pub max_fds: u64,
    pub resident_bytes: u64,
    pub virtual_bytes: u64,
    pub start_time_seconds: f64,
}

impl SelfSample {
    /// Reads /proc/self; a figure that cannot be read is left out (0).
    pub fn read() -> SelfSample {
        let mut s = SelfSample::default();
        let ticks = crate::sys::sysconf::clock_ticks().max(1) as f64;
        let page = crate::sys::sysconf::page_size().max(1) as u64;
        if let Ok(stat) = std::fs::read_to_string("/proc/self/stat") {
            // Fields after the command name, which may hold spaces: state
            // is field 3, utime 14, stime 15, starttime 22, vsize 23, rss 24.
            if let Some((_, rest)) = stat.rsplit_once(')') {
                let f: Vec<&str> = rest.split_whitespace().collect();
                let num = |i: usize| f.get(i - 3).and_then(|v| v.parse::<u64>().ok());
                let cpu = num(14).unwrap_or(0) + num(15).unwrap_or(0);
                s.cpu_seconds = cpu as f64 / ticks;
                s.virtual_bytes = num(23).unwrap_or(0);
                s.resident_bytes = num(24).unwrap_or(0) * page;
                if let Some(boot) = boot_time() {
                    s.start_time_seconds = boot + num(22).unwrap_or(0) as f64 / ticks;
                }
            }
        }
        s.open_fds = std::fs::read_dir("/proc/self/fd")
            .map(|d| d.count() as u64)
            .unwrap_or(0);
        if let Ok(lim) = nix::sys::resource::getrlimit(nix::sys::resource::Resource::RLIMIT_NOFILE)
        {
            s.max_fds = lim.0;
        }
        s
    }
}

/// Seconds since the epoch at boot (`btime` of /proc/stat).
fn boot_time() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    stat.lines()
        .find_map(|l| l.strip_prefix("btime "))
        .and_then(|v| v.trim().parse::<f64>().ok())
}

/// A label value as the exposition format wants it.
fn escape_label(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

/// The page: a family per metric, a line per program.
pub fn render(programs: &[ProgramSample], me: &SelfSample) -> String {
    let mut out = String::new();
    let mut family =
        |name: &str, kind: &str, help: &str, value: &dyn Fn(&ProgramSample) -> Option<f64>| {
            let _ = writeln!(out, "# HELP {name} {help}");
            let _ = writeln!(out, "# TYPE {name} {kind}");
            for p in programs {
                if let Some(v) = value(p) {
                    let _ = writeln!(
                        out,
                        "{name}{{group=\"{}\",name=\"{}\"}} {}",
                        escape_label(&p.group),
                        escape_label(&p.name),
                        v
                    );
                }
            }
        };
    family(
        "node_supervisord_up",
        "gauge",
        "1 while the program's process exists (STARTING, RUNNING or STOPPING), else 0.",
        &|p| Some(if p.up() { 1.0 } else { 0.0 }),
    );
    family(
        "node_supervisord_state",
        "gauge",
        "The program's state as Supervisor numbers it (RUNNING is 20).",
        &|p| Some(p.state as f64),
    );
    family(
        "node_supervisord_exit_status",
        "gauge",
        "The exit status of the program's last process.",
        &|p| Some(p.exit_status as f64),
    );
    family(
        "node_supervisord_start_time_seconds",
        "counter",
        "When the running process was started, in seconds since the epoch.",
        &|p| (p.up() && p.start > 0).then_some(p.start as f64),
    );
    let mut own = |name: &str, kind: &str, help: &str, v: f64| {
        let _ = writeln!(out, "# HELP {name} {help}");
        let _ = writeln!(out, "# TYPE {name} {kind}");
        let _ = writeln!(out, "{name} {v}");
    };
    own(
        "process_cpu_seconds_total",
        "counter",
        "CPU time supervisord has used, user and system.",
        me.cpu_seconds,
    );
    own(
        "process_open_fds",
        "gauge",
        "Descriptors supervisord has open.",
        me.open_fds as f64,
    );
    own(
        "process_max_fds",
        "gauge",
        "supervisord's limit on open descriptors.",
        me.max_fds as f64,
    );
    own(
        "process_resident_memory_bytes",
        "gauge",
        "supervisord's resident memory.",
        me.resident_bytes as f64,
    );
    own(
        "process_virtual_memory_bytes",
        "gauge",
        "supervisord's virtual memory.",
        me.virtual_bytes as f64,
    );
    own(
        "process_start_time_seconds",
        "gauge",
        "When supervisord started, in seconds since the epoch.",
        me.start_time_seconds,
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(name: &str, state: i64, exit: i64, start: i64) -> ProgramSample {
        ProgramSample {
            name: name.into(),
            group: "g".into(),
            state,
            exit_status: exit,
            start,
        }
    }

    #[test]
    fn programs_and_self() {
        let page = render(
            &[
                sample("web", 20, 0, 1700000000),
                sample("job", 100, 3, 1600000000),
            ],
            &SelfSample {
                cpu_seconds: 1.5,
                open_fds: 12,
                max_fds: 1024,
                resident_bytes: 4096,
                virtual_bytes: 8192,
                start_time_seconds: 1700000000.25,
            },
        );
        for line in [
            "# TYPE node_supervisord_up gauge",
            "node_supervisord_up{group=\"g\",name=\"web\"} 1",
            "node_supervisord_up{group=\"g\",name=\"job\"} 0",
            "node_supervisord_state{group=\"g\",name=\"job\"} 100",
            "node_supervisord_exit_status{group=\"g\",name=\"job\"} 3",
            "# TYPE node_supervisord_start_time_seconds counter",
            "node_supervisord_start_time_seconds{group=\"g\",name=\"web\"} 1700000000",
            "process_cpu_seconds_total 1.5",
            "process_open_fds 12",
            "process_start_time_seconds 1700000000.25",
        ] {
            assert!(page.lines().any(|l| l == line), "{line:?} not in:\n{page}");
        }
        // No start time for a program that is not running.
        assert!(!page.contains("node_supervisord_start_time_seconds{group=\"g\",name=\"job\"}"));
    }

    #[test]
    fn labels_are_escaped() {
        let page = render(&[sample("a\"b\\c\nd", 20, 0, 1)], &SelfSample::default());
        assert!(page.contains("name=\"a\\\"b\\\\c\\nd\""), "{page}");
    }

    #[test]
    fn from_info_reads_a_process_info_struct() {
        let info = Value::structure([
            ("name", Value::from("web")),
            ("group", Value::from("g")),
            ("state", Value::Int(20)),
            ("exitstatus", Value::Int(0)),
            ("start", Value::Int(5)),
        ]);
        assert_eq!(
            ProgramSample::from_info(&info),
            Some(sample("web", 20, 0, 5))
        );
        assert_eq!(ProgramSample::from_info(&Value::Int(1)), None);
    }

    #[test]
    fn self_sample_reads_proc() {
        let me = SelfSample::read();
        assert!(
            me.open_fds > 0 && me.max_fds > 0 && me.resident_bytes > 0,
            "{me:?}"
        );
        assert!(me.start_time_seconds > 1e9, "{me:?}");
    }
}
