"""tools/score.py: the per-image table and mean, --json, pairing by name or natural sort with
clear errors, masks for ISTD, LPIPS skipped with one warning when its weights are absent, and the
same numbers as tools/test.py for the images tools/test.py wrote."""
import json

import numpy as np
import pytest

from rf.datasets.image_io import write_rgb
from rf.metrics.folder_scoring import FolderScoringError, natural_key, pair_files

from lol_layout import write_lol_layout
from metric_weights import offline_env
from tiny_training import run, save_untrained_checkpoint


def write_pairs(root, names, seed=0, size=(40, 48), gt_names=None):
    rng = np.random.default_rng(seed)
    for name, gt_name in zip(names, gt_names or names):
        gt = rng.integers(0, 256, (*size, 3), dtype=np.uint8)
        write_rgb(gt, str(root / 'gt' / gt_name))
        write_rgb((gt // 2).astype(np.uint8), str(root / 'pred' / name))
    return root / 'pred', root / 'gt'


def score(*args):
    return run('tools/score.py', *map(str, args), check=False)


@pytest.mark.slow
def test_table_mean_and_json_last_line(tmp_path):
    pred, gt = write_pairs(tmp_path, ['a.png', 'b.png', 'c.png'])
    result = score(pred, gt, '--protocol', 'lol_256', '--lpips', 'off', '--json')
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert lines[0].startswith('lol_256: follows eval/lowlight_eval/evaluate_PSNR_SSIM_256.m')
    assert [line.split()[0] for line in lines[2:5]] == ['a.png', 'b.png', 'c.png']
    assert lines[5].startswith('mean (3)')
    summary = json.loads(lines[-1])
    assert summary['n'] == 3 and summary['protocol'] == 'lol_256'
    assert summary['PSNR'] == pytest.approx(np.mean([r['PSNR'] for r in summary['per_image']]))
    assert set(summary['per_image'][0]) == {'name', 'pred', 'gt', 'PSNR', 'SSIM'}
    assert f"{summary['PSNR']:.4f}" in lines[5]


@pytest.mark.slow
def test_unpaired_files_are_listed_and_natsort_pairs_by_position(tmp_path):
    pred, gt = write_pairs(tmp_path, ['1.png', '2.png', '10.png'],
                           gt_names=['1.png', '2.png', '11.png'])
    result = score(pred, gt, '--protocol', 'lol', '--lpips', 'off')
    assert result.returncode == 1
    error = result.stderr.strip().splitlines()[-1]
    assert error.startswith('error: 1 prediction file(s) have no ground-truth')
    assert '10.png' in error and '11.png' in error and '--pairing natsort' in error
    by_position = pair_files(str(pred), str(gt), pairing='natsort')
    assert [(p[0], p[2].rsplit('/', 1)[1]) for p in by_position] == [
        ('1.png', '1.png'), ('2.png', '2.png'), ('10.png', '11.png')]
    assert sorted(['img10', 'img2', 'img1'], key=natural_key) == ['img1', 'img2', 'img10']
    (tmp_path / 'gt' / '2.png').unlink()
    with pytest.raises(FolderScoringError, match='3 predictions, 2 ground truths'):
        pair_files(str(pred), str(gt), pairing='natsort')


def test_pairs_by_stem_when_extensions_differ(tmp_path):
    pred, gt = write_pairs(tmp_path, ['1.png', '2.png'], gt_names=['1.bmp', '2.bmp'])
    assert [p[2].rsplit('/', 1)[1] for p in pair_files(str(pred), str(gt))] == ['1.bmp', '2.bmp']


@pytest.mark.slow
def test_istd_needs_masks_and_uses_them(tmp_path):
    pred, gt = write_pairs(tmp_path, ['5.png', '6.png'], size=(48, 64))
    result = score(pred, gt, '--protocol', 'istd')
    assert result.returncode == 1 and '--mask-dir' in result.stderr
    for name in ('5.png', '6.png'):
        mask = np.zeros((48, 64, 3), np.uint8)
        mask[10:30, 20:40] = 255
        write_rgb(mask, str(tmp_path / 'mask' / name))
    result = score(pred, gt, '--protocol', 'istd', '--mask-dir', tmp_path / 'mask', '--json')
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert {'PSNR', 'PSNR_shadow', 'SSIM_nonshadow', 'MAE_shadow', 'MAE_PP_all'} <= set(summary)


@pytest.mark.slow
def test_missing_lpips_weights_skip_lpips_with_one_warning(tmp_path, monkeypatch):
    # An empty cache, and every download refused at once (network or not).
    for name, value in offline_env(tmp_path / 'empty_cache').items():
        monkeypatch.setenv(name, value)
    pred, gt = write_pairs(tmp_path, ['a.png', 'b.png'])
    result = score(pred, gt, '--protocol', 'lol', '--json')
    assert result.returncode == 0, result.stderr
    warnings = [line for line in result.stderr.splitlines() if line.startswith('warning:')]
    assert len(warnings) == 1 and 'LPIPS skipped' in warnings[0]
    assert 'alexnet-owt-7be5be79.pth' in warnings[0]
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert 'LPIPS' not in summary and np.isfinite(summary['PSNR'])
    result = score(pred, gt, '--protocol', 'lol', '--lpips', 'on')
    assert result.returncode == 1 and 'alexnet-owt-7be5be79.pth' in result.stderr


@pytest.mark.slow
def test_score_gives_the_numbers_tools_test_printed(tmp_path):
    root = write_lol_layout(tmp_path / 'LOL', pairs=3)
    overrides = ['model.backbone.dim=8']
    checkpoint = save_untrained_checkpoint('configs/lol.py', tmp_path / 'untrained.pth',
                                           overrides={'model.backbone.dim': 8})
    result = run('tools/test.py', 'configs/lol.py', checkpoint, '--work-dir', tmp_path / 'work',
                 '--out-dir', tmp_path / 'restored', '--no-grid', '--cfg-options',
                 f'test_dataloader.dataset.data_root={root}', *overrides,
                 'test_dataloader.num_workers=0', 'test_dataloader.persistent_workers=False')
    metrics = json.loads((tmp_path / 'work' / 'metrics.json').read_text())['metrics']
    for protocol in ('lol', 'lol_256'):
        result = score(tmp_path / 'restored', root / 'eval15' / 'high', '--protocol', protocol,
                       '--lpips', 'off', '--json')
        summary = json.loads(result.stdout.strip().splitlines()[-1])
        assert summary['n'] == 3
        for key in ('PSNR', 'SSIM'):
            assert summary[key] == pytest.approx(metrics[f'{key}@{protocol}'], abs=1e-9)
