//! `pidproxy`: runs a program that daemonizes itself and stands in for it,
//! so supervisord can manage it: signals sent to pidproxy go to the pid in
//! the program's pidfile, and pidproxy exits when its own child exits.

use signal_hook::consts::{SIGCHLD, SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2};
use signal_hook::iterator::Signals;
use std::ffi::OsString;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;

fn usage(argv0: &str) -> String {
    format!(
        "pidproxy -- run a command and relay signals to the pid in its pidfile.\n\n\
         pidproxy starts the command; every TERM, HUP, INT, USR1, USR2 or QUIT it\n\
         receives is sent to the pid read from the pidfile. It exits after relaying\n\
         TERM, INT or QUIT, or when the command it started exits.\n\n\
         Usage: {} <pidfile name> <command> [<cmdarg1> ...]\n",
        argv0
    )
}

pub fn main(argv0: &str, args: Vec<OsString>) -> i32 {
    if args.len() < 2 {
        // Python prints its usage on stdout and exits 1.
        println!("{}", usage(argv0));
        return 1;
    }
    let pidfile = PathBuf::from(&args[0]);
    let cmdargs = &args[1..];
    // Python runs the absolute path of the command: no PATH search.
    let abscmd = crate::config::absolute(std::path::Path::new(&cmdargs[0]));
    // Install the handlers before the child exists, so no signal is lost.
    let mut signals =
        match Signals::new([SIGTERM, SIGHUP, SIGINT, SIGUSR1, SIGUSR2, SIGQUIT, SIGCHLD]) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("pidproxy: cannot install signal handlers: {}", e);
                return 1;
            }
        };
    let mut cmd = std::process::Command::new(&abscmd);
    cmd.arg0(&cmdargs[0]).args(&cmdargs[1..]);
    if let Err(e) = cmd.spawn() {
        eprintln!("pidproxy: can't run {}: {}", abscmd.display(), e);
        return 1;
    }
    loop {
        for sig in signals.wait() {
            if sig == SIGCHLD {
                if reaped_any() {
                    return 0;
                }
                continue;
            }
            let pid = std::fs::read_to_string(&pidfile)
                .ok()
                .and_then(|s| s.trim().parse::<i32>().ok());
            match pid {
                Some(pid) => {
                    let _ = crate::sys::process::kill(pid, sig);
                    if sig == SIGTERM || sig == SIGINT || sig == SIGQUIT {
                        return 0;
                    }
                }
                None => println!("Can't read child pidfile {}!", pidfile.display()),
            }
        }
    }
}

/// Reaps every exited child; true if there was one.
fn reaped_any() -> bool {
    let mut any = false;
    while crate::sys::process::reap_any().is_some() {
        any = true;
    }
    any
}
