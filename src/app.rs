//! The entry points of the multi-call binary: each turns a command line
//! into work and returns the process exit code. Library modules return
//! errors; only this layer prints them and picks exit codes.

use crate::cli::supervisord::{help_text, parse_args, DaemonOptions, Request};
use crate::config::{self, Config, Environment};
use std::ffi::OsString;
use std::path::PathBuf;

/// Python's `usage()`: the message, the hint, exit 2.
fn usage_error(argv0: &str, msg: &str) -> i32 {
    eprintln!("Error: {}", msg);
    eprintln!("For help, use {} -h", argv0);
    2
}

/// `supervisord [options]`.
pub fn supervisord_main(argv0: &str, args: Vec<OsString>) -> i32 {
    let opts = match parse_args(args) {
        Ok(Request::Help) => {
            print!("{}", help_text());
            return 0;
        }
        Ok(Request::Version) => {
            // Python's `supervisord --version` prints the Supervisor
            // version, and scripts compare it; ours is `supervisord version`.
            println!("{}", crate::SUPERVISOR_VERSION);
            return 0;
        }
        Ok(Request::Run(o)) => *o,
        Err(e) => return usage_error(argv0, &e.0),
    };
    let cfg = match load_for_daemon(argv0, &opts) {
        Ok(c) => c,
        Err(msg) => return usage_error(argv0, &msg),
    };
    if opts.check_config {
        print!("{}", describe(&cfg));
        return 0;
    }
    crate::daemon::run(cfg, opts, argv0)
}

/// Finds, reads and validates the config, then applies the command line.
pub fn load_for_daemon(argv0: &str, opts: &DaemonOptions) -> Result<Config, String> {
    let path = match &opts.configfile {
        Some(p) => p.clone(),
        None => find_config(argv0)?,
    };
    let mut cfg = config::load(&path, &Environment::current()).map_err(|e| e.message)?;
    opts.apply(&mut cfg)?;
    Ok(cfg)
}

fn find_config(argv0: &str) -> Result<PathBuf, String> {
    if crate::sys::users::current_uid() == 0 {
        eprintln!(
            "Supervisord is running as root and it is searching for its configuration file in default locations (including its current working directory); you probably want to specify a \"-c\" argument specifying an absolute path to a configuration file for improved security."
        );
    }
    config::search::find(argv0).ok_or_else(|| {
        let paths: Vec<String> = config::search::search_paths(argv0)
            .iter()
            .map(|p| p.display().to_string())
            .collect();
        format!(
            "No config file found at default paths ({}); use the -c option to specify a config file at a different path",
            paths.join(", ")
        )
    })
}

/// `--check-config` output: the resolved groups and processes.
pub fn describe(cfg: &Config) -> String {
    let mut out = format!("{}: OK\n", cfg.file.display());
    for m in &cfg.messages {
        out.push_str(&format!("note: {}\n", m.text));
    }
    for g in &cfg.groups {
        out.push_str(&format!("[{}] priority {}\n", g.name, g.priority));
        for p in &g.processes {
            out.push_str(&format!(
                "  {:<30} {:<9} {}\n",
                p.namespec(),
                if p.autostart { "auto" } else { "manual" },
                p.command
            ));
        }
    }
    out
}

/// `supervisord version`: ours, and the Supervisor version we match.
pub fn version_main() -> i32 {
    println!(
        "supervisord-rs {} (compatible with Supervisor {}, XML-RPC API {})",
        crate::VERSION,
        crate::SUPERVISOR_VERSION,
        crate::API_VERSION
    );
    0
}

/// `supervisorctl ...` and `supervisord ctl ...`.
pub fn supervisorctl_main(argv0: &str, args: Vec<OsString>) -> i32 {
    crate::ctl::main(argv0, args)
}

/// `echo_supervisord_conf`: our sample config on stdout (arguments are
/// ignored, as in Python).
pub fn echo_supervisord_conf_main() -> i32 {
    print!("{}", config::SAMPLE_CONF);
    0
}

/// `pidproxy <pidfile> <command> [args...]`.
pub fn pidproxy_main(argv0: &str, args: Vec<OsString>) -> i32 {
    crate::pidproxy::main(argv0, args)
}
