//! `healthcheck` and its timing keys (an extension): how the loop asks a
//! RUNNING program whether it is well, and when it gives up on it.

use super::backoff::seconds;
use std::time::Duration;

/// What a probe does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Probe {
    /// A TCP connection is accepted.
    Tcp { host: String, port: u16 },
    /// `GET path` answers 2xx or 3xx.
    Http {
        host: String,
        port: u16,
        path: String,
    },
    /// `/bin/sh -c command` exits 0.
    Cmd(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct HealthCheck {
    pub probe: Probe,
    /// Between the starts of two probes; the first one this long after
    /// the program reaches RUNNING.
    pub interval: Duration,
    /// A probe taking longer has failed.
    pub timeout: Duration,
    /// Failures in a row before the program is restarted.
    pub retries: u32,
    /// Failures this soon after RUNNING do not count.
    pub start_period: Duration,
}

pub const INTERVAL: Duration = Duration::from_secs(10);
pub const TIMEOUT: Duration = Duration::from_secs(5);
pub const RETRIES: u32 = 3;

/// `tcp:PORT`, `tcp:HOST:PORT`, `http://HOST:PORT/path` or `cmd:COMMAND`.
pub fn probe(value: &str) -> Result<Probe, String> {
    let v = value.trim();
    let bad = || {
        format!(
            "value {:?} is not a valid healthcheck (tcp:PORT, tcp:HOST:PORT, http://HOST:PORT/PATH or cmd:COMMAND)",
            value
        )
    };
    if let Some(rest) = v.strip_prefix("tcp:") {
        let (host, port) = match rest.rsplit_once(':') {
            Some((h, p)) => (h.trim_matches(['[', ']']).to_string(), p),
            None => ("127.0.0.1".to_string(), rest),
        };
        let port: u16 = port.parse().map_err(|_| bad())?;
        if port == 0 || host.is_empty() {
            return Err(bad());
        }
        return Ok(Probe::Tcp { host, port });
    }
    if let Some(rest) = v.strip_prefix("http://") {
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        let (host, port) = match authority.rsplit_once(':') {
            Some((h, p)) => (h, p.parse::<u16>().map_err(|_| bad())?),
            None => (authority, 80),
        };
        let host = host.trim_matches(['[', ']']);
        if host.is_empty() || port == 0 || path.chars().any(|c| c.is_whitespace() || c.is_control())
        {
            return Err(bad());
        }
        return Ok(Probe::Http {
            host: host.to_string(),
            port,
            path: path.to_string(),
        });
    }
    if let Some(cmd) = v.strip_prefix("cmd:") {
        if cmd.trim().is_empty() {
            return Err(bad());
        }
        return Ok(Probe::Cmd(cmd.trim().to_string()));
    }
    Err(bad())
}

/// Seconds for the timing keys: fractions allowed, more than zero.
pub fn positive_seconds(value: &str) -> Result<Duration, String> {
    let d = seconds(value)?;
    if d.is_zero() {
        return Err(format!("{:?} is not a number of seconds above 0", value));
    }
    Ok(d)
}

/// `healthcheck_retries`: at least 1.
pub fn retries(value: &str) -> Result<u32, String> {
    match value.trim().parse::<u32>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(format!("{:?} is not a whole number of at least 1", value)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probes() {
        assert_eq!(
            probe("tcp:8080"),
            Ok(Probe::Tcp {
                host: "127.0.0.1".into(),
                port: 8080
            })
        );
        assert_eq!(
            probe("tcp:db.local:5432"),
            Ok(Probe::Tcp {
                host: "db.local".into(),
                port: 5432
            })
        );
        assert_eq!(
            probe("http://127.0.0.1:8080/healthz?full=1"),
            Ok(Probe::Http {
                host: "127.0.0.1".into(),
                port: 8080,
                path: "/healthz?full=1".into()
            })
        );
        assert_eq!(
            probe("http://localhost"),
            Ok(Probe::Http {
                host: "localhost".into(),
                port: 80,
                path: "/".into()
            })
        );
        assert_eq!(
            probe("cmd: pg_isready -q"),
            Ok(Probe::Cmd("pg_isready -q".into()))
        );
        for bad in [
            "tcp:",
            "tcp:0",
            "tcp:x",
            "https://x/",
            "http://:80/",
            "cmd:",
            "8080",
            "http://h/a b",
        ] {
            assert!(probe(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn timing_values() {
        assert_eq!(positive_seconds("0.25"), Ok(Duration::from_millis(250)));
        assert!(positive_seconds("0").is_err());
        assert_eq!(retries("3"), Ok(3));
        assert!(retries("0").is_err());
        assert!(retries("-1").is_err());
    }
}
