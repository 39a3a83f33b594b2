"""tools/publish_model.py on a trained tiny config, and the published model used by the tools:
tools/test.py, load_from in tools/train.py, tools/restore.py from hf:// with an offline cache."""
import json

import cv2
import numpy as np
import pytest
from published_models import fill_hub_cache

from tiny_training import make_tiny_setup, run, run_restore, val_metrics

EMA = ("custom_hooks = [dict(type='RNGStateHook'), dict(type='EMAHook', "
       "ema_type='MomentumAnnealingEMA', momentum=0.01, gamma=10)]\n")


@pytest.fixture(scope='module')
def published(tmp_path_factory):
    root = tmp_path_factory.mktemp('publish')
    config = make_tiny_setup(root, EMA)[0]
    work_dir = root / 'work'
    run('tools/train.py', config, '--work-dir', work_dir)
    result = run('tools/publish_model.py', work_dir / 'iter_4.pth', root / 'zoo',
                 '--metric', 'PSNR@lol=9.5', '--json')
    return root, config, work_dir, json.loads(result.stdout.strip().splitlines()[-1]), result


@pytest.mark.slow
def test_publish_prints_the_paths_and_the_card_holds_the_logged_scores(published):
    root, _, work_dir, paths, result = published
    assert f'sha256:     {paths["sha256"]}' in result.stdout
    assert paths['weights'].endswith(f'tiny_w0_{paths["sha256"][:8]}.safetensors')
    card = open(paths['model_card']).read()
    logged = val_metrics(work_dir)
    assert f'| PSNR | {logged["PSNR"]:.4f} |' in card and 'validation at step 4' in card
    assert '| PSNR@lol | 9.5000 |' in card and '1 process(es); CPU only' in card
    again = run('tools/publish_model.py', work_dir / 'iter_2.pth', root / 'zoo', check=False)
    assert again.returncode == 1
    assert again.stderr.strip().splitlines() == [
        f'error: {root / "zoo"} already holds other weights '
        f'({paths["weights"].rsplit("/", 1)[1]}); publish each model into a folder of its own.']


@pytest.mark.slow
def test_test_tool_scores_the_published_weights_as_validation_did(published):
    root, _, work_dir, paths, _ = published
    run('tools/test.py', paths['config'], paths['weights'], '--work-dir', root / 'tested')
    metrics = json.loads((root / 'tested' / 'metrics.json').read_text())['metrics']
    assert metrics['PSNR'] == pytest.approx(val_metrics(work_dir)['PSNR'], abs=1e-6)


@pytest.mark.slow
def test_load_from_starts_training_from_the_published_weights(published):
    root, config, _, paths, _ = published
    result = run('tools/train.py', config, '--work-dir', root / 'finetune', '--cfg-options',
                 f'load_from={paths["weights"]}', 'train_cfg.max_iters=2',
                 'train_cfg.val_interval=2')
    assert f'Load checkpoint from {paths["weights"]}' in result.stdout + result.stderr
    resumed = run('tools/train.py', config, '--work-dir', root / 'resumed', '--resume',
                  paths['weights'], check=False)
    assert resumed.returncode == 1
    assert 'holds only weights' in resumed.stderr.strip().splitlines()[-1]


@pytest.mark.slow
def test_restore_from_hf_with_an_offline_cache(published, monkeypatch):
    root, config, work_dir, paths, _ = published
    cache = root / 'hf' / 'hub'
    fill_hub_cache(cache, 'acme/tiny', {paths['weights'].rsplit('/', 1)[1]: paths['weights'],
                                        'config.py': paths['config'],
                                        'MODEL_CARD.md': paths['model_card']})
    for name, value in (('HF_HOME', root / 'hf'), ('HF_HUB_CACHE', cache),
                        ('HF_HUB_OFFLINE', '1')):
        monkeypatch.setenv(name, str(value))
    photo = root / 'photo'
    photo.mkdir()
    rng = np.random.default_rng(1)
    cv2.imwrite(str(photo / 'a.png'), rng.integers(0, 256, (26, 30, 3), dtype=np.uint8))
    outputs = {}
    for name, checkpoint in (('pth', work_dir / 'iter_4.pth'), ('hub', 'hf://acme/tiny')):
        done = run_restore(config, checkpoint, photo / 'a.png', root / name)
        assert done.returncode == 0, done.stderr[-2000:]
        outputs[name] = cv2.imread(str(root / name / 'a.png'))
    np.testing.assert_array_equal(outputs['pth'], outputs['hub'])
    missing = run_restore(config, 'hf://acme/tiny/nope.safetensors', photo / 'a.png', root / 'x')
    assert missing.returncode == 1
    (line,) = missing.stderr.strip().splitlines()
    assert line.startswith('error: hf://acme/tiny/nope.safetensors: the file nope.safetensors '
                           'is not in the local Hugging Face cache') and 'hf download' in line
