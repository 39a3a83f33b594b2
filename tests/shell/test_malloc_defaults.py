"""The tools restart once with glibc malloc defaults; user values and the opt-out are kept."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from rf.cli.malloc_defaults import MALLOC_DEFAULTS, missing_malloc_settings

REPO = Path(__file__).resolve().parents[2]
on_glibc = pytest.mark.skipif(not missing_malloc_settings({}), reason='needs Linux with glibc')

SCRIPT = f"""
import json, os, sys
sys.path.insert(0, {str(REPO)!r})
if __name__ == '__main__':
    from rf.cli.malloc_defaults import reexec_with_malloc_defaults
    reexec_with_malloc_defaults()
print(json.dumps([sys.argv[1:], {{k: v for k, v in os.environ.items() if k.startswith('MALLOC_')}}]))
"""


def run_script(tmp_path, extra_env, *args):
    script = tmp_path / 'tool.py'
    script.write_text(SCRIPT)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith('MALLOC_') and k != 'RF_MALLOC_DEFAULTS'}
    env.update(extra_env)
    proc = subprocess.Popen([sys.executable, str(script), *args], env=env,
                            stdout=subprocess.PIPE, text=True)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0
    argv, malloc = json.loads(out)
    return argv, malloc


@pytest.mark.slow
@on_glibc
def test_tool_restarts_with_defaults_keeping_its_arguments(tmp_path):
    argv, malloc = run_script(tmp_path, {}, 'configs/x.py', '--flag', 'a b')
    assert malloc == MALLOC_DEFAULTS
    assert argv == ['configs/x.py', '--flag', 'a b']


@pytest.mark.slow
@on_glibc
def test_user_values_win_and_only_missing_ones_are_added(tmp_path):
    _, malloc = run_script(tmp_path, {'MALLOC_TOP_PAD_': '4096'})
    assert malloc == {**MALLOC_DEFAULTS, 'MALLOC_TOP_PAD_': '4096'}


@pytest.mark.slow
def test_opt_out_leaves_malloc_alone(tmp_path):
    _, malloc = run_script(tmp_path, {'RF_MALLOC_DEFAULTS': '0'})
    assert malloc == {}
    assert missing_malloc_settings({'RF_MALLOC_DEFAULTS': '0'}) == {}


@on_glibc
def test_nothing_missing_when_all_are_set():
    assert missing_malloc_settings(dict(MALLOC_DEFAULTS)) == {}


def test_gpu_machines_keep_glibcs_defaults(tmp_path):
    """The settings were measured for CPU work: with NVIDIA devices (not hidden), none is added."""
    from rf.cli.malloc_defaults import missing_malloc_settings
    (tmp_path / 'nvidia0').write_text('')
    devices, none = str(tmp_path / 'nvidia[0-9]*'), str(tmp_path / 'absent[0-9]*')
    on_cpu = missing_malloc_settings({}, none)
    if not on_cpu:
        pytest.skip('not glibc: no malloc settings at all')
    assert missing_malloc_settings({}, devices) == {}
    for cpu_anyway in ({'RF_DEVICE': 'cpu'}, {'CUDA_VISIBLE_DEVICES': ''},
                       {'CUDA_VISIBLE_DEVICES': '-1'}):
        assert missing_malloc_settings(cpu_anyway, devices) == on_cpu
