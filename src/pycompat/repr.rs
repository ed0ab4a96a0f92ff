//! Python's `repr()` of a `str`, of a path and of `bytes`: how
//! Supervisor's `%r` shows names, values and undecodable output in its
//! messages and logs. The one copy of these rules in the crate.
//!
//! Python picks single quotes unless the text holds a `'` and no `"`,
//! escapes backslash, the chosen quote and `\t \n \r`, and shows other
//! unprintable characters as `\xNN`, `\uNNNN` or `\UNNNNNNNN`.

use std::fmt::Write as _;
use std::path::Path;

/// Python's `repr()` of a path given as `str` (undecodable bytes appear as
/// the lone surrogates Python's filesystem decoding makes of them).
pub fn py_repr_path(path: &Path) -> String {
    use std::os::unix::ffi::OsStrExt;
    let mut chars = String::new();
    let mut escapes_at: Vec<(usize, u8)> = Vec::new();
    for chunk in path.as_os_str().as_bytes().utf8_chunks() {
        chars.push_str(chunk.valid());
        for &b in chunk.invalid() {
            escapes_at.push((chars.len(), b));
            // Placeholder keeps quote selection right; replaced below.
            chars.push('\u{fffd}');
        }
    }
    if escapes_at.is_empty() {
        return py_repr(&chars);
    }
    // Rare: render piecewise so each bad byte shows as `\udcXX`.
    let quote = pick_quote(&chars);
    let mut out = String::new();
    out.push(quote);
    let mut last = 0;
    for (at, b) in escapes_at {
        repr_body(&chars[last..at], quote, &mut out);
        let _ = write!(out, "\\udc{b:02x}");
        last = at + '\u{fffd}'.len_utf8();
    }
    repr_body(&chars[last..], quote, &mut out);
    out.push(quote);
    out
}

/// Python's `repr()` of a `str`.
pub fn py_repr(s: &str) -> String {
    let quote = pick_quote(s);
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    repr_body(s, quote, &mut out);
    out.push(quote);
    out
}

/// Python quotes with `'` unless the text has `'` and no `"`.
fn pick_quote(s: &str) -> char {
    if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    }
}

fn repr_body(s: &str, quote: char, out: &mut String) {
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if py_isprintable(c) => out.push(c),
            c => {
                let cp = c as u32;
                if cp < 0x100 {
                    let _ = write!(out, "\\x{cp:02x}");
                } else if cp < 0x10000 {
                    let _ = write!(out, "\\u{cp:04x}");
                } else {
                    let _ = write!(out, "\\U{cp:08x}");
                }
            }
        }
    }
}

/// Python's `str.isprintable()` for one character, as Python 3.11 (Unicode
/// 14) decides it: control, format, separator (other than space),
/// private-use and unassigned characters are not printable. Controls,
/// separators, formats and private use are exact; unassigned code points
/// are covered for the large unassigned areas and noncharacters only.
fn py_isprintable(c: char) -> bool {
    const NOT_PRINTABLE: &[(u32, u32)] = &[
        (0x00, 0x1F),
        (0x7F, 0xA0),
        (0xAD, 0xAD),
        (0x600, 0x605),
        (0x61C, 0x61C),
        (0x6DD, 0x6DD),
        (0x70F, 0x70F),
        (0x890, 0x891),
        (0x8E2, 0x8E2),
        (0x1680, 0x1680),
        (0x180E, 0x180E),
        (0x2000, 0x200F),
        (0x2028, 0x202F),
        (0x205F, 0x2064),
        (0x2065, 0x2065),
        (0x2066, 0x206F),
        (0x3000, 0x3000),
        (0xE000, 0xF8FF),
        (0xFDD0, 0xFDEF),
        (0xFEFF, 0xFEFF),
        (0xFFF0, 0xFFFB),
        (0x110BD, 0x110BD),
        (0x110CD, 0x110CD),
        (0x13430, 0x13438),
        (0x1BCA0, 0x1BCA3),
        (0x1D173, 0x1D17A),
        (0x3134B, 0xE00FF),
        (0xE01F0, 0x10FFFF),
    ];
    let cp = c as u32;
    // Every plane's last two code points are noncharacters.
    if cp & 0xFFFE == 0xFFFE {
        return false;
    }
    !NOT_PRINTABLE
        .iter()
        .any(|&(lo, hi)| (lo..=hi).contains(&cp))
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
    fn repr_like_python() {
        assert_eq!(py_repr("a'b"), "\"a'b\"");
        assert_eq!(py_repr("a'\"b"), "'a\\'\"b'");
        assert_eq!(
            py_repr("\u{feff}[x]\n\t\0é\u{a0}"),
            "'\\ufeff[x]\\n\\t\\x00é\\xa0'"
        );
        assert_eq!(py_repr("\u{10ffff}😀"), "'\\U0010ffff😀'");
        use std::os::unix::ffi::OsStrExt;
        let p = Path::new(std::ffi::OsStr::from_bytes(b"/t/\xff'.conf"));
        assert_eq!(py_repr_path(p), "\"/t/\\udcff'.conf\"");
    }

    #[test]
    fn str_repr_matches_python() {
        // Expected values printed by Python 3.11's repr().
        assert_eq!(py_repr("web"), "'web'");
        assert_eq!(py_repr("it's"), "\"it's\"");
        assert_eq!(py_repr("a'b\"c"), "'a\\'b\"c'");
        assert_eq!(py_repr("tab\there\n"), "'tab\\there\\n'");
        assert_eq!(py_repr("back\\slash"), "'back\\\\slash'");
        assert_eq!(py_repr("\x01\x7f"), "'\\x01\\x7f'");
        assert_eq!(py_repr("caf\u{e9}"), "'caf\u{e9}'");
        assert_eq!(py_repr("\u{a0}\u{2028}"), "'\\xa0\\u2028'");
    }

    #[test]
    fn bytes_repr_matches_python() {
        assert_eq!(py_repr_bytes(b"READY\n"), "b'READY\\n'");
        assert_eq!(py_repr_bytes(b"\xff\x00a"), "b'\\xff\\x00a'");
        assert_eq!(py_repr_bytes(b"it's"), "b\"it's\"");
        assert_eq!(py_repr_bytes(b"'\""), "b'\\'\"'");
        assert_eq!(py_repr_bytes(b""), "b''");
    }

    #[test]
    fn repr_quotes() {
        assert_eq!(py_repr("a'b"), "\"a'b\"");
        assert_eq!(py_repr("ab"), "'ab'");
        assert_eq!(py_repr("a\nb"), "'a\\nb'");
    }
}
