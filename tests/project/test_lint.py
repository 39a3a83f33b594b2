"""The code is clean under the project's ruff configuration (pyproject.toml), as CI requires."""
import subprocess
import sys

import pytest

from conftest import REPO_ROOT


@pytest.mark.slow
def test_ruff_finds_nothing():
    result = subprocess.run([sys.executable, '-m', 'ruff', 'check', '--no-cache', '.'],
                            cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
