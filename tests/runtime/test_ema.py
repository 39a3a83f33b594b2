"""The CPU recipes' moving average of the weights (MMEngine's EMAHook) end to end: validation,
the checkpoint's state_dict and tools/test.py all use the averaged weights."""
import json

import pytest
import torch
from mmengine.config import Config

from rf.checkpoint import load_checkpoint_file

from conftest import REPO_ROOT
from tiny_training import make_tiny_setup, run, val_metrics


def recipe_ema_hook():
    hooks = Config.fromfile(str(REPO_ROOT / 'configs' / 'lol_cpu.py')).custom_hooks
    (ema,) = [hook for hook in hooks if hook['type'] == 'EMAHook']
    assert ema == Config.fromfile(str(REPO_ROOT / 'configs' / 'polyu_cpu.py')).custom_hooks[2]
    return dict(ema)


@pytest.fixture(scope='module')
def trained_with_ema(tmp_path_factory):
    root = tmp_path_factory.mktemp('ema')
    # The recipe's hook, unchanged, on a 4-iteration run (it must not depend on max_iters).
    configs = make_tiny_setup(root, f'custom_hooks = [dict(type="RNGStateHook"), '
                                    f'{recipe_ema_hook()!r}]\n')
    plain_config = root / 'without_ema.py'
    plain_config.write_text(f"_base_ = ['{configs[0]}']\ncustom_hooks = "
                            "[dict(type='RNGStateHook')]\n")
    work_dir = root / 'work'
    run('tools/train.py', configs[0], '--work-dir', work_dir)
    return root, configs[0], plain_config, work_dir


@pytest.mark.slow
def test_checkpoint_holds_the_average_as_its_weights(trained_with_ema):
    _, _, _, work_dir = trained_with_ema
    checkpoint = load_checkpoint_file(str(work_dir / 'iter_4.pth'))
    averaged, raw = checkpoint['state_dict'], checkpoint['ema_state_dict']
    differs = [key for key in averaged
               if not torch.equal(averaged[key], raw['module.' + key])]
    assert any(key.startswith('backbone.') for key in differs), 'average equals the last weights'


@pytest.mark.slow
@pytest.mark.parametrize('with_hook', [True, False])
def test_test_tool_scores_what_validation_scored(trained_with_ema, with_hook):
    """Validation ran on the averaged weights; test.py finds the same ones with the hook in the
    config (it swaps them in) and without (they are the checkpoint's state_dict)."""
    root, config, plain_config, work_dir = trained_with_ema
    test_work = root / f'test_{with_hook}'
    run('tools/test.py', config if with_hook else plain_config, work_dir / 'iter_4.pth',
        '--work-dir', test_work)
    metrics = json.loads((test_work / 'metrics.json').read_text())['metrics']
    assert metrics['PSNR'] == pytest.approx(val_metrics(work_dir)['PSNR'], abs=1e-6)
