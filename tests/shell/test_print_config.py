"""tools/print_config.py: the config as a run resolves it, overrides and rf's changes included."""
import importlib.util
import json
import subprocess
import sys

import pytest

from conftest import REPO_ROOT


def load_tool():
    spec = importlib.util.spec_from_file_location('tool_print_config',
                                                  REPO_ROOT / 'tools' / 'print_config.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_prints_the_overridden_and_adapted_config(capsys):
    tool = load_tool()
    assert tool.main([str(REPO_ROOT / 'configs' / 'lol.py'), '--cfg-options',
                      'train_dataloader.num_workers=0', 'train_cfg.max_epochs=7']) == 0
    captured = capsys.readouterr()
    assert 'max_epochs=7' in captured.out and 'persistent_workers=False' in captured.out
    assert captured.err.strip() == ('note: train_dataloader: num_workers=0, so persistent_workers '
                                    'off')
    assert "work_dir = 'work_dirs/lol'" in captured.out


def test_json_and_an_unknown_override_key(capsys):
    tool = load_tool()
    assert tool.main([str(REPO_ROOT / 'configs' / 'demo.py'), '--json', '--cfg-options',
                      'train_cfg.max_iterz=5']) == 0
    captured = capsys.readouterr()
    cfg = json.loads(captured.out)
    assert cfg['train_cfg']['max_iterz'] == 5 and cfg['train_cfg']['max_iters'] == 300
    assert 'did you mean train_cfg.max_iters?' in captured.err


@pytest.mark.slow
def test_a_missing_config_is_one_line(tmp_path):
    result = subprocess.run([sys.executable, 'tools/print_config.py', str(tmp_path / 'nope.py')],
                            cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1 and result.stdout == ''
    assert result.stderr.strip() == f'Config file not found: {tmp_path / "nope.py"}'
