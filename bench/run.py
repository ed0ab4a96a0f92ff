#!/usr/bin/env python3
"""Benchmark harness: supervisord-rs vs Python Supervisor 4.3.0.

Usage (from the repo root):  python3 bench/run.py [--quick]

Expects the static binary target/x86_64-unknown-linux-musl/release/supervisord
(`make static`; it is what containers run; the environment variable
BENCH_OURS=/path/to/supervisord overrides it) and
target/pyref/bin/supervisord.  Builds nothing.  Stdlib only.

Metrics, per implementation, rounds alternating ours/python:
  * startup time: exec of the daemon -> N programs RUNNING (N "success: "
    lines in the activity log), N = 1, 100 (and 1000 without --quick)
  * idle RSS / PSS of the daemon (/proc/<pid>/smaps_rollup) once all RUNNING
  * idle cost with N=100 over a window: CPU seconds (utime+stime) and
    wake-ups (sum of voluntary_ctxt_switches over all threads)
  * XML-RPC load with N=100 (after the idle window, before the shutdown):
    the N=100 config has an [inet_http_server] on a free 127.0.0.1 port, a
    [unix_http_server] in the temp dir and the standard [rpcinterface:supervisor]
    (so the N=100 start-up, memory and idle figures include the HTTP servers).
    bench/rpcload.py drives supervisor.getState and
    supervisor.getAllProcessInfo with 1 and 8 clients (each a process with
    its own keep-alive connection), over TCP and the unix socket (--quick:
    TCP only, 3 s a run; full: 5 s), after a 0.5 s warm-up: requests/s,
    p50/p99 latency, the daemon's CPU per request, and the CPU the daemon
    and the load generator used in the window.  Any error or non-200 reply
    is reported in the notes and counted in the "rpc errors" row.
  * stopAllProcesses with N=100 (after the RPC load): the call (wait=true)
    until it returns; startAllProcesses then brings the programs back
  * shutdown time: SIGTERM -> daemon exit (for N=100 right after the RPC
    load and the stop/start, which slows Python's by ~0.5 s or more)
  * restart latency: kill -9 of a RUNNING program (autorestart=true,
    startsecs=0) -> its new pid RUNNING, from the activity log: to the
    log line's own timestamp and to when this harness read the line (it
    reads the log, it does not poll the daemon, which would wake Python's
    loop); each new pid is checked RUNNING with getProcessInfo
  * restarts/s of command=/bin/true (autorestart=true, startsecs=0):
    "spawned:" lines in the activity log over a window, the daemon's CPU per
    restart, next to this machine's sequential posix_spawn+waitpid rate
  * log throughput: /bin/cat of a 140 MiB file as a program's stdout into a
    rotating stdout_logfile (maxbytes=50MB, backups=2): MB/s until the log
    and its backups hold every byte (then checked byte for byte, sha1),
    daemon CPU per GB, next to `cat FILE | cat > file` measured just before
  * 50 children writing 200 numbered lines/s each (bench/linegen.py):
    lines lost / out of order in their logs, daemon CPU
  * footprint: our static binary vs the supervisor package and the Python
    runtime it needs (lib/pythonX.Y without site-packages, the
    interpreter, libpython)

Each scenario runs ours and Python's back to back, the order swapped every
round.  --only WORD[,WORD]: only the scenarios whose label is, or has
among its words, one of these (labels: N=1, N=100, N=1000, restart
latency, restart rate, log throughput, 50 writers; e.g. --only
N=1,restart,log).  --quick: one round, smaller windows (under 3 minutes).
"""
import hashlib
import http.client
import os
import random
import re
import select
import socket
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
import xmlrpc.client

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OURS = os.environ.get("BENCH_OURS") or os.path.join(
    REPO, "target", "x86_64-unknown-linux-musl", "release", "supervisord")
PYREF = os.path.join(REPO, "target", "pyref", "bin", "supervisord")
# bench/instant_server.rs, built by `make bench`: the load generator's own
# limit (a server that answers at once); rows skipped when it is missing.
INSTANT = os.path.join(REPO, "target", "bench", "instant_server")
OUT = os.path.join(REPO, "bench", "last-run.txt")

STARTUP_TIMEOUT = 120.0
SHUTDOWN_TIMEOUT = 60.0
TAG_VAR = "SUPERVISORD_BENCH_TAG"
TAG = uuid.uuid4().hex
CLK_TCK = os.sysconf("SC_CLK_TCK")
SLEEP_CMD = "/bin/sleep 100000"
RPC_N = 100  # the config size that gets the HTTP servers and the RPC load
RPC_METHODS = ("getState", "getAllProcessInfo")
RPC_CLIENTS = (1, 8)
RPC_WARMUP = 0.5

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.dont_write_bytecode = True  # no bench/__pycache__ in the work tree
import rpcload  # noqa: E402  (bench/rpcload.py)

notes = []  # free-form observations printed after the table


def note(msg):
    notes.append(msg)
    print("  note: " + msg, flush=True)


# ---------------------------------------------------------------- /proc helpers

def read(path, mode="r"):
    with open(path, mode) as f:
        return f.read()


def smaps_rollup(pid):
    out = {}
    for line in read("/proc/%d/smaps_rollup" % pid).splitlines():
        parts = line.split()
        if len(parts) >= 3 and parts[0] in ("Rss:", "Pss:"):
            out[parts[0][:-1]] = int(parts[1])  # kB
    return out


def cpu_ticks(pid):
    s = read("/proc/%d/stat" % pid)
    fields = s[s.rindex(")") + 2:].split()
    # fields[0] is field 3 (state); utime = field 14, stime = field 15
    return int(fields[11]) + int(fields[12])


def thread_stats(pid):
    """{tid: (comm, voluntary, nonvoluntary, utime+stime ticks)}"""
    res = {}
    base = "/proc/%d/task" % pid
    for tid in os.listdir(base):
        try:
            st = read("%s/%s/status" % (base, tid))
            stat = read("%s/%s/stat" % (base, tid))
        except OSError:
            continue
        vol = nvol = 0
        comm = "?"
        for line in st.splitlines():
            if line.startswith("voluntary_ctxt_switches:"):
                vol = int(line.split()[1])
            elif line.startswith("nonvoluntary_ctxt_switches:"):
                nvol = int(line.split()[1])
            elif line.startswith("Name:"):
                comm = line.split(None, 1)[1] if len(line.split()) > 1 else ""
        f = stat[stat.rindex(")") + 2:].split()
        res[int(tid)] = (comm, vol, nvol, int(f[11]) + int(f[12]))
    return res


def alive(pid):
    """True if pid exists and is not a zombie."""
    try:
        s = read("/proc/%d/stat" % pid)
    except OSError:
        return False
    return s[s.rindex(")") + 2] != "Z"


def tagged_pids():
    """Pids of processes carrying our environment tag (daemons + children)."""
    needle = ("%s=%s" % (TAG_VAR, TAG)).encode()
    me = os.getpid()
    pids = []
    for d in os.listdir("/proc"):
        if not d.isdigit() or int(d) == me:
            continue
        try:
            env = read("/proc/%s/environ" % d, "rb")
        except OSError:
            continue
        if needle in env.split(b"\0"):
            pids.append(int(d))
    return pids


def sleep_pids():
    pids = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            cmd = read("/proc/%s/cmdline" % d, "rb")
        except OSError:
            continue
        if cmd.split(b"\0")[:2] == [b"/bin/sleep", b"100000"] or \
                cmd.split(b"\0")[:2] == [b"sleep", b"100000"]:
            pids.append(int(d))
    return pids


# ---------------------------------------------------------------- daemon runs

def free_port():
    """A 127.0.0.1 port nobody listens on right now."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
    finally:
        s.close()


def write_config(tmp, n, http=None, programs=None):
    """http: None, or (tcp_port, unix_socket_path) for the HTTP servers.
    programs: None for n programs running SLEEP_CMD without logs, or a list
    of (name, {option: value}) for the [program:name] sections."""
    lines = [
        "[supervisord]",
        "nodaemon=true",
        "silent=true",
        "logfile=%s/supervisord.log" % tmp,
        "pidfile=%s/supervisord.pid" % tmp,
        "childlogdir=%s" % tmp,
        "loglevel=info",
        "",
    ]
    if http:
        lines += [
            "[inet_http_server]",
            "port=127.0.0.1:%d" % http[0],
            "",
            "[unix_http_server]",
            "file=%s" % http[1],
            "",
            "[rpcinterface:supervisor]",
            "supervisor.rpcinterface_factory = "
            "supervisor.rpcinterface:make_main_rpcinterface",
            "",
        ]
    if programs is None:
        programs = [("p%04d" % i, {"command": SLEEP_CMD, "startsecs": "0",
                                   "stdout_logfile": "NONE",
                                   "stderr_logfile": "NONE"})
                    for i in range(n)]
    for name, opts in programs:
        lines.append("[program:%s]" % name)
        lines += ["%s=%s" % kv for kv in opts.items()]
        lines.append("")
    path = os.path.join(tmp, "supervisord.conf")
    with open(path, "w") as f:
        f.write("\n".join(lines))
    return path


class Daemon:
    def __init__(self, exe, n, http=False, programs=None):
        """n: how many "success: " lines wait_running() waits for."""
        self.exe = exe
        self.n = n
        self.tmp = tempfile.mkdtemp(prefix="svbench-")
        self.http = None
        if http:
            self.http = (free_port(), os.path.join(self.tmp, "supervisor.sock"))
        if callable(programs):
            programs = programs(self.tmp)
        self.conf = write_config(self.tmp, n, self.http, programs)
        self.log = os.path.join(self.tmp, "supervisord.log")
        self.proc = None
        self.pidfd = None

    def start(self):
        env = dict(os.environ)
        env[TAG_VAR] = TAG
        t0 = time.monotonic()
        self.proc = subprocess.Popen(
            [self.exe, "-c", self.conf], cwd=self.tmp, env=env,
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, start_new_session=True)
        self.t0 = t0
        try:
            self.pidfd = os.pidfd_open(self.proc.pid)
        except (AttributeError, OSError):
            self.pidfd = None
        return t0

    def wait_running(self):
        """Seconds from exec to N 'success: ' lines in the activity log."""
        count = 0
        pos = 0
        carry = b""
        deadline = self.t0 + STARTUP_TIMEOUT
        while True:
            try:
                with open(self.log, "rb") as f:
                    f.seek(pos)
                    data = f.read()
            except FileNotFoundError:
                data = b""
            now = time.monotonic()
            if data:
                pos += len(data)
                buf = carry + data
                cut = buf.rfind(b"\n") + 1
                count += buf[:cut].count(b"success: ")
                carry = buf[cut:]
                if count >= self.n:
                    return now - self.t0
            if self.proc.poll() is not None:
                raise RuntimeError("%s exited early (rc=%s) after %d/%d RUNNING"
                                   % (self.exe, self.proc.returncode, count, self.n))
            if now > deadline:
                raise RuntimeError("%s: only %d/%d RUNNING after %.0fs"
                                   % (self.exe, count, self.n, STARTUP_TIMEOUT))
            time.sleep(0.002)

    def children(self):
        pid = self.proc.pid
        kids = []
        for d in os.listdir("/proc"):
            if not d.isdigit():
                continue
            try:
                s = read("/proc/%s/stat" % d)
            except OSError:
                continue
            if int(s[s.rindex(")") + 2:].split()[1]) == pid:
                kids.append(int(d))
        return kids

    def sigterm_and_wait(self):
        """Seconds from SIGTERM to daemon exit."""
        t0 = time.monotonic()
        os.kill(self.proc.pid, signal.SIGTERM)
        if self.pidfd is not None:
            r, _, _ = select.select([self.pidfd], [], [], SHUTDOWN_TIMEOUT)
            t1 = time.monotonic()
            if not r:
                raise RuntimeError("%s did not exit within %.0fs of SIGTERM"
                                   % (self.exe, SHUTDOWN_TIMEOUT))
            self.proc.wait()
            return t1 - t0
        while self.proc.poll() is None:
            if time.monotonic() - t0 > SHUTDOWN_TIMEOUT:
                raise RuntimeError("%s did not exit within %.0fs of SIGTERM"
                                   % (self.exe, SHUTDOWN_TIMEOUT))
            time.sleep(0.001)
        return time.monotonic() - t0

    def cleanup(self):
        if self.proc is not None:
            kids = []
            if self.proc.poll() is None:
                kids = self.children()
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            for k in kids:  # children may have their own process groups
                try:
                    os.killpg(k, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
                try:
                    os.kill(k, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
            # SIGKILL is asynchronous: wait (bounded) for the children to go
            deadline = time.monotonic() + 2
            while kids and time.monotonic() < deadline:
                kids = [k for k in kids if alive(k)]
                time.sleep(0.01)
        if self.pidfd is not None:
            os.close(self.pidfd)
            self.pidfd = None
        shutil.rmtree(self.tmp, ignore_errors=True)


def kill_tagged():
    left = [p for p in tagged_pids() if alive(p)]
    for p in left:
        try:
            os.kill(p, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    return left


# ---------------------------------------------------------------- RPC load

def rpc_label(method, clients, transport):
    return "%s c=%d %s" % (method, clients, transport)


def instant_label(clients, transport):
    return "  instant server, same load c=%d %s (req/s)" % (clients, transport)


class InstantServer:
    """bench/instant_server: answers every call at once (see INSTANT)."""

    def __init__(self, workdir):
        self.proc = None
        if not os.access(INSTANT, os.X_OK):
            note("%s missing (`make bench` builds it): no instant-server rows"
                 % os.path.relpath(INSTANT, REPO))
            return
        self.port = free_port()
        self.path = os.path.join(workdir, "instant.sock")
        self.proc = subprocess.Popen(
            [INSTANT, "--tcp", str(self.port), "--unix", self.path],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while not os.path.exists(self.path) and time.monotonic() < deadline:
            time.sleep(0.01)

    def target(self, transport):
        if transport == "tcp":
            return ("tcp", ("127.0.0.1", self.port))
        return ("unix", self.path)

    def stop(self):
        if self.proc:
            self.proc.kill()
            self.proc.wait()


INSTANT_SERVER = None  # set by main()


def rpc_load(name, d, results, cpu_results, transports, duration):
    """Every method x clients x transport against the running daemon d."""
    pid = d.proc.pid
    tcp = ("tcp", ("127.0.0.1", d.http[0]))
    unix = ("unix", d.http[1])
    errors = 0
    for transport in transports:
        target = tcp if transport == "tcp" else unix
        for method in RPC_METHODS:
            for c in RPC_CLIENTS:
                label = rpc_label(method, c, transport)
                r = rpcload.run(target, "supervisor." + method, c, duration,
                                RPC_WARMUP, probe=lambda: cpu_ticks(pid))
                if d.proc.poll() is not None:
                    raise RuntimeError("%s exited (rc=%s) during the RPC load %s"
                                       % (d.exe, d.proc.returncode, label))
                p0, p1 = r["probe"]
                dcpu = (p1 - p0) / CLK_TCK
                errors += r["errors"]
                print("  %s %s: %.0f req/s, p50 %.3f ms, p99 %.3f ms, max %.1f ms;"
                      " CPU daemon %.2f, loadgen %.2f (CPUs)%s" % (
                          name, label, r["rps"], r["p50_ms"], r["p99_ms"],
                          r["max_ms"], dcpu / duration, r["client_cpu_share"],
                          "; %d ERRORS" % r["errors"] if r["errors"] else ""),
                      flush=True)
                if r["chunked"]:
                    note("%s %s: %d of %d replies in Transfer-Encoding: chunked"
                         " (decoded and counted; Python always sends Content-Length)"
                         % (name, label, r["chunked"], r["requests"]))
                if r["errors"] or r["reconnects"]:
                    note("%s %s: %d errors %s, %d reconnects (Connection: close)%s" % (
                        name, label, r["errors"], r["error_kinds"], r["reconnects"],
                        "".join("; " + x.replace("\n", " ")[:200]
                                for x in r["fatal"] + r["error_samples"][:2])))
                if r["requests"] == 0:
                    continue
                busy = dcpu / duration + r["client_cpu_share"]
                if c == 1 and busy < 0.5:
                    note("%s %s: the daemon (%.2f CPUs) and the load generator (%.2f)"
                         " are mostly idle; %.1f ms a request on average (p50 %.1f,"
                         " p99 %.1f) against %.2f ms of daemon CPU: the time goes in"
                         " waiting%s" % (
                             name, label, dcpu / duration, r["client_cpu_share"],
                             1e3 / r["rps"], r["p50_ms"], r["p99_ms"],
                             dcpu / r["requests"] * 1e3,
                             " (~40 ms stalls on TCP: Nagle holds the tail of the reply"
                             " until the client's delayed ACK; the daemon does not set"
                             " TCP_NODELAY)" if transport == "tcp" and r["p99_ms"] > 30
                             else ""))
                results.setdefault(label + " (req/s)", []).append(r["rps"])
                if method == "getState" and INSTANT_SERVER and INSTANT_SERVER.proc:
                    f = rpcload.run(INSTANT_SERVER.target(transport), "supervisor.getState",
                                    c, duration, RPC_WARMUP)
                    results.setdefault(instant_label(c, transport), []).append(f["rps"])
                results.setdefault(label + " p50 (ms)", []).append(r["p50_ms"])
                results.setdefault(label + " p99 (ms)", []).append(r["p99_ms"])
                results.setdefault(label + " daemon CPU/req (us)", []).append(
                    dcpu / r["requests"] * 1e6)
                cpu_results.setdefault(label + " daemon (CPUs)", []).append(
                    dcpu / duration)
                cpu_results.setdefault(label + " loadgen (CPUs)", []).append(
                    r["client_cpu_share"])
    results.setdefault("rpc errors+non-200 (all runs)", []).append(errors)
    th = thread_stats(pid)
    print("  %s after the RPC load: %d threads, RSS %.1f MiB" % (
        name, len(th), smaps_rollup(pid)["Rss"] / 1024), flush=True)


# ---------------------------------------------------------------- XML-RPC client

class _UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout=30):
        http.client.HTTPConnection.__init__(self, "localhost", timeout=timeout)
        self.unix_path = path

    def connect(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(self.timeout)
        s.connect(self.unix_path)
        self.sock = s


class _UnixTransport(xmlrpc.client.Transport):
    def __init__(self, path):
        xmlrpc.client.Transport.__init__(self)
        self.unix_path = path

    def make_connection(self, host):
        if self._connection and host == self._connection[0]:
            return self._connection[1]
        self._connection = host, _UnixHTTPConnection(self.unix_path)
        return self._connection[1]


def rpc_proxy(d):
    """A ServerProxy on the daemon's unix socket (keep-alive connection)."""
    return xmlrpc.client.ServerProxy("http://localhost",
                                     transport=_UnixTransport(d.http[1]))


def wait_rpc(d, timeout=STARTUP_TIMEOUT):
    """Waits until supervisor.getState answers RUNNING on the unix socket."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if rpc_proxy(d).supervisor.getState().get("statename") == "RUNNING":
                return
        except (OSError, xmlrpc.client.Error, http.client.HTTPException):
            pass
        if d.proc.poll() is not None:
            raise RuntimeError("%s exited early (rc=%s)" % (d.exe, d.proc.returncode))
        if time.monotonic() > deadline:
            raise RuntimeError("%s: no XML-RPC answer after %.0fs" % (d.exe, timeout))
        time.sleep(0.01)


def wait_state(proxy, name, states, timeout):
    deadline = time.monotonic() + timeout
    while True:
        info = proxy.supervisor.getProcessInfo(name)
        if info["statename"] in states:
            return info
        if time.monotonic() > deadline:
            raise RuntimeError("%s still %s after %.0fs" % (name, info["statename"], timeout))
        time.sleep(0.02)


# ---------------------------------------------------------------- activity log

RE_SPAWNED = re.compile(rb"spawned: '([^']+)' with pid (\d+)")


class LogTail:
    """Whole new lines of a growing file (the activity log)."""

    def __init__(self, path):
        self.path = path
        self.fd = None
        self.carry = b""

    def lines(self):
        if self.fd is None:
            try:
                self.fd = os.open(self.path, os.O_RDONLY)
            except FileNotFoundError:
                return []
        chunks = []
        while True:
            data = os.read(self.fd, 1 << 20)
            if not data:
                break
            chunks.append(data)
        if not chunks:
            return []
        buf = self.carry + b"".join(chunks)
        cut = buf.rfind(b"\n") + 1
        self.carry = buf[cut:]
        return buf[:cut].splitlines()

    def close(self):
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


def log_time(line):
    """The wall-clock time of an activity-log line ("2026-01-02 03:04:05,678
    ..."; local time, truncated to the millisecond, as Python's logger)."""
    ts = line[:23].decode("ascii")
    return time.mktime(time.strptime(ts[:19], "%Y-%m-%d %H:%M:%S")) + \
        int(ts[20:23]) / 1000.0


# ---------------------------------------------------------------- restarts

RESTART_LOG = "restart kill -9 -> new pid RUNNING, log timestamp (ms)"
RESTART_SEEN = "restart kill -9 -> new pid RUNNING, line seen (ms)"
RESTART_RATE = "restarts/s, command=/bin/true"
RESTART_CPU = "daemon CPU per restart (ms)"
SPAWN_LIMIT = "  spawn limit, posix_spawn+waitpid /bin/true (/s)"
RESTART_SHARE = "  restarts/s / spawn limit (%)"


def spawn_limit(secs):
    """This machine's rate of sequential posix_spawn + waitpid of /bin/true
    from this (Python) process: what one-at-a-time restarts cost without a
    supervisor."""
    env = dict(os.environ)
    env[TAG_VAR] = TAG
    n = 0
    t0 = time.monotonic()
    while time.monotonic() - t0 < secs:
        pid = os.posix_spawn("/bin/true", ["/bin/true"], env)
        os.waitpid(pid, 0)
        n += 1
    return n / (time.monotonic() - t0)


def run_restart_latency(name, exe, results, kills):
    """kill -9 of a RUNNING program (autorestart=true, startsecs=0) until
    the activity log says its new pid is RUNNING: the time from just before
    kill() to the timestamp of the "success: k entered RUNNING" line that
    follows the "spawned: 'k' with pid NEW" line (truncated to the ms by
    the logger: +0.5 ms is added, so the figure is good to +-0.5 ms), and to
    when this harness, reading the log every ~0.5 ms, first sees that line
    (an upper bound).  The log is read, not the daemon polled: polling
    would wake Python's loop and shorten its restart.  Each restart is
    then checked with one getProcessInfo over the unix socket (pid NEW,
    RUNNING).  A random 0.2-0.5 s pause before each kill."""
    progs = [("k", {"command": SLEEP_CMD, "autorestart": "true", "startsecs": "0",
                    "stdout_logfile": "NONE", "stderr_logfile": "NONE"})]
    d = Daemon(exe, 1, http=True, programs=progs)
    tail = None
    try:
        d.start()
        d.wait_running()
        wait_rpc(d)
        proxy = rpc_proxy(d)
        tail = LogTail(d.log)
        pid = None
        for line in tail.lines():
            m = RE_SPAWNED.search(line)
            if m and m.group(1) == b"k":
                pid = int(m.group(2))
        if pid is None:
            raise RuntimeError("no spawned: line for k")
        lat_log, lat_seen = [], []
        for _ in range(kills):
            time.sleep(random.uniform(0.2, 0.5))
            tail.lines()  # skip what was logged meanwhile
            new = done = None
            t_kill = time.time()
            m_kill = time.monotonic()
            os.kill(pid, signal.SIGKILL)
            deadline = m_kill + 30
            while done is None:
                for line in tail.lines():
                    m = RE_SPAWNED.search(line)
                    if m and m.group(1) == b"k":
                        new = int(m.group(2))
                    elif new is not None and b"success: k entered RUNNING" in line:
                        done = line
                        break
                if done is not None:
                    break
                if time.monotonic() > deadline:
                    raise RuntimeError("k not RUNNING again 30s after kill -9")
                if d.proc.poll() is not None:
                    raise RuntimeError("%s exited (rc=%s)" % (exe, d.proc.returncode))
                time.sleep(0.0005)
            m_seen = time.monotonic()
            info = proxy.supervisor.getProcessInfo("k")
            if new == pid or info["pid"] != new or info["statename"] != "RUNNING":
                note("%s restart: old pid %d, log says new pid %s, getProcessInfo says"
                     " pid %s %s" % (name, pid, new, info["pid"], info["statename"]))
            lat_log.append((log_time(done) + 0.0005 - t_kill) * 1e3)
            lat_seen.append((m_seen - m_kill) * 1e3)
            pid = new
        results.setdefault(RESTART_LOG, []).extend(lat_log)
        results.setdefault(RESTART_SEEN, []).extend(lat_seen)
        print("  %s restart after kill -9 (%d kills): log timestamp median %.2f ms"
              " (%.2f-%.2f), line seen median %.2f ms (%.2f-%.2f)" % (
                  name, kills, statistics.median(lat_log), min(lat_log), max(lat_log),
                  statistics.median(lat_seen), min(lat_seen), max(lat_seen)),
              flush=True)
    finally:
        if tail is not None:
            tail.close()
        d.cleanup()


def run_restart_rate(name, exe, results, window):
    """A program that exits at once (command=/bin/true, autorestart=true,
    startsecs=0, startretries=1000000): "spawned: " lines appended to the
    activity log in a window (after 0.5 s), per second, and the daemon's
    CPU (utime+stime) per restart."""
    progs = [("f", {"command": "/bin/true", "autorestart": "true", "startsecs": "0",
                    "startretries": "1000000", "stdout_logfile": "NONE",
                    "stderr_logfile": "NONE"})]
    lim = spawn_limit(min(window, 2.0))
    d = Daemon(exe, 1, programs=progs)
    try:
        d.start()
        d.wait_running()
        time.sleep(0.5)
        pid = d.proc.pid
        pos0, c0, t0 = os.path.getsize(d.log), cpu_ticks(pid), time.monotonic()
        time.sleep(window)
        pos1, c1, t1 = os.path.getsize(d.log), cpu_ticks(pid), time.monotonic()
        th = len(thread_stats(pid))
        if pos1 < pos0:
            raise RuntimeError("the activity log shrank (rotated?) in the window")
        with open(d.log, "rb") as f:
            f.seek(pos0)
            data = f.read(pos1 - pos0)
        n = data.count(b"spawned: 'f' with pid")
        cpu = (c1 - c0) / CLK_TCK
        rate = n / (t1 - t0)
        results.setdefault(RESTART_RATE, []).append(rate)
        results.setdefault(SPAWN_LIMIT, []).append(lim)
        results.setdefault(RESTART_SHARE, []).append(100.0 * rate / lim)
        if n:
            results.setdefault(RESTART_CPU, []).append(cpu / n * 1e3)
        print("  %s restarts of /bin/true: %d in %.1fs = %.1f/s (spawn limit %.0f/s),"
              " daemon CPU %.2fs (%.2f CPUs, %.3f ms a restart), %d threads at the end"
              % (name, n, t1 - t0, rate, lim, cpu, cpu / (t1 - t0),
                 cpu / n * 1e3 if n else float("nan"), th), flush=True)
    finally:
        d.cleanup()


# ---------------------------------------------------------------- log throughput

LOG_BYTES = 140 * 1024 * 1024  # fits in stdout_logfile + 2 backups of 50MB
LOG_TPUT = "log throughput, 1 child -> rotating log (MB/s)"
LOG_LIMIT = "  pipe-to-file limit, cat | cat > file (MB/s)"
LOG_SHARE = "  log throughput / pipe-to-file limit (%)"
LOG_CPU = "daemon CPU per GB logged (s)"
LOG_LIMIT_CPU = "  'cat > file' CPU per GB (s)"
LOG_CPU_REL = "  daemon CPU per GB / 'cat > file' CPU per GB"


def make_bigfile(dirpath):
    """LOG_BYTES of numbered 100-byte lines; returns (path, sha1 digest)."""
    path = os.path.join(dirpath, "big.txt")
    pad = b"y" * 89
    h = hashlib.sha1()
    left = LOG_BYTES
    i = 0
    with open(path, "wb") as f:
        while left:
            block = b"".join(b"%010d%s\n" % (j, pad) for j in range(i, i + 10000))
            i += 10000
            block = block[:left]
            f.write(block)
            h.update(block)
            left -= len(block)
    return path, h.hexdigest()


def pipe_limit(big, outdir):
    """The same producer piped through `cat > file` on the same file
    system: (MB/s, CPU seconds per GB of the consumer cat).  The end is
    when the file holds every byte, polled every ms as for the daemons."""
    out = os.path.join(outdir, "limit.out")
    env = dict(os.environ)
    env[TAG_VAR] = TAG
    t0 = time.monotonic()
    with open(out, "wb") as f:
        p1 = subprocess.Popen(["/bin/cat", big], stdout=subprocess.PIPE, env=env)
        p2 = subprocess.Popen(["/bin/cat"], stdin=p1.stdout, stdout=f, env=env)
    p1.stdout.close()
    # the end is seen as for the daemons: polling the file's size every ms
    deadline = t0 + 300
    while os.stat(out).st_size < LOG_BYTES and time.monotonic() < deadline \
            and p2.poll() is None:
        time.sleep(0.001)
    t1 = time.monotonic()
    _, status, ru = os.wait4(p2.pid, 0)
    p2.returncode = os.waitstatus_to_exitcode(status)
    p1.wait()
    size = os.path.getsize(out)
    os.unlink(out)
    if size != LOG_BYTES or p1.returncode or p2.returncode:
        raise RuntimeError("cat | cat > file: %d bytes, rc %s %s"
                           % (size, p1.returncode, p2.returncode))
    return LOG_BYTES / (t1 - t0) / 1e6, (ru.ru_utime + ru.ru_stime) / (LOG_BYTES / 1e9)


def sha1_files(paths):
    h = hashlib.sha1()
    for p in paths:
        with open(p, "rb") as f:
            while True:
                b = f.read(1 << 20)
                if not b:
                    break
                h.update(b)
    return h.hexdigest()


def run_log_throughput(name, exe, results, big, digest, runs):
    """runs programs w0.. (command=/bin/cat BIG, autostart=false,
    stdout_logfile=wI.log, maxbytes=50MB, backups=2), started one at a time
    with startProcess(name, False).  Throughput: LOG_BYTES over the time
    from the call to when wI.log.2 + wI.log.1 + wI.log (stat in that order,
    so a rotation between two stats can only undercount) hold LOG_BYTES;
    then the three files are checked to be exactly BIG (sha1).  The
    pipe-to-file limit (cat BIG | cat > file, same file system) is measured
    before the first run and after each; a run is compared with the mean of
    the limits just before and just after it.  Daemon CPU (utime+stime
    ticks) summed over the runs, per GB."""
    progs = lambda tmp: [  # noqa: E731
        ("w%d" % i, {"command": "/bin/cat " + big, "autostart": "false",
                     "autorestart": "false", "startsecs": "0",
                     "stdout_logfile": os.path.join(tmp, "w%d.log" % i),
                     "stdout_logfile_maxbytes": "50MB",
                     "stdout_logfile_backups": "2",
                     "stderr_logfile": "NONE"}) for i in range(runs)]
    d = Daemon(exe, 0, http=True, programs=progs)
    try:
        d.start()
        wait_rpc(d)
        proxy = rpc_proxy(d)
        pid = d.proc.pid
        ticks = 0
        lim_next = pipe_limit(big, d.tmp)
        lim_cpus = [lim_next[1]]
        for i in range(runs):
            lim_before = lim_next[0]
            base = os.path.join(d.tmp, "w%d.log" % i)
            files = [base + ".2", base + ".1", base]
            c0, t0 = cpu_ticks(pid), time.monotonic()
            proxy.supervisor.startProcess("w%d" % i, False)
            deadline = t0 + 300
            while True:
                size = 0
                for p in files:
                    try:
                        size += os.stat(p).st_size
                    except FileNotFoundError:
                        pass
                if size >= LOG_BYTES:
                    break
                if time.monotonic() > deadline:
                    raise RuntimeError("only %d of %d bytes logged in 300s"
                                       % (size, LOG_BYTES))
                time.sleep(0.001)
            t1, c1 = time.monotonic(), cpu_ticks(pid)
            ticks += c1 - c0
            wait_state(proxy, "w%d" % i, ("EXITED",), 30)
            lim_next = pipe_limit(big, d.tmp)
            lim_cpus.append(lim_next[1])
            # this VM's throughput drifts: the reference is the mean of the
            # limits measured just before and just after the run
            lim = (lim_before + lim_next[0]) / 2
            sizes = [os.path.getsize(p) if os.path.exists(p) else 0 for p in files]
            ok = sum(sizes) == LOG_BYTES and sha1_files(
                [p for p in files if os.path.exists(p)]) == digest
            if not ok:
                note("%s log run %d: log + backups are not the producer's bytes"
                     " (sizes .2 .1 log: %s)" % (name, i, sizes))
            mbs = LOG_BYTES / (t1 - t0) / 1e6
            results.setdefault(LOG_TPUT, []).append(mbs)
            results.setdefault(LOG_LIMIT, []).append(lim_before)
            if i == runs - 1:
                results[LOG_LIMIT].append(lim_next[0])
            results.setdefault(LOG_SHARE, []).append(100.0 * mbs / lim)
            print("  %s log run %d: %.0f MB/s (limit %.0f MB/s before, %.0f after:"
                  " %.0f%%), daemon CPU %.2fs, files .2/.1/log %s MiB%s" % (
                      name, i, mbs, lim_before, lim_next[0], 100.0 * mbs / lim,
                      (c1 - c0) / CLK_TCK,
                      "/".join("%.1f" % (x / 1048576.0) for x in sizes),
                      "" if ok else " CONTENT MISMATCH"), flush=True)
        cpu_gb = ticks / CLK_TCK / (runs * LOG_BYTES / 1e9)
        cat_gb = statistics.median(lim_cpus)
        results.setdefault(LOG_CPU, []).append(cpu_gb)
        results.setdefault(LOG_LIMIT_CPU, []).extend(lim_cpus)
        results.setdefault(LOG_CPU_REL, []).append(cpu_gb / cat_gb)
        print("  %s log: daemon CPU %.3f s per GB (%d ticks over %d MiB); 'cat > file'"
              " %.3f s per GB in the same session (median of %d)" % (
                  name, cpu_gb, ticks, runs * LOG_BYTES // 1048576, cat_gb,
                  len(lim_cpus)), flush=True)
    finally:
        d.cleanup()


# ---------------------------------------------------------------- many writers

LINES_LOST = "lines lost, 50 children x 200 lines/s"
LINES_BAD = "lines out of order/duplicated/garbled"
LINES_CPU = "daemon CPU while 50 children write (s)"


def run_lines(name, exe, results, children, rate, secs):
    """children programs running bench/linegen.py (rate lines/s each for
    secs, numbered), each into its own stdout_logfile; once the activity log
    has all their "exited: " lines, every log must hold exactly the lines
    0..n-1 in order."""
    n = int(rate * secs)
    linegen = os.path.join(os.path.dirname(os.path.abspath(__file__)), "linegen.py")
    progs = lambda tmp: [  # noqa: E731
        ("l%02d" % i, {"command": "%s -I -S %s %d %g %g" % (
            sys.executable, linegen, i, rate, secs),
            "autorestart": "false", "startsecs": "0",
            "stdout_logfile": os.path.join(tmp, "l%02d.log" % i),
            "stderr_logfile": os.path.join(tmp, "l%02d.err" % i)})
        for i in range(children)]
    d = Daemon(exe, children, programs=progs)
    tail = None
    try:
        d.start()
        tail = LogTail(d.log)
        d.wait_running()
        c0 = cpu_ticks(d.proc.pid)
        exited = 0
        deadline = time.monotonic() + secs + 60
        while exited < children:
            exited += sum(1 for line in tail.lines() if b"exited: l" in line)
            if time.monotonic() > deadline:
                raise RuntimeError("only %d of %d writers exited" % (exited, children))
            if d.proc.poll() is not None:
                raise RuntimeError("%s exited (rc=%s)" % (exe, d.proc.returncode))
            time.sleep(0.02)
        cpu = (cpu_ticks(d.proc.pid) - c0) / CLK_TCK
        time.sleep(0.2)
        lost = bad = 0
        details = []
        for i in range(children):
            with open(os.path.join(d.tmp, "l%02d.log" % i), "rb") as f:
                got = f.read().split(b"\n")
            tailpart = got.pop()  # b"" when the log ends with a newline
            seen = set()
            prev = -1
            l_bad = 0
            for line in got:
                parts = line.split(b" ")
                if (len(parts) != 3 or parts[0] != b"%02d" % i or not parts[1].isdigit()
                        or len(line) != 59):
                    l_bad += 1
                    continue
                k = int(parts[1])
                if k <= prev or k in seen or k >= n:
                    l_bad += 1
                seen.add(k)
                prev = k
            if tailpart:
                l_bad += 1
            l_lost = n - len(seen)
            err = os.path.getsize(os.path.join(d.tmp, "l%02d.err" % i))
            if l_lost or l_bad or err:
                details.append("l%02d: %d lost, %d bad, %d bytes on stderr" % (
                    i, l_lost, l_bad, err))
            lost += l_lost
            bad += l_bad
        results.setdefault(LINES_LOST, []).append(lost)
        results.setdefault(LINES_BAD, []).append(bad)
        results.setdefault(LINES_CPU, []).append(cpu)
        print("  %s %d children x %d lines (%g/s for %gs): %d lost, %d out of order/"
              "duplicated/garbled; daemon CPU %.2fs" % (
                  name, children, n, rate, secs, lost, bad, cpu), flush=True)
        if details:
            note("%s lines: %s" % (name, "; ".join(details[:10])))
    finally:
        if tail is not None:
            tail.close()
        d.cleanup()


# ---------------------------------------------------------------- footprint

FOOT_MAIN = "footprint: binary / supervisor package (MiB)"
FOOT_TOTAL = "footprint: + runtime it needs (MiB)"


def du_bytes(path):
    """Apparent size in bytes (du -sb), following no symlinks."""
    st = os.lstat(path)
    if not os.path.isdir(path) or os.path.islink(path):
        return st.st_size
    total = st.st_size
    for root, dirs, files in os.walk(path):
        for x in dirs + files:
            try:
                total += os.lstat(os.path.join(root, x)).st_size
            except OSError:
                pass
    return total


def footprint(results):
    """Ours: the static binary, nothing else.  Python: the venv's
    site-packages/supervisor (+ dist-info), and the runtime: the python
    prefix's lib/python3.X without its site-packages (third-party), the
    interpreter binary and libpython (when the interpreter links it)."""
    mib = 1048576.0
    ours = os.path.getsize(OURS)
    venv = os.path.dirname(os.path.dirname(PYREF))
    cfg = {}
    with open(os.path.join(venv, "pyvenv.cfg")) as f:
        for line in f:
            k, _, v = line.partition("=")
            cfg[k.strip()] = v.strip()
    ver = ".".join(cfg.get("version", "%d.%d" % sys.version_info[:2]).split(".")[:2])
    site = os.path.join(venv, "lib", "python" + ver, "site-packages")
    pkg = du_bytes(os.path.join(site, "supervisor"))
    pkg += sum(du_bytes(os.path.join(site, x)) for x in os.listdir(site)
               if x.startswith("supervisor-") and x.endswith(".dist-info"))
    interp = os.path.realpath(os.path.join(venv, "bin", "python"))
    prefix = os.path.dirname(os.path.dirname(interp))
    stdlib_dir = os.path.join(prefix, "lib", "python" + ver)
    stdlib = du_bytes(stdlib_dir)
    third = os.path.join(stdlib_dir, "site-packages")
    if os.path.isdir(third):
        stdlib -= du_bytes(third)
    tests = os.path.join(stdlib_dir, "test")
    test_b = du_bytes(tests) if os.path.isdir(tests) else 0
    libpy = 0
    for x in ("libpython%s.so.1.0" % ver, "libpython%s.so" % ver):
        p = os.path.join(prefix, "lib", x)
        if os.path.exists(p):
            libpy = os.path.getsize(os.path.realpath(p))
            break
    runtime = stdlib + os.path.getsize(interp) + libpy
    results["ours"][FOOT_MAIN] = [ours / mib]
    results["ours"][FOOT_TOTAL] = [ours / mib]
    results["python"][FOOT_MAIN] = [pkg / mib]
    results["python"][FOOT_TOTAL] = [(pkg + runtime) / mib]
    msg = ("footprint: ours %d bytes (static, needs nothing else); python: supervisor"
           " package %.1f MiB, runtime %.1f MiB = %s (%.1f MiB, of which test/ %.1f"
           " MiB; without site-packages) + %s (%.1f MiB) + libpython (%.1f MiB)" % (
               ours, pkg / mib, runtime / mib, stdlib_dir, stdlib / mib, test_b / mib,
               interp, os.path.getsize(interp) / mib, libpy / mib))
    print("  " + msg, flush=True)
    return msg


# ---------------------------------------------------------------- one round

def spawn_floor_label(n):
    return "  spawn floor N=%d: posix_spawn from the harness (s)" % n


def spawn_floor(n):
    """Seconds this (Python) process takes to posix_spawn n `sleep`s, each
    with three pipes whose other ends it keeps, as a supervisor does: the
    machine's cost of starting n programs one after the other, without any
    supervisor work (no logs, no threads, no state).  The children are
    killed and reaped before returning."""
    env = dict(os.environ)
    env[TAG_VAR] = TAG
    argv = SLEEP_CMD.split()
    kept, pids = [], []
    t0 = time.monotonic()
    try:
        for _ in range(n):
            ends = [os.pipe() for _ in range(3)]  # stdin, stdout, stderr
            child = (ends[0][0], ends[1][1], ends[2][1])
            pid = os.posix_spawn(argv[0], argv, env, file_actions=[
                (os.POSIX_SPAWN_DUP2, fd, i) for i, fd in enumerate(child)],
                setpgroup=0)
            pids.append(pid)
            for fd in child:
                os.close(fd)
            kept += [ends[0][1], ends[1][0], ends[2][0]]
        return time.monotonic() - t0
    finally:
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
            except (ProcessLookupError, ChildProcessError):
                pass
        for fd in kept:
            os.close(fd)


def stop_all_label(n):
    return "stopAllProcesses N=%d (s)" % n


def stop_start_all(name, d, n, results):
    """supervisor.stopAllProcesses() (wait=true): the call's time until it
    returns with every program stopped; then startAllProcesses() brings
    them back for the shutdown measured next."""
    proxy = rpc_proxy(d)
    t0 = time.monotonic()
    proxy.supervisor.stopAllProcesses()
    t = time.monotonic() - t0
    results.setdefault(stop_all_label(n), []).append(t)
    proxy.supervisor.startAllProcesses()
    print("  %s N=%d: stopAllProcesses in %.3fs" % (name, n, t), flush=True)


def shutdown_label(n):
    if n == RPC_N:  # that run's daemon has just served the RPC load
        return "shutdown N=%d after RPC load (s)" % n
    return "shutdown N=%d (s)" % n


def run_one(name, exe, n, results, idle_window=None, shutdown=False,
            verbose_threads=False, rpc=None, cpu_results=None):
    """rpc: None, or (transports, seconds per run) for the RPC load."""
    if n >= 100:
        results.setdefault(spawn_floor_label(n), []).append(spawn_floor(n))
    d = Daemon(exe, n, http=rpc is not None)
    try:
        d.start()
        t = d.wait_running()
        results.setdefault("startup N=%d (s)" % n, []).append(t)
        time.sleep(0.5)  # let the last transitions settle
        mem = smaps_rollup(d.proc.pid)
        results.setdefault("idle RSS N=%d (MiB)" % n, []).append(mem["Rss"] / 1024)
        results.setdefault("idle PSS N=%d (MiB)" % n, []).append(mem["Pss"] / 1024)
        msg = "%s N=%d: running in %.3fs, RSS %.1f MiB, PSS %.1f MiB" % (
            name, n, t, mem["Rss"] / 1024, mem["Pss"] / 1024)
        if idle_window:
            pid = d.proc.pid
            th0 = thread_stats(pid)
            c0 = cpu_ticks(pid)
            time.sleep(idle_window)
            c1 = cpu_ticks(pid)
            th1 = thread_stats(pid)
            cpu = (c1 - c0) / CLK_TCK
            wake = sum(v[1] for v in th1.values()) - sum(
                v[1] for tid, v in th0.items() if tid in th1)
            results.setdefault("idle CPU N=%d /%ds (s)" % (n, idle_window), []).append(cpu)
            results.setdefault("idle wakeups N=%d /%ds" % (n, idle_window), []).append(wake)
            msg += ", idle %ds: cpu %.2fs, wakeups %d" % (idle_window, cpu, wake)
            if verbose_threads:
                per = []
                for tid, (comm, vol, nvol, tk) in sorted(th1.items()):
                    v0 = th0.get(tid, (comm, 0, 0, 0))
                    per.append("tid %d (%s): +%d vol, +%d nonvol, +%d ticks" % (
                        tid, comm, vol - v0[1], nvol - v0[2], tk - v0[3]))
                if wake > idle_window:  # more than ~1 per second
                    note("%s idle N=%d: %d wake-ups in %ds; per thread: %s" % (
                        name, n, wake, idle_window, "; ".join(per)))
        print("  " + msg, flush=True)
        if rpc:
            rpc_load(name, d, results, cpu_results, rpc[0], rpc[1])
            stop_start_all(name, d, n, results)
        if shutdown:
            kids = d.children()
            s = d.sigterm_and_wait()
            results.setdefault(shutdown_label(n), []).append(s)
            time.sleep(0.05)
            left = [k for k in kids if alive(k)]
            print("  %s N=%d: shutdown in %.3fs (%d children, %d still alive after exit)"
                  % (name, n, s, len(kids), len(left)), flush=True)
            if left:
                note("%s left %d of %d children alive after SIGTERM exit"
                     % (name, len(left), len(kids)))
    finally:
        d.cleanup()


# ---------------------------------------------------------------- report

def fmt(v):
    if isinstance(v, float):
        if v == 0:
            return "0"
        if abs(v) < 0.01:
            return "%.4f" % v
        if abs(v) < 10:
            return "%.3f" % v
        return "%.1f" % v
    return str(v)


def cell(vals):
    if not vals:
        return "-"
    med = statistics.median(vals)
    if len(vals) == 1:
        return fmt(med)
    return "%s (%s-%s)" % (fmt(med), fmt(min(vals)), fmt(max(vals)))


def table(metrics, res):
    rows = [("metric", "ours median (min-max)", "python median (min-max)", "ours/python")]
    for m in metrics:
        a = res["ours"].get(m, [])
        b = res["python"].get(m, [])
        ratio = "-"
        if a and b:
            ma, mb = statistics.median(a), statistics.median(b)
            ratio = "%.3f" % (ma / mb) if mb else ("inf" if ma else "n/a")
        rows.append((m, cell(a), cell(b), ratio))
    w = [max(len(r[i]) for r in rows) for i in range(4)]
    out = []
    for j, r in enumerate(rows):
        out.append("  ".join(r[i].ljust(w[i]) if i == 0 else r[i].rjust(w[i])
                             for i in range(4)))
        if j == 0:
            out.append("  ".join("-" * w[i] for i in range(4)))
    return "\n".join(out)


def machine():
    model = "?"
    try:
        for line in read("/proc/cpuinfo").splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return "nproc=%d, cpu=%s, kernel=%s" % (os.cpu_count(), model, os.uname().release)


def commit():
    """The commit of the tree the measured binary was built in (the git
    work tree holding OURS, e.g. a worktree given with BENCH_OURS), and
    whether its src/ differs from that commit."""
    where = os.path.dirname(os.path.realpath(OURS))
    try:
        top = subprocess.run(["git", "-C", where, "rev-parse", "--show-toplevel"],
                             capture_output=True, text=True, timeout=10).stdout.strip()
        if not top:
            return "? (%s is not in a git work tree)" % OURS
        c = subprocess.run(["git", "-C", top, "rev-parse", "--short", "HEAD"],
                           capture_output=True, text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "-C", top, "status", "--porcelain", "--",
                                "src", "Cargo.toml", "Cargo.lock"],
                               capture_output=True, text=True, timeout=10).stdout
        return "%s (the tree of the binary: %s%s)" % (
            c, top, "; src/ has uncommitted changes" if dirty.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return "?"


def main():
    quick = "--quick" in sys.argv[1:]
    only = []  # --only N=1,restart,log: see the module docstring
    for i, a in enumerate(sys.argv[1:]):
        if a.startswith("--only="):
            only = a.split("=", 1)[1].split(",")
        elif a == "--only" and i + 2 <= len(sys.argv[1:]):
            only = sys.argv[i + 2].split(",")
    for exe, hint in ((OURS, "run `make static` first"),
                      (PYREF, "the Python reference (scripts/pyref.sh) is missing")):
        if not os.access(exe, os.X_OK):
            sys.exit("missing %s: %s" % (os.path.relpath(exe, REPO), hint))
    rounds = 1 if quick else 3
    sizes = [1, 100] if quick else [1, 100, 1000]
    idle = 10 if quick else 30
    transports = ("tcp",) if quick else ("tcp", "unix")
    rpc_secs = 3.0 if quick else 5.0
    kills = 5 if quick else 10           # kill -9 restarts per daemon
    rate_window = 3.0 if quick else 5.0  # seconds counting /bin/true restarts
    log_runs = 2 if quick else 4         # 140 MiB runs per daemon
    line_children, line_rate = 50, 200.0
    line_secs = 3.0 if quick else 5.0
    impls = [("ours", OURS), ("python", PYREF)]
    res = {"ours": {}, "python": {}}
    cpu_res = {"ours": {}, "python": {}}
    started = time.time()
    built_from = commit()  # now: the tree may move on during the run
    pre_sleep = set(sleep_pids())
    work = tempfile.mkdtemp(prefix="svbench-data-")
    errors = (RuntimeError, OSError, xmlrpc.client.Error, http.client.HTTPException)
    global INSTANT_SERVER
    INSTANT_SERVER = InstantServer(work)
    try:
        foot = footprint(res)
        big, digest = make_bigfile(work)
        scenarios = []
        for n in sizes:
            scenarios.append(("N=%d" % n, lambda name, exe, n=n: run_one(
                name, exe, n, res[name],
                idle_window=idle if n == 100 else None,
                shutdown=True,
                verbose_threads=(name == "ours"),
                rpc=(transports, rpc_secs) if n == RPC_N else None,
                cpu_results=cpu_res[name])))
        scenarios += [
            ("restart latency", lambda name, exe: run_restart_latency(
                name, exe, res[name], kills)),
            ("restart rate", lambda name, exe: run_restart_rate(
                name, exe, res[name], rate_window)),
            ("log throughput", lambda name, exe: run_log_throughput(
                name, exe, res[name], big, digest, log_runs)),
            ("50 writers", lambda name, exe: run_lines(
                name, exe, res[name], line_children, line_rate, line_secs)),
        ]
        if only:
            scenarios = [sc for sc in scenarios
                         if any(o == sc[0] or o in sc[0].split() for o in only)]
        for r in range(rounds):
            order = impls if r % 2 == 0 else impls[::-1]
            print("round %d/%d (%.0fs so far)" % (r + 1, rounds, time.time() - started),
                  flush=True)
            for label, fn in scenarios:
                for name, exe in order:
                    try:
                        fn(name, exe)
                    except errors as e:
                        note("round %d %s %s failed: %s" % (r + 1, name, label, e))
                    left = kill_tagged()
                    if left:
                        note("killed %d leftover tagged processes after %s %s"
                             % (len(left), name, label))
    finally:
        INSTANT_SERVER.stop()
        shutil.rmtree(work, ignore_errors=True)
        left = kill_tagged()
        if left:
            note("final cleanup killed %d tagged processes" % len(left))
        time.sleep(0.2)
        stray = [p for p in sleep_pids() if p not in pre_sleep]
        for p in stray:
            try:
                os.kill(p, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        if stray:
            note("killed %d stray 'sleep 100000' processes at the end" % len(stray))

    metrics = []
    for n in sizes:
        metrics.append("startup N=%d (s)" % n)
        if n >= 100:
            metrics.append(spawn_floor_label(n))
    for n in sizes:
        metrics += ["idle RSS N=%d (MiB)" % n, "idle PSS N=%d (MiB)" % n]
    metrics += ["idle CPU N=100 /%ds (s)" % idle, "idle wakeups N=100 /%ds" % idle]
    metrics.append(stop_all_label(RPC_N))
    for n in sizes:
        metrics.append(shutdown_label(n))
    cpu_metrics = []
    for transport in transports:
        for method in RPC_METHODS:
            for c in RPC_CLIENTS:
                label = rpc_label(method, c, transport)
                metrics += [label + " (req/s)", label + " p50 (ms)",
                            label + " p99 (ms)", label + " daemon CPU/req (us)"]
                if method == "getState":
                    metrics.append(instant_label(c, transport))
                cpu_metrics += [label + " daemon (CPUs)", label + " loadgen (CPUs)"]
    metrics.append("rpc errors+non-200 (all runs)")
    metrics += [RESTART_LOG, RESTART_SEEN, RESTART_RATE, SPAWN_LIMIT, RESTART_SHARE,
                RESTART_CPU,
                LOG_TPUT, LOG_LIMIT, LOG_SHARE, LOG_CPU, LOG_LIMIT_CPU, LOG_CPU_REL,
                LINES_LOST, LINES_BAD, LINES_CPU, FOOT_MAIN, FOOT_TOTAL]
    if only:
        metrics = [m for m in metrics if res["ours"].get(m) or res["python"].get(m)]
        cpu_metrics = [m for m in cpu_metrics
                       if cpu_res["ours"].get(m) or cpu_res["python"].get(m)]
    text = ("supervisord-rs benchmark (%s), %s\n%s\nours=%s (%d bytes)\ncommit %s"
            "\nrounds=%d, elapsed %.0fs\n\n%s\n" % (
                "quick" if quick else "full",
                time.strftime("%Y-%m-%d %H:%M:%S"), machine(), OURS,
                os.path.getsize(OURS), built_from, rounds,
                time.time() - started, table(metrics, res)))
    text += (
        "\nrestart: %d kill -9 a daemon a round of a RUNNING `sleep` (autorestart=true,"
        " startsecs=0); 'log timestamp' = kill() -> the timestamp of the 'success: k"
        " entered RUNNING' line after 'spawned: ... with pid NEW' (+-0.5 ms), 'line"
        " seen' = kill() -> this harness read that line (log read every ~0.5 ms); the"
        " new pid is confirmed RUNNING by getProcessInfo on the unix socket."
        "\nrestarts/s: 'spawned:' lines in the activity log over %gs (program"
        " command=/bin/true, autorestart=true, startsecs=0); spawn limit = this"
        " harness's own sequential posix_spawn+waitpid of /bin/true, just before."
        "\nlog throughput: /bin/cat of a %d MiB file as a program's stdout into"
        " stdout_logfile (maxbytes=50MB, backups=2), started by startProcess; MB/s ="
        " 10^6 bytes/s from the call until log + backups hold every byte (checked"
        " against the file's sha1); %d runs a daemon a round; the pipe-to-file limit"
        " (cat FILE | cat > file, same file system) is measured before the first run"
        " and after each, and a run's share is of the mean of the limits just before"
        " and just after it; CPU/GB ="
        " daemon utime+stime over the runs (10 ms ticks) per 10^9 bytes; 'cat > file'"
        " CPU = the consumer cat's rusage, and the daemon's CPU per GB over the median"
        " of the cat's measured in the same session (this VM's cost of filling the"
        " page cache drifts from run to run)."
        "\nlines: %d programs each writing %g numbered 60-byte lines/s for %gs"
        " (bench/linegen.py) into its own stdout_logfile; lost = numbers missing from"
        " the log after all exited; daemon CPU from all RUNNING to all exited.\n%s\n"
        % (kills, rate_window, LOG_BYTES // 1048576, log_runs, line_children,
           line_rate, line_secs, foot))
    if cpu_metrics:
        text += ("\nRPC load: N=%d programs, %gs a run after %gs of warm-up; c ="
                 " concurrent clients (processes, one keep-alive connection each).\n"
                 "CPU used during the RPC windows, in CPUs (1.0 = one CPU busy; this"
                 " machine has %d):\n\n%s\n"
                 % (RPC_N, rpc_secs, RPC_WARMUP, os.cpu_count(),
                    table(cpu_metrics, cpu_res)))
    if notes:
        text += "\nnotes:\n" + "\n".join("  - " + n for n in notes) + "\n"
    print()
    print(text)
    with open(OUT, "w") as f:
        f.write(text)


if __name__ == "__main__":
    main()
