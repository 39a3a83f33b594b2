"""The forward process, the resnoise target and conversions between targets (docs/design.md §1.3)."""
import pytest
import torch

from rf.diffusion import (
    TARGETS,
    TruncatedSchedule,
    convert_target,
    q_sample,
    resnoise,
    start_point,
    training_target,
)

SCHEDULES = [('linear', 12), ('linear', 22), ('cosine', 30)]


def images(seed, shape=(2, 3, 5, 6)):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(shape, generator=g, dtype=torch.float64) * 2 - 1


def steps(schedule, batch):
    return torch.randint(1, schedule.T_acc + 1, (batch,), generator=torch.Generator().manual_seed(3))


def test_forward_marginal_mean_and_variance():
    schedule = TruncatedSchedule('linear', 12)
    x0, degraded = images(0, (1, 1, 4, 4)), images(1, (1, 1, 4, 4))
    n = 40000
    for step in (1, 3, 5):
        t = torch.full((n,), step)
        noise = torch.randn((n, 1, 4, 4), generator=torch.Generator().manual_seed(step),
                            dtype=torch.float64)
        x_t = q_sample(schedule, x0.expand(n, -1, -1, -1), degraded.expand(n, -1, -1, -1), t, noise)
        ab = schedule.alphas_cumprod[step - 1]
        mean = ab.sqrt() * x0 + (1 - ab.sqrt()) * (degraded - x0)
        torch.testing.assert_close(x_t.mean(0, keepdim=True), mean, atol=0.02, rtol=0)
        torch.testing.assert_close(x_t.var(0), torch.full_like(x_t.var(0), float(1 - ab)),
                                   atol=0.03 * float(1 - ab) + 1e-4, rtol=0)


def test_forward_at_acceleration_point_mixes_x0_and_degraded_equally_shifted():
    # √ᾱ_T' = 0.5 after truncation: x_T' = 0.5·x̂0 + √0.75·ε whatever x0 is.
    schedule = TruncatedSchedule('linear', 12)
    x0, degraded, noise = images(0), images(1), images(2)
    t = torch.full((2,), schedule.T_acc)
    expected = 0.5 * degraded + 0.75 ** 0.5 * noise
    torch.testing.assert_close(q_sample(schedule, x0, degraded, t, noise), expected)
    torch.testing.assert_close(start_point(schedule, degraded, noise), expected)


def test_resnoise_formula():
    schedule = TruncatedSchedule('linear', 12)
    noise, residual = images(0), images(1)
    t = torch.tensor([2, 5])
    b, a, ab = (getattr(schedule, n)[t - 1].reshape(-1, 1, 1, 1)
                for n in ('betas', 'alphas', 'alphas_cumprod'))
    expected = noise + (1 - a.sqrt()) * (1 - ab).sqrt() / b * residual
    torch.testing.assert_close(resnoise(schedule, noise, residual, t), expected)


@pytest.mark.parametrize('name,T', SCHEDULES)
def test_training_targets_agree_after_conversion(name, T):
    schedule = TruncatedSchedule(name, T)
    x0, degraded, noise = images(0), images(1), images(2)
    t = steps(schedule, 2)
    x_t = q_sample(schedule, x0, degraded, t, noise)
    reference = training_target(schedule, 'resnoise', x0, degraded, t, noise)
    for target in TARGETS:
        value = training_target(schedule, target, x0, degraded, t, noise)
        torch.testing.assert_close(
            convert_target(schedule, value, target, 'resnoise', x_t, degraded, t), reference)


@pytest.mark.parametrize('name,T', SCHEDULES)
@pytest.mark.parametrize('source', TARGETS)
@pytest.mark.parametrize('dest', TARGETS)
def test_round_trip_between_targets(name, T, source, dest):
    schedule = TruncatedSchedule(name, T)
    x_t, degraded, value = images(0), images(1), images(2)
    t = steps(schedule, 2)
    there = convert_target(schedule, value, source, dest, x_t, degraded, t)
    back = convert_target(schedule, there, dest, source, x_t, degraded, t)
    torch.testing.assert_close(back, value, rtol=1e-10, atol=1e-10)


def test_epsilon_target_is_refused_with_reason():
    schedule = TruncatedSchedule('linear', 12)
    with pytest.raises(ValueError, match='not equivalent'):
        training_target(schedule, 'eps', images(0), images(1), torch.tensor([1, 2]), images(2))
