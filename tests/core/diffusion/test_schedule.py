"""The truncated schedule: T -> T', truncation, refusal of unusable T, float64 tables."""
import math

import pytest
import torch

from rf.diffusion import TruncatedSchedule
from rf.registry import NOISE_SCHEDULES

# docs/design.md §1.2, the linear schedule.
LINEAR_T_ACC = {10: 4, 11: 4, 12: 5, 13: 5, 14: 6, 15: 6, 16: 6, 20: 8, 22: 8, 100: 37, 273: 100,
                1000: 368}


@pytest.mark.parametrize('T,T_acc', sorted(LINEAR_T_ACC.items()))
def test_linear_acceleration_points(T, T_acc):
    schedule = TruncatedSchedule('linear', T)
    assert schedule.T_acc == T_acc
    # T' is the step closest to √ᾱ = 0.5 among the kept steps.
    sqrt_ab = schedule.alphas_cumprod.sqrt()
    assert (sqrt_ab[T_acc - 1] - 0.5).abs() == (sqrt_ab - 0.5).abs().min()


def test_linear_12_tables_by_hand():
    schedule = TruncatedSchedule('linear', 12)
    scale = 1000 / 12
    base = [scale * 1e-4 + i * (scale * 0.02 - scale * 1e-4) / 11 for i in range(12)]
    alpha_bar = 1.0
    for t in range(4):
        assert schedule.betas[t].item() == pytest.approx(base[t], rel=1e-12)
        alpha_bar *= 1 - base[t]
    # Step 5 is where √ᾱ first drops below 0.5 by more than δ: rewritten to ᾱ_5 = 0.25, the rest dropped.
    assert schedule.truncated and schedule.num_steps == 5
    assert schedule.alphas_cumprod[-1].item() == 0.25
    assert schedule.alphas[4].item() == pytest.approx(0.25 / alpha_bar, rel=1e-12)
    assert schedule.betas[4].item() == pytest.approx(1 - 0.25 / alpha_bar, rel=1e-12)
    # Posterior variance β̃_t = β_t (1-ᾱ_{t-1})/(1-ᾱ_t), zero at t = 1.
    ab = schedule.alphas_cumprod
    ab_prev = torch.cat([torch.ones(1, dtype=torch.float64), ab[:-1]])
    torch.testing.assert_close(schedule.posterior_variance, schedule.betas * (1 - ab_prev) / (1 - ab))
    assert schedule.posterior_variance[0].item() == 0.0


def test_tables_are_float64_and_cast_on_use():
    schedule = TruncatedSchedule('linear', 12)
    assert all(getattr(schedule, name).dtype == torch.float64
               for name in ('betas', 'alphas', 'alphas_cumprod', 'posterior_variance'))
    like = torch.zeros(3, 2, 4, 4, dtype=torch.float32)
    value = schedule.gather('alphas_cumprod', torch.tensor([1, 5, 3]), like)
    assert value.dtype == torch.float32 and value.shape == (3, 1, 1, 1)
    assert value.flatten().tolist() == pytest.approx(
        [schedule.alphas_cumprod[i].item() for i in (0, 4, 2)], rel=1e-6)


def test_untruncated_schedule_is_kept_whole():
    # T = 22: the first step below 0.5 is within δ of it, so nothing is rewritten or dropped.
    schedule = TruncatedSchedule('linear', 22)
    assert not schedule.truncated and schedule.num_steps == 22
    k = int(torch.nonzero(schedule.alphas_cumprod.sqrt() <= 0.5)[0])
    assert 0.5 - schedule.alphas_cumprod[k].sqrt().item() <= 0.01
    scale = 1000 / 22
    torch.testing.assert_close(schedule.betas, torch.linspace(
        scale * 1e-4, scale * 0.02, 22, dtype=torch.float64))


def test_offset_threshold_decides_truncation():
    # The same T=22 crossing is truncated once δ is smaller than its offset.
    assert TruncatedSchedule('linear', 22, offset_threshold=0.0).truncated
    with pytest.raises(ValueError, match='offset_threshold'):
        TruncatedSchedule('linear', 12, offset_threshold=-1)


@pytest.mark.parametrize('T', [1, 5, 9])
def test_linear_small_T_refused_with_working_T(T):
    with pytest.raises(ValueError, match=r'use T >= 10'):
        TruncatedSchedule('linear', T)


def test_schedule_that_never_reaches_half_names_a_working_T():
    with pytest.raises(ValueError, match=r"'scaled_linear' with T=12 never reaches .* use T >= \d+"):
        TruncatedSchedule('scaled_linear', 12)


def test_unknown_schedule_lists_registered_ones():
    with pytest.raises(KeyError, match='linear'):
        TruncatedSchedule('no_such_schedule', 12)


@pytest.mark.parametrize('name', ['linear', 'cosine', 'sigmoid', 'scaled_linear'])
def test_registered_base_schedules_are_valid(name):
    betas = NOISE_SCHEDULES.get(name)(1000)
    assert betas.dtype == torch.float64 and betas.shape == (1000,)
    assert bool(((betas > 0) & (betas < 1)).all())
    schedule = TruncatedSchedule(name, 1000)
    assert schedule.alphas_cumprod.sqrt()[schedule.T_acc - 1].item() == pytest.approx(0.5, abs=0.01)


def test_cosine_matches_closed_form():
    T, s = 50, 0.008
    f = [math.cos(((t / T) + s) / (1 + s) * math.pi / 2) ** 2 for t in range(T + 1)]
    betas = NOISE_SCHEDULES.get('cosine')(T)
    expected = [min(1 - f[t] / f[t - 1], 0.999) for t in range(1, T + 1)]
    assert betas.tolist() == pytest.approx(expected, rel=1e-12)


def test_custom_schedule_callable():
    schedule = TruncatedSchedule(lambda T: torch.full((T,), 0.2, dtype=torch.float64), 10)
    # √(0.8^t) <= 0.5 first at t = 7 (0.8^7 = 0.2097, offset 0.042 > δ): truncated there.
    assert schedule.num_steps == 7 and schedule.T_acc == 7 and schedule.truncated
