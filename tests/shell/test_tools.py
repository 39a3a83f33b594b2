"""tools/print_schedule.py and tools/convert_official.py, run as a user would."""
import importlib.util
import json
import subprocess
import sys

import pytest
import torch

from rf.registry import MODELS

from conftest import REPO_ROOT


def load_tool(name):
    spec = importlib.util.spec_from_file_location(f'tool_{name}', REPO_ROOT / 'tools' / f'{name}.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_print_schedule_json_cli():
    result = subprocess.run([sys.executable, 'tools/print_schedule.py', '--schedule', 'linear',
                             '--T', '12', '--json'], cwd=REPO_ROOT, capture_output=True, text=True,
                            check=True)
    info = json.loads(result.stdout)
    assert info['T'] == 12 and info['T_acc'] == 5
    for key in ('betas', 'alphas', 'alphas_cumprod', 'posterior_variance'):
        assert len(info[key]) == 5
    assert info['alphas_cumprod'][-1] == 0.25 and info['posterior_variance'][0] == 0.0


def test_print_schedule_table_and_refusal(capsys):
    tool = load_tool('print_schedule')
    assert tool.main(['--T', '100']) == 0
    out = capsys.readouterr().out
    assert "T'=37" in out and "<- T'" in out and len(out.splitlines()) == 2 + 100
    assert tool.main(['--T', '9']) == 2
    assert 'use T >= 10' in capsys.readouterr().err


def make_lightning_checkpoint(path, net):
    torch.save({'epoch': 3, 'global_step': 1200, 'pytorch-lightning_version': '2.1.3',
                'hyper_parameters': {'lr': 1.1e-4, 'T': 12},
                'state_dict': {f'denoising_module.{k}': v for k, v in net.state_dict().items()},
                'optimizer_states': [{'state': {}, 'param_groups': [{'lr': 1e-4}]}]}, path)


def test_convert_official_round_trip(tmp_path, capsys):
    torch.manual_seed(0)
    theirs = MODELS.build(dict(type='ResfusionUNet', dim=8, dim_mults=(1, 2, 4), in_channels=8))
    make_lightning_checkpoint(tmp_path / 'authors.ckpt', theirs)
    tool = load_tool('convert_official')
    assert tool.main([str(tmp_path / 'authors.ckpt'), str(tmp_path / 'ours.pth')]) == 0
    printed = capsys.readouterr().out
    assert 'dim=8, dim_mults=(1, 2, 4), in_channels=8' in printed
    assert 'CC BY-NC-SA 4.0' in printed  # converted weights keep the authors' licence

    converted = torch.load(tmp_path / 'ours.pth', weights_only=True)
    assert converted['meta']['backbone']['type'] == 'ResfusionUNet'
    assert all(k.startswith('backbone.') for k in converted['state_dict'])
    ours = MODELS.build(converted['meta']['backbone'])
    ours.load_state_dict({k[len('backbone.'):]: v for k, v in converted['state_dict'].items()})
    x, t = torch.randn(1, 8, 16, 16), torch.tensor([2])
    with torch.no_grad():
        torch.testing.assert_close(ours(x, t), theirs(x, t), rtol=0, atol=0)

    # Bare weights with --prefix '', and no silent overwrite.
    assert tool.main([str(tmp_path / 'authors.ckpt'), str(tmp_path / 'ours.pth'), '--prefix', '']) == 1
    assert 'exists' in capsys.readouterr().err
    assert tool.main([str(tmp_path / 'authors.ckpt'), str(tmp_path / 'ours.pth'), '--prefix', '',
                      '--overwrite']) == 0
    assert 'init_conv.weight' in torch.load(tmp_path / 'ours.pth', weights_only=True)['state_dict']


@pytest.mark.parametrize('content,message', [
    ({'state_dict': {'model.layer.weight': torch.zeros(1)}}, "no key starts with 'denoising_module.'"),
    ({'state_dict': {'denoising_module.init_conv.weight': torch.zeros(8, 6, 7, 7)}}, 'lack'),
    ('not a checkpoint', 'expected a dict'),
])
def test_convert_official_rejects_other_files(tmp_path, capsys, content, message):
    torch.save(content, tmp_path / 'in.ckpt')
    assert load_tool('convert_official').main([str(tmp_path / 'in.ckpt'), str(tmp_path / 'o.pth')]) == 1
    assert message in capsys.readouterr().err
    assert not (tmp_path / 'o.pth').exists()


def test_convert_official_refuses_to_overwrite_its_input(tmp_path, capsys):
    torch.save({'state_dict': {}}, tmp_path / 'in.ckpt')
    tool = load_tool('convert_official')
    assert tool.main([str(tmp_path / 'in.ckpt'), str(tmp_path / 'in.ckpt'), '--overwrite']) == 1
    assert 'input' in capsys.readouterr().err
