"""Half-broken datasets: one clear error naming the file(s), or the bad pairs skipped and
reported when asked; and the same through tools/train.py and tools/test.py (no traceback)."""
import logging
import warnings

import cv2
import numpy as np
import pytest
from mmengine.logging import MMLogger
from mmengine.registry import DefaultScope

from rf.datasets import LoadRestorationImages, PairedImageDataset
from rf.datasets.errors import DataError, MaskNotBinaryError
from rf.datasets.image_io import LossyConversionWarning, read_mask, read_rgb

from tiny_training import make_tiny_setup, run, save_untrained_checkpoint

CROP = [dict(type='LoadRestorationImages'),
        dict(type='PairedAlbumentations', transforms=[dict(type='RandomCrop', height=16,
                                                           width=16)]),
        dict(type='PackRestorationInputs')]


def write(path, array):
    path.parent.mkdir(parents=True, exist_ok=True)
    assert cv2.imwrite(str(path), array)


def noise(rng, height, width, channels=3):
    return rng.integers(0, 256, (height, width, channels), dtype=np.uint8)


@pytest.fixture
def broken_root(tmp_path):
    """Four pairs: one good, one corrupt, one of two sizes, one smaller than the crop."""
    rng = np.random.default_rng(0)
    for name, low, high in (('good', (20, 20), (20, 20)), ('sizes', (20, 20), (20, 24)),
                            ('tiny', (8, 8), (8, 8)), ('corrupt', (20, 20), (20, 20))):
        write(tmp_path / 'low' / f'{name}.png', noise(rng, *low))
        write(tmp_path / 'high' / f'{name}.png', noise(rng, *high))
    (tmp_path / 'low' / 'corrupt.png').write_bytes(b'\x89PNG\r\n\x1a\n garbage')
    return tmp_path


def build(root, **kwargs):
    with DefaultScope.overwrite_default_scope('rf'):
        return PairedImageDataset(data_root=str(root), pipeline=CROP, **kwargs)


def test_without_skipping_the_first_bad_pair_stops_with_its_name(broken_root):
    dataset = build(broken_root)
    with pytest.raises(DataError, match='corrupt.png'):
        dataset[0]  # sorted: corrupt, good, sizes, tiny


def test_skip_bad_pairs_leaves_them_out_and_reports_each(broken_root, caplog):
    logger = MMLogger.get_instance('rf_bad_data_test')
    messages = []
    handler = logging.Handler()
    handler.emit = lambda record: messages.append(record.getMessage())
    logger.addHandler(handler)
    try:
        dataset = build(broken_root, skip_bad_pairs=True)
    finally:
        logger.removeHandler(handler)
    assert len(dataset) == 1 and dataset[0]['data_samples'].img_id == 'good'
    assert [path.rsplit('/', 1)[-1] for path, _ in dataset.skipped] == [
        'corrupt.png', 'sizes.png', 'tiny.png']
    report = '\n'.join(messages)
    assert 'skipped 3 of 4 bad pair(s)' in report
    for reason in ('corrupt.png', 'a pair must have one size', 'smaller than the 16x16'):
        assert reason in report


def test_every_pair_bad_is_an_error(broken_root):
    (broken_root / 'low' / 'good.png').write_bytes(b'')
    with pytest.raises(DataError, match='every one of the 4 pairs'):
        build(broken_root, skip_bad_pairs=True)


def test_empty_or_missing_data_root(tmp_path):
    with pytest.raises(FileNotFoundError, match='does not exist'):
        build(tmp_path / 'nowhere')
    (tmp_path / 'low').mkdir()
    (tmp_path / 'high').mkdir()
    with pytest.raises(FileNotFoundError, match=r'no images in .*low'):
        build(tmp_path)


def test_masks_must_be_binary(tmp_path):
    rng = np.random.default_rng(1)
    binary = (rng.random((32, 32)) > 0.5).astype(np.uint8) * 255
    write(tmp_path / 'mask.png', binary)
    np.testing.assert_array_equal(read_mask(str(tmp_path / 'mask.png')), binary // 255)
    # JPEG ringing around the edges is tolerated...
    cv2.imwrite(str(tmp_path / 'mask.jpg'), np.kron(binary[:8, :8], np.ones((4, 4), np.uint8)),
                [cv2.IMWRITE_JPEG_QUALITY, 90])
    assert set(np.unique(read_mask(str(tmp_path / 'mask.jpg')))) <= {0, 1}
    # ...a grey ramp or a colour image is not a mask.
    write(tmp_path / 'ramp.png', np.tile(np.arange(0, 256, 8, dtype=np.uint8), (32, 1)))
    with pytest.raises(MaskNotBinaryError, match=r'ramp.png is not binary: \d+\.\d% of its'):
        read_mask(str(tmp_path / 'ramp.png'))
    write(tmp_path / 'colour.png', noise(rng, 8, 8))
    with pytest.raises(MaskNotBinaryError, match='colour.png is a colour image'):
        read_mask(str(tmp_path / 'colour.png'))


def test_palette_16bit_and_alpha_images_become_8bit_rgb(tmp_path):
    from PIL import Image
    rng = np.random.default_rng(2)
    rgb = noise(rng, 12, 10)
    Image.fromarray(rgb).convert('P', palette=Image.Palette.ADAPTIVE, colors=16).save(
        tmp_path / 'palette.png')
    expected = np.asarray(Image.open(tmp_path / 'palette.png').convert('RGB'))
    np.testing.assert_array_equal(read_rgb(str(tmp_path / 'palette.png')), expected)
    deep = rng.integers(0, 65536, (12, 10, 3)).astype(np.uint16)
    write(tmp_path / 'deep.png', deep)
    with pytest.warns(LossyConversionWarning):
        out = read_rgb(str(tmp_path / 'deep.png'))
    np.testing.assert_array_equal(out, np.round(deep[..., ::-1] / 257).astype(np.uint8))


def test_lossy_conversions_are_reported_once_per_dataset(tmp_path):
    rng = np.random.default_rng(3)
    samples = []
    for name in ('a', 'b', 'c'):
        for folder in ('low', 'high'):
            write(tmp_path / folder / f'{name}.png',
                  rng.integers(0, 65536, (8, 8, 3)).astype(np.uint16))
        samples.append(dict(degraded_path=str(tmp_path / 'low' / f'{name}.png'),
                            gt_path=str(tmp_path / 'high' / f'{name}.png')))
    load = LoadRestorationImages()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        for sample in samples:
            load(dict(sample))
    lossy = [w for w in caught if issubclass(w.category, LossyConversionWarning)]
    assert len(lossy) == 1
    assert 'a.png' in str(lossy[0].message) and 'not reported' in str(lossy[0].message)


# Through the tools: one "error: ..." line on stderr, never a traceback.

@pytest.fixture(scope='module')
def tiny(tmp_path_factory):
    root = tmp_path_factory.mktemp('bad_cli')
    configs = make_tiny_setup(root, "train_cfg = dict(max_iters=2, val_interval=100)\n")
    (root / 'data' / 'train' / 'low' / '001.png').write_bytes(b'this is not a PNG')
    return root, configs


def assert_one_clean_error(result, *fragments):
    assert result.returncode == 1, result.stderr[-3000:]
    assert 'Traceback' not in result.stderr, result.stderr[-3000:]
    errors = [line for line in result.stderr.splitlines() if line.startswith('error: ')]
    assert len(errors) == 1, result.stderr[-3000:]
    for fragment in fragments:
        assert fragment in errors[0], errors[0]


@pytest.mark.slow
def test_train_tool_names_the_corrupt_file_from_a_loader_worker(tiny):
    root, configs = tiny
    result = run('tools/train.py', configs[1], '--work-dir', root / 'w_corrupt', check=False)
    assert_one_clean_error(result, 'Cannot decode image file', 'train/low/001.png')


@pytest.mark.slow
def test_train_tool_skips_bad_pairs_when_asked(tiny):
    root, configs = tiny
    work_dir = root / 'w_skip'
    run('tools/train.py', configs[1], '--work-dir', work_dir, '--cfg-options',
        'train_dataloader.dataset.skip_bad_pairs=True')
    log = next(work_dir.glob('*/*.log')).read_text()
    assert 'skipped 1 of 4 bad pair(s)' in log and '001.png' in log
    assert (work_dir / 'iter_2.pth').is_file()


@pytest.mark.slow
def test_unknown_type_missing_key_and_mistyped_override(tiny):
    root, configs = tiny
    result = run('tools/train.py', configs[0], '--work-dir', root / 'w_typo', '--cfg-options',
                 'model.backbone.type=ResfusionUnet', 'train_dataloader.dataset.data_rot=/x',
                 check=False)
    assert_one_clean_error(result, "unknown model type 'ResfusionUnet'", 'ResfusionUNet',
                           'resfusion_unet')
    assert 'did you mean train_dataloader.dataset.data_root' in result.stderr
    broken = root / 'no_optimizer.py'
    broken.write_text(configs[0].read_text() + '\noptim_wrapper = None\n')
    result = run('tools/train.py', broken, '--work-dir', root / 'w_key', check=False)
    assert_one_clean_error(result, "'optim_wrapper'", 'needed for training')


@pytest.mark.slow
def test_test_tool_refuses_foreign_truncated_and_missing_checkpoints(tiny, tmp_path):
    root, configs = tiny
    foreign = save_untrained_checkpoint(configs[0], tmp_path / 'dim16.pth',
                                        overrides={'model.backbone.dim': 16})
    result = run('tools/test.py', configs[0], foreign, '--work-dir', tmp_path / 'w', check=False)
    assert result.returncode == 1 and 'Traceback' not in result.stderr
    assert "dim16.pth does not match the config's network" in result.stderr
    assert 'wrong shape' in result.stderr
    truncated = tmp_path / 'truncated.pth'
    truncated.write_bytes(foreign.read_bytes()[:5000])
    result = run('tools/test.py', configs[0], truncated, '--work-dir', tmp_path / 'w', check=False)
    assert_one_clean_error(result, 'Could not read checkpoint', 'truncated.pth')
