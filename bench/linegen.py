#!/usr/bin/env python3
"""Steady line producer for bench/run.py (the "50 children" metric).

Usage: linegen.py ID RATE SECONDS

Writes int(RATE * SECONDS) lines to stdout, one os.write each, on a fixed
schedule (line i is due at start + i / RATE; a late line is written at
once, so the producer catches up and never drops a line).  Line i is
b"%02d %06d %s\\n" % (ID, i, PAD): 60 bytes, less than PIPE_BUF, so each
write lands in the pipe whole.  bench/run.py checks every line arrived in
the child's log, in order.
"""
import os
import sys
import time

PAD = b"x" * 49


def line(cid, i):
    return b"%02d %06d %s\n" % (cid, i, PAD)


def main():
    cid, rate, secs = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
    n = int(rate * secs)
    t0 = time.monotonic()
    for i in range(n):
        delay = t0 + i / rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        os.write(1, line(cid, i))


if __name__ == "__main__":
    main()
