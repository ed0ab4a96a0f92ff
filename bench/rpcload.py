#!/usr/bin/env python3
"""XML-RPC load generator for supervisord (ours or Python's).  Stdlib only.

Usage:
  python3 bench/rpcload.py (--tcp HOST:PORT | --unix PATH) [-m METHOD]
                           [-c CLIENTS] [-d SECONDS] [-w WARMUP] [--json]

Each of the C clients is a separate process with its own keep-alive
HTTP/1.1 connection.  A client sends one pre-built request
(POST /RPC2, a methodCall of METHOD with no params), reads the status line,
the headers and exactly Content-Length bytes of body, checks the status is
200 and the body holds <methodResponse> and no <fault> (no XML parsing),
and repeats.  Only requests sent after the warm-up and completed before the
end of the window are counted; every request's latency (send -> last body
byte) is recorded.

Anything else is an error, counted apart and never as a success: a non-200
status, a missing or bad Content-Length, a fault, a body without
<methodResponse>, a connection closed or reset mid-reply, extra bytes after
the body.  After an error the client opens a new connection and goes on.
A reply with "Connection: close" is a success but the client reconnects
(counted as a reconnect).  A reply in "Transfer-Encoding: chunked" (valid
HTTP/1.1, but Python's supervisord always sends Content-Length) is decoded
and counted as a success, and the number of such replies is reported
apart; --strict makes it an error instead.

Output: total requests/s, p50 and p99 latency in ms, errors (by kind, with
the first few messages) and the clients' own CPU time in the window (user +
system, all clients together, as a share of one CPU), which tells whether
the generator itself is the bottleneck.  --json prints one JSON object
instead.  The exit status is 1 when there was any error, 2 when nothing
could be measured.
"""
import argparse
import json
import multiprocessing
import os
import resource
import socket
import sys
import time
from array import array

DEFAULT_METHOD = "supervisor.getState"


def request_bytes(method, host):
    body = ("<?xml version='1.0'?><methodCall><methodName>%s</methodName>"
            "<params></params></methodCall>" % method).encode()
    head = ("POST /RPC2 HTTP/1.1\r\n"
            "Host: %s\r\n"
            "Content-Type: text/xml\r\n"
            "Content-Length: %d\r\n"
            "\r\n" % (host, len(body))).encode()
    return head + body


class Bad(Exception):
    """A reply that must not count as a success."""

    def __init__(self, kind, detail=""):
        Exception.__init__(self, kind, detail)
        self.kind = kind
        self.detail = detail


def connect(target):
    kind, addr = target
    if kind == "tcp":
        s = socket.create_connection(addr)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    else:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(addr)
    return s


def read_chunked(sock, buf):
    """The body of a chunked reply; buf holds what followed the headers."""
    body = bytearray()
    pos = 0
    while True:
        eol = buf.find(b"\r\n", pos)
        while eol < 0:
            chunk = sock.recv(65536)
            if not chunk:
                raise Bad("closed", "connection closed inside a chunked body")
            buf += chunk
            eol = buf.find(b"\r\n", pos)
        try:
            size = int(bytes(buf[pos:eol]).split(b";")[0].strip(), 16)
        except ValueError:
            raise Bad("bad chunk", repr(bytes(buf[pos:eol][:100])))
        pos = eol + 2
        if size == 0:
            break
        while len(buf) < pos + size + 2:
            chunk = sock.recv(max(pos + size + 2 - len(buf), 65536))
            if not chunk:
                raise Bad("closed", "connection closed inside a chunk")
            buf += chunk
        if buf[pos + size:pos + size + 2] != b"\r\n":
            raise Bad("bad chunk", "no CRLF after a chunk")
        body += buf[pos:pos + size]
        pos += size + 2
    # trailers, up to an empty line
    while True:
        eol = buf.find(b"\r\n", pos)
        while eol < 0:
            chunk = sock.recv(65536)
            if not chunk:
                raise Bad("closed", "connection closed inside the trailers")
            buf += chunk
            eol = buf.find(b"\r\n", pos)
        if eol == pos:
            pos += 2
            break
        pos = eol + 2
    if len(buf) > pos:
        raise Bad("extra bytes", "%d bytes after the body" % (len(buf) - pos))
    return body


def one_call(sock, req, strict=False):
    """Sends req, reads one reply.  Returns (close, chunked): whether the
    server asked to close the connection, whether the reply was chunked.
    Raises Bad for anything but a good reply."""
    sock.sendall(req)
    buf = b""
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            raise Bad("closed", "connection closed before the end of the headers"
                      " (%d bytes read)" % len(buf))
        buf += chunk
        end = buf.find(b"\r\n\r\n")
        if end >= 0:
            break
        if len(buf) > 65536:
            raise Bad("bad headers", "no end of headers in 64 KiB")
    head = buf[:end]
    lines = head.split(b"\r\n")
    status = lines[0].split(None, 2)
    if len(status) < 2 or not status[0].startswith(b"HTTP/1."):
        raise Bad("bad status line", repr(lines[0][:100]))
    length = None
    close = False
    chunked = False
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            try:
                length = int(value.strip())
            except ValueError:
                raise Bad("bad content-length", repr(line[:100]))
        elif name == b"connection":
            close = value.strip().lower() == b"close"
        elif name == b"transfer-encoding":
            te = value.strip().lower()
            if te == b"chunked" and not strict:
                chunked = True
            elif te != b"identity":
                raise Bad("transfer-encoding %s" % te.decode("latin-1"),
                          repr(line[:100]))
    if status[1] != b"200":
        raise Bad("status %s" % status[1].decode("latin-1"), repr(lines[0][:100]))
    if chunked:
        body = read_chunked(sock, bytearray(buf[end + 4:]))
    else:
        if length is None:
            raise Bad("no content-length")
        body = bytearray(buf[end + 4:])
        while len(body) < length:
            chunk = sock.recv(max(length - len(body), 65536))
            if not chunk:
                raise Bad("closed", "connection closed after %d of %d body bytes"
                          % (len(body), length))
            body += chunk
        if len(body) > length:
            raise Bad("extra bytes", "%d bytes after the body" % (len(body) - length))
    if b"<fault>" in body:
        raise Bad("fault", bytes(body[:300]).decode("utf-8", "replace"))
    if b"<methodResponse>" not in body:
        raise Bad("no methodResponse", bytes(body[:300]).decode("utf-8", "replace"))
    return close, chunked


def cpu_now():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def client(target, req, warmup, window, ready, go, out, strict=False):
    """One client process: connect and make one validated call, say ready,
    wait for `go`, read the window [start, stop) (time.monotonic(), the
    same clock in every process on Linux) and call until stop.  Sends its
    result dict through `out`, whatever happens."""
    res = {"lat": b"", "errors": {}, "samples": [], "reconnects": 0,
           "chunked": 0, "cpu": 0.0, "fatal": None}
    try:
        _client(target, req, warmup, window, ready, go, res, strict)
    except BaseException as e:  # report, never leave the parent waiting
        res["fatal"] = "client crashed: %r" % (e,)
        ready.set()
    out.send(res)
    out.close()


def _client(target, req, warmup, window, ready, go, res, strict):
    lat = array("d")
    sock = None
    try:
        sock = connect(target)
        if one_call(sock, req, strict)[0]:
            sock.close()
            sock = connect(target)
    except (OSError, Bad) as e:
        res["fatal"] = "first call failed: %s" % (
            "%s: %s" % (e.kind, e.detail) if isinstance(e, Bad) else repr(e))
    ready.set()
    go.wait()
    if res["fatal"]:
        return
    start, stop = window[0], window[1]
    while time.monotonic() < start:
        time.sleep(0.001)
    begin = start + warmup
    cpu0 = None
    perf = time.perf_counter
    mono = time.monotonic
    errors = res["errors"]
    samples = res["samples"]
    while True:
        now = mono()
        if now >= stop:
            break
        if cpu0 is None and now >= begin:
            cpu0 = cpu_now()
        try:
            if sock is None:
                sock = connect(target)
            t0 = perf()
            close, chunked = one_call(sock, req, strict)
            t1 = perf()
            if now >= begin and mono() <= stop:
                lat.append(t1 - t0)
                if chunked:
                    res["chunked"] += 1
            if close:
                sock.close()
                sock = None
                res["reconnects"] += 1
        except (OSError, Bad) as e:
            kind = e.kind if isinstance(e, Bad) else type(e).__name__
            if mono() >= begin:
                errors[kind] = errors.get(kind, 0) + 1
                if len(samples) < 3:
                    samples.append("%s: %s" % (
                        kind, e.detail if isinstance(e, Bad) else e))
            if sock is not None:
                sock.close()
            sock = None
            time.sleep(0.001)  # do not spin on a refusing server
    if cpu0 is not None:
        res["cpu"] = cpu_now() - cpu0
    if sock is not None:
        sock.close()
    res["lat"] = lat.tobytes()


def percentile(sorted_vals, p):
    """Linear interpolation between closest ranks."""
    if not sorted_vals:
        return float("nan")
    k = (len(sorted_vals) - 1) * p / 100.0
    f = int(k)
    c = min(f + 1, len(sorted_vals) - 1)
    return sorted_vals[f] + (sorted_vals[c] - sorted_vals[f]) * (k - f)


def describe(target):
    if target[0] == "tcp":
        return "tcp:%s:%d" % target[1]
    return "unix:%s" % target[1]


def run(target, method=DEFAULT_METHOD, clients=1, duration=3.0, warmup=0.5,
        probe=None, strict=False):
    """target: ("tcp", (host, port)) or ("unix", path).  Returns a dict.
    probe: a callable called at the start and at the end of the measured
    window (e.g. to read the daemon's CPU time); its two results are
    returned as "probe".  strict: a chunked reply is an error."""
    host = "%s:%d" % target[1] if target[0] == "tcp" else "localhost"
    req = request_bytes(method, host)
    ctx = multiprocessing.get_context("fork")
    go = ctx.Event()
    window = ctx.Array("d", 2, lock=False)
    readies, pipes, procs = [], [], []
    for _ in range(clients):
        ready = ctx.Event()
        r, w = ctx.Pipe(duplex=False)
        p = ctx.Process(target=client,
                        args=(target, req, warmup, window, ready, go, w, strict))
        p.daemon = True
        p.start()
        w.close()
        readies.append(ready)
        pipes.append(r)
        procs.append(p)
    deadline = time.monotonic() + 30
    for e in readies:
        e.wait(max(0.0, deadline - time.monotonic()))
    start = time.monotonic() + 0.02
    window[0] = start
    window[1] = start + warmup + duration
    go.set()
    probed = None
    if probe is not None:
        time.sleep(max(0.0, start + warmup - time.monotonic()))
        p0 = probe()
        time.sleep(max(0.0, window[1] - time.monotonic()))
        probed = (p0, probe())
    results = []
    for r in pipes:
        res = None
        try:
            if r.poll(warmup + duration + 60):
                res = r.recv()
        except EOFError:
            pass
        if res is None:
            res = {"fatal": "client gave no result", "lat": b"", "errors": {},
                   "samples": [], "reconnects": 0, "chunked": 0, "cpu": 0.0}
        results.append(res)
    for p in procs:
        p.join(5)
        if p.is_alive():
            p.kill()
            p.join()
    lat = array("d")
    errors, samples, fatal = {}, [], []
    reconnects, chunked, cpu = 0, 0, 0.0
    for res in results:
        a = array("d")
        a.frombytes(res["lat"])
        lat.extend(a)
        for k, v in res["errors"].items():
            errors[k] = errors.get(k, 0) + v
        samples += res["samples"]
        if res["fatal"]:
            fatal.append(res["fatal"])
        reconnects += res["reconnects"]
        chunked += res["chunked"]
        cpu += res["cpu"]
    s = sorted(lat)
    return {
        "target": describe(target),
        "method": method,
        "clients": clients,
        "duration": duration,
        "warmup": warmup,
        "requests": len(s),
        "rps": len(s) / duration,
        "p50_ms": percentile(s, 50) * 1000,
        "p99_ms": percentile(s, 99) * 1000,
        "max_ms": (s[-1] * 1000) if s else float("nan"),
        "errors": sum(errors.values()) + len(fatal),
        "error_kinds": errors,
        "error_samples": samples[:5],
        "fatal": fatal[:5],
        "reconnects": reconnects,
        "chunked": chunked,
        "client_cpu_s": cpu,
        "client_cpu_share": cpu / duration,  # in CPUs: 1.0 = one CPU busy
        "probe": probed,
    }


def parse_target(args):
    if args.unix:
        return ("unix", args.unix)
    host, _, port = args.tcp.rpartition(":")
    return ("tcp", (host or "127.0.0.1", int(port)))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    g = ap.add_mutually_exclusive_group(required=True)
    g.add_argument("--tcp", metavar="HOST:PORT")
    g.add_argument("--unix", metavar="PATH")
    ap.add_argument("-m", "--method", default=DEFAULT_METHOD)
    ap.add_argument("-c", "--clients", type=int, default=1)
    ap.add_argument("-d", "--duration", type=float, default=3.0)
    ap.add_argument("-w", "--warmup", type=float, default=0.5)
    ap.add_argument("--strict", action="store_true",
                    help="count chunked replies as errors")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    r = run(parse_target(args), args.method, args.clients, args.duration,
            args.warmup, strict=args.strict)
    if args.json:
        print(json.dumps(r))
    else:
        print("%s %s, %d client(s), %.1fs (+%.1fs warm-up)" % (
            r["target"], r["method"], r["clients"], r["duration"], r["warmup"]))
        print("  %d requests, %.1f req/s, p50 %.3f ms, p99 %.3f ms, max %.3f ms"
              % (r["requests"], r["rps"], r["p50_ms"], r["p99_ms"], r["max_ms"]))
        print("  clients' CPU: %.2fs = %.2f CPUs; reconnects: %d; chunked replies: %d"
              % (r["client_cpu_s"], r["client_cpu_share"], r["reconnects"],
                 r["chunked"]))
        if r["errors"]:
            print("  ERRORS: %d %s" % (r["errors"], r["error_kinds"]))
            for s in r["fatal"] + r["error_samples"]:
                print("    " + s)
    if r["requests"] == 0:
        return 2
    return 1 if r["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
