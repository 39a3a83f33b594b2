"""tools/slurm_train.sh and slurm_test.sh without Slurm: a fake ``srun`` on PATH records the
command line and environment it was given (no training runs)."""
import json
import os
import subprocess

import pytest

from conftest import REPO_ROOT

FAKE_SRUN = """#!/usr/bin/env python3
import json, os, sys
with open(os.environ['SRUN_RECORD'], 'w') as handle:
    json.dump({'argv': sys.argv[1:], 'env': dict(os.environ)}, handle)
"""


@pytest.fixture
def slurm(tmp_path):
    """Run a slurm script with the fake srun first on PATH; returns (result, recorded or None)."""
    bin_dir = tmp_path / 'bin'
    bin_dir.mkdir()
    (bin_dir / 'srun').write_text(FAKE_SRUN)
    (bin_dir / 'srun').chmod(0o755)
    record = tmp_path / 'srun.json'

    def run(script, *args, **env):
        full_env = {'PATH': f"{bin_dir}:{os.environ['PATH']}", 'HOME': str(tmp_path),
                    'SRUN_RECORD': str(record), 'PYTHON': 'python-of-the-test', **env}
        result = subprocess.run(['bash', f'tools/{script}', *args], cwd=REPO_ROOT, env=full_env,
                                capture_output=True, text=True, timeout=60)
        recorded = json.loads(record.read_text()) if record.exists() else None
        return result, recorded
    return run


def test_slurm_train_starts_one_task_per_gpu_with_the_slurm_launcher(slurm):
    result, recorded = slurm('slurm_train.sh', 'gpu', 'lol', 'configs/lol.py', 'work_dirs/x',
                             '--cfg-options', 'train_cfg.max_iters=10',
                             GPUS='16', SRUN_ARGS='--quotatype=auto --time=1:00:00', PORT='29600')
    assert result.returncode == 0, result.stderr
    argv = recorded['argv']
    assert argv[:8] == ['-p', 'gpu', '--job-name=lol', '--gres=gpu:8', '--ntasks=16',
                       '--ntasks-per-node=8', '--cpus-per-task=5', '--kill-on-bad-exit=1']
    assert argv[8:10] == ['--quotatype=auto', '--time=1:00:00']
    assert argv[10:] == ['python-of-the-test', '-u', str(REPO_ROOT / 'tools' / 'train.py'),
                         'configs/lol.py', '--work-dir', 'work_dirs/x',
                         '--cfg-options', 'train_cfg.max_iters=10', '--launcher', 'slurm']
    env = recorded['env']
    assert env['MASTER_PORT'] == '29600'
    assert env['PYTHONPATH'].split(os.pathsep)[0] == str(REPO_ROOT)


def test_slurm_train_without_work_dir_and_on_cpu_nodes(slurm):
    result, recorded = slurm('slurm_train.sh', 'cpu', 'demo', 'configs/demo.py', '--amp',
                             GPUS='4', GPUS_PER_NODE='2', CPUS_PER_TASK='3', GRES='')
    assert result.returncode == 0, result.stderr
    argv = recorded['argv']
    assert '--gres' not in ' '.join(argv)
    assert argv[:6] == ['-p', 'cpu', '--job-name=demo', '--ntasks=4', '--ntasks-per-node=2',
                        '--cpus-per-task=3']
    assert argv[-4:] == ['configs/demo.py', '--amp', '--launcher', 'slurm']
    assert '--work-dir' not in argv and recorded['env']['MASTER_PORT'] == '29500'


def test_slurm_test_passes_config_checkpoint_and_options(slurm):
    result, recorded = slurm('slurm_test.sh', 'gpu', 'eval', 'configs/lol.py', 'best.pth',
                             '--out-dir', 'restored', GPUS='2', GPUS_PER_NODE='2')
    assert result.returncode == 0, result.stderr
    argv = recorded['argv']
    assert '--gres=gpu:2' in argv and '--ntasks=2' in argv
    assert argv[argv.index('-u') + 1:] == [str(REPO_ROOT / 'tools' / 'test.py'), 'configs/lol.py',
                                           'best.pth', '--out-dir', 'restored',
                                           '--launcher', 'slurm']


@pytest.mark.parametrize('script, args', [('slurm_train.sh', ['gpu', 'job']),
                                          ('slurm_test.sh', ['gpu', 'job', 'configs/lol.py'])])
def test_missing_arguments_give_the_usage_and_start_nothing(slurm, script, args):
    result, recorded = slurm(script, *args)
    assert result.returncode == 2 and recorded is None
    assert result.stderr.startswith('usage:') and 'PARTITION JOB_NAME CONFIG' in result.stderr
