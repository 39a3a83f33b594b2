"""The runner a training or test run gets: rf's setup before ``Runner.from_cfg``."""
from typing import List

from mmengine.config import Config

from rf.engine.distributed import check_gpu_expected, init_cpu_distributed
from rf.engine.loader_workers import adapt_workerless_loaders
from rf.engine.safe_loading import install_safe_checkpoint_loader


def seed_samplers(cfg: Config) -> None:
    """Give each loader's sampler the config's seed unless it names its own.

    With ``randomness.diff_rank_seed`` (each rank its own noise) MMEngine stops passing the seed
    to the samplers, which would then draw their shuffling seed at random (shared by the ranks,
    but unlike before). The explicit seed keeps the data order that single-process runs had,
    and is the same on every rank, as the sampler's sharding needs.
    """
    seed = (cfg.get('randomness') or {}).get('seed')
    if seed is None:
        return
    for name in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        sampler = (cfg.get(name) or {}).get('sampler')
        if isinstance(sampler, dict) and 'seed' not in sampler:
            sampler['seed'] = seed


def resolve_config(cfg: Config) -> List[str]:
    """The config changes every runner gets (the samplers' seed, worker-only loader options off
    without workers); returns the lines worth logging. tools/print_config.py shows the result."""
    seed_samplers(cfg)
    return adapt_workerless_loaders(cfg)


def build_runner(cfg: Config):
    """``Runner.from_cfg`` after rf's setup: safe checkpoint loading, no silent CPU run where GPUs
    are expected, gloo on CPU-only machines, :func:`resolve_config`."""
    install_safe_checkpoint_loader()
    check_gpu_expected()
    notes = resolve_config(cfg)
    init_cpu_distributed(cfg.get('launcher', 'none'))
    if 'runner_type' in cfg:
        from mmengine.registry import RUNNERS
        runner = RUNNERS.build(cfg)
    else:
        from mmengine.runner import Runner
        runner = Runner.from_cfg(cfg)
    for note in notes:  # the runner's logger: rank 0 only, and into the run's log file
        runner.logger.info(note)
    return runner
