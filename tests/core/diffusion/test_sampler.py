"""The sampler: the oracle property, the posterior of one step, reproducibility, clamping."""
import pytest
import torch

from rf.diffusion import ResfusionSampler, TruncatedSchedule, convert_target, x0_to_resnoise


def images(seed, shape=(2, 3, 6, 5), dtype=torch.float64):
    return torch.rand(shape, generator=torch.Generator().manual_seed(seed), dtype=dtype) * 2 - 1


def oracle(schedule, x0, degraded, target):
    """A perfect network for ``x0``: the exact prediction of ``target`` at any x_t."""
    def predict(x_t, t):
        rese = x0_to_resnoise(schedule, x0, x_t, degraded, t)
        return convert_target(schedule, rese, 'resnoise', target, x_t, degraded, t)
    return predict


TASKS = {
    'restoration': lambda x0: (x0 + 0.4 * images(7, x0.shape)).clamp(-1, 1),  # a degraded x0
    'generation': torch.zeros_like,                                            # x̂0 = 0
    'translation': lambda x0: images(8, x0.shape),                            # an unrelated image
}


@pytest.mark.parametrize('task', sorted(TASKS))
@pytest.mark.parametrize('target', ['resnoise', 'x0', 'residual'])
@pytest.mark.parametrize('name,T', [('linear', 12), ('linear', 22), ('cosine', 40)])
def test_oracle_recovers_x0_exactly(task, target, name, T):
    schedule = TruncatedSchedule(name, T)
    x0 = images(0) * 0.9
    degraded = TASKS[task](x0)
    sampler = ResfusionSampler(schedule, target=target)
    for seed in (0, 1):  # any start point
        out = sampler.sample(oracle(schedule, x0, degraded, target), degraded,
                             deterministic=True, seed=seed)
        torch.testing.assert_close(out, x0, rtol=0, atol=1e-12)


def test_oracle_with_noise_still_ends_at_x0():
    # The last step (t = 1) has no noise, and the oracle's prediction at t = 1 pins x0.
    schedule = TruncatedSchedule('linear', 12)
    x0, degraded = images(0) * 0.9, images(1)
    out = ResfusionSampler(schedule).sample(oracle(schedule, x0, degraded, 'resnoise'), degraded,
                                            seed=3)
    torch.testing.assert_close(out, x0, rtol=0, atol=1e-12)


@pytest.mark.parametrize('variance', ['posterior', 'beta'])
def test_one_noisy_step_samples_the_true_posterior(variance):
    schedule = TruncatedSchedule('linear', 12)
    n, step = 40000, 4
    x0, degraded = images(0, (1, 1, 2, 2)), images(1, (1, 1, 2, 2))
    x_t = images(2, (1, 1, 2, 2)).expand(n, -1, -1, -1)
    t = torch.full((n,), step)
    sampler = ResfusionSampler(schedule, variance=variance)
    prediction = x0_to_resnoise(schedule, x0, x_t, degraded, t)
    noise = torch.randn(x_t.shape, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    x_prev = sampler.step(prediction, x_t, degraded, t, noise)
    # q(x_{t-1} | x_t, x0) in closed form: DDPM's posterior on y = x - R, shifted back by R.
    ab, ab_prev, b, a = (float(getattr(schedule, n_)[step - 1]) for n_ in
                         ('alphas_cumprod', 'alphas_cumprod_prev', 'betas', 'alphas'))
    residual = degraded - x0
    y0, y_t = x0 - residual, x_t[:1] - residual
    mean = (ab_prev ** 0.5 * b / (1 - ab)) * y0 + (a ** 0.5 * (1 - ab_prev) / (1 - ab)) * y_t + residual
    var = b * (1 - ab_prev) / (1 - ab) if variance == 'posterior' else b
    torch.testing.assert_close(x_prev.mean(0, keepdim=True), mean, atol=0.015, rtol=0)
    torch.testing.assert_close(x_prev.var(0), torch.full_like(x_prev.var(0), var),
                               atol=0.03 * var, rtol=0)


def test_seed_generator_and_trajectory():
    schedule = TruncatedSchedule('linear', 12)
    degraded = images(1, dtype=torch.float32)
    net = lambda x_t, t: 0.1 * x_t  # noqa: E731 - any deterministic predictor
    sampler = ResfusionSampler(schedule)
    a = sampler.sample(net, degraded, seed=5)
    assert a.dtype == torch.float32 and a.shape == degraded.shape
    torch.testing.assert_close(a, sampler.sample(net, degraded, seed=5), rtol=0, atol=0)
    assert not torch.equal(a, sampler.sample(net, degraded, seed=6))
    c = sampler.sample(net, degraded, generator=torch.Generator().manual_seed(5))
    torch.testing.assert_close(a, c, rtol=0, atol=0)
    out, trajectory = sampler.sample(net, degraded, seed=5, return_trajectory=True)
    assert len(trajectory) == schedule.T_acc + 1
    torch.testing.assert_close(out, trajectory[-1].clamp(-1, 1))
    with pytest.raises(ValueError, match='either seed or generator'):
        sampler.sample(net, degraded, seed=1, generator=torch.Generator())


def test_sampler_calls_network_with_descending_one_based_steps():
    schedule = TruncatedSchedule('linear', 12)
    seen = []
    ResfusionSampler(schedule).sample(lambda x, t: seen.append(t.tolist()) or torch.zeros_like(x),
                                      images(0), seed=0)
    assert seen == [[s, s] for s in range(schedule.T_acc, 0, -1)]


def test_x0_target_clamps_predicted_x0_each_step():
    schedule = TruncatedSchedule('linear', 12)
    degraded = images(1)
    start = images(2)
    wild = lambda x, t: torch.full_like(x, 5.0)  # noqa: E731 - a prediction far outside [-1, 1]
    clipped = ResfusionSampler(schedule, target='x0').sample(
        wild, degraded, deterministic=True, start_noise=start)
    # Clamping x0 to 1 each step makes the oracle of x0 = 1: the loop lands exactly on 1.
    torch.testing.assert_close(clipped, torch.ones_like(clipped), rtol=0, atol=1e-12)
    unclipped, trajectory = ResfusionSampler(schedule, target='x0', clip_x0=False).sample(
        wild, degraded, deterministic=True, start_noise=start, return_trajectory=True)
    torch.testing.assert_close(trajectory[-1], torch.full_like(clipped, 5.0), rtol=0, atol=1e-10)
    assert unclipped.max() == 1.0  # the final image is always clamped


def test_bad_options_are_refused():
    schedule = TruncatedSchedule('linear', 12)
    with pytest.raises(ValueError, match='variance'):
        ResfusionSampler(schedule, variance='fixed_large')
    with pytest.raises(ValueError, match='target'):
        ResfusionSampler(schedule, target='noise')
