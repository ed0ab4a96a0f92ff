//! The daemon's lifecycle, around the loop: privileges, rlimits, the
//! activity log, binding the HTTP servers (kept across a HUP restart),
//! daemonizing, the pidfile, and reading the config again for a restart
//! or a `reread`. It wires the loop's handle into the servers. The steps
//! that change the process itself (uid, rlimits, fork) are in `setup.rs`.
//!
//! The imports run one way: this module uses `supervisor`, `http`, `rpc`
//! and `app`; `supervisor` (the loop) knows none of them and gets what it
//! needs from here: the config, a [`Reload`] function and its wake-ups.

mod setup;

use crate::cli::supervisord::DaemonOptions;
use crate::config::{Config, MainLogFile, MessageLevel};
use crate::http::server::HttpServers;
use crate::logs::activity::{self, Level, MainLogConfig, MainLogTarget};
use crate::rpc::Dispatcher;
use crate::states::Mood;
use crate::supervisor::{spawn, Reload, Supervisor, Wakeups};

/// Runs the daemon until it is told to exit; returns the exit code.
/// SIGHUP and `supervisor.restart` go round again with a fresh config.
pub fn run(cfg: Config, opts: DaemonOptions, argv0: &str) -> i32 {
    // Children are spawned without code of ours before exec when they can
    // be; they must not inherit ignored signals, a mask or stray fds.
    spawn::reset_inherited_signals();
    spawn::mark_inherited_fds_cloexec();
    let mut cfg = cfg;
    let mut first = true;
    // The HTTP servers outlive a restart when their config is unchanged,
    // so clients' keep-alive connections carry on with the next life.
    let mut http: Option<(HttpServers, Dispatcher)> = None;
    loop {
        match run_once(cfg, &opts, first, argv0, &mut http) {
            Ok((Mood::Restarting, _)) => {}
            // exit_on: the failed program's status (an extension).
            Ok((_, Some(status))) => return status,
            Ok(_) => return 0,
            Err(code) => return code,
        }
        first = false;
        // Python re-reads the command line and the config from disk; a
        // config that became invalid ends the daemon with its usage error.
        activity::hold();
        cfg = match crate::app::load_for_daemon(argv0, &opts) {
            Ok(c) => c,
            Err(msg) => {
                activity::crit(format!("Error: {}", msg));
                eprintln!("Error: {}", msg);
                eprintln!("For help, use {} -h", argv0);
                return 2;
            }
        };
    }
}

fn usage_exit(msg: &str) -> i32 {
    activity::flush_pending_to_stderr();
    eprintln!("Error: {}", msg);
    2
}

/// One life of the loop, from a config to shutdown or restart.
fn run_once(
    cfg: Config,
    opts: &DaemonOptions,
    first: bool,
    argv0: &str,
    http: &mut Option<(HttpServers, Dispatcher)>,
) -> Result<(Mood, Option<i32>), i32> {
    let sup_cfg = cfg.supervisord.clone();
    let mut criticals = Vec::new();
    let mut infos = Vec::new();
    match setup::set_uid(sup_cfg.user.as_deref()) {
        Ok(msgs) => {
            for (crit, m) in msgs {
                if crit {
                    criticals.push(m)
                } else {
                    infos.push(m)
                }
            }
        }
        Err(m) => return Err(usage_exit(&m)),
    }
    if first {
        match setup::set_rlimits(sup_cfg.minfds, sup_cfg.minprocs) {
            Ok(m) => infos.extend(m),
            Err(m) => return Err(usage_exit(&m)),
        }
    }
    let level = Level::from_config(&sup_cfg.loglevel).unwrap_or(Level::Info);
    let target = match &sup_cfg.logfile {
        MainLogFile::Syslog => MainLogTarget::Syslog,
        MainLogFile::Path(p) => MainLogTarget::File(p.clone()),
    };
    let log_cfg = MainLogConfig {
        target,
        maxbytes: sup_cfg.logfile_maxbytes,
        backups: sup_cfg.logfile_backups.clamp(0, u32::MAX as i64) as u32,
        level,
        echo_stdout: sup_cfg.nodaemon && !sup_cfg.silent,
    };
    if let Err(e) = activity::init(log_cfg) {
        return Err(usage_exit(&format!("cannot open the log file: {}", e)));
    }
    // Python replays the parse messages: criticals, warnings, then infos.
    for m in &criticals {
        activity::crit(m);
    }
    for level in [
        MessageLevel::Critical,
        MessageLevel::Warn,
        MessageLevel::Info,
    ] {
        for m in cfg.messages.iter().filter(|m| m.level == level) {
            match level {
                MessageLevel::Critical => activity::crit(&m.text),
                MessageLevel::Warn => activity::warn(&m.text),
                MessageLevel::Info => activity::info(&m.text),
            }
        }
    }
    for m in &infos {
        activity::info(m);
    }
    if !sup_cfg.nocleanup {
        setup::clear_auto_child_logs(&sup_cfg.childlogdir, &sup_cfg.identifier);
    }

    // Python opens its HTTP servers before daemonizing, so a port in use
    // is reported on the terminal and ends start-up with exit 2. Ours are
    // kept across a restart, unless their config changed or a unix
    // socket's file was removed or replaced meanwhile (Python makes its
    // servers anew at every restart, which brings such a file back).
    if let Some((h, _)) = http.as_ref() {
        if h.configs() != cfg.servers.as_slice() {
            *http = None; // closes the old sockets before binding new ones
        } else if !h.reachable() {
            activity::warn(
                "a unix socket file of ours was removed or replaced: making the HTTP servers anew",
            );
            *http = None;
        }
    }
    let bound = if http.is_none() {
        match crate::http::listen::bind_all(&cfg.servers) {
            Ok(s) => Some(s),
            Err(m) => return Err(usage_exit(&m)),
        }
    } else {
        None
    };
    crate::http::listen::announce(&cfg.servers, &cfg.rpcinterfaces);
    // The signal self-pipe exists before the fork, so no signal sent to
    // the daemonized pid is missed.
    let wakeups = Wakeups::new().map_err(|m| usage_exit(&m))?;
    if !sup_cfg.nodaemon && first {
        setup::daemonize(sup_cfg.directory.as_deref(), sup_cfg.umask);
    }
    let pidfile_written = setup::write_pidfile(&sup_cfg.pidfile);
    let namespaces = cfg.rpcinterfaces.clone();
    let reload: Reload = {
        let (argv0, opts) = (argv0.to_string(), opts.clone());
        Box::new(move || crate::app::load_for_daemon(&argv0, &opts))
    };
    let mut sup = Supervisor::new(cfg, wakeups, reload);
    // Threads start only now, after the fork.
    match (http.as_ref(), bound) {
        (Some((_, dispatcher)), _) => dispatcher.attach(sup.handle(), namespaces),
        (None, Some(bound)) => {
            let dispatcher = Dispatcher::new(sup.handle(), namespaces);
            match HttpServers::start(bound, dispatcher.clone()) {
                Ok(s) => *http = Some((s, dispatcher)),
                Err(e) => return Err(usage_exit(&format!("cannot start the HTTP servers: {}", e))),
            }
        }
        (None, None) => {}
    }
    let mood = sup.run();
    if mood != Mood::Restarting {
        // Closing the servers unlinks the unix socket, as Python's cleanup does.
        *http = None;
    }
    if pidfile_written {
        let _ = std::fs::remove_file(&sup_cfg.pidfile);
    }
    Ok((mood, sup.exit_status()))
}
