"""The generation task (x̂0 = 0, no condition), its batches, the CIFAR-10 dataset read from
generated pickle batches in the official layout, the sample grid and configs/cifar10.py."""
import pickle

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope
from mmengine.structures import BaseDataElement
from torch import nn

from rf.datasets.errors import DataError
from rf.diffusion import q_sample, training_target
from rf.registry import DATASETS, MODELS, TASKS, TRANSFORMS
from rf_plugins.datasets.cifar10 import read_batch
from rf_plugins.tasks.generation.grid_hook import sample_grid

from conftest import REPO_ROOT

CONFIG = REPO_ROOT / 'configs' / 'cifar10.py'


def cifar_images(count, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (count, 32, 32, 3), dtype=np.uint8)


def write_batch(path, images, labels, protocol=2):
    """One batch as the official files hold it: b'data' (N, 3072) uint8, R then G then B planes."""
    data = images.transpose(0, 3, 1, 2).reshape(len(images), 3 * 32 * 32)
    batch = {b'batch_label': path.name.encode(), b'labels': [int(x) for x in labels],
             b'data': np.ascontiguousarray(data),
             b'filenames': [f'img_{i}.png'.encode() for i in range(len(images))]}
    path.write_bytes(pickle.dumps(batch, protocol=protocol))


def write_cifar_layout(root, train=None, test=None):
    """``root/cifar-10-batches-py`` with data_batch_1..5 (the train images dealt round-robin)
    and test_batch; returns ``(train_images, test_images)``."""
    train = cifar_images(2, seed=1) if train is None else train
    test = cifar_images(2, seed=2) if test is None else test
    folder = root / 'cifar-10-batches-py'
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(5):
        write_batch(folder / f'data_batch_{i + 1}', train[i::5], np.arange(len(train))[i::5] % 10)
    write_batch(folder / 'test_batch', test, np.arange(len(test)) % 10, protocol=4)
    return train, test


def build_dataset(**kwargs):
    with DefaultScope.overwrite_default_scope('rf'):
        return DATASETS.build(dict(type='CIFAR10Dataset', **kwargs))


# ---------------------------------------------------------------------------- the task
def test_task_starts_from_zero_without_condition():
    task = TASKS.build(dict(type='generation', image_shape=(3, 16, 8)))
    gt = torch.rand(2, 3, 32, 32) * 2 - 1
    assert torch.equal(task.degraded({'gt': gt}), torch.zeros_like(gt))
    start = task.sampling_degraded({'gt': gt})
    assert start.shape == (2, 3, 16, 8) and not start.any()
    assert task.condition({'gt': gt}) == (None, None)
    free = TASKS.build(dict(type='generation', image_shape=None))
    assert free.sampling_degraded({'gt': gt}).shape == gt.shape
    with pytest.raises(KeyError, match="no 'gt'"):
        task.sampling_degraded({'degraded': None})
    with pytest.raises(ValueError, match='image_shape'):
        TASKS.build(dict(type='generation', image_shape=(32, 32)))


def test_preprocessor_batches_real_images_without_degraded_input():
    model = build_model()
    samples = [BaseDataElement(gt=torch.randint(0, 256, (3, 32, 32), dtype=torch.uint8))
               for _ in range(2)]
    for training in (True, False):
        data = model.data_preprocessor({'inputs': {}, 'data_samples': samples}, training=training)
        inputs = data['inputs']
        assert inputs['degraded'] is None and inputs['mask'] is None
        torch.testing.assert_close(inputs['gt'][1], samples[1].gt.float() / 127.5 - 1)
    # The generated image has the task's shape: no ori_shape from the real images.
    assert all('ori_shape' not in s.metainfo for s in data['data_samples'])


# ---------------------------------------------------------------------------- the model
class SpyBackbone(nn.Module):
    """Returns zeros (times a parameter, so the loss has a gradient) and records its inputs."""

    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(torch.ones(()))
        self.inputs = []

    def forward(self, x, t):
        self.inputs.append((x.detach().clone(), t.clone()))
        return torch.zeros_like(x[:, :3]) * self.scale


def build_model(backbone=None, image_shape=(3, 16, 16), **sampler):
    return MODELS.build(dict(
        type='Resfusion', backbone=backbone or SpyBackbone(), fuser=dict(type='concat'),
        task=dict(type='generation', image_shape=image_shape),
        schedule=dict(type='linear', T=12), sampler=dict(seed=0, **sampler)))


def test_loss_trains_on_the_forward_process_of_x0_with_zero_start():
    model = build_model()
    x0 = torch.rand(3, 3, 16, 16) * 2 - 1
    torch.manual_seed(5)
    loss = model.loss({'gt': x0})['loss']
    torch.manual_seed(5)  # the same draws as loss(): t, then ε
    t = torch.randint(1, model.schedule.T_acc + 1, (3,))
    noise = torch.randn_like(x0)
    zero = torch.zeros_like(x0)
    fused, steps = model.backbone.inputs[-1]
    assert fused.shape == (3, 3, 16, 16)  # x_t alone: no condition channels
    torch.testing.assert_close(fused, q_sample(model.schedule, x0, zero, t, noise))
    torch.testing.assert_close(steps, t - 1)
    target = training_target(model.schedule, 'resnoise', x0, zero, t, noise)  # R = -x0
    torch.testing.assert_close(loss, target.square().mean())
    loss.backward()
    assert model.backbone.scale.grad is not None


def real_batch(indices, size=32):
    gt = torch.rand(len(indices), 3, size, size) * 2 - 1
    return {'gt': gt}, [BaseDataElement(metainfo=dict(sample_idx=i)) for i in indices]


@pytest.mark.parametrize('batch_invariant', [True, False])
def test_predict_generates_the_configured_shape_with_noise_per_sample(batch_invariant):
    model = build_model(batch_invariant=batch_invariant)
    inputs, samples = real_batch([0, 1, 2])
    out = model.predict(inputs, samples)
    images = [s.pred_img for s in out]
    assert all(image.shape == (3, 16, 16) for image in images)  # not the real images' 32x32
    assert all(0 <= float(image.min()) and float(image.max()) <= 1 for image in images)
    assert not torch.equal(images[0], images[1]) and not torch.equal(images[1], images[2])
    # Another batch starting at another index draws other noise.
    other = model.predict(*real_batch([3, 4, 5]))
    assert not torch.equal(other[0].pred_img, images[0])
    if batch_invariant:  # a sample does not depend on its batch
        alone = model.predict(*real_batch([1]))[0].pred_img
        torch.testing.assert_close(alone, images[1], rtol=0, atol=0)


def test_sampling_starts_from_scaled_noise_of_the_samples_seed():
    model = build_model(deterministic=True)
    inputs, _ = real_batch([0])
    _, trajectory = model.restore(inputs, return_trajectory=True, seed_offset=7)
    eps = torch.randn((1, 3, 16, 16), generator=torch.Generator().manual_seed(0 + 7))
    expected = float(model.schedule.sqrt_one_minus_alphas_cumprod[-1]) * eps  # x̂0 = 0
    torch.testing.assert_close(trajectory[0], expected)
    assert len(model.backbone.inputs) == model.schedule.T_acc


def test_pack_generation_inputs():
    with DefaultScope.overwrite_default_scope('rf'):
        pack = TRANSFORMS.build(dict(type='PackGenerationInputs'))
    image = cifar_images(1)[0]
    packed = pack(dict(gt=image, sample_idx=7, img_id='test_00007', label=3))
    assert packed['inputs'] == {}
    sample = packed['data_samples']
    assert torch.equal(sample.gt, torch.from_numpy(image).permute(2, 0, 1))
    assert sample.img_id == 'sample_000007' and sample.sample_idx == 7
    assert sample.real_img_id == 'test_00007' and sample.label == 3
    with pytest.raises(KeyError, match="no 'gt'"):
        pack(dict(sample_idx=0))


# ---------------------------------------------------------------------------- CIFAR-10
def test_dataset_reads_the_official_batches(tmp_path):
    train, test = write_cifar_layout(tmp_path, train=cifar_images(7, 1), test=cifar_images(3, 2))
    dataset = build_dataset(data_root=str(tmp_path), split='train')
    assert len(dataset) == 7
    # data_batch_1 holds train images 0 and 5, data_batch_2 1 and 6, ...: read in batch order.
    order = [0, 5, 1, 6, 2, 3, 4]
    info = dataset.get_data_info(1)
    np.testing.assert_array_equal(info['gt'], train[order[1]])
    assert info['label'] == order[1] % 10 and info['img_id'] == 'train_00001'
    direct = build_dataset(data_root=str(tmp_path / 'cifar-10-batches-py'), split='test')
    assert len(direct) == 3
    np.testing.assert_array_equal(direct.get_data_info(2)['gt'], test[2])
    assert dataset.metainfo['classes'][3] == 'cat'


def test_the_configs_training_pipeline_flips_half_the_time(tmp_path):
    train, _ = write_cifar_layout(tmp_path, train=cifar_images(1, 3))
    cfg = Config.fromfile(str(CONFIG))
    dataset = build_dataset(data_root=str(tmp_path), split='train',
                            pipeline=cfg.train_dataloader.dataset.pipeline)
    np.random.seed(0)
    seen = set()
    for _ in range(20):
        sample = dataset[0]
        assert sample['inputs'] == {}
        gt = sample['data_samples'].gt.permute(1, 2, 0).numpy()
        if np.array_equal(gt, train[0]):
            seen.add('plain')
        elif np.array_equal(gt, train[0][:, ::-1]):
            seen.add('flipped')
        else:
            raise AssertionError('neither the image nor its mirror')
    assert seen == {'plain', 'flipped'}
    assert sample['data_samples'].sample_idx == 0


def test_a_missing_batch_is_named(tmp_path):
    write_cifar_layout(tmp_path)
    (tmp_path / 'cifar-10-batches-py' / 'data_batch_3').unlink()
    with pytest.raises(FileNotFoundError, match='data_batch_3'):
        build_dataset(data_root=str(tmp_path), split='train')
    build_dataset(data_root=str(tmp_path), split='test')  # the test split does not need it
    with pytest.raises(FileNotFoundError, match='data_root'):
        build_dataset(data_root=str(tmp_path / 'nowhere'))


@pytest.mark.parametrize('damage,message', [
    (lambda p: p.write_bytes(p.read_bytes()[:100]), 'not a readable CIFAR-10 batch'),
    (lambda p: p.write_bytes(b'not a pickle at all'), 'not a readable CIFAR-10 batch'),
    (lambda p: p.write_bytes(pickle.dumps([1, 2, 3])), 'holds a list'),
    (lambda p: p.write_bytes(pickle.dumps({b'labels': [0]})), "no b'data'"),
    (lambda p: p.write_bytes(pickle.dumps({b'data': np.zeros((1, 100), np.uint8),
                                           b'labels': [0]})), r'\(N, 3072\) uint8'),
    (lambda p: p.write_bytes(pickle.dumps({b'data': np.zeros((2, 3072), np.uint8),
                                           b'labels': [0]})), "2 images in b'data' but 1"),
    (lambda p: p.write_bytes(pickle.dumps({b'data': np.zeros((1, 3072), np.uint8),
                                           b'labels': [10]})), 'must lie in 0..9'),
])
def test_a_corrupt_batch_is_named(tmp_path, damage, message):
    write_cifar_layout(tmp_path)
    path = tmp_path / 'cifar-10-batches-py' / 'data_batch_2'
    damage(path)
    with pytest.raises(DataError, match=message) as error:
        build_dataset(data_root=str(tmp_path), split='train')
    assert str(path) in str(error.value)


class Payload:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), 'w'))


def test_a_batch_that_pickles_code_is_refused_without_running_it(tmp_path):
    write_cifar_layout(tmp_path)
    marker = tmp_path / 'pwned'
    path = tmp_path / 'cifar-10-batches-py' / 'test_batch'
    path.write_bytes(pickle.dumps({b'data': Payload(marker), b'labels': [0]}))
    with pytest.raises(DataError, match='open'):
        read_batch(str(path))
    assert not marker.exists()


# ---------------------------------------------------------------------------- pictures, config
def test_sample_grid_lays_images_out_in_rows():
    images = [torch.full((3, 4, 4), i / 10) for i in range(10)]
    grid = sample_grid(images, nrow=4, gap=2)
    assert grid.shape == (3 * 6 + 2, 4 * 6 + 2, 3) and grid.dtype == np.uint8
    assert (grid[2:6, 8:12] == round(0.1 * 255)).all()   # image 1: row 0, column 1
    assert (grid[8:12, 2:6] == round(0.4 * 255)).all()   # image 4: row 1, column 0
    assert (grid[:2] == 255).all()                       # white gaps


def test_cifar10_config_has_the_papers_settings():
    cfg = Config.fromfile(str(CONFIG))
    model = MODELS.build({**cfg.model, 'backbone': dict(cfg.model.backbone, ch=8, norm_groups=8)})
    assert model.schedule.T == 273 and model.schedule.T_acc == 100
    assert model.sampler.num_steps == 100 and model.sampler.walk.is_identity
    assert type(model.task).__name__ == 'GenerationTask' and model.task.image_shape == (3, 32, 32)
    assert cfg.model.backbone.in_channels == 3
    assert cfg.optim_wrapper.optimizer == dict(type='AdamW', lr=2e-4, weight_decay=0.0,
                                               amsgrad=True)
    assert cfg.optim_wrapper.clip_grad.max_norm == 1.0
    assert cfg.train_dataloader.batch_size == 128 and cfg.auto_scale_lr.base_batch_size == 128
    assert cfg.train_cfg.max_epochs == 3000
    (ema,) = [h for h in cfg.custom_hooks if h['type'] == 'EMAHook']
    assert ema['momentum'] == pytest.approx(1 - 0.9999)
    assert cfg.test_evaluator == [dict(type='FID')]
    assert cfg.test_dataloader.dataset.split == 'train'  # 50k samples against the 50k images
    steps = Config.fromfile(str(CONFIG))
    steps.merge_from_dict({'model.sampler.steps': 20})
    respaced = MODELS.build({**steps.model, 'backbone': dict(ch=8, norm_groups=8, type='DDIMUNet')})
    assert respaced.sampler.num_steps == 20 and respaced.sampler.steps[-1] == 100
