//! The checked-in man pages are what the generator writes from the flag
//! tables (`make man` rewrites them), and they render without warnings.

use std::path::Path;
use std::process::Command;

fn man_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("man")
}

#[test]
fn checked_in_pages_match_the_generator() {
    let update = std::env::var_os("UPDATE_MAN").is_some();
    let mut stale = Vec::new();
    for (name, text) in supervisord::cli::man::pages() {
        let path = man_dir().join(name);
        if update {
            std::fs::create_dir_all(man_dir()).expect("man dir");
            std::fs::write(&path, &text).expect("write page");
            continue;
        }
        match std::fs::read_to_string(&path) {
            Ok(on_disk) if on_disk == text => {}
            _ => stale.push(name),
        }
    }
    assert!(
        stale.is_empty(),
        "man pages differ from the generator: {:?}; run `make man`",
        stale
    );
}

#[test]
fn pages_render_without_warnings() {
    for (name, _) in supervisord::cli::man::pages() {
        let path = man_dir().join(name);
        let out = Command::new("groff")
            .args(["-man", "-ww", "-z", "-Tutf8"])
            .arg(&path)
            .output()
            .expect("groff (Debian's groff-base) renders man pages");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success() && err.trim().is_empty(),
            "{name}: {err}"
        );
        let out = Command::new("man")
            .args(["--warnings", "-l"])
            .arg(&path)
            .env("MANWIDTH", "80")
            .env("MANPAGER", "cat")
            .output()
            .expect("man -l");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success() && err.trim().is_empty(),
            "man -l {name}: {err}"
        );
        assert!(!out.stdout.is_empty(), "{name} rendered nothing");
    }
}
