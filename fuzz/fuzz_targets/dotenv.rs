//! The `envfiles` reader (`config::dotenv`, private to `config`: reached
//! here through `config::load_str` with a program whose `envfiles` names
//! a scratch file holding the input).
//!
//! Checked: no panic, no hang, bounded memory; the variables read have
//! valid names, each once; and written back as `NAME="..."` lines (with
//! the escapes the reader understands) they read back the same.

#![no_main]

use libfuzzer_sys::fuzz_target;
use supervisord::config;
use supervisord_fuzz::{environment, scratch_dir};

const CONF: &str = "[supervisord]\n[program:x]\ncommand=/bin/cat\nenvfiles=fuzz.env\n";

fuzz_target!(|data: &[u8]| {
    let Some(pairs) = load(data) else {
        return;
    };
    for (i, (k, _)) in pairs.iter().enumerate() {
        let valid = !k.starts_with(|c: char| c.is_ascii_digit())
            && !k.is_empty()
            && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        assert!(valid, "{k:?}");
        assert!(
            pairs[..i].iter().all(|(other, _)| other != k),
            "{k:?} twice"
        );
    }
    let mut again = String::new();
    for (k, v) in &pairs {
        again.push_str(k);
        again.push_str("=\"");
        for c in v.chars() {
            match c {
                '\\' => again.push_str("\\\\"),
                '"' => again.push_str("\\\""),
                '\n' => again.push_str("\\n"),
                '\t' => again.push_str("\\t"),
                c => again.push(c),
            }
        }
        again.push_str("\"\n");
    }
    assert_eq!(load(again.as_bytes()).as_ref(), Some(&pairs), "{again:?}");
});

/// The environment program `x` gets from `data` as its envfile, or None
/// when the loader refuses it.
fn load(data: &[u8]) -> Option<Vec<(String, String)>> {
    let dir = scratch_dir();
    std::fs::write(dir.join("fuzz.env"), data).expect("scratch file");
    let cfg = config::load_str(CONF, &dir.join("supervisord.conf"), &environment()).ok()?;
    let p = cfg.processes().next().expect("program x");
    Some(p.environment.clone())
}
