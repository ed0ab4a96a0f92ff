//! Base64 as Python writes and reads it: `base64.b64encode` (one line,
//! for the basic-auth header), `base64.encodebytes` (76-character lines,
//! as xmlrpc.client sends `<base64>`) and the lenient decoder of
//! `binascii.a2b_base64` (XML-RPC values and the Authorization header).
//! One encoder serves both layouts.

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Appends up to 3 bytes as 4 characters, `=`-padded.
fn encode_group(out: &mut String, chunk: &[u8]) {
    let b = [
        chunk[0],
        chunk.get(1).copied().unwrap_or(0),
        chunk.get(2).copied().unwrap_or(0),
    ];
    let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
    let sextet = |shift: u32| char::from(ALPHABET[((n >> shift) & 0x3F) as usize]);
    out.push(sextet(18));
    out.push(sextet(12));
    out.push(if chunk.len() > 1 { sextet(6) } else { '=' });
    out.push(if chunk.len() > 2 { sextet(0) } else { '=' });
}

/// Python's `base64.b64encode`: standard alphabet, padded, one line.
pub fn b64encode(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        encode_group(&mut out, chunk);
    }
    out
}

/// Appends `data` as Python's `base64.encodebytes` lays it out: standard
/// alphabet with padding, 76 characters (57 bytes) per line, every line
/// newline-terminated, nothing at all for empty input.
pub fn encodebytes(out: &mut String, data: &[u8]) {
    for line in data.chunks(57) {
        for chunk in line.chunks(3) {
            encode_group(out, chunk);
        }
        out.push('\n');
    }
}

/// Decodes base64 as Python's `binascii.a2b_base64` (non-strict) does:
/// characters outside the alphabet are skipped, a complete pad sequence ends
/// the data, and a dangling partial group is an error.
pub fn a2b_base64(input: &[u8]) -> Result<Vec<u8>, String> {
    fn sextet(c: u8) -> Option<u32> {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        Some(u32::from(v))
    }
    let mut out = Vec::with_capacity(input.len() / 4 * 3 + 2);
    let mut quad_pos = 0u32;
    let mut left = 0u32;
    let mut pads = 0u32;
    for &c in input {
        if c == b'=' {
            // Pads only count once at least two data characters of the group
            // are in; a full group's worth ends the input.
            if quad_pos >= 2 {
                pads += 1;
                if quad_pos + pads >= 4 {
                    return Ok(out);
                }
            }
            continue;
        }
        let Some(v) = sextet(c) else { continue };
        pads = 0;
        match quad_pos {
            0 => {
                left = v;
                quad_pos = 1;
            }
            1 => {
                out.push(((left << 2) | (v >> 4)) as u8);
                left = v & 0x0F;
                quad_pos = 2;
            }
            2 => {
                out.push(((left << 4) | (v >> 2)) as u8);
                left = v & 0x03;
                quad_pos = 3;
            }
            _ => {
                out.push(((left << 6) | v) as u8);
                left = 0;
                quad_pos = 0;
            }
        }
    }
    match quad_pos {
        0 => Ok(out),
        1 => Err(format!(
            "invalid base64: number of data characters ({}) cannot be 1 more than a multiple of 4",
            out.len() / 3 * 4 + 1
        )),
        _ => Err("invalid base64: incorrect padding".to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn b64encode_pads() {
        assert_eq!(b64encode(b"user:pw"), "dXNlcjpwdw==");
        assert_eq!(b64encode(b"abc"), "YWJj");
        assert_eq!(b64encode(b"ab"), "YWI=");
        assert_eq!(b64encode(b""), "");
        let mut lines = String::new();
        encodebytes(&mut lines, b"user:pw");
        assert_eq!(lines, "dXNlcjpwdw==\n");
    }

    #[test]
    fn base64_lines_like_encodebytes() {
        // 57 bytes make exactly one 76-character line.
        let mut out = String::new();
        encodebytes(&mut out, &[0u8; 57]);
        assert_eq!(out, format!("{}\n", "A".repeat(76)));
        out.clear();
        encodebytes(&mut out, &[0u8; 58]);
        assert_eq!(out, format!("{}\nAA==\n", "A".repeat(76)));
        for len in 0..300usize {
            let data: Vec<u8> = (0..len).map(|i| (i * 37 + 11) as u8).collect();
            let mut text = String::new();
            encodebytes(&mut text, &data);
            assert_eq!(a2b_base64(text.as_bytes()).unwrap(), data);
        }
    }

    #[test]
    fn base64_decoding_matches_binascii() {
        // (input, binascii.a2b_base64(input)) from python3.11
        let cases: &[(&[u8], Option<&[u8]>)] = &[
            (b"", Some(b"")),
            (b"QQ==", Some(b"A")),
            (b"QQ=x=", Some(b"A\x0c")),
            (b"QUI=", Some(b"AB")),
            (b"QUJD", Some(b"ABC")),
            (b"Q=Q==", Some(b"A")),
            (b"=QQ==", Some(b"A")),
            (b"QQ", None),
            (b"Q", None),
            (b"QUJDRA", None),
            (b"QU JD\nRA==", Some(b"ABCD")),
            (b"QQ==QUJD", Some(b"A")),
            (b"Q===", None),
            (b"QQ=", None),
            (b"QUJ=D", Some(b"AB")),
            (b"!!QQ==", Some(b"A")),
            (b"QUJDR", None),
            (b"QUJD=", Some(b"ABC")),
            (b"QUJD====QQ==", Some(b"ABCA")),
            (b"Q=U=J=D", Some(b"AB")),
        ];
        for (input, expected) in cases {
            let got = a2b_base64(input).ok();
            assert_eq!(
                got.as_deref(),
                *expected,
                "{}",
                String::from_utf8_lossy(input)
            );
        }
    }
}
