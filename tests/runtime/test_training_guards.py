"""Non-finite losses and gradients never reach the weights; clipping works as configured."""
import math

import pytest
import torch
from mmengine.logging import MessageHub

from rf.engine.nonfinite_guard import GuardedOptimWrapper, NonFiniteLossError

from tiny_training import make_tiny_setup, run


def make_wrapper(**kwargs):
    torch.manual_seed(0)
    model = torch.nn.Linear(4, 1)
    optimizer = torch.optim.AdamW(model.parameters(), lr=0.1)
    return model, GuardedOptimWrapper(optimizer=optimizer, **kwargs)


def weights(model):
    return [p.detach().clone() for p in model.parameters()]


def loss_of(model, poison=None):
    loss = model(torch.ones(2, 4)).pow(2).mean()
    return loss * poison if poison is not None else loss


def test_stop_raises_before_the_weights_change():
    MessageHub.get_current_instance().update_info('iter', 41)
    model, wrapper = make_wrapper()
    before = weights(model)
    with pytest.raises(NonFiniteLossError, match=r'Non-finite loss \(nan\) at iteration 42'):
        wrapper.update_params(loss_of(model, float('nan')))
    assert all(torch.equal(a, b) for a, b in zip(before, weights(model)))


def test_skip_drops_the_step_then_trains_on():
    model, wrapper = make_wrapper(on_nonfinite='skip')
    before = weights(model)
    wrapper.update_params(loss_of(model, float('inf')))
    assert all(torch.equal(a, b) for a, b in zip(before, weights(model)))
    assert wrapper.skipped_steps == 1
    assert all(p.grad is None or not p.grad.any() for p in model.parameters())
    wrapper.update_params(loss_of(model))
    assert not all(torch.equal(a, b) for a, b in zip(before, weights(model)))
    assert wrapper.state_dict()['skipped_steps'] == 1


def test_a_non_finite_gradient_is_caught_even_when_the_loss_is_finite():
    model, wrapper = make_wrapper()
    before = weights(model)
    # sqrt at 0: finite loss (0), infinite gradient.
    loss = (model.weight.sum() * 0).sqrt()
    assert math.isfinite(loss.item())
    with pytest.raises(NonFiniteLossError, match='gradient'):
        wrapper.update_params(loss)
    assert all(torch.equal(a, b) for a, b in zip(before, weights(model)))


def test_skip_gives_up_after_too_many_bad_steps_in_a_row():
    model, wrapper = make_wrapper(on_nonfinite='skip', max_consecutive_skips=2)
    wrapper.update_params(loss_of(model, float('nan')))
    wrapper.update_params(loss_of(model, float('nan')))
    with pytest.raises(NonFiniteLossError, match='3 consecutive'):
        wrapper.update_params(loss_of(model, float('nan')))


def test_unknown_policy_is_refused():
    with pytest.raises(ValueError, match='on_nonfinite'):
        make_wrapper(on_nonfinite='ignore')


def test_gradient_clipping_as_configured():
    model, wrapper = make_wrapper(clip_grad=dict(max_norm=0.01))
    seen = {}
    original_step = wrapper.optimizer.step

    def recording_step(*args, **kwargs):
        seen['norm'] = torch.norm(torch.stack([p.grad.norm() for p in model.parameters()]))
        return original_step(*args, **kwargs)
    wrapper.optimizer.step = recording_step
    wrapper.update_params(loss_of(model) * 1000)
    assert seen['norm'] <= 0.01 + 1e-6


NAN_LOSS_MODULE = '''
import torch
from rf.registry import MODELS


@MODELS.register_module()
class NaNOnThirdCallLoss(torch.nn.Module):
    """MSE, except that the third training step's loss is NaN."""

    def __init__(self):
        super().__init__()
        self.calls = 0

    def forward(self, prediction, target):
        self.calls += 1
        loss = torch.nn.functional.mse_loss(prediction, target)
        return loss * float('nan') if self.calls == 3 else loss
'''


@pytest.mark.slow
@pytest.mark.parametrize('policy', ['stop', 'skip'])
def test_train_tool_with_a_nan_loss(tmp_path, policy):
    (tmp_path / 'nan_loss.py').write_text(NAN_LOSS_MODULE)
    extra = (f"\ncustom_imports = dict(imports=['nan_loss'], allow_failed_imports=False)\n"
             f"model = dict(backbone=dict(dim=8, dim_mults=(1, 2)),\n"
             f"             loss=dict(type='NaNOnThirdCallLoss'))\n"
             f"optim_wrapper = dict(on_nonfinite='{policy}')\n"
             f"train_cfg = dict(max_iters=4, val_interval=100)\n")
    config = make_tiny_setup(tmp_path, extra)[0]
    work_dir = tmp_path / 'work'
    result = run('tools/train.py', config, '--work-dir', work_dir,
                 env=dict(PYTHONPATH=str(tmp_path)), check=False)
    if policy == 'stop':
        assert result.returncode != 0
        assert 'Traceback' not in result.stderr, result.stderr[-3000:]
        assert 'Non-finite loss (nan) at iteration 3' in result.stderr
        assert 'iter_2.pth' in result.stderr  # the last good checkpoint is named
        assert (work_dir / 'iter_2.pth').is_file() and not (work_dir / 'iter_4.pth').exists()
    else:
        assert result.returncode == 0, result.stderr[-3000:]
        log = next(work_dir.glob('*/*.log')).read_text()
        assert 'Skipped iteration 3: non-finite loss' in log
        assert (work_dir / 'iter_4.pth').is_file()
