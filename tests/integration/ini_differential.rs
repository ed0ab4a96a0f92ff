//! Differential test of `config::ini` against Python's configparser.
//!
//! Every `tests/ini_corpus/NN-what.ini` is read by our reader and by
//! `configparser.RawConfigParser(inline_comment_prefixes=(';', '#'),
//! strict=False)` — Supervisor's settings — and both results are printed in
//! one canonical text form and compared. A companion `NN-what.inc` is read
//! afterwards into the same parser, the way Supervisor's `[include]` reads
//! further files, to cover merging and errors in included files.
//!
//! Python is run once for the whole corpus (`python3`, or `$PYTHON3`), with
//! `PYTHONUTF8=1` so it decodes files as UTF-8 whatever the locale, which is
//! what our reader assumes. A missing python3 fails the test: a skipped
//! differential test would prove nothing.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use supervisord::config::ini::Ini;

/// Reads each file the way Supervisor does (main file with read_file, the
/// companion with read) and prints the canonical form; the escaping keeps
/// the output ASCII and is the same as `escape` below.
const PY_SCRIPT: &str = r#"
import configparser, os, sys

def esc(s):
    out = []
    for ch in s:
        o = ord(ch)
        if ch == '\\':
            out.append('\\\\')
        elif 0x20 <= o < 0x7f:
            out.append(ch)
        else:
            out.append('\\u{%x}' % o)
    return ''.join(out)

for path in sys.argv[1:]:
    extra = path[:-len('.ini')] + '.inc'
    p = configparser.RawConfigParser(inline_comment_prefixes=(';', '#'), strict=False)
    try:
        with open(path) as fp:
            p.read_file(fp)
        if os.path.exists(extra):
            p.read(extra)
        lines = ['OK', '[DEFAULT]']
        for k, v in p.defaults().items():
            lines.append('  ' + esc(k) + ' = ' + esc(v))
        for s in p.sections():
            lines.append('[' + esc(s) + ']')
            for k in p.options(s):
                lines.append('  ' + esc(k) + ' = ' + esc(p.get(s, k)))
    except Exception as e:
        lines = ['ERR ' + type(e).__name__] + [esc(l) for l in str(e).split('\n')]
    print('### ' + esc(path))
    print('\n'.join(lines))
"#;

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ' '..='~' => out.push(c),
            c => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
        }
    }
    out
}

/// Our reader's result in the same canonical form as `PY_SCRIPT` prints.
fn ours(path: &Path) -> String {
    let mut ini = Ini::new();
    let extra = path.with_extension("inc");
    let mut result = read_into(&mut ini, path);
    if result.is_ok() && extra.exists() {
        result = read_into(&mut ini, &extra);
    }
    let mut lines = Vec::new();
    match result {
        Ok(()) => {
            lines.push("OK".to_string());
            lines.push("[DEFAULT]".to_string());
            for e in ini.defaults().entries() {
                lines.push(format!("  {} = {}", escape(&e.key), escape(&e.value)));
            }
            for name in ini.section_names() {
                lines.push(format!("[{}]", escape(name)));
                for key in ini.keys(name) {
                    let value = ini.get(name, key).map(|e| e.value.as_str());
                    let value =
                        value.unwrap_or("<MISSING: keys() listed it but get() found nothing>");
                    lines.push(format!("  {} = {}", escape(key), escape(value)));
                }
            }
        }
        Err(e) => {
            lines.push(format!("ERR {}", e.python_name()));
            lines.extend(e.to_string().split('\n').map(escape));
        }
    }
    lines.join("\n")
}

fn read_into(ini: &mut Ini, path: &Path) -> Result<(), supervisord::config::ini::IniError> {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    ini.read_bytes(&bytes, path)
}

/// Runs Python over all files; returns canonical text per path.
fn python(paths: &[PathBuf]) -> BTreeMap<String, String> {
    let python = std::env::var("PYTHON3").unwrap_or_else(|_| "python3".to_string());
    let out = Command::new(&python)
        .arg("-c")
        .arg(PY_SCRIPT)
        .args(paths)
        .env("PYTHONUTF8", "1")
        .env("PYTHONIOENCODING", "ascii")
        .output()
        .unwrap_or_else(|e| panic!("cannot run {python} (needed as the reference): {e}"));
    assert!(
        out.status.success(),
        "{python} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let mut map = BTreeMap::new();
    let mut current: Option<(String, Vec<&str>)> = None;
    for line in text.lines() {
        if let Some(path) = line.strip_prefix("### ") {
            if let Some((p, body)) = current.take() {
                map.insert(p, body.join("\n"));
            }
            current = Some((path.to_string(), Vec::new()));
        } else if let Some((_, body)) = current.as_mut() {
            body.push(line);
        }
    }
    if let Some((p, body)) = current.take() {
        map.insert(p, body.join("\n"));
    }
    map
}

/// A readable line diff: common lines once, differing ones as -py/+rs.
fn diff(py: &str, rs: &str) -> String {
    let a: Vec<&str> = py.lines().collect();
    let b: Vec<&str> = rs.lines().collect();
    let mut out = String::new();
    for i in 0..a.len().max(b.len()) {
        match (a.get(i), b.get(i)) {
            (Some(x), Some(y)) if x == y => out.push_str(&format!("    {x}\n")),
            (x, y) => {
                if let Some(x) = x {
                    out.push_str(&format!("-py {x}\n"));
                }
                if let Some(y) = y {
                    out.push_str(&format!("+rs {y}\n"));
                }
            }
        }
    }
    out
}

/// Compares every path with Python; returns one report per mismatch, and
/// how many documents Python accepted.
fn compare(paths: &[PathBuf]) -> (Vec<String>, usize) {
    let reference = python(paths);
    let accepted = reference.values().filter(|v| v.starts_with("OK")).count();
    let mut failures = Vec::new();
    for path in paths {
        let key = escape(&path.to_string_lossy());
        let Some(py) = reference.get(&key) else {
            failures.push(format!("{}: python printed nothing for it", path.display()));
            continue;
        };
        let rs = ours(path);
        if *py != rs {
            failures.push(format!(
                "{}: differs from Python\n{}",
                path.display(),
                diff(py, &rs)
            ));
        }
    }
    (failures, accepted)
}

#[test]
fn corpus_matches_python_configparser() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/ini_corpus");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "ini"))
        .collect();
    paths.sort();
    assert!(
        paths.len() >= 45,
        "corpus too small: {} files in {}",
        paths.len(),
        dir.display()
    );
    let (failures, _) = compare(&paths);
    assert!(
        failures.is_empty(),
        "{} of {} corpus files differ:\n\n{}",
        failures.len(),
        paths.len(),
        failures.join("\n")
    );
}

/// Pieces the random documents are made of: each aimed at a rule the
/// corpus covers one at a time, so that here they meet in combinations.
const INDENTS: &[&str] = &["", "", "", " ", "  ", "\t", "    ", "\u{3000}", "\u{1c}"];
const CONTENT: &[&str] = &[
    "[s]",
    "[t]",
    "[S]",
    "[DEFAULT]",
    "[]",
    "[ a ]x",
    "[a]b]",
    "[x #y]",
    "k=v",
    "K : V",
    "k = v ;c",
    "a=b;c",
    "a=b #c;d ;e",
    "=x",
    ":",
    "bad",
    "x y",
    "#c",
    ";c",
    "é=Ü",
    "",
    "",
    "v",
    "k=",
    "k:",
    "u=http://h:1/#f",
    "\"q\"=' r '",
    "a\u{a0}#b=c",
    "\u{feff}x=1",
    "k\u{0}=\u{0}",
    "[s];t",
    "[z]=1",
    "k2 = v2",
    "path = /a/b",
    "x: 1",
    "Key=Value",
    "n=1",
];
const ENDINGS: &[&str] = &["\n", "\n", "\n", "\r\n", "\r", ""];

/// A small deterministic generator (xorshift), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        from[(self.0 % from.len() as u64) as usize]
    }
}

#[test]
fn random_documents_match_python_configparser() {
    let dir = tempfile::Builder::new()
        .prefix("ini-random-")
        .tempdir()
        .unwrap_or_else(|e| panic!("temp dir: {e}"));
    // INI_FUZZ_SEED / INI_FUZZ_COUNT widen the search when working on the
    // reader; the defaults keep the test quick and reproducible.
    let env_num = |name: &str| std::env::var(name).ok().and_then(|v| v.parse::<u64>().ok());
    let seed = env_num("INI_FUZZ_SEED")
        .unwrap_or(0x9e37_79b9_7f4a_7c15)
        .max(1);
    let count = env_num("INI_FUZZ_COUNT").unwrap_or(1500);
    let mut rng = Rng(seed);
    let mut paths = Vec::new();
    for n in 0..count {
        let mut text = String::new();
        if rng.pick(&["h", "h", "h", "-"]) == "h" {
            text.push_str("[s]\n");
        }
        let lines = 1 + (rng.0 % 12) as usize;
        for _ in 0..lines {
            text.push_str(rng.pick(INDENTS));
            text.push_str(rng.pick(CONTENT));
            text.push_str(rng.pick(ENDINGS));
        }
        let path = dir.path().join(format!("r{n:04}.ini"));
        std::fs::write(&path, &text).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
        // Every fifth document gets a companion read after it, as an include.
        if n % 5 == 0 {
            let mut inc = String::from(rng.pick(&["[s]\n", "[DEFAULT]\n", "[u]\n", ""]));
            for _ in 0..3 {
                inc.push_str(rng.pick(INDENTS));
                inc.push_str(rng.pick(CONTENT));
                inc.push('\n');
            }
            let inc_path = path.with_extension("inc");
            std::fs::write(&inc_path, &inc)
                .unwrap_or_else(|e| panic!("write {}: {e}", inc_path.display()));
        }
        paths.push(path);
    }
    let (failures, accepted) = compare(&paths);
    eprintln!(
        "{accepted} of {} random documents parse without error",
        paths.len()
    );
    // Mostly-failing documents would only test the error path.
    assert!(
        accepted * 4 >= paths.len(),
        "only {accepted} documents parse"
    );
    let shown: Vec<String> = failures
        .iter()
        .take(5)
        .map(|f| {
            let path = f.split(": differs").next().unwrap_or_default();
            let text = std::fs::read(path).unwrap_or_default();
            format!("{f}input: {:?}\n", String::from_utf8_lossy(&text))
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} random documents differ (first ones shown):\n\n{}",
        failures.len(),
        paths.len(),
        shown.join("\n")
    );
}
