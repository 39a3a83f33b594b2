"""Paired-folder and LOL datasets, image reading, and the paired transforms (docs/design.md §3.1)."""
import warnings

import cv2
import numpy as np
import pytest
import torch
from mmengine.dataset import pseudo_collate
from mmengine.registry import DefaultScope

from rf.datasets import LoadRestorationImages, PackRestorationInputs, PairedAlbumentations, PairedImageDataset
from rf.datasets.image_io import ImageReadError, LossyConversionWarning, read_rgb
from rf.models.data_preprocessor import RestorationDataPreprocessor
from rf.registry import DATASETS


def write(path, array):
    path.parent.mkdir(parents=True, exist_ok=True)
    assert cv2.imwrite(str(path), array)
    return path


def random_image(rng, height=24, width=32, channels=3):
    shape = (height, width, channels) if channels else (height, width)
    return rng.integers(0, 256, shape, dtype=np.uint8)


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def make_pairs(root, rng, names=('a', 'b', 'c'), low='low', high='high', size=(24, 32)):
    for name in names:
        write(root / low / f'{name}.png', random_image(rng, *size))
        write(root / high / f'{name}.png', random_image(rng, *size))


def test_paired_dataset_pairs_equal_names(tmp_path, rng):
    make_pairs(tmp_path, rng)
    dataset = PairedImageDataset(data_root=str(tmp_path), pipeline=[])
    assert [dataset.get_data_info(i)['img_id'] for i in range(len(dataset))] == ['a', 'b', 'c']
    info = dataset.get_data_info(1)
    assert info['degraded_path'].endswith('low/b.png') and info['gt_path'].endswith('high/b.png')


def test_paired_dataset_pairing_rule(tmp_path, rng):
    for i in (1, 2):
        write(tmp_path / 'data' / f'{i}_rain.png', random_image(rng))
        write(tmp_path / 'gt' / f'{i}_clean.jpg', random_image(rng))
    dataset = PairedImageDataset(data_root=str(tmp_path), degraded_dir='data', gt_dir='gt',
                                 gt_name=(r'_rain$', '_clean'), pipeline=[])
    assert dataset.get_data_info(0)['gt_path'].endswith('gt/1_clean.jpg')


def test_missing_ground_truth_is_listed(tmp_path, rng):
    make_pairs(tmp_path, rng)
    write(tmp_path / 'low' / 'orphan.png', random_image(rng))
    with pytest.raises(FileNotFoundError, match='orphan.png'):
        PairedImageDataset(data_root=str(tmp_path), pipeline=[])


def test_unpaired_ground_truth_warns(tmp_path, rng):
    make_pairs(tmp_path, rng)
    write(tmp_path / 'high' / 'extra.png', random_image(rng))
    with pytest.warns(UserWarning, match='extra.png'):
        dataset = PairedImageDataset(data_root=str(tmp_path), pipeline=[])
    assert len(dataset) == 3


@pytest.mark.parametrize('root', ['', 'does/not/exist'])
def test_missing_data_root_is_clear(tmp_path, root):
    with pytest.raises((ValueError, FileNotFoundError), match='data_root'):
        PairedImageDataset(data_root=str(tmp_path / root) if root else '', pipeline=[])


def test_lol_layout_and_full_pipeline(tmp_path, rng):
    make_pairs(tmp_path, rng, names=('1', '2'), low='our485/low', high='our485/high')
    make_pairs(tmp_path, rng, names=('9',), low='eval15/low', high='eval15/high')
    cfg = dict(type='LOLDataset', data_root=str(tmp_path), split='train', pipeline=[
        dict(type='LoadRestorationImages'),
        dict(type='PairedAlbumentations', transforms=[dict(type='RandomCrop', height=16, width=16)]),
        dict(type='PackRestorationInputs')])
    with DefaultScope.overwrite_default_scope('rf'):
        train = DATASETS.build(cfg)
        test = DATASETS.build(dict(cfg, split='test', pipeline=[dict(type='LoadRestorationImages'),
                                                                dict(type='PackRestorationInputs')]))
    assert len(train) == 2 and len(test) == 1
    batch = pseudo_collate([train[0], train[1]])
    out = RestorationDataPreprocessor()(batch, training=True)
    assert out['inputs']['degraded'].shape == out['inputs']['gt'].shape == (2, 3, 16, 16)
    assert out['inputs']['degraded'].min() >= -1 and out['inputs']['degraded'].max() <= 1
    sample = test[0]
    gt = cv2.imread(str(tmp_path / 'eval15/high/9.png'))[..., ::-1]
    assert torch.equal(sample['data_samples'].gt, torch.from_numpy(gt.copy()).permute(2, 0, 1))
    assert sample['data_samples'].img_id == '9'


def test_paired_crop_and_flip_identical_across_input_target_and_mask(rng):
    transform = PairedAlbumentations(transforms=[
        dict(type='RandomCrop', height=16, width=16), dict(type='HorizontalFlip', p=0.5),
        dict(type='VerticalFlip', p=0.5)])
    image = random_image(rng, 40, 50)
    mask = (image[..., 0] > 127).astype(np.uint8)
    crops = set()
    for _ in range(30):
        out = transform(dict(degraded=image.copy(), gt=image.copy(), mask=mask.copy()))
        assert out['degraded'].shape == (16, 16, 3)
        np.testing.assert_array_equal(out['degraded'], out['gt'])
        np.testing.assert_array_equal(out['mask'], (out['gt'][..., 0] > 127).astype(np.uint8))
        crops.add(out['gt'].tobytes())
    assert len(crops) > 5, 'the crop should be random'


def test_paired_crop_follows_numpys_global_seed(rng):
    transform = PairedAlbumentations(transforms=[dict(type='RandomCrop', height=8, width=8)])
    image = random_image(rng, 40, 50)

    def crops():
        np.random.seed(123)
        return [transform(dict(degraded=image, gt=image))['gt'].tobytes() for _ in range(5)]
    assert crops() == crops()


def test_crop_larger_than_image_names_the_file(rng):
    transform = PairedAlbumentations(transforms=[dict(type='RandomCrop', height=64, width=64)])
    image = random_image(rng, 40, 50)
    with pytest.raises(ValueError, match='small.png.*smaller than the 64x64'):
        transform(dict(degraded=image, gt=image, degraded_path='small.png'))


def test_pairs_of_different_sizes_are_refused(tmp_path, rng):
    low = write(tmp_path / 'low.png', random_image(rng, 20, 20))
    high = write(tmp_path / 'high.png', random_image(rng, 20, 22))
    with pytest.raises(ValueError, match='low.png.*high.png'):
        LoadRestorationImages()(dict(degraded_path=str(low), gt_path=str(high)))


def test_images_become_8bit_rgb(tmp_path, rng):
    gray = random_image(rng, channels=0)
    assert read_rgb(str(write(tmp_path / 'gray.png', gray))).shape == (24, 32, 3)
    rgba = np.dstack([random_image(rng), np.full((24, 32), 128, np.uint8)])
    with pytest.warns(LossyConversionWarning, match='alpha'):
        out = read_rgb(str(write(tmp_path / 'rgba.png', rgba)))
    np.testing.assert_array_equal(out, rgba[..., 2::-1])  # written BGRA -> read RGB
    deep = (rng.integers(0, 65536, (8, 8, 3))).astype(np.uint16)
    with pytest.warns(LossyConversionWarning, match='16-bit'):
        out = read_rgb(str(write(tmp_path / 'deep.png', deep)))
    assert out.dtype == np.uint8
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        read_rgb(str(write(tmp_path / 'plain.png', random_image(rng))))


@pytest.mark.parametrize('content', [b'', b'not an image', None])
def test_unreadable_files_name_the_file(tmp_path, rng, content):
    path = tmp_path / 'bad.png'
    if content is None:  # a truncated PNG
        write(path, random_image(rng, 64, 64))
        content = path.read_bytes()[:100]
    path.write_bytes(content)
    with pytest.raises(ImageReadError, match='bad.png'):
        read_rgb(str(path))


def test_pack_keeps_paths_and_shapes(rng):
    image = random_image(rng)
    packed = PackRestorationInputs()(dict(degraded=image, gt=image, img_id='x',
                                          degraded_path='p.png', ori_shape=(24, 32)))
    assert packed['inputs']['degraded'].shape == (3, 24, 32)
    assert packed['inputs']['degraded'].dtype == torch.uint8
    assert packed['data_samples'].img_id == 'x' and packed['data_samples'].degraded_path == 'p.png'


def test_hold_out_split_is_disjoint_and_complete(tmp_path, rng):
    make_pairs(tmp_path, rng, names=[f'{i}' for i in range(7)])
    rest = PairedImageDataset(data_root=str(tmp_path), hold_out_every=3)
    held = PairedImageDataset(data_root=str(tmp_path), hold_out_every=3, hold_out_part='held_out')
    rest_ids = [rest.get_data_info(i)['img_id'] for i in range(len(rest))]
    held_ids = [held.get_data_info(i)['img_id'] for i in range(len(held))]
    assert held_ids == ['0', '3', '6'] and rest_ids == ['1', '2', '4', '5']
    with pytest.raises(ValueError, match='hold_out_part'):
        PairedImageDataset(data_root=str(tmp_path), hold_out_every=3, hold_out_part='val')


def test_pairs_in_one_folder_by_pattern(tmp_path, rng):
    """PolyU's layout: X_real.JPG (noisy) beside X_mean.JPG (clean) in one folder."""
    for stem in ('a', 'b'):
        write(tmp_path / 'train' / f'{stem}_real.JPG', random_image(rng))
        write(tmp_path / 'train' / f'{stem}_mean.JPG', random_image(rng))
    with warnings.catch_warnings():
        warnings.simplefilter('error')  # no "unpaired ground truth" warning for the noisy files
        dataset = PairedImageDataset(data_root=str(tmp_path), degraded_dir='train',
                                     gt_dir='train', degraded_pattern='_real$',
                                     gt_name=('_real$', '_mean'))
    infos = [dataset.get_data_info(i) for i in range(len(dataset))]
    assert [i['degraded_path'].rsplit('/', 1)[1] for i in infos] == ['a_real.JPG', 'b_real.JPG']
    assert [i['gt_path'].rsplit('/', 1)[1] for i in infos] == ['a_mean.JPG', 'b_mean.JPG']


def test_cached_loading_decodes_once_and_hands_out_copies(tmp_path, rng, monkeypatch):
    from rf.datasets.transforms import loading
    path = write(tmp_path / 'a.png', random_image(rng))
    calls = []
    original = loading.read_rgb
    monkeypatch.setattr(loading, 'read_rgb', lambda p: calls.append(p) or original(p))
    load = LoadRestorationImages(keys=('degraded',), cache=True)
    first = load(dict(degraded_path=str(path)))['degraded']
    first[:] = 0  # a transform writing in place must not reach the cache
    second = load(dict(degraded_path=str(path)))['degraded']
    assert len(calls) == 1
    np.testing.assert_array_equal(second, cv2.imread(str(path))[..., ::-1])
