//! Python's `int()` on a `str`: what Supervisor's config values, RPC
//! arguments and supervisorctl's numbers go through.

/// Python's `int()` on a str: surrounding whitespace, an optional sign,
/// digits with single underscores between them.
pub fn py_int(s: &str) -> Option<i64> {
    py_int_radix(s, 10)
}

/// Python's `int(s, radix)` for radix 2..=10 without a prefix: the same
/// rules as [`py_int`].
pub fn py_int_radix(s: &str, radix: u32) -> Option<i64> {
    let t = s.trim();
    let (neg, digits) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    if digits.is_empty()
        || digits.starts_with('_')
        || digits.ends_with('_')
        || digits.contains("__")
    {
        return None;
    }
    let cleaned: String = digits.chars().filter(|&c| c != '_').collect();
    if !cleaned.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    // Python ints are unbounded; values beyond i64 saturate, which every
    // caller treats as "very large" (no config key means more than that).
    let v = i64::from_str_radix(&cleaned, radix).unwrap_or(i64::MAX);
    Some(if neg { v.saturating_neg() } else { v })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ints_like_python() {
        assert_eq!(py_int(" 12 "), Some(12));
        assert_eq!(py_int("-3"), Some(-3));
        assert_eq!(py_int("+3"), Some(3));
        assert_eq!(py_int("1_000"), Some(1000));
        assert_eq!(py_int("1__0"), None);
        assert_eq!(py_int("abc"), None);
        assert_eq!(py_int(""), None);
        assert_eq!(py_int("0x10"), None);
    }

    #[test]
    fn radix_eight() {
        assert_eq!(py_int_radix("0_22", 8), Some(0o22));
        assert_eq!(py_int_radix("8", 8), None);
        assert_eq!(py_int_radix("-7", 8), Some(-7));
    }
}
