#!/usr/bin/env bash
# The project's test command (README, .ci/run): make .venv from setup.cfg when absent, then run the suite.
# Usage: bash tools/run_tests.sh [pytest args...]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source tools/setup_venv.sh test "rf, pytest, skimage, hypothesis, lpips, torchmetrics, torch_fidelity, ruff"
exec "$venv/bin/python" -m pytest "$@"
