//! Health checks (an extension): the loop probes each RUNNING program that
//! has a `healthcheck`, every `healthcheck_interval`, and restarts it after
//! `healthcheck_retries` failures in a row (logged, and a
//! PROCESS_HEALTH_FAILED event). TCP and HTTP probes run on a short-lived
//! thread that sends its result back as a job; a `cmd:` probe is a child
//! the loop reaps. Every timer is a loop deadline, and a probe that does
//! not answer within `healthcheck_timeout` has failed (a late answer is
//! dropped). A program without a check costs one `Option` test per pass.

use super::api::ProcessId;
use super::{earliest, Supervisor};
use crate::config::healthcheck::{HealthCheck, Probe};
use crate::events::{self, EventType};
use crate::logs::activity;
use crate::states::ProcessState;
use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

/// One process's health, reset whenever it is not RUNNING.
#[derive(Debug, Default)]
pub(super) struct Health {
    /// The pid these facts are about.
    pid: i32,
    /// When the next probe starts.
    next: Option<Instant>,
    /// Failures in a row.
    failures: u32,
    /// The last probe passed (and none failed since).
    pub(super) healthy: bool,
    /// It failed `healthcheck_retries` times: restarting.
    pub(super) unhealthy: bool,
    /// The probe running now: its number and when it has failed.
    in_flight: Option<(u64, Instant)>,
    /// The pid of a running `cmd:` probe.
    cmd_pid: Option<i32>,
    /// Numbers probes, so a late answer is told from the current one.
    serial: u64,
    /// Failures before this do not count (healthcheck_start_period).
    grace_until: Option<Instant>,
}

/// How a probe went.
type Outcome = Result<(), String>;

impl Supervisor {
    /// Starts the probes that are due, fails the ones past their timeout,
    /// and resets the health of processes that are not RUNNING. Returns
    /// the next health deadline.
    pub(super) fn health_pass(&mut self) -> Option<Instant> {
        let now = Instant::now();
        let mut next: Option<Instant> = None;
        let mut due: Vec<(ProcessId, HealthCheck)> = Vec::new();
        let mut timed_out: Vec<(ProcessId, u64, Duration)> = Vec::new();
        for g in &mut self.groups {
            for p in &mut g.processes {
                let Some(check) = &p.config.healthcheck else {
                    continue;
                };
                let h = &mut p.health;
                if p.state != ProcessState::Running {
                    if h.pid != 0 || h.in_flight.is_some() {
                        if let Some(pid) = h.cmd_pid.take() {
                            let _ = crate::sys::process::kill(-pid, libc::SIGKILL);
                        }
                        *h = Health {
                            serial: h.serial,
                            ..Health::default()
                        };
                    }
                    continue;
                }
                if h.pid != p.pid {
                    // A new run: the first probe one interval in.
                    *h = Health {
                        pid: p.pid,
                        next: Some(now + check.interval),
                        grace_until: Some(now + check.start_period),
                        serial: h.serial,
                        ..Health::default()
                    };
                }
                if let Some((serial, deadline)) = h.in_flight {
                    if now >= deadline {
                        timed_out.push((p.id, serial, check.timeout));
                    } else {
                        next = earliest(next, Some(deadline));
                        continue;
                    }
                }
                match h.next {
                    Some(t) if now >= t => {
                        h.next = Some(now + check.interval);
                        due.push((p.id, check.clone()));
                    }
                    t => next = earliest(next, t),
                }
                next = earliest(next, h.next);
            }
        }
        for (id, serial, timeout) in timed_out {
            if let Some(pid) = self.health_mut(id).and_then(|h| h.cmd_pid.take()) {
                let _ = crate::sys::process::kill(-pid, libc::SIGKILL);
            }
            let why = format!(
                "no answer within {} s",
                crate::config::backoff::show(timeout)
            );
            self.health_result(id, serial, Err(why));
        }
        for (id, check) in due {
            let deadline = self.start_probe(id, &check, now);
            next = earliest(next, deadline);
        }
        next
    }

    fn health_mut(&mut self, id: ProcessId) -> Option<&mut Health> {
        let &(gi, pi) = self.index.get(&id)?;
        Some(&mut self.groups[gi].processes[pi].health)
    }

    /// Starts one probe; returns its timeout deadline.
    fn start_probe(&mut self, id: ProcessId, check: &HealthCheck, now: Instant) -> Option<Instant> {
        let &(gi, pi) = self.index.get(&id)?;
        let p = &mut self.groups[gi].processes[pi];
        let (name, group) = (p.config.name.clone(), p.config.group.clone());
        let (environment, directory) = (p.config.environment.clone(), p.config.directory.clone());
        let h = &mut p.health;
        h.serial += 1;
        let serial = h.serial;
        let deadline = now + check.timeout;
        match &check.probe {
            Probe::Cmd(cmd) => {
                let mut c = super::spawn::program_shell(
                    cmd,
                    &name,
                    &group,
                    &environment,
                    directory.as_deref(),
                );
                c.stdout(std::process::Stdio::null())
                    .stderr(std::process::Stdio::null());
                match c.spawn() {
                    // Never waited for here: the loop's waitpid(-1) reaps
                    // it and hands the status to health_reaped.
                    Ok(child) => {
                        h.cmd_pid = Some(child.id() as i32);
                        h.in_flight = Some((serial, deadline));
                        Some(deadline)
                    }
                    Err(e) => {
                        activity::warn(format!("cannot run the health check of {}: {}", name, e));
                        None
                    }
                }
            }
            probe => {
                let probe = probe.clone();
                let timeout = check.timeout;
                let handle = self.handle.clone();
                let spawned = std::thread::Builder::new()
                    .name("healthcheck".into())
                    .stack_size(64 * 1024)
                    .spawn(move || {
                        let outcome = probe_network(&probe, timeout);
                        let _ = handle.send(Box::new(move |sup: &mut Supervisor| {
                            sup.health_result(id, serial, outcome);
                        }));
                    });
                match spawned {
                    Ok(_) => {
                        h.in_flight = Some((serial, deadline));
                        Some(deadline)
                    }
                    // Out of threads: not the program's fault; try again
                    // at the next interval.
                    Err(e) => {
                        activity::warn(format!("cannot run the health check of {}: {}", name, e));
                        None
                    }
                }
            }
        }
    }

    /// A reaped child that is a `cmd:` probe; false for any other pid.
    pub(super) fn health_reaped(&mut self, pid: i32, status: i32) -> bool {
        let found = self
            .groups
            .iter()
            .flat_map(|g| g.processes.iter())
            .find_map(|p| {
                (p.health.cmd_pid == Some(pid)).then(|| (p.id, p.health.in_flight.map(|f| f.0)))
            });
        let Some((id, serial)) = found else {
            return false;
        };
        if let Some(h) = self.health_mut(id) {
            h.cmd_pid = None;
        }
        if let Some(serial) = serial {
            let outcome = match super::process::decode_wait_status(status) {
                (0, _) => Ok(()),
                (_, msg) => Err(format!("the command ended with {}", msg)),
            };
            self.health_result(id, serial, outcome);
        }
        true
    }

    /// Records a probe's outcome; the one that makes `healthcheck_retries`
    /// failures in a row restarts the program.
    fn health_result(&mut self, id: ProcessId, serial: u64, outcome: Outcome) {
        let Some(&(gi, pi)) = self.index.get(&id) else {
            return;
        };
        let p = &mut self.groups[gi].processes[pi];
        let Some(check) = p.config.healthcheck.clone() else {
            return;
        };
        let h = &mut p.health;
        if h.in_flight.map(|f| f.0) != Some(serial) || p.state != ProcessState::Running {
            // Late (timed out already), or the run it was about is over.
            return;
        }
        h.in_flight = None;
        let name = p.config.name.clone();
        let why = match outcome {
            Ok(()) => {
                if h.failures > 0 || h.unhealthy {
                    activity::info(format!("health check of {} passed again", name));
                }
                h.failures = 0;
                h.healthy = true;
                h.unhealthy = false;
                // A dependent waiting for `name:healthy` may go now.
                self.again = true;
                return;
            }
            Err(why) => why,
        };
        h.healthy = false;
        if h.grace_until.is_some_and(|t| Instant::now() < t) {
            activity::debug(format!(
                "health check of {} failed during its start period: {}",
                name, why
            ));
            return;
        }
        h.failures += 1;
        let failures = h.failures;
        if failures < check.retries {
            activity::info(format!(
                "health check of {} failed ({}/{}): {}",
                name, failures, check.retries, why
            ));
            return;
        }
        h.unhealthy = true;
        let pid = p.pid;
        activity::warn(format!(
            "{} is unhealthy: {} health checks failed in a row ({}), restarting it",
            name, failures, why
        ));
        let group = p.config.group.clone();
        self.notify(EventType::ProcessHealthFailed, || {
            events::health_failed_payload(
                &events::ProcessRef {
                    name: &name,
                    group: &group,
                },
                pid,
                failures,
                &why,
            )
        });
        self.restart_for_change(id, &name);
    }

    /// Whether a process passed its last health check; None when it has
    /// no check (for `/ready` and `depends_on = x:healthy`).
    pub fn healthy(&self, id: ProcessId) -> Option<bool> {
        let &(gi, pi) = self.index.get(&id)?;
        let p = &self.groups[gi].processes[pi];
        p.config.healthcheck.as_ref()?;
        Some(p.state == ProcessState::Running && p.health.healthy && !p.health.unhealthy)
    }
}

/// A TCP or HTTP probe, within `timeout` in all.
fn probe_network(probe: &Probe, timeout: Duration) -> Outcome {
    let start = Instant::now();
    let left = || {
        timeout
            .saturating_sub(start.elapsed())
            .max(Duration::from_millis(1))
    };
    let (host, port) = match probe {
        Probe::Tcp { host, port } | Probe::Http { host, port, .. } => (host, *port),
        Probe::Cmd(_) => return Err("not a network probe".into()),
    };
    let addrs: Vec<_> = (host.as_str(), port)
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve {}: {}", host, e))?
        .collect();
    let mut last = format!("{} has no address", host);
    let mut conn = None;
    for a in addrs {
        match TcpStream::connect_timeout(&a, left()) {
            Ok(c) => {
                conn = Some(c);
                break;
            }
            Err(e) => last = format!("connect to {}: {}", a, e),
        }
    }
    let mut conn = conn.ok_or(last)?;
    let Probe::Http { host, path, .. } = probe else {
        return Ok(());
    };
    conn.set_write_timeout(Some(left()))
        .map_err(|e| e.to_string())?;
    let request = format!(
        "GET {} HTTP/1.0\r\nHost: {}:{}\r\nUser-Agent: supervisord-healthcheck\r\nConnection: close\r\n\r\n",
        path, host, port
    );
    conn.write_all(request.as_bytes())
        .map_err(|e| format!("send to {}:{}: {}", host, port, e))?;
    // The status line is all a probe needs.
    let mut head = Vec::new();
    let mut buf = [0u8; 512];
    while !head.contains(&b'\n') && head.len() < 4096 {
        conn.set_read_timeout(Some(left()))
            .map_err(|e| e.to_string())?;
        match conn.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => head.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(format!("read from {}:{}: {}", host, port, e)),
        }
    }
    let line = String::from_utf8_lossy(&head);
    let line = line.lines().next().unwrap_or("");
    let status = line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse::<u16>().ok())
        .ok_or_else(|| format!("not an HTTP answer: {:?}", line))?;
    if (200..400).contains(&status) {
        Ok(())
    } else {
        Err(format!("HTTP status {}", status))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    fn serve_once(answer: &'static str) -> u16 {
        let l = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = l.local_addr().expect("addr").port();
        std::thread::spawn(move || {
            if let Ok((mut c, _)) = l.accept() {
                let mut buf = [0u8; 1024];
                let _ = c.read(&mut buf);
                let _ = c.write_all(answer.as_bytes());
            }
        });
        port
    }

    fn http(port: u16) -> Probe {
        Probe::Http {
            host: "127.0.0.1".into(),
            port,
            path: "/healthz".into(),
        }
    }

    #[test]
    fn http_status_decides() {
        let t = Duration::from_secs(5);
        assert_eq!(
            probe_network(&http(serve_once("HTTP/1.1 204 No Content\r\n\r\n")), t),
            Ok(())
        );
        assert_eq!(
            probe_network(&http(serve_once("HTTP/1.0 302 Found\r\n\r\n")), t),
            Ok(())
        );
        assert_eq!(
            probe_network(&http(serve_once("HTTP/1.1 503 Busy\r\n\r\n")), t),
            Err("HTTP status 503".into())
        );
        assert!(probe_network(&http(serve_once("garbage")), t).is_err());
    }

    #[test]
    fn tcp_connects_or_fails() {
        let l = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = l.local_addr().expect("addr").port();
        let t = Duration::from_secs(5);
        let probe = Probe::Tcp {
            host: "127.0.0.1".into(),
            port,
        };
        assert_eq!(probe_network(&probe, t), Ok(()));
        drop(l);
        assert!(probe_network(&probe, t).is_err());
    }

    #[test]
    fn a_silent_server_times_out() {
        let l = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = l.local_addr().expect("addr").port();
        let started = Instant::now();
        let got = probe_network(&http(port), Duration::from_millis(300));
        assert!(got.is_err(), "{got:?}");
        assert!(started.elapsed() < Duration::from_secs(5));
        drop(l);
    }
}
