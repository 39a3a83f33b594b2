"""Tiled restoration: tiles cover the image, blending is exact for a network that sees one
pixel at a time, and restore.py --tile restores large images (and refuses bad tile sizes)."""
import cv2
import numpy as np
import pytest
import torch
from torch import nn

from rf.registry import MODELS
from rf.tiling import tile_starts, tiled_steps

from conftest import REPO_ROOT
from tiny_training import run_restore, save_untrained_checkpoint


@pytest.mark.parametrize('length,tile,overlap', [(100, 64, 16), (64, 64, 8), (30, 64, 8),
                                                 (129, 32, 31), (200, 48, 0)])
def test_tiles_cover_the_image_with_the_overlap_asked(length, tile, overlap):
    starts = tile_starts(length, min(tile, length), overlap)
    size = min(tile, length)
    assert starts[0] == 0 and starts[-1] + size == length
    assert all(0 <= s <= length - size for s in starts)
    for before, after in zip(starts, starts[1:]):
        assert before < after and before + size - after >= overlap


def pointwise_network(made=None):
    """A network that sees one pixel at a time: tiling must not change its output. ``made``
    (a list) records each step function made, i.e. each condition encoded."""
    torch.manual_seed(0)
    conv = nn.Conv2d(6, 3, 1)

    def make_step(inputs):
        if made is not None:
            made.append(tuple(inputs['degraded'].shape))
        return lambda x_t, t: (torch.tanh(conv(torch.cat((x_t, inputs['degraded']), dim=1)))
                               + t.view(-1, 1, 1, 1))
    return make_step


@pytest.mark.parametrize('tile,overlap', [(16, 4), (24, 8), (8, 0), (64, 16)])
def test_blending_is_exact_for_a_pointwise_network(tile, overlap):
    network = pointwise_network()
    x_t = torch.randn(2, 3, 37, 50)
    inputs = {'degraded': torch.randn(2, 3, 37, 50), 'note': 'not a tensor'}
    t = torch.tensor([3, 3])
    made = []
    network = pointwise_network(made)
    with torch.no_grad():
        expected = network(inputs)(x_t, t)
        made.clear()
        tiled_step = tiled_steps(network, inputs, tile, overlap)
        tiled = tiled_step(x_t, t)
        tiles = len(made)
        again = tiled_step(x_t, t)  # a second sampler step encodes nothing again
    torch.testing.assert_close(tiled, expected, rtol=0, atol=1e-6)
    assert torch.equal(again, tiled) and len(made) == tiles


def test_bad_tiles_are_clear_errors():
    with pytest.raises(ValueError, match='multiple of 8'):
        tiled_steps(pointwise_network(), {}, 20, 4)
    with pytest.raises(ValueError, match='overlap'):
        tiled_steps(pointwise_network(), {}, 16, 16)


def test_model_restores_in_tiles_close_to_one_pass():
    cfg = dict(type='Resfusion', fuser=dict(type='concat'), task=dict(type='restoration'),
               sampler=dict(seed=0, deterministic=True),
               backbone=dict(type='ResfusionUNet', dim=8, dim_mults=(1, 2), groups=4))
    torch.manual_seed(0)
    model = MODELS.build(cfg).eval()
    inputs = {'degraded': torch.rand(1, 3, 40, 56) * 2 - 1}
    whole = model.restore(inputs)
    tiled = model.pipeline.replace(tile=24, tile_overlap=8).restore(model, inputs)
    assert tiled.shape == whole.shape and torch.isfinite(tiled).all()
    assert 0 < (tiled - whole).abs().mean() < 0.5 * whole.abs().mean()  # attention sees a tile
    assert model.pipeline.tile is None  # the model's own pipeline is unchanged
    torch.testing.assert_close(model.restore(inputs), whole, rtol=0, atol=0)


@pytest.mark.slow
def test_restore_tool_with_tiles(tmp_path):
    config = tmp_path / 'tiny.py'
    config.write_text(f"_base_ = ['{REPO_ROOT}/configs/demo.py']\n"
                      "model = dict(backbone=dict(dim=8, dim_mults=(1, 2)))\n")
    checkpoint = save_untrained_checkpoint(config, tmp_path / 'tiny.pth')
    source = tmp_path / 'in'
    source.mkdir()
    image = np.random.default_rng(0).integers(0, 256, (45, 70, 3), dtype=np.uint8)
    cv2.imwrite(str(source / 'big.png'), image)
    done = run_restore(config, checkpoint, source, tmp_path / 'out', '--tile', '32',
                       '--tile-overlap', '8')
    assert done.returncode == 0, done.stderr
    assert cv2.imread(str(tmp_path / 'out' / 'big.png')).shape == (45, 70, 3)
    refused = run_restore(config, checkpoint, source, tmp_path / 'out2', '--tile', '30')
    assert refused.returncode != 0 and 'multiple of 8' in refused.stderr
    assert 'Traceback' not in refused.stderr
