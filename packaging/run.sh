#!/usr/bin/env bash
# Set up (once) and run banknote_guard from a source checkout.
#
#   bash packaging/run.sh                 # open the desktop app with the bundled demo model
#   bash packaging/run.sh test [ARGS]     # run the whole test suite (ARGS go to pytest)
#   bash packaging/run.sh COMMAND [ARGS]  # any banknote-guard sub-command, e.g. demo, verify
#
# The virtual environment lives in .venv (override with BANKNOTE_GUARD_VENV). It is created on the
# first run and reinstalled only when pyproject.toml changes, so later runs start at once.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
venv=${BANKNOTE_GUARD_VENV:-$root/.venv}
python=${PYTHON:-python3}

if ! command -v "$python" >/dev/null 2>&1; then
    echo "run.sh: $python not found; install Python 3.11 or newer (or set PYTHON=/path/to/python3)." >&2
    exit 1
fi
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    echo "run.sh: banknote_guard needs Python 3.11 or newer; $python is $("$python" -V 2>&1)." >&2
    exit 1
fi

stamp="$venv/.banknote-guard-$(cat "$root/pyproject.toml" | cksum | cut -d' ' -f1)"
if [ ! -f "$stamp" ]; then
    echo "run.sh: setting up $venv (first run: a few minutes) ..." >&2
    [ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --upgrade pip
    "$venv/bin/python" -m pip install --quiet -e "$root[test,bench]"
    rm -f "$venv"/.banknote-guard-*
    touch "$stamp"
fi

cd "$root"
if [ $# -eq 0 ]; then
    set -- gui
fi
if [ "$1" = "test" ]; then
    shift
    export QT_QPA_PLATFORM=${QT_QPA_PLATFORM:-offscreen}
    exec "$venv/bin/python" -m pytest "$@"
fi
exec "$venv/bin/banknote-guard" "$@"
