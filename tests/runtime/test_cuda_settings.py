"""CudaSettingsHook: cuDNN autotuning while training on fixed patches, not while validating or
testing whole images; one TF32 choice for convolutions and matrix products (issue 17.7, 17.8).
The flags are plain Python settings, so their switching is checked on a CPU."""
import pytest
import torch
from mmengine.config import Config

from rf.engine.cuda_settings import CudaSettingsHook, set_tf32

from conftest import REPO_ROOT


@pytest.fixture(autouse=True)
def restore_flags():
    saved = (torch.backends.cudnn.benchmark, torch.backends.cuda.matmul.allow_tf32,
             torch.backends.cudnn.allow_tf32)
    yield
    (torch.backends.cudnn.benchmark, torch.backends.cuda.matmul.allow_tf32,
     torch.backends.cudnn.allow_tf32) = saved


def test_benchmark_follows_training_and_validation():
    hook, runner = CudaSettingsHook(), object()
    torch.backends.cudnn.benchmark = False
    hook.before_run(runner)
    hook.before_train(runner)
    assert torch.backends.cudnn.benchmark
    hook.before_val(runner)
    assert not torch.backends.cudnn.benchmark  # whole images of many sizes
    hook.after_val(runner)
    assert torch.backends.cudnn.benchmark  # back to the patches
    hook.after_train(runner)
    hook.before_val(runner)
    hook.after_val(runner)
    assert not torch.backends.cudnn.benchmark  # a validation after training stays untuned


def test_testing_is_not_autotuned():
    torch.backends.cudnn.benchmark = True
    CudaSettingsHook().before_test(object())
    assert not torch.backends.cudnn.benchmark


@pytest.mark.parametrize('tf32', [True, False])
def test_tf32_is_one_choice_for_convolutions_and_products(tf32):
    torch.backends.cuda.matmul.allow_tf32 = not tf32
    torch.backends.cudnn.allow_tf32 = not tf32
    CudaSettingsHook(tf32=tf32).before_run(object())
    assert torch.backends.cuda.matmul.allow_tf32 is tf32
    assert torch.backends.cudnn.allow_tf32 is tf32


def test_none_leaves_pytorch_alone():
    set_tf32(False)
    torch.backends.cudnn.allow_tf32 = True
    CudaSettingsHook(tf32=None).before_run(object())
    assert (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32) == (False,
                                                                                        True)


@pytest.mark.parametrize('name', ['lol', 'raindrop', 'istd', 'cifar10', 'demo'])
def test_every_runtime_has_the_hook(name):
    hooks = Config.fromfile(str(REPO_ROOT / 'configs' / f'{name}.py')).default_hooks
    assert hooks['cuda_settings']['type'] == 'CudaSettingsHook'
