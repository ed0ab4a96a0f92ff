//! Python's `shlex` as Supervisor uses it: POSIX `shlex.split` for a
//! program's `command`, and the non-POSIX token stream (word characters
//! extended by `/.+-():`) that `dict_of_key_value_pairs` reads
//! `environment` with. Error texts are Python's.

/// Python's `shlex.shlex(s)` (posix=False) token stream with wordchars
/// extended by `/.+-():`, the way `dict_of_key_value_pairs` uses it.
pub fn nonposix_tokens(s: &str) -> Result<Vec<String>, String> {
    fn is_word(c: char) -> bool {
        c.is_ascii_alphanumeric()
            || "_/.+-():".contains(c)
            || ('\u{df}'..='\u{ff}').contains(&c) && c != '\u{f7}'
            || ('\u{c0}'..='\u{de}').contains(&c) && c != '\u{d7}'
    }
    let ws = |c: char| " \t\r\n".contains(c);
    let mut tokens = Vec::new();
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if ws(c) {
            continue;
        }
        if c == '#' {
            // A comment runs to the end of the line.
            for n in chars.by_ref() {
                if n == '\n' {
                    break;
                }
            }
            continue;
        }
        if c == '\'' || c == '"' {
            let mut tok = String::from(c);
            loop {
                match chars.next() {
                    None => return Err("No closing quotation".to_string()),
                    Some(n) => {
                        tok.push(n);
                        if n == c {
                            break;
                        }
                    }
                }
            }
            tokens.push(tok);
            continue;
        }
        if is_word(c) {
            let mut tok = String::from(c);
            while let Some(&n) = chars.peek() {
                if is_word(n) || n == '\'' || n == '"' {
                    tok.push(n);
                    chars.next();
                } else {
                    break;
                }
            }
            tokens.push(tok);
            continue;
        }
        tokens.push(c.to_string());
    }
    Ok(tokens)
}

/// POSIX `shlex.split()` as Supervisor uses it for `command`: quotes,
/// backslash escapes, `#` comments at the start of a word.
pub fn split(s: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' | '\r' | '\n' => {
                if in_word {
                    out.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            '#' if !in_word => {
                for n in chars.by_ref() {
                    if n == '\n' {
                        break;
                    }
                }
            }
            '\\' => {
                in_word = true;
                match chars.next() {
                    Some(n) => cur.push(n),
                    None => return Err("No escaped character".to_string()),
                }
            }
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(n) => cur.push(n),
                        None => return Err("No closing quotation".to_string()),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(n @ ('"' | '\\')) => cur.push(n),
                            Some(n) => {
                                cur.push('\\');
                                cur.push(n);
                            }
                            None => return Err("No closing quotation".to_string()),
                        },
                        Some(n) => cur.push(n),
                        None => return Err("No closing quotation".to_string()),
                    }
                }
            }
            c => {
                in_word = true;
                cur.push(c);
            }
        }
    }
    if in_word {
        out.push(cur);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn posix_split() {
        assert_eq!(
            split("sh -c 'echo a b' \"x\\\"y\" c\\ d"),
            Ok(vec![
                "sh".to_string(),
                "-c".into(),
                "echo a b".into(),
                "x\"y".into(),
                "c d".into()
            ])
        );
        assert!(split("a 'b").is_err());
    }

    #[test]
    fn nonposix_stream() {
        // list(shlex.shlex(s)) with wordchars += '/.+-():', from python3.11
        assert_eq!(
            nonposix_tokens("A=1,B=\"x, y\" # c\nC='z'"),
            Ok(["A", "=", "1", ",", "B", "=", "\"x, y\"", "C", "=", "'z'"]
                .map(String::from)
                .to_vec())
        );
        assert_eq!(
            nonposix_tokens("P=/usr/bin:/bin"),
            Ok(["P", "=", "/usr/bin:/bin"].map(String::from).to_vec())
        );
        assert_eq!(
            nonposix_tokens("a'b c'd"),
            Ok(["a'b", "c'd"].map(String::from).to_vec())
        );
        assert_eq!(nonposix_tokens("'x").unwrap_err(), "No closing quotation");
    }
}
