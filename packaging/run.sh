#!/usr/bin/env bash
# Set up (once) and run banknote_guard from a source checkout.
#
#   bash packaging/run.sh                 # open the desktop app with the bundled demo model
#   bash packaging/run.sh test [ARGS]     # run the whole test suite (ARGS go to pytest)
#   bash packaging/run.sh COMMAND [ARGS]  # any banknote-guard sub-command, e.g. demo, verify
#
# The virtual environment lives in .venv (override with BANKNOTE_GUARD_VENV). It is created on the
# first run and reinstalled only when pyproject.toml changes, so later runs start at once. It holds
# everything, for development and CI: the package with the training extra, tests and benchmarks
# (pip install -e '.[train,test,bench]'). A verification station needs far less: see
# packaging/build_bundle.sh (the frozen station bundle) and the README's "Install" section.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
venv=${BANKNOTE_GUARD_VENV:-$root/.venv}
python=${PYTHON:-python3}

# shellcheck source=packaging/common.sh
. "$root/packaging/common.sh"
require_python run.sh "$python"

ensure_venv run.sh "$python" "$root" "$venv" train,test,bench

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
