"""Resfusion(noise_skip=True): the backbone predicts the resnoise minus (x_t - √ᾱ_t·x̂0)/√(1-ᾱ_t).

The part left to the backbone is exactly (c_t + (2√ᾱ_t - 1)/√(1-ᾱ_t))·R, so a backbone that
outputs zero restores x̂0 itself (instead of noise), and the model's output is still the resnoise
its loss and sampler expect.
"""
import pytest
import torch
from torch import nn

from rf.diffusion import q_sample, training_target
from rf.registry import MODELS


class Fixed(nn.Module):
    """A backbone that answers ``value(t)`` whatever its input (``None``: zeros)."""

    def __init__(self, value=None):
        super().__init__()
        self.value = value
        self.gain = nn.Parameter(torch.ones(()))

    def forward(self, x, t):
        out = torch.zeros_like(x[:, :3]) if self.value is None else self.value(t + 1)
        return out * self.gain


def build(backbone, **kwargs):
    return MODELS.build(dict(type='Resfusion', backbone=backbone, fuser=dict(type='concat'),
                             task=dict(type='restoration'), noise_skip=True, **kwargs))


def test_the_backbone_is_left_exactly_a_multiple_of_the_residual():
    g = torch.Generator().manual_seed(0)
    x0 = torch.rand(4, 3, 8, 8, generator=g) * 2 - 1
    degraded = (x0 * 0.3 + 0.1 * torch.randn(4, 3, 8, 8, generator=g)).clamp(-1, 1)
    noise = torch.randn(4, 3, 8, 8, generator=g)
    t = torch.tensor([1, 2, 4, 5])

    def multiple_of_residual(steps):
        schedule = model.schedule
        sqrt_ab = schedule.gather('sqrt_alphas_cumprod', steps, x0)
        sqrt_1m_ab = schedule.gather('sqrt_one_minus_alphas_cumprod', steps, x0)
        coef = schedule.gather('resnoise_coef', steps, x0) + (2 * sqrt_ab - 1) / sqrt_1m_ab
        return coef * (degraded - x0)

    model = build(Fixed(multiple_of_residual))
    x_t = q_sample(model.schedule, x0, degraded, t, noise)
    output = model.network(x_t, t, {'degraded': degraded})
    expected = training_target(model.schedule, 'resnoise', x0, degraded, t, noise)
    torch.testing.assert_close(output, expected, rtol=0, atol=1e-5)


def test_an_untrained_zero_backbone_restores_the_degraded_image_itself():
    degraded = torch.rand(2, 3, 16, 16, generator=torch.Generator().manual_seed(1)) * 2 - 1
    model = build(Fixed(), sampler=dict(seed=0, deterministic=True)).eval()
    torch.testing.assert_close(model.restore({'degraded': degraded}), degraded,
                               rtol=0, atol=1e-5)
    # Without the skip, the same backbone returns noise.
    plain = MODELS.build(dict(type='Resfusion', backbone=Fixed(), fuser=dict(type='concat'),
                              task=dict(type='restoration'),
                              sampler=dict(seed=0, deterministic=True))).eval()
    assert (plain.restore({'degraded': degraded}) - degraded).abs().mean() > 0.1


def test_noise_skip_is_for_the_resnoise_target_only():
    with pytest.raises(ValueError, match='noise_skip'):
        build(Fixed(), target='x0')
