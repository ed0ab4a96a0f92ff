//! Python's `glob.glob` (not recursive) and `fnmatch.fnmatch` on POSIX
//! (case-sensitive), as Supervisor expands `[include] files`.

use std::path::PathBuf;

/// Python's `glob.glob` for `*`, `?` and `[...]` in every path component;
/// hidden files match only patterns that start with a dot.
pub fn glob(pattern: &str) -> Vec<PathBuf> {
    let has_magic = |s: &str| s.contains(['*', '?', '[']);
    if !has_magic(pattern) {
        let p = PathBuf::from(pattern);
        return if p.exists() { vec![p] } else { Vec::new() };
    }
    let absolute = pattern.starts_with('/');
    let mut current: Vec<PathBuf> = vec![if absolute {
        PathBuf::from("/")
    } else {
        PathBuf::new()
    }];
    let parts: Vec<&str> = pattern.split('/').filter(|s| !s.is_empty()).collect();
    for (i, part) in parts.iter().enumerate() {
        let last = i + 1 == parts.len();
        let mut next = Vec::new();
        for base in &current {
            if !has_magic(part) {
                let p = base.join(part);
                if (last && p.exists()) || (!last && p.is_dir()) {
                    next.push(p);
                }
                continue;
            }
            let dir = if base.as_os_str().is_empty() {
                PathBuf::from(".")
            } else {
                base.clone()
            };
            let Ok(rd) = std::fs::read_dir(&dir) else {
                continue;
            };
            for ent in rd.flatten() {
                let name = ent.file_name().to_string_lossy().into_owned();
                if name.starts_with('.') && !part.starts_with('.') {
                    continue;
                }
                if fnmatch(part, &name) {
                    let p = base.join(&name);
                    if last || p.is_dir() {
                        next.push(p);
                    }
                }
            }
        }
        current = next;
    }
    current
}

/// fnmatch with `*`, `?`, `[seq]` and `[!seq]`. Matches in O(pattern x
/// name): on a mismatch only the last `*` takes one more character, since
/// an earlier one could only have taken what the last one can (trying
/// every split for every `*` was exponential: `files = **...*x`).
pub fn fnmatch(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    let (mut pi, mut ni) = (0, 0);
    // After the last `*`: where its pattern goes on, and how much of the
    // name it has taken so far.
    let mut star: Option<(usize, usize)> = None;
    while ni < n.len() {
        if p.get(pi) == Some(&'*') {
            pi += 1;
            star = Some((pi, ni));
            continue;
        }
        if let Some(len) = p.get(pi..).and_then(|rest| match_one(rest, n[ni])) {
            pi += len;
            ni += 1;
            continue;
        }
        match star {
            Some((resume, taken)) => {
                pi = resume;
                ni = taken + 1;
                star = Some((resume, taken + 1));
            }
            None => return false,
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

/// Whether the one-character item at the start of `p` (not `*`) matches
/// `c`, and if so how long the item is.
fn match_one(p: &[char], c: char) -> Option<usize> {
    match p.first()? {
        '?' => Some(1),
        '[' => {
            let Some(close) = p.iter().skip(2).position(|&c| c == ']').map(|i| i + 2) else {
                return (c == '[').then_some(1);
            };
            let mut set = &p[1..close];
            let negate = matches!(set.first(), Some('!'));
            if negate {
                set = &set[1..];
            }
            let mut hit = false;
            let mut i = 0;
            while i < set.len() {
                if i + 2 < set.len() && set[i + 1] == '-' {
                    if set[i] <= c && c <= set[i + 2] {
                        hit = true;
                    }
                    i += 3;
                } else {
                    if set[i] == c {
                        hit = true;
                    }
                    i += 1;
                }
            }
            (hit != negate).then_some(close + 1)
        }
        &l => (l == c).then_some(1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnmatch_like_python() {
        // fnmatch.fnmatchcase(name, pattern), from python3.11
        let cases = [
            ("*.conf", "a.conf", true),
            ("*.conf", "a.ini", false),
            ("*.conf", ".conf", true),
            ("?.conf", "ab.conf", false),
            ("?.conf", "a.conf", true),
            ("[ab].c", "b.c", true),
            ("[!ab].c", "b.c", false),
            ("[!ab].c", "x.c", true),
            ("[a-c]x", "bx", true),
            ("[a-c]x", "dx", false),
            ("[x", "[x", true),
            ("*", "", true),
            ("A*", "a", false),
        ];
        for (pattern, name, want) in cases {
            assert_eq!(fnmatch(pattern, name), want, "{pattern} {name}");
        }
    }

    #[test]
    fn fnmatch_brackets_and_stars_like_python() {
        for (pattern, name, want) in [
            ("[]]", "]", true),
            ("*a*b", "xaxxb", true),
            ("*a*b", "xaxxbx", false),
            ("**", "", true),
            ("", "a", false),
        ] {
            assert_eq!(fnmatch(pattern, name), want, "{pattern:?} {name:?}");
        }
    }

    #[test]
    fn fnmatch_takes_linear_time_on_many_stars() {
        // Found by fuzz/fuzz_targets/config_file.rs: an include pattern of
        // 70 stars and text ran for minutes (every split for every star).
        let name = "a".repeat(64);
        assert!(!fnmatch(&format!("{}x", "*".repeat(70)), &name));
        assert!(!fnmatch(&format!("{}b", "*a".repeat(32)), &name));
        assert!(fnmatch(&"*a".repeat(32), &name));
    }

    #[test]
    fn glob_skips_dot_files_unless_asked() {
        let dir = tempfile::tempdir().expect("tempdir");
        for name in ["a.conf", "b.conf", ".hidden.conf", "c.ini"] {
            std::fs::write(dir.path().join(name), "").expect("write");
        }
        std::fs::create_dir(dir.path().join("sub")).expect("mkdir");
        std::fs::write(dir.path().join("sub/d.conf"), "").expect("write");
        let base = dir.path().to_string_lossy().into_owned();
        let mut got = glob(&format!("{base}/*.conf"));
        got.sort();
        assert_eq!(
            got,
            vec![dir.path().join("a.conf"), dir.path().join("b.conf")]
        );
        assert_eq!(
            glob(&format!("{base}/.*.conf")),
            vec![dir.path().join(".hidden.conf")]
        );
        assert_eq!(
            glob(&format!("{base}/*/d.conf")),
            vec![dir.path().join("sub/d.conf")]
        );
        assert_eq!(
            glob(&format!("{base}/c.ini")),
            vec![dir.path().join("c.ini")]
        );
        assert!(glob(&format!("{base}/none.*")).is_empty());
    }
}
