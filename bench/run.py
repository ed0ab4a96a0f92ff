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
  * shutdown time: SIGTERM -> daemon exit (for N=100 right after the RPC
    load, which slows Python's by ~0.5 s or more)
"""
import os
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

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OURS = os.environ.get("BENCH_OURS") or os.path.join(
    REPO, "target", "x86_64-unknown-linux-musl", "release", "supervisord")
PYREF = os.path.join(REPO, "target", "pyref", "bin", "supervisord")
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


def write_config(tmp, n, http=None):
    """http: None, or (tcp_port, unix_socket_path) for the HTTP servers."""
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
    for i in range(n):
        lines += [
            "[program:p%04d]" % i,
            "command=%s" % SLEEP_CMD,
            "startsecs=0",
            "stdout_logfile=NONE",
            "stderr_logfile=NONE",
            "",
        ]
    path = os.path.join(tmp, "supervisord.conf")
    with open(path, "w") as f:
        f.write("\n".join(lines))
    return path


class Daemon:
    def __init__(self, exe, n, http=False):
        self.exe = exe
        self.n = n
        self.tmp = tempfile.mkdtemp(prefix="svbench-")
        self.http = None
        if http:
            self.http = (free_port(), os.path.join(self.tmp, "supervisor.sock"))
        self.conf = write_config(self.tmp, n, self.http)
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


# ---------------------------------------------------------------- one round

def shutdown_label(n):
    if n == RPC_N:  # that run's daemon has just served the RPC load
        return "shutdown N=%d after RPC load (s)" % n
    return "shutdown N=%d (s)" % n


def run_one(name, exe, n, results, idle_window=None, shutdown=False,
            verbose_threads=False, rpc=None, cpu_results=None):
    """rpc: None, or (transports, seconds per run) for the RPC load."""
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


def main():
    quick = "--quick" in sys.argv[1:]
    for exe, hint in ((OURS, "run `make static` first"),
                      (PYREF, "the Python reference (scripts/pyref.sh) is missing")):
        if not os.access(exe, os.X_OK):
            sys.exit("missing %s: %s" % (os.path.relpath(exe, REPO), hint))
    rounds = 1 if quick else 3
    sizes = [1, 100] if quick else [1, 100, 1000]
    idle = 10 if quick else 30
    transports = ("tcp",) if quick else ("tcp", "unix")
    rpc_secs = 3.0 if quick else 5.0
    impls = [("ours", OURS), ("python", PYREF)]
    res = {"ours": {}, "python": {}}
    cpu_res = {"ours": {}, "python": {}}
    started = time.time()
    pre_sleep = set(sleep_pids())
    try:
        for r in range(rounds):
            order = impls if r % 2 == 0 else impls[::-1]
            print("round %d/%d" % (r + 1, rounds), flush=True)
            for name, exe in order:
                for n in sizes:
                    try:
                        run_one(name, exe, n, res[name],
                                idle_window=idle if n == 100 else None,
                                shutdown=True,
                                verbose_threads=(name == "ours"),
                                rpc=(transports, rpc_secs) if n == RPC_N else None,
                                cpu_results=cpu_res[name])
                    except RuntimeError as e:
                        note("round %d %s N=%d failed: %s" % (r + 1, name, n, e))
                    left = kill_tagged()
                    if left:
                        note("killed %d leftover tagged processes after %s N=%d"
                             % (len(left), name, n))
    finally:
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
    for n in sizes:
        metrics += ["idle RSS N=%d (MiB)" % n, "idle PSS N=%d (MiB)" % n]
    metrics += ["idle CPU N=100 /%ds (s)" % idle, "idle wakeups N=100 /%ds" % idle]
    for n in sizes:
        metrics.append(shutdown_label(n))
    cpu_metrics = []
    for transport in transports:
        for method in RPC_METHODS:
            for c in RPC_CLIENTS:
                label = rpc_label(method, c, transport)
                metrics += [label + " (req/s)", label + " p50 (ms)",
                            label + " p99 (ms)", label + " daemon CPU/req (us)"]
                cpu_metrics += [label + " daemon (CPUs)", label + " loadgen (CPUs)"]
    metrics.append("rpc errors+non-200 (all runs)")
    text = "supervisord-rs benchmark (%s), %s\n%s\nours=%s\nrounds=%d, elapsed %.0fs\n\n%s\n" % (
        "quick" if quick else "full",
        time.strftime("%Y-%m-%d %H:%M:%S"), machine(), OURS, rounds,
        time.time() - started, table(metrics, res))
    text += ("\nRPC load: N=%d programs, %gs a run after %gs of warm-up; c = concurrent"
             " clients (processes, one keep-alive connection each).\nCPU used during"
             " the RPC windows, in CPUs (1.0 = one CPU busy; this machine has %d):\n\n%s\n"
             % (RPC_N, rpc_secs, RPC_WARMUP, os.cpu_count(), table(cpu_metrics, cpu_res)))
    if notes:
        text += "\nnotes:\n" + "\n".join("  - " + n for n in notes) + "\n"
    print()
    print(text)
    with open(OUT, "w") as f:
        f.write(text)


if __name__ == "__main__":
    main()
