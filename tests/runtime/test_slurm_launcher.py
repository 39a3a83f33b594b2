"""``--launcher slurm`` on CPU-only nodes: torchrun's variables derived from srun's, and a gloo
training of two tasks started as srun starts them (SLURM_PROCID, SLURM_NTASKS, ...)."""
import os
import subprocess

import pytest

from rf.engine.distributed import init_cpu_distributed, torch_env_from_slurm

from conftest import REPO_ROOT
from tiny_training import PYTHON, make_tiny_setup

TORCH_VARS = ('RANK', 'WORLD_SIZE', 'LOCAL_RANK', 'MASTER_ADDR', 'MASTER_PORT')


@pytest.fixture
def clean_env(monkeypatch):
    """No torchrun variables; afterwards the environment is as before, including the variables
    the function under test sets itself (monkeypatch alone would not undo those)."""
    saved = dict(os.environ)
    for name in TORCH_VARS:
        monkeypatch.delenv(name, raising=False)
    yield monkeypatch
    monkeypatch.undo()  # first, or its undo would bring back what the function set
    os.environ.clear()
    os.environ.update(saved)


def test_torch_variables_come_from_slurms(clean_env, tmp_path):
    scontrol = tmp_path / 'scontrol'
    scontrol.write_text('#!/bin/sh\n[ "$3" = "node[07-08]" ] && printf "node07\\nnode08\\n"\n')
    scontrol.chmod(0o755)
    clean_env.setenv('PATH', f"{tmp_path}:{os.environ['PATH']}")
    for name, value in (('SLURM_PROCID', '3'), ('SLURM_NTASKS', '4'), ('SLURM_LOCALID', '1'),
                        ('SLURM_NODELIST', 'node[07-08]')):
        clean_env.setenv(name, value)
    torch_env_from_slurm()
    assert [os.environ[name] for name in TORCH_VARS] == ['3', '4', '1', 'node07', '29500']
    clean_env.setenv('MASTER_ADDR', '10.0.0.1')  # set by the user: kept
    clean_env.setenv('MASTER_PORT', '29700')
    torch_env_from_slurm()
    assert os.environ['MASTER_ADDR'] == '10.0.0.1' and os.environ['MASTER_PORT'] == '29700'


def test_outside_srun_it_says_what_is_missing(clean_env):
    for name in ('SLURM_PROCID', 'SLURM_NTASKS', 'SLURM_NODELIST'):
        clean_env.delenv(name, raising=False)
    clean_env.setattr('torch.cuda.is_available', lambda: False)
    with pytest.raises(RuntimeError, match='SLURM_PROCID, SLURM_NTASKS, SLURM_NODELIST not set'):
        init_cpu_distributed('slurm')
    with pytest.raises(RuntimeError, match="'pytorch'.*'slurm'.*not 'mpi'"):
        init_cpu_distributed('mpi')


@pytest.mark.slow
def test_two_slurm_tasks_train_together_with_gloo(tmp_path):
    """Two tools/train.py processes with srun's variables (~25 s on 2 cores)."""
    config = make_tiny_setup(tmp_path, 'train_cfg = dict(max_iters=1, val_interval=100)\n')[0]
    port = subprocess.run([PYTHON, '-c', "import socket; s=socket.socket(); s.bind(('', 0)); "
                           'print(s.getsockname()[1])'], capture_output=True, text=True).stdout
    tasks = []
    for rank in (0, 1):
        env = dict(os.environ, OMP_NUM_THREADS='1', RF_DEVICE='cpu', SLURM_PROCID=str(rank),
                   SLURM_NTASKS='2', SLURM_LOCALID=str(rank), SLURM_NODELIST='localhost',
                   MASTER_ADDR='127.0.0.1', MASTER_PORT=port.strip())
        for name in ('RANK', 'WORLD_SIZE', 'LOCAL_RANK'):
            env.pop(name, None)
        tasks.append(subprocess.Popen(
            [PYTHON, 'tools/train.py', str(config), '--work-dir', str(tmp_path / 'work'),
             '--launcher', 'slurm'], cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True))
    outputs = [task.communicate(timeout=300)[0] for task in tasks]
    for task, output in zip(tasks, outputs):
        assert task.returncode == 0, output[-4000:]
    log = next((tmp_path / 'work').glob('*/*.log')).read_text()  # rank 0's
    assert 'Distributed launcher: slurm' in log and 'Distributed training: True' in log
    assert (tmp_path / 'work' / 'iter_1.pth').is_file()
