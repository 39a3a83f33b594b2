"""``pip install .`` (not editable) into a fresh environment, then rf from another directory:
``rf train demo``, ``rf publish``, ``rf restore demo`` with the published weights.

The fresh environment is a new venv whose only site-packages gets this checkout installed as a
wheel; the heavy dependencies (torch, mmengine, ...) are reached through a ``.pth`` line pointing
at the test environment's site-packages, since no network is assumed. Nothing of the checkout is
on the path: the installed package alone must find its configs and plugins.
"""
import glob
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import cv2
import numpy as np
import pytest

from conftest import REPO_ROOT

pytestmark = pytest.mark.slow  # builds a wheel, trains, restores

TINY = ['model.backbone.dim=8', 'model.backbone.dim_mults=[1,2]', 'train_cfg.max_iters=4',
        'train_cfg.val_interval=100', 'default_hooks.checkpoint.interval=4',
        'train_dataloader.num_workers=0', 'val_dataloader.num_workers=0',
        'test_dataloader.num_workers=0']


@pytest.fixture(scope='module')
def fresh_env(tmp_path_factory):
    root = tmp_path_factory.mktemp('fresh')
    subprocess.run([sys.executable, '-m', 'venv', str(root / 'venv')], check=True, timeout=300)
    python = root / 'venv' / 'bin' / 'python'
    purelib = subprocess.run([str(python), '-c', 'import sysconfig; print(sysconfig.get_paths()'
                              "['purelib'])"], capture_output=True, text=True, check=True)
    deps = sysconfig.get_paths()['purelib']  # this environment's packages, after the venv's own
    (Path(purelib.stdout.strip()) / 'rf_test_dependencies.pth').write_text(deps + '\n')
    install = subprocess.run([str(python), '-m', 'pip', 'install', '--quiet', '--no-deps',
                              '--no-build-isolation', str(REPO_ROOT)],
                             capture_output=True, text=True, timeout=600)
    assert install.returncode == 0, install.stderr[-3000:]
    return root, root / 'venv' / 'bin' / 'rf'


def rf(fresh_env, *args, cwd):
    env = {k: v for k, v in os.environ.items() if k not in ('PYTHONPATH',)}
    env.update(OMP_NUM_THREADS='1')
    result = subprocess.run([str(fresh_env[1]), *map(str, args)], cwd=cwd, env=env,
                            capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, (args, result.stdout[-2000:], result.stderr[-4000:])
    return result


def test_installed_rf_is_not_the_checkout(fresh_env, tmp_path):
    python = fresh_env[0] / 'venv' / 'bin' / 'python'
    found = subprocess.run([str(python), '-c', 'import rf, rf_plugins; print(rf.__file__); '
                            'print(rf_plugins.__file__)'], cwd=tmp_path, capture_output=True,
                           text=True, check=True).stdout.split()
    assert all(str(REPO_ROOT) not in path for path in found), found
    assert (Path(found[0]).parent / 'configs' / 'demo.py').is_file()  # configs in the package


def test_train_publish_restore_from_another_directory(fresh_env, tmp_path):
    rf(fresh_env, 'train', 'demo', '--work-dir', 'W', '--cfg-options', *TINY, cwd=tmp_path)
    assert (tmp_path / 'W' / 'iter_4.pth').is_file()
    rf(fresh_env, 'publish', 'W/iter_4.pth', 'Z', cwd=tmp_path)
    [weights] = glob.glob(str(tmp_path / 'Z' / '*.safetensors'))
    photo = np.random.default_rng(0).integers(0, 256, (40, 56, 3), dtype=np.uint8)
    cv2.imwrite(str(tmp_path / 'photo.png'), photo)
    rf(fresh_env, 'restore', 'demo', weights, 'photo.png', 'out', '--cfg-options',
       'model.backbone.dim=8', 'model.backbone.dim_mults=[1,2]', cwd=tmp_path)
    restored = cv2.imread(str(tmp_path / 'out' / 'photo.png'))
    assert restored is not None and restored.shape == photo.shape
