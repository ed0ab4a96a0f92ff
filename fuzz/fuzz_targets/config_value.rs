//! Single config values through the converters of `config::datatypes`
//! and the `%(name)s` expansion of `config::expand`. The first byte picks
//! the converter, the rest (UTF-8) is the value.
//!
//! Checked: no panic, no hang, bounded memory; and the round trips that
//! exist: a number a converter returns reads back the same when written
//! plainly (integer, octal, byte size, signal by number and by name,
//! exit codes), and `shlex_split` gives back the same words when they are
//! quoted and joined again.

#![no_main]

use libfuzzer_sys::fuzz_target;
use supervisord::config::datatypes as dt;
use supervisord::config::expand::{expand, ExpValue, Expansions};

fuzz_target!(|data: &[u8]| {
    let Some((&which, rest)) = data.split_first() else {
        return;
    };
    let Ok(s) = std::str::from_utf8(rest) else {
        return;
    };
    match which % 24 {
        0 => {
            if let Ok(n) = dt::integer(s) {
                assert_eq!(supervisord::pycompat::int::py_int(s), Some(n));
                assert_eq!(dt::integer(&n.to_string()), Ok(n));
            }
        }
        1 => {
            if let Ok(b) = dt::boolean(s) {
                assert_eq!(dt::boolean(if b { "true" } else { "false" }), Ok(b));
            }
        }
        2 => {
            if let Ok(n) = dt::byte_size(s) {
                if let Ok(small) = i64::try_from(n) {
                    assert_eq!(dt::byte_size(&small.to_string()), Ok(n));
                }
            }
        }
        3 => {
            if let Ok(n) = dt::octal(s) {
                assert_eq!(dt::octal(&format!("{n:o}")), Ok(n), "{s:?}");
            }
        }
        4 => {
            if let Ok(n) = dt::signal_number(s) {
                assert_eq!(dt::signal_number(&n.to_string()), Ok(n));
                let name = dt::signal_name(n);
                if name.starts_with("SIG") {
                    assert_eq!(dt::signal_number(&name), Ok(n), "{name}");
                }
            }
        }
        5 => {
            if let Ok(list) = dt::signal_list(s) {
                assert!(!list.is_empty(), "{s:?}");
            }
        }
        6 => {
            if let Ok(codes) = dt::exitcodes(s) {
                assert!(codes.iter().all(|c| (0..=255).contains(c)));
                let joined = codes.iter().map(i32::to_string).collect::<Vec<_>>();
                assert_eq!(dt::exitcodes(&joined.join(",")), Ok(codes));
            }
        }
        7 => {
            let _ = dt::list_of_strings(s);
        }
        8 => {
            if let Ok(name) = dt::process_or_group_name(s) {
                assert!(!name.contains([' ', ':', '/']), "{name:?}");
            }
        }
        9 => {
            let _ = dt::auto_restart(s);
        }
        10 => {
            let _ = dt::expand_user(s);
        }
        11 => {
            let _ = dt::existing_dirpath(s);
            let _ = dt::logfile_name(s);
        }
        12 => {
            let _ = dt::logging_level(s);
        }
        13 => {
            if let Ok((_, port)) = dt::inet_address(s) {
                assert!(port >= 1);
            }
        }
        14 => {
            let _ = dt::url(s);
        }
        15 => {
            let _ = dt::user_and_group(s);
            let _ = dt::user_group(s);
        }
        16 => {
            let _ = dt::key_value_pairs(s);
        }
        17 => {
            if let Ok(words) = supervisord::pycompat::shlex::split(s) {
                let quoted: Vec<String> = words
                    .iter()
                    .map(|w| format!("'{}'", w.replace('\'', r#"'"'"'"#)))
                    .collect();
                assert_eq!(
                    supervisord::pycompat::shlex::split(&quoted.join(" ")).as_ref(),
                    Ok(&words),
                    "{s:?}"
                );
            }
        }
        18 => {
            let _ = supervisord::pycompat::repr::py_repr(s);
        }
        19 => {
            let _ = dt::existing_directory(s);
        }
        20 => {
            let _ = dt::name_to_uid(s);
            let _ = dt::name_to_gid(s);
        }
        _ => {
            let _ = expand(s, &names(), "program:x.command");
        }
    }
});

fn names() -> Expansions {
    let mut m = Expansions::new();
    m.insert("program_name".into(), ExpValue::Str("web".into()));
    m.insert("group_name".into(), ExpValue::Str("g".into()));
    m.insert("here".into(), ExpValue::Str("/etc/supervisor".into()));
    m.insert("c".into(), ExpValue::Str("\u{e9}".into()));
    m.insert("process_num".into(), ExpValue::Int(3));
    m.insert("neg".into(), ExpValue::Int(-42));
    m.insert("big".into(), ExpValue::Int(i64::MIN));
    m
}
