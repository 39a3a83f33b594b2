#!/usr/bin/env bash
# Sourced by run_tests.sh and demo.sh: make .venv from setup.cfg when absent (pip, local wheels
# where the machine has them), or install the project into an existing .venv that lacks it.
# Usage: source tools/setup_venv.sh EXTRAS CHECK_IMPORTS   (e.g. "test" "rf, pytest")
_extras="$1"
_check="$2"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$root/.venv"
python_bin="${PYTHON:-python3}"
if [ ! -x "$venv/bin/python" ]; then
    echo "[setup] creating $venv with $("$python_bin" --version 2>&1)" >&2
    "$python_bin" -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --upgrade "pip>=23" "setuptools>=64,<82" wheel
    # Editable, so the tools and the first-party plugins' entry points see this checkout.
    "$venv/bin/python" -m pip install --quiet -e "$root[$_extras]"
elif ! "$venv/bin/python" -c "import $_check" >/dev/null 2>&1; then
    echo "[setup] $venv lacks some of: $_check; installing the project into it" >&2
    "$venv/bin/python" -m pip install --quiet -e "$root[$_extras]"
fi
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-2}"
