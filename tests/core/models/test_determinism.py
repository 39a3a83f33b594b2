"""The same seed gives bit-identical restored images on CPU, across runs and batch sizes."""
import numpy as np
import pytest
import torch
from mmengine.structures import BaseDataElement

from rf.registry import MODELS

from tiny_training import make_tiny_setup, run, save_untrained_checkpoint

SIZES = [(37, 45), (24, 40), (37, 45), (16, 16)]


def build(batch_invariant=True, seed=7, deterministic=False):
    torch.manual_seed(0)
    model = MODELS.build(dict(
        type='Resfusion', fuser=dict(type='concat'), task=dict(type='restoration'),
        backbone=dict(type='ResfusionUNet', dim=8, dim_mults=(1, 2, 2), groups=4, in_channels=6),
        sampler=dict(seed=seed, batch_invariant=batch_invariant, deterministic=deterministic)))
    return model.eval()


def images():
    g = torch.Generator().manual_seed(1)
    return [torch.randint(0, 256, (3, h, w), dtype=torch.uint8, generator=g) for h, w in SIZES]


def restore(model, batch):
    data = dict(inputs=dict(degraded=batch),
                data_samples=[BaseDataElement() for _ in batch])
    return [s.pred_img for s in model.test_step(data)]


def test_batch_size_does_not_change_the_result():
    model = build()
    inputs = images()
    alone = [restore(model, [image])[0] for image in inputs]
    together = restore(model, inputs)
    pairs = restore(model, inputs[:2]) + restore(model, inputs[2:])
    for a, b, c in zip(alone, together, pairs):
        assert a.shape == b.shape
        assert torch.equal(a, b) and torch.equal(a, c)


def test_same_seed_same_image_other_seed_another():
    inputs = images()[:2]
    first = restore(build(seed=7), inputs)
    again = restore(build(seed=7), inputs)
    other = restore(build(seed=8), inputs)
    assert all(torch.equal(a, b) for a, b in zip(first, again))
    assert not torch.equal(first[0], other[0])


def test_batched_path_is_the_same_computation():
    """batch_invariant=False batches the network; the first image (the only one whose start
    noise is the same draw either way; σ = 0 after it) agrees to float rounding."""
    inputs = images()
    inputs = [inputs[0], inputs[2]]  # one size: no padding differences
    fast = restore(build(batch_invariant=False, deterministic=True), inputs)
    exact = restore(build(deterministic=True), inputs)
    torch.testing.assert_close(fast[0], exact[0], atol=1e-4, rtol=0)


@pytest.fixture(scope='module')
def checkpoint_setup(tmp_path_factory):
    root = tmp_path_factory.mktemp('determinism')
    config = make_tiny_setup(root)[0]
    return root, config, save_untrained_checkpoint(config, root / 'random_weights.pth')


@pytest.mark.slow
def test_test_tool_writes_identical_images_for_batch_sizes_1_and_2(checkpoint_setup):
    root, config, checkpoint = checkpoint_setup
    outputs = {}
    for batch in (1, 2):
        out = root / f'out_b{batch}'
        run('tools/test.py', config, checkpoint, '--work-dir', root / f'w{batch}', '--out-dir',
            out, '--no-grid', '--cfg-options', f'test_dataloader.batch_size={batch}')
        outputs[batch] = {p.name: p.read_bytes() for p in sorted(out.glob('*.png'))}
    assert len(outputs[1]) == 2 and outputs[1] == outputs[2]


@pytest.mark.slow
def test_restore_tool_matches_test_tool(checkpoint_setup, tmp_path):
    """restore.py on a test image writes the same pixels as test.py (seed 0 in both)."""
    root, config, checkpoint = checkpoint_setup
    image = root / 'data' / 'test' / 'low' / '000.png'
    run('tools/restore.py', config, checkpoint, image, tmp_path, '--device', 'cpu')
    import cv2
    restored = cv2.imread(str(tmp_path / '000.png'))
    from_test = cv2.imread(str(root / 'out_b1' / '000.png'))
    np.testing.assert_array_equal(restored, from_test)
