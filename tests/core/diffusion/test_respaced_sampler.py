"""Sampling with fewer steps than trained (respacing): the full sequence is the ordinary loop bit
for bit, the oracle property holds for any sub-sequence, and a respaced step samples the true
posterior of the respaced (DDPM on y = x - R) process."""
import pytest
import torch

from rf.diffusion import ResfusionSampler, TruncatedSchedule, convert_target, process, x0_to_resnoise
from rf.diffusion.sampler import resolve_steps, spaced_steps
from rf.registry import MODELS


def images(seed, shape=(2, 3, 6, 5), dtype=torch.float64):
    return torch.rand(shape, generator=torch.Generator().manual_seed(seed), dtype=dtype) * 2 - 1


def oracle(schedule, x0, degraded, target):
    """A perfect network for ``x0`` at the trained steps it is asked about."""
    def predict(x_t, t):
        rese = x0_to_resnoise(schedule, x0, x_t, degraded, t)
        return convert_target(schedule, rese, 'resnoise', target, x_t, degraded, t)
    return predict


TASKS = {
    'restoration': lambda x0: (x0 + 0.4 * images(7, x0.shape)).clamp(-1, 1),
    'generation': torch.zeros_like,
    'translation': lambda x0: images(8, x0.shape),
}


def reference_loop(schedule, predict, degraded, seed, deterministic=False):
    """The T'-step loop as the sampler ran it before respacing existed (docs/design.md §1.4), literally."""
    generator = torch.Generator().manual_seed(seed)

    def randn():
        return torch.randn(degraded.shape, generator=generator, dtype=degraded.dtype)
    x_t = process.start_point(schedule, degraded, randn())
    for step in range(schedule.T_acc, 0, -1):
        t = torch.full((degraded.shape[0],), step, dtype=torch.long)
        mean = process.posterior_mean_from_resnoise(schedule, x_t, predict(x_t, t), t)
        if deterministic or step == 1:
            x_t = mean
        else:
            x_t = mean + schedule.gather('posterior_variance', t, x_t).sqrt() * randn()
    return x_t.clamp(-1, 1)


@pytest.mark.parametrize('T', [12, 273])
@pytest.mark.parametrize('dtype', [torch.float32, torch.float64])
def test_all_steps_is_the_ordinary_loop_bit_for_bit(T, dtype):
    schedule = TruncatedSchedule('linear', T)
    degraded = images(1, dtype=dtype)
    net = lambda x, t: 0.3 * x + 0.01 * t.to(x.dtype).reshape(-1, 1, 1, 1)  # noqa: E731
    expected = reference_loop(schedule, net, degraded, seed=4)
    for steps in (None, schedule.T_acc, list(range(1, schedule.T_acc + 1))):
        sampler = ResfusionSampler(schedule, steps=steps)
        assert sampler.walk.is_identity and sampler.num_steps == schedule.T_acc
        out = sampler.sample(net, degraded, seed=4)
        assert torch.equal(out, expected), steps
    assert torch.equal(ResfusionSampler(schedule).sample(net, degraded, seed=4, deterministic=True),
                       reference_loop(schedule, net, degraded, seed=4, deterministic=True))


@pytest.mark.parametrize('task', sorted(TASKS))
@pytest.mark.parametrize('target', ['resnoise', 'x0', 'residual'])
@pytest.mark.parametrize('T,steps', [(12, 1), (12, 2), (12, 3), (12, [2, 5]), (22, [1, 4, 7, 8]),
                                     (273, 10), (273, 20), (273, 50), (273, [37, 99, 100])])
def test_oracle_recovers_x0_exactly_with_any_sub_sequence(task, target, T, steps):
    schedule = TruncatedSchedule('linear', T)
    x0 = images(0) * 0.9
    degraded = TASKS[task](x0)
    sampler = ResfusionSampler(schedule, target=target, steps=steps)
    assert not sampler.walk.is_identity
    for seed in (0, 1):  # any start point
        out = sampler.sample(oracle(schedule, x0, degraded, target), degraded,
                             deterministic=True, seed=seed)
        torch.testing.assert_close(out, x0, rtol=0, atol=1e-12)
    # With noise too: the last step has none, and the oracle's prediction pins x0 there.
    out = sampler.sample(oracle(schedule, x0, degraded, target), degraded, seed=2)
    torch.testing.assert_close(out, x0, rtol=0, atol=1e-12)


@pytest.mark.parametrize('variance', ['posterior', 'beta'])
def test_a_respaced_step_samples_the_respaced_posterior(variance):
    """From trained step 9 straight to trained step 4 (steps [1, 4, 9, 37] of T=100): the mean and
    variance of q(x_4 | x_9, x0) of the DDPM process on y = x - R with ᾱ' = ᾱ at 1, 4, 9."""
    schedule = TruncatedSchedule('linear', 100)
    steps = [1, 4, 9, schedule.T_acc]
    n = 40000
    x0, degraded = images(0, (1, 1, 2, 2)), images(1, (1, 1, 2, 2))
    x_t = images(2, (1, 1, 2, 2)).expand(n, -1, -1, -1)
    t = torch.full((n,), 9)
    sampler = ResfusionSampler(schedule, variance=variance, steps=steps)
    prediction = x0_to_resnoise(schedule, x0, x_t, degraded, t)
    noise = torch.randn(x_t.shape, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    x_prev = sampler.step(prediction, x_t, degraded, t, noise)
    ab, ab_prev = float(schedule.alphas_cumprod[8]), float(schedule.alphas_cumprod[3])
    a = ab / ab_prev
    b = 1 - a
    residual = degraded - x0
    y0, y_t = x0 - residual, x_t[:1] - residual
    mean = ((ab_prev ** 0.5 * b / (1 - ab)) * y0 + (a ** 0.5 * (1 - ab_prev) / (1 - ab)) * y_t
            + residual)
    var = b * (1 - ab_prev) / (1 - ab) if variance == 'posterior' else b
    torch.testing.assert_close(sampler.step(prediction[:1], x_t[:1], degraded, t[:1]), mean,
                               rtol=0, atol=1e-12)  # the deterministic step is the mean
    torch.testing.assert_close(x_prev.mean(0, keepdim=True), mean, atol=0.02, rtol=0)
    torch.testing.assert_close(x_prev.var(0), torch.full_like(x_prev.var(0), var),
                               atol=0.03 * var, rtol=0)


def test_the_network_sees_the_trained_steps_it_skips_to():
    schedule = TruncatedSchedule('linear', 273)
    seen = []
    sampler = ResfusionSampler(schedule, steps=10)
    out, trajectory = sampler.sample(
        lambda x, t: seen.append(t.tolist()) or torch.zeros_like(x), images(0), seed=0,
        return_trajectory=True)
    assert seen == [[s, s] for s in reversed(spaced_steps(100, 10))]
    assert len(trajectory) == 11 and sampler.num_steps == 10


def test_the_model_feeds_the_zero_based_trained_step_to_the_backbone():
    calls = []

    class Spy(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.scale = torch.nn.Parameter(torch.ones(()))

        def forward(self, x, t):
            calls.append(t.tolist())
            return x[:, :3] * 0

    model = MODELS.build(dict(type='Resfusion', backbone=Spy(), fuser=dict(type='concat'),
                              task=dict(type='restoration'), schedule=dict(type='linear', T=12),
                              sampler=dict(seed=0, steps=3)))
    model.restore({'degraded': torch.zeros(1, 3, 8, 8)})
    assert spaced_steps(5, 3) == [1, 3, 5]
    assert calls == [[4], [2], [0]]  # t - 1 of the trained steps 5, 3, 1


def test_spaced_steps_are_even_distinct_and_keep_both_ends():
    assert spaced_steps(100, 10) == [1, 12, 23, 34, 45, 56, 67, 78, 89, 100]
    assert spaced_steps(100, 1) == [100]
    for count in range(2, 101):
        chosen = spaced_steps(100, count)
        assert len(set(chosen)) == count and chosen == sorted(chosen)
        assert chosen[0] == 1 and chosen[-1] == 100
    assert spaced_steps(100, 100) == list(range(1, 101))


@pytest.mark.parametrize('steps,message', [
    (0, 'choose 1..5'), (6, 'choose 1..5'), ([1, 3, 2, 5], 'strictly increasing'),
    ([1, 2], 'ending at'), ([0, 5], 'strictly increasing'), (True, 'number of steps'),
    ('ten', 'number of steps'), ([], 'strictly increasing'),
])
def test_bad_step_choices_are_refused(steps, message):
    with pytest.raises((ValueError, TypeError), match=message):
        resolve_steps(TruncatedSchedule('linear', 12), steps)


def test_respaced_sigma_follows_the_respaced_betas():
    schedule = TruncatedSchedule('linear', 273)
    sampler = ResfusionSampler(schedule, steps=[1, 50, 100], variance='beta')
    like = torch.zeros(1, 1, 1, 1, dtype=torch.float64)
    beta = 1 - float(schedule.alphas_cumprod[99] / schedule.alphas_cumprod[49])
    assert float(sampler.sigma(torch.tensor([100]), like)) == pytest.approx(beta ** 0.5, rel=1e-12)
    with pytest.raises(ValueError, match='not in the sampler'):
        sampler.sigma(torch.tensor([7]), like)
