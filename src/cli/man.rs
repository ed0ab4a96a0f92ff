//! Man pages, written from the same flag tables `--help` prints, so the
//! two cannot drift. `man/` holds the output; `tests/integration/man_pages.rs` fails
//! when it differs from what this writes (`make man` rewrites it).

use super::Flag;

/// Every page: (file name in man/, contents).
pub fn pages() -> Vec<(&'static str, String)> {
    vec![
        ("supervisord.1", supervisord()),
        ("supervisorctl.1", supervisorctl()),
        ("echo_supervisord_conf.1", echo_supervisord_conf()),
        ("pidproxy.1", pidproxy()),
        ("supervisord.conf.5", supervisord_conf()),
    ]
}

/// Escapes text for roff: backslashes, leading dots and quotes, dashes.
fn esc(text: &str) -> String {
    let mut out = String::new();
    for line in text.split('\n') {
        let mut l = line.replace('\\', "\\e").replace('-', "\\-");
        if l.starts_with('.') || l.starts_with('\'') {
            l.insert_str(0, "\\&");
        }
        out.push_str(&l);
        out.push('\n');
    }
    out.pop();
    out
}

fn header(name: &str, section: u8, summary: &str) -> String {
    format!(
        ".TH {} {} \"\" \"supervisord-rs {}\" \"{}\"\n.SH NAME\n{} \\- {}\n",
        name.to_uppercase().replace('_', "\\_"),
        section,
        crate::VERSION,
        if section == 5 {
            "File Formats"
        } else {
            "User Commands"
        },
        esc(name),
        esc(summary)
    )
}

fn options(flags: &[Flag]) -> String {
    format!(".SH OPTIONS\n{}", flag_list(flags))
}

/// One `.TP` entry per flag.
fn flag_list(flags: &[Flag]) -> String {
    let mut out = String::new();
    for f in flags {
        let mut names = Vec::new();
        if let Some(c) = f.short {
            names.push(match f.value {
                Some(v) => format!("\\fB\\-{}\\fR \\fI{}\\fR", esc(&c.to_string()), esc(v)),
                None => format!("\\fB\\-{}\\fR", esc(&c.to_string())),
            });
        }
        if let Some(l) = f.long {
            names.push(match f.value {
                Some(v) => format!("\\fB\\-\\-{}\\fR=\\fI{}\\fR", esc(l), esc(v)),
                None => format!("\\fB\\-\\-{}\\fR", esc(l)),
            });
        }
        out.push_str(&format!(".TP\n{}\n{}\n", names.join(", "), esc(f.help)));
    }
    out
}

fn section(title: &str, paragraphs: &[&str]) -> String {
    let mut out = format!(".SH {}\n", title);
    for (i, p) in paragraphs.iter().enumerate() {
        if i > 0 {
            out.push_str(".PP\n");
        }
        out.push_str(&esc(p));
        out.push('\n');
    }
    out
}

/// A list of `term` / description pairs.
fn terms(title: &str, items: &[(&str, &str)]) -> String {
    let mut out = format!(".SH {}\n", title);
    for (term, text) in items {
        out.push_str(&format!(".TP\n\\fB{}\\fR\n{}\n", esc(term), esc(text)));
    }
    out
}

fn see_also(pages: &[&str]) -> String {
    let refs: Vec<String> = pages
        .iter()
        .map(|p| {
            let (name, sec) = p.split_once('.').unwrap_or((p, "1"));
            format!("\\fB{}\\fR({})", esc(name), sec)
        })
        .collect();
    format!(".SH SEE ALSO\n{}\n", refs.join(", "))
}

fn supervisord() -> String {
    let mut s = header(
        "supervisord",
        1,
        "run and supervise a set of programs (Supervisor compatible)",
    );
    s.push_str(".SH SYNOPSIS\n.B supervisord\n[\\fIoptions\\fR]\n.br\n.B supervisord ctl\n[\\fIsupervisorctl options\\fR] [\\fIaction\\fR [\\fIarguments\\fR]]\n.br\n.B supervisord service\n\\fBinstall\\fR|\\fBuninstall\\fR|\\fBstart\\fR|\\fBstop\\fR [\\fIservice options\\fR]\n.br\n.B supervisord init\n[\\fB\\-o\\fR \\fIFILENAME\\fR]\n.br\n.B supervisord version\n");
    s.push_str(&section(
        "DESCRIPTION",
        &[
            "supervisord starts the programs its configuration file names, keeps them running, logs their output, and lets supervisorctl, the web page and XML-RPC clients start, stop and query them. It reads the same supervisord.conf, speaks the same XML-RPC API and writes the same activity-log lines as Python Supervisor 4.3.0, from one static binary.",
            "The same binary is supervisorctl, echo_supervisord_conf and pidproxy when called by those names; \"supervisord ctl\" is supervisorctl.",
            "Options given on the command line win over the configuration file, which wins over the defaults.",
        ],
    ));
    s.push_str(&options(super::supervisord::FLAGS));
    s.push_str(&subcommands());
    s.push_str(&terms(
        "SIGNALS",
        &[
            ("SIGTERM, SIGINT, SIGQUIT", "Stop every program (highest priority number first) and exit."),
            ("SIGHUP", "Stop every program, read the configuration file again and start over, in the same process. With sighup = update in [supervisord]: only what supervisorctl update does (reread, then stop and remove removed and changed groups, add changed and added ones); unchanged programs keep running, and a configuration that no longer reads is logged and changes nothing."),
            ("SIGUSR2", "Reopen the activity log and every program log (after logrotate moved them)."),
            ("SIGCHLD", "A child ended; it is reaped, and so are orphans when supervisord is PID 1."),
        ],
    ));
    s.push_str(&terms(
        "REST API",
        &[
            ("GET /program/list", "The Go supervisord's REST API, on every HTTP server behind its basic auth; answers are JSON. This one: every process's info (node, then getProcessInfo's fields), sorted by name. {node} is the host name (or the identifier of [supervisord]); {name} is group:name or a process's bare name."),
            ("GET /program/info/{node}/{name}", "One process's info; 404 for an unknown program."),
            ("POST|PUT /program/start|stop|restart/{node}/{name}", "Start, stop or restart and wait, as startProcess and stopProcess with wait=true; {\"success\":true}, or success false with an error (404 unknown, 409 already started or not running)."),
            ("POST|PUT /program/startPrograms|stopPrograms", "The same for a body [{\"node\":..., \"program\":...}]; 400 for a body that is not such JSON."),
            ("GET /program/log/{node}/{name}/stdout|stderr", "The whole log file as text."),
            ("GET /supervisor/listNodes, GET /supervisor/{node}/ping", "This node with its CPU and memory use; whether {node} is this node."),
            ("POST|PUT /supervisor[/{node}]/shutdown|reload", "As supervisor.shutdown and supervisor.restart."),
        ],
    ));
    s.push_str(&section(
        "FILES",
        &["Without -c, the configuration is searched for as Python Supervisor does: ../etc/supervisord.conf and ../supervisord.conf relative to the executable, then supervisord.conf and etc/supervisord.conf in the current directory, then /etc/supervisord.conf and /etc/supervisor/supervisord.conf."],
    ));
    s.push_str(&section(
        "EXIT STATUS",
        &["0 after a requested shutdown; 2 for a bad command line or configuration (the message names the file, section, key and value)."],
    ));
    s.push_str(&see_also(&[
        "supervisorctl.1",
        "supervisord.conf.5",
        "echo_supervisord_conf.1",
        "pidproxy.1",
    ]));
    s
}

/// The leading words `supervisord` takes instead of running the daemon.
fn subcommands() -> String {
    let mut s = terms(
        "COMMANDS",
        &[
            ("ctl", "The client: \"supervisord ctl ...\" is \"supervisorctl ...\", with the same options and actions."),
            ("version", "Prints the version of supervisord-rs and of the Supervisor it is compatible with."),
            ("init", "Writes the sample configuration (what echo_supervisord_conf prints) to standard output, or to the file given with -o, which must not exist yet. Exits 1 when it cannot write."),
            ("service install|uninstall|start|stop", "install writes a unit named go-supervisord, the Go supervisord's name: a systemd unit in /etc/systemd/system, or an OpenRC script in /etc/init.d where /sbin/openrc-run exists (and systemd is not running). It runs this binary with -n, the configuration file (found as the daemon finds it, and checked) and the --env-file given, all as absolute paths, and is enabled at boot; an existing unit is never replaced. uninstall stops and removes it; start and stop run systemctl or rc-service. Prints \"Succeed to install service go-supervisord\" or \"Failed to install service go-supervisord: why\" (exit 1); without a known action it prints \"usage: supervisord service install/uninstall/start/stop\" and exits 2."),
        ],
    );
    s.push_str(".SS \"service options\"\n");
    s.push_str(&flag_list(super::supervisord::SERVICE_FLAGS));
    s.push_str(".SS \"init options\"\n");
    s.push_str(&flag_list(super::supervisord::INIT_FLAGS));
    s
}

fn supervisorctl() -> String {
    let mut s = header(
        "supervisorctl",
        1,
        "control supervisord from the command line or an interactive shell",
    );
    s.push_str(
        ".SH SYNOPSIS\n.B supervisorctl\n[\\fIoptions\\fR] [\\fIaction\\fR [\\fIarguments\\fR]]\n",
    );
    s.push_str(&section(
        "DESCRIPTION",
        &[
            "supervisorctl talks to supervisord over XML-RPC, on an http:// or unix:// server URL, and prints what Python's supervisorctl 4.3.0 prints, with the same exit codes. Without an action (or with -i) it runs an interactive shell with line editing, history and completion.",
            "The server URL, user name and password come from the options, else from the [supervisorctl] section of the configuration file, else the default http://localhost:9001.",
        ],
    ));
    s.push_str(&options(super::supervisorctl::FLAGS));
    s.push_str(".SH ACTIONS\n");
    for action in crate::ctl::table::documented() {
        if let Some(text) = crate::ctl::table::topic(action.name) {
            s.push_str(&format!(
                ".TP\n\\fB{}\\fR\n.nf\n{}\n.fi\n",
                esc(action.name),
                esc(text.trim_end()).replace('\t', "  ")
            ));
        }
    }
    s.push_str(&section(
        "EXIT STATUS",
        &["0 on success; 1 for a failed action; 2 for a usage error; 3 when status finds a process that is not running; 4 for an unknown process name or a server it cannot reach (as supervisorctl 4.3.0). wait (ours) exits 0 once its processes are RUNNING, 1 on its timeout, a FATAL process or an unknown name; status --json keeps status's codes."],
    ));
    s.push_str(&see_also(&["supervisord.1", "supervisord.conf.5"]));
    s
}

fn echo_supervisord_conf() -> String {
    let mut s = header(
        "echo_supervisord_conf",
        1,
        "print a sample supervisord configuration",
    );
    s.push_str(".SH SYNOPSIS\n.B echo_supervisord_conf\n");
    s.push_str(&section(
        "DESCRIPTION",
        &["Prints a commented sample configuration file on standard output, to start a supervisord.conf from. Arguments are ignored."],
    ));
    s.push_str(&see_also(&["supervisord.1", "supervisord.conf.5"]));
    s
}

fn pidproxy() -> String {
    let mut s = header(
        "pidproxy",
        1,
        "run a program and relay signals to the pid in its pidfile",
    );
    s.push_str(
        ".SH SYNOPSIS\n.B pidproxy\n\\fIpidfile\\fR \\fIcommand\\fR [\\fIargument\\fR ...]\n",
    );
    s.push_str(&section(
        "DESCRIPTION",
        &[
            "For programs that start their real worker in the background and write its pid to a file: run pidproxy under supervisord instead of the program. pidproxy starts the command (by its absolute path, without a PATH search); every SIGTERM, SIGHUP, SIGINT, SIGUSR1, SIGUSR2 or SIGQUIT it receives is sent to the pid read from the pidfile.",
            "pidproxy exits (status 0) after relaying SIGTERM, SIGINT or SIGQUIT, and when the command it started exits. Without enough arguments it prints its usage and exits 1.",
        ],
    ));
    s.push_str(&see_also(&["supervisord.1"]));
    s
}

fn supervisord_conf() -> String {
    let mut s = header(
        "supervisord.conf",
        5,
        "configuration file of supervisord and supervisorctl",
    );
    s.push_str(&section(
        "DESCRIPTION",
        &[
            "The file Python Supervisor 4.3.0 reads, read the same way: INI sections, \"key = value\" or \"key: value\", comments starting with ; or # (inline after whitespace), indented continuation lines, keys case-insensitive. echo_supervisord_conf prints a commented sample.",
            "Values may use %(name)s expansions: %(here)s (the directory of the file), %(host_node_name)s, %(ENV_NAME)s for environment variables, and in program sections %(program_name)s, %(process_num)d, %(group_name)s and %(numprocs)d; %% is a literal percent sign.",
        ],
    ));
    s.push_str(&terms(
        "SECTIONS",
        &[
            ("[supervisord]", "The daemon: logfile, logfile_maxbytes, logfile_backups, loglevel, pidfile, umask, nodaemon, silent, minfds, minprocs, nocleanup, childlogdir, user, directory, strip_ansi, environment, identifier; and sighup (ours: restart, the default and Python's behaviour, or update, see supervisord(1) SIGNALS)."),
            ("[unix_http_server]", "An XML-RPC and web server on a unix socket: file, chmod (default 0700), chown, username, password (clear, or {SHA} and the hex SHA-1 of it)."),
            ("[inet_http_server]", "The same on TCP: port (host:port, *:port or port), username, password."),
            ("[supervisorctl]", "The client's defaults: serverurl, username, password, prompt, history_file."),
            ("[rpcinterface:supervisor]", "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface publishes the supervisor.* methods; it is the only factory built in."),
            ("[program:x]", "A program: command, process_name, numprocs, numprocs_start, priority, autostart, startsecs, startretries, autorestart (true, false, unexpected), exitcodes, stopsignal (an extension: several, separated by commas or blanks, each sent stopwaitsecs after the one before, then SIGKILL), stopwaitsecs, stopasgroup, killasgroup, user (an extension: user:group sets the group too), redirect_stderr, stdout_logfile (a path, AUTO, NONE or syslog), stdout_logfile_maxbytes, stdout_logfile_backups, stdout_capture_maxbytes, stdout_events_enabled, stdout_syslog, the same six for stderr, environment, envfiles (an extension: comma-separated dotenv files whose variables the program gets under its own environment and over [supervisord] environment; relative paths from the directory of the file holding the section), directory, umask, serverurl."),
            ("[program:x] order and timing", "Extensions of the Go supervisord, done stricter: depends_on (program names, group:name or group:*, separated by commas or blanks; a process is spawned only once each is RUNNING, its start starts them first, a FATAL one keeps it STOPPED, and stop all, group stops, shutdown and restart stop it before them; unknown names and cycles are config errors), restartpause (seconds waited in BACKOFF before each automatic restart or retry; never before the first or a manual start), killwaitsecs (seconds after SIGKILL before a process that did not exit is reported as unkillable, once; without it SIGKILL is sent again every stopwaitsecs, as in Python)."),
            ("exit on failure and backoff", "Extensions asked of Supervisor for years. [supervisord] exit_on = fatal and/or unexpected_exit: such a failure of any program stops the others as SIGTERM would and the daemon exits with that program's last exit status (1 when it has none); per program, shutdown_on_fatal = true does the same for that program's FATAL. Per program: backoff = linear (Python's n seconds before the n-th retry) or exponential (backoff_initial, default 0.5, doubled at each retry), backoff_max (default 30) caps both, backoff_reset_after = N makes an exit less than N seconds after RUNNING count as a failed start, startretries = unlimited never gives up. Seconds may have fractions."),
            ("[program:x] restart on change", "Extensions of the Go supervisord, watched with inotify (no polling): restart_when_binary_changed (the command's file, after the PATH lookup, also through links and when replaced by a rename), restart_directory_monitor (a tree, relative to the config file's directory), restart_file_pattern (on file names, default *), and restart_cmd_when_binary_changed, restart_signal_when_binary_changed, restart_cmd_when_file_changed, restart_signal_when_file_changed. A burst of changes gives one action 200 ms after the last: the command if set, else the signals to the process group, else a stop and start."),
            ("[program:x] log targets and syslog", "An extension of the Go supervisord: stdout_logfile and stderr_logfile may list several targets separated by commas (a value without a comma keeps Python's meaning). Every target gets every byte; the first file is the one tail and readProcessStdoutLog read; each file rotates on its own; /dev/stdout and /dev/stderr never rotate; syslog is the local /dev/log, syslog @[udp:|tcp:]host[:port] or syslog @unix:/path a server, one RFC 3164 message per line, with syslog_facility (local0), syslog_tag (the process name), syslog_stdout_priority and syslog_stderr_priority (notice). A slow or dead syslog server never holds up a program."),
            ("[program:x] healthcheck", "An extension: healthcheck = tcp:PORT, tcp:HOST:PORT, http://HOST:PORT/PATH (2xx or 3xx is healthy) or cmd:COMMAND (exit 0), with healthcheck_interval (10), healthcheck_timeout (5), healthcheck_retries (3) and healthcheck_start_period (0), seconds with fractions. After healthcheck_retries failures in a row the program is restarted, the log says why and a PROCESS_HEALTH_FAILED event is sent. GET /ready and GET /live on the HTTP servers answer readiness and liveness probes."),
            ("[program-default]", "An extension of the Go supervisord: keys every [program:x] section takes when it lacks them (before [DEFAULT]), expanded with that program's names. Python ignores the section."),
            ("[group:x]", "programs = a comma-separated list of program sections run as one group; priority."),
            ("[eventlistener:x]", "A pool of event listeners: the program keys plus events (the event types to receive), buffer_size. The listener's stdout carries the READY/RESULT protocol."),
            ("[fcgi-program:x]", "A FastCGI program pool: the program keys plus socket, socket_backlog, socket_owner, socket_mode."),
            ("[include]", "files = globs of further files to read, relative to this file."),
        ],
    ));
    s.push_str(&section(
        "DIFFERENCES FROM PYTHON SUPERVISOR",
        &[
            "loglevel also accepts warning (as warn). Error messages name the file, section, line and key of the bad value. Python plugins (other rpcinterface factories, result handlers, supervisorctl plugins) cannot be loaded and are refused with a clear error.",
        ],
    ));
    s.push_str(&see_also(&["supervisord.1", "supervisorctl.1"]));
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping() {
        assert_eq!(esc(".x"), "\\&.x");
        assert_eq!(esc("a-b\\c"), "a\\-b\\ec");
        assert_eq!(esc("one\n'two"), "one\n\\&'two");
    }

    #[test]
    fn every_flag_is_in_its_page() {
        let page = supervisord();
        let sv = super::super::supervisord::FLAGS.iter();
        let service = super::super::supervisord::SERVICE_FLAGS.iter();
        let init = super::super::supervisord::INIT_FLAGS.iter();
        for f in sv.chain(service).chain(init) {
            if let Some(l) = f.long {
                assert!(page.contains(&esc(l)), "{l}");
            }
        }
    }
}
