"""tools/restore.py on a folder of everything a user may have: odd sizes, grayscale, alpha,
16-bit, palette, JPEG, corrupt / truncated / non-image files and subfolders."""
import os
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from conftest import REPO_ROOT
from tiny_training import run_restore, save_untrained_checkpoint

TINY_MODEL_CONFIG = """
_base_ = ['{repo}/configs/demo.py']
model = dict(backbone=dict(dim=8, dim_mults=(1, 2)))
"""


@pytest.fixture(scope='module')
def tiny_checkpoint(tmp_path_factory):
    """An untrained tiny model's weights (no training: restore.py's plumbing is under test)."""
    root = tmp_path_factory.mktemp('tiny_model')
    config = root / 'tiny.py'
    config.write_text(TINY_MODEL_CONFIG.format(repo=REPO_ROOT))
    return config, save_untrained_checkpoint(config, root / 'tiny.pth')


def snapshot(folder: Path) -> dict:
    """Every file under ``folder`` (recursively) -> its bytes."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob('*'))
            if p.is_file()}


def make_mixed_folder(folder: Path):
    """Returns ({readable file: (H, W)}, [files that must be reported as skipped])."""
    rng = np.random.default_rng(0)
    folder.mkdir(parents=True)
    readable, bad = {}, []

    def add(name, image):
        path = folder / name
        assert cv2.imwrite(str(path), image), name
        readable[path] = image.shape[:2]

    add('odd_rgb.png', rng.integers(0, 256, (37, 45, 3), dtype=np.uint8))
    add('gray.png', rng.integers(0, 256, (23, 31), dtype=np.uint8))
    rgba = rng.integers(0, 256, (19, 28, 4), dtype=np.uint8)
    rgba[:10, :, 3] = 255  # half opaque, half partly transparent
    add('rgba.png', rgba)
    add('deep16.png', rng.integers(0, 65536, (21, 17, 3)).astype(np.uint16))
    add('photo.jpg', rng.integers(0, 256, (33, 27, 3), dtype=np.uint8))

    palette = Image.fromarray(rng.integers(0, 4, (15, 22), dtype=np.uint8), mode='P')
    palette.putpalette([255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255] + [0] * (768 - 12))
    palette.save(folder / 'palette.png', transparency=0)
    with Image.open(folder / 'palette.png') as check:
        assert check.mode == 'P'
    readable[folder / 'palette.png'] = (15, 22)

    corrupt = folder / 'corrupt.png'
    corrupt.write_bytes(rng.integers(0, 256, 500, dtype=np.uint8).tobytes())
    ok, jpeg = cv2.imencode('.jpg', rng.integers(0, 256, (40, 40, 3), dtype=np.uint8))
    truncated = folder / 'truncated.jpg'
    truncated.write_bytes(jpeg.tobytes()[:len(jpeg) // 2])
    notes = folder / 'notes.txt'
    notes.write_text('not an image\n')
    bad += [corrupt, truncated, notes]

    # Subfolders are not inputs; one of them even has an image-like name.
    (folder / 'nested').mkdir()
    assert cv2.imwrite(str(folder / 'nested' / 'inner.png'), np.zeros((8, 8, 3), np.uint8))
    (folder / 'folder.png').mkdir()
    return readable, bad


@pytest.fixture(scope='module')
def mixed_run(tiny_checkpoint, tmp_path_factory):
    config, checkpoint = tiny_checkpoint
    root = tmp_path_factory.mktemp('restore_folder')
    source = root / 'in'
    readable, bad = make_mixed_folder(source)
    before = snapshot(source)
    result = run_restore(config, checkpoint, source, root / 'out')
    return dict(root=root, source=source, readable=readable, bad=bad, before=before,
                result=result, outdir=root / 'out')


@pytest.mark.slow
def test_every_readable_image_is_restored_at_its_size(mixed_run):
    result, outdir = mixed_run['result'], mixed_run['outdir']
    assert result.returncode == 0, result.stderr[-3000:]
    assert 'Traceback' not in result.stderr, result.stderr[-3000:]
    for path, (height, width) in mixed_run['readable'].items():
        out = cv2.imread(str(outdir / f'{path.stem}.png'), cv2.IMREAD_UNCHANGED)
        assert out is not None, f'no output for {path.name}:\n{result.stderr[-3000:]}'
        assert out.shape == (height, width, 3) and out.dtype == np.uint8, path.name
    # Nothing else: no output for skipped files, no folders copied.
    expected = {f'{p.stem}.png' for p in mixed_run['readable']}
    produced = {p.name for p in outdir.iterdir()}
    assert produced - {'inner.png'} == expected
    count = len(mixed_run['readable'])
    assert f'restored {count} of' in result.stdout, result.stdout


@pytest.mark.slow
def test_unreadable_files_are_named_as_skipped(mixed_run):
    stderr = mixed_run['result'].stderr
    skipped = [line for line in stderr.splitlines() if line.startswith('skipped ')]
    for path in mixed_run['bad']:
        assert any(str(path) in line for line in skipped), f'{path.name} not reported:\n{stderr}'
    for path in mixed_run['readable']:
        assert not any(str(path) + ':' in line for line in skipped), f'{path.name} was skipped'


@pytest.mark.slow
def test_lossy_conversions_are_reported_with_the_file(mixed_run):
    stderr = mixed_run['result'].stderr
    for name, what in (('deep16.png', '16-bit'), ('rgba.png', 'alpha')):
        lines = [line for line in stderr.splitlines() if name in line and 'converted' in line]
        assert lines and what in lines[0], f'no lossy-conversion warning for {name}:\n{stderr}'


@pytest.mark.slow
def test_inputs_are_left_unchanged(mixed_run):
    assert snapshot(mixed_run['source']) == mixed_run['before']


@pytest.mark.slow
def test_the_same_seed_gives_byte_identical_outputs(mixed_run, tiny_checkpoint):
    config, checkpoint = tiny_checkpoint
    again = mixed_run['root'] / 'again'
    result = run_restore(config, checkpoint, mixed_run['source'], again, '--seed', '0')
    assert result.returncode == 0, result.stderr[-3000:]
    first, second = snapshot(mixed_run['outdir']), snapshot(again)
    assert first.keys() == second.keys() and len(first) >= len(mixed_run['readable'])
    for name in first:
        assert first[name] == second[name], name


@pytest.mark.slow
@pytest.mark.parametrize('spelling', ['same', 'symlink'])
def test_outdir_equal_to_the_input_folder_is_refused(tiny_checkpoint, tmp_path, spelling):
    config, checkpoint = tiny_checkpoint
    source = tmp_path / 'in'
    source.mkdir()
    rng = np.random.default_rng(1)
    assert cv2.imwrite(str(source / 'a.png'), rng.integers(0, 256, (12, 10, 3), dtype=np.uint8))
    assert cv2.imwrite(str(source / 'b.jpg'), rng.integers(0, 256, (9, 14, 3), dtype=np.uint8))
    outdir = {'same': tmp_path / 'in' / '..' / 'in', 'symlink': tmp_path / 'link'}[spelling]
    if spelling == 'symlink':
        os.symlink(source, outdir)
    before = snapshot(source)
    result = run_restore(config, checkpoint, source, outdir)
    assert result.returncode != 0
    assert 'Traceback' not in result.stderr, result.stderr[-3000:]
    assert 'overwrite' in result.stderr and 'a.png' in result.stderr, result.stderr[-3000:]
    assert snapshot(source) == before  # nothing written, nothing changed (b.png neither)


@pytest.mark.slow
def test_a_folder_of_only_bad_files_fails(tiny_checkpoint, tmp_path):
    config, checkpoint = tiny_checkpoint
    source = tmp_path / 'in'
    source.mkdir()
    (source / 'empty.png').write_bytes(b'')
    (source / 'garbage.jpg').write_bytes(
        np.random.default_rng(2).integers(0, 256, 300, dtype=np.uint8).tobytes())
    ok, png = cv2.imencode('.png', np.zeros((20, 20, 3), np.uint8))
    (source / 'cut.png').write_bytes(png.tobytes()[:-5])
    (source / 'readme.md').write_text('# hi\n')
    before = snapshot(source)
    outdir = tmp_path / 'out'
    result = run_restore(config, checkpoint, source, outdir)
    assert result.returncode != 0
    assert 'Traceback' not in result.stderr, result.stderr[-3000:]
    for name in ('empty.png', 'garbage.jpg', 'cut.png', 'readme.md'):
        assert str(source / name) in result.stderr, name
    assert not outdir.exists() or not any(outdir.iterdir())
    assert snapshot(source) == before


@pytest.mark.slow
def test_a_jpg_only_folder_restored_into_itself_is_refused(tiny_checkpoint, tmp_path):
    """No output name matches an input here, but OUTDIR is still the input folder."""
    config, checkpoint = tiny_checkpoint
    assert cv2.imwrite(str(tmp_path / 'a.jpg'), np.full((12, 10, 3), 90, np.uint8))
    before = snapshot(tmp_path)
    result = run_restore(config, checkpoint, tmp_path, tmp_path)
    assert result.returncode != 0 and 'input folder' in result.stderr
    assert snapshot(tmp_path) == before


@pytest.mark.slow
def test_inputs_sharing_a_name_get_distinct_outputs(tiny_checkpoint, tmp_path):
    config, checkpoint = tiny_checkpoint
    source = tmp_path / 'in'
    source.mkdir()
    assert cv2.imwrite(str(source / 'photo.jpg'), np.full((12, 10, 3), 60, np.uint8))
    assert cv2.imwrite(str(source / 'photo.png'), np.full((9, 14, 3), 200, np.uint8))
    result = run_restore(config, checkpoint, source, tmp_path / 'out')
    assert result.returncode == 0, result.stderr[-3000:]
    assert sorted(p.name for p in (tmp_path / 'out').iterdir()) == ['photo_jpg.png',
                                                                    'photo_png.png']
    assert cv2.imread(str(tmp_path / 'out' / 'photo_jpg.png')).shape == (12, 10, 3)
    assert cv2.imread(str(tmp_path / 'out' / 'photo_png.png')).shape == (9, 14, 3)
