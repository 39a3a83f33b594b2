"""glibc malloc settings for CPU work, applied by re-executing a tool once at start-up.

With glibc's defaults every tensor over 32 MiB is mmapped and unmapped again, so each training
or sampling step page-faults its activations back in: half the CPU time went to the kernel on the
2-core machine (docs/benchmarks.md). glibc reads ``MALLOC_*`` only when the process starts, and
setting the same values later through ``mallopt`` measured no gain, so the tools re-execute
themselves once with the variables set. Values the user exported win; ``RF_MALLOC_DEFAULTS=0``
leaves malloc alone. GPU machines (NVIDIA device files, not hidden by ``CUDA_VISIBLE_DEVICES``
or ``RF_DEVICE=cpu``) keep glibc's defaults: the settings were measured for CPU work, and a GPU
process's large host buffers should go back to the kernel. Nothing here imports torch, so the
re-exec costs a few milliseconds.
"""
import glob
import os
import platform
import sys

MALLOC_DEFAULTS = {
    'MALLOC_MMAP_MAX_': '0',                   # never hand big blocks to mmap
    'MALLOC_TRIM_THRESHOLD_': '2147483647',    # never give freed memory back to the kernel
    'MALLOC_TOP_PAD_': '67108864',             # grow the heap 64 MiB at a time
}


def gpu_machine(environ=None, device_files: str = '/dev/nvidia[0-9]*') -> bool:
    """Whether this process will use GPUs: NVIDIA devices present and not hidden or declined."""
    environ = os.environ if environ is None else environ
    if environ.get('RF_DEVICE', '').lower() == 'cpu':
        return False
    if environ.get('CUDA_VISIBLE_DEVICES', None) in ('', '-1'):
        return False
    return bool(glob.glob(device_files))


def missing_malloc_settings(environ=None, device_files: str = '/dev/nvidia[0-9]*') -> dict:
    """The defaults not yet in ``environ``; empty off glibc, on GPU machines or when
    RF_MALLOC_DEFAULTS=0."""
    environ = os.environ if environ is None else environ
    if environ.get('RF_MALLOC_DEFAULTS', '1') == '0' or gpu_machine(environ, device_files):
        return {}
    if not sys.platform.startswith('linux') or platform.libc_ver()[0] != 'glibc':
        return {}
    return {key: value for key, value in MALLOC_DEFAULTS.items() if key not in environ}


def reexec_with_malloc_defaults() -> None:
    """Restart this Python process with the malloc defaults if any is missing; else return.

    Call it first thing under ``if __name__ == '__main__'``. The process keeps its pid, so
    torchrun and shells see no difference. If the exec fails the tool goes on unchanged.
    """
    missing = missing_malloc_settings()
    if not missing:
        return
    argv = list(getattr(sys, 'orig_argv', None) or [sys.executable] + sys.argv)
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        os.execve(sys.executable, argv, {**os.environ, **missing})
    except OSError:
        return
