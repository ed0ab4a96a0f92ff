//! Helpers shared by the fuzz targets: what an XML-RPC value should look
//! like after our writer and parser have been through it, and a scratch
//! directory for the config targets.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use supervisord::rpc::xmlrpc::Value;

/// Deepest `<value>` nesting the parser accepts (`MAX_VALUE_DEPTH` in
/// `rpc/xmlrpc.rs`, which is private).
pub const MAX_VALUE_DEPTH: usize = 64;

/// Which of the two decoders reads the value back.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Side {
    /// `parse_call`: Supervisor's request decoder.
    Server,
    /// `parse_response`: `xmlrpc.client`'s decoder.
    Client,
}

/// XML 1.0's `Char` production, as the writer and parser apply it.
pub fn is_xml_char(c: char) -> bool {
    match c {
        '\t' | '\n' | '\r' => true,
        '\u{0}'..='\u{1F}' => false,
        '\u{FFFE}' | '\u{FFFF}' => false,
        _ => true,
    }
}

/// A string after writing and parsing: characters XML cannot carry are
/// dropped by the writer, line ends are normalised by the parser.
pub fn text_after_round_trip(s: &str) -> String {
    let kept: String = s.chars().filter(|&c| is_xml_char(c)).collect();
    kept.replace("\r\n", "\n").replace('\r', "\n")
}

/// `<value>` nesting of `v` (a scalar is 1).
pub fn depth(v: &Value) -> usize {
    match v {
        Value::Array(items) => 1 + items.iter().map(depth).max().unwrap_or(0),
        Value::Struct(members) => 1 + members.iter().map(|(_, v)| depth(v)).max().unwrap_or(0),
        _ => 1,
    }
}

/// What `v`, written by our writer, must read back as on `side`; `None`
/// when that decoder must refuse it. Depth is not checked here.
pub fn after_round_trip(v: &Value, side: Side) -> Option<Value> {
    Some(match v {
        Value::Int(i) => Value::Int((*i).clamp(i32::MIN.into(), i32::MAX.into())),
        Value::Bool(b) => Value::Bool(*b),
        Value::String(s) => Value::String(text_after_round_trip(s)),
        Value::Double(d) => Value::Double(*d),
        Value::DateTime(s) => {
            let s = text_after_round_trip(s);
            // Supervisor checks the text with strptime and keeps it;
            // callers give only texts it takes (parsed ones, or generated
            // real dates). xmlrpc.client strips it.
            match side {
                Side::Client => Value::DateTime(s.trim().to_owned()),
                Side::Server => Value::DateTime(s),
            }
        }
        Value::Base64(bytes) => match side {
            Side::Client => Value::Base64(bytes.clone()),
            // Supervisor hands the method a str: the raw decoded text.
            Side::Server => Value::String(String::from_utf8(bytes.clone()).ok()?),
        },
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|i| after_round_trip(i, side))
                .collect::<Option<_>>()?,
        ),
        Value::Struct(members) => {
            // A dict: a repeated key keeps its first place and last value.
            let mut out: Vec<(String, Value)> = Vec::new();
            for (k, v) in members {
                let k = text_after_round_trip(k);
                let v = after_round_trip(v, side)?;
                match out.iter_mut().find(|(name, _)| *name == k) {
                    Some(slot) => slot.1 = v,
                    None => out.push((k, v)),
                }
            }
            Value::Struct(out)
        }
        Value::Nil => Value::Nil,
    })
}

/// Equality where a NaN equals a NaN and 0.0 differs from -0.0 (the
/// writer must keep the sign: Python's repr does).
pub fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Double(x), Value::Double(y)) => {
            (x.is_nan() && y.is_nan()) || x.to_bits() == y.to_bits()
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b))
        }
        (Value::Struct(x), Value::Struct(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y)
                    .all(|((ka, va), (kb, vb))| ka == kb && same(va, vb))
        }
        _ => a == b,
    }
}

/// A directory of this fuzzing process's own, made once, holding the files
/// the config targets may name: `inc.conf` (an include) and `app.env`.
pub fn scratch_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("supervisord-fuzz-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("conf.d")).expect("scratch dir");
        std::fs::write(
            dir.join("conf.d/inc.conf"),
            "[program:included]\ncommand=/bin/cat\nenvfiles=../app.env\n",
        )
        .expect("scratch file");
        std::fs::write(dir.join("app.env"), "A=1\nexport B='two'\n").expect("scratch file");
        dir
    })
}

/// The environment the config targets load with: fixed, so a run is
/// repeatable, with a few names for `%(ENV_x)s` to find.
pub fn environment() -> supervisord::config::Environment {
    supervisord::config::Environment {
        vars: [
            ("HOME", "/nonexistent"),
            ("PATH", "/usr/bin:/bin"),
            ("N", "3"),
            ("NAME", "web"),
            ("PCT", "%(here)s"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect(),
        host_node_name: "fuzzhost".into(),
    }
}
