//! Python `repr()` of strings and bytes, for log messages that Supervisor
//! formats with `%r` (e.g. `'web' stdout output:` or `spawned: 'web'`).
//!
//! Owns nothing but these two formatting rules. Python picks single quotes
//! unless the text holds a `'` and no `"`, escapes backslash, the chosen
//! quote, `\t \n \r`, and shows other unprintable characters as `\xNN`
//! (`\uNNNN`, `\UNNNNNNNN` beyond Latin-1).

use std::fmt::Write as _;

/// Python's `repr(s)` for a `str` (shared with the config reader).
pub use crate::config::ini::py_repr as py_repr_str;

/// Python's `repr(b)` for `bytes`: `b'...'`.
pub fn py_repr_bytes(b: &[u8]) -> String {
    let quote = if b.contains(&b'\'') && !b.contains(&b'"') {
        b'"'
    } else {
        b'\''
    };
    let mut out = String::with_capacity(b.len() + 3);
    out.push('b');
    out.push(quote as char);
    for &c in b {
        match c {
            b'\\' => out.push_str("\\\\"),
            b'\t' => out.push_str("\\t"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            c if c == quote => {
                out.push('\\');
                out.push(c as char);
            }
            b' '..=b'~' => out.push(c as char),
            c => {
                let _ = write!(out, "\\x{c:02x}");
            }
        }
    }
    out.push(quote as char);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn str_repr_matches_python() {
        // Expected values printed by Python 3.11's repr().
        assert_eq!(py_repr_str("web"), "'web'");
        assert_eq!(py_repr_str("it's"), "\"it's\"");
        assert_eq!(py_repr_str("a'b\"c"), "'a\\'b\"c'");
        assert_eq!(py_repr_str("tab\there\n"), "'tab\\there\\n'");
        assert_eq!(py_repr_str("back\\slash"), "'back\\\\slash'");
        assert_eq!(py_repr_str("\x01\x7f"), "'\\x01\\x7f'");
        assert_eq!(py_repr_str("caf\u{e9}"), "'caf\u{e9}'");
        assert_eq!(py_repr_str("\u{a0}\u{2028}"), "'\\xa0\\u2028'");
    }

    #[test]
    fn bytes_repr_matches_python() {
        assert_eq!(py_repr_bytes(b"READY\n"), "b'READY\\n'");
        assert_eq!(py_repr_bytes(b"\xff\x00a"), "b'\\xff\\x00a'");
        assert_eq!(py_repr_bytes(b"it's"), "b\"it's\"");
        assert_eq!(py_repr_bytes(b"'\""), "b'\\'\"'");
        assert_eq!(py_repr_bytes(b""), "b''");
    }
}
