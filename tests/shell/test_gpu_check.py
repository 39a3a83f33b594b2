"""tools/gpu_check.sh --device cpu --smoke: every step of the prepared GPU check rehearsed on the
CPU with a tiny network and generated data, ending with its one-line JSON summary."""
import json
import os
import subprocess

import pytest

from conftest import REPO_ROOT


@pytest.mark.slow
def test_gpu_check_smoke_runs_every_step_and_prints_its_summary(tmp_path):
    env = dict(os.environ, OUT=str(tmp_path / 'out'), OMP_NUM_THREADS='1')
    result = subprocess.run(['bash', 'tools/gpu_check.sh', '--device', 'cpu', '--smoke'],
                            cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=1200)
    assert result.returncode == 0, result.stderr[-3000:]
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary['gpu_check'] and summary['smoke'] and summary['device'] == 'cpu'
    assert set(summary['steps']) == {'env', 'cuda_tests', 'benchmark', 'dist', 'timed'}
    assert summary['ok'], (summary['steps'], result.stderr[-3000:])
    assert summary['env']['cuda'] is False
    assert {row['variant'] for row in summary['benchmark']} >= {'fast', 'train'}
    assert {(row['math'], row['channels_last']) for row in summary['benchmark']} >= {
        ('tf32', False), ('fp32', False), ('bf16', False), ('bf16', True)}
    # Trained through torchrun, resumed to a third epoch, tested with the paper's protocols.
    assert {'PSNR@lol', 'SSIM@lol', 'PSNR@lol_256'} <= set(summary['dist'])
    assert {'PSNR@lol', 'PSNR@lol_256'} <= set(summary['timed']['metrics'])
    assert summary['timed']['checkpoint'].endswith('.pth')
    assert (tmp_path / 'out' / 'dist' / 'epoch_3.pth').is_file()
