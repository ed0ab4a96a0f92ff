//! Broken-down local time: the one `localtime_r` call of the crate. What
//! a caller does without zone information or on failure is its own choice.

/// `struct tm`'s calendar fields, as libc gives them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tm {
    /// Years since 1900.
    pub year: i32,
    /// 0..=11
    pub mon: i32,
    /// 1..=31
    pub mday: i32,
    pub hour: i32,
    pub min: i32,
    /// 0..=60 (a leap second)
    pub sec: i32,
}

/// localtime_r(3) of `secs` since the epoch; None when libc fails or the
/// value does not fit its time_t. With no zone information (no
/// /etc/localtime, no TZ) libc answers in UTC.
pub fn localtime(secs: i64) -> Option<Tm> {
    // time_t is 32 bits on some targets; elsewhere this is a no-op. libc
    // marks the alias deprecated on musl (its width changes with musl 1.2),
    // and that change is exactly what try_into absorbs.
    #[allow(clippy::useless_conversion, deprecated)]
    let t: libc::time_t = secs.try_into().ok()?;
    let mut tm = std::mem::MaybeUninit::<libc::tm>::zeroed();
    // SAFETY: both pointers are to live locals of the right types;
    // localtime_r is thread-safe and fills `tm` when it returns non-NULL.
    let r = unsafe { libc::localtime_r(&t, tm.as_mut_ptr()) };
    if r.is_null() {
        return None;
    }
    // SAFETY: zeroed is a valid `tm` (plain integers and a pointer that
    // may be null), and localtime_r succeeded and filled it.
    let tm = unsafe { tm.assume_init() };
    Some(Tm {
        year: tm.tm_year,
        mon: tm.tm_mon,
        mday: tm.tm_mday,
        hour: tm.tm_hour,
        min: tm.tm_min,
        sec: tm.tm_sec,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_in_range() {
        let tm = localtime(1_795_255_200).expect("localtime"); // late 2026
        assert!((126..=127).contains(&tm.year), "{tm:?}");
        assert!((0..=11).contains(&tm.mon));
        assert!((1..=31).contains(&tm.mday));
        assert!((0..=23).contains(&tm.hour));
        assert!((0..=59).contains(&tm.min));
        assert!((0..=60).contains(&tm.sec));
    }
}
