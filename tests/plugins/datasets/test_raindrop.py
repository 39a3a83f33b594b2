"""Raindrop: N_rain / N_clean pairing, sizes cut to multiples of 16, and configs/raindrop.py."""
import math

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope

from rf.datasets.errors import DataError
from rf.datasets.transforms import CropToMultiple
from rf.registry import DATASETS

from conftest import REPO_ROOT
from layout_training import train_and_test

CONFIG = REPO_ROOT / 'configs' / 'raindrop.py'


def write_raindrop(root, split, numbers, size=(40, 48), seed=0, gt_ext='.png'):
    """``root/split/data/N_rain.png`` and ``root/split/gt/N_clean<gt_ext>``: a clean image and
    the same with bright drops."""
    rng = np.random.default_rng(seed)
    for n in numbers:
        clean = rng.integers(0, 200, (*size, 3)).astype(np.uint8)
        rain = clean.copy()
        for _ in range(4):
            y, x = rng.integers(0, size[0]), rng.integers(0, size[1])
            cv2.circle(rain, (int(x), int(y)), 4, (230, 230, 230), -1)
        for folder, name, image in (('data', f'{n}_rain.png', rain),
                                    ('gt', f'{n}_clean{gt_ext}', clean)):
            (root / split / folder).mkdir(parents=True, exist_ok=True)
            assert cv2.imwrite(str(root / split / folder / name), image)


@pytest.fixture(scope='module')
def config():
    return Config.fromfile(str(CONFIG))


def build(cfg_dataset, **changes):
    with DefaultScope.overwrite_default_scope('rf'):
        return DATASETS.build(dict(cfg_dataset, **changes))


def test_rain_and_clean_pair_by_number(tmp_path, config):
    write_raindrop(tmp_path, 'train', [0, 3, 12])
    write_raindrop(tmp_path, 'test_a', [5], gt_ext='.jpg')
    train = build(config.train_dataloader.dataset, data_root=str(tmp_path))
    pairs = [(train.get_data_info(i)['degraded_path'], train.get_data_info(i)['gt_path'])
             for i in range(len(train))]
    assert [(p.split('/')[-1], g.split('/')[-1]) for p, g in pairs] == [
        ('0_rain.png', '0_clean.png'), ('12_rain.png', '12_clean.png'),
        ('3_rain.png', '3_clean.png')]
    assert all('/train/data/' in p and '/train/gt/' in g for p, g in pairs)
    test = build(config.test_dataloader.dataset, data_root=str(tmp_path))
    assert test.get_data_info(0)['gt_path'].endswith('test_a/gt/5_clean.jpg')
    assert len(build(config.test_dataloader.dataset, data_root=str(tmp_path), split='test')) == 1
    with pytest.raises(ValueError, match='split'):
        build(config.test_dataloader.dataset, data_root=str(tmp_path), split='test_c')


def test_a_rainy_image_without_its_clean_partner_is_named(tmp_path, config):
    write_raindrop(tmp_path, 'train', [1, 2])
    (tmp_path / 'train' / 'gt' / '2_clean.png').unlink()
    with pytest.raises(FileNotFoundError, match=r'no ground-truth.*2_rain\.png'):
        build(config.train_dataloader.dataset, data_root=str(tmp_path))


def test_crop_to_multiple_keeps_the_top_left_pixels_of_every_image():
    rng = np.random.default_rng(0)
    image, gt = (rng.integers(0, 256, (37, 50, 3)).astype(np.uint8) for _ in range(2))
    mask = rng.integers(0, 2, (37, 50)).astype(np.uint8) * 255
    out = CropToMultiple(16)(dict(degraded=image.copy(), gt=gt.copy(), mask=mask.copy()))
    assert out['degraded'].shape == (32, 48, 3) and out['img_shape'] == (32, 48)
    np.testing.assert_array_equal(out['degraded'], image[:32, :48])
    np.testing.assert_array_equal(out['gt'], gt[:32, :48])
    np.testing.assert_array_equal(out['mask'], mask[:32, :48])
    same = CropToMultiple(16)(dict(degraded=image[:32, :48].copy()))
    np.testing.assert_array_equal(same['degraded'], image[:32, :48])
    with pytest.raises(DataError, match='tiny.png'):
        CropToMultiple(16)(dict(degraded=image[:10], degraded_path='tiny.png'))


def test_test_images_are_cut_to_multiples_of_16(tmp_path, config):
    write_raindrop(tmp_path, 'test_a', [0], size=(50, 70))
    sample = build(config.test_dataloader.dataset, data_root=str(tmp_path))[0]
    assert sample['inputs']['degraded'].shape == sample['data_samples'].gt.shape == (3, 48, 64)
    clean = cv2.imread(str(tmp_path / 'test_a' / 'gt' / '0_clean.png'))[..., ::-1]
    assert torch.equal(sample['data_samples'].gt,
                       torch.from_numpy(clean[:48, :64].copy()).permute(2, 0, 1))


def test_config_has_the_papers_settings(config):
    assert config.model.backbone.dim == 64 and config.model.backbone.in_channels == 6
    assert config.model.schedule == dict(type='linear', T=12, offset_threshold=0.01)
    assert config.optim_wrapper.optimizer.type == 'AdamW'
    assert config.optim_wrapper.optimizer.lr == pytest.approx(1.1e-4)
    assert config.optim_wrapper.clip_grad.max_norm == 1.0
    assert config.auto_scale_lr == dict(enable=True, base_batch_size=32)
    cosine = config.param_scheduler[0]
    assert config.optim_wrapper.optimizer.lr * cosine.eta_min_ratio == pytest.approx(3e-5)
    crop, flip = config.train_dataloader.dataset.pipeline[1].transforms
    assert (crop.type, crop.height, crop.width, flip.type) == ('RandomCrop', 256, 256,
                                                               'HorizontalFlip')
    assert [(m.type, m.protocol) for m in config.test_evaluator] == [
        ('ProtocolMetric', 'raindrop'), ('ProtocolMetric', 'raindrop_256')]


@pytest.mark.slow
def test_one_epoch_trains_checkpoints_and_tests(tmp_path):
    write_raindrop(tmp_path / 'data', 'train', [0, 1], size=(40, 44), seed=1)
    write_raindrop(tmp_path / 'data', 'test_a', [7, 8], size=(37, 50), seed=2)
    out_dir = tmp_path / 'restored'
    work_dir, metrics, stdout = train_and_test(CONFIG, tmp_path / 'data', tmp_path,
                                               '--out-dir', out_dir, '--no-grid')
    assert set(metrics) == {'PSNR@raindrop', 'SSIM@raindrop', 'PSNR@raindrop_256',
                            'SSIM@raindrop_256'}
    assert all(math.isfinite(value) for value in metrics.values()), metrics
    assert 'PSNR@raindrop_256:' in stdout
    assert list(work_dir.glob('best_PSNR@rgb_epoch_1.pth'))
    # The test images were cut from 50x37 to 48x32 before restoring and scoring.
    assert cv2.imread(str(out_dir / '7_rain.png')).shape == (32, 48, 3)
