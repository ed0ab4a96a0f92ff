#!/usr/bin/env python3
"""Numbered-line writer for bench/soak.py and bench/faults.py.

Usage: soak_writer.py ID RATE STATEDIR

Writes line i (i = 0, 1, 2, ...) to stdout until SIGTERM/SIGINT, on a fixed
schedule (line i is due at start + i / RATE; a late line is written at once,
so the writer catches up and never skips a number).  Line i is

    b"w%03d %08d " % (ID, i) + b"x" * 46 + b"\\n"    (60 bytes)

one os.write each, less than PIPE_BUF, so each write lands in the pipe whole.

What the checks rely on:
  * STATEDIR/wID.last is written when the writer stops on SIGTERM/SIGINT: the
    number of the last line whose write() returned (-1 if none).  Every line
    0..last must then be in the writer's log exactly once, in order.
  * STATEDIR/wID.progress is rewritten (write + rename) about once a second
    with "SEQ MONOTONIC_TIME": the last line written so far.  A writer
    blocked in write() (its pipe not drained) stops advancing it.
"""
import os
import signal
import sys
import time

PAD = b"x" * 46


def line(wid, i):
    return b"w%03d %08d %s\n" % (wid, i, PAD)


def put(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.rename(tmp, path)


def main():
    wid, rate, statedir = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
    stop = []

    def on_signal(signum, frame):
        stop.append(signum)  # the loop checks it; a blocked write completes first

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    progress = os.path.join(statedir, "w%03d.progress" % wid)
    last = -1
    t0 = time.monotonic()
    next_progress = t0
    i = 0
    while not stop:
        now = time.monotonic()
        delay = t0 + i / rate - now
        if delay > 0:
            time.sleep(min(delay, 0.5))
            continue
        os.write(1, line(wid, i))
        last = i
        i += 1
        done = time.monotonic()
        if done >= next_progress:
            put(progress, "%d %.3f\n" % (last, done))
            next_progress = done + 1.0
    put(os.path.join(statedir, "w%03d.last" % wid), "%d\n" % last)


if __name__ == "__main__":
    main()
