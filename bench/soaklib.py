"""Shared helpers for bench/soak.py and bench/faults.py (stdlib only).

  * Daemon: one supervisord under test in its own temp dir, started from a
    config written here, with its own environment tag so that everything it
    starts (children, grandchildren) can be found in /proc and killed by
    pid at the end, even after a crash of the script or Ctrl-C.
  * /proc readers: the daemon's fds, threads, RSS, peak RSS, CPU ticks; its
    children and their states (zombies).
  * XML-RPC over the daemon's unix socket.
  * LogFollower: new whole lines of the activity log, across rotations.
  * check_writer: lost / duplicated / out-of-order lines of a
    bench/soak_writer.py log, rotated backups included.

Every wait is bounded (wait_until polls with a deadline).
"""
import atexit
import http.client
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
import xmlrpc.client

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OURS = os.environ.get("SOAK_OURS") or os.path.join(
    REPO, "target", "x86_64-unknown-linux-musl", "release", "supervisord")
PYREF = os.path.join(REPO, "target", "pyref", "bin", "supervisord")
PYREF_CTL = os.path.join(REPO, "target", "pyref", "bin", "supervisorctl")
WRITER = os.path.join(REPO, "bench", "soak_writer.py")
PYTHON = sys.executable or "python3"

TAG_VAR = "SUPERVISORD_SOAK_TAG"
TAG = uuid.uuid4().hex  # this run; each daemon gets TAG-<its name>
CLK_TCK = os.sysconf("SC_CLK_TCK")
MiB = 1024 * 1024

_daemons = []   # every Daemon created, for cleanup_all
_mounts = []    # tmpfs mount points to unmount at the end
_tmpdirs = []   # temp dirs to remove at the end (unless KEEP)
KEEP = bool(os.environ.get("SOAK_KEEP"))


# ------------------------------------------------------------------ /proc

def read(path, mode="r"):
    with open(path, mode) as f:
        return f.read()


def proc_stat(pid):
    """{state, ppid, ticks (utime+stime), starttime} or None if gone."""
    try:
        s = read("/proc/%d/stat" % pid)
    except OSError:
        return None
    f = s[s.rindex(")") + 2:].split()
    # f[0] is field 3 (state): ppid = field 4, utime/stime = 14/15, starttime = 22
    return {"state": f[0], "ppid": int(f[1]), "ticks": int(f[11]) + int(f[12]),
            "starttime": int(f[19])}


def proc_status(pid):
    out = {}
    try:
        text = read("/proc/%d/status" % pid)
    except OSError:
        return out
    for line in text.splitlines():
        key, _, val = line.partition(":")
        out[key] = val.strip()
    return out


def kib(status, key):
    v = status.get(key, "0 kB").split()
    return int(v[0]) if v else 0


def daemon_sample(pid):
    """The daemon's open fds, threads, RSS and peak RSS (KiB), CPU ticks."""
    st = proc_status(pid)
    ps = proc_stat(pid)
    try:
        fds = len(os.listdir("/proc/%d/fd" % pid))
    except OSError:
        fds = -1
    return {"fds": fds, "threads": int(st.get("Threads", "0")),
            "rss": kib(st, "VmRSS"), "hwm": kib(st, "VmHWM"),
            "ticks": ps["ticks"] if ps else 0, "state": ps["state"] if ps else "?"}


def children(pid):
    """[(child pid, state, starttime)] of every process whose parent is pid."""
    kids = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        s = proc_stat(int(d))
        if s and s["ppid"] == pid:
            kids.append((int(d), s["state"], s["starttime"]))
    return kids


def zombies(pid, recheck=1.0):
    """(zombie children now, those still zombies `recheck` s later).

    A child that just exited is a zombie until the daemon reaps it: with
    programs that crash in a loop a sample can catch one in flight.  A
    zombie that is still there (same pid, same start time, parent still
    the daemon) a second later is one the daemon failed to reap."""
    now = [(p, st) for p, state, st in children(pid) if state == "Z"]
    if not now:
        return [], []
    time.sleep(recheck)
    left = []
    for p, st in now:
        s = proc_stat(p)
        if s and s["state"] == "Z" and s["starttime"] == st and s["ppid"] == pid:
            left.append(p)
    return [p for p, _ in now], left


def tagged_pids(value=None, prefix=None):
    """Pids whose environment has TAG_VAR=value (or a value with prefix)."""
    me = os.getpid()
    pids = []
    for d in os.listdir("/proc"):
        if not d.isdigit() or int(d) == me:
            continue
        try:
            env = read("/proc/%s/environ" % d, "rb")
        except OSError:
            continue
        for kv in env.split(b"\0"):
            if not kv.startswith(TAG_VAR.encode() + b"="):
                continue
            v = kv[len(TAG_VAR) + 1:].decode("ascii", "replace")
            if (value is not None and v == value) or \
                    (prefix is not None and v.startswith(prefix)):
                pids.append(int(d))
            break
    return pids


def alive(pid):
    s = proc_stat(pid)
    return s is not None and s["state"] != "Z"


def kill_pids(pids):
    """SIGKILL by pid (never by name or group); SIGCONT too, for the stopped."""
    for p in pids:
        for sig in (signal.SIGKILL, signal.SIGCONT):
            try:
                os.kill(p, sig)
            except (ProcessLookupError, PermissionError):
                pass


# ------------------------------------------------------------------ waiting

def wait_until(pred, timeout, interval=0.05, what="condition"):
    """Polls pred() until it returns a true value (returned) or timeout
    seconds pass (TimeoutError)."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > deadline:
            raise TimeoutError("%s: not after %.0f s" % (what, timeout))
        time.sleep(interval)


def stable(fn, timeout=10.0, interval=0.25):
    """fn()'s value once two readings `interval` apart agree (bounded)."""
    deadline = time.monotonic() + timeout
    prev = fn()
    while True:
        time.sleep(interval)
        cur = fn()
        if cur == prev or time.monotonic() > deadline:
            return cur
        prev = cur


# ------------------------------------------------------------------ XML-RPC

class _UnixConn(http.client.HTTPConnection):
    def __init__(self, path, timeout):
        http.client.HTTPConnection.__init__(self, "localhost", timeout=timeout)
        self.unix_path = path

    def connect(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(self.timeout)
        s.connect(self.unix_path)
        self.sock = s


class _UnixTransport(xmlrpc.client.Transport):
    def __init__(self, path, timeout):
        xmlrpc.client.Transport.__init__(self)
        self.unix_path = path
        self.timeout = timeout

    def make_connection(self, host):
        if self._connection and host == self._connection[0]:
            return self._connection[1]
        self._connection = host, _UnixConn(self.unix_path, self.timeout)
        return self._connection[1]


RPC_ERRORS = (OSError, xmlrpc.client.Error, http.client.HTTPException)


def rpc_call(sock, method, *args, timeout=30.0):
    """One XML-RPC call on a fresh connection to the unix socket, closed
    after the call (no keep-alive thread left in the daemon)."""
    proxy = xmlrpc.client.ServerProxy("http://localhost",
                                      transport=_UnixTransport(sock, timeout))
    try:
        fn = proxy
        for part in method.split("."):
            fn = getattr(fn, part)
        return fn(*args)
    finally:
        proxy("close")()


def rpc_tcp_call(port, method, *args, timeout=30.0):
    proxy = xmlrpc.client.ServerProxy("http://127.0.0.1:%d" % port)
    try:
        fn = proxy
        for part in method.split("."):
            fn = getattr(fn, part)
        return fn(*args)
    finally:
        proxy("close")()


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
    finally:
        s.close()


# ------------------------------------------------------------------ daemon

def ini(sections):
    """[(header, {key: value})] -> INI text."""
    out = []
    for header, opts in sections:
        out.append("[%s]" % header)
        out += ["%s=%s" % kv for kv in opts.items()]
        out.append("")
    return "\n".join(out)


class Daemon:
    """One supervisord in its own temp dir (self.tmp).

    sections(tmp) -> [(header, opts)] for everything but [supervisord]'s
    defaults, [unix_http_server], [rpcinterface:supervisor] and
    [supervisorctl], which are filled in here (supervisord opts given in
    `main` override the defaults).  nofile: (soft, hard) RLIMIT_NOFILE for
    the daemon only (set between fork and exec)."""

    def __init__(self, name, exe=None, main=None, programs=(), nofile=None,
                 inet=False):
        self.name = name
        self.exe = exe or OURS
        self.tmp = tempfile.mkdtemp(prefix="svsoak-%s-" % name)
        _tmpdirs.append(self.tmp)
        self.tag = "%s-%s" % (TAG, name)
        self.sock = os.path.join(self.tmp, "supervisor.sock")
        self.log = os.path.join(self.tmp, "supervisord.log")
        self.out = os.path.join(self.tmp, "daemon.out")
        self.port = free_port() if inet else None
        sup = {"nodaemon": "true", "silent": "true", "logfile": self.log,
               "pidfile": os.path.join(self.tmp, "supervisord.pid"),
               "childlogdir": self.tmp, "loglevel": "info"}
        sup.update(main or {})
        secs = [("supervisord", sup),
                ("unix_http_server", {"file": self.sock}),
                ("rpcinterface:supervisor", {
                    "supervisor.rpcinterface_factory":
                        "supervisor.rpcinterface:make_main_rpcinterface"}),
                ("supervisorctl", {"serverurl": "unix://" + self.sock})]
        if inet:
            secs.insert(2, ("inet_http_server", {"port": "127.0.0.1:%d" % self.port}))
        secs += list(programs)
        self.conf = os.path.join(self.tmp, "supervisord.conf")
        with open(self.conf, "w") as f:
            f.write(ini(secs))
        self.nofile = nofile
        self.proc = None
        _daemons.append(self)

    def append(self, sections):
        """More sections (programs naming paths in self.tmp) for the config."""
        with open(self.conf, "a") as f:
            f.write("\n" + ini(sections))

    @property
    def pid(self):
        return self.proc.pid

    def start(self):
        env = dict(os.environ)
        env[TAG_VAR] = self.tag
        nofile = self.nofile

        def pre():
            if nofile:
                import resource
                resource.setrlimit(resource.RLIMIT_NOFILE, nofile)

        with open(self.out, "wb") as out:
            self.proc = subprocess.Popen(
                [self.exe, "-c", self.conf], cwd=self.tmp, env=env,
                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True, preexec_fn=pre)
        self.t0 = time.monotonic()

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def rpc(self, method, *args, timeout=30.0):
        return rpc_call(self.sock, method, *args, timeout=timeout)

    def wait_rpc(self, timeout=60.0):
        def ok():
            if not self.running():
                raise RuntimeError("%s exited early (rc=%s): %s" % (
                    self.exe, self.proc.returncode, self.output()[-2000:]))
            try:
                return self.rpc("supervisor.getState", timeout=5)["statename"] == "RUNNING"
            except RPC_ERRORS:
                return False
        wait_until(ok, timeout, 0.05, "XML-RPC answer from %s" % self.name)

    def states(self):
        """{name: statename} from getAllProcessInfo."""
        return {i["name"]: i["statename"] for i in self.rpc("supervisor.getAllProcessInfo")}

    def wait_states(self, names, want, timeout):
        """Waits until every process in names is in one of want (a tuple)."""
        names = set(names)

        def ok():
            st = self.states()
            return all(st.get(n) in want for n in names) and st
        return wait_until(ok, timeout, 0.2, "%d processes %s" % (len(names), "/".join(want)))

    def ctl(self, *args, timeout=30.0):
        """(exit code, output) of `supervisorctl -c CONF args` (ours: the same
        binary as `supervisord ctl`; Python's: its own supervisorctl)."""
        if self.exe == PYREF:
            cmd = [PYREF_CTL, "-c", self.conf] + list(args)
        else:
            cmd = [self.exe, "ctl", "-c", self.conf] + list(args)
        try:
            r = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True,
                               timeout=timeout)
            return r.returncode, (r.stdout + r.stderr).decode("utf-8", "replace")
        except subprocess.TimeoutExpired:
            return None, "(no answer in %.0f s)" % timeout

    def output(self):
        try:
            return read(self.out, "rb").decode("utf-8", "replace")
        except OSError:
            return ""

    def log_text(self):
        try:
            return read(self.log, "rb").decode("utf-8", "replace")
        except OSError:
            return ""

    def sigterm_and_wait(self, timeout=120.0):
        """Seconds from SIGTERM to the daemon's exit, or None (then killed)."""
        if not self.running():
            return 0.0
        t0 = time.monotonic()
        os.kill(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=timeout)
            return time.monotonic() - t0
        except subprocess.TimeoutExpired:
            return None

    def leftovers(self):
        """Processes with this daemon's tag still alive (not zombies)."""
        return [p for p in tagged_pids(value=self.tag) if alive(p)]

    def cleanup(self):
        """Kills the daemon and everything carrying its tag, by pid."""
        for _ in range(3):
            pids = tagged_pids(value=self.tag)
            if self.running():
                pids.append(self.proc.pid)
            if not pids:
                break
            kill_pids(pids)
            try:
                wait_until(lambda: not any(alive(p) for p in pids), 5, 0.02)
            except TimeoutError:
                pass
        if self.proc is not None:
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass


def mount_tmpfs(path, size):
    """(True, "") if a tmpfs of `size` is mounted on path, else (False, why)."""
    os.makedirs(path, exist_ok=True)
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%s" % size, "tmpfs", path],
                       capture_output=True, timeout=30)
    if r.returncode != 0:
        return False, (r.stdout + r.stderr).decode("utf-8", "replace").strip() or \
            "mount exited %d" % r.returncode
    _mounts.append(path)
    return True, ""


def umount(path):
    if path in _mounts:
        r = subprocess.run(["umount", path], capture_output=True, timeout=30)
        if r.returncode != 0:
            subprocess.run(["umount", "-l", path], capture_output=True, timeout=30)
        _mounts.remove(path)


def cleanup_all():
    """Everything this run started: daemons, their children, mounts, dirs."""
    for d in _daemons:
        d.cleanup()
    kill_pids([p for p in tagged_pids(prefix=TAG)])
    for m in list(_mounts):
        umount(m)
    if not KEEP:
        for t in _tmpdirs:
            shutil.rmtree(t, ignore_errors=True)
    del _tmpdirs[:]


def _on_signal(signum, frame):
    raise KeyboardInterrupt("signal %d" % signum)


def install_cleanup():
    """Ctrl-C, SIGTERM, SIGHUP and a normal or failing exit all clean up."""
    atexit.register(cleanup_all)
    for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, _on_signal)


# ------------------------------------------------------------------ logs

class LogFollower:
    """New whole lines of a log file that the daemon rotates (renames to .1
    and reopens): the old file is read to its end before the new one."""

    def __init__(self, path):
        self.path = path
        self.fd = None
        self.ino = None
        self.carry = b""

    def _open(self):
        try:
            self.fd = os.open(self.path, os.O_RDONLY)
        except FileNotFoundError:
            return False
        self.ino = os.fstat(self.fd).st_ino
        return True

    def _drain(self):
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

    def lines(self):
        if self.fd is None and not self._open():
            return []
        out = self._drain()
        for _ in range(100):
            try:
                ino = os.stat(self.path).st_ino
            except FileNotFoundError:
                break
            if ino == self.ino:
                break
            out += self._drain()  # what was written before the rotation
            if self.carry:
                out.append(self.carry)
                self.carry = b""
            os.close(self.fd)
            self.fd = None
            if not self._open():
                break
            out += self._drain()
        return out

    def close(self):
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


RE_LINE = re.compile(rb"^w(\d{3}) (\d{8}) x{46}$")


def log_files(path):
    """The log and its backups, oldest first: path.N ... path.1, path."""
    d, base = os.path.split(path)
    nums = []
    for f in os.listdir(d or "."):
        if f.startswith(base + "."):
            tail = f[len(base) + 1:]
            if tail.isdigit():
                nums.append(int(tail))
    files = ["%s.%d" % (path, n) for n in sorted(nums, reverse=True)]
    if os.path.exists(path):
        files.append(path)
    return files, (max(nums) if nums else 0)


def check_writer(path, wid, last=None):
    """Lines of writer wid in its log (path and its rotated backups).

    Every sequence number 0..last must appear exactly once, in order.
    last: the writer's own record of its last line (wNNN.last) or None, and
    then the highest number seen is taken as the last.  Returns a dict:
      lines     whole well-formed lines found
      lost      numbers in 0..last missing
      dup       numbers seen more than once
      disorder  lines whose number is lower than one before it (not dups)
      bad       malformed lines (wrong id, torn line, junk)
      last_seen highest number seen, files, backups (highest .N)"""
    files, backups = log_files(path)
    data = b"".join(read(f, "rb") for f in files)
    seen = set()
    r = {"lines": 0, "lost": 0, "dup": 0, "disorder": 0, "bad": 0,
         "last_seen": -1, "files": len(files), "backups": backups,
         "bytes": len(data)}
    prev = -1
    parts = data.split(b"\n")
    if parts and parts[-1] == b"":
        parts.pop()  # a torn last line stays in and counts as bad
    for raw in parts:
        m = RE_LINE.match(raw)
        if not m or int(m.group(1)) != wid:
            r["bad"] += 1
            continue
        n = int(m.group(2))
        r["lines"] += 1
        if n in seen:
            r["dup"] += 1
            continue
        if n < prev:
            r["disorder"] += 1
        seen.add(n)
        prev = max(prev, n)
    r["last_seen"] = prev
    top = prev if last is None else last
    r["lost"] = sum(1 for n in range(top + 1) if n not in seen)
    r["beyond_last"] = sum(1 for n in seen if n > top)
    return r


def read_last(statedir, wid):
    try:
        return int(read(os.path.join(statedir, "w%03d.last" % wid)).strip())
    except (OSError, ValueError):
        return None


def read_progress(statedir, wid):
    """(last seq written, writer's monotonic time) or (None, None)."""
    try:
        a, b = read(os.path.join(statedir, "w%03d.progress" % wid)).split()
        return int(a), float(b)
    except (OSError, ValueError):
        return None, None


def fmt_mib(k):
    return "%.1f" % (k / 1024.0)


def table(rows, headers):
    """Plain text table: rows of strings."""
    widths = [max(len(str(x)) for x in col) for col in zip(headers, *rows)]
    line = "  ".join("%-*s" % (w, h) for w, h in zip(widths, headers))
    out = [line, "  ".join("-" * w for w in widths)]
    for r in rows:
        out.append("  ".join("%-*s" % (w, c) for w, c in zip(widths, r)))
    return "\n".join(out)
