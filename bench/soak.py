#!/usr/bin/env python3
"""Soak test: our daemon (the static binary) with 1000 programs for a while.

Usage (from the repo root):
    python3 bench/soak.py [--seconds N] [--interval S] [--exe PATH]
    make soak                     (SOAK_SECONDS=N to change the length)

Default length: SOAK_SECONDS or 600 s of steady state, after the start-up of
the 1000 programs and a ramp-up.  Stdlib only; builds nothing (`make soak`
builds the static binary first).  SOAK_KEEP=1 keeps the temp dir.

The programs (one [program:x] with numprocs each):
  * crash000..crash099: autorestart=true, startsecs=0, command
    /bin/sh -c 'test -e FLAG && exec /bin/sleep 100000; exit 1': each exits
    at once (status 1) and is started again, for the whole run (startsecs=0
    keeps them out of BACKOFF/FATAL: every exit counts as after RUNNING).
    FLAG (absent during the run) parks them for the quiet samples below.
  * writer000..writer049: bench/soak_writer.py, 20 numbered lines/s each
    (60 bytes a line, program id + sequence number) into a rotating
    stdout_logfile.  maxbytes is sized so each log rotates about 10 times
    over the run, backups=50 so no backup is ever deleted (checked).
  * idle000..idle849: /bin/sleep 100000.
All have the default AUTO stdout/stderr logs in childlogdir, except the
writers' named logs.  The daemon's RLIMIT_NOFILE is raised to 16384 (or the
hard limit if lower) and minfds is set to the same.

Phases:
  1. start; wait until every writer and idle program is RUNNING.
  2. quiet baseline Q0, after the crashers have looped for --ramp seconds:
     FLAG is created, so each crasher's next start runs a sleep and stays
     RUNNING; once all 100 do, the daemon's fds/threads once two readings
     agree.  Then stopProcessGroup('crash', wait), FLAG removed,
     startProcessGroup('crash'): the loop resumes.  (Why not just stop the
     group: a crasher seen between its exit and its restart is EXITED,
     which a stop skips; see bench/RESULTS.md.)
  3. steady state: after another --ramp seconds, a sample every --interval
     seconds for --seconds seconds.  Each sample line: zombie children of the
     daemon (now / still a zombie a second later), open fds (/proc/PID/fd),
     threads (/proc/PID/status Threads), RSS (VmRSS) and peak (VmHWM), the
     daemon's CPU over the window (utime+stime), restarts of the crashers in
     the window (from the activity log's "spawned: 'crashNNN'" lines), the
     latency of one getState over a fresh unix-socket connection, and the
     writers that did not advance since the last sample.
  4. end: the states of all programs; quiet sample Q1 (crashers parked
     again, as for Q0); stopProcessGroup('writer', wait) (each writer
     records its last line on SIGTERM); SIGTERM to the daemon; the writers'
     logs, backups included, checked line by line.

Checks (each PASS/FAIL in the summary; exit status 1 if any fails):
  * zombies: no child of the daemon is still a zombie a second after a
    sample saw it (a crasher caught between its exit and the reap is not a
    leak; one left unreaped is).
  * fds / threads, quiet: Q1 <= Q0 + 2 fds and Q1 <= Q0 + 1 thread (same
    1000 programs RUNNING in both, nothing in flight; the slack is for one
    HTTP connection being torn down).  This is the tight leak check.
  * fds / threads, steady: last sample <= first sample + 8 fds and + 1
    thread per crasher (+4 threads): a crasher in flight holds up to two
    pipe read ends, an eventfd, two log files and, while spawning, the
    child's pipe ends and std's exec-error pipe; and one pump thread.
  * RSS: last sample <= first sample * 1.10 + 1 MiB.
  * writers: every line 0..last (the writer's own record) exactly once, in
    order, no malformed line, no writer stalled for a whole window, the
    highest backup below backups (nothing deleted by rotation).
  * crash cadence: every crasher was restarted in every window (none
    starved, none stuck in BACKOFF/FATAL) and none is FATAL at the end.
    The rate itself is reported (restarts/s in all, per program), not
    judged: with startsecs=0 there is no delay before a restart.
  * RPC: getState answered at every sample; the daemon ran to the end and
    exited on SIGTERM in time, leaving no process of its own behind.
"""
import argparse
import collections
import os
import re
import resource
import statistics
import sys
import time

sys.dont_write_bytecode = True  # no bench/__pycache__ in the work tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import soaklib as L  # noqa: E402

RE_SPAWNED = re.compile(rb"spawned: '(crash\d+)' with pid")
RE_GAVEUP = re.compile(rb"gave up: (\S+) entered FATAL")
LINE_BYTES = 60
# WARN/CRIT lines that are expected here: the crashers' exits, running as
# root without user=, the SIGTERM at the end.
EXPECTED = re.compile(rb"exited: crash\d+ \(exit status 1; not expected\)|"
                      rb"Privileges were not dropped|received SIGTERM indicating exit|"
                      rb"stopped: ")


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--seconds", type=float,
                   default=float(os.environ.get("SOAK_SECONDS", "600")),
                   help="steady-state length (default SOAK_SECONDS or 600)")
    p.add_argument("--interval", type=float, default=10.0)
    p.add_argument("--ramp", type=float, default=15.0,
                   help="seconds of crash-looping before the quiet baseline, and"
                        " again before the first sample")
    p.add_argument("--programs", type=int, default=1000)
    p.add_argument("--crash", type=int, default=100)
    p.add_argument("--writers", type=int, default=50)
    p.add_argument("--rate", type=float, default=20.0, help="lines/s per writer")
    p.add_argument("--exe", default=L.OURS)
    return p.parse_args()


class Activity:
    """Counts from the activity log as it grows."""

    def __init__(self, path):
        self.follow = L.LogFollower(path)
        self.window = collections.Counter()  # crasher -> spawns this window
        self.total = collections.Counter()
        self.levels = collections.Counter()
        self.gaveup = []
        self.samples = {}  # level -> first few lines

    def poll(self):
        for line in self.follow.lines():
            m = RE_SPAWNED.search(line)
            if m:
                self.window[m.group(1).decode()] += 1
                continue
            parts = line.split(b" ", 3)
            if len(parts) >= 3:
                lvl = parts[2].decode("ascii", "replace")
                if lvl in ("CRIT", "ERRO", "WARN") and not EXPECTED.search(line):
                    self.levels[lvl] += 1
                    self.samples.setdefault(lvl, [])
                    if len(self.samples[lvl]) < 5:
                        self.samples[lvl].append(line.decode("utf-8", "replace"))
            m = RE_GAVEUP.search(line)
            if m:
                self.gaveup.append(m.group(1).decode())

    def take_window(self):
        w = self.window
        self.total.update(w)
        self.window = collections.Counter()
        return w


def quiet_sample(d, flag, crashers, what):
    """Crashers parked: the daemon's fds/threads with nothing in flight.

    Stopping a crash-looping group is not reliable (a crasher caught
    between its exit and its restart is EXITED, which stopProcessGroup
    skips), so the crashers are parked instead: while the flag file exists
    a crasher's next start execs /bin/sleep, which stays RUNNING.  The
    sample is taken once every crasher runs a sleep and two readings of
    (fds, threads) agree; the flag stays until the caller removes it."""
    with open(flag, "w"):
        pass

    def parked():
        infos = d.rpc("supervisor.getAllProcessInfo")
        for i in infos:
            if i["name"] in crashers:
                if i["statename"] != "RUNNING" or not i["pid"]:
                    return False
                try:
                    if b"sleep" not in L.read("/proc/%d/cmdline" % i["pid"], "rb"):
                        return False
                except OSError:
                    return False
        return True
    L.wait_until(parked, 120, 0.5, "all crashers parked on the flag")
    v = L.stable(lambda: (L.daemon_sample(d.pid)["fds"], L.daemon_sample(d.pid)["threads"]),
                 timeout=10, interval=0.5)
    s = L.daemon_sample(d.pid)
    print("%s: crashers parked (RUNNING /bin/sleep): fds %d, threads %d, RSS %s MiB" % (
        what, v[0], v[1], L.fmt_mib(s["rss"])), flush=True)
    return {"fds": v[0], "threads": v[1], "rss": s["rss"]}


def main():
    a = parse_args()
    idle = a.programs - a.crash - a.writers
    if idle < 0:
        sys.exit("--programs must be at least --crash + --writers")
    if not os.access(a.exe, os.X_OK):
        sys.exit("%s missing: run `make static` first" % a.exe)
    L.install_cleanup()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    nofile = 16384 if hard == resource.RLIM_INFINITY else min(16384, hard)
    # Each writer's log rotates ~10 times over the run; 50 backups keep all.
    run_secs = a.seconds + 2 * a.ramp + 120
    maxbytes = max(8192, int(a.rate * LINE_BYTES * run_secs / 10))
    backups = 50

    def programs():
        return [
            ("program:crash", {
                "command": "/bin/sh -c 'test -e %s && exec /bin/sleep 100000; exit 1'"
                           % flag,
                "numprocs": str(a.crash),
                "process_name": "crash%(process_num)03d",
                "autorestart": "true", "startsecs": "0"}),
            ("program:writer", {
                "command": "%s %s %%(process_num)d %g %s" % (
                    L.PYTHON, L.WRITER, a.rate, statedir),
                "numprocs": str(a.writers),
                "process_name": "writer%(process_num)03d",
                "autorestart": "false", "startsecs": "1",
                "stdout_logfile": os.path.join(wdir, "writer%(process_num)03d.log"),
                "stdout_logfile_maxbytes": str(maxbytes),
                "stdout_logfile_backups": str(backups),
                "stderr_logfile": os.path.join(wdir, "writer%(process_num)03d.err")}),
            ("program:idle", {
                "command": "/bin/sleep 100000", "numprocs": str(idle),
                "process_name": "idle%(process_num)03d", "startsecs": "1"}),
        ]

    # The dirs must exist before the config names them: make the daemon's
    # temp dir first, then write the config with the program sections.
    d = L.Daemon("soak", exe=a.exe, main={
        "minfds": str(nofile), "logfile_maxbytes": "50MB", "logfile_backups": "20"},
        nofile=(nofile, hard))
    statedir = os.path.join(d.tmp, "state")
    flag = os.path.join(d.tmp, "park-crashers")
    crashers = set("crash%03d" % i for i in range(a.crash))
    wdir = os.path.join(d.tmp, "writers")
    os.makedirs(statedir)
    os.makedirs(wdir)
    with open(d.conf, "a") as f:
        f.write("\n" + L.ini(programs()))

    print("soak: %s, %d programs (%d crash-looping, %d writers at %g lines/s,"
          " %d idle), RLIMIT_NOFILE %d, steady state %.0f s, a sample every %.0f s;"
          " writer logs maxbytes=%d backups=%d; temp dir %s" % (
              a.exe, a.programs, a.crash, a.writers, a.rate, idle, nofile,
              a.seconds, a.interval, maxbytes, backups, d.tmp), flush=True)
    results = []  # (check, PASS/FAIL, detail)

    def check(name, ok, detail):
        results.append((name, "PASS" if ok else "FAIL", detail))

    try:
        d.start()
        d.wait_rpc(120)
        act = Activity(d.log)
        steady = ["writer%03d" % i for i in range(a.writers)] + \
                 ["idle%03d" % i for i in range(idle)]
        d.wait_states(steady, ("RUNNING",), 600)
        t_up = time.monotonic() - d.t0
        s = L.daemon_sample(d.pid)
        print("all %d writers and idle programs RUNNING after %.1f s: fds %d, threads %d,"
              " RSS %s MiB" % (len(steady), t_up, s["fds"], s["threads"],
                               L.fmt_mib(s["rss"])), flush=True)

        def pause(secs):
            end = time.monotonic() + secs
            while time.monotonic() < end:
                act.poll()
                if not d.running():
                    raise RuntimeError("the daemon exited (rc=%s)" % d.proc.returncode)
                time.sleep(min(1.0, max(0.0, end - time.monotonic())))

        pause(a.ramp)
        q0 = quiet_sample(d, flag, crashers, "Q0")
        d.rpc("supervisor.stopProcessGroup", "crash", True, timeout=120)
        os.unlink(flag)
        d.rpc("supervisor.startProcessGroup", "crash", False)
        pause(a.ramp)
        act.poll()
        act.take_window()

        samples = []
        prev = L.daemon_sample(d.pid)
        prev_t = time.monotonic()
        prev_prog = {i: L.read_progress(statedir, i)[0] for i in range(a.writers)}
        t_start = prev_t
        next_t = prev_t + a.interval
        max_starved = 0
        stalled_total = 0
        rpc_fail = 0
        while True:
            pause(max(0.0, next_t - time.monotonic()))
            now = time.monotonic()
            z_now, z_left = L.zombies(d.pid, recheck=1.0)
            s = L.daemon_sample(d.pid)
            act.poll()
            w = act.take_window()
            dt = now - prev_t
            cpu = (s["ticks"] - prev["ticks"]) / L.CLK_TCK / dt
            per = [w.get("crash%03d" % i, 0) / dt for i in range(a.crash)]
            restarts = sum(w.values())
            starved = sum(1 for x in per if x == 0)
            t0 = time.monotonic()
            try:
                d.rpc("supervisor.getState", timeout=30)
                lat = "%.1f ms" % ((time.monotonic() - t0) * 1e3)
            except L.RPC_ERRORS as e:
                rpc_fail += 1
                lat = "FAILED (%s)" % e
            prog = {i: L.read_progress(statedir, i)[0] for i in range(a.writers)}
            stalled = [i for i in range(a.writers)
                       if prog[i] is None or (prev_prog[i] is not None and prog[i] <= prev_prog[i])]
            stalled_total += len(stalled)
            prev_prog = prog
            sample = dict(s, t=now - t_start, cpu=cpu, z=len(z_now), zleft=len(z_left),
                          restarts=restarts, rate=restarts / dt,
                          pmin=min(per) if per else 0, pmed=statistics.median(per) if per else 0,
                          pmax=max(per) if per else 0, starved=starved)
            samples.append(sample)
            max_starved = max(max_starved, starved)
            print("[%5.0fs] zombies %d (left %d)  fds %d  threads %d  RSS %s MiB (peak %s)"
                  "  CPU %.0f%%  restarts %d (%.0f/s; per crasher %.1f/%.1f/%.1f min/med/max,"
                  " %d none)  getState %s  writers stalled %d" % (
                      sample["t"], len(z_now), len(z_left), s["fds"], s["threads"],
                      L.fmt_mib(s["rss"]), L.fmt_mib(s["hwm"]), cpu * 100, restarts,
                      restarts / dt, sample["pmin"], sample["pmed"], sample["pmax"],
                      starved, lat, len(stalled)), flush=True)
            prev, prev_t = s, now
            next_t += a.interval
            if now - t_start >= a.seconds - 0.5:
                break

        # ---- end of the steady state
        states = d.states()
        by_group = collections.defaultdict(collections.Counter)
        for n, st in states.items():
            by_group[re.sub(r"\d+$", "", n)][st] += 1
        print("states at the end: " + "; ".join(
            "%s %s" % (g, dict(c)) for g, c in sorted(by_group.items())), flush=True)
        q1 = quiet_sample(d, flag, crashers, "Q1")
        t0 = time.monotonic()
        d.rpc("supervisor.stopProcessGroup", "writer", True, timeout=120)
        print("writers stopped in %.1f s" % (time.monotonic() - t0), flush=True)
        act.poll()
        hwm = L.daemon_sample(d.pid)["hwm"]
        shut = d.sigterm_and_wait(120)
        act.poll()
        act.take_window()
        try:  # the daemon's children may take a moment to go after it
            L.wait_until(lambda: not d.leftovers(), 10, 0.2, "leftovers")
        except TimeoutError:
            pass
        left = d.leftovers()

        # ---- checks
        first, last = samples[0], samples[-1]
        zl = sum(x["zleft"] for x in samples)
        zn = max(x["z"] for x in samples)
        check("zombies", zl == 0,
              "unreaped a second later: %d in all samples; max in flight at a sample: %d"
              % (zl, zn))
        check("fds quiet (Q0 -> Q1)", q1["fds"] <= q0["fds"] + 2,
              "%d -> %d (tolerance +2)" % (q0["fds"], q1["fds"]))
        check("threads quiet (Q0 -> Q1)", q1["threads"] <= q0["threads"] + 1,
              "%d -> %d (tolerance +1)" % (q0["threads"], q1["threads"]))
        check("fds steady (first -> last)", last["fds"] <= first["fds"] + 8 * a.crash,
              "%d -> %d (min %d, max %d; tolerance +%d)" % (
                  first["fds"], last["fds"], min(x["fds"] for x in samples),
                  max(x["fds"] for x in samples), 8 * a.crash))
        check("threads steady (first -> last)", last["threads"] <= first["threads"] + a.crash + 4,
              "%d -> %d (min %d, max %d; tolerance +%d)" % (
                  first["threads"], last["threads"], min(x["threads"] for x in samples),
                  max(x["threads"] for x in samples), a.crash + 4))
        rss_lim = first["rss"] * 1.10 + 1024
        check("RSS (first -> last)", last["rss"] <= rss_lim,
              "%s -> %s MiB (limit %s; max at a sample %s; peak VmHWM %s; Q0 %s, Q1 %s)" % (
                  L.fmt_mib(first["rss"]), L.fmt_mib(last["rss"]), L.fmt_mib(rss_lim),
                  L.fmt_mib(max(x["rss"] for x in samples)), L.fmt_mib(hwm),
                  L.fmt_mib(q0["rss"]), L.fmt_mib(q1["rss"])))
        check("getState at every sample", rpc_fail == 0, "%d failed of %d" % (rpc_fail, len(samples)))

        # crash cadence
        fatal = [n for n, st in states.items() if n.startswith("crash") and st == "FATAL"]
        total_restarts = sum(x["restarts"] for x in samples)
        steady_secs = sum(a.interval for _ in samples)
        rates = [x["rate"] for x in samples]
        check("crashers restarted in every window", max_starved == 0 and not fatal,
              "windows with a crasher not restarted: max %d crashers; FATAL at the end: %d;"
              " gave up lines: %d" % (max_starved, len(fatal), len(act.gaveup)))
        cadence = ("%d restarts in %.0f s of samples: %.0f/s in all (windows %.0f-%.0f),"
                   " %.1f/s per crasher (median of windows; min window min %.1f, max %.1f);"
                   " daemon CPU %.0f%% of a core on average" % (
                       total_restarts, steady_secs, total_restarts / max(steady_secs, 1),
                       min(rates), max(rates), statistics.median(x["pmed"] for x in samples),
                       min(x["pmin"] for x in samples), max(x["pmax"] for x in samples),
                       100 * statistics.mean(x["cpu"] for x in samples)))
        results.append(("crash cadence (reported)", "INFO", cadence))

        # writers
        tot = collections.Counter()
        missing_last = []
        worst = []
        for i in range(a.writers):
            last_seq = L.read_last(statedir, i)
            if last_seq is None:
                missing_last.append(i)
            r = L.check_writer(os.path.join(wdir, "writer%03d.log" % i), i, last_seq)
            for k in ("lines", "lost", "dup", "disorder", "bad", "beyond_last", "bytes"):
                tot[k] += r[k]
            tot["max_backup"] = max(tot["max_backup"], r["backups"])
            if r["lost"] or r["dup"] or r["disorder"] or r["bad"] or r["beyond_last"]:
                worst.append("writer%03d %s" % (i, r))
        ok = not (tot["lost"] or tot["dup"] or tot["disorder"] or tot["bad"]
                  or tot["beyond_last"] or missing_last) and tot["max_backup"] < backups
        check("writer lines", ok,
              "%d lines (%.1f MiB) from %d writers: lost %d, duplicated %d, out of order %d,"
              " malformed %d, after the recorded last %d; no .last record: %d; highest"
              " backup .%d of %d%s" % (
                  tot["lines"], tot["bytes"] / L.MiB, a.writers, tot["lost"], tot["dup"],
                  tot["disorder"], tot["bad"], tot["beyond_last"], len(missing_last),
                  tot["max_backup"], backups, ("; " + "; ".join(worst[:3])) if worst else ""))
        check("writers never stalled a whole window", stalled_total == 0,
              "%d writer-windows without progress" % stalled_total)
        check("shutdown", shut is not None and not left and shut < 120,
              "SIGTERM -> exit in %s s (rc %s); processes left behind: %d" % (
                  "%.2f" % shut if shut is not None else "(not within 120)",
                  d.proc.returncode, len(left)))
        results.append(("activity log (reported)", "INFO",
                        "CRIT %d, ERRO %d, WARN %d lines%s" % (
                            act.levels["CRIT"], act.levels["ERRO"], act.levels["WARN"],
                            "".join("; e.g. " + v[0] for v in act.samples.values()))))

        # ---- summary
        print()
        rows = [["Q0 (parked)", "", "", q0["fds"], q0["threads"], L.fmt_mib(q0["rss"]), "", ""]]
        rows += [["%.0f s" % x["t"], x["z"], x["zleft"], x["fds"], x["threads"],
                  L.fmt_mib(x["rss"]), "%.0f" % (100 * x["cpu"]), "%.0f" % x["rate"]]
                 for x in (samples[0], samples[-1])]
        rows.append(["max of samples", zn, max(x["zleft"] for x in samples),
                     max(x["fds"] for x in samples), max(x["threads"] for x in samples),
                     "%s (VmHWM %s)" % (L.fmt_mib(max(x["rss"] for x in samples)),
                                        L.fmt_mib(hwm)),
                     "%.0f" % (100 * max(x["cpu"] for x in samples)), "%.0f" % max(rates)])
        rows.append(["Q1 (parked)", "", "", q1["fds"], q1["threads"], L.fmt_mib(q1["rss"]), "", ""])
        print(L.table(rows, ["sample", "zombies", "unreaped", "fds", "threads", "RSS MiB",
                             "CPU %", "restarts/s"]))
        print()
        for n, r, det in results:
            print("%-4s  %s: %s" % (r, n, det))
        failed = [n for n, r, _ in results if r == "FAIL"]
        print("\nsoak: %s" % ("PASS" if not failed else "FAIL: " + ", ".join(failed)), flush=True)
        return 1 if failed else 0
    except KeyboardInterrupt as e:
        print("soak: interrupted (%s); cleaning up" % e, flush=True)
        return 130
    except Exception as e:  # a harness error is not a PASS either
        print("soak: ERROR: %s: %s" % (type(e).__name__, e), flush=True)
        if d.proc is not None:
            print("daemon output (tail):\n" + d.output()[-3000:], flush=True)
        return 2
    finally:
        L.cleanup_all()


if __name__ == "__main__":
    sys.exit(main())
