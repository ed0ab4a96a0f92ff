//! The `envfiles` extension (ochinchina/supervisord's `envFiles`): files
//! of `KEY=VALUE` lines whose variables a program gets, below its own
//! `environment` and above `[supervisord] environment`.
//!
//! The syntax is the common dotenv one, as `docker --env-file` and most
//! tools write it:
//! - blank lines and lines starting with `#` are skipped;
//! - an optional `export ` before the name;
//! - the name is letters, digits and `_`, not starting with a digit;
//! - an unquoted value is trimmed and ends before ` #` (a comment);
//! - `'single quotes'` keep everything between them as it is;
//! - `"double quotes"` understand `\n`, `\t`, `\"` and `\\`;
//! - values are taken literally: no `%(name)s` expansion, so a URL with
//!   `%20` in it means what it says.
//!
//! Anything else is an error naming the file and the line.

use std::path::Path;

/// The pairs of `text` in file order (a later duplicate replaces the
/// value of an earlier one in place). `Err` is the 1-based line number
/// and what is wrong with it.
pub fn parse(text: &str) -> Result<Vec<(String, String)>, (usize, String)> {
    let mut pairs: Vec<(String, String)> = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (key, value) = parse_line(line).map_err(|m| (i + 1, m))?;
        match pairs.iter_mut().find(|(k, _)| *k == key) {
            Some(pair) => pair.1 = value,
            None => pairs.push((key, value)),
        }
    }
    Ok(pairs)
}

fn parse_line(line: &str) -> Result<(String, String), String> {
    let line = line
        .strip_prefix("export")
        .filter(|rest| rest.starts_with([' ', '\t']))
        .map(str::trim_start)
        .unwrap_or(line);
    let Some((name, rest)) = line.split_once('=') else {
        return Err(format!("expected KEY=VALUE, got {:?}", line));
    };
    let name = name.trim_end();
    let valid_name = !name.is_empty()
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !valid_name {
        return Err(format!("bad variable name {:?}", name));
    }
    Ok((name.to_string(), parse_value(rest.trim_start())?))
}

fn parse_value(v: &str) -> Result<String, String> {
    if let Some(body) = v.strip_prefix('\'') {
        let Some(end) = body.find('\'') else {
            return Err("unterminated single quote".into());
        };
        trailing_comment_only(&body[end + 1..])?;
        return Ok(body[..end].to_string());
    }
    if let Some(body) = v.strip_prefix('"') {
        let mut out = String::new();
        let mut chars = body.char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '"' => {
                    trailing_comment_only(&body[i + 1..])?;
                    return Ok(out);
                }
                '\\' => match chars.next() {
                    Some((_, 'n')) => out.push('\n'),
                    Some((_, 't')) => out.push('\t'),
                    Some((_, '"')) => out.push('"'),
                    Some((_, '\\')) => out.push('\\'),
                    Some((_, other)) => {
                        out.push('\\');
                        out.push(other);
                    }
                    None => break,
                },
                c => out.push(c),
            }
        }
        return Err("unterminated double quote".into());
    }
    let value = match v.find(" #").or_else(|| v.find("\t#")) {
        Some(i) => &v[..i],
        None => v,
    };
    Ok(value.trim_end().to_string())
}

/// After a closing quote only blanks and a `#` comment may follow.
fn trailing_comment_only(rest: &str) -> Result<(), String> {
    let rest = rest.trim_start();
    if rest.is_empty() || rest.starts_with('#') {
        Ok(())
    } else {
        Err(format!(
            "unexpected text after the closing quote: {:?}",
            rest
        ))
    }
}

/// Reads and parses one file; the error is a sentence naming the file
/// (and the line, for a syntax error).
pub fn read(path: &Path) -> Result<Vec<(String, String)>, String> {
    let bytes = std::fs::read(path).map_err(|e| {
        // Python's "[Errno 2] No such file or directory", not Rust's
        // "No such file or directory (os error 2)".
        let text = e.to_string();
        let text = match e.raw_os_error() {
            Some(code) => format!(
                "[Errno {}] {}",
                code,
                text.split(" (os error").next().unwrap_or(&text)
            ),
            None => text,
        };
        format!("cannot read envfiles file {}: {}", path.display(), text)
    })?;
    let text = String::from_utf8(bytes)
        .map_err(|_| format!("envfiles file {} is not UTF-8", path.display()))?;
    parse(&text).map_err(|(line, what)| {
        format!("envfiles file {}, line {}: {}", path.display(), line, what)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(text: &str) -> Vec<(String, String)> {
        parse(text).expect("parses")
    }

    fn kv(k: &str, v: &str) -> (String, String) {
        (k.to_string(), v.to_string())
    }

    #[test]
    fn plain_lines_comments_and_export() {
        let text = "# a comment\n\nA=1\nexport B = two words \n  C=x # note\nD=\nE=a#b\n";
        assert_eq!(
            pairs(text),
            vec![
                kv("A", "1"),
                kv("B", "two words"),
                kv("C", "x"),
                kv("D", ""),
                kv("E", "a#b"),
            ]
        );
    }

    #[test]
    fn quotes() {
        let text = "S='it''s'\nT='a \\n b' # kept\nU=\"line\\nnext \\\"q\\\" \\\\ \\x\"\nV=\"=%(here)s\"\n";
        let got = parse(text);
        // 'it''s' is a quoted 'it' followed by more text: an error.
        assert_eq!(got.unwrap_err().0, 1);
        let got = pairs(&text[text.find('\n').unwrap() + 1..]);
        assert_eq!(
            got,
            vec![
                kv("T", "a \\n b"),
                kv("U", "line\nnext \"q\" \\ \\x"),
                kv("V", "=%(here)s"),
            ]
        );
    }

    #[test]
    fn later_duplicate_wins_in_place() {
        assert_eq!(pairs("A=1\nB=2\nA=3\n"), vec![kv("A", "3"), kv("B", "2")]);
    }

    #[test]
    fn errors_name_the_line() {
        for (text, line) in [
            ("A=1\nnot a pair\n", 2),
            ("1A=x\n", 1),
            ("A-B=x\n", 1),
            ("=x\n", 1),
            ("A=1\n\nB='open\n", 3),
            ("B=\"open\n", 1),
            ("exportA\n", 1),
        ] {
            assert_eq!(parse(text).unwrap_err().0, line, "{text:?}");
        }
    }

    #[test]
    fn export_needs_a_blank_after_it() {
        assert_eq!(pairs("exported=1\n"), vec![kv("exported", "1")]);
        assert_eq!(pairs("export\tX=1\n"), vec![kv("X", "1")]);
    }

    #[test]
    fn read_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("app.env");
        std::fs::write(&p, "A=1\nbroken\n").unwrap();
        let e = read(&p).unwrap_err();
        assert!(e.contains("app.env, line 2"), "{e}");
        let e = read(&dir.path().join("missing.env")).unwrap_err();
        assert!(e.contains("missing.env"), "{e}");
    }
}
