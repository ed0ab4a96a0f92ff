#!/bin/sh
# Installs the behavioural reference (Python Supervisor 4.3.0) and the test
# clients the differential tests drive, in a venv under target/. Idempotent.
set -eu
venv=${1:-target/pyref}
stamp="$venv/.installed-4.3.0-v1"
[ -f "$stamp" ] && exit 0
python3 -m venv "$venv"
"$venv/bin/python" -m pip install -q --disable-pip-version-check \
    supervisor==4.3.0 superlance pexpect
touch "$stamp"
