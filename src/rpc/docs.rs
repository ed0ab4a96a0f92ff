//! What `system.listMethods`, `system.methodHelp` and
//! `system.methodSignature` say about the published methods.
//!
//! Supervisor publishes a method's docstring as its help, and computes its
//! signature from the docstring's JavaDoc-like tags (`gettags`): the type of
//! the `@return` tag, then the type of every `@param` tag in order. Clients
//! only ever see those types and the help text, so our docstrings are our
//! own text but carry, tag for tag, the types Supervisor 4.3.0's carry;
//! signatures are computed from them the same way (see [`gettags`]), and a
//! test compares every one with the Python daemon's answers.
//!
//! Aliases (`getVersion`, `readMainLog`, `readProcessLog`, `tailProcessLog`,
//! `clearProcessLog`) have their target's docstring, as in Python, where
//! they are the same function.

pub(super) const GET_API_VERSION: &str = "\
Report which version of the XML-RPC API this supervisord speaks.

@return string version the API version, e.g. 3.0";

pub(super) const GET_SUPERVISOR_VERSION: &str = "\
Report the Supervisor version this supervisord is compatible with.

@return string version the version, e.g. 4.3.0";

pub(super) const GET_IDENTIFICATION: &str = "\
Report the identifier this supervisord was configured with
([supervisord] identifier, \"supervisor\" unless set).

@return string identifier the configured identifier";

pub(super) const GET_STATE: &str = "\
Report what supervisord is doing right now.

@return struct state a struct of int statecode (2 FATAL, 1 RUNNING,
0 RESTARTING, -1 SHUTDOWN) and string statename";

pub(super) const GET_PID: &str = "\
Report the process id of supervisord itself.

@return int pid the process id";

pub(super) const READ_LOG: &str = "\
Read part of supervisord's own log file.

A negative offset with a length of 0 reads that many bytes back from
the end of the log.

@param int offset where to start reading, in bytes
@param int length how many bytes to read at most (0: up to the end)
@return string result the bytes read";

pub(super) const CLEAR_LOG: &str = "\
Empty supervisord's own log file (it is removed, then opened anew).

@return boolean result true, or a fault";

pub(super) const SHUTDOWN: &str = "\
Stop every process, then make supervisord exit.

@return boolean result true, or a fault";

pub(super) const RESTART: &str = "\
Stop every process, reread the configuration and start again, within the
same supervisord process.

@return boolean result true, or a fault";

pub(super) const RELOAD_CONFIG: &str = "\
Reread the configuration file and compare its program groups with the
running ones, without applying any change.

The answer holds three lists of group names: the groups only in the new
configuration, the groups whose configuration differs, and the groups
that are no longer configured.

@return array result [[added, changed, removed]]";

pub(super) const ADD_PROCESS_GROUP: &str = "\
Start managing a group that the configuration file defines (after
reloadConfig reported it added or changed).

@param string name the group to add
@return boolean result true when the group was added";

pub(super) const REMOVE_PROCESS_GROUP: &str = "\
Stop managing a group whose processes are all stopped.

@param string name the group to remove
@return boolean result true when the group was removed";

pub(super) const START_PROCESS: &str = "\
Start one process, or every process of a group with group:*.

@param string name process name, group:name, or group:*
@param boolean wait whether to answer only once the process is running
@return boolean result true, or a fault";

pub(super) const START_PROCESS_GROUP: &str = "\
Start every process of one group.

@param string name the group
@param boolean wait whether to answer only once the processes are running
@return array result one status struct per process (name, group,
status, description)";

pub(super) const START_ALL_PROCESSES: &str = "\
Start every configured process, in priority order.

@param boolean wait whether to answer only once the processes are running
@return array result one status struct per process (name, group,
status, description)";

pub(super) const STOP_PROCESS: &str = "\
Stop one process, or every process of a group with group:*.

@param string name process name, group:name, or group:*
@param boolean wait whether to answer only once the process has exited
@return boolean result true, or a fault";

pub(super) const STOP_PROCESS_GROUP: &str = "\
Stop every process of one group.

@param string name the group
@param boolean wait whether to answer only once the processes have exited
@return array result one status struct per process (name, group,
status, description)";

pub(super) const STOP_ALL_PROCESSES: &str = "\
Stop every process, in reverse priority order.

@param boolean wait whether to answer only once the processes have exited
@return array result one status struct per process (name, group,
status, description)";

pub(super) const SIGNAL_PROCESS: &str = "\
Send a Unix signal to one process, or to every process of a group with
group:*.

@param string name process name, group:name, or group:*
@param string signal the signal, by name (TERM, SIGTERM) or by number (15)
@return boolean result true, or a fault";

pub(super) const SIGNAL_PROCESS_GROUP: &str = "\
Send a Unix signal to every process of one group.

@param string name the group
@param string signal the signal, by name (TERM, SIGTERM) or by number (15)
@return array result one status struct per process (name, group,
status, description)";

pub(super) const SIGNAL_ALL_PROCESSES: &str = "\
Send a Unix signal to every process.

@param string signal the signal, by name (TERM, SIGTERM) or by number (15)
@return array result one status struct per process (name, group,
status, description)";

pub(super) const GET_ALL_CONFIG_INFO: &str = "\
Describe the configuration of every process, one struct per process
(groups are flattened).

@return array result one config struct per process";

pub(super) const GET_PROCESS_INFO: &str = "\
Describe the state of one process.

@param string name process name or group:name
@return struct result name, group, state, statename, pid, start, stop,
now, exitstatus, spawnerr, logfile, stdout_logfile, stderr_logfile,
description";

pub(super) const GET_ALL_PROCESS_INFO: &str = "\
Describe the state of every process, as getProcessInfo does.

@return array result one info struct per process";

pub(super) const READ_PROCESS_STDOUT_LOG: &str = "\
Read part of a process's stdout log file.

@param string name process name or group:name
@param int offset where to start reading, in bytes (negative: from the end)
@param int length how many bytes to read at most (0: up to the end)
@return string result the bytes read";

pub(super) const READ_PROCESS_STDERR_LOG: &str = "\
Read part of a process's stderr log file.

@param string name process name or group:name
@param int offset where to start reading, in bytes (negative: from the end)
@param int length how many bytes to read at most (0: up to the end)
@return string result the bytes read";

pub(super) const TAIL_PROCESS_STDOUT_LOG: &str = "\
Read the newest part of a process's stdout log, for following it.

At most length bytes from offset are returned. When more than that has
been written since offset, the bytes returned are the last length bytes
of the log and overflow is true. The offset returned is where the next
call should start: the current size of the log.

@param string name process name or group:name
@param int offset where the previous call ended
@param int length how many bytes to return at most
@return array result [string bytes, int offset, bool overflow]";

pub(super) const TAIL_PROCESS_STDERR_LOG: &str = "\
Read the newest part of a process's stderr log, for following it.

At most length bytes from offset are returned. When more than that has
been written since offset, the bytes returned are the last length bytes
of the log and overflow is true. The offset returned is where the next
call should start: the current size of the log.

@param string name process name or group:name
@param int offset where the previous call ended
@param int length how many bytes to return at most
@return array result [string bytes, int offset, bool overflow]";

pub(super) const CLEAR_PROCESS_LOGS: &str = "\
Empty a process's stdout and stderr log files (they are removed, then
opened anew).

@param string name process name or group:name
@return boolean result true, or a fault";

pub(super) const CLEAR_ALL_PROCESS_LOGS: &str = "\
Empty the log files of every process.

@return array result one status struct per process (name, group,
status, description)";

pub(super) const SEND_PROCESS_STDIN: &str = "\
Write characters to a running process's standard input. They are sent
encoded as UTF-8. Faults: NOT_RUNNING when the process is not running,
NO_FILE when its stdin is closed, INCORRECT_PARAMETERS when chars is
not a string.

@param string name process name or group:name
@param string chars what to write
@return boolean result true, or a fault";

pub(super) const SEND_REMOTE_COMM_EVENT: &str = "\
Emit a REMOTE_COMMUNICATION event, which event listeners subscribed to
it receive.

@param string type the value of the type header of the event
@param string data the body of the event
@return boolean result true, or a fault";

pub(super) const LIST_METHODS: &str = "\
List the names of every method this server publishes, sorted.

@return array result the method names (strings)";

pub(super) const METHOD_HELP: &str = "\
Show the documentation of one method.

@param string name the method's full name, e.g. supervisor.getState
@return string result its documentation";

pub(super) const METHOD_SIGNATURE: &str = "\
Describe the types of one method as an array: the type of its result
first, then the type of each of its parameters, in order.

@param string name the method's full name, e.g. supervisor.getState
@return array result [return type, parameter type, ...]";

pub(super) const MULTICALL: &str = "\
Run several calls in one request, in order. Each call is a struct
{'methodName': string, 'params': array}; each answer is either a
one-element array holding the call's result or a fault struct
{'faultCode': int, 'faultString': string}.

@param array calls the calls to run
@return array result one answer per call";

/// The signature Supervisor computes from a docstring: the type of the last
/// `@return` tag, then the types of the `@param` tags in order; None without
/// any `@return` tag. Other tags are ignored.
pub fn signature_of(doc: &str) -> Option<Vec<&str>> {
    let mut rtype = None;
    let mut ptypes = Vec::new();
    for t in gettags(doc) {
        match t.tag {
            Some("return") => rtype = t.datatype,
            Some("param") => ptypes.extend(t.datatype),
            _ => {}
        }
    }
    let mut sig = vec![rtype?];
    sig.append(&mut ptypes);
    Some(sig)
}

/// One entry of [`gettags`]' result.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tag<'a> {
    /// 0-based line of the tag in the docstring (0 for the leading text).
    pub lineno: usize,
    /// The word after `@` (`param`, `return`…); None for the text before
    /// the first tag.
    pub tag: Option<&'a str>,
    /// The word after the tag (`""` when absent); None only for the
    /// leading text.
    pub datatype: Option<&'a str>,
    /// The word after the type (`""` when absent); None only for the
    /// leading text.
    pub name: Option<&'a str>,
    /// The rest of the tag's line and the non-blank lines after it up to
    /// the next tag, stripped, joined with `\n`.
    pub text: String,
}

/// Supervisor's `gettags`: splits a docstring into its leading text and its
/// `@tag type name text` entries. The first entry is always the leading text
/// (tag, type and name None). A line is a tag when it starts with `@` once
/// stripped; it splits on whitespace into at most four fields. Blank lines
/// are dropped from the texts.
pub fn gettags(doc: &str) -> Vec<Tag<'_>> {
    let mut tags = Vec::new();
    let mut cur = Tag {
        lineno: 0,
        tag: None,
        datatype: None,
        name: None,
        text: String::new(),
    };
    let mut text: Vec<&str> = Vec::new();
    for (lineno, line) in doc.split('\n').enumerate() {
        let line = line.trim_matches(is_py_space);
        if let Some(rest) = line.strip_prefix('@') {
            cur.text = text.join("\n");
            tags.push(cur);
            let mut fields = split_py(line, 3);
            // The tag name is the first field without its `@`.
            let first = fields.remove(0);
            let tag = &rest[..first.len() - 1];
            let mut fields = fields.into_iter();
            let datatype = fields.next().unwrap_or("");
            let name = fields.next().unwrap_or("");
            text = fields.next().into_iter().collect();
            cur = Tag {
                lineno,
                tag: Some(tag),
                datatype: Some(datatype),
                name: Some(name),
                text: String::new(),
            };
        } else if !line.is_empty() {
            text.push(line);
        }
    }
    cur.text = text.join("\n");
    tags.push(cur);
    tags
}

/// Python's `str.isspace` for one character: Unicode whitespace plus the
/// ASCII separators U+001C..U+001F.
fn is_py_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// Python's `s.split(None, maxsplit)` on an already stripped, non-empty
/// string: at most `maxsplit + 1` fields, the last one the untouched rest.
fn split_py(s: &str, maxsplit: usize) -> Vec<&str> {
    let mut fields = Vec::new();
    let mut rest = s.trim_start_matches(is_py_space);
    while !rest.is_empty() {
        if fields.len() == maxsplit {
            fields.push(rest);
            break;
        }
        let end = rest.find(is_py_space).unwrap_or(rest.len());
        fields.push(&rest[..end]);
        rest = rest[end..].trim_start_matches(is_py_space);
    }
    fields
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rpc::methods::{help, signature, METHODS};

    fn method_names() -> Vec<&'static str> {
        METHODS.iter().map(|m| m.name).collect()
    }

    /// What Supervisor 4.3.0's system.methodSignature answers for every
    /// method (tests/integration/rpc/docs_python.rs checks this against the daemon).
    const PYTHON_SIGNATURES: &[(&str, &[&str])] = &[
        ("supervisor.addProcessGroup", &["boolean", "string"]),
        ("supervisor.clearAllProcessLogs", &["array"]),
        ("supervisor.clearLog", &["boolean"]),
        ("supervisor.clearProcessLog", &["boolean", "string"]),
        ("supervisor.clearProcessLogs", &["boolean", "string"]),
        ("supervisor.getAPIVersion", &["string"]),
        ("supervisor.getAllConfigInfo", &["array"]),
        ("supervisor.getAllProcessInfo", &["array"]),
        ("supervisor.getIdentification", &["string"]),
        ("supervisor.getPID", &["int"]),
        ("supervisor.getProcessInfo", &["struct", "string"]),
        ("supervisor.getState", &["struct"]),
        ("supervisor.getSupervisorVersion", &["string"]),
        ("supervisor.getVersion", &["string"]),
        ("supervisor.readLog", &["string", "int", "int"]),
        ("supervisor.readMainLog", &["string", "int", "int"]),
        (
            "supervisor.readProcessLog",
            &["string", "string", "int", "int"],
        ),
        (
            "supervisor.readProcessStderrLog",
            &["string", "string", "int", "int"],
        ),
        (
            "supervisor.readProcessStdoutLog",
            &["string", "string", "int", "int"],
        ),
        ("supervisor.reloadConfig", &["array"]),
        ("supervisor.removeProcessGroup", &["boolean", "string"]),
        ("supervisor.restart", &["boolean"]),
        (
            "supervisor.sendProcessStdin",
            &["boolean", "string", "string"],
        ),
        (
            "supervisor.sendRemoteCommEvent",
            &["boolean", "string", "string"],
        ),
        ("supervisor.shutdown", &["boolean"]),
        ("supervisor.signalAllProcesses", &["array", "string"]),
        ("supervisor.signalProcess", &["boolean", "string", "string"]),
        (
            "supervisor.signalProcessGroup",
            &["array", "string", "string"],
        ),
        ("supervisor.startAllProcesses", &["array", "boolean"]),
        ("supervisor.startProcess", &["boolean", "string", "boolean"]),
        (
            "supervisor.startProcessGroup",
            &["array", "string", "boolean"],
        ),
        ("supervisor.stopAllProcesses", &["array", "boolean"]),
        ("supervisor.stopProcess", &["boolean", "string", "boolean"]),
        (
            "supervisor.stopProcessGroup",
            &["array", "string", "boolean"],
        ),
        (
            "supervisor.tailProcessLog",
            &["array", "string", "int", "int"],
        ),
        (
            "supervisor.tailProcessStderrLog",
            &["array", "string", "int", "int"],
        ),
        (
            "supervisor.tailProcessStdoutLog",
            &["array", "string", "int", "int"],
        ),
        ("system.listMethods", &["array"]),
        ("system.methodHelp", &["string", "string"]),
        ("system.methodSignature", &["array", "string"]),
        ("system.multicall", &["array", "array"]),
    ];

    #[test]
    fn names_are_sorted_bytewise_and_unique() {
        let names = method_names();
        assert_eq!(names.len(), 41);
        assert!(names.windows(2).all(|w| w[0].as_bytes() < w[1].as_bytes()));
        // Byte order: upper case before lower case.
        let api = names.iter().position(|n| *n == "supervisor.getAPIVersion");
        let all = names
            .iter()
            .position(|n| *n == "supervisor.getAllConfigInfo");
        assert!(api < all);
    }

    #[test]
    fn signatures_match_python() {
        let names: Vec<&str> = PYTHON_SIGNATURES.iter().map(|(n, _)| *n).collect();
        assert_eq!(method_names(), names);
        for (name, sig) in PYTHON_SIGNATURES {
            assert_eq!(signature(name).as_deref(), Some(*sig), "{name}");
        }
    }

    #[test]
    fn aliases_share_their_targets_doc() {
        for (alias, target) in [
            ("getVersion", "getAPIVersion"),
            ("readMainLog", "readLog"),
            ("readProcessLog", "readProcessStdoutLog"),
            ("tailProcessLog", "tailProcessStdoutLog"),
            ("clearProcessLog", "clearProcessLogs"),
        ] {
            let a = help(&format!("supervisor.{alias}")).unwrap();
            let t = help(&format!("supervisor.{target}")).unwrap();
            assert!(std::ptr::eq(a, t), "{alias}");
        }
    }

    #[test]
    fn unknown_names() {
        assert_eq!(help("supervisor.nope"), None);
        assert_eq!(signature("supervisor.nope"), None);
        assert_eq!(help("getState"), None);
        assert_eq!(help("supervisor.getstate"), None);
        assert_eq!(help(""), None);
    }

    #[test]
    fn every_doc_has_a_summary_and_one_return() {
        for m in METHODS {
            let (name, tags) = (m.name, gettags(m.doc));
            assert!(!tags[0].text.is_empty(), "{name}: no summary");
            let returns = tags.iter().filter(|t| t.tag == Some("return")).count();
            assert_eq!(returns, 1, "{name}");
            for t in &tags[1..] {
                assert!(!t.name.unwrap().is_empty(), "{name}: unnamed tag");
                assert!(!t.text.is_empty(), "{name}: tag without text");
            }
        }
    }

    fn tag<'a>(
        lineno: usize,
        tag: Option<&'a str>,
        datatype: Option<&'a str>,
        name: Option<&'a str>,
        text: &str,
    ) -> Tag<'a> {
        Tag {
            lineno,
            tag,
            datatype,
            name,
            text: text.to_string(),
        }
    }

    #[test]
    fn gettags_like_python() {
        // Expected values are what Python's gettags returns for these inputs.
        let doc = " Summary line\n\n        more text\n        @param int  offset   where\n          it starts\n\n        @return string result  the bytes\n        ";
        assert_eq!(
            gettags(doc),
            vec![
                tag(0, None, None, None, "Summary line\nmore text"),
                tag(
                    3,
                    Some("param"),
                    Some("int"),
                    Some("offset"),
                    "where\nit starts"
                ),
                tag(
                    6,
                    Some("return"),
                    Some("string"),
                    Some("result"),
                    "the bytes"
                ),
            ]
        );
        // Short tags: one, two, three fields.
        assert_eq!(
            gettags("@\n@return\n@return boolean\n@param a b\nx"),
            vec![
                tag(0, None, None, None, ""),
                tag(0, Some(""), Some(""), Some(""), ""),
                tag(1, Some("return"), Some(""), Some(""), ""),
                tag(2, Some("return"), Some("boolean"), Some(""), ""),
                tag(3, Some("param"), Some("a"), Some("b"), "x"),
            ]
        );
        // The fourth field keeps its inner spacing.
        assert_eq!(
            gettags("@param\tstring  name   two  words ")[1],
            tag(0, Some("param"), Some("string"), Some("name"), "two  words")
        );
        // No tags at all.
        assert_eq!(gettags(""), vec![tag(0, None, None, None, "")]);
    }

    #[test]
    fn signature_rules_like_python() {
        // No @return: unsupported, even with params.
        assert_eq!(signature_of("text\n@param int x"), None);
        // A bare @return gives an empty type, not None.
        assert_eq!(signature_of("@return"), Some(vec![""]));
        // The last @return wins; params keep their order wherever they are.
        assert_eq!(
            signature_of("@param int a\n@return string r\n@param bool b\n@return array r"),
            Some(vec!["array", "int", "bool"])
        );
        // Other tags and lookalikes are ignored.
        assert_eq!(
            signature_of("@returns int x\n@see foo\n @return  struct s"),
            Some(vec!["struct"])
        );
    }
}
