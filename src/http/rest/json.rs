//! The JSON of the REST routes: a writer for what we answer and a strict
//! reader for the one body a client sends (`startPrograms`). No serde: the
//! shapes are few and fixed.
//!
//! The writer escapes as Go's `encoding/json` does by default (the Go
//! supervisord's clients read its answers): `"` `\` and control
//! characters, and also `<` `>` `&` U+2028 U+2029, so an answer pasted
//! into a page cannot end a script. Other characters go out as UTF-8.
//!
//! The reader takes RFC 8259 text only (UTF-8, no comments, no trailing
//! commas, nothing after the value but white space) and refuses nesting
//! deeper than [`MAX_DEPTH`], so a hostile body cannot exhaust the
//! connection thread's stack.

use std::fmt::Write as _;

/// Arrays and objects nested deeper than this are refused.
pub const MAX_DEPTH: usize = 64;

/// A JSON value.
#[derive(Debug, Clone, PartialEq)]
pub enum Json {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    /// A number as a client wrote it (already checked against the grammar).
    Number(String),
    String(String),
    Array(Vec<Json>),
    /// Members in document order, repeated names kept.
    Object(Vec<(String, Json)>),
}

impl Json {
    /// An object from `(name, value)` pairs.
    pub fn object<I>(members: I) -> Json
    where
        I: IntoIterator<Item = (&'static str, Json)>,
    {
        Json::Object(
            members
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
        )
    }

    /// The text, with the newline Go's `json.Encoder` ends every value with.
    pub fn to_line(&self) -> String {
        let mut out = String::new();
        write(&mut out, self);
        out.push('\n');
        out
    }
}

impl From<&str> for Json {
    fn from(s: &str) -> Json {
        Json::String(s.to_string())
    }
}

impl From<String> for Json {
    fn from(s: String) -> Json {
        Json::String(s)
    }
}

impl From<bool> for Json {
    fn from(b: bool) -> Json {
        Json::Bool(b)
    }
}

impl From<i64> for Json {
    fn from(i: i64) -> Json {
        Json::Int(i)
    }
}

/// Appends `value` as JSON text. Values we build nest a few levels at
/// most; a parsed value is at most [`MAX_DEPTH`] deep.
pub fn write(out: &mut String, value: &Json) {
    match value {
        Json::Null => out.push_str("null"),
        Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Json::Int(i) => {
            let _ = write!(out, "{}", i);
        }
        // JSON has no NaN or infinity.
        Json::Float(f) if !f.is_finite() => out.push('0'),
        Json::Float(f) => {
            let _ = write!(out, "{}", f);
        }
        Json::Number(text) => out.push_str(text),
        Json::String(s) => write_string(out, s),
        Json::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write(out, item);
            }
            out.push(']');
        }
        Json::Object(members) => {
            out.push('{');
            for (i, (name, item)) in members.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(out, name);
                out.push(':');
                write(out, item);
            }
            out.push('}');
        }
    }
}

/// A quoted, escaped string (Go's escapes; see the module doc).
pub fn write_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 || matches!(c, '<' | '>' | '&' | '\u{2028}' | '\u{2029}') => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Why a body is not JSON we read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub message: String,
    /// Byte offset of the problem.
    pub at: usize,
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} at byte {}", self.message, self.at)
    }
}

/// Reads one JSON value that is the whole of `text` (white space around
/// it allowed).
pub fn parse(text: &[u8]) -> Result<Json, ParseError> {
    let mut p = Parser { text, pos: 0 };
    // The offset of the first byte that is not UTF-8, if any.
    if let Err(e) = std::str::from_utf8(text) {
        return Err(p.error_at("invalid UTF-8", e.valid_up_to()));
    }
    p.skip_space();
    let value = p.value(0)?;
    p.skip_space();
    if p.pos < text.len() {
        return Err(p.error("unexpected data after the value"));
    }
    Ok(value)
}

struct Parser<'a> {
    text: &'a [u8],
    pos: usize,
}

impl Parser<'_> {
    fn error(&self, message: &str) -> ParseError {
        self.error_at(message, self.pos)
    }

    fn error_at(&self, message: &str, at: usize) -> ParseError {
        ParseError {
            message: message.to_string(),
            at,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.text.get(self.pos).copied()
    }

    fn skip_space(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    fn expect(&mut self, byte: u8, message: &str) -> Result<(), ParseError> {
        if self.peek() == Some(byte) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.error(message))
        }
    }

    /// A value at nesting `depth` (the number of arrays and objects
    /// around it).
    fn value(&mut self, depth: usize) -> Result<Json, ParseError> {
        match self.peek() {
            None => Err(self.error("unexpected end of input")),
            Some(b'{') | Some(b'[') if depth >= MAX_DEPTH => Err(self.error("nested too deeply")),
            Some(b'{') => self.object(depth + 1),
            Some(b'[') => self.array(depth + 1),
            Some(b'"') => self.string().map(Json::String),
            Some(b't') => self.literal("true", Json::Bool(true)),
            Some(b'f') => self.literal("false", Json::Bool(false)),
            Some(b'n') => self.literal("null", Json::Null),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(_) => Err(self.error("unexpected character")),
        }
    }

    fn literal(&mut self, word: &str, value: Json) -> Result<Json, ParseError> {
        if self.text[self.pos..].starts_with(word.as_bytes()) {
            self.pos += word.len();
            Ok(value)
        } else {
            Err(self.error("unexpected character"))
        }
    }

    fn array(&mut self, depth: usize) -> Result<Json, ParseError> {
        self.pos += 1;
        let mut items = Vec::new();
        self.skip_space();
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(Json::Array(items));
        }
        loop {
            self.skip_space();
            items.push(self.value(depth)?);
            self.skip_space();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    return Ok(Json::Array(items));
                }
                _ => return Err(self.error("expected ',' or ']'")),
            }
        }
    }

    fn object(&mut self, depth: usize) -> Result<Json, ParseError> {
        self.pos += 1;
        let mut members = Vec::new();
        self.skip_space();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(Json::Object(members));
        }
        loop {
            self.skip_space();
            if self.peek() != Some(b'"') {
                return Err(self.error("expected a member name"));
            }
            let name = self.string()?;
            self.skip_space();
            self.expect(b':', "expected ':'")?;
            self.skip_space();
            members.push((name, self.value(depth)?));
            self.skip_space();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(Json::Object(members));
                }
                _ => return Err(self.error("expected ',' or '}'")),
            }
        }
    }

    /// A string; `pos` is at its opening quote.
    fn string(&mut self) -> Result<String, ParseError> {
        self.pos += 1;
        let mut out: Vec<u8> = Vec::new();
        loop {
            let Some(b) = self.peek() else {
                return Err(self.error("unterminated string"));
            };
            match b {
                b'"' => {
                    self.pos += 1;
                    // Whole UTF-8 sequences of valid input and the UTF-8
                    // of escapes: still UTF-8.
                    return String::from_utf8(out).map_err(|_| self.error("invalid UTF-8"));
                }
                b'\\' => {
                    self.pos += 1;
                    let c = self.escape()?;
                    let mut buf = [0u8; 4];
                    out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                }
                0x00..=0x1f => return Err(self.error("control character in a string")),
                _ => {
                    out.push(b);
                    self.pos += 1;
                }
            }
        }
    }

    /// The character of an escape; `pos` is just after the backslash.
    fn escape(&mut self) -> Result<char, ParseError> {
        let Some(b) = self.peek() else {
            return Err(self.error("unterminated string"));
        };
        self.pos += 1;
        Ok(match b {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let first = self.hex4()?;
                if (0xD800..0xDC00).contains(&first) && self.text[self.pos..].starts_with(b"\\u") {
                    let save = self.pos;
                    self.pos += 2;
                    let second = self.hex4()?;
                    if (0xDC00..0xE000).contains(&second) {
                        let c = 0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00);
                        return Ok(char::from_u32(c).unwrap_or('\u{FFFD}'));
                    }
                    // Not a pair: the second escape stands on its own.
                    self.pos = save;
                }
                // A lone surrogate becomes U+FFFD, as Go reads it.
                char::from_u32(first).unwrap_or('\u{FFFD}')
            }
            _ => {
                self.pos -= 1;
                return Err(self.error("invalid escape"));
            }
        })
    }

    fn hex4(&mut self) -> Result<u32, ParseError> {
        let digits = self
            .text
            .get(self.pos..self.pos + 4)
            .ok_or_else(|| self.error("short \\u escape"))?;
        let mut v = 0u32;
        for &d in digits {
            let n = (d as char)
                .to_digit(16)
                .ok_or_else(|| self.error("invalid \\u escape"))?;
            v = v * 16 + n;
        }
        self.pos += 4;
        Ok(v)
    }

    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`
    fn number(&mut self) -> Result<Json, ParseError> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.peek() {
            Some(b'0') => self.pos += 1,
            Some(b'1'..=b'9') => self.digits(),
            _ => return Err(self.error("invalid number")),
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return Err(self.error("invalid number"));
            }
            self.digits();
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.pos += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return Err(self.error("invalid number"));
            }
            self.digits();
        }
        // ASCII only, so always UTF-8.
        let text = String::from_utf8_lossy(&self.text[start..self.pos]).into_owned();
        Ok(Json::Number(text))
    }

    fn digits(&mut self) {
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.pos += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(v: &Json) -> String {
        let mut s = String::new();
        write(&mut s, v);
        s
    }

    #[test]
    fn strings_are_escaped_as_go_does() {
        assert_eq!(text(&Json::from("a\"b\\c")), r#""a\"b\\c""#);
        assert_eq!(text(&Json::from("\n\r\t")), r#""\n\r\t""#);
        assert_eq!(
            text(&Json::from("\u{0}\u{1}\u{8}\u{c}\u{1f}")),
            r#""\u0000\u0001\u0008\u000c\u001f""#
        );
        assert_eq!(
            text(&Json::from("<b>&</b>")),
            r#""\u003cb\u003e\u0026\u003c/b\u003e""#
        );
        assert_eq!(text(&Json::from("\u{2028}\u{2029}")), r#""\u2028\u2029""#);
        // Other non-ASCII text, DEL and '/' go out as they are.
        assert_eq!(
            text(&Json::from("été 日本 😀 \u{7f}/")),
            "\"été 日本 😀 \u{7f}/\""
        );
    }

    #[test]
    fn values_and_shapes() {
        let v = Json::object([
            ("a", Json::Int(-3)),
            ("b", Json::Array(vec![Json::Null, Json::Bool(false)])),
            ("c", Json::Float(12.5)),
            ("d", Json::Float(f64::NAN)),
            ("e", Json::Object(Vec::new())),
        ]);
        assert_eq!(
            text(&v),
            r#"{"a":-3,"b":[null,false],"c":12.5,"d":0,"e":{}}"#
        );
        assert_eq!(Json::Array(Vec::new()).to_line(), "[]\n");
    }

    #[test]
    fn reads_what_it_writes() {
        let v = Json::object([
            ("name", Json::from("x\u{1}<y>\u{2028}é😀")),
            ("list", Json::Array(vec![Json::Bool(true), Json::Null])),
        ]);
        assert_eq!(parse(text(&v).as_bytes()), Ok(v));
    }

    #[test]
    fn reads_escapes_and_numbers() {
        assert_eq!(
            parse(br#""\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00""#),
            Ok(Json::from("\"\\/\u{8}\u{c}\n\r\té😀"))
        );
        // A lone surrogate is U+FFFD, as Go reads it.
        assert_eq!(parse(br#""\ud800x""#), Ok(Json::from("\u{FFFD}x")));
        assert_eq!(parse(br#""\ud800\u0041""#), Ok(Json::from("\u{FFFD}A")));
        for n in ["0", "-0", "12", "-1.5e+3", "1E9", "0.25"] {
            assert_eq!(parse(n.as_bytes()), Ok(Json::Number(n.to_string())), "{n}");
        }
        assert_eq!(
            parse(b" \t\r\n[ 1 , {\"a\" : [ ] } ] \n"),
            Ok(Json::Array(vec![
                Json::Number("1".into()),
                Json::Object(vec![("a".into(), Json::Array(Vec::new()))])
            ]))
        );
    }

    #[test]
    fn refuses_what_is_not_json() {
        for bad in [
            &b""[..],
            b"   ",
            b"[1,]",
            b"{\"a\":1,}",
            b"[1 2]",
            b"{a:1}",
            b"{'a':1}",
            b"[01]",
            b"[1.]",
            b"[.5]",
            b"[+1]",
            b"[1e]",
            b"[-]",
            b"NaN",
            b"tru",
            b"nulls",
            b"[] []",
            b"\"abc",
            b"\"a\\x\"",
            b"\"\\u12\"",
            b"\"\\u12g4\"",
            b"\"tab\there\"",
            b"\"\xff\"",
            b"[\"\xc3\"]",
            b"// comment\n[]",
            b"[",
            b"{\"a\"",
            b"{\"a\":",
        ] {
            assert!(
                parse(bad).is_err(),
                "{:?} parsed",
                String::from_utf8_lossy(bad)
            );
        }
        let e = parse(b"[1,\n x]").unwrap_err();
        assert_eq!(e.at, 5);
        assert_eq!(e.to_string(), "unexpected character at byte 5");
    }

    #[test]
    fn deep_nesting_is_refused_without_overflowing_the_stack() {
        let ok = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert!(parse(ok.as_bytes()).is_ok());
        let deep = format!("{}{}", "[".repeat(MAX_DEPTH + 1), "]".repeat(MAX_DEPTH + 1));
        assert_eq!(
            parse(deep.as_bytes()).unwrap_err().message,
            "nested too deeply"
        );
        // A megabyte of openers, in a stack a quarter of a connection
        // thread's.
        let hostile = "[{\"a\":".repeat(200_000);
        let got = std::thread::Builder::new()
            .stack_size(256 * 1024)
            .spawn(move || parse(hostile.as_bytes()).map_err(|e| e.message))
            .expect("thread")
            .join()
            .expect("no stack overflow");
        assert_eq!(got, Err("nested too deeply".to_string()));
    }
}
