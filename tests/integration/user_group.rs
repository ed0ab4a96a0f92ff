//! `user=user:group` (an extension of the Go supervisord: Python reads a
//! user only, and rejects this value): the program runs as the user with
//! the group given instead of the user's own. Needs root to switch users;
//! skipped otherwise.

use crate::util;

use std::process::Command;
use std::time::Duration;
use util::*;

#[test]
fn a_program_runs_with_the_group_given() {
    if !is_root() {
        eprintln!("skipped: switching users needs root");
        return;
    }
    // The logs are written by the daemon (root), the program only writes
    // to its pipe: nothing in the temp dir needs to be nobody's.
    let daemon = Daemon::builder(Impl::Ours)
        .sections(
            "[program:grouped]\ncommand=sh -c 'echo $(id -u) $(id -g)'\nuser=nobody:root\n\
             startsecs=0\nautorestart=false\nstdout_logfile=%(here)s/grouped.log\n\n\
             [program:plain]\ncommand=sh -c 'echo $(id -u) $(id -g)'\nuser=nobody\n\
             startsecs=0\nautorestart=false\nstdout_logfile=%(here)s/plain.log\n",
        )
        .start();
    let read = |name: &str| read_text(&daemon.dir().join(name));
    assert!(
        wait_until(Duration::from_secs(15), || read("grouped.log")
            .ends_with('\n')
            && read("plain.log").ends_with('\n')),
        "no output; main log:\n{}",
        read("sd.log")
    );
    let nobody = |field: &str| {
        let out = Command::new("id")
            .args([field, "nobody"])
            .output()
            .expect("id");
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    assert_eq!(read("grouped.log"), format!("{} 0\n", nobody("-u")));
    assert_eq!(
        read("plain.log"),
        format!("{} {}\n", nobody("-u"), nobody("-g"))
    );
}

#[test]
fn a_bad_group_is_a_config_error() {
    let (code, out, err) = Daemon::builder(Impl::Ours)
        .sections("[program:x]\ncommand=true\nuser=root:nosuchgroup\n")
        .run(Duration::from_secs(20));
    assert_eq!(code, Some(2), "{out}{err}");
    assert!(
        err.contains("Invalid group name nosuchgroup in section 'program:x'"),
        "{err}"
    );
}
