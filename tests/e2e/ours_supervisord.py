"""A pytest plugin for Supervisor's own end-to-end suite
(supervisor/tests/test_end_to_end.py): every
`pexpect.spawn(sys.executable, ['-m', 'supervisor.supervisord', ...])`
starts the binary named by $OUR_SUPERVISORD with the remaining arguments.
supervisorctl, pidproxy and echo_supervisord_conf stay on Python, so the
suite's clients check our daemon.

Load it with `-p ours_supervisord` and this directory on PYTHONPATH.
Without $OUR_SUPERVISORD nothing is replaced (the baseline run).
"""

import os
import sys

import pexpect

_real_spawn = pexpect.spawn
_OURS = os.environ.get("OUR_SUPERVISORD")
_DAEMON_MODULE = ["-m", "supervisor.supervisord"]


class _Spawn(_real_spawn):
    def __init__(self, command, args=[], *rest, **kw):
        args = list(args)
        if _OURS and command == sys.executable and args[:2] == _DAEMON_MODULE:
            command, args = _OURS, args[2:]
        _real_spawn.__init__(self, command, args, *rest, **kw)


def pytest_configure(config):
    pexpect.spawn = _Spawn
    config.ours_supervisord = _OURS


def pytest_report_header(config):
    if _OURS:
        return "supervisord under test: %s" % _OURS
    return "supervisord under test: Python's (baseline)"


def _reason(report):
    """What went wrong, in one line: for pexpect's long exceptions, the
    exception, what was expected and the last output seen."""
    crash = getattr(report.longrepr, "reprcrash", None)
    text = crash.message if crash is not None else str(report.longrepr)
    lines = [l.strip() for l in text.strip().splitlines()]
    if not lines:
        return "?"
    if not lines[0].startswith("pexpect.exceptions."):
        return " ".join(lines)[:400]
    parts = [lines[0].split(":")[0].replace("pexpect.exceptions.", "")]
    for i, l in enumerate(lines):
        if l.startswith("command:") or l.startswith("args:"):
            parts.append(l)
        elif l.startswith("searcher:") and i + 1 < len(lines):
            parts.append("expected " + lines[i + 1])
        elif l.startswith("before (last 100 chars):"):
            parts.append("last output " + l.split(":", 1)[1].strip())
    return "; ".join(parts)


def pytest_runtest_logreport(report):
    """One line per test on stdout for the Rust side:
    `E2E-RESULT PASS name` or `E2E-RESULT FAIL name :: reason`."""
    name = report.nodeid.split("::")[-1]
    if report.when == "call" or (report.when == "setup" and not report.passed):
        if report.passed:
            line = "E2E-RESULT PASS %s" % name
        elif report.skipped:
            line = "E2E-RESULT SKIP %s" % name
        else:
            line = "E2E-RESULT FAIL %s :: %s" % (name, _reason(report))
        sys.stdout.write("\n" + line + "\n")
        sys.stdout.flush()
