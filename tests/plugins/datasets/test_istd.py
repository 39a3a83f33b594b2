"""ISTD: the triplet layout, the mask's way to the network (8 channels) and configs/istd.py."""
import math

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.registry import DefaultScope

from rf.datasets.errors import MaskNotBinaryError
from rf.registry import DATASETS, MODELS

from conftest import REPO_ROOT
from layout_training import train_and_test

CONFIG = REPO_ROOT / 'configs' / 'istd.py'


def write(path, array):
    """uint8 RGB (H, W, 3) or grey (H, W) to a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    assert cv2.imwrite(str(path), array[..., ::-1] if array.ndim == 3 else array)


def write_istd(root, split, names, size=(40, 48), seed=0):
    """``root/split/split_{A,B,C}/name.png``: shadow-free C, a shadow rectangle in the mask B
    (255) and the shadow image A, C darkened under the mask."""
    rng = np.random.default_rng(seed)
    height, width = size
    for i, name in enumerate(names):
        free = rng.integers(60, 256, (height, width, 3)).astype(np.uint8)
        mask = np.zeros((height, width), np.uint8)
        mask[5 + i: height // 2 + i, 8: width - 10] = 255
        shadow = free.copy()
        shadow[mask == 255] //= 3
        for suffix, image in (('A', shadow), ('B', mask), ('C', free)):
            write(root / split / f'{split}_{suffix}' / f'{name}.png', image)


def coordinate_triplet(root, split='train', height=40, width=50):
    """A triplet whose pixels say where they came from: A = (column, row, 0), C = 255 - A and
    the mask a checkerboard of the coordinates, so misaligned crops or flips show."""
    rows, cols = np.mgrid[0:height, 0:width]
    shadow = np.stack([cols * 5, rows * 5, np.zeros_like(rows)], -1).astype(np.uint8)
    mask = np.where((rows // 4 + cols // 4) % 2 == 0, 255, 0).astype(np.uint8)
    write(root / split / f'{split}_A' / 'x.png', shadow)
    write(root / split / f'{split}_B' / 'x.png', mask)
    write(root / split / f'{split}_C' / 'x.png', 255 - shadow)


def build(cfg_dataset, **changes):
    cfg = dict(cfg_dataset, **changes)
    with DefaultScope.overwrite_default_scope('rf'):
        return DATASETS.build(cfg)


@pytest.fixture(scope='module')
def config():
    return Config.fromfile(str(CONFIG))


def test_triplets_pair_by_file_name(tmp_path, config):
    write_istd(tmp_path, 'train', ['1', '2', '10'])
    write_istd(tmp_path, 'test', ['7'])
    train = build(config.train_dataloader.dataset, data_root=str(tmp_path))
    test = build(config.test_dataloader.dataset, data_root=str(tmp_path))
    assert [train.get_data_info(i)['img_id'] for i in range(len(train))] == ['1', '10', '2']
    info = train.get_data_info(1)
    assert info['degraded_path'].endswith('train/train_A/10.png')
    assert info['mask_path'].endswith('train/train_B/10.png')
    assert info['gt_path'].endswith('train/train_C/10.png')
    assert len(test) == 1 and test.get_data_info(0)['mask_path'].endswith('test/test_B/7.png')
    with pytest.raises(ValueError, match='split'):
        build(config.train_dataloader.dataset, data_root=str(tmp_path), split='val')


@pytest.mark.parametrize('part, what', [('B', 'mask'), ('C', 'ground-truth')])
def test_a_missing_partner_is_named(tmp_path, config, part, what):
    write_istd(tmp_path, 'train', ['a', 'b'])
    (tmp_path / 'train' / f'train_{part}' / 'b.png').unlink()
    with pytest.raises(FileNotFoundError, match=f'no {what}.*b.png'):
        build(config.train_dataloader.dataset, data_root=str(tmp_path))


def test_the_mask_arrives_as_the_file_has_it(tmp_path, config):
    write_istd(tmp_path, 'test', ['a'])
    sample = build(config.test_dataloader.dataset, data_root=str(tmp_path))[0]
    mask = sample['inputs']['mask']
    on_disk = cv2.imread(str(tmp_path / 'test' / 'test_B' / 'a.png'), cv2.IMREAD_GRAYSCALE)
    assert mask.dtype == torch.uint8 and mask.shape == (1, 40, 48)
    assert torch.equal(mask[0], torch.from_numpy(on_disk))  # 0 / 255, shadow = 255
    # A JPEG-compressed mask is binarised to exactly 0 / 255; a grey one is refused by name.
    noisy = tmp_path / 'test' / 'test_B' / 'a.jpg'
    (tmp_path / 'test' / 'test_B' / 'a.png').unlink()
    cv2.imwrite(str(noisy), on_disk, [cv2.IMWRITE_JPEG_QUALITY, 90])
    mask = build(config.test_dataloader.dataset, data_root=str(tmp_path))[0]['inputs']['mask']
    assert set(mask.unique().tolist()) == {0, 255}
    assert (mask[0] != torch.from_numpy(on_disk)).float().mean() < 0.01
    cv2.imwrite(str(noisy), np.full((40, 48), 128, np.uint8))
    with pytest.raises(MaskNotBinaryError, match='a.jpg'):
        build(config.test_dataloader.dataset, data_root=str(tmp_path))[0]


def test_crops_and_flips_are_identical_on_image_target_and_mask(tmp_path, config):
    coordinate_triplet(tmp_path)
    pipeline = [dict(step) for step in config.train_dataloader.dataset.pipeline]
    pipeline[1] = dict(pipeline[1], transforms=[dict(type='RandomCrop', height=16, width=16),
                                                dict(type='HorizontalFlip', p=0.5)])
    dataset = build(config.train_dataloader.dataset, data_root=str(tmp_path), pipeline=pipeline)
    flips, crops = set(), set()
    for _ in range(25):
        sample = dataset[0]
        shadow = sample['inputs']['degraded'].long()
        mask = sample['inputs']['mask'][0]
        assert shadow.shape == (3, 16, 16) and mask.shape == (16, 16)
        assert torch.equal(sample['data_samples'].gt.long(), 255 - shadow)
        cols, rows = shadow[0] // 5, shadow[1] // 5
        expected = torch.where((rows // 4 + cols // 4) % 2 == 0, 255, 0)
        assert torch.equal(mask.long(), expected)
        flips.add(bool(cols[0, 0] > cols[0, 1]))
        crops.add((int(rows[0, 0]), int(cols[0, 0])))
    assert flips == {True, False} and len(crops) > 5


def test_the_network_gets_eight_channels_with_the_mask_as_plus_minus_one(tmp_path, config):
    write_istd(tmp_path, 'test', ['a', 'b'])
    cfg = Config.fromfile(str(CONFIG))
    cfg.model.backbone.dim = 8
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    assert model.backbone.init_conv.in_channels == 8
    dataset = build(cfg.test_dataloader.dataset, data_root=str(tmp_path))
    data = model.data_preprocessor(pseudo_collate([dataset[0], dataset[1]]), training=False)
    inputs = data['inputs']
    condition, mask = model.task.condition(inputs)
    x_t = torch.zeros_like(inputs['degraded'])
    fused = model.fuser(x_t, condition, mask)
    assert fused.shape == (2, 8, 40, 48)
    shadow = torch.stack([torch.from_numpy(cv2.imread(
        str(tmp_path / 'test' / 'test_B' / f'{n}.png'), cv2.IMREAD_GRAYSCALE) == 255)
        for n in ('a', 'b')]).float()
    torch.testing.assert_close(fused[:, 7], shadow * 2 - 1)   # shadow channel: +1 in shadow
    torch.testing.assert_close(fused[:, 6], 1 - shadow * 2)   # non-shadow channel
    torch.testing.assert_close(fused[:, 3:6], inputs['degraded'])
    out = model.network(x_t, torch.tensor([1, 5]), inputs)
    assert out.shape == (2, 3, 40, 48)
    # Without the mask the 8-channel network cannot run: a mask-less dataset is no silent fit.
    with pytest.raises(ValueError, match='8'):
        model.network(x_t, torch.tensor([1, 5]), {'degraded': inputs['degraded']})


def test_config_has_the_papers_settings(config):
    assert config.model.backbone.dim == 64 and config.model.backbone.in_channels == 8
    assert config.model.fuser == dict(type='concat', mask_encoding='shadow_onehot')
    assert config.model.schedule == dict(type='linear', T=12, offset_threshold=0.01)
    assert config.optim_wrapper.optimizer.type == 'AdamW'
    assert config.optim_wrapper.optimizer.lr == pytest.approx(1.1e-4)
    assert config.optim_wrapper.clip_grad.max_norm == 1.0
    assert config.auto_scale_lr == dict(enable=True, base_batch_size=32)
    cosine = config.param_scheduler[0]
    assert config.optim_wrapper.optimizer.lr * cosine.eta_min_ratio == pytest.approx(3e-5)
    crop, flip = config.train_dataloader.dataset.pipeline[1].transforms
    assert (crop.type, crop.height, crop.width) == ('RandomCrop', 256, 256)
    assert flip.type == 'HorizontalFlip'
    assert config.train_cfg.type == 'EpochBasedTrainLoop'


@pytest.mark.slow
def test_one_epoch_trains_checkpoints_and_tests(tmp_path):
    write_istd(tmp_path / 'data', 'train', ['1', '2'], size=(40, 44), seed=1)
    write_istd(tmp_path / 'data', 'test', ['3', '4'], size=(36, 52), seed=2)
    work_dir, metrics, stdout = train_and_test(CONFIG, tmp_path / 'data', tmp_path)
    # The authors' ISTD scripts at both sizes: whole-frame and masked-frame PSNR/SSIM, LAB MAE
    # per image and pooled.
    keys = {f'{kind}{region}@{protocol}' for kind in ('PSNR', 'SSIM')
            for region in ('', '_shadow', '_nonshadow') for protocol in ('istd', 'istd_256')}
    keys |= {f'{kind}_{region}@{protocol}' for kind in ('MAE', 'MAE_PP')
             for region in ('all', 'shadow', 'nonshadow') for protocol in ('istd', 'istd_256')}
    assert set(metrics) == keys
    assert all(math.isfinite(value) for value in metrics.values()), metrics
    assert 'MAE_shadow@istd_256:' in stdout
    assert list(work_dir.glob('best_PSNR@rgb_epoch_1.pth'))  # validation ran and ranked
