//! `backoff`, `backoff_initial`, `backoff_max`, `backoff_reset_after`
//! (extensions): how long a program waits before each retry. Without any
//! of them the wait is Python's (1 s more per failed start, the count
//! reset once the program reaches RUNNING), and `Backoff` is None.

use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackoffKind {
    /// Python's: n seconds before the n-th retry.
    Linear,
    /// `backoff_initial` doubled at each retry.
    Exponential,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Backoff {
    pub kind: BackoffKind,
    pub initial: Duration,
    pub max: Duration,
    /// How long a program must stay RUNNING before its count resets;
    /// an exit before that counts as a failed start. None: Python's
    /// reset on reaching RUNNING.
    pub reset_after: Option<Duration>,
}

/// The defaults of the keys not given.
pub const INITIAL: Duration = Duration::from_millis(500);
pub const MAX: Duration = Duration::from_secs(30);

impl Backoff {
    /// The wait before retry number `n` (1 for the first).
    pub fn delay(&self, n: i64) -> Duration {
        let n = n.max(1);
        let d = match self.kind {
            BackoffKind::Linear => Duration::from_secs(n as u64),
            BackoffKind::Exponential => {
                // 2^(n-1), without overflow for a count that never ends
                // (2^31 times any initial wait is past any max).
                let factor = 1u32 << (n - 1).min(31);
                self.initial.checked_mul(factor).unwrap_or(self.max)
            }
        };
        d.min(self.max)
    }
}

/// `backoff = linear | exponential`.
pub fn kind(value: &str) -> Result<BackoffKind, String> {
    match value.trim().to_ascii_lowercase().as_str() {
        "linear" => Ok(BackoffKind::Linear),
        "exponential" => Ok(BackoffKind::Exponential),
        _ => Err(format!(
            "value {:?} is not valid for backoff (linear or exponential)",
            value
        )),
    }
}

/// Seconds, fractions allowed (`0.5`), not negative.
pub fn seconds(value: &str) -> Result<Duration, String> {
    let v: f64 = value
        .trim()
        .parse()
        .map_err(|_| format!("{:?} is not a number of seconds", value))?;
    if !v.is_finite() || !(0.0..=1e9).contains(&v) {
        return Err(format!("{:?} is not a number of seconds", value));
    }
    Ok(Duration::from_secs_f64(v))
}

/// `startretries`: an integer, or `unlimited` (an extension).
pub fn startretries(value: &str) -> Result<i64, String> {
    if value.trim().eq_ignore_ascii_case("unlimited") {
        return Ok(i64::MAX);
    }
    super::datatypes::integer(value)
}

/// A duration as the activity log and descriptions show it: `4`, `0.5`.
pub fn show(d: Duration) -> String {
    let ms = d.as_millis();
    if ms.is_multiple_of(1000) {
        format!("{}", ms / 1000)
    } else {
        let text = format!("{:.3}", d.as_secs_f64());
        text.trim_end_matches('0').to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(kind: BackoffKind) -> Backoff {
        Backoff {
            kind,
            initial: INITIAL,
            max: MAX,
            reset_after: None,
        }
    }

    #[test]
    fn delays() {
        let lin = b(BackoffKind::Linear);
        assert_eq!(lin.delay(1), Duration::from_secs(1));
        assert_eq!(lin.delay(3), Duration::from_secs(3));
        assert_eq!(lin.delay(100), MAX);
        let exp = b(BackoffKind::Exponential);
        assert_eq!(exp.delay(1), Duration::from_millis(500));
        assert_eq!(exp.delay(2), Duration::from_secs(1));
        assert_eq!(exp.delay(4), Duration::from_secs(4));
        assert_eq!(exp.delay(7), MAX);
        assert_eq!(exp.delay(i64::MAX), MAX);
    }

    #[test]
    fn values() {
        assert_eq!(kind("Exponential"), Ok(BackoffKind::Exponential));
        assert!(kind("fibonacci").is_err());
        assert_eq!(seconds("0.25"), Ok(Duration::from_millis(250)));
        assert!(seconds("-1").is_err());
        assert!(seconds("NaN").is_err());
        assert!(seconds("1e300").is_err());
        assert_eq!(startretries("unlimited"), Ok(i64::MAX));
        assert_eq!(startretries("3"), Ok(3));
        assert!(startretries("many").is_err());
        assert_eq!(show(Duration::from_secs(4)), "4");
        assert_eq!(show(Duration::from_millis(1500)), "1.5");
    }
}
