"""Timing and memory primitives of the benchmarks: medians of synchronised runs, runs timed in
turns, peak memory (CUDA's allocator or the process's resident set), the machine's matmul peak."""
import statistics
import time
from typing import Callable, Dict, Optional

import torch


def synchronize(device: torch.device) -> None:
    if device.type == 'cuda':
        torch.cuda.synchronize(device)


def median_seconds(fn: Callable[[], object], device: torch.device, runs: int,
                   warmup: int) -> float:
    """The median wall time of ``runs`` calls of ``fn`` after ``warmup`` untimed ones."""
    for _ in range(warmup):
        fn()
    synchronize(device)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        synchronize(device)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def interleaved_medians(fns: Dict[str, Callable[[], object]], device: torch.device, runs: int,
                        warmup: int) -> Dict[str, float]:
    """Median seconds of each function, timed in turns (a, b, a, b, ...) so that a slow spell
    of the machine hits all of them alike: the fair way to compare two variants."""
    for fn in fns.values():
        for _ in range(warmup):
            fn()
    times = {name: [] for name in fns}
    for _ in range(runs):
        for name, fn in fns.items():
            synchronize(device)
            start = time.perf_counter()
            fn()
            synchronize(device)
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in times.items()}


def reset_peak_memory(device: torch.device) -> None:
    """Start a new peak: CUDA's allocator counter, or the process's peak RSS on Linux."""
    if device.type == 'cuda':
        torch.cuda.reset_peak_memory_stats(device)
        return
    try:
        with open('/proc/self/clear_refs', 'w') as handle:
            handle.write('5')
    except OSError:
        pass  # not Linux: the peak then counts from the start of the process


def peak_memory_mb(device: torch.device) -> Optional[float]:
    """Peak tensor memory on CUDA; peak resident memory of the process on CPU (MiB)."""
    if device.type == 'cuda':
        return torch.cuda.max_memory_allocated(device) / 2 ** 20
    try:
        with open('/proc/self/status') as handle:
            for line in handle:
                if line.startswith('VmHWM:'):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def matmul_gflops(device: torch.device, n: int = 2048, runs: int = 5) -> float:
    """The practical fp32 peak: GFLOP/s of an n x n matrix product on ``device``."""
    a = torch.randn(n, n, device=device)
    b = torch.randn(n, n, device=device)
    seconds = median_seconds(lambda: torch.mm(a, b), device, runs, warmup=2)
    return 2 * n ** 3 / seconds / 1e9
