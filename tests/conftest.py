"""Shared test helpers: repository paths and the team's reference files.

The tests mirror the code: ``core/`` (rf's diffusion, models, datasets, metrics, plugin loader),
``runtime/`` (rf.engine), ``shell/`` (rf.cli and tools), ``configs/``, ``plugins/`` (one folder per
kind) and ``project/`` (packaging, documents). Helper modules shared by several test files live in
``helpers/``, which is put on ``sys.path`` here: tests import them by name (``from tiny_training
import run``), and subprocesses that need them get :data:`HELPERS_DIR` on ``PYTHONPATH``.
"""
import os
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
HELPERS_DIR = Path(__file__).resolve().parent / 'helpers'
if str(HELPERS_DIR) not in sys.path:
    sys.path.insert(0, str(HELPERS_DIR))
# The authors' reference files live beside the repository (../shared/reference), as in CI.
REFERENCE_DIR = Path(os.environ.get('RF_REFERENCE_DIR', REPO_ROOT.parent / 'shared' / 'reference'))


@pytest.fixture
def reference_file():
    """Path of a file in the shared reference folder; skips when the folder is absent."""
    def get(name: str) -> Path:
        path = REFERENCE_DIR / name
        if not path.is_file():
            pytest.skip(f'reference file {path} not present (set RF_REFERENCE_DIR)')
        return path
    return get
