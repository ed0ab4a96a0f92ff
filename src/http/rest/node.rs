//! This daemon as a node of the Go supervisord's REST API: its name, and
//! the CPU and memory figures `/supervisor/listNodes` reports.
//!
//! The Go version names a node by the host name (or the `nodename` key of
//! `[inet_http_server]`, which we do not read); we answer to the host name
//! and, as well, to the `identifier` of `[supervisord]`. We have no remote
//! nodes, so every other name is unknown.

use crate::rpc::Dispatcher;
use std::sync::Mutex;

/// The name this node reports: the host name, as the Go version's default.
pub fn name() -> String {
    nix::unistd::gethostname()
        .ok()
        .and_then(|h| h.into_string().ok())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".to_string())
}

/// Whether a `{node}` of a URL (or a `node` of a body, where the Go
/// version takes "" as this node) names this daemon.
pub fn is_local(d: &Dispatcher, node: &str) -> bool {
    if node.is_empty() || node == name() {
        return true;
    }
    match d.standard("getIdentification", Vec::new()) {
        Ok(id) => id.as_str() == Some(node),
        Err(_) => false,
    }
}

/// The machine's figures, as the Go version's `NodeInfo` has them.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Load {
    pub cpu_percent: f64,
    pub mem_total: u64,
    pub mem_used: u64,
    pub mem_used_percent: f64,
}

/// CPU use since the previous call (since boot on the first), and memory
/// now, from /proc. The Go version samples the CPU for a whole second in
/// each request; comparing with the last request's counters answers at
/// once and, for the web page polling every few seconds, covers the time
/// between its polls. Zero where /proc cannot be read.
pub fn load() -> Load {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let (mem_total, mem_used) = memory(&meminfo);
    let mem_used_percent = if mem_total > 0 {
        mem_used as f64 * 100.0 / mem_total as f64
    } else {
        0.0
    };
    Load {
        cpu_percent: cpu_percent(cpu_counters(&stat)),
        mem_total,
        mem_used,
        mem_used_percent,
    }
}

/// (total, idle) jiffies of the `cpu` line: busy is everything but idle
/// and iowait, as gopsutil counts it (guest time is inside user time).
fn cpu_counters(stat: &str) -> Option<(u64, u64)> {
    let line = stat.lines().find(|l| l.starts_with("cpu "))?;
    let f: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .take(8)
        .map(|x| x.parse().unwrap_or(0))
        .collect();
    if f.len() < 4 {
        return None;
    }
    let total = f.iter().sum();
    let idle = f[3] + f.get(4).copied().unwrap_or(0);
    Some((total, idle))
}

struct CpuSample {
    total: u64,
    idle: u64,
    percent: f64,
}

static LAST_CPU: Mutex<Option<CpuSample>> = Mutex::new(None);

fn cpu_percent(now: Option<(u64, u64)>) -> f64 {
    let Some((total, idle)) = now else {
        return 0.0;
    };
    let Ok(mut last) = LAST_CPU.lock() else {
        return 0.0;
    };
    let (d_total, d_idle) = match &*last {
        Some(l) => (total.saturating_sub(l.total), idle.saturating_sub(l.idle)),
        None => (total, idle),
    };
    // Two requests within one tick: the previous figure still stands.
    let percent = if d_total == 0 {
        last.as_ref().map_or(0.0, |l| l.percent)
    } else {
        d_total.saturating_sub(d_idle) as f64 * 100.0 / d_total as f64
    };
    *last = Some(CpuSample {
        total,
        idle,
        percent,
    });
    percent
}

/// (total, used) bytes from /proc/meminfo, used as gopsutil reckons it:
/// total less free, buffers, page cache and reclaimable slab.
fn memory(meminfo: &str) -> (u64, u64) {
    let kib = |key: &str| -> u64 {
        meminfo
            .lines()
            .find_map(|l| l.strip_prefix(key)?.strip_prefix(':'))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
            .saturating_mul(1024)
    };
    let total = kib("MemTotal");
    let unused = kib("MemFree")
        .saturating_add(kib("Buffers"))
        .saturating_add(kib("Cached"))
        .saturating_add(kib("SReclaimable"));
    (total, total.saturating_sub(unused))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_from_meminfo() {
        let text = "MemTotal:       1000 kB\nMemFree:         100 kB\nMemAvailable:    600 kB\n\
                    Buffers:          50 kB\nCached:          200 kB\nSwapCached:       7 kB\n\
                    SReclaimable:     50 kB\n";
        assert_eq!(memory(text), (1_024_000, 600 * 1024));
        assert_eq!(memory(""), (0, 0));
        // More free than total (a broken file) is not a huge number.
        assert_eq!(memory("MemTotal: 1 kB\nMemFree: 5 kB\n"), (1024, 0));
    }

    #[test]
    fn cpu_counters_from_stat() {
        let stat = "cpu  100 5 50 800 20 3 2 10 7 0\ncpu0 1 2 3 4\n";
        assert_eq!(cpu_counters(stat), Some((990, 820)));
        assert_eq!(cpu_counters("intr 1 2\n"), None);
    }

    #[test]
    fn cpu_percent_is_the_change_since_the_last_sample() {
        // One test owns LAST_CPU: the figures below depend on its order.
        let first = cpu_percent(Some((1000, 750)));
        assert!((0.0..=100.0).contains(&first));
        assert_eq!(cpu_percent(Some((1200, 800))), 75.0);
        // No time has passed: the last figure.
        assert_eq!(cpu_percent(Some((1200, 800))), 75.0);
        assert_eq!(cpu_percent(Some((1300, 900))), 0.0);
        assert_eq!(cpu_percent(None), 0.0);
        let l = load();
        assert!((0.0..=100.0).contains(&l.cpu_percent), "{l:?}");
        assert!(l.mem_used <= l.mem_total, "{l:?}");
    }

    #[test]
    fn the_name_is_the_host_name() {
        let n = name();
        assert!(!n.is_empty());
        assert!(!n.contains('/'));
    }
}
