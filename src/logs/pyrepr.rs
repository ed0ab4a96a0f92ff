//! Python `repr()` of strings and bytes, for log messages that Supervisor
//! formats with `%r` (e.g. `'web' stdout output:` or `spawned: 'web'`).
//!
//! Owns nothing but these two formatting rules. Python picks single quotes
//! unless the text holds a `'` and no `"`, escapes backslash, the chosen
//! quote, `\t \n \r`, and shows other unprintable characters as `\xNN`
//! (`\uNNNN`, `\UNNNNNNNN` beyond Latin-1).

use std::fmt::Write as _;

/// Python's `repr(s)` for a `str`.
pub fn py_repr_str(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            ' '..='~' => out.push(c),
            c if (c as u32) < 0x80 || !printable(c) => {
                let v = c as u32;
                let _ = if v <= 0xff {
                    write!(out, "\\x{v:02x}")
                } else if v <= 0xffff {
                    write!(out, "\\u{v:04x}")
                } else {
                    write!(out, "\\U{v:08x}")
                };
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

/// An approximation of Python's `str.isprintable` for non-ASCII characters:
/// controls, separators other than space, and the common format and
/// private-use characters are not printable.
fn printable(c: char) -> bool {
    let v = c as u32;
    !(c.is_control()
        || (c.is_whitespace() && c != ' ')
        || matches!(v, 0xad | 0x200b..=0x200f | 0x202a..=0x202e | 0x2060..=0x2064 | 0xfeff)
        || matches!(v, 0xe000..=0xf8ff | 0xf0000..=0x10ffff))
}

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
