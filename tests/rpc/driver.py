#!/usr/bin/env python3
"""XML-RPC scenarios for the differential tests (tests/integration/rpc/differential.rs).

Two modes, run with the reference venv's python (it provides
supervisor.xmlrpc.SupervisorTransport, which speaks http:// and unix://):

  driver.py --config SCENARIO --dir DIR --port PORT [--user U --password P]
      writes DIR/supervisord.conf (and the fixture files the scenario
      needs) for a daemon that serves 127.0.0.1:PORT and DIR/supervisor.sock.

  driver.py SERVERURL SCENARIO --dir DIR [--user U --password P]
      runs the scenario against the daemon and prints one JSON line per
      recorded call: {"call", "args", then "result" or "fault"/"string" or
      "http_error" or "connection_error"}. Values that change from run to
      run are replaced by placeholders, so the output of two daemons on the
      same scenario can be compared line by line.

Calls that only wait for a state (polling) are not recorded. Every wait has
a deadline; a missed deadline is recorded as a {"timeout": ...} line so the
comparison shows where it happened instead of hanging.
"""

import argparse
import http.client
import json
import os
import re
import socket
import sys
import threading
import time
import xmlrpc.client

from supervisor.xmlrpc import SupervisorTransport

CALL_TIMEOUT = 30.0
WAIT = 15.0

# ---------------------------------------------------------------------------
# Configs

HEAD = """\
[supervisord]
logfile=%(here)s/supervisord.log
pidfile=%(here)s/supervisord.pid
childlogdir=%(here)s
identifier=rpctest
loglevel=info

[unix_http_server]
file=%(here)s/supervisor.sock
{auth}
[inet_http_server]
port=127.0.0.1:{port}
{auth}
[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

"""

# A program that reports the signals it gets on stdout and keeps running.
# It stops by itself once supervisord is gone (its parent pid changes), so a
# test killed half-way leaves nothing behind for long.
TRAPPER = (
    "sh -c 'trap \"echo got-HUP\" HUP; trap \"echo got-USR1\" USR1; "
    "trap \"echo got-CONT\" CONT; echo ready; "
    "p=$PPID; while kill -0 $p 2>/dev/null; do sleep 1 & wait; done'"
)


def prog(name, command, **keys):
    keys.setdefault("autostart", "false")
    keys.setdefault("startsecs", "0")
    lines = ["[program:%s]" % name, "command=%s" % command]
    lines += ["%s=%s" % (k, v) for k, v in keys.items()]
    return "\n".join(lines) + "\n\n"


def programs_basic():
    return (
        prog("sleeper", "sleep 300")
        + prog("slow", "sleep 300", startsecs="3")
        + prog("slower", "sleep 300", startsecs="5")
        + prog("trapper", TRAPPER, stopasgroup="true", killasgroup="true")
        + prog("quick", "sh -c 'exit 3'", startsecs="10", startretries="0")
        + prog("late", "sh -c 'sleep 0.5; exit 4'", startsecs="10", startretries="0")
    )


def programs_groups():
    return (
        "[group:grp]\nprograms=alpha,beta\n\n"
        + prog("alpha", TRAPPER, priority="20", stopasgroup="true", killasgroup="true")
        + prog("beta", TRAPPER, priority="10", stopasgroup="true", killasgroup="true")
        + prog(
            "multi",
            "sleep 300",
            numprocs="3",
            process_name="%(program_name)s_%(process_num)02d",
        )
        + prog("Upper", "sleep 300")
        + prog("zeta", "sleep 300", priority="1")
        + prog("auto", "sleep 300", autostart="true")
        + prog("failing", "/nonexistent/bin/prog", priority="5")
    )


def programs_faults():
    return (
        prog("sleeper", "sleep 300")
        + prog("missing", "/nonexistent/bin/prog")
        + prog("missingpath", "no-such-program-anywhere")
        + prog("notexec", "%(here)s/notexec.sh")
        + prog("isdir", "%(here)s")
        + prog("quick", "sh -c 'exit 3'", startsecs="10", startretries="0")
        + prog("quick2", "sh -c 'exit 0'", startsecs="10", startretries="0")
        + prog("late", "sh -c 'sleep 0.3; exit 4'", startsecs="10", startretries="0")
    )


def programs_unparsable():
    return prog("sleeper", "sleep 300") + prog("unparsable", "sh -c 'oops")


def programs_logs():
    return (
        prog("echoer", "sh -c 'echo out-line; echo err-line >&2; exec sleep 300'")
        + prog("cat", "cat")
        + prog("sleeper", "sleep 300")
        + prog("nolog", "sleep 300", stdout_logfile="NONE", stderr_logfile="NONE")
        + prog("explicit", "sleep 300", stdout_logfile="%(here)s/explicit.log")
        + prog(
            "chatty",
            "sh -c 'i=0; while [ $i -lt 200 ]; do echo line-$i; i=$((i+1)); done; exec sleep 300'",
        )
    )


def programs_http():
    """Programs for tests/integration/rpc/http.rs: logs at known paths."""
    return (
        prog("cat", "cat", autostart="true", stdout_logfile="%(here)s/cat.log",
             stderr_logfile="%(here)s/cat.err")
        + prog(
            "echoer",
            "sh -c 'echo out-line; echo err-line >&2; exec sleep 300'",
            autostart="true",
            stdout_logfile="%(here)s/echoer.log",
            stderr_logfile="%(here)s/echoer.err",
        )
        + prog("sleeper", "sleep 300")
        + prog("explicit", "sleep 300", stdout_logfile="%(here)s/explicit.log")
        + prog("nolog", "sleep 300", stdout_logfile="NONE", stderr_logfile="NONE")
    )


def programs_reload():
    return (
        prog("keep", "sleep 300")
        + prog("change", "sleep 300")
        + prog("drop", "sleep 300", autostart="true")
    )


def programs_shutdown():
    return prog("sleeper", "sleep 300", autostart="true") + prog(
        "stubborn",
        "sh -c 'trap \"\" TERM; exec sleep 300'",
        autostart="true",
        stopwaitsecs="2",
    )


CONFIGS = {
    "basics": programs_basic,
    "mainlog": programs_basic,
    "process": programs_basic,
    "faults": programs_faults,
    "unparsable": programs_unparsable,
    "groups": programs_groups,
    "logs": programs_logs,
    "reload": programs_reload,
    "multicall": programs_basic,
    "restart": programs_shutdown,
    "shutdown": programs_shutdown,
    "http": programs_http,
}


def write_config(scenario, d, port, user, password):
    auth = ""
    if user is not None:
        auth = "username=%s\npassword=%s\n" % (user, password)
    text = HEAD.format(port=port, auth=auth) + CONFIGS[scenario]()
    with open(os.path.join(d, "supervisord.conf"), "w") as f:
        f.write(text)
    if scenario == "faults":
        path = os.path.join(d, "notexec.sh")
        with open(path, "w") as f:
            f.write("#!/bin/sh\nexit 0\n")
        os.chmod(path, 0o644)


# ---------------------------------------------------------------------------
# Normalization

TS = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}")
PID_WORD = re.compile(r"\bpid \d+")
UPTIME = re.compile(r"\buptime \d+:\d\d:\d\d")
# "Nov 23 07:02 PM", the description of a stopped or exited process
DATE = re.compile(r"^[A-Z][a-z]{2} \d\d \d\d:\d\d [AP]M$")
AUTOLOG = re.compile(r"(-std(?:out|err)---rpctest-)[^/\s'\"]+?(\.log)")

NOW = time.time()


class Normalizer:
    def __init__(self, d):
        self.dirs = sorted({d, os.path.realpath(d)}, key=len, reverse=True)
        self.daemon_pid = None

    def text(self, s):
        for d in self.dirs:
            s = s.replace(d, "$DIR")
        s = AUTOLOG.sub(r"\1RANDOM\2", s)
        s = TS.sub("TS", s)
        s = PID_WORD.sub("pid PID", s)
        s = UPTIME.sub("uptime UPTIME", s)
        if DATE.match(s):
            s = "DATE"
        return s

    def value(self, v, key=None):
        if isinstance(v, bool):
            return v
        if isinstance(v, int):
            if key in ("start", "stop", "now") and v and abs(v - time.time()) < 86400:
                return "TIME"
            if key == "pid" and v:
                return "PID"
            return v
        if isinstance(v, str):
            return self.text(v)
        if isinstance(v, (list, tuple)):
            return [self.value(x) for x in v]
        if isinstance(v, dict):
            return {k: self.value(x, k) for k, x in v.items()}
        if isinstance(v, xmlrpc.client.Binary):
            return {"base64": self.text(v.data.decode("utf-8", "replace"))}
        return repr(v)


# ---------------------------------------------------------------------------
# The client


class Client:
    def __init__(self, url, d, user, password):
        self.url = url
        self.user = user
        self.password = password
        self.norm = Normalizer(d)
        self.dir = d
        self.proxy = None
        # set while the daemon shuts down or restarts: the comparison
        # accepts a closed connection from ours there
        self.shutting = False
        self.connect()

    def connect(self):
        transport = SupervisorTransport(self.user, self.password, self.url)
        self.proxy = xmlrpc.client.ServerProxy("http://127.0.0.1", transport=transport)

    def raw(self, method, *args):
        """One call; returns ('result', value) or ('fault', (code, text)) or
        ('http_error', code) or ('connection_error', name)."""
        try:
            return "result", getattr(self.proxy, method)(*args)
        except xmlrpc.client.Fault as f:
            return "fault", (f.faultCode, f.faultString)
        except xmlrpc.client.ProtocolError as e:
            return "http_error", e.errcode
        except (OSError, http.client.HTTPException) as e:
            # The transport keeps a broken connection: start a new one.
            self.connect()
            return "connection_error", connection_error_kind(e)

    def call(self, method, *args, show=None, unordered=False, loose=False):
        """Records one call. `unordered`: the result is an array of status
        structs whose order depends on timing in Python itself (deferred
        stops finish in any order), so it is sorted by group and name.
        `loose`: the answer is a Python accident (an HTTP 500, a traceback
        text), recorded for the report; the comparison only requires that
        both daemons answer."""
        kind, value = self.raw(method, *args)
        flags = {}
        if self.shutting:
            flags["during_shutdown"] = True
        if unordered:
            flags["unordered"] = True
            if kind == "result" and isinstance(value, list):
                value = sorted(value, key=lambda r: (r.get("group"), r.get("name")))
        if loose:
            flags["loose"] = True
        answer = {}
        if kind == "result":
            answer["result"] = show(value) if show else self.norm.value(value)
        elif kind == "fault":
            answer["fault"] = value[0]
            answer["string"] = self.norm.text(value[1])
        else:
            answer[kind] = value
        emit_call(method, self.norm.value(list(args)), flags, answer)
        return kind, value

    def note(self, what, ok):
        """Records the outcome of a wait, so a missed deadline shows up."""
        emit({"wait": what, "ok": ok})

    def wait(self, what, cond, timeout=WAIT):
        deadline = time.time() + timeout
        while True:
            try:
                if cond():
                    return True
            except (xmlrpc.client.Error, OSError, http.client.HTTPException):
                self.connect()
            if time.time() >= deadline:
                self.note(what, False)
                return False
            time.sleep(0.05)

    def state(self, name):
        kind, value = self.raw("supervisor.getProcessInfo", name)
        return value["statename"] if kind == "result" else None

    def wait_state(self, name, *states):
        return self.wait(
            "%s in %s" % (name, "/".join(states)), lambda: self.state(name) in states
        )

    def log(self, name, channel="stdout"):
        kind, value = self.raw(
            "supervisor.tailProcess%sLog" % channel.capitalize(), name, 0, 100000
        )
        return value[0] if kind == "result" else ""

    def wait_log(self, name, needle, channel="stdout"):
        return self.wait(
            "%r in %s %s log" % (needle, name, channel),
            lambda: needle in self.log(name, channel),
        )


def connection_error_kind(e):
    if isinstance(e, (ConnectionRefusedError, FileNotFoundError)):
        return "refused"
    return "closed"


def emit_call(method, args, flags, answer):
    """A call line, keys in a fixed order so the comparison can split it:
    {"call": .., "args": .., [flags..,] "answer": {..}}."""
    parts = ['"call": ' + dumps(method), '"args": ' + dumps(args)]
    parts += ['"%s": %s' % (k, dumps(v)) for k, v in sorted(flags.items())]
    parts.append('"answer": ' + dumps(answer))
    sys.stdout.write("{" + ", ".join(parts) + "}\n")
    sys.stdout.flush()


def dumps(v):
    return json.dumps(v, sort_keys=True, ensure_ascii=True)


def emit(line):
    sys.stdout.write(json.dumps(line, sort_keys=True, ensure_ascii=True) + "\n")
    sys.stdout.flush()


def nonempty_string(v):
    return "<non-empty string>" if isinstance(v, str) and v.strip() else v


def same_as(expected, label):
    def show(v):
        return label if v == expected else v

    return show


def daemon_pid(d):
    try:
        with open(os.path.join(d, "supervisord.pid")) as f:
            return int(f.read().strip())
    except (OSError, ValueError):
        return None


# ---------------------------------------------------------------------------
# Scenarios


def scenario_basics(c):
    c.call("supervisor.getAPIVersion")
    c.call("supervisor.getVersion")
    c.call("supervisor.getSupervisorVersion")
    c.call("supervisor.getIdentification")
    c.call("supervisor.getState")
    c.call("supervisor.getPID", show=same_as(daemon_pid(c.dir), "DAEMON_PID"))
    kind, methods = c.call("system.listMethods")
    for m in methods if kind == "result" else []:
        c.call("system.methodHelp", m, show=nonempty_string)
    for m in methods if kind == "result" else []:
        c.call("system.methodSignature", m)
    c.call("system.methodHelp", "supervisor.nope")
    c.call("system.methodHelp", "nope")
    c.call("system.methodSignature", "supervisor.nope")
    c.call("system.methodSignature", "supervisor._update")
    # unknown methods, and the traversal guard (CVE-2017-11610)
    for m in [
        "supervisor.nope",
        "nope",
        "a.b.c",
        "nope.getState",
        "supervisor._update",
        "supervisor._getAllProcesses",
        "supervisor.__init__",
        "supervisor.supervisord.options.execve",
        "system._listMethods",
        "supervisor.",
        ".getState",
        "supervisor.getState.x",
    ]:
        c.call(m)
    # wrong argument counts
    c.call("supervisor.getState", 1)
    c.call("supervisor.getAPIVersion", "x", "y")
    c.call("supervisor.startProcess")
    c.call("supervisor.startProcess", "sleeper", True, "extra")
    c.call("supervisor.readLog", 0)
    c.call("supervisor.getProcessInfo")
    c.call("supervisor.signalProcess", "trapper")
    c.call("system.listMethods", "x")
    c.call("system.methodHelp")
    c.call("system.methodSignature", "a", "b")
    c.call("system.multicall")
    c.call("supervisor.sendRemoteCommEvent", "type")
    # the daemon still answers
    c.call("supervisor.getState")


def scenario_mainlog(c):
    logfile = os.path.join(c.dir, "supervisord.log")
    c.call("supervisor.clearLog")
    c.call("supervisor.readLog", 0, 0)
    c.call("supervisor.startProcess", "sleeper")
    c.wait(
        "main log has the success line",
        lambda: b"success: sleeper" in open(logfile, "rb").read(),
    )
    c.call("supervisor.readLog", 0, 0)
    c.call("supervisor.readMainLog", 0, 0)
    # "2026-11-23 19:02:55,309 " is 24 bytes: offsets past it are stable
    c.call("supervisor.readLog", 24, 13)
    c.call("supervisor.readLog", 24, 0)
    c.call("supervisor.readLog", -11, 0)
    c.call("supervisor.readLog", -11, 5)
    c.call("supervisor.readLog", 0, -1)
    c.call("supervisor.readLog", 5, -5)
    c.call("supervisor.readLog", -100000, 0)
    c.call("supervisor.readLog", 100000, 0)
    c.call("supervisor.readLog", 100000, 10)
    c.call("supervisor.readMainLog", -11, 0)
    c.call("supervisor.clearLog")
    c.call("supervisor.readLog", 0, 0)
    c.call("supervisor.stopProcess", "sleeper")
    c.wait(
        "main log has the stopped line",
        lambda: b"stopped: sleeper" in open(logfile, "rb").read(),
    )
    # (not the whole log: Python logs "waiting for sleeper to stop" only
    # when the stop takes longer than its first check)
    c.call("supervisor.readLog", -24, 0)
    # the file vanishes behind the daemon's back
    os.remove(logfile)
    c.call("supervisor.readLog", 0, 0)
    c.call("supervisor.readMainLog", -10, 0)
    c.call("supervisor.clearLog")
    c.call("supervisor.getState")


def scenario_process(c):
    c.call("supervisor.getProcessInfo", "sleeper")
    c.call("supervisor.startProcess", "sleeper")
    c.call("supervisor.getProcessInfo", "sleeper")
    c.call("supervisor.getProcessInfo", "sleeper:sleeper")
    c.call("supervisor.startProcess", "sleeper")
    c.call("supervisor.startProcess", "sleeper:sleeper")
    c.call("supervisor.startProcess", "nope")
    c.call("supervisor.startProcess", "nope:sleeper")
    c.call("supervisor.startProcess", "sleeper:nope")
    c.call("supervisor.getProcessInfo", "nope")
    c.call("supervisor.getProcessInfo", "sleeper:")
    c.call("supervisor.getProcessInfo", "sleeper:*")
    c.call("supervisor.stopProcess", "sleeper")
    c.call("supervisor.getProcessInfo", "sleeper")
    c.call("supervisor.stopProcess", "sleeper")
    c.call("supervisor.stopProcess", "nope")
    c.call("supervisor.stopProcess", "sleeper:nope")
    # startsecs=1: the answer waits for RUNNING
    c.call("supervisor.startProcess", "slow")
    c.call("supervisor.getProcessInfo", "slow")
    c.call("supervisor.stopProcess", "slow", False)
    c.wait_state("slow", "STOPPED")
    c.call("supervisor.getProcessInfo", "slow")
    # wait=False answers while STARTING
    c.call("supervisor.startProcess", "slow", False)
    c.call("supervisor.getProcessInfo", "slow")
    c.call("supervisor.startProcess", "slow")
    c.wait_state("slow", "RUNNING")
    c.call("supervisor.getProcessInfo", "slow")
    c.call("supervisor.stopProcess", "slow", True)
    c.call("supervisor.getProcessInfo", "slow")
    # stopped by another client while a start waits for RUNNING: the
    # waiting call fails, and the server answered the other client meanwhile
    other = Client(c.url, c.dir, c.user, c.password)
    waiting = {}
    t = threading.Thread(
        target=lambda: waiting.update(r=other.raw("supervisor.startProcess", "slower"))
    )
    t.start()
    c.wait_state("slower", "STARTING")
    c.call("supervisor.stopProcess", "slower")
    t.join(CALL_TIMEOUT)
    kind, value = waiting.get("r", ("timeout", None))
    if kind == "fault":
        answer = {"fault": value[0], "string": value[1]}
    else:
        answer = {kind: value}
    emit_call("supervisor.startProcess", ["slower"], {"concurrent": True}, answer)
    c.call("supervisor.getProcessInfo", "slower")
    # exits at once, long before startsecs, no retries (startsecs is long
    # because Python judges "too quickly" when it reaps, which a busy
    # machine can delay)
    c.call("supervisor.startProcess", "quick")
    c.wait_state("quick", "FATAL")
    c.call("supervisor.getProcessInfo", "quick")
    # wait=False answers before the program fails (it lives 0.5 s)
    c.call("supervisor.startProcess", "late", False)
    c.wait_state("late", "FATAL")
    c.call("supervisor.getProcessInfo", "late")
    c.call("supervisor.stopProcess", "quick")
    # signals
    c.call("supervisor.signalProcess", "trapper", "HUP")
    c.call("supervisor.signalProcess", "trapper", "BOGUS")
    c.call("supervisor.startProcess", "trapper")
    c.wait_log("trapper", "ready\n")
    # one signal at a time: the shell merges pending signals of one kind
    expected = "ready\n"
    for sig, name in [("HUP", "HUP"), ("10", "USR1"), ("sigusr1", "USR1"), ("SIGHUP", "HUP"), (1, "HUP")]:
        c.call("supervisor.signalProcess", "trapper", sig)
        expected += "got-%s\n" % name
        c.wait_log("trapper", expected)
    c.call("supervisor.readProcessStdoutLog", "trapper", 0, 0)
    c.call("supervisor.signalProcess", "trapper", "BOGUS")
    c.call("supervisor.signalProcess", "trapper", "99")
    c.call("supervisor.signalProcess", "trapper", "0")
    c.call("supervisor.signalProcess", "trapper", "-1")
    c.call("supervisor.signalProcess", "trapper", "")
    c.call("supervisor.signalProcess", "nope", "HUP")
    c.call("supervisor.signalProcess", "sleeper", "HUP")
    c.call("supervisor.getProcessInfo", "trapper")
    c.call("supervisor.stopProcess", "trapper")
    c.call("supervisor.getProcessInfo", "trapper")
    c.call("supervisor.getAllProcessInfo")


def scenario_faults(c):
    c.call("supervisor.startProcess", "missing")
    c.call("supervisor.startProcess", "missingpath")
    c.call("supervisor.startProcess", "notexec")
    c.call("supervisor.startProcess", "isdir")
    c.call("supervisor.getProcessInfo", "missing")
    c.call("supervisor.getProcessInfo", "notexec")
    c.call("supervisor.startProcess", "missing", False)
    c.call("supervisor.startProcess", "quick")
    c.wait_state("quick", "FATAL")
    c.call("supervisor.getProcessInfo", "quick")
    c.call("supervisor.startProcess", "quick2")
    c.wait_state("quick2", "FATAL")
    c.call("supervisor.getProcessInfo", "quick2")
    c.call("supervisor.startProcess", "late")
    c.wait_state("late", "FATAL")
    c.call("supervisor.getProcessInfo", "late")
    # all of them at once (faults first, then the waited-for ones as they
    # finish)
    c.call("supervisor.startAllProcesses", unordered=True)
    c.wait_state("quick", "FATAL")
    c.wait_state("quick2", "FATAL")
    c.wait_state("late", "FATAL")
    c.call("supervisor.getAllProcessInfo")
    c.call("supervisor.stopAllProcesses")
    c.call("supervisor.getAllProcessInfo")


def scenario_unparsable(c):
    c.call("supervisor.startProcess", "unparsable")
    c.call("supervisor.getProcessInfo", "unparsable")
    c.call("supervisor.startProcess", "sleeper")
    c.call("supervisor.getAllConfigInfo")


def scenario_groups(c):
    def count(name, needle, n):
        c.wait(
            "%d x %r in %s stdout log" % (n, needle, name),
            lambda: c.log(name).count(needle) >= n,
        )

    grp = ("grp:alpha", "grp:beta")
    c.wait_state("auto", "RUNNING")
    c.call("supervisor.getAllProcessInfo")
    c.call("supervisor.startProcessGroup", "grp")
    c.call("supervisor.startProcessGroup", "grp")
    c.call("supervisor.startProcessGroup", "nope")
    c.call("supervisor.startProcessGroup", "alpha")
    c.call("supervisor.getProcessInfo", "alpha")
    c.call("supervisor.getProcessInfo", "grp:alpha")
    c.call("supervisor.getProcessInfo", "grp")
    for n in grp:
        count(n, "ready", 1)
    c.call("supervisor.signalProcessGroup", "grp", "HUP")
    for n in grp:
        count(n, "got-HUP", 1)
    c.call("supervisor.signalProcessGroup", "grp", "BOGUS")
    c.call("supervisor.signalProcessGroup", "nope", "HUP")
    c.call("supervisor.signalProcess", "grp:*", "USR1")
    for n in grp:
        count(n, "got-USR1", 1)
    c.call("supervisor.signalProcess", "grp:", "HUP")
    for n in grp:
        count(n, "got-HUP", 2)
    c.call("supervisor.signalAllProcesses", "BOGUS")
    c.call("supervisor.signalAllProcesses", "CONT")
    for n in grp:
        count(n, "got-CONT", 1)
    c.call("supervisor.readProcessStdoutLog", "grp:alpha", 0, 0)
    c.call("supervisor.stopProcessGroup", "grp", unordered=True)
    c.call("supervisor.stopProcessGroup", "grp")
    c.call("supervisor.stopProcessGroup", "nope")
    c.call("supervisor.signalProcessGroup", "grp", "HUP")
    c.call("supervisor.signalProcess", "grp:*", "HUP")
    c.call("supervisor.startProcess", "grp:*")
    c.call("supervisor.startProcess", "grp:*")
    for n in grp:
        count(n, "ready", 2)
    c.call("supervisor.stopProcess", "grp:*", unordered=True)
    c.call("supervisor.stopProcess", "grp:")
    c.call("supervisor.startProcess", "grp:", False)
    for n in grp:
        c.wait_state(n, "RUNNING")
        count(n, "ready", 3)
    c.call("supervisor.stopProcess", "grp:*", False)
    for n in grp:
        c.wait_state(n, "STOPPED")
    c.call("supervisor.startProcessGroup", "multi", False)
    for n in ("multi:multi_00", "multi:multi_01", "multi:multi_02"):
        c.wait_state(n, "RUNNING")
    c.call("supervisor.getProcessInfo", "multi:multi_01")
    c.call("supervisor.getProcessInfo", "multi_01")
    c.call("supervisor.stopProcessGroup", "multi", False)
    for n in ("multi:multi_00", "multi:multi_01", "multi:multi_02"):
        c.wait_state(n, "STOPPED")
    # everything, in priority order
    c.call("supervisor.startAllProcesses")
    c.call("supervisor.getAllProcessInfo")
    c.call("supervisor.startAllProcesses")
    for n in grp:
        count(n, "ready", 4)
    c.call("supervisor.signalAllProcesses", "CONT")
    for n in grp:
        count(n, "got-CONT", 2)
    c.call("supervisor.stopAllProcesses", unordered=True)
    c.call("supervisor.getAllProcessInfo")
    c.call("supervisor.stopAllProcesses")
    c.call("supervisor.signalAllProcesses", "HUP")
    c.call("supervisor.startAllProcesses", False)
    c.call("supervisor.stopAllProcesses", False)
    c.wait(
        "all stopped",
        lambda: all(
            p["statename"] in ("STOPPED", "EXITED", "FATAL")
            for p in c.proxy.supervisor.getAllProcessInfo()
        ),
    )
    c.call("supervisor.getAllProcessInfo")
    c.call("supervisor.getAllConfigInfo")


def scenario_logs(c):
    c.call("supervisor.readProcessStdoutLog", "explicit", 0, 0)
    c.call("supervisor.tailProcessStdoutLog", "explicit", 0, 100)
    c.call("supervisor.readProcessStdoutLog", "nolog", 0, 0)
    c.call("supervisor.readProcessStderrLog", "nolog", 0, 0)
    c.call("supervisor.tailProcessStdoutLog", "nolog", 0, 100)
    c.call("supervisor.tailProcessStderrLog", "nolog", 0, 100)
    c.call("supervisor.readProcessStdoutLog", "nope", 0, 0)
    c.call("supervisor.tailProcessStdoutLog", "nope", 0, 100)
    c.call("supervisor.readProcessStdoutLog", "echoer", 0, 0)
    c.call("supervisor.startProcess", "echoer")
    c.wait_log("echoer", "out-line")
    c.wait_log("echoer", "err-line", "stderr")
    c.call("supervisor.readProcessStdoutLog", "echoer", 0, 0)
    c.call("supervisor.readProcessLog", "echoer", 0, 0)
    c.call("supervisor.readProcessStderrLog", "echoer", 0, 0)
    c.call("supervisor.readProcessStdoutLog", "echoer", 2, 3)
    c.call("supervisor.readProcessStdoutLog", "echoer", -4, 0)
    c.call("supervisor.readProcessStdoutLog", "echoer", -4, 2)
    c.call("supervisor.readProcessStdoutLog", "echoer", 0, -1)
    c.call("supervisor.readProcessStdoutLog", "echoer", 100, 0)
    c.call("supervisor.readProcessStdoutLog", "echoer", -100, 0)
    c.call("supervisor.readProcessStderrLog", "echoer", 4, 0)
    c.call("supervisor.readProcessStderrLog", "echoer", -3, 3)
    c.call("supervisor.tailProcessStdoutLog", "echoer", 0, 100)
    c.call("supervisor.tailProcessLog", "echoer", 0, 100)
    c.call("supervisor.tailProcessStdoutLog", "echoer", 0, 3)
    c.call("supervisor.tailProcessStdoutLog", "echoer", 9, 100)
    c.call("supervisor.tailProcessStdoutLog", "echoer", 100, 10)
    c.call("supervisor.tailProcessStdoutLog", "echoer", 5, 0)
    c.call("supervisor.tailProcessStderrLog", "echoer", 0, 4)
    c.call("supervisor.tailProcessStderrLog", "echoer", 4, 100)
    c.call("supervisor.startProcess", "chatty")
    c.wait_log("chatty", "line-199\n")
    c.call("supervisor.tailProcessStdoutLog", "chatty", 0, 20)
    c.call("supervisor.tailProcessStdoutLog", "chatty", 100, 50)
    c.call("supervisor.tailProcessStdoutLog", "chatty", 1000, 50)
    c.call("supervisor.readProcessStdoutLog", "chatty", 1000, 30)
    c.call("supervisor.readProcessStdoutLog", "chatty", -30, 0)
    c.call("supervisor.clearProcessLogs", "echoer")
    c.call("supervisor.readProcessStdoutLog", "echoer", 0, 0)
    c.call("supervisor.readProcessStderrLog", "echoer", 0, 0)
    c.call("supervisor.tailProcessStdoutLog", "echoer", 0, 100)
    c.call("supervisor.clearProcessLog", "chatty")
    c.call("supervisor.readProcessStdoutLog", "chatty", 0, 0)
    c.call("supervisor.clearProcessLogs", "nope")
    c.call("supervisor.clearProcessLogs", "nolog")
    c.call("supervisor.clearProcessLogs", "sleeper")
    # stdin
    c.call("supervisor.sendProcessStdin", "cat", "hello\n")
    c.call("supervisor.startProcess", "cat")
    c.call("supervisor.sendProcessStdin", "cat", "hello\n")
    c.wait_log("cat", "hello\n")
    c.call("supervisor.sendProcessStdin", "cat", "h\u00e9llo \u2713\n")
    c.wait_log("cat", "\u2713\n")
    c.call("supervisor.sendProcessStdin", "cat:cat", "")
    c.call("supervisor.sendProcessStdin", "cat", "no newline")
    c.wait_log("cat", "no newline")
    c.call("supervisor.readProcessStdoutLog", "cat", 0, 0)
    c.call("supervisor.sendProcessStdin", "cat", 42)
    c.call("supervisor.sendProcessStdin", "cat", True)
    c.call("supervisor.sendProcessStdin", "nope", 42)
    c.call("supervisor.sendProcessStdin", "nope", "x")
    c.call("supervisor.sendProcessStdin", "sleeper", "x")
    c.call("supervisor.sendProcessStdin", "cat")
    c.call("supervisor.clearAllProcessLogs")
    c.call("supervisor.readProcessStdoutLog", "cat", 0, 0)
    c.call("supervisor.sendProcessStdin", "cat", "after clear\n")
    c.wait_log("cat", "after clear\n")
    c.call("supervisor.readProcessStdoutLog", "cat", 0, 0)
    c.call("supervisor.stopProcess", "cat")
    c.call("supervisor.sendProcessStdin", "cat", "x")
    # remote communication events (no listener: just accepted)
    c.call("supervisor.sendRemoteCommEvent", "mytype", "some data")
    c.call("supervisor.sendRemoteCommEvent", "t\u00e9", "d\u2713")
    c.call("supervisor.sendRemoteCommEvent", "", "")


def edit_config(d, fn):
    path = os.path.join(d, "supervisord.conf")
    with open(path) as f:
        text = f.read()
    with open(path, "w") as f:
        f.write(fn(text))


def scenario_reload(c):
    c.wait_state("drop", "RUNNING")
    c.call("supervisor.reloadConfig")
    original = open(os.path.join(c.dir, "supervisord.conf")).read()

    def change(text):
        text = text.replace(
            "[program:change]\ncommand=sleep 300", "[program:change]\ncommand=sleep 301"
        )
        text = re.sub(r"\[program:drop\]\n(?:[^\[\n].*\n)*", "", text)
        return text + prog("added", "sleep 300") + prog("added2", "sleep 300", priority="1")

    edit_config(c.dir, change)
    c.call("supervisor.reloadConfig")
    c.call("supervisor.reloadConfig")
    c.call("supervisor.getAllConfigInfo")
    c.call("supervisor.getAllProcessInfo")
    c.call("supervisor.addProcessGroup", "added")
    c.call("supervisor.addProcessGroup", "added")
    c.call("supervisor.addProcessGroup", "nope")
    c.call("supervisor.addProcessGroup", "drop")
    c.call("supervisor.addProcessGroup", "change")
    c.call("supervisor.reloadConfig")
    c.call("supervisor.removeProcessGroup", "drop")
    c.call("supervisor.removeProcessGroup", "nope")
    c.call("supervisor.stopProcess", "drop")
    c.call("supervisor.removeProcessGroup", "drop")
    c.call("supervisor.removeProcessGroup", "drop")
    c.call("supervisor.removeProcessGroup", "change")
    c.call("supervisor.addProcessGroup", "change")
    c.call("supervisor.reloadConfig")
    c.call("supervisor.startProcess", "added")
    c.call("supervisor.removeProcessGroup", "added")
    c.call("supervisor.getAllProcessInfo")
    c.call("supervisor.getAllConfigInfo")
    # broken configs
    edit_config(c.dir, lambda t: t + "[program:broken]\nautostart=false\n")
    c.call("supervisor.reloadConfig")
    edit_config(c.dir, lambda t: t.replace("[program:broken]\nautostart=false\n", ""))
    edit_config(c.dir, lambda t: t + "[program:broken]\ncommand=sleep 1\nstartsecs=abc\n")
    c.call("supervisor.reloadConfig")
    edit_config(c.dir, lambda t: t + "this is not ini\n")
    c.call("supervisor.reloadConfig")
    c.call("supervisor.getState")
    # back to the original file
    edit_config(c.dir, lambda t: original)
    c.call("supervisor.reloadConfig")
    c.call("supervisor.addProcessGroup", "drop")
    c.wait_state("drop", "RUNNING")
    c.call("supervisor.getAllProcessInfo")


def scenario_multicall(c):
    c.call("system.multicall", [])
    c.call(
        "system.multicall",
        [
            {"methodName": "supervisor.getAPIVersion", "params": []},
            {"methodName": "supervisor.getProcessInfo", "params": ["nope"]},
            {"methodName": "supervisor.startProcess", "params": ["slow"]},
            {"methodName": "supervisor.getProcessInfo", "params": ["slow"]},
            {"methodName": "supervisor.startProcess", "params": ["slow"]},
            {"methodName": "supervisor.nope", "params": []},
            {"methodName": "system.multicall", "params": [[]]},
            {"params": []},
            {"methodName": "supervisor.getState"},
            {"methodName": "supervisor.getState", "params": [1, 2]},
            {"methodName": "supervisor.stopProcess", "params": ["slow"]},
            {"methodName": "supervisor.getProcessInfo", "params": ["slow"]},
            {"methodName": "a.b.c", "params": []},
            {"methodName": "supervisor._update", "params": ["x"]},
            {"methodName": "system.listMethods", "params": []},
            {"methodName": "supervisor.startProcess", "params": ["quick"]},
            {"methodName": "supervisor.readLog", "params": [-1, 1]},
        ],
    )
    c.call(
        "system.multicall",
        [
            {"methodName": "supervisor.startProcessGroup", "params": ["sleeper"]},
            {"methodName": "supervisor.stopAllProcesses", "params": []},
            {"methodName": "supervisor.getAllProcessInfo", "params": []},
        ],
    )
    # Python answers these with HTTP 500 or its own exception text
    c.call("system.multicall", "notalist", loose=True)
    c.call("system.multicall", [1, 2], loose=True)
    c.call("system.multicall", [{"methodName": 5}], loose=True)
    c.call("system.methodSignature", "system.multicall")
    c.call("supervisor.getState")


def scenario_restart(c):
    pid = daemon_pid(c.dir)
    c.wait_state("sleeper", "RUNNING")
    c.wait_state("stubborn", "RUNNING")
    c.call("supervisor.restart")
    c.shutting = True
    # while the programs stop (stubborn ignores TERM for stopwaitsecs=2)
    c.call("supervisor.getState")
    c.call("supervisor.getAPIVersion")
    c.call("supervisor.restart")
    c.call("system.listMethods", show=lambda v: "<%d methods>" % len(v))
    c.call("supervisor.sendRemoteCommEvent", "t", "d")
    # back up, same process
    c.wait(
        "daemon RUNNING again",
        lambda: c.proxy.supervisor.getState()["statename"] == "RUNNING",
        timeout=30,
    )
    c.shutting = False
    c.call("supervisor.getState")
    c.call("supervisor.getPID", show=same_as(pid, "SAME_PID"))
    c.wait_state("sleeper", "RUNNING")
    c.call("supervisor.getProcessInfo", "sleeper")


def scenario_shutdown(c):
    c.wait_state("sleeper", "RUNNING")
    c.wait_state("stubborn", "RUNNING")
    c.call("supervisor.shutdown")
    c.shutting = True
    # while the programs stop (stubborn ignores TERM for stopwaitsecs=2)
    c.call("supervisor.getState")
    c.call("supervisor.getAPIVersion")
    c.call("supervisor.getProcessInfo", "sleeper")
    c.call("supervisor.shutdown")
    c.call("system.listMethods", show=lambda v: "<%d methods>" % len(v))
    c.call("supervisor.sendRemoteCommEvent", "t", "d")
    c.call("system.multicall", [{"methodName": "supervisor.getState", "params": []}])

    def gone():
        kind, _ = c.raw("supervisor.getAPIVersion")
        return kind == "connection_error"

    c.wait("daemon gone", gone, timeout=30)
    c.shutting = False
    c.call("supervisor.getState")


SCENARIOS = {
    "basics": scenario_basics,
    "mainlog": scenario_mainlog,
    "process": scenario_process,
    "faults": scenario_faults,
    "unparsable": scenario_unparsable,
    "groups": scenario_groups,
    "logs": scenario_logs,
    "reload": scenario_reload,
    "multicall": scenario_multicall,
    "restart": scenario_restart,
    "shutdown": scenario_shutdown,
}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", action="store_true")
    ap.add_argument("--dir", required=True)
    ap.add_argument("--port", type=int)
    ap.add_argument("--user")
    ap.add_argument("--password")
    ap.add_argument("args", nargs="*")
    a = ap.parse_args()
    socket.setdefaulttimeout(CALL_TIMEOUT)
    if a.config:
        (scenario,) = a.args
        write_config(scenario, a.dir, a.port, a.user, a.password)
        return
    url, scenario = a.args
    c = Client(url, a.dir, a.user, a.password)
    SCENARIOS[scenario](c)


if __name__ == "__main__":
    main()
