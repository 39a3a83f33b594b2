"""rf.zoo.publish: the averaged weights as .safetensors named by their sha256, the resolved config,
the model card, and refusals that leave the output folder untouched (in process, no training)."""
import hashlib

import numpy as np
import pytest
import torch
from mmengine.config import Config
from published_models import save_mmengine_checkpoint, tiny_config, tiny_weights, write_run_logs

from rf.checkpoint import CheckpointError, load_checkpoint_file
from rf.inference import init_model, restore_image
from rf.zoo.publish import PublishError, publish


@pytest.fixture(scope='module')
def tiny():
    cfg = tiny_config()
    return cfg, tiny_weights(cfg, seed=1), tiny_weights(cfg, seed=2)


@pytest.fixture
def checkpoint(tmp_path, tiny):
    cfg, averaged, raw = tiny
    work_dir = tmp_path / 'work'
    work_dir.mkdir()
    return save_mmengine_checkpoint(work_dir / 'iter_4.pth', cfg, averaged, raw)


def test_publishes_the_average_under_its_sha256(checkpoint, tiny, tmp_path):
    _, averaged, raw = tiny
    result = publish(str(checkpoint), str(tmp_path / 'zoo'))
    data = open(result['weights'], 'rb').read()
    assert result['sha256'] == hashlib.sha256(data).hexdigest()
    assert result['weights'].endswith(f'tiny_{result["sha256"][:8]}.safetensors')
    weights = load_checkpoint_file(result['weights'])['state_dict']
    assert weights.keys() == averaged.keys()  # the model's own keys, no module. prefix
    assert all(torch.equal(weights[k], averaged[k]) for k in averaged)
    assert not all(torch.equal(weights[k], raw[k]) for k in raw)
    assert 'moving average' in result['weights_kind']


def test_ema_state_dict_of_other_writers_is_the_average(tmp_path, tiny):
    """Without MMEngine's meta, ema_state_dict is taken at its word: its module. keys stripped."""
    _, averaged, raw = tiny
    ema = {'steps': torch.tensor(3), **{'module.' + k: v for k, v in averaged.items()}}
    torch.save({'state_dict': raw, 'ema_state_dict': ema}, tmp_path / 'other.pth')
    result = publish(str(tmp_path / 'other.pth'), str(tmp_path / 'zoo'), config=tiny_config())
    weights = load_checkpoint_file(result['weights'])['state_dict']
    assert weights.keys() == averaged.keys()
    assert all(torch.equal(weights[k], averaged[k]) for k in averaged)


def test_restores_as_the_checkpoint_does(checkpoint, tmp_path):
    result = publish(str(checkpoint), str(tmp_path / 'zoo'))
    image = np.random.default_rng(0).integers(0, 256, (20, 28, 3), dtype=np.uint8)
    from_pth = restore_image(init_model(tiny_config(), str(checkpoint)), image)
    from_published = restore_image(init_model(result['config'], result['weights']), image)
    np.testing.assert_array_equal(from_pth, from_published)


def test_config_comes_from_the_checkpoint_and_loses_local_paths(checkpoint, tmp_path, tiny):
    result = publish(str(checkpoint), str(tmp_path / 'zoo'))
    cfg = Config.fromfile(result['config'])
    assert cfg.model.backbone.dim == 8 and cfg.load_from is None and cfg.resume is False
    assert 'work_dir' not in cfg


def test_republishing_is_a_no_op_and_conflicts_are_refused(checkpoint, tmp_path, tiny):
    out = tmp_path / 'zoo'
    first = publish(str(checkpoint), str(out))
    assert publish(str(checkpoint), str(out)) == first
    cfg, averaged, _ = tiny
    other = save_mmengine_checkpoint(tmp_path / 'other.pth', cfg, tiny_weights(cfg, 3), averaged)
    with pytest.raises(PublishError, match='already holds other weights'):
        publish(str(other), str(out))
    (out / 'MODEL_CARD.md').write_text('edited by hand\n')
    with pytest.raises(PublishError, match='MODEL_CARD.md exists and differs'):
        publish(str(checkpoint), str(out))
    assert (out / 'MODEL_CARD.md').read_text() == 'edited by hand\n'
    assert PublishError.rf_user_error is True


def test_unreadable_or_configless_checkpoints_are_refused(tmp_path, checkpoint, tiny):
    truncated = tmp_path / 'truncated.pth'
    truncated.write_bytes(checkpoint.read_bytes()[:2000])
    with pytest.raises(CheckpointError, match='truncated or corrupt'):
        publish(str(truncated), str(tmp_path / 'zoo'))
    with pytest.raises(CheckpointError, match='not found'):
        publish(str(tmp_path / 'missing.pth'), str(tmp_path / 'zoo'))
    torch.save({'state_dict': tiny[1]}, tmp_path / 'plain.pth')
    with pytest.raises(PublishError, match='records no config'):
        publish(str(tmp_path / 'plain.pth'), str(tmp_path / 'zoo'))
    wrong = tiny_config()
    wrong.model.backbone.dim = 16
    with pytest.raises(PublishError, match='does not match'):
        publish(str(tmp_path / 'plain.pth'), str(tmp_path / 'zoo'), config=wrong)
    assert not (tmp_path / 'zoo').exists()


def test_shared_and_strided_tensors_are_written(tmp_path, tiny):
    """safetensors refuses shared storage; tied or sliced weights are copied apart."""
    _, averaged, _ = tiny
    state = dict(averaged)
    key = 'backbone.init_conv.bias'
    wide = torch.stack([state[key], state[key]], dim=1)  # a strided view after slicing
    state[key] = wide[:, 0]
    torch.save({'state_dict': state}, tmp_path / 'tied.pth')
    result = publish(str(tmp_path / 'tied.pth'), str(tmp_path / 'zoo'), config=tiny_config())
    weights = load_checkpoint_file(result['weights'])['state_dict']
    assert torch.equal(weights[key], averaged[key])


def test_model_card_states_data_training_metrics_and_licence(checkpoint, tmp_path):
    write_run_logs(checkpoint.parent, {'PSNR': 12.5, 'SSIM': 0.5})
    result = publish(str(checkpoint), str(tmp_path / 'zoo'), metrics={'PSNR@lol': 21.25})
    card = open(result['model_card']).read()
    assert result['sha256'] in card and 'ResfusionUNet(dim=8' in card
    assert "- train: `SkimagePhotosDataset` split='train'" in card
    assert '| PSNR | 12.5000 |' in card and 'validation at step 4' in card
    assert '| PSNR@lol | 21.2500 | `lol` protocol' in card and 'given at publishing' in card
    assert '2 process(es); GPU 0,1: NVIDIA H200' in card
    assert 'Apache-2.0' in card and 'CC BY-NC-SA' not in card


def test_converted_weights_keep_the_authors_licence(tmp_path, tiny):
    torch.save({'state_dict': tiny[1], 'meta': {'converted_from': 'resfusion_lol.ckpt'}},
               tmp_path / 'converted.pth')
    result = publish(str(tmp_path / 'converted.pth'), str(tmp_path / 'zoo'),
                     config=tiny_config())
    card = open(result['model_card']).read()
    assert 'CC BY-NC-SA 4.0' in card and 'resfusion_lol.ckpt' in card


def test_fine_tuned_weights_name_what_they_started_from(tmp_path, tiny):
    cfg, averaged, raw = tiny
    started = tiny_config()
    started.load_from = '/data/converted/lol_official.pth'
    checkpoint = save_mmengine_checkpoint(tmp_path / 'iter_4.pth', started, averaged, raw)
    result = publish(str(checkpoint), str(tmp_path / 'zoo'))
    card = open(result['model_card']).read()
    assert 'Training started from `lol_official.pth` (load_from)' in card
    assert 'Apache-2.0' in card and 'keep CC BY-NC-SA 4.0 through fine-tuning' in card
    assert Config.fromfile(result['config']).load_from is None
