"""GPU math settings for a run: cuDNN autotuning where shapes repeat, one TF32 choice for all.

``torch.backends.cudnn.benchmark`` times every convolution algorithm for each new input shape:
a gain when training on fixed-size patches, a loss when validating or testing whole images of
many sizes (each new size is tuned again). And out of the box PyTorch lets cuDNN convolutions use
TF32 while matrix products do not, so the fast path of the paper's U-Net, which turns 1x1
convolutions and attention into matrix products, would compute at another precision than the
convolutions it replaces. On a CPU none of these settings has any effect.
"""
from typing import Optional

import torch
from mmengine.hooks import Hook

from rf.registry import HOOKS


def set_tf32(enabled: bool) -> None:
    """Let (or forbid) both matrix products and cuDNN convolutions use TF32 on Ampere+ GPUs."""
    torch.backends.cuda.matmul.allow_tf32 = bool(enabled)
    torch.backends.cudnn.allow_tf32 = bool(enabled)


@HOOKS.register_module()
class CudaSettingsHook(Hook):
    """cuDNN autotuning during training only, and TF32 for every product or for none.

    Args:
        train_benchmark: ``cudnn.benchmark`` while training (fixed-size patches).
        eval_benchmark: ``cudnn.benchmark`` while validating and testing (whole images).
        tf32: True: convolutions and matrix products both use TF32 (about 1e-3 relative
            error, the precision cuDNN convolutions have by default); False: both full fp32
            (slower); None: leave PyTorch's settings alone.
    """

    priority = 'VERY_HIGH'

    def __init__(self, train_benchmark: bool = True, eval_benchmark: bool = False,
                 tf32: Optional[bool] = True) -> None:
        self.train_benchmark = bool(train_benchmark)
        self.eval_benchmark = bool(eval_benchmark)
        self.tf32 = tf32
        self._training = False

    def before_run(self, runner) -> None:
        if self.tf32 is not None:
            set_tf32(self.tf32)

    def before_train(self, runner) -> None:
        self._training = True
        torch.backends.cudnn.benchmark = self.train_benchmark

    def after_train(self, runner) -> None:
        self._training = False

    def before_val(self, runner) -> None:
        torch.backends.cudnn.benchmark = self.eval_benchmark

    def after_val(self, runner) -> None:
        if self._training:  # back to the training patches
            torch.backends.cudnn.benchmark = self.train_benchmark

    def before_test(self, runner) -> None:
        torch.backends.cudnn.benchmark = self.eval_benchmark
