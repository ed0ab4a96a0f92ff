//! Broken-down local time for log timestamps.
//!
//! Owns the conversion of an instant to the fields of a timestamp; the
//! `localtime_r` call itself is `sys::time`'s. With no zone information
//! (no `/etc/localtime`, no `TZ`) libc answers in UTC; if libc fails
//! outright we compute UTC ourselves, so callers never see an error.

use std::time::{SystemTime, UNIX_EPOCH};

/// Calendar fields of one instant, in local time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LocalTime {
    pub year: i64,
    /// 1..=12
    pub month: u32,
    /// 1..=31
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
    /// 0..=999, truncated like Python's `'%03d' % msecs`.
    pub millis: u32,
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

impl LocalTime {
    /// Splits `t` into local calendar fields.
    pub fn from_system(t: SystemTime) -> LocalTime {
        let (secs, millis) = match t.duration_since(UNIX_EPOCH) {
            Ok(d) => (d.as_secs() as i64, d.subsec_millis()),
            Err(e) => {
                // Before 1970: floor to the second below, like time.localtime.
                let d = e.duration();
                let mut s = -(d.as_secs() as i64);
                let mut ms = 0;
                if d.subsec_nanos() > 0 {
                    s -= 1;
                    ms = 1000 - d.subsec_millis().min(999);
                }
                (s, ms.min(999))
            }
        };
        let mut lt = local_fields(secs).unwrap_or_else(|| utc_fields(secs));
        lt.millis = millis;
        lt
    }

    /// English month abbreviation (`%b` in the C locale).
    pub fn month_abbr(&self) -> &'static str {
        MONTHS[(self.month.clamp(1, 12) - 1) as usize]
    }
}

fn local_fields(secs: i64) -> Option<LocalTime> {
    let tm = crate::sys::time::localtime(secs)?;
    Some(LocalTime {
        year: i64::from(tm.year) + 1900,
        month: u32::try_from(tm.mon + 1).ok()?,
        day: u32::try_from(tm.mday).ok()?,
        hour: u32::try_from(tm.hour).ok()?,
        minute: u32::try_from(tm.min).ok()?,
        second: u32::try_from(tm.sec).ok()?,
        millis: 0,
    })
}

/// UTC fields by the days-to-civil algorithm (proleptic Gregorian).
fn utc_fields(secs: i64) -> LocalTime {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    LocalTime {
        year,
        month,
        day,
        hour: (rem / 3600) as u32,
        minute: (rem % 3600 / 60) as u32,
        second: (rem % 60) as u32,
        millis: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn utc_fallback_is_correct() {
        let lt = utc_fields(1_795_255_200); // 2026-11-21 10:00:00 UTC
        assert_eq!((lt.year, lt.month, lt.day), (2026, 11, 21));
        assert_eq!((lt.hour, lt.minute, lt.second), (10, 0, 0));
        let lt = utc_fields(951_782_400); // 2000-02-29 00:00:00
        assert_eq!((lt.year, lt.month, lt.day), (2000, 2, 29));
        let lt = utc_fields(-1);
        assert_eq!((lt.year, lt.month, lt.day, lt.second), (1969, 12, 31, 59));
    }

    #[test]
    fn millis_truncate() {
        let t = UNIX_EPOCH + Duration::from_millis(1_795_255_200_123) + Duration::from_micros(999);
        assert_eq!(LocalTime::from_system(t).millis, 123);
        assert_eq!(LocalTime::from_system(t).month_abbr(), "Nov");
    }
}
