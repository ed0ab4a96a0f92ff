"""An event listener written with Supervisor's own childutils, for the
event tests. It records every event it is sent to the file named by its
first argument, then answers according to its mode:

  record     acknowledge everything (RESULT 2\\nOK)
  fail-once  answer the first event it ever gets with RESULT 4\\nFAIL
             (remembered in OUT.failed, so a restart does not fail again)
  die-once   exit without answering the first event it ever gets
             (remembered in OUT.died)
  violate    say something that is not READY\\n, then keep quiet
  bad-result answer the first event with a RESULT line whose length is
             not a number, then keep quiet
  hold       keep the first event unanswered until the file OUT.go
             exists, then acknowledge it and carry on as `record`
  never      never say READY (its pool's buffer fills up)

Each record is `pid:<listener pid> <header line>\\n<payload>\\n`: the
header line exactly as received, then exactly len characters of payload.
"""

import os
import sys
import time

from supervisor import childutils


def main():
    out, mode = sys.argv[1], sys.argv[2]
    if mode == "never":
        while True:
            time.sleep(3600)
    if mode == "violate":
        sys.stdout.write("HELLO, I AM NOT A LISTENER\n")
        sys.stdout.flush()
        while True:
            time.sleep(3600)
    while True:
        headers, payload = childutils.listener.wait(sys.stdin, sys.stdout)
        line = " ".join("%s:%s" % kv for kv in headers.items())
        with open(out, "a") as f:
            f.write("pid:%d %s\n%s\n" % (os.getpid(), line, payload))
        if mode == "fail-once" and not os.path.exists(out + ".failed"):
            open(out + ".failed", "w").close()
            childutils.listener.fail(sys.stdout)
            continue
        if mode == "bad-result":
            sys.stdout.write("RESULT abc\n")
            sys.stdout.flush()
            while True:
                time.sleep(3600)
        if mode == "hold" and not os.path.exists(out + ".held"):
            open(out + ".held", "w").close()
            while not os.path.exists(out + ".go"):
                time.sleep(0.02)
        if mode == "die-once" and not os.path.exists(out + ".died"):
            open(out + ".died", "w").close()
            os._exit(3)
        childutils.listener.ok(sys.stdout)


if __name__ == "__main__":
    main()
