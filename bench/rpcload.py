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
status, a missing or bad Content-Length, a chunked reply, a fault, a body
without <methodResponse>, a connection closed or reset mid-reply, extra
bytes after the body.  After an error the client opens a new connection and
goes on.  A reply with "Connection: close" is a success but the client
reconnects (counted as a reconnect).

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


def one_call(sock, req):
    """Sends req, reads one reply.  Returns True if the server asked to
    close the connection.  Raises Bad for anything but a good reply."""
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
        elif name == b"transfer-encoding" and value.strip().lower() != b"identity":
            raise Bad("chunked reply", repr(line[:100]))
    if status[1] != b"200":
        raise Bad("status %s" % status[1].decode("latin-1"), repr(lines[0][:100]))
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
    return close


def cpu_now():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def client(target, req, start, warmup, stop, ready, go, out):
    """One client process: connect, one validated call before the start,
    then calls until `stop` (a time.monotonic() value, the same clock in
    every process on Linux)."""
    res = {"lat": b"", "errors": {}, "samples": [], "reconnects": 0,
           "cpu": 0.0, "fatal": None}
    lat = array("d")
    sock = None
    try:
        sock = connect(target)
        if one_call(sock, req):
            sock.close()
            sock = connect(target)
    except (OSError, Bad) as e:
        res["fatal"] = "first call failed: %r" % (e,)
    ready.set()
    go.wait()
    if res["fatal"]:
        out.send(res)
        return
    begin = start + warmup
    cpu0 = None
    perf = time.perf_counter
    mono = time.monotonic
    errors = res["errors"]
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
            close = one_call(sock, req)
            t1 = perf()
            if now >= begin and mono() <= stop:
                lat.append(t1 - t0)
            if close:
                sock.close()
                sock = None
                res["reconnects"] += 1
        except (OSError, Bad) as e:
            kind = e.kind if isinstance(e, Bad) else type(e).__name__
            if mono() >= begin:
                errors[kind] = errors.get(kind, 0) + 1
                if len(res["samples"]) < 3:
                    res["samples"].append("%s: %s" % (kind, e.detail if isinstance(e, Bad) else e))
            if sock is not None:
                sock.close()
            sock = None
            time.sleep(0.001)  # do not spin on a refusing server
    if cpu0 is not None:
        res["cpu"] = cpu_now() - cpu0
    if sock is not None:
        sock.close()
    res["lat"] = lat.tobytes()
    out.send(res)


def percentile(sorted_vals, p):
    if not sorted_vals:
        return float("nan")
    k = (len(sorted_vals) - 1) * p / 100.0
    f = int(k)
    c = min(f + 1, len(sorted_vals) - 1)
    return sorted_vals[f] + (sorted_vals[c] - sorted_vals[f]) * (k - f)


def run(target, method=DEFAULT_METHOD, clients=1, duration=3.0, warmup=0.5):
    """target: ("tcp", (host, port)) or ("unix", path).  Returns a dict."""
    host = "%s:%d" % target[1] if target[0] == "tcp" else "localhost"
    req = request_bytes(method, host)
    ctx = multiprocessing.get_context("fork")
    ready = [ctx.Event() for _ in range(clients)]
    go = ctx.Event()
    pipes = []
    procs = []
    # start/stop are fixed once every client is connected (see below); they
    # travel through shared values set before `go`.
    start_v = ctx.Value("d", 0.0)
    stop_v = ctx.Value("d", 0.0)

    def body(i, w):
        for e in ready[:i] + ready[i + 1:]:
            pass
        ready_i = ready[i]
        # wait for `go`, then read the window
        class _Go:
            def wait(self_inner):
                go.wait()
        client_start = None
        ready_i_set = ready_i.set
        del client_start, ready_i_set

    for i in range(clients):
        r, w = ctx.Pipe(duplex=False)
        p = ctx.Process(target=_client_entry,
                        args=(target, req, start_v, stop_v, warmup, ready[i], go, w))
        p.daemon = True
        p.start()
        w.close()
        pipes.append(r)
        procs.append(p)
    deadline = time.monotonic() + 30
    for e in ready:
        e.wait(max(0.0, deadline - time.monotonic()))
    start = time.monotonic() + 0.05
    start_v.value = start
    stop_v.value = start + warmup + duration
    go.set()
    results = []
    for r, p in zip(pipes, procs):
        try:
            if r.poll(warmup + duration + 60):
                results.append(r.recv())
            else:
                results.append({"fatal": "client gave no result", "lat": b"",
                                "errors": {}, "samples": [], "reconnects": 0,
                                "cpu": 0.0})
        except EOFError:
            results.append({"fatal": "client died", "lat": b"", "errors": {},
                            "samples": [], "reconnects": 0, "cpu": 0.0})
    for p in procs:
        p.join(5)
        if p.is_alive():
            p.kill()
            p.join()
    lat = array("d")
    errors = {}
    samples = []
    fatal = []
    reconnects = 0
    cpu = 0.0
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
        cpu += res["cpu"]
    s = sorted(lat)
    return {
        "target": "%s:%s" % (target[0], "%s:%d" % target[1] if target[0] == "tcp"
                             else target[1]),
        "method": method,
        "clients": clients,
        "duration": duration,
        "requests": len(s),
        "rps": len(s) / duration,
        "p50_ms": percentile(s, 50) * 1000,
        "p99_ms": percentile(s, 99) * 1000,
        "max_ms": (s[-1] * 1000) if s else float("nan"),
        "errors": sum(errors.values()) + len(fatal),
        "error_kinds": errors,
        "error_samples": samples[:5],
        "fatal": fatal,
        "reconnects": reconnects,
        "client_cpu_s": cpu,
        "client_cpu_share": cpu / duration,  # in CPUs (1.0 = one CPU busy)
    }


def _client_entry(target, req, start_v, stop_v, warmup, ready, go, out):
    class _Go:
        def wait(self):
            go.wait()

    # start/stop are known only once `go` is set
    class _Lazy:
        pass

    ev = _Go()

    def waiter():
        ev.wait()

    # client() reads start/stop after go.wait(); pass them via a tiny shim
    _client_shim(target, req, start_v, stop_v, warmup, ready, go, out)


def _client_shim(target, req, start_v, stop_v, warmup, ready, go, out):
    res = None
    try:
        # The same as client() but with start/stop read after `go`.
        _run_client(target, req, start_v, stop_v, warmup, ready, go, out)
    except BaseException as e:  # report, never hang the parent
        res = {"fatal": "client crashed: %r" % (e,), "lat": b"", "errors": {},
               "samples": [], "reconnects": 0, "cpu": 0.0}
        try:
            out.send(res)
        except Exception:
            pass


def _run_client(target, req, start_v, stop_v, warmup, ready, go, out):
    class _After:
        """Defers reading the window to after `go`."""

    def go_wait():
        go.wait()

    class _GoProxy:
        def wait(self):
            go.wait()
            _GoProxy.start = start_v.value
            _GoProxy.stop = stop_v.value

    proxy = _GoProxy()
    client_windowed(target, req, warmup, ready, proxy, out)


def client_windowed(target, req, warmup, ready, go, out):
    res = {"lat": b"", "errors": {}, "samples": [], "reconnects": 0,
           "cpu": 0.0, "fatal": None}
    lat = array("d")
    sock = None
    try:
        sock = connect(target)
        if one_call(sock, req):
            sock.close()
            sock = connect(target)
    except (OSError, Bad) as e:
        res["fatal"] = "first call failed: %r" % (e,)
    ready.set()
    go.wait()
    if res["fatal"]:
        out.send(res)
        return
    start, stop = go.start, go.stop
    while time.monotonic() < start:
        pass
    begin = start + warmup
    cpu0 = None
    perf = time.perf_counter
    mono = time.monotonic
    errors = res["errors"]
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
            close = one_call(sock, req)
            t1 = perf()
            if now >= begin and mono() <= stop:
                lat.append(t1 - t0)
            if close:
                sock.close()
                sock = None
                res["reconnects"] += 1
        except (OSError, Bad) as e:
            kind = e.kind if isinstance(e, Bad) else type(e).__name__
            if mono() >= begin:
                errors[kind] = errors.get(kind, 0) + 1
                if len(res["samples"]) < 3:
                    res["samples"].append(
                        "%s: %s" % (kind, e.detail if isinstance(e, Bad) else e))
            if sock is not None:
                sock.close()
            sock = None
            time.sleep(0.001)  # do not spin on a refusing server
    if cpu0 is not None:
        res["cpu"] = cpu_now() - cpu0
    if sock is not None:
        sock.close()
    res["lat"] = lat.tobytes()
    out.send(res)
