#!/usr/bin/env python3
"""Fault injection against our daemon (the static binary), one fault at a time.

Usage (from the repo root):
    python3 bench/faults.py [--only NAME[,NAME]] [--python] [--exe PATH]
    make soak                    (runs bench/soak.py, then this)

Each fault starts its own daemon in a temp dir, injects the fault, prints
what it observed and PASS, FAIL or SKIP (with the reason).  A FAIL is the
daemon's (or the harness's) misbehaviour as observed, not hidden.  Exit
status 1 if any fault FAILed.  --python runs the same faults against
Python Supervisor 4.3.0 (target/pyref, `make pyref`) for comparison: its
wording and behaviour are the reference, not a requirement here.
Stdlib only; every wait is bounded.

Faults (NAME: what is done; what PASS means):
  sigstop   10 writers (bench/soak_writer.py, 500 numbered lines/s each, so
            their 64 KiB pipes fill within about 2 s) run; the daemon gets
            SIGSTOP for 5 s, then SIGCONT.  PASS: `supervisorctl status`
            (ours: `supervisord ctl -c CONF status`) answers with every
            program RUNNING, the writers catch up, and every line each
            writer wrote is in its log exactly once, in order.
  usr2      the activity log file is deleted, then SIGUSR2.  PASS: the file
            is there again and a later event (stopProcess of a program: its
            "stopped:" line) lands in it.
  socket    the unix socket file is deleted (a TCP server is configured
            too, to reach the daemon meanwhile).  PASS: the daemon keeps
            running and answering over TCP, and after SIGHUP the socket file
            exists again and answers getState.  What it logged is shown.
  stdout    two children close their output and keep running
            (`sh -c 'exec 1>&-; sleep 1000'` and the same with 2>&- too).
            PASS: both stay RUNNING and the daemon uses under 0.05 s of CPU
            in 5 s (no busy loop on the closed pipe).
  bigline   a child writes 1 GiB without a newline
            (`head -c 1073741824 /dev/zero | tr '\\0' x`) to a rotating
            stdout_logfile (maxbytes=256MB, backups=8).  PASS: the log and
            its backups hold exactly 1 GiB of 'x', and the daemon's RSS
            (sampled every 0.1 s, and VmHWM) stays within 32 MiB of what it
            was before.
  diskfull  a 2 MiB tmpfs holds one writer's stdout_logfile (no rotation);
            a ballast file fills it.  PASS: while full, the daemon and the
            child keep running and the child is not blocked (its own
            progress record keeps advancing: the pipe is drained), the
            error is in the activity log (how often is reported); after the
            ballast is deleted, new lines land in the log again.  SKIP if
            the tmpfs cannot be mounted.
  emfile    RLIMIT_NOFILE 256 (soft and hard, the daemon only; minfds=64)
            and 200 programs.  PASS: the daemon keeps running and answers
            getState; every program that is not RUNNING has a spawn error
            naming it in the activity log; the wording is compared with
            Python's "spawnerr: too many open files to spawn 'x'".
"""
import argparse
import collections
import os
import re
import signal
import sys
import time

sys.dont_write_bytecode = True  # no bench/__pycache__ in the work tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import soaklib as L  # noqa: E402

GiB = 1 << 30


class Outcome(Exception):
    """Raised to end a fault early with a verdict."""

    def __init__(self, verdict, text):
        Exception.__init__(self, text)
        self.verdict = verdict


def new_daemon(name, exe, **kw):
    return L.Daemon(name, exe=exe, **kw)


def writer_sections(d, n, rate, logdir, opts=None, name="writer"):
    statedir = os.path.join(d.tmp, "state")
    os.makedirs(statedir, exist_ok=True)
    o = {"command": "%s %s %%(process_num)d %g %s" % (L.PYTHON, L.WRITER, rate, statedir),
         "numprocs": str(n), "process_name": name + "%(process_num)03d",
         "autorestart": "false", "startsecs": "1",
         "stdout_logfile": os.path.join(logdir, name + "%(process_num)03d.log"),
         "stdout_logfile_maxbytes": "0",
         "stderr_logfile": os.path.join(d.tmp, name + "%(process_num)03d.err")}
    o.update(opts or {})
    return statedir, [("program:" + name, o)]


def log_since(d, offset):
    text = d.log_text()
    return text[offset:] if len(text) >= offset else text


def short(lines, n=6):
    lines = [x for x in lines if x.strip()]
    if len(lines) > n:
        lines = lines[:n] + ["... (%d more)" % (len(lines) - n)]
    return " | ".join(lines)


# ---------------------------------------------------------------- faults

def fault_sigstop(exe):
    d = new_daemon("sigstop", exe)
    n, rate, hold = 10, 500.0, 5.0
    statedir, secs = writer_sections(d, n, rate, d.tmp)
    d.append(secs + [("program:idle", {"command": "/bin/sleep 100000", "startsecs": "1"})])
    d.start()
    d.wait_rpc()
    names = ["writer%03d" % i for i in range(n)] + ["idle"]
    d.wait_states(names, ("RUNNING",), 60)
    time.sleep(2)
    before = {i: L.read_progress(statedir, i) for i in range(n)}
    os.kill(d.pid, signal.SIGSTOP)
    t_stop = time.monotonic()
    L.wait_until(lambda: L.proc_stat(d.pid)["state"] == "T", 5, 0.01, "daemon stopped")
    time.sleep(max(0.0, hold - (time.monotonic() - t_stop)))
    end = {i: L.read_progress(statedir, i) for i in range(n)}
    os.kill(d.pid, signal.SIGCONT)
    t_cont = time.monotonic()
    # A writer writing records its progress about once a second: one whose
    # record is older than 1.5 s at the end of the stop was blocked on a
    # full pipe.
    blocked = sum(1 for i in range(n) if end[i][1] is None or t_cont - end[i][1] > 1.5)
    rc, out = d.ctl("status", timeout=30)
    t_status = time.monotonic() - t_cont
    running = out.count("RUNNING")

    # Back on schedule: each writer has written the lines due since the
    # record before the stop (less 1.5 s of them: the record is ~1/s).
    def caught_up():
        now = time.monotonic()
        for i in range(n):
            seq, _ = L.read_progress(statedir, i)
            b_seq, b_at = before[i]
            if seq is None or b_seq is None or seq < b_seq + rate * (now - b_at - 1.5):
                return False
        return True
    try:
        L.wait_until(caught_up, 30, 0.05, "writers back on schedule")
        t_resume = time.monotonic() - t_cont
    except TimeoutError:
        t_resume = None
    time.sleep(1.0)
    d.rpc("supervisor.stopProcessGroup", "writer", True, timeout=60)
    tot = collections.Counter()
    for i in range(n):
        r = L.check_writer(os.path.join(d.tmp, "writer%03d.log" % i), i,
                           L.read_last(statedir, i))
        for k in ("lines", "lost", "dup", "disorder", "bad", "beyond_last"):
            tot[k] += r[k]
    lines_stop = sum((end[i][0] or 0) - (before[i][0] or 0) for i in range(n))
    ok = (rc == 0 and running == n + 1 and t_resume is not None and
          not (tot["lost"] or tot["dup"] or tot["disorder"] or tot["bad"] or tot["beyond_last"]))
    return ("PASS" if ok else "FAIL",
            "daemon SIGSTOPped %.0f s with %d writers at %.0f lines/s: %d of %d writers blocked"
            " on a full pipe by the end of the stop (%d lines written in the stop, ~%d KiB a"
            " pipe); after SIGCONT `status` answered in %.2f s (rc %s, %d/%d RUNNING), writers back on"
            " schedule in %s; %d lines checked: lost %d, duplicated %d, out of order %d,"
            " malformed %d" % (
                hold, n, rate, blocked, n, lines_stop, lines_stop * 60 / n / 1024, t_status, rc, running, n + 1,
                "%.1f s" % t_resume if t_resume is not None else "(not within 30 s)",
                tot["lines"], tot["lost"], tot["dup"], tot["disorder"], tot["bad"]))


def fault_usr2(exe):
    d = new_daemon("usr2", exe)
    d.append([("program:ping", {"command": "/bin/sleep 100000", "startsecs": "1"})])
    d.start()
    d.wait_rpc()
    d.wait_states(["ping"], ("RUNNING",), 30)
    os.unlink(d.log)
    time.sleep(0.5)
    alive = d.running()
    os.kill(d.pid, signal.SIGUSR2)
    try:
        L.wait_until(lambda: os.path.exists(d.log), 10, 0.05, "activity log recreated")
        recreated = True
    except TimeoutError:
        recreated = False
    d.rpc("supervisor.stopProcess", "ping", True)
    try:
        L.wait_until(lambda: "stopped: ping" in d.log_text(), 10, 0.05, "stopped line")
        landed = True
    except TimeoutError:
        landed = False
    text = d.log_text().splitlines()
    ok = alive and recreated and landed and d.running()
    return ("PASS" if ok else "FAIL",
            "log deleted, daemon %s; after SIGUSR2 the file was %s; the next event's"
            " line %s; new file starts: %s" % (
                "still running" if alive else "DIED",
                "recreated" if recreated else "NOT recreated within 10 s",
                "landed in it" if landed else "did NOT land in it",
                short([x[24:] for x in text], 4)))


def fault_socket(exe):
    d = new_daemon("socket", exe, inet=True)
    d.append([("program:ping", {"command": "/bin/sleep 100000", "startsecs": "1"})])
    d.start()
    d.wait_rpc()
    d.wait_states(["ping"], ("RUNNING",), 30)
    off = len(d.log_text())
    os.unlink(d.sock)
    time.sleep(2.0)
    alive = d.running()
    try:
        tcp_ok = L.rpc_tcp_call(d.port, "supervisor.getState", timeout=10)["statename"] == "RUNNING"
    except L.RPC_ERRORS:
        tcp_ok = False
    logged = [x[24:] for x in log_since(d, off).splitlines()]
    off = len(d.log_text())
    os.kill(d.pid, signal.SIGHUP)
    try:
        L.wait_until(lambda: os.path.exists(d.sock), 20, 0.1, "socket file back")
        back = True
    except TimeoutError:
        back = False
    answers = False
    if back:
        try:
            L.wait_until(lambda: d.rpc("supervisor.getState", timeout=5)["statename"] == "RUNNING",
                         20, 0.2, "getState on the new socket")
            answers = True
        except (TimeoutError,) + L.RPC_ERRORS:
            answers = False
    try:  # the daemon is back from the HUP either way (TCP)
        L.wait_until(lambda: L.rpc_tcp_call(d.port, "supervisor.getState", timeout=5)
                     ["statename"] == "RUNNING", 20, 0.2, "getState over TCP after HUP")
        tcp_after = True
    except (TimeoutError,) + L.RPC_ERRORS:
        tcp_after = False
    hup_log = [x[24:] for x in log_since(d, off).splitlines()]
    ok = alive and tcp_ok and back and answers
    return ("PASS" if ok else "FAIL",
            "socket file deleted: daemon %s, TCP getState %s, logged %s; after SIGHUP"
            " (TCP answers again: %s): socket file %s%s; HUP log: %s" % (
                "running" if alive else "DIED", "answers" if tcp_ok else "FAILS",
                "nothing" if not logged else repr(short(logged, 3)),
                "yes" if tcp_after else "no",
                "recreated" if back else "NOT recreated within 20 s",
                (", getState on it " + ("answers" if answers else "FAILS")) if back else "",
                short(hup_log, 8)))


def fault_stdout(exe):
    d = new_daemon("stdout", exe)
    d.append([
        ("program:closed1", {"command": "/bin/sh -c 'exec 1>&-; exec /bin/sleep 1000'",
                             "startsecs": "1"}),
        ("program:closed12", {"command": "/bin/sh -c 'exec 1>&- 2>&-; exec /bin/sleep 1000'",
                              "startsecs": "1"}),
    ])
    d.start()
    d.wait_rpc()
    d.wait_states(["closed1", "closed12"], ("RUNNING",), 30)
    time.sleep(1.0)
    s0 = L.daemon_sample(d.pid)
    time.sleep(5.0)
    s1 = L.daemon_sample(d.pid)
    cpu = (s1["ticks"] - s0["ticks"]) / L.CLK_TCK
    st = d.states()
    ok = st.get("closed1") == "RUNNING" and st.get("closed12") == "RUNNING" and cpu < 0.05
    return ("PASS" if ok else "FAIL",
            "stdout closed: %s; stdout and stderr closed: %s; daemon CPU over 5 s: %.2f s;"
            " threads %d -> %d, fds %d -> %d" % (
                st.get("closed1"), st.get("closed12"), cpu, s0["threads"], s1["threads"],
                s0["fds"], s1["fds"]))


def fault_bigline(exe):
    d = new_daemon("bigline", exe)
    log = os.path.join(d.tmp, "big.log")
    st = os.statvfs(d.tmp)
    if st.f_bavail * st.f_frsize < 3 * GiB:
        raise Outcome("SKIP", "less than 3 GiB free in %s" % d.tmp)
    d.append([("program:big", {
        "command": "/bin/sh -c \"head -c %d /dev/zero | tr '\\0' x\"" % GiB,
        "autostart": "false", "autorestart": "false", "startsecs": "0",
        "stdout_logfile": log, "stdout_logfile_maxbytes": "256MB",
        "stdout_logfile_backups": "8"})])
    d.start()
    d.wait_rpc()
    time.sleep(0.5)
    base = L.daemon_sample(d.pid)
    t0 = time.monotonic()
    d.rpc("supervisor.startProcess", "big", False)
    peak = base["rss"]
    deadline = t0 + 600
    while time.monotonic() < deadline:
        peak = max(peak, L.daemon_sample(d.pid)["rss"])
        if d.states().get("big") in ("EXITED", "FATAL", "BACKOFF", "STOPPED"):
            break
        time.sleep(0.1)
    state = d.states().get("big")

    def total():
        return sum(os.path.getsize(f) for f in L.log_files(log)[0])
    size = L.stable(total, timeout=30, interval=0.5)
    secs = time.monotonic() - t0
    s = L.daemon_sample(d.pid)
    peak = max(peak, s["rss"])
    files, _ = L.log_files(log)
    other = 0
    for f in files:
        with open(f, "rb") as fh:
            while True:
                b = fh.read(1 << 24)
                if not b:
                    break
                other += len(b) - b.count(b"x")
    ok = size == GiB and other == 0 and peak <= base["rss"] + 32 * 1024 and \
        s["hwm"] <= max(base["hwm"], base["rss"]) + 32 * 1024
    return ("PASS" if ok else "FAIL",
            "child %s; logged %d bytes in %d files (expected %d), %d not 'x'; %.1f s"
            " (%.0f MiB/s); daemon RSS %s MiB before, peak %s MiB sampled, VmHWM %s MiB"
            " (was %s)" % (
                state, size, len(files), GiB, other, secs, size / L.MiB / max(secs, 1e-3),
                L.fmt_mib(base["rss"]), L.fmt_mib(peak), L.fmt_mib(s["hwm"]),
                L.fmt_mib(base["hwm"])))


def fault_diskfull(exe):
    d = new_daemon("diskfull", exe)
    full = os.path.join(d.tmp, "full")
    ok_m, why = L.mount_tmpfs(full, "2m")
    if not ok_m:
        raise Outcome("SKIP", "cannot mount a tmpfs: %s" % why)
    try:
        return _diskfull(d, full)
    finally:
        d.cleanup()  # the log file must be closed before the umount
        L.umount(full)


def _diskfull(d, full):
    rate = 1000.0
    statedir, secs = writer_sections(d, 1, rate, full)
    d.append(secs)
    d.start()
    d.wait_rpc()
    d.wait_states(["writer000"], ("RUNNING",), 30)
    log = os.path.join(full, "writer000.log")
    time.sleep(1.0)
    st = os.statvfs(full)
    free = st.f_bavail * st.f_frsize
    ballast = os.path.join(full, "ballast")
    with open(ballast, "wb") as f:
        try:
            f.write(b"\0" * max(0, free - 128 * 1024))
        except OSError:
            pass
    off = len(d.log_text())
    try:
        L.wait_until(lambda: os.statvfs(full).f_bavail == 0, 30, 0.1, "tmpfs full")
    except TimeoutError:
        raise Outcome("FAIL", "the tmpfs did not fill up within 30 s (free %d)"
                      % (os.statvfs(full).f_bavail * os.statvfs(full).f_frsize))
    t_full = time.monotonic()
    seq_full = L.read_progress(statedir, 0)[0]
    size_full = os.path.getsize(log)
    time.sleep(10.0)
    seq_later, at_later = L.read_progress(statedir, 0)
    alive = d.running()
    state = d.states().get("writer000")
    advanced = (seq_later or 0) - (seq_full or 0)
    fresh = at_later is not None and time.monotonic() - at_later < 2.0
    full_log = [x[24:] for x in log_since(d, off).splitlines()]
    errors = [x for x in full_log if "ERRO" in x[:6] or "error" in x.lower()]
    # Free the space and see the writing resume.
    off2 = len(d.log_text())
    os.unlink(ballast)
    seq_free = L.read_progress(statedir, 0)[0] or 0
    t_free = time.monotonic()

    def resumed():
        try:
            with open(log, "rb") as f:
                f.seek(max(0, os.path.getsize(log) - 4096))
                tail = f.read()
        except OSError:
            return False
        for m in re.finditer(rb"w000 (\d{8}) ", tail):
            if int(m.group(1)) > seq_free:
                return True
        return False
    try:
        L.wait_until(resumed, 15, 0.1, "lines after the space was freed")
        t_resumed = time.monotonic() - t_free
    except TimeoutError:
        t_resumed = None
    after_log = [x[24:] for x in log_since(d, off2).splitlines()]
    d.rpc("supervisor.stopProcess", "writer:writer000", True)
    r = L.check_writer(log, 0, L.read_last(statedir, 0))
    ok = alive and state == "RUNNING" and advanced > rate * 5 and fresh and errors \
        and t_resumed is not None
    return ("PASS" if ok else "FAIL",
            "2 MiB tmpfs full after %d bytes of log; over 10 s full: daemon %s, child %s,"
            " child wrote %d more lines (not blocked: %s); activity log while full: %d"
            " error line(s): %s; after freeing: new lines in the log after %s, activity"
            " log: %s; the log then holds %d lines, %d lost (written while full), %d"
            " malformed (torn at the edges), %d duplicated" % (
                size_full, "running" if alive else "DIED", state, advanced,
                "yes" if fresh and advanced > rate * 5 else "NO",
                len(errors), repr(short(errors, 3)) if errors else "nothing",
                "%.1f s" % t_resumed if t_resumed is not None else "NOT within 15 s",
                repr(short(after_log, 3)) if after_log else "nothing",
                r["lines"], r["lost"], r["bad"], r["dup"]))


def fault_emfile(exe):
    n = 200
    d = new_daemon("emfile", exe, main={"minfds": "64"}, nofile=(256, 256))
    d.append([("program:p", {"command": "/bin/sleep 100000", "numprocs": str(n),
                             "process_name": "p%(process_num)03d", "startsecs": "1"})])
    d.start()
    try:
        d.wait_rpc(60)
        first_rpc = True
    except (TimeoutError, RuntimeError) as e:
        first_rpc = False
        if not d.running():
            raise Outcome("FAIL", "the daemon exited: %s" % e)
    # Let the retries play out: BACKOFF 1+2+3 s, then FATAL.
    settle_until = time.monotonic() + 30
    st = {}
    while time.monotonic() < settle_until:
        try:
            st = d.states()
        except L.RPC_ERRORS:
            st = {}
        if st and not any(v in ("STARTING", "BACKOFF") for v in st.values()):
            break
        time.sleep(1.0)
    answered = 0
    for _ in range(5):
        try:
            if d.rpc("supervisor.getState", timeout=10)["statename"] == "RUNNING":
                answered += 1
        except L.RPC_ERRORS:
            pass
    counts = collections.Counter(st.values())
    text = d.log_text().splitlines()
    spawnerr = [x[24:] for x in text if "spawnerr:" in x]
    kinds = collections.Counter(re.sub(r"'p\d+'", "'pNNN'", x) for x in spawnerr)
    named = set(re.findall(r"spawnerr: .*'(p\d+)'", "\n".join(spawnerr)))
    not_running = {k for k, v in st.items() if v != "RUNNING"}
    unexplained = not_running - named
    crit = [x[24:] for x in text if " CRIT " in x and "running as root" not in x
            and "without any HTTP authentication" not in x]
    python_word = sum(1 for x in spawnerr if re.search(r"spawnerr: too many open files to spawn 'p\d+'$", x))
    s = L.daemon_sample(d.pid) if d.running() else {"fds": -1}
    ok = d.running() and answered > 0 and bool(st) and not unexplained
    return ("PASS" if ok else "FAIL",
            "RLIMIT_NOFILE 256, %d programs: states %s; daemon fds %d; getState answered"
            " %d/5%s; %d spawnerr lines for %d programs (%d in Python's exact wording): %s;"
            " not RUNNING without a spawnerr naming them: %d; other CRIT lines: %s" % (
                n, dict(counts), s["fds"], answered,
                "" if first_rpc else " (no answer during start-up)",
                len(spawnerr), len(named), python_word,
                short(["%dx %s" % (c, k) for k, c in kinds.most_common()], 4),
                len(unexplained), repr(short(crit, 3)) if crit else "none"))


FAULTS = [("sigstop", fault_sigstop), ("usr2", fault_usr2), ("socket", fault_socket),
          ("stdout", fault_stdout), ("bigline", fault_bigline), ("diskfull", fault_diskfull),
          ("emfile", fault_emfile)]


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--only", default="", help="comma-separated fault names")
    p.add_argument("--python", action="store_true",
                   help="run against Python Supervisor 4.3.0 (target/pyref) instead")
    p.add_argument("--exe", default=None)
    a = p.parse_args()
    exe = a.exe or (L.PYREF if a.python else L.OURS)
    if not os.access(exe, os.X_OK):
        sys.exit("%s missing: run `make static` (or `make pyref`) first" % exe)
    only = [x for x in a.only.split(",") if x]
    unknown = set(only) - {n for n, _ in FAULTS}
    if unknown:
        sys.exit("unknown fault(s): %s (known: %s)" % (
            ", ".join(sorted(unknown)), ", ".join(n for n, _ in FAULTS)))
    L.install_cleanup()
    print("faults: %s" % exe, flush=True)
    results = []
    try:
        for name, fn in FAULTS:
            if only and name not in only:
                continue
            print("--- %s" % name, flush=True)
            t0 = time.monotonic()
            try:
                verdict, text = fn(exe)
            except Outcome as o:
                verdict, text = o.verdict, str(o)
            except Exception as e:  # a harness error or a hung daemon: a FAIL
                verdict, text = "FAIL", "%s: %s" % (type(e).__name__, e)
            finally:
                L.cleanup_all()
            print("%s  %s (%.0f s): %s" % (verdict, name, time.monotonic() - t0, text),
                  flush=True)
            results.append((name, verdict))
    except KeyboardInterrupt as e:
        print("faults: interrupted (%s); cleaning up" % e, flush=True)
        return 130
    finally:
        L.cleanup_all()
    print("\nfaults: " + ", ".join("%s %s" % r for r in results))
    return 1 if any(v == "FAIL" for _, v in results) else 0


if __name__ == "__main__":
    sys.exit(main())
