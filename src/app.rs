//! The entry points of the multi-call binary: each turns a command line
//! into work and returns the process exit code. Library modules return
//! errors; only this layer prints them and picks exit codes.

use crate::cli::supervisord::{
    help_text, init_help_text, parse_args, parse_init_args, parse_service_args, service_help_text,
    DaemonOptions, InitRequest, Request, ServiceOptions, ServiceRequest, SERVICE_USAGE,
};
use crate::config::{self, Config, Environment};
use crate::service::{self, Action, Invocation, Service, ServiceError};
use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};

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
    if let Some(path) = &opts.env_file {
        match read_env_file(path) {
            Ok(pairs) => export_env(&pairs),
            Err(msg) => return usage_error(argv0, &msg),
        }
    }
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
    search_config(argv0)
}

/// The first config of the search order, or Python's "No config file
/// found" message.
fn search_config(argv0: &str) -> Result<PathBuf, String> {
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

/// `--env-file FILE`: the pairs of a dotenv file (the syntax of
/// `envfiles`, src/config/dotenv.rs), or a message naming the file and,
/// for a bad line, the line.
fn read_env_file(path: &Path) -> Result<Vec<(String, String)>, String> {
    let bytes = std::fs::read(path).map_err(|e| {
        // Python's "[Errno 2] No such file or directory", as elsewhere.
        let text = match e.raw_os_error() {
            Some(code) => format!(
                "[Errno {}] {}",
                code,
                nix::errno::Errno::from_raw(code).desc()
            ),
            None => e.to_string(),
        };
        format!("cannot read --env-file {}: {}", path.display(), text)
    })?;
    let text = String::from_utf8(bytes)
        .map_err(|_| format!("--env-file {} is not UTF-8", path.display()))?;
    // A NUL cannot be in an environment variable.
    if let Some(i) = text.find('\0') {
        let line = text[..i].matches('\n').count() + 1;
        return Err(format!(
            "--env-file {}, line {}: a NUL character",
            path.display(),
            line
        ));
    }
    config::parse_dotenv(&text)
        .map_err(|(line, what)| format!("--env-file {}, line {}: {}", path.display(), line, what))
}

/// Puts the pairs into this process's environment, over what it
/// inherited (as the Go supervisord does), so the config's %(ENV_X)s,
/// a later reload and every program see them.
///
/// Changing the environment is sound only while the process has a single
/// thread (another thread's getenv, such as localtime's read of TZ, could
/// see it half-changed; `std::env::set_var` is `unsafe` from edition 2024
/// for this reason, and this crate is edition 2021). supervisord_main
/// calls this first thing, before the daemon starts any thread or forks,
/// and never again: the file is read once, not at each reload.
fn export_env(pairs: &[(String, String)]) {
    for (k, v) in pairs {
        std::env::set_var(k, v);
    }
}

/// `supervisord service install|uninstall|start|stop [options]`. The
/// words are the Go supervisord's: `Succeed to install service NAME`,
/// `Failed to install service NAME: why` (start and stop name no service
/// when they fail, as in Go); failures go to stderr, exit 1.
pub fn service_main(argv0: &str, args: Vec<OsString>) -> i32 {
    let opts = match parse_service_args(args) {
        Ok(ServiceRequest::Help) => {
            print!("{}", service_help_text());
            return 0;
        }
        Ok(ServiceRequest::Run(o)) => o,
        Ok(ServiceRequest::Usage) => {
            // Go prints this on stdout and exits 0; a usage error exits 2
            // here, as everywhere else in this binary.
            eprintln!("{}", SERVICE_USAGE);
            return 2;
        }
        Err(e) => return usage_error(&format!("{} service", argv0), &e.0),
    };
    let Some(action) = Action::from_name(&opts.action) else {
        eprintln!("{}", SERVICE_USAGE);
        return 2;
    };
    let svc = Service::new(opts.root.as_deref());
    let result = match action {
        Action::Install => install_service(argv0, &opts, &svc),
        Action::Uninstall => svc.uninstall().map_err(|e| e.to_string()),
        Action::Start | Action::Stop => svc
            .control(action)
            .map(|()| Vec::new())
            .map_err(|e| e.to_string()),
    };
    let name = service::NAME;
    match result {
        Ok(warnings) => {
            for w in warnings {
                eprintln!("warning: {}", w);
            }
            println!("Succeed to {} service {}", action.name(), name);
            0
        }
        Err(e) => {
            match action {
                Action::Install | Action::Uninstall => {
                    eprintln!("Failed to {} service {}: {}", action.name(), name, e)
                }
                Action::Start | Action::Stop => {
                    eprintln!("Failed to {} service: {}", action.name(), e)
                }
            }
            1
        }
    }
}

/// install: finds the config as the daemon would and checks that it
/// loads (with the env file's variables), so a unit that cannot start is
/// not written, then writes the unit for this very binary.
fn install_service(
    argv0: &str,
    opts: &ServiceOptions,
    svc: &Service,
) -> Result<Vec<String>, String> {
    let conf = match &opts.configfile {
        Some(p) => p.clone(),
        None => search_config(argv0)?,
    };
    let conf = config::absolute(&conf);
    let env_file = opts.env_file.as_deref().map(config::absolute);
    let mut env = Environment::current();
    if let Some(path) = &env_file {
        for (k, v) in read_env_file(path)? {
            env.vars.retain(|(name, _)| *name != k);
            env.vars.push((k, v));
        }
    }
    let cfg = config::load(&conf, &env).map_err(|e| e.message)?;
    let exe =
        std::env::current_exe().map_err(|e| format!("cannot find this program's path: {}", e))?;
    if !exe.exists() {
        // /proc/self/exe of a binary replaced or removed since it started.
        return Err(format!("this program's file {} is gone", exe.display()));
    }
    let inv = Invocation::new(&exe, &conf, env_file.as_deref()).map_err(|e| e.to_string())?;
    let text = svc
        .render(&inv, service::stop_timeout_secs(&cfg))
        .map_err(|e: ServiceError| e.to_string())?;
    svc.install(&text).map_err(|e| e.to_string())
}

/// `supervisord init [-o FILE]`: the sample config (what
/// echo_supervisord_conf prints) to FILE or stdout. The Go supervisord
/// truncates an existing FILE; this refuses to, since it is most likely
/// a config someone wrote.
pub fn init_main(argv0: &str, args: Vec<OsString>) -> i32 {
    let output = match parse_init_args(args) {
        Ok(InitRequest::Help) => {
            print!("{}", init_help_text());
            return 0;
        }
        Ok(InitRequest::Write(o)) => o,
        Err(e) => return usage_error(&format!("{} init", argv0), &e.0),
    };
    let Some(path) = output else {
        return match std::io::stdout().write_all(config::SAMPLE_CONF.as_bytes()) {
            Ok(()) => 0,
            Err(e) => {
                eprintln!("Error: cannot write to standard output: {}", e);
                1
            }
        };
    };
    let written = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
        .and_then(|mut f| {
            f.write_all(config::SAMPLE_CONF.as_bytes())
                .inspect_err(|_| {
                    let _ = std::fs::remove_file(&path);
                })
        });
    match written {
        Ok(()) => 0,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            eprintln!(
                "Error: {} already exists; not overwriting it",
                path.display()
            );
            1
        }
        Err(e) => {
            eprintln!("Error: cannot write {}: {}", path.display(), e);
            1
        }
    }
}
