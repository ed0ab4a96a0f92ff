"""Drives a supervisorctl in a pseudo-terminal, as a user would.

usage: pty_session.py CTL CONF [--exits-after-fg]

CONF's [supervisorctl] section names the server and a history_file.
Exits 0 when every expectation held; otherwise prints what was missing
and what the terminal showed, and exits 1.
"""
import sys

import pexpect

ctl, conf = sys.argv[1], sys.argv[2]
PROMPT = "mine> "
TIMEOUT = 20


def fail(child, what):
    print("missing: %r\nscreen so far: %r" % (what, child.before))
    sys.exit(1)


def expect(child, what):
    try:
        child.expect_exact(what, timeout=TIMEOUT)
    except (pexpect.TIMEOUT, pexpect.EOF):
        fail(child, what)


def spawn():
    return pexpect.spawn(ctl, ["-c", conf], encoding="utf-8",
                         dimensions=(40, 120), timeout=TIMEOUT)


# First session: status first, help, completion, unknown syntax, Ctrl-D.
c = spawn()
expect(c, "sleeper")
expect(c, PROMPT)
c.send("help\r")
expect(c, "default commands (type help <topic>):")
expect(c, PROMPT)
c.send("stat\t")
expect(c, "status ")
c.send("sle\t")
expect(c, "sleeper ")
c.send("\r")
expect(c, "RUNNING")
expect(c, PROMPT)
c.send("status grp:\t\t")  # no common prefix to add: the 2nd Tab lists
expect(c, "grp:g2")
c.send("\x15")  # Ctrl-U: forget the line
c.send("version\r")
expect(c, "4.3.0")
expect(c, PROMPT)
c.send("nosuch thing\r")
expect(c, "*** Unknown syntax: nosuch thing")
expect(c, PROMPT)
c.sendeof()
try:
    c.expect(pexpect.EOF, timeout=TIMEOUT)
except pexpect.TIMEOUT:
    fail(c, "exit on Ctrl-D")
c.close()
if c.exitstatus != 0:
    print("Ctrl-D exit status %r" % c.exitstatus)
    sys.exit(1)

# Second session: the history of the first one is there (Up twice gives
# `version`); Ctrl-C at the prompt leaves with status 0.
c = spawn()
expect(c, PROMPT)
c.send("\x1b[A")
expect(c, "nosuch thing")
c.send("\x1b[A")
expect(c, "version")
c.send("\r")
expect(c, "4.3.0")
expect(c, PROMPT)
c.sendintr()
try:
    c.expect(pexpect.EOF, timeout=TIMEOUT)
except pexpect.TIMEOUT:
    fail(c, "exit on Ctrl-C")
c.close()
if c.exitstatus != 0:
    print("Ctrl-C exit status %r" % c.exitstatus)
    sys.exit(1)
# Third session: fg. Python's client never exits after fg (its streaming
# thread is not stopped), so this session is ended from outside.
c = spawn()
expect(c, PROMPT)
# fg: typed lines reach the program, Ctrl-C returns to the prompt.
c.send("fg echoer\r")
expect(c, "==> Press Ctrl-C to exit <==")
c.send("marco polo\r")
expect(c, "marco polo")
expect(c, "marco polo")  # the terminal's echo, then the program's
c.sendintr()
expect(c, "Exiting foreground")
expect(c, PROMPT)
c.send("status echoer\r")
expect(c, "RUNNING")
expect(c, PROMPT)
if len(sys.argv) > 3 and sys.argv[3] == "--exits-after-fg":
    c.sendeof()
    try:
        c.expect(pexpect.EOF, timeout=TIMEOUT)
    except pexpect.TIMEOUT:
        fail(c, "exit on Ctrl-D after fg")
    c.close()
    if c.exitstatus != 0:
        print("exit status after fg %r" % c.exitstatus)
        sys.exit(1)
else:
    c.terminate(force=True)
print("ok")
