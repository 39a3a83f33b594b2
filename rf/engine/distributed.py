"""Distributed training on GPUs (NCCL) and on CPU-only machines (gloo).

MMEngine 0.10 assumes GPUs: its ``init_dist`` calls ``torch.cuda.set_device`` and its runner hands
DDP ``device_ids=[LOCAL_RANK]``. On a CPU-only machine rf starts the gloo process group itself
(MMEngine then skips ``init_dist``) and wraps the model with ``device_ids=None``; under
``--launcher slurm`` it first derives torchrun's variables from srun's, as MMEngine does on GPUs.

CPU is never chosen silently where a GPU is visibly expected (NVIDIA device files, or
``CUDA_VISIBLE_DEVICES`` naming devices) but CUDA cannot be used (a driver too old for this torch
build, a CPU-only torch): :func:`check_gpu_expected` stops with the reason, unless the user asks
for the CPU with ``RF_DEVICE=cpu``.
"""
import glob
import os
import subprocess

import torch
import torch.distributed as torch_dist
from mmengine.model import MMDistributedDataParallel

from rf.registry import MODEL_WRAPPERS

CPU_REQUEST_ENV = 'RF_DEVICE'


class GpuUnusableError(RuntimeError):
    """GPUs are visible but CUDA does not work, and CPU was not asked for."""
    rf_user_error = True


def visible_gpu_signs(device_files: str = '/dev/nvidia[0-9]*') -> list:
    """What says this machine means to use GPUs: NVIDIA device files, CUDA_VISIBLE_DEVICES."""
    signs = [f'{path} exists' for path in sorted(glob.glob(device_files))[:1]]
    visible = os.environ.get('CUDA_VISIBLE_DEVICES')
    if visible and visible.strip() not in ('-1', 'none', 'NoDevFiles'):
        signs.append(f'CUDA_VISIBLE_DEVICES={visible}')
    return signs


def cuda_failure_reason() -> str:
    """Why CUDA is unusable, in torch's words (its initialisation error)."""
    if torch.version.cuda is None:
        return 'this torch build has no CUDA support (a CPU-only wheel)'
    try:
        torch.cuda.init()
    except Exception as error:  # noqa: BLE001 - the message is the point
        return f'{type(error).__name__}: {str(error).strip().splitlines()[0]}'
    return 'torch.cuda.is_available() is False'


def check_gpu_expected(device_files: str = '/dev/nvidia[0-9]*') -> None:
    """Refuse to run on the CPU when GPUs are visibly expected but CUDA is unusable.

    ``RF_DEVICE=cpu`` says the CPU is meant; then nothing is checked.
    """
    if torch.cuda.is_available() or os.environ.get(CPU_REQUEST_ENV, '').lower() == 'cpu':
        return
    signs = visible_gpu_signs(device_files)
    if not signs:
        return
    raise GpuUnusableError(
        f"GPUs are expected here ({'; '.join(signs)}) but CUDA cannot be used: "
        f'{cuda_failure_reason()} (torch {torch.__version__}, built for CUDA '
        f'{torch.version.cuda}). Install a torch build that matches the driver (nvidia-smi shows '
        f'the driver\'s CUDA version), or run on the CPU on purpose with {CPU_REQUEST_ENV}=cpu.')


def check_launch(processes: int) -> None:
    """Before torchrun starts ``processes`` per machine: CUDA usable where GPUs are expected, and
    no more processes than visible GPUs (tools/torchrun.sh calls this once, not once per rank)."""
    check_gpu_expected()
    if torch.cuda.is_available() and processes > torch.cuda.device_count():
        raise GpuUnusableError(
            f'{processes} processes asked for, but only {torch.cuda.device_count()} GPU(s) are '
            f"visible (CUDA_VISIBLE_DEVICES={os.environ.get('CUDA_VISIBLE_DEVICES', 'unset')}): "
            'one process per GPU; pass at most that many.')


def torch_env_from_slurm() -> None:
    """torchrun's variables from an srun task's, as MMEngine's slurm launcher sets them on GPUs:
    RANK, WORLD_SIZE, LOCAL_RANK from SLURM_PROCID, SLURM_NTASKS, SLURM_LOCALID; MASTER_ADDR
    (unless set) the job's first node; MASTER_PORT (unless set) 29500."""
    needed = ('SLURM_PROCID', 'SLURM_NTASKS', 'SLURM_NODELIST')
    missing = [k for k in needed if k not in os.environ]
    if missing:
        raise RuntimeError(f'--launcher slurm needs srun\'s environment; {", ".join(missing)} not '
                           'set. Start through tools/slurm_train.sh or srun.')
    os.environ['RANK'] = os.environ['SLURM_PROCID']
    os.environ['WORLD_SIZE'] = os.environ['SLURM_NTASKS']
    os.environ['LOCAL_RANK'] = os.environ.get('SLURM_LOCALID', '0')
    os.environ.setdefault('MASTER_PORT', '29500')
    if 'MASTER_ADDR' not in os.environ:
        nodes = subprocess.run(['scontrol', 'show', 'hostnames', os.environ['SLURM_NODELIST']],
                               capture_output=True, text=True, check=True).stdout.split()
        os.environ['MASTER_ADDR'] = nodes[0]


def init_cpu_distributed(launcher: str) -> bool:
    """Start a gloo process group from torchrun's environment when there is no GPU.

    Returns True when it started one; on GPU machines (or ``launcher='none'``) it does nothing and
    MMEngine's own ``init_dist`` runs as usual.
    """
    if launcher == 'none' or torch.cuda.is_available() or torch_dist.is_initialized():
        return False
    if launcher == 'slurm':
        torch_env_from_slurm()
    elif launcher != 'pytorch':
        raise RuntimeError(f"On a machine without GPUs rf supports launcher='pytorch' (torchrun, "
                           f"tools/dist_train.sh) and 'slurm' (srun, tools/slurm_train.sh), not "
                           f"{launcher!r}.")
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
