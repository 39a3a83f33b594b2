#!/usr/bin/env bash
# The project's test command (README, .ci/run): make .venv from setup.cfg when absent, then run the suite.
# Usage: bash tools/run_tests.sh [pytest args...]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
venv="$root/.venv"
python_bin="${PYTHON:-python3}"

if [ ! -x "$venv/bin/python" ]; then
    echo "[run_tests] creating $venv with $("$python_bin" --version 2>&1)"
    "$python_bin" -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --upgrade "pip>=23" "setuptools>=64,<82" wheel
    # Editable, so tests and the first-party plugins' entry points see this checkout.
    "$venv/bin/python" -m pip install --quiet -e ".[test]"
elif ! "$venv/bin/python" -c "import rf, pytest" >/dev/null 2>&1; then
    echo "[run_tests] $venv exists but lacks rf or pytest: reinstalling the project into it"
    "$venv/bin/python" -m pip install --quiet -e ".[test]"
fi

export OMP_NUM_THREADS="${OMP_NUM_THREADS:-2}"
exec "$venv/bin/python" -m pytest "$@"
