//! Where to look for `supervisord.conf` when `-c` is not given: Python's
//! order, relative to the executable first, then the cwd, then /etc.

use std::path::PathBuf;

/// The candidate paths, in order, for an executable called as `argv0`.
pub fn search_paths(argv0: &str) -> Vec<PathBuf> {
    // Python: dirname(dirname(argv[0])), so `bin/supervisord` gives `.`
    // relative paths stay relative, as in Python.
    let here = PathBuf::from(py_dirname(&py_dirname(argv0)));
    vec![
        here.join("etc").join("supervisord.conf"),
        here.join("supervisord.conf"),
        PathBuf::from("supervisord.conf"),
        PathBuf::from("etc/supervisord.conf"),
        PathBuf::from("/etc/supervisord.conf"),
        PathBuf::from("/etc/supervisor/supervisord.conf"),
    ]
}

/// Python's os.path.dirname: everything before the last `/`, trailing
/// slashes dropped unless that leaves nothing (`/x` → `/`, `/` → `/`).
fn py_dirname(p: &str) -> String {
    match p.rfind('/') {
        None => String::new(),
        Some(i) => {
            let head = &p[..=i];
            let trimmed = head.trim_end_matches('/');
            if trimmed.is_empty() {
                head.to_string()
            } else {
                trimmed.to_string()
            }
        }
    }
}

/// The first existing candidate.
pub fn find(argv0: &str) -> Option<PathBuf> {
    search_paths(argv0).into_iter().find(|p| p.exists())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_is_pythons() {
        let p = search_paths("/opt/sv/bin/supervisord");
        assert_eq!(p[0], PathBuf::from("/opt/sv/etc/supervisord.conf"));
        assert_eq!(p[1], PathBuf::from("/opt/sv/supervisord.conf"));
        assert_eq!(p[2], PathBuf::from("supervisord.conf"));
        assert_eq!(p[5], PathBuf::from("/etc/supervisor/supervisord.conf"));
        let rel = search_paths("supervisord");
        assert_eq!(rel[0], PathBuf::from("etc/supervisord.conf"));
        // A binary at the root of an image: dirname("/") is "/".
        let root = search_paths("/supervisorctl");
        assert_eq!(root[0], PathBuf::from("/etc/supervisord.conf"));
        assert_eq!(root[1], PathBuf::from("/supervisord.conf"));
        assert_eq!(py_dirname("a/b/"), "a/b");
        assert_eq!(py_dirname("//x"), "//");
    }
}
