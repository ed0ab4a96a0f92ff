//! supervisorctl: transport, the action table, output, interactive shell.
//!
//! `main` reads the command line and `[supervisorctl]`, then runs one
//! action (exit status as supervisorctl 4.3.0 sets it) or the shell (exit
//! status 0). This module is the shell: it parses a line, finds the action
//! in `table`, runs it and handles what it raises, and completes with Tab.
//! Everything users and scripts read goes to stdout exactly as Python
//! prints it; the streams of `tail -f` report their HTTP errors on stderr,
//! as Python's do.

pub mod actions;
pub mod client;
pub mod error;
pub mod fg;
pub mod help;
pub mod http;
pub mod json_out;
pub mod lineedit;
pub mod sigint;
pub mod table;
pub mod wait;

use crate::cli::supervisorctl::{help_text, parse_args, Request};
use crate::config::{self, Environment};
use crate::rpc::xmlrpc::Value;
use client::Client;
use error::{Error, Kind};
use fg::Interrupted;
use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};
use table::{Action, Completes};

/// Python's default server URL when neither `-s` nor the config sets one.
const DEFAULT_URL: &str = "http://localhost:9001";

/// Writes to stdout and flushes; a closed stdout is not worth a panic.
pub fn stdout_write(b: &[u8]) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(b);
    let _ = out.flush();
}

/// The controller: connection, mode and the exit status being built up.
pub struct Ctl {
    pub client: Client,
    /// `-i`, or no action given: confirmations are asked, and a 401 asks
    /// for credentials instead of failing.
    pub interactive: bool,
    pub exitstatus: i32,
    pub prompt: String,
    /// getAllProcessInfo for completion, kept until the next command.
    complete_info: Option<Vec<Value>>,
    /// Set by an action whose stdout is a document (`status --json`):
    /// its messages go to stderr until the command line is done.
    messages_to_stderr: bool,
}

/// Python's `Cmd.parseline`: (command, argument, stripped line). A line
/// starting with `?` is `help`; one starting with `!` has no command.
pub fn parseline(line: &str) -> (Option<String>, String, String) {
    let mut line = line.trim().to_string();
    if line.is_empty() {
        return (None, String::new(), line);
    }
    if let Some(rest) = line.strip_prefix('?') {
        line = format!("help {}", rest);
    } else if line.starts_with('!') {
        return (None, String::new(), line);
    }
    let end = line
        .char_indices()
        .find(|(_, c)| !(c.is_ascii_alphanumeric() || *c == '_'))
        .map(|(i, _)| i)
        .unwrap_or(line.len());
    let cmd = line[..end].to_string();
    let arg = line[end..].trim().to_string();
    (Some(cmd), arg, line)
}

impl Ctl {
    pub fn new(client: Client, interactive: bool, prompt: String) -> Ctl {
        Ctl {
            client,
            interactive,
            exitstatus: actions::exit::SUCCESS,
            prompt,
            complete_info: None,
            messages_to_stderr: false,
        }
    }

    /// One line on stdout (on stderr while an action writes a document
    /// on stdout).
    pub fn output(&self, s: &str) {
        let mut b = Vec::with_capacity(s.len() + 1);
        b.extend_from_slice(s.as_bytes());
        b.push(b'\n');
        if self.messages_to_stderr {
            let mut err = std::io::stderr().lock();
            let _ = err.write_all(&b);
            let _ = err.flush();
        } else {
            stdout_write(&b);
        }
    }

    #[track_caller]
    pub fn call(&mut self, method: &str, params: &[Value]) -> Result<Value, Error> {
        self.client.call(method, params)
    }

    /// Python's `input(prompt)`: the prompt on stdout, one line from stdin.
    pub fn raw_input(&mut self, prompt: &str) -> Result<String, Error> {
        stdout_write(prompt.as_bytes());
        match fg::read_stdin_line() {
            Ok(Some(l)) => Ok(l),
            Ok(None) => Err(Error::new(Kind::Other {
                class: "EOFError",
                msg: "EOF when reading a line".into(),
            })),
            Err(Interrupted) => Err(Error::new(Kind::Interrupted)),
        }
    }

    /// Runs one command line; Ok(true) means leave the shell.
    pub fn onecmd(&mut self, line: &str) -> Result<bool, Interrupted> {
        let result = self.run_line(line);
        self.messages_to_stderr = false;
        result
    }

    fn run_line(&mut self, line: &str) -> Result<bool, Interrupted> {
        let (cmd, arg, line) = parseline(line);
        if line.is_empty() {
            return Ok(false);
        }
        let Some(cmd) = cmd else {
            self.default_line(&line);
            return Ok(false);
        };
        self.complete_info = None;
        let Some(action) = table::find(&cmd) else {
            self.default_line(&line);
            return Ok(false);
        };
        match self.dispatch(action, &arg) {
            Ok(stop) => Ok(stop),
            Err(e) => self.handle_error(e, action, &arg, &line),
        }
    }

    /// Runs an action; Ok(true) means leave the shell.
    fn dispatch(&mut self, action: &Action, arg: &str) -> Result<bool, Error> {
        (action.run)(self, arg)?;
        Ok(action.leaves_shell)
    }

    /// What Python's `onecmd` does with an exception from an action.
    fn handle_error(
        &mut self,
        e: Error,
        action: &Action,
        arg: &str,
        line: &str,
    ) -> Result<bool, Interrupted> {
        match e.kind {
            Kind::Interrupted => Err(Interrupted),
            Kind::Http { status: 401, .. } if self.interactive => {
                self.output("Server requires authentication");
                let username = match self.raw_input("Username:") {
                    Ok(u) => u,
                    Err(e) => return self.report(e),
                };
                let password = match lineedit::getpass("Password:")? {
                    Some(p) => p,
                    None => {
                        let e = Error::new(Kind::Other {
                            class: "EOFError",
                            msg: String::new(),
                        });
                        return self.report(e);
                    }
                };
                self.output("");
                self.client.username = Some(username);
                self.client.password = Some(password);
                self.client.reset();
                self.onecmd(line)
            }
            Kind::Http { status: 401, .. } => {
                // Python reports, then runs the action once more, whose
                // second failure its catch-all handler prints.
                self.output("Server requires authentication");
                self.exitstatus = actions::exit::GENERIC;
                match self.dispatch(action, arg) {
                    Ok(stop) => Ok(stop),
                    Err(e) => self.report(e),
                }
            }
            _ => self.report(e),
        }
    }

    /// Python's catch-all: `error: <class ...>, message: file: F line: N`.
    fn report(&mut self, e: Error) -> Result<bool, Interrupted> {
        if let Kind::Interrupted = e.kind {
            return Err(Interrupted);
        }
        self.output(&e.report());
        self.exitstatus = actions::exit::GENERIC;
        Ok(false)
    }

    /// Completions of `text` (the word before the cursor) in `line`, as
    /// Python's `complete()` makes them, each with a trailing space: action
    /// names for the first word, then what the table says that action's
    /// arguments complete to.
    pub fn complete(&mut self, line: &str, text: &str) -> Vec<String> {
        let words: Vec<&str> = line.split_whitespace().collect();
        let completes = match words.first() {
            Some(action) if words.len() > 1 || line.ends_with(' ') => {
                table::argument_completes(action)
            }
            _ => Completes::Actions,
        };
        let candidates: Vec<String> = match completes {
            Completes::Nothing => return Vec::new(),
            Completes::Actions => table::completed_names().map(str::to_string).collect(),
            Completes::Groups | Completes::Processes => {
                let Some(infos) = self.process_infos() else {
                    return Vec::new();
                };
                if completes == Completes::Groups {
                    group_names(&infos)
                } else {
                    process_names(&infos, text)
                }
            }
        };
        candidates
            .into_iter()
            .filter(|c| c.starts_with(text))
            .map(|c| format!("{} ", c))
            .collect()
    }

    /// getAllProcessInfo, asked once per command line however often Tab
    /// is pressed; None when the server does not answer.
    fn process_infos(&mut self) -> Option<Vec<Value>> {
        if self.complete_info.is_none() {
            let v = self.call("supervisor.getAllProcessInfo", &[]).ok()?;
            self.complete_info = Some(v.as_array().unwrap_or(&[]).to_vec());
        }
        self.complete_info.clone()
    }

    /// The interactive shell: `status` first, then prompt until EOF, `quit`
    /// or Ctrl-C.
    fn cmdloop(&mut self, history_file: Option<PathBuf>) {
        use std::os::fd::AsFd;
        let on_tty = nix::unistd::isatty(std::io::stdin().as_fd()).unwrap_or(false)
            && nix::unistd::isatty(std::io::stdout().as_fd()).unwrap_or(false);
        let mut history = lineedit::History::load(history_file);
        let mut queue = vec!["status".to_string()];
        loop {
            sigint::clear();
            let line = match queue.pop() {
                Some(l) => l,
                None => {
                    let prompt = format!("{}> ", self.prompt);
                    let got = if on_tty {
                        let mut complete = |line: &str, text: &str| self.complete(line, text);
                        lineedit::read_line(&prompt, &history, &mut complete)
                    } else {
                        stdout_write(prompt.as_bytes());
                        fg::read_stdin_line()
                    };
                    match got {
                        Ok(Some(l)) => {
                            if on_tty {
                                history.add(&l);
                            }
                            l
                        }
                        Ok(None) => "EOF".to_string(),
                        Err(Interrupted) => {
                            self.output("");
                            break;
                        }
                    }
                }
            };
            match self.onecmd(&line) {
                Ok(false) => {}
                Ok(true) => break,
                Err(Interrupted) => {
                    self.output("");
                    break;
                }
            }
        }
        history.save();
    }
}

fn info_str<'a>(info: &'a Value, key: &str) -> &'a str {
    info.struct_get(key).and_then(Value::as_str).unwrap_or("")
}

/// Each group once, in the order of the answer.
fn group_names(infos: &[Value]) -> Vec<String> {
    let mut found: Vec<String> = Vec::new();
    for info in infos {
        let group = info_str(info, "group");
        if !found.iter().any(|g| g == group) {
            found.push(group.to_string());
        }
    }
    found
}

/// `name` for a process alone in its group of the same name, unless the
/// word typed has a `:`; else `group:name`, with `group:*` after the
/// group's first process.
fn process_names(infos: &[Value], text: &str) -> Vec<String> {
    let mut found: Vec<String> = Vec::new();
    for info in infos {
        let (group, name) = (info_str(info, "group"), info_str(info, "name"));
        if text.contains(':') || name != group {
            found.push(format!("{}:{}", group, name));
            let all = format!("{}:*", group);
            if !found.contains(&all) {
                found.push(all);
            }
        } else {
            found.push(name.to_string());
        }
    }
    found
}

/// Python's `usage()`: the message, the hint, exit 2.
fn usage_error(progname: &str, msg: &str) -> i32 {
    eprintln!("Error: {}", msg);
    eprintln!("For help, use {} -h", progname);
    2
}

/// Entry point for `supervisorctl` and `supervisord ctl`.
pub fn main(argv0: &str, args: Vec<OsString>) -> i32 {
    let called_as_ctl = Path::new(argv0)
        .file_name()
        .is_some_and(|n| n == "supervisorctl");
    let progname = if called_as_ctl {
        argv0.to_string()
    } else {
        format!("{} ctl", argv0)
    };
    let opts = match parse_args(args) {
        Ok(Request::Help) => {
            stdout_write(help_text(&progname).as_bytes());
            return 0;
        }
        Ok(Request::Run(o)) => o,
        Err(e) => return usage_error(&progname, &e.0),
    };
    let configfile = opts
        .configfile
        .clone()
        .or_else(|| config::search::find(argv0));
    let cfg = match &configfile {
        Some(path) => match config::load_ctl(path, &Environment::current()) {
            Ok(c) => c,
            Err(e) => return usage_error(&progname, &e.message),
        },
        None => Default::default(),
    };
    let url = opts
        .serverurl
        .clone()
        .or(cfg.serverurl)
        .unwrap_or_else(|| DEFAULT_URL.to_string());
    let mut ctl = Ctl::new(
        Client::new(
            url,
            opts.username.clone().or(cfg.username),
            opts.password.clone().or(cfg.password),
        ),
        opts.interactive || opts.args.is_empty(),
        cfg.prompt.unwrap_or_else(|| "supervisor".to_string()),
    );
    sigint::install();
    if !opts.args.is_empty() {
        // Python joins the words back into one command line.
        let line = opts.args.join(" ");
        if ctl.onecmd(&line).is_err() {
            sigint::die();
        }
        return ctl.exitstatus;
    }
    // `-r` wins over the config's history_file (Python reads only the
    // config's, although it documents the flag).
    let history = opts
        .history_file
        .map(|h| config::normalize_path(&h.to_string_lossy()))
        .or(cfg.history_file);
    ctl.cmdloop(history);
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parseline_like_cmd() {
        assert_eq!(
            parseline("  start  foo bar "),
            (
                Some("start".into()),
                "foo bar".into(),
                "start  foo bar".into()
            )
        );
        assert_eq!(
            parseline("?"),
            (Some("help".into()), "".into(), "help ".into())
        );
        assert_eq!(parseline("!ls").0, None);
        assert_eq!(parseline("-x").0, Some(String::new()));
    }
}
