"""The Resfusion MMEngine model: preprocessing, loss, predict, and the wiring between them."""
import pytest
import torch
from mmengine.structures import BaseDataElement
from torch import nn

from rf.registry import MODELS


def make_batch(sizes, seed=0, with_mask=False):
    g = torch.Generator().manual_seed(seed)

    def image(h, w, c=3):
        return torch.randint(0, 256, (c, h, w), dtype=torch.uint8, generator=g)
    inputs = dict(degraded=[image(h, w) for h, w in sizes])
    if with_mask:
        inputs['mask'] = [image(h, w, 1) for h, w in sizes]
    return dict(inputs=inputs, data_samples=[BaseDataElement(gt=image(h, w)) for h, w in sizes])


def build_model(backbone=None, **kwargs):
    backbone = backbone or dict(type='ResfusionUNet', dim=8, dim_mults=(1, 2), groups=4, in_channels=6)
    cfg = dict(type='Resfusion', backbone=backbone, fuser=dict(type='concat'),
               task=dict(type='restoration'), schedule=dict(type='linear', T=12))
    return MODELS.build({**cfg, **kwargs})


class SpyBackbone(nn.Module):
    """Returns a fixed prediction and records the step indices it is called with."""

    def __init__(self, prediction=None):
        super().__init__()
        self.scale = nn.Parameter(torch.ones(()))
        self.prediction = prediction
        self.calls = []

    def forward(self, x, t):
        self.calls.append((tuple(x.shape), t.tolist()))
        base = self.prediction if self.prediction is not None else x[:, :3]
        return base * self.scale


def test_preprocessor_ranges_padding_and_errors():
    model = build_model()
    data = model.data_preprocessor(make_batch([(13, 10), (16, 9)], with_mask=True), training=False)
    degraded, mask = data['inputs']['degraded'], data['inputs']['mask']
    assert degraded.shape == (2, 3, 16, 16) and mask.shape == (2, 1, 16, 16)
    assert degraded.min() >= -1 and degraded.max() <= 1
    raw = make_batch([(13, 10), (16, 9)], with_mask=True)
    torch.testing.assert_close(degraded[0, :, :13, :10], raw['inputs']['degraded'][0].float() / 127.5 - 1)
    torch.testing.assert_close(degraded[0, :, 13, :10], degraded[0, :, 11, :10])  # reflect padding
    torch.testing.assert_close(mask[1, :, :16, :9], raw['inputs']['mask'][1].float())  # raw values
    assert [s.ori_shape for s in data['data_samples']] == [(13, 10), (16, 9)]
    with pytest.raises(ValueError, match='one size'):
        model.data_preprocessor(make_batch([(16, 16), (8, 16)]), training=True)


def test_loss_uses_uniform_zero_based_steps_and_backpropagates():
    spy = SpyBackbone()
    model = build_model(backbone=spy)
    data = model.data_preprocessor(make_batch([(8, 8)] * 64), training=True)
    loss = model(**data, mode='loss')['loss']
    loss.backward()
    assert spy.scale.grad is not None and torch.isfinite(loss)
    shape, steps = spy.calls[0]
    assert shape == (64, 6, 8, 8)  # [x_t, degraded] fused
    assert set(steps) == set(range(model.schedule.T_acc))  # 0-based t - 1 over 1..T'


def test_loss_without_ground_truth_is_a_clear_error():
    model = build_model()
    batch = make_batch([(8, 8)])
    batch['data_samples'] = [BaseDataElement()]
    data = model.data_preprocessor(batch, training=True)
    with pytest.raises(KeyError, match="no 'gt'"):
        model(**data, mode='loss')


def test_predict_with_a_perfect_x0_backbone_returns_the_ground_truth():
    batch = make_batch([(13, 10)])
    gt = batch['data_samples'][0].gt.float() / 127.5 - 1
    padded = torch.nn.functional.pad(gt[None], (0, 6, 0, 3), mode='reflect')  # to 16x16
    spy = SpyBackbone(prediction=padded)
    model = build_model(backbone=spy, target='x0', sampler=dict(seed=0))
    data = model.data_preprocessor(batch, training=False)
    out = model(**data, mode='predict')[0].pred_img
    assert out.shape == (3, 13, 10)
    torch.testing.assert_close(out, batch['data_samples'][0].gt.float() / 255, rtol=0, atol=1e-5)
    assert [t for _, t in spy.calls] == [[s] for s in range(model.schedule.T_acc - 1, -1, -1)]


def test_predict_is_reproducible_with_a_seed_and_in_range():
    model = build_model(sampler=dict(seed=3)).eval()
    batch = make_batch([(12, 12), (12, 12)])
    first = [s.pred_img for s in model.test_step(batch)]
    second = [s.pred_img for s in model.test_step(make_batch([(12, 12), (12, 12)]))]
    for a, b in zip(first, second):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
        assert a.min() >= 0 and a.max() <= 1 and a.shape == (3, 12, 12)


def test_tiny_model_learns_one_batch():
    torch.manual_seed(0)
    model = build_model()
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    data = model.data_preprocessor(make_batch([(8, 8)] * 4), training=True)
    losses = []
    for _ in range(60):
        loss = model(**data, mode='loss')['loss']
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    # Random images leave much of the resnoise unpredictable; a broken gradient path stays at ~1.1.
    assert sum(losses[-10:]) / 10 < 0.75 * sum(losses[:10]) / 10


def test_bad_configs_are_clear_errors():
    with pytest.raises(ValueError, match='target'):
        build_model(target='eps')
    with pytest.raises(ValueError, match='use T >= 10'):
        build_model(schedule=dict(type='linear', T=8))
    with pytest.raises(KeyError, match='NoSuchNet'):
        build_model(backbone=dict(type='NoSuchNet'))
