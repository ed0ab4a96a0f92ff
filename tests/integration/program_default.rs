//! `[program-default]`, the Go supervisord's section of keys shared by
//! every `[program:x]` (an extension: Python ignores the section): a
//! program takes the keys it lacks from it, expanded with its own names,
//! and its own keys win.

use crate::util;

use std::time::Duration;
use util::*;

#[test]
fn programs_take_the_keys_they_lack() {
    let daemon = Daemon::builder(Impl::Ours)
        .sections(
            "[program-default]\nstartsecs=0\nautorestart=false\n\
             stdout_logfile=%(here)s/%(program_name)s.out\nenvironment=WHO=\"default\"\n\n\
             [program:a]\ncommand=sh -c 'echo a $WHO; exit 1'\n\n\
             [program:b]\ncommand=sh -c 'echo b $WHO; exit 1'\nenvironment=WHO=\"own\"\n",
        )
        .start();
    let read = |name: &str| read_text(&daemon.dir().join(name));
    assert!(
        wait_until(Duration::from_secs(15), || {
            read("a.out").ends_with('\n') && read("b.out").ends_with('\n')
        }),
        "outputs missing; main log:\n{}",
        read("sd.log")
    );
    assert_eq!(read("a.out"), "a default\n");
    assert_eq!(read("b.out"), "b own\n");
    // autorestart=false from the defaults: each ran once, though it
    // exited with an unexpected status (Python's default would restart it).
    assert!(
        wait_until(Duration::from_secs(10), || read("sd.log")
            .matches("exited: ")
            .count()
            == 2),
        "{}",
        read("sd.log")
    );
    assert!(
        !wait_until(Duration::from_secs(2), || read("sd.log")
            .matches("spawned: ")
            .count()
            > 2),
        "restarted:\n{}",
        read("sd.log")
    );
}
