#!/bin/sh
# Installs the behavioural reference (Python Supervisor 4.3.0) and the test
# clients the differential tests drive, in a venv under target/. Idempotent.
# pytest runs Supervisor's own end-to-end suite against our daemon
# (tests/integration/events/e2e.rs).
set -eu
venv=${1:-target/pyref}
stamp="$venv/.installed-4.3.0-v2"
[ -f "$stamp" ] && exit 0
python3 -m venv "$venv"
"$venv/bin/python" -m pip install -q --disable-pip-version-check \
    supervisor==4.3.0 superlance pexpect pytest
touch "$stamp"
