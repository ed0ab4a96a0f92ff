#!/usr/bin/env python3
"""Log reads through Python's own xmlrpc.client, for tests/integration/hostile.rs.

  hostile_logs.py URL CALL...

Each CALL is METHOD,PROCESS,OFFSET,LENGTH (a supervisor.*Log method whose
parameters are a name and two ints). Prints one line per call:

  ok VALUE              the call returned VALUE
  fault CODE HEX        a Fault (its string as UTF-8, in hex)
  raise TYPE HEX        the client raised (the message as UTF-8, in hex)

where VALUE is s:HEX for a str (its UTF-8 in hex), i:N, b:True/False, or
[VALUE VALUE ...] for a list, so that any text comes through unharmed.

Python's marshaller refuses ints past 32 bits; clients in other languages
send them as <int> anyway, and Python's daemon reads them, so this client
sends them too (offsets past 2 GiB).
"""

import sys
import xmlrpc.client


def dump_any_int(marshaller, value, write):
    write("<value><int>%d</int></value>\n" % value)


xmlrpc.client.Marshaller.dispatch[int] = dump_any_int


def hexed(text):
    return text.encode("utf-8", "surrogatepass").hex()


def show(value):
    if isinstance(value, bool):
        return "b:%s" % value
    if isinstance(value, int):
        return "i:%d" % value
    if isinstance(value, str):
        return "s:" + hexed(value)
    if isinstance(value, list):
        return "[" + " ".join(show(v) for v in value) + "]"
    return "?:" + hexed(repr(value))


def main():
    proxy = xmlrpc.client.ServerProxy(sys.argv[1])
    for spec in sys.argv[2:]:
        method, name, offset, length = spec.split(",")
        try:
            value = getattr(proxy, method)(name, int(offset), int(length))
            print("ok " + show(value))
        except xmlrpc.client.Fault as f:
            print("fault %d %s" % (f.faultCode, hexed(f.faultString)))
        except Exception as e:  # the point is to see what the client raises
            print("raise %s %s" % (type(e).__name__, hexed(str(e)[:200])))
        sys.stdout.flush()


if __name__ == "__main__":
    main()
