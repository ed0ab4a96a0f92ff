//! Percent-decoding as Python's `urllib.parse` does it: `unquote` for URL
//! paths (Supervisor's `/logtail/...`) and `unquote_plus` for form and
//! query values (the web UI, through `parse_qs`). One copy for both.
//!
//! An escape is `%` and exactly two hex digits (`0-9 a-f A-F`); anything
//! else after a `%` (`%+1`, `%-1`, `% 1`, `%zz`, `%4`, a `%` at the end)
//! is kept as it is. The decoded bytes are read as UTF-8 with errors
//! replaced by U+FFFD, as Python's `errors='replace'` does.

/// The value of one hex digit, or None: no sign, no space, no `0x`.
fn hex_digit(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Python's `urllib.parse.unquote(s)` (utf-8, errors='replace').
pub fn unquote(s: &str) -> String {
    if !s.contains('%') {
        return s.to_string();
    }
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hi = b.get(i + 1).copied().and_then(hex_digit);
            let lo = b.get(i + 2).copied().and_then(hex_digit);
            if let (Some(hi), Some(lo)) = (hi, lo) {
                out.push(hi << 4 | lo);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    // Python decodes each run of ASCII text on its own and passes other
    // characters through; decoding all the bytes at once gives the same
    // text, because a literal non-ASCII character is complete UTF-8 that
    // can neither finish an escaped sequence before it nor be continued by
    // escaped bytes after it.
    String::from_utf8_lossy(&out).into_owned()
}

/// Python's `urllib.parse.unquote_plus(s)`: `+` is a space first, then
/// [`unquote`] (so `%+1` is `% 1`, not a byte).
pub fn unquote_plus(s: &str) -> String {
    unquote(&s.replace('+', " "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_python_unquote() {
        // (input, unquote(input), unquote_plus(input)) from python3.11
        let cases = [
            ("%+1", "%+1", "% 1"),
            ("%1", "%1", "%1"),
            ("%zz", "%zz", "%zz"),
            ("%", "%", "%"),
            ("abc%", "abc%", "abc%"),
            ("abc%4", "abc%4", "abc%4"),
            ("%41", "A", "A"),
            ("%4g", "%4g", "%4g"),
            ("%-1", "%-1", "%-1"),
            ("% 1", "% 1", "% 1"),
            ("%0x", "%0x", "%0x"),
            ("%C3%A9", "é", "é"),
            ("%C3", "\u{fffd}", "\u{fffd}"),
            ("%C3é%A9", "\u{fffd}é\u{fffd}", "\u{fffd}é\u{fffd}"),
            ("é%41", "éA", "éA"),
            ("%e2%82", "\u{fffd}", "\u{fffd}"),
            (
                "%f0%80%80",
                "\u{fffd}\u{fffd}\u{fffd}",
                "\u{fffd}\u{fffd}\u{fffd}",
            ),
            ("%ff%fe", "\u{fffd}\u{fffd}", "\u{fffd}\u{fffd}"),
            ("a+b%2B", "a+b+", "a b+"),
            ("%%41", "%A", "%A"),
            ("%41%", "A%", "A%"),
            ("%20+", " +", "  "),
            ("%E2%82%AC", "€", "€"),
            ("%e2%82%ac", "€", "€"),
            ("é%c3%a9", "éé", "éé"),
            (
                "%ED%A0%80",
                "\u{fffd}\u{fffd}\u{fffd}",
                "\u{fffd}\u{fffd}\u{fffd}",
            ),
            ("%C0%AF", "\u{fffd}\u{fffd}", "\u{fffd}\u{fffd}"),
            (
                "%F4%90%80%80",
                "\u{fffd}\u{fffd}\u{fffd}\u{fffd}",
                "\u{fffd}\u{fffd}\u{fffd}\u{fffd}",
            ),
            ("%E2%82€", "\u{fffd}€", "\u{fffd}€"),
            ("no escapes+", "no escapes+", "no escapes "),
        ];
        for (input, plain, plus) in cases {
            assert_eq!(unquote(input), plain, "unquote({input:?})");
            assert_eq!(unquote_plus(input), plus, "unquote_plus({input:?})");
        }
    }

    #[test]
    fn a_sign_is_not_a_hex_digit() {
        // u8::from_str_radix("+1", 16) is Ok(1); an escape must not be.
        assert_eq!(unquote("%+1").as_bytes(), b"%+1");
        assert_eq!(unquote_plus("%+1").as_bytes(), b"% 1");
        assert!(!unquote("%+1%+f").contains('\u{1}'));
    }
}
