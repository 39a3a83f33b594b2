"""Shared test helpers: repository paths and the team's reference files."""
import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
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
