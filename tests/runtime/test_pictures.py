"""Pictures of what a model does: grids and reverse-process strips at validation and test time,
training curves as a PNG, and TensorBoard only when it is installed."""
import json

import cv2
import numpy as np
import pytest
import torch
from mmengine.structures import BaseDataElement

from rf.engine import curves, tensorboard_backend
from rf.models.pipeline import TRAJECTORY_KEY
from rf.registry import MODELS

from tiny_training import make_tiny_setup, run


def test_trajectory_of_the_first_images_only():
    torch.manual_seed(0)
    model = MODELS.build(dict(
        type='Resfusion', fuser=dict(type='concat'), task=dict(type='restoration'),
        backbone=dict(type='ResfusionUNet', dim=8, dim_mults=(1, 2), groups=4, in_channels=6),
        sampler=dict(seed=3))).eval()
    g = torch.Generator().manual_seed(0)
    batch = [torch.randint(0, 256, (3, h, w), dtype=torch.uint8, generator=g)
             for h, w in ((13, 21), (16, 16))]

    def predict(trace_first=False):
        samples = [BaseDataElement(), BaseDataElement()]
        if trace_first:  # as SaveRestoredImagesHook asks for it
            samples[0].set_metainfo({TRAJECTORY_KEY: True})
        return model.test_step(dict(inputs=dict(degraded=batch), data_samples=samples))
    plain = predict()
    traced = predict(trace_first=True)
    frames = traced[0].trajectory
    assert len(frames) == model.schedule.T_acc + 1  # x_T', ..., x_0
    assert all(f.shape == (3, 13, 21) and 0 <= f.min() and f.max() <= 1 for f in frames)
    assert torch.equal(frames[-1], traced[0].pred_img)
    assert not torch.equal(frames[0], frames[-1])
    assert 'trajectory' not in traced[1]
    for a, b in zip(plain, traced):  # tracing does not change the result
        assert torch.equal(a.pred_img, b.pred_img)


def write_scalars(path):
    records = [dict(lr=1e-3 * (1 - i / 10), loss=1.0 / (i + 1), iter=i, step=i)
               for i in range(1, 11)]
    records += [dict(PSNR=10.0, SSIM=0.3, step=5), dict(PSNR=14.0, SSIM=0.5, step=10)]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text('\n'.join(json.dumps(r) for r in records) + '\n')


@pytest.mark.slow
def test_curves_png_from_scalars(tmp_path):
    scalars = tmp_path / 'work' / '20260101_000000' / 'vis_data' / 'scalars.json'
    write_scalars(scalars)
    series = curves.read_series(str(scalars))
    assert series['val/PSNR'] == ([5, 10], [10.0, 14.0])
    assert series['loss'][0] == list(range(1, 11))
    assert curves.find_scalars(str(tmp_path / 'work')) == str(scalars)
    out = curves.plot_curves(str(scalars), str(tmp_path / 'curves.png'))
    image = cv2.imread(out)
    assert image is not None and image.shape[1] > 2.5 * image.shape[0]  # three panels
    (tmp_path / 'empty.json').write_text(json.dumps(dict(time=1.0, step=1)) + '\n')
    with pytest.raises(ValueError, match='nothing|no loss'):
        curves.plot_curves(str(tmp_path / 'empty.json'), str(tmp_path / 'x.png'))
    result = run('tools/plot_curves.py', tmp_path / 'work', '--out', tmp_path / 'cli.png')
    assert cv2.imread(str(tmp_path / 'cli.png')) is not None and 'curves:' in result.stdout


def test_tensorboard_backend_is_a_no_op_without_tensorboard(tmp_path, monkeypatch):
    monkeypatch.setattr(tensorboard_backend.importlib.util, 'find_spec', lambda name: None)
    backend = tensorboard_backend.OptionalTensorboardVisBackend(save_dir=str(tmp_path))
    assert not backend.available
    backend.add_scalars({'loss': 1.0}, step=1)
    backend.add_image('x', np.zeros((4, 4, 3), np.uint8), step=1)
    backend.close()
    assert list(tmp_path.iterdir()) == []


EXTRA = """
train_cfg = dict(max_iters=2, val_interval=2)
custom_hooks = [dict(type='RNGStateHook'), dict(type='PlotCurvesHook'),
                dict(type='SaveRestoredImagesHook', phase='val', max_images=4, trajectory=1)]
"""


@pytest.mark.slow
def test_validation_pictures_curves_and_test_trajectories(tmp_path):
    config = make_tiny_setup(tmp_path, EXTRA)[0]
    work_dir = tmp_path / 'work'
    run('tools/train.py', config, '--work-dir', work_dir)
    pictures = work_dir / 'val_pictures' / 'iter_2'
    assert sorted(p.name for p in (pictures / 'grids').iterdir()) == ['000.png', '001.png']
    assert sorted(p.name for p in (pictures / 'trajectories').iterdir()) == ['000.png']
    strip = cv2.imread(str(pictures / 'trajectories' / '000.png'))
    steps = 5  # T=12 linear truncates to 5 steps: input, x_5..x_0, ground truth = 8 panels
    assert strip.shape == (37, 8 * 45 + 7 * 4, 3)
    assert cv2.imread(str(pictures / 'grids' / '001.png')).shape == (24, 3 * 40 + 2 * 4, 3)
    assert cv2.imread(str(work_dir / 'curves.png')) is not None
    out = tmp_path / 'restored'
    run('tools/test.py', config, work_dir / 'iter_2.pth', '--work-dir', tmp_path / 'test',
        '--out-dir', out, '--trajectory', '1')
    assert sorted(p.name for p in (out / 'trajectories').iterdir()) == ['000.png']
    assert cv2.imread(str(out / 'trajectories' / '000.png')).shape[1] == (steps + 3) * 45 + (
        steps + 2) * 4
    refused = run('tools/test.py', config, work_dir / 'iter_2.pth', '--trajectory', '1',
                  check=False)
    assert refused.returncode != 0 and '--trajectory needs --out-dir' in refused.stderr
