//! `%(name)s` expansions: Python's `str % dict` formatting as Supervisor's
//! `expand()` applies it to config values, with its two error messages.

use crate::pycompat::repr::py_repr;
use std::collections::BTreeMap;

/// A value an expansion can stand for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExpValue {
    Str(String),
    Int(i64),
}

/// The names available to one value, sorted as Python sorts them for the
/// "Available names" list.
pub type Expansions = BTreeMap<String, ExpValue>;

/// Expands `s` with `names`; `what` names the value (`program:x.command`)
/// for the error message, which matches Supervisor's wording.
pub fn expand(s: &str, names: &Expansions, what: &str) -> Result<String, String> {
    format_mapping(s, names).map_err(|e| match e {
        FormatError::MissingKey(k) => format!(
            "Format string {} for {} contains names ({}) which cannot be expanded. Available names: {}",
            py_repr(s),
            py_repr(what),
            py_repr(&k),
            names.keys().cloned().collect::<Vec<_>>().join(", ")
        ),
        FormatError::Bad(msg) => format!(
            "Format string {} for {} is badly formatted: {}",
            py_repr(s),
            py_repr(what),
            msg
        ),
    })
}

enum FormatError {
    MissingKey(String),
    Bad(String),
}

/// Widest field and longest precision formatted. Python takes up to
/// `sys.maxsize` and `INT_MAX` and then builds the string; past this we
/// refuse with its words instead, so that one value cannot ask for
/// gigabytes (a deliberate difference; no real config comes near).
const MAX_FIELD: usize = 1 << 16;

/// Python's `%` operator with a mapping on the right.
fn format_mapping(s: &str, names: &Expansions) -> Result<String, FormatError> {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    let incomplete = || FormatError::Bad("incomplete format".to_string());
    while i < chars.len() {
        let c = chars[i];
        if c != '%' {
            out.push(c);
            i += 1;
            continue;
        }
        i += 1;
        // Mapping key.
        let mut key: Option<String> = None;
        if chars.get(i) == Some(&'(') {
            let mut depth = 1;
            let start = i + 1;
            let mut j = start;
            while j < chars.len() {
                match chars[j] {
                    '(' => depth += 1,
                    ')' => {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                    }
                    _ => {}
                }
                j += 1;
            }
            if j >= chars.len() {
                return Err(FormatError::Bad("incomplete format key".to_string()));
            }
            key = Some(chars[start..j].iter().collect());
            i = j + 1;
        }
        // Flags.
        let mut left = false;
        let mut zero = false;
        let mut plus = false;
        let mut space = false;
        let mut alt = false;
        while let Some(&f) = chars.get(i) {
            match f {
                '-' => left = true,
                '0' => zero = true,
                '+' => plus = true,
                ' ' => space = true,
                '#' => alt = true,
                _ => break,
            }
            i += 1;
        }
        // Width and precision (`*` needs positional args, which a mapping
        // does not give: Python raises TypeError for it).
        let mut width = 0usize;
        while let Some(d) = chars.get(i).and_then(|c| c.to_digit(10)) {
            width = width.saturating_mul(10).saturating_add(d as usize);
            i += 1;
        }
        if width > MAX_FIELD {
            return Err(FormatError::Bad("width too big".to_string()));
        }
        let mut precision: Option<usize> = None;
        if chars.get(i) == Some(&'.') {
            i += 1;
            let mut p = 0usize;
            while let Some(d) = chars.get(i).and_then(|c| c.to_digit(10)) {
                p = p.saturating_mul(10).saturating_add(d as usize);
                i += 1;
            }
            if p > MAX_FIELD {
                return Err(FormatError::Bad("precision too big".to_string()));
            }
            precision = Some(p);
        }
        if chars.get(i) == Some(&'*') {
            return Err(FormatError::Bad("* wants int".to_string()));
        }
        while matches!(chars.get(i), Some('h' | 'l' | 'L')) {
            i += 1;
        }
        let conv = match chars.get(i) {
            Some(&c) => c,
            None => return Err(incomplete()),
        };
        let conv_index = i;
        i += 1;
        if conv == '%' {
            out.push('%');
            continue;
        }
        if !"diouxXeEfFgGcrsa".contains(conv) {
            return Err(FormatError::Bad(format!(
                "unsupported format character {} (0x{:x}) at index {}",
                py_repr(&conv.to_string()),
                conv as u32,
                conv_index
            )));
        }
        let key = match key {
            Some(k) => k,
            None => return Err(FormatError::Bad("format requires a mapping".to_string())),
        };
        let value = names
            .get(&key)
            .ok_or_else(|| FormatError::MissingKey(key.clone()))?;
        let body = convert(conv, value, precision, plus, space, alt)?;
        pad(
            &mut out,
            &body,
            width,
            left,
            zero && "diouxXeEfFgG".contains(conv),
        );
    }
    Ok(out)
}

fn convert(
    conv: char,
    value: &ExpValue,
    precision: Option<usize>,
    plus: bool,
    space: bool,
    alt: bool,
) -> Result<String, FormatError> {
    let as_int = |what: &str| -> Result<i64, FormatError> {
        match value {
            ExpValue::Int(n) => Ok(*n),
            ExpValue::Str(_) => Err(FormatError::Bad(format!(
                "%{} format: {} is required, not str",
                what,
                if what == "c" {
                    "an integer or a unicode character"
                } else if "dioux".contains(what) || what == "X" {
                    if what == "d" || what == "i" || what == "u" {
                        "a real number"
                    } else {
                        "an integer"
                    }
                } else {
                    "a real number"
                }
            ))),
        }
    };
    let sign = |n: i64, digits: String| -> String {
        if n < 0 {
            format!("-{}", digits)
        } else if plus {
            format!("+{}", digits)
        } else if space {
            format!(" {}", digits)
        } else {
            digits
        }
    };
    Ok(match conv {
        's' | 'r' | 'a' => {
            let text = match value {
                ExpValue::Str(s) if conv == 's' => s.clone(),
                ExpValue::Str(s) => py_repr(s),
                ExpValue::Int(n) => n.to_string(),
            };
            match precision {
                Some(p) => text.chars().take(p).collect(),
                None => text,
            }
        }
        'd' | 'i' | 'u' => {
            let n = as_int(&conv.to_string())?;
            let mut digits = n.unsigned_abs().to_string();
            if let Some(p) = precision {
                if digits.len() < p {
                    digits.insert_str(0, &"0".repeat(p - digits.len()));
                }
            }
            sign(n, digits)
        }
        'x' | 'X' | 'o' => {
            let n = as_int(&conv.to_string())?;
            let a = n.unsigned_abs();
            let mut digits = match conv {
                'x' => format!("{:x}", a),
                'X' => format!("{:X}", a),
                _ => format!("{:o}", a),
            };
            if alt {
                digits.insert_str(
                    0,
                    match conv {
                        'x' => "0x",
                        'X' => "0X",
                        _ => "0o",
                    },
                );
            }
            sign(n, digits)
        }
        'e' | 'E' | 'f' | 'F' | 'g' | 'G' => {
            let n = as_int(&conv.to_string())?;
            let p = precision.unwrap_or(6);
            let digits = match conv {
                'f' | 'F' => format!("{:.*}", p, n.unsigned_abs() as f64),
                'e' => format!("{:.*e}", p, n.unsigned_abs() as f64),
                'E' => format!("{:.*E}", p, n.unsigned_abs() as f64),
                _ => (n.unsigned_abs()).to_string(),
            };
            sign(n, digits)
        }
        'c' => match value {
            ExpValue::Int(n) => u32::try_from(*n)
                .ok()
                .and_then(char::from_u32)
                .map(|c| c.to_string())
                .ok_or_else(|| FormatError::Bad("%c arg not in range(0x110000)".to_string()))?,
            ExpValue::Str(s) if s.chars().count() == 1 => s.clone(),
            ExpValue::Str(_) => {
                return Err(FormatError::Bad(
                    "%c requires an int or a unicode character, not a string of length != 1"
                        .to_string(),
                ))
            }
        },
        _ => String::new(),
    })
}

fn pad(out: &mut String, body: &str, width: usize, left: bool, zero: bool) {
    let len = body.chars().count();
    if len >= width {
        out.push_str(body);
    } else if left {
        out.push_str(body);
        out.extend(std::iter::repeat_n(' ', width - len));
    } else if zero {
        // Zero padding goes after the sign.
        let (sign, digits) = match body.chars().next() {
            Some(c @ ('-' | '+' | ' ')) => (c.to_string(), &body[1..]),
            _ => (String::new(), body),
        };
        out.push_str(&sign);
        out.extend(std::iter::repeat_n('0', width - len));
        out.push_str(digits);
    } else {
        out.extend(std::iter::repeat_n(' ', width - len));
        out.push_str(body);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> Expansions {
        let mut m = Expansions::new();
        m.insert("program_name".into(), ExpValue::Str("web".into()));
        m.insert("process_num".into(), ExpValue::Int(3));
        m.insert("here".into(), ExpValue::Str("/etc".into()));
        m
    }

    #[test]
    fn expands_like_python() {
        let n = names();
        assert_eq!(
            expand("%(program_name)s_%(process_num)02d", &n, "x").unwrap(),
            "web_03"
        );
        assert_eq!(expand("%(process_num)d", &n, "x").unwrap(), "3");
        assert_eq!(expand("%(process_num)s", &n, "x").unwrap(), "3");
        assert_eq!(expand("100%%", &n, "x").unwrap(), "100%");
        assert_eq!(expand("%(process_num)-3d|", &n, "x").unwrap(), "3  |");
        assert_eq!(expand("%(program_name)5s", &n, "x").unwrap(), "  web");
        assert_eq!(expand("%(process_num)+d", &n, "x").unwrap(), "+3");
    }

    #[test]
    fn errors_like_python() {
        let n = names();
        assert_eq!(
            expand("%(foo)s", &n, "program:x.command").unwrap_err(),
            "Format string '%(foo)s' for 'program:x.command' contains names ('foo') which cannot be expanded. Available names: here, process_num, program_name"
        );
        assert_eq!(
            expand("50%", &n, "k").unwrap_err(),
            "Format string '50%' for 'k' is badly formatted: incomplete format"
        );
        assert_eq!(
            expand("a %z", &n, "k").unwrap_err(),
            "Format string 'a %z' for 'k' is badly formatted: unsupported format character 'z' (0x7a) at index 3"
        );
        assert!(expand("%(program_name)d", &n, "k").is_err());
        // Found by fuzz/fuzz_targets/config_value.rs: this asked for 777 MB
        // of padding (and a long precision took quadratic time).
        assert_eq!(
            expand("%(process_num)777777777o(", &n, "k").unwrap_err(),
            "Format string '%(process_num)777777777o(' for 'k' is badly formatted: width too big"
        );
        assert!(expand("%(process_num).99999999999999999999d", &n, "k")
            .unwrap_err()
            .ends_with("precision too big"));
        assert_eq!(
            expand("%(process_num).65536d", &n, "k").unwrap().len(),
            65536
        );
        assert_eq!(
            expand("%(process_num)-65536s|", &n, "k").unwrap().len(),
            65537
        );
        assert!(expand("%(program_name", &n, "k").is_err());
    }
}
