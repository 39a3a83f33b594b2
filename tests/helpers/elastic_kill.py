"""A training hook for tests/runtime/test_elastic_restart.py: one worker dies once, mid-run.

The test config loads it through ``custom_imports`` (tests/helpers/ on PYTHONPATH). On torchrun's
first attempt (``TORCHELASTIC_RESTART_COUNT == '0'``) rank ``rank`` SIGKILLs itself after
iteration ``after_iter``, once every rank has passed that iteration's checkpoint (a barrier behind
the checkpoint hook), so the checkpoint of that iteration is complete and the last one; torchrun
then stops the other workers and restarts the group. Restarted workers train on untouched.
"""
import os
import signal
import sys

import torch.distributed as torch_dist
from mmengine.dist import get_rank
from mmengine.hooks import Hook

from rf.registry import HOOKS


@HOOKS.register_module()
class KillOnceHook(Hook):
    """SIGKILL rank ``rank`` after iteration ``after_iter`` (1-based) of the first attempt."""

    priority = 'LOWEST'  # after the checkpoint hook (VERY_LOW) has saved this iteration

    def __init__(self, after_iter: int, rank: int = 1) -> None:
        self.after_iter = after_iter
        self.rank = rank

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None) -> None:
        first_attempt = os.environ.get('TORCHELASTIC_RESTART_COUNT') == '0'
        if not first_attempt or runner.iter + 1 != self.after_iter:
            return
        torch_dist.barrier()  # rank 0 has written the checkpoint and last_checkpoint
        if get_rank() == self.rank:
            print(f'KillOnceHook: rank {self.rank} kills itself after iteration {self.after_iter}',
                  file=sys.stderr, flush=True)
            os.kill(os.getpid(), signal.SIGKILL)
