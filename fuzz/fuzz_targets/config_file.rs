//! Whole config files: the INI reader (`Ini::read_bytes`) and the loader
//! (`config::load_str`) with its expansions, typed sections, includes and
//! validation. Checked: no panic, no hang, bounded memory; a loaded
//! config's exit codes are bytes and its signals real.
//!
//! Skipped, not bugs: files that could make the loader read outside the
//! scratch directory (an `include` or `envfiles` naming a path with `/`,
//! `~` or an expansion: `/dev/zero` would never end, but a config is the
//! operator's, who may name what they like), and a `numprocs` over 1000
//! (Python builds as many processes as asked too).

#![no_main]

use libfuzzer_sys::fuzz_target;
use supervisord::config::{self, datatypes, ini::Ini};
use supervisord_fuzz::{environment, scratch_dir};

fuzz_target!(|data: &[u8]| {
    let dir = scratch_dir();
    let path = dir.join("supervisord.conf");
    let mut ini = Ini::new();
    if ini.read_bytes(data, &path).is_err() {
        return;
    }
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let lower = text.to_lowercase();
    if (lower.contains("include") || lower.contains("envfiles")) && text.contains(['/', '~', '%']) {
        return;
    }
    if too_many_processes(&ini) {
        return;
    }
    let Ok(cfg) = config::load_str(text, &path, &environment()) else {
        return;
    };
    for p in cfg.processes() {
        assert!(p.exitcodes.iter().all(|c| (0..=255).contains(c)), "{p:?}");
        assert!(
            datatypes::signal_number(&p.stopsignal.to_string()).is_ok(),
            "{p:?}"
        );
    }
});

fn too_many_processes(ini: &Ini) -> bool {
    let sections = std::iter::once(ini.defaults()).chain(
        ini.section_names()
            .filter_map(|n| ini.section(n))
            .collect::<Vec<_>>(),
    );
    sections.into_iter().any(|s| {
        s.entries().iter().any(|e| {
            e.key == "numprocs"
                && (e.value.contains('%')
                    || supervisord::pycompat::int::py_int(&e.value).is_some_and(|n| n > 1000))
        })
    })
}
