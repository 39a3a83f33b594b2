"""Distributed training on GPUs (NCCL) and on CPU-only machines (gloo).

MMEngine 0.10 assumes GPUs: its ``init_dist`` calls ``torch.cuda.set_device`` and its runner hands
DDP ``device_ids=[LOCAL_RANK]``. On a CPU-only machine rf starts the gloo process group itself
(MMEngine then skips ``init_dist``) and wraps the model with ``device_ids=None``.
"""
import os

import torch
import torch.distributed as torch_dist
from mmengine.model import MMDistributedDataParallel

from rf.registry import MODEL_WRAPPERS


def init_cpu_distributed(launcher: str) -> bool:
    """Start a gloo process group from torchrun's environment when there is no GPU.

    Returns True when it started one; on GPU machines (or ``launcher='none'``) it does nothing and
    MMEngine's own ``init_dist`` runs as usual.
    """
    if launcher == 'none' or torch.cuda.is_available() or torch_dist.is_initialized():
        return False
    if launcher != 'pytorch':
        raise RuntimeError(f"On a machine without GPUs rf supports launcher='pytorch' (torchrun, "
                           f"tools/dist_train.sh), not {launcher!r}.")
    missing = [k for k in ('RANK', 'WORLD_SIZE', 'MASTER_ADDR', 'MASTER_PORT') if k not in os.environ]
    if missing:
        raise RuntimeError(f'--launcher pytorch needs torchrun\'s environment; {", ".join(missing)} '
                           'not set. Start through tools/dist_train.sh or torchrun.')
    torch_dist.init_process_group(backend='gloo')
    return True


def finish_distributed() -> None:
    """Close the process group after a run that ended normally (a no-op without one).

    A process that exits with its gloo group still open can abort in interpreter teardown
    ("terminate called without an active exception", SIGABRT), failing a run that succeeded.
    Only on success: after an error the other ranks may be inside a collective, and closing
    the group would hang them.
    """
    if torch_dist.is_available() and torch_dist.is_initialized():
        torch_dist.barrier()
        torch_dist.destroy_process_group()


@MODEL_WRAPPERS.register_module()
class RfDistributedDataParallel(MMDistributedDataParallel):
    """MMEngine's DDP wrapper, with ``device_ids=None`` for a model on the CPU."""

    def __init__(self, module, detect_anomalous_params: bool = False, **kwargs) -> None:
        if next(module.parameters()).device.type == 'cpu':
            kwargs['device_ids'] = None
            kwargs.pop('output_device', None)
        super().__init__(module=module, detect_anomalous_params=detect_anomalous_params, **kwargs)
