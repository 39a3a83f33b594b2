"""Property tests (hypothesis): the image reader, the paired dataset + pipeline, the metrics, and
tools/restore.py on folders of random files.

Every bad input must end in one clear error that names the file (ImageReadError for images,
ValueError / FileNotFoundError for pairing and sizes) - never an unrelated exception.
"""
import math
import os
import struct
import tempfile
import warnings
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

from rf.datasets import PairedImageDataset
from rf.datasets.errors import DataError
from rf.datasets.image_io import (
    ImageReadError,
    LossyConversionWarning,
    MaskNotBinaryError,
    read_mask,
    read_rgb,
)
from rf.metrics import functional
from rf.registry import METRICS

from conftest import REPO_ROOT
from tiny_training import run_restore, save_untrained_checkpoint

# No example database: it would leave a .hypothesis folder in the checkout.
FAST = settings(max_examples=40, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow])
# Shrinking folders of files takes minutes; the failing example is reported unshrunk instead.
SLOW = settings(max_examples=20, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow],
                phases=[Phase.explicit, Phase.generate])

MAGIC = [b'\x89PNG\r\n\x1a\n', b'\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR', b'\xff\xd8\xff\xe0',
         b'\xff\xd8\xff\xdb', b'BM', b'II*\x00', b'MM\x00*', b'RIFF\x00\x00\x00\x00WEBPVP8 ',
         b'P6\n4 4\n255\n', b'P5\n', b'GIF89a', b'\x00\x00\x00\x0cjP  \r\n\x87\n']


# ----------------------------------------------------------------------------------------------
# helpers
# ----------------------------------------------------------------------------------------------

def png_bytes(image: np.ndarray) -> bytes:
    """A minimal PNG encoder for what cv2.imwrite cannot write (gray + alpha, 8 or 16 bit)."""
    height, width = image.shape[:2]
    channels = 1 if image.ndim == 2 else image.shape[2]
    colour_type = {1: 0, 2: 4, 3: 2, 4: 6}[channels]
    depth = 16 if image.dtype == np.uint16 else 8
    raw = image.astype('>u2' if depth == 16 else np.uint8).reshape(height, -1)
    rows = b''.join(b'\x00' + row.tobytes() for row in raw)

    def chunk(kind, data):
        return (struct.pack('>I', len(data)) + kind + data
                + struct.pack('>I', zlib.crc32(kind + data) & 0xffffffff))
    header = struct.pack('>IIBBBBB', width, height, depth, colour_type, 0, 0, 0)
    return (b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', header) + chunk(b'IDAT', zlib.compress(rows))
            + chunk(b'IEND', b''))


def write_image(path: Path, image: np.ndarray) -> None:
    """Write with cv2.imwrite (BGR[A] order, as OpenCV users do); 2 channels by hand."""
    if image.ndim == 3 and image.shape[2] == 2:
        assert path.suffix == '.png'
        path.write_bytes(png_bytes(image))
    else:
        assert cv2.imwrite(str(path), image), path


def make_image(seed, height, width, channels, dtype, opaque=False):
    rng = np.random.default_rng(seed)
    high = 65536 if dtype == 'uint16' else 256
    shape = (height, width) if channels == 1 else (height, width, channels)
    image = rng.integers(0, high, shape).astype(dtype)
    if opaque and channels in (2, 4):
        image[..., -1] = high - 1
    return image


def expected_rgb(image: np.ndarray) -> np.ndarray:
    """What an image written by cv2 (BGR[A]) should read back as, on the 0-255 scale (float)."""
    scale = 257.0 if image.dtype == np.uint16 else 1.0
    data = image.astype(np.float64) / scale
    if data.ndim == 2:
        return np.repeat(data[..., None], 3, axis=2)
    if data.shape[2] == 2:
        return np.repeat(data[..., :1], 3, axis=2)
    return data[..., 2::-1]  # BGR(A) -> RGB


def check_read(reader, path: Path):
    """Call ``reader``; anything but success or a clear error naming the file fails: an
    ImageReadError, or for masks also a MaskNotBinaryError."""
    allowed = (ImageReadError, MaskNotBinaryError) if reader is read_mask else ImageReadError
    try:
        with warnings.catch_warnings():
            warnings.simplefilter('ignore', LossyConversionWarning)
            return reader(str(path))
    except allowed as error:
        assert str(path) in str(error), f'the error does not name the file: {error}'
        return error


def check_read_result(result, mask=False):
    if isinstance(result, DataError):
        return
    assert isinstance(result, np.ndarray) and result.dtype == np.uint8
    if mask:
        assert result.ndim == 2 and set(np.unique(result)) <= {0, 1}
    else:
        assert result.ndim == 3 and result.shape[2] == 3
    assert result.shape[0] >= 1 and result.shape[1] >= 1


small_images = st.fixed_dictionaries(dict(
    seed=st.integers(0, 2**32 - 1), height=st.integers(1, 12), width=st.integers(1, 12),
    channels=st.sampled_from([1, 2, 3, 4]), dtype=st.sampled_from(['uint8', 'uint16']),
    opaque=st.booleans()))


# ----------------------------------------------------------------------------------------------
# 1. the reader on arbitrary bytes
# ----------------------------------------------------------------------------------------------

arbitrary_content = st.one_of(
    st.just(b''),
    st.binary(max_size=300),
    st.builds(lambda magic, tail: magic + tail, st.sampled_from(MAGIC), st.binary(max_size=300)),
)


@FAST
@given(content=arbitrary_content, ext=st.sampled_from(['.png', '.jpg', '.bmp', '.tif', '.webp']))
def test_reader_on_arbitrary_bytes_returns_rgb_or_a_named_error(content, ext):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f'odd name{ext}'
        path.write_bytes(content)
        result = check_read(read_rgb, path)
        check_read_result(result)
        if not content:
            assert isinstance(result, ImageReadError) and 'empty' in str(result)
        check_read_result(check_read(read_mask, path), mask=True)


@FAST
@given(spec=small_images, fmt=st.sampled_from(['.png', '.jpg']), data=st.data())
def test_truncated_images_are_rejected_with_the_file_name(spec, fmt, data):
    if fmt == '.jpg':  # JPEG: 8-bit gray or colour only
        spec = dict(spec, dtype='uint8', channels=1 if spec['channels'] == 1 else 3)
    elif spec['channels'] == 2:
        spec = dict(spec, channels=3)
    image = make_image(**spec)
    ok, encoded = cv2.imencode(fmt, image)
    assert ok
    encoded = encoded.tobytes()
    # JPEG: cuts into the data; a JPEG missing only its end marker is the test below.
    last = len(encoded) - (3 if fmt == '.jpg' else 1)
    cut = data.draw(st.integers(0, last), label='cut')
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f'cut{fmt}'
        path.write_bytes(encoded[:cut])
        for reader in (read_rgb, read_mask):
            result = check_read(reader, path)
            assert type(result) is ImageReadError, (
                f'{reader.__name__} accepted a {fmt} cut at {cut} of {len(encoded)} bytes')
        # The whole file reads fine: the rejection is about the truncation.
        path.write_bytes(encoded)
        assert isinstance(check_read(read_rgb, path), np.ndarray)


@pytest.mark.parametrize('missing', [1, 2])
def test_jpeg_without_its_end_marker_is_rejected(tmp_path, missing):
    """A JPEG cut inside its final FF D9 (end-of-image) marker is a truncated file.

    OpenCV decodes some of these without complaint (the pixel data happens to be complete); this
    ramp is one of them. The requirement is a clear error for truncated files.
    """
    ramp = (np.arange(29 * 29).reshape(29, 29) * 7 % 256).astype(np.uint8)
    ok, encoded = cv2.imencode('.jpg', ramp)
    encoded = encoded.tobytes()
    assert ok and encoded.endswith(b'\xff\xd9')
    path = tmp_path / 'no_end.jpg'
    path.write_bytes(encoded[:-missing])
    for reader in (read_rgb, read_mask):
        with pytest.raises(ImageReadError) as info:
            reader(str(path))
        assert str(path) in str(info.value)


def test_missing_file_and_folder_are_named_errors(tmp_path):
    for path in (tmp_path / 'missing.png', tmp_path):
        for reader in (read_rgb, read_mask):
            with pytest.raises(ImageReadError) as info:
                reader(str(path))
            assert str(path) in str(info.value)


# ----------------------------------------------------------------------------------------------
# 2. small valid images of every depth and channel count
# ----------------------------------------------------------------------------------------------

@FAST
@given(spec=small_images)
# Found by Hypothesis: a 16-bit alpha of 65531 rounds to an opaque 255 but was translucent.
@example(spec=dict(seed=775644, height=1, width=1, channels=2, dtype='uint16', opaque=False))
def test_valid_images_read_back_as_8bit_rgb(spec):
    image = make_image(**spec)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / 'img.png'
        write_image(path, image)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter('always')
            out = read_rgb(str(path))
    height, width = spec['height'], spec['width']
    assert out.shape == (height, width, 3) and out.dtype == np.uint8
    assert out.flags['C_CONTIGUOUS']
    # 16-bit values become the nearest 8-bit value (v / 257, rounded).
    assert np.abs(out - expected_rgb(image)).max() <= 0.5 + 1e-9

    lossy = [w for w in caught if issubclass(w.category, LossyConversionWarning)]
    has_alpha = spec['channels'] in (2, 4)
    translucent = has_alpha and image[..., -1].min() < (65535 if spec['dtype'] == 'uint16' else 255)
    should_warn = spec['dtype'] == 'uint16' or translucent
    assert bool(lossy) == should_warn, (spec, [str(w.message) for w in caught])
    if lossy:
        message = str(lossy[0].message)
        assert str(path) in message
        assert ('16-bit' in message) == (spec['dtype'] == 'uint16')
        assert ('alpha' in message) == translucent


masks = st.fixed_dictionaries(dict(
    seed=st.integers(0, 2**32 - 1), height=st.integers(1, 16), width=st.integers(1, 16),
    channels=st.sampled_from([1, 3, 4]), dtype=st.sampled_from(['uint8', 'uint16']),
    noise=st.sampled_from([0.0, 0.05, 0.12]), grey_pixels=st.integers(0, 3)))


def make_mask(seed, height, width, channels, dtype, noise, grey_pixels):
    """A 0/1 pattern drawn as near-black / near-white pixels (off by up to ``noise`` of the
    range) with ``grey_pixels`` mid-grey ones; returns (pattern, image, grey positions)."""
    rng = np.random.default_rng(seed)
    full = 65535 if dtype == 'uint16' else 255
    pattern = rng.integers(0, 2, (height, width))
    offset = np.floor(rng.random((height, width)) * noise * full).astype(np.int64)
    values = np.where(pattern == 1, full - offset, offset)
    grey = rng.permutation(height * width)[:grey_pixels]
    values.reshape(-1)[grey] = full // 2
    values = values.astype(dtype)
    if channels == 1:
        return pattern, values, grey
    planes = [values] * 3 + ([rng.integers(0, full + 1, (height, width)).astype(dtype)]
                             if channels == 4 else [])
    return pattern, np.dstack(planes), grey


@FAST
@given(spec=masks)
def test_binary_masks_read_back_and_grey_ones_are_refused(spec):
    """read_mask documents: pixels within 12.5% of black / white are 0 / 1; more than 1% of
    pixels in between is a MaskNotBinaryError naming the file."""
    pattern, image, grey = make_mask(**spec)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / 'mask.png'
        write_image(path, image)
        if len(grey) / pattern.size > 0.01:
            with pytest.raises(MaskNotBinaryError) as info:
                read_mask(str(path))
            assert str(path) in str(info.value)
            return
        mask = read_mask(str(path))
    assert mask.shape == pattern.shape and mask.dtype == np.uint8
    keep = np.ones(pattern.size, bool)
    keep[grey] = False
    np.testing.assert_array_equal(mask.reshape(-1)[keep], pattern.reshape(-1)[keep])
    assert set(np.unique(mask)) <= {0, 1}


@FAST
@given(seed=st.integers(0, 2**32 - 1), height=st.integers(1, 12), width=st.integers(1, 12),
       dtype=st.sampled_from(['uint8', 'uint16']))
def test_colour_masks_are_refused_with_the_file_name(seed, height, width, dtype):
    mask = make_image(seed, height, width, 3, dtype)
    mask[0, 0] = [0, mask.max() if mask.max() > 0 else 1, 0]  # at least one coloured pixel
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / 'colour mask.png'
        write_image(path, mask)
        with pytest.raises(MaskNotBinaryError) as info:
            read_mask(str(path))
        assert str(path) in str(info.value)


# ----------------------------------------------------------------------------------------------
# 3. the paired dataset and its pipeline on folders of random files
# ----------------------------------------------------------------------------------------------

CROP = 4
file_kinds = st.sampled_from(['image', 'image', 'image', 'other_size', 'bytes', 'truncated'])
mask_kinds = st.sampled_from(['image', 'image', 'image', 'other_size', 'bytes', 'grey'])
samples = st.fixed_dictionaries(dict(
    size=st.tuples(st.integers(1, 12), st.integers(1, 12)),
    degraded=file_kinds, gt=file_kinds, mask=mask_kinds,
    channels=st.sampled_from([1, 3, 4]), dtype=st.sampled_from(['uint8', 'uint16']),
    ext=st.sampled_from(['.png', '.jpg']), seed=st.integers(0, 2**32 - 1)))


def write_sample_file(path: Path, kind: str, sample: dict, rng, is_mask: bool) -> None:
    height, width = sample['size']
    if kind == 'other_size':
        height, width = height + 1 + int(rng.integers(0, 3)), width
    if kind == 'bytes':
        path.write_bytes(rng.integers(0, 256, int(rng.integers(0, 80)), dtype=np.uint8).tobytes())
        return
    channels, dtype = sample['channels'], sample['dtype']
    if path.suffix == '.jpg':
        channels, dtype = (1 if channels == 1 else 3), 'uint8'
    seed = int(rng.integers(0, 2**32))
    if is_mask:  # binary, or with every pixel mid-grey
        image = make_mask(seed, height, width, channels, dtype, 0.05, 0)[1]
        if kind == 'grey':
            image[...] = np.iinfo(image.dtype).max // 2
    else:
        image = make_image(seed, height, width, channels, dtype)
    write_image(path, image)
    if kind == 'truncated':
        content = path.read_bytes()
        path.write_bytes(content[:int(rng.integers(0, len(content)))])


def expected_outcome(paths: dict, crop: bool):
    """(error type, the file names the message must contain), or (None, (shape, arrays))."""
    arrays = {}
    for key in ('degraded', 'gt', 'mask'):
        if key not in paths:
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter('ignore')
                arrays[key] = (read_mask if key == 'mask' else read_rgb)(paths[key])
        except DataError as error:  # ImageReadError, MaskNotBinaryError
            return type(error), [paths[key]]
    size = arrays['degraded'].shape[:2]
    for key, array in arrays.items():
        if array.shape[:2] != size:
            return DataError, [paths['degraded'], paths[key]]
    if crop and (size[0] < CROP or size[1] < CROP):
        return DataError, [paths['degraded']]
    return None, ((CROP, CROP) if crop else size, arrays)


@SLOW
@given(batch=st.lists(samples, min_size=1, max_size=4), with_mask=st.booleans(),
       crop=st.booleans(), drop_gt=st.booleans(), skip_bad=st.booleans())
def test_dataset_pipeline_gives_samples_or_clear_errors(batch, with_mask, crop, drop_gt,
                                                        skip_bad):
    pipeline = [dict(type='LoadRestorationImages')]
    if crop:
        pipeline.append(dict(type='PairedAlbumentations',
                             transforms=[dict(type='RandomCrop', height=CROP, width=CROP)]))
    pipeline.append(dict(type='PackRestorationInputs'))
    with tempfile.TemporaryDirectory() as root:
        root = Path(root)
        folders = {'degraded': root / 'low', 'gt': root / 'high', 'mask': root / 'mask'}
        for folder in folders.values():
            folder.mkdir()
        expected_paths = []
        for i, sample in enumerate(batch):
            rng = np.random.default_rng(sample['seed'])
            paths = {}
            for key in ('degraded', 'gt', 'mask') if with_mask else ('degraded', 'gt'):
                ext = sample['ext'] if key != 'mask' else '.png'
                path = folders[key] / f'{i:02d}{ext}'
                write_sample_file(path, sample[key], sample, rng, is_mask=key == 'mask')
                paths[key] = str(path)
            expected_paths.append(paths)
        if drop_gt:  # a degraded image without its ground truth
            os.remove(expected_paths[-1]['gt'])
        from mmengine.registry import DefaultScope
        kwargs = dict(data_root=str(root), degraded_dir='low', gt_dir='high', pipeline=pipeline,
                      test_mode=True, skip_bad_pairs=skip_bad)
        if with_mask:
            kwargs['mask_dir'] = 'mask'
        outcomes = [expected_outcome(paths, crop) for paths in expected_paths]
        with DefaultScope.overwrite_default_scope('rf'), warnings.catch_warnings():
            warnings.simplefilter('ignore', LossyConversionWarning)
            if drop_gt:
                with pytest.raises(FileNotFoundError) as info:
                    PairedImageDataset(**kwargs)
                assert os.path.basename(expected_paths[-1]['degraded']) in str(info.value)
                return
            if skip_bad:  # the bad pairs are left out when the dataset is built
                good = [i for i, (error, _) in enumerate(outcomes) if error is None]
                if not good:  # nothing left: an error that names the first bad file
                    with pytest.raises(DataError) as info:
                        PairedImageDataset(**kwargs)
                    assert all(name in str(info.value) for name in outcomes[0][1]), info.value
                    return
                dataset = PairedImageDataset(**kwargs)
                assert len(dataset.skipped) == len(batch) - len(good)
                for (path, reason), (error, names) in zip(
                        dataset.skipped, [o for o in outcomes if o[0] is not None]):
                    assert all(name in reason for name in names), (reason, names)
                expected_paths = [expected_paths[i] for i in good]
                outcomes = [outcomes[i] for i in good]
            else:
                dataset = PairedImageDataset(**kwargs)
            assert len(dataset) == len(expected_paths)
            for index, (paths, (error_type, detail)) in enumerate(zip(expected_paths, outcomes)):
                try:
                    packed = dataset[index]
                except (DataError, FileNotFoundError) as error:
                    assert error_type is not None, f'unexpected {error!r} for {paths}'
                    assert isinstance(error, error_type), f'{error!r}, expected {error_type}'
                    for name in detail:
                        assert name in str(error), f'{name} not named in: {error}'
                    continue
                assert error_type is None, f'expected {error_type.__name__} naming {detail}'
                shape, arrays = detail
                degraded = packed['inputs']['degraded']
                assert degraded.dtype == torch.uint8 and tuple(degraded.shape) == (3, *shape)
                gt = packed['data_samples'].gt
                assert tuple(gt.shape) == (3, *shape)
                if with_mask:
                    assert tuple(packed['inputs']['mask'].shape) == (1, *shape)
                if not crop:  # the exact pixels of the files
                    assert torch.equal(degraded,
                                       torch.from_numpy(arrays['degraded']).permute(2, 0, 1))
                    assert torch.equal(gt, torch.from_numpy(arrays['gt']).permute(2, 0, 1))
                    if with_mask:
                        # LoadRestorationImages keeps the files' convention: white = 255.
                        assert torch.equal(packed['inputs']['mask'][0],
                                           torch.from_numpy(arrays['mask']) * 255)
                assert packed['data_samples'].img_id == Path(paths['degraded']).stem


# ----------------------------------------------------------------------------------------------
# 4. metrics
# ----------------------------------------------------------------------------------------------

image_pairs = st.fixed_dictionaries(dict(
    seed=st.integers(0, 2**32 - 1), height=st.integers(11, 24), width=st.integers(11, 24),
    spread=st.sampled_from([0, 1, 5, 60, 255])))


def random_pair(seed, height, width, spread):
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 256, (3, height, width))
    b = np.clip(a + rng.integers(-spread, spread + 1, a.shape), 0, 255)
    return torch.from_numpy(a.astype(np.uint8)), torch.from_numpy(b.astype(np.uint8))


def metric_value(name, channel, pred, gt):
    metric = METRICS.build(dict(type=name, channel=channel))
    metric.process(None, [dict(pred_img=pred, gt=gt)])
    (value,) = metric.compute_metrics(metric.results).values()
    return value


@FAST
@given(pair=image_pairs, channel=st.sampled_from(['rgb', 'y']))
def test_metrics_are_symmetric(pair, channel):
    a, b = random_pair(**pair)
    for name in ('PSNR', 'SSIM', 'MAE'):
        assert metric_value(name, channel, a, b) == metric_value(name, channel, b, a), name


@FAST
@given(pair=image_pairs, channel=st.sampled_from(['rgb', 'y']))
def test_metric_ranges_and_identity(pair, channel):
    a, b = random_pair(**pair)
    same = torch.equal(a, b) if channel == 'rgb' else torch.equal(functional.rgb_to_y(a),
                                                                  functional.rgb_to_y(b))
    psnr = metric_value('PSNR', channel, a, b)
    ssim = metric_value('SSIM', channel, a, b)
    mae = metric_value('MAE', channel, a, b)
    # functional.psnr documents "inf for identical images".
    if same:
        assert psnr == math.inf and mae == 0
    else:
        assert 0 <= psnr < math.inf and 0 < mae <= 255
    assert -1 <= ssim <= 1 + 1e-12
    # An image against itself: PSNR inf (documented), SSIM 1, MAE 0, on RGB and on Y.
    assert metric_value('PSNR', channel, a, a.clone()) == math.inf
    assert metric_value('SSIM', channel, a, a.clone()) == pytest.approx(1.0, abs=1e-12)
    assert metric_value('MAE', channel, a, a.clone()) == 0


@FAST
@given(height=st.integers(1, 10), width=st.integers(1, 30), seed=st.integers(0, 1000))
def test_ssim_on_images_below_the_window_is_a_clear_error(height, width, seed):
    a, b = random_pair(seed, height, width, 5)
    a, b = (a, b) if seed % 2 else (a.transpose(1, 2), b.transpose(1, 2))  # either side small
    with pytest.raises(ValueError, match='11x11'):
        functional.ssim(a, b)


# ----------------------------------------------------------------------------------------------
# 5. tools/restore.py on folders of random files
# ----------------------------------------------------------------------------------------------

TINY_MODEL_CONFIG = """
_base_ = ['{repo}/configs/demo.py']
model = dict(backbone=dict(dim=8, dim_mults=(1, 2)))
"""


@pytest.fixture(scope='module')
def tiny_checkpoint(tmp_path_factory):
    """An untrained tiny model's weights: enough for restore.py's plumbing."""
    root = tmp_path_factory.mktemp('tiny_model')
    config = root / 'tiny.py'
    config.write_text(TINY_MODEL_CONFIG.format(repo=REPO_ROOT))
    return config, save_untrained_checkpoint(config, root / 'tiny.pth')


def random_folder(folder: Path, seed: int):
    """4-6 files: random bytes, truncated images and small valid images (1..24 px)."""
    rng = np.random.default_rng(seed)
    valid, invalid = {}, []
    count = int(rng.integers(4, 7))
    kinds = ['valid'] + [str(k) for k in rng.choice(['valid', 'bytes', 'truncated'], count - 1)]
    for i, kind in enumerate(kinds):
        ext = str(rng.choice(['.png', '.jpg']))
        path = folder / f'f{i}_{kind}{ext}'
        if kind == 'bytes':
            path.write_bytes(rng.integers(0, 256, int(rng.integers(0, 200)),
                                          dtype=np.uint8).tobytes())
            invalid.append(path)
            continue
        height, width = (int(v) for v in rng.integers(1, 25, 2))
        channels = int(rng.choice([1, 3, 4])) if ext == '.png' else int(rng.choice([1, 3]))
        dtype = str(rng.choice(['uint8', 'uint16'])) if ext == '.png' else 'uint8'
        image = make_image(int(rng.integers(0, 2**32)), height, width, channels, dtype)
        write_image(path, image)
        if kind == 'truncated':
            content = path.read_bytes()
            path.write_bytes(content[:int(rng.integers(1, len(content)))])
            invalid.append(path)
        else:
            valid[path] = (height, width)
    return valid, invalid


@pytest.mark.slow
@pytest.mark.parametrize('seed', [1, 2, 3])
def test_restore_on_a_folder_of_random_files(tiny_checkpoint, tmp_path, seed):
    config, checkpoint = tiny_checkpoint
    source = tmp_path / 'in'
    source.mkdir()
    valid, invalid = random_folder(source, seed)
    before = {p.name: p.read_bytes() for p in source.iterdir()}
    outdir = tmp_path / 'out'

    result = run_restore(config, checkpoint, source, outdir)

    assert result.returncode == 0, result.stderr[-3000:]
    assert 'Traceback' not in result.stderr, result.stderr[-3000:]
    for path, (height, width) in valid.items():
        out = cv2.imread(str(outdir / f'{path.stem}.png'), cv2.IMREAD_UNCHANGED)
        assert out is not None, f'no output for {path.name}'
        assert out.shape == (height, width, 3) and out.dtype == np.uint8, path.name
    for path in invalid:
        assert str(path) in result.stderr, f'{path.name} not reported:\n{result.stderr[-3000:]}'
        assert not (outdir / f'{path.stem}.png').exists()
    assert sorted(p.name for p in outdir.iterdir()) == sorted(f'{p.stem}.png' for p in valid)
    assert f'restored {len(valid)} of {len(valid) + len(invalid)}' in result.stdout
    assert {p.name: p.read_bytes() for p in source.iterdir()} == before
