"""No silent CPU run where GPUs are expected, and launcher checks that fail before any process
starts (a multi-machine run without MASTER_ADDR, more processes than GPUs)."""
import subprocess

import pytest
import torch

from rf.engine.distributed import GpuUnusableError, check_gpu_expected, check_launch

from conftest import REPO_ROOT


@pytest.fixture
def no_gpu_env(monkeypatch):
    monkeypatch.delenv('CUDA_VISIBLE_DEVICES', raising=False)
    monkeypatch.delenv('RF_DEVICE', raising=False)


def test_nvidia_device_files_without_cuda_stop_with_the_reason(tmp_path, no_gpu_env):
    (tmp_path / 'nvidia0').write_text('')
    with pytest.raises(GpuUnusableError) as error:
        check_gpu_expected(str(tmp_path / 'nvidia[0-9]*'))
    message = str(error.value)
    assert f"{tmp_path / 'nvidia0'} exists" in message
    assert 'RF_DEVICE=cpu' in message and torch.__version__ in message


def test_cuda_visible_devices_without_cuda_stop_unless_cpu_is_asked_for(tmp_path, monkeypatch,
                                                                        no_gpu_env):
    no_files = str(tmp_path / 'nvidia[0-9]*')
    check_gpu_expected(no_files)  # nothing says GPUs are expected: the CPU is fine
    for hidden in ('', '-1'):
        monkeypatch.setenv('CUDA_VISIBLE_DEVICES', hidden)
        check_gpu_expected(no_files)
    monkeypatch.setenv('CUDA_VISIBLE_DEVICES', '0,1')
    with pytest.raises(GpuUnusableError, match='CUDA_VISIBLE_DEVICES=0,1'):
        check_gpu_expected(no_files)
    monkeypatch.setenv('RF_DEVICE', 'cpu')
    check_gpu_expected(no_files)


def test_more_processes_than_gpus_is_refused(monkeypatch, no_gpu_env):
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: True)
    monkeypatch.setattr(torch.cuda, 'device_count', lambda: 2)
    check_launch(2)
    with pytest.raises(GpuUnusableError, match='8 processes asked for, but only 2 GPU'):
        check_launch(8)


def launch(home, env, *args):
    full_env = {'PATH': '/usr/bin:/bin', 'HOME': str(home), **env}
    return subprocess.run(['bash', 'tools/torchrun.sh', *args], cwd=REPO_ROOT, env=full_env,
                          capture_output=True, text=True, timeout=120)


@pytest.mark.slow
def test_torchrun_script_refuses_before_starting_processes(tmp_path):
    result = launch(tmp_path, {'CUDA_VISIBLE_DEVICES': '0'}, '2', 'tools/train.py', 'configs/demo.py')
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith('error: GPUs are expected here')
    assert 'torch.distributed.run' not in result.stderr
    result = launch(tmp_path, {'NNODES': '2', 'PORT': '29500'}, '2', 'tools/train.py', 'configs/demo.py')
    assert result.returncode == 2 and 'set MASTER_ADDR' in result.stderr
    result = launch(tmp_path, {}, '0', 'tools/train.py', 'configs/demo.py')
    assert result.returncode == 2 and 'NUM_PROCS must be a positive number' in result.stderr
