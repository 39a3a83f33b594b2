"""Debugging overrides just work (issue 19.1): ``num_workers=0`` turns the worker-only loader
options off with one info line, and a run that only tests hears nothing from training-only hooks
(PlotCurvesHook, the TensorBoard backend's missing-package line)."""
from types import SimpleNamespace
from unittest import mock

import pytest
import torch
from mmengine.config import Config

from rf.engine.curves import PlotCurvesHook
from rf.engine.loader_workers import adapt_workerless_loaders
from rf.engine.runner_setup import resolve_config

from tiny_training import make_tiny_setup, run


def loaders_config(**loaders):
    return Config(dict(loaders))


def test_workerless_loaders_lose_the_worker_only_options():
    cfg = loaders_config(
        train_dataloader=dict(num_workers=0, persistent_workers=True, prefetch_factor=2),
        val_dataloader=dict(num_workers=2, persistent_workers=True, prefetch_factor=2),
        test_dataloader=dict(persistent_workers=True, multiprocessing_context='spawn'))
    notes = adapt_workerless_loaders(cfg)
    assert notes == [
        'train_dataloader: num_workers=0, so persistent_workers off, no prefetch_factor',
        'test_dataloader: num_workers=0, so persistent_workers off, no multiprocessing_context']
    assert cfg.train_dataloader == dict(num_workers=0, persistent_workers=False)
    assert cfg.val_dataloader == dict(num_workers=2, persistent_workers=True, prefetch_factor=2)
    assert cfg.test_dataloader == dict(persistent_workers=False)
    for name in ('train_dataloader', 'test_dataloader'):  # torch now accepts them
        options = dict(cfg[name])
        torch.utils.data.DataLoader(list(range(4)), **options)


def test_nothing_to_adapt_says_nothing():
    cfg = loaders_config(train_dataloader=dict(num_workers=0, persistent_workers=False),
                         val_dataloader=dict(num_workers=0, prefetch_factor=None),
                         test_dataloader=None)
    before = cfg.to_dict()
    assert adapt_workerless_loaders(cfg) == []
    assert adapt_workerless_loaders(Config(dict(model=dict()))) == []
    assert cfg.to_dict() == before


def test_a_shared_loader_dict_is_named_for_each_name():
    shared = dict(num_workers=0, persistent_workers=True)
    cfg = SimpleNamespace(get={'val_dataloader': shared, 'test_dataloader': shared}.get)
    notes = adapt_workerless_loaders(cfg)
    assert [note.split(':')[0] for note in notes] == ['val_dataloader', 'test_dataloader']
    assert shared == dict(num_workers=0, persistent_workers=False)


def test_resolve_config_seeds_samplers_and_adapts_loaders():
    cfg = loaders_config(randomness=dict(seed=7), train_dataloader=dict(
        num_workers=0, persistent_workers=True, sampler=dict(type='DefaultSampler')))
    assert resolve_config(cfg) == ['train_dataloader: num_workers=0, so persistent_workers off']
    assert cfg.train_dataloader.sampler.seed == 7
    assert cfg.train_dataloader.persistent_workers is False


def test_plot_curves_hook_acts_after_training_only(tmp_path):
    hook = PlotCurvesHook()
    runner = SimpleNamespace(log_dir=str(tmp_path), work_dir=str(tmp_path), logger=mock.Mock())
    hook.after_run(runner)  # the end of a test-only run
    runner.logger.warning.assert_not_called()
    hook.after_train(runner)
    assert 'no curves written' in runner.logger.warning.call_args[0][0]


WORKER_OPTIONS = """
train_dataloader = dict(persistent_workers=True, prefetch_factor=2)
test_dataloader = dict(persistent_workers=True)
"""


@pytest.mark.slow
def test_num_workers_0_override_trains_and_a_test_run_stays_quiet(tmp_path):
    base = make_tiny_setup(tmp_path)[1]  # one worker, PlotCurvesHook and TensorBoard as in demo
    config = tmp_path / 'persistent.py'
    config.write_text(f"_base_ = ['{base}']\n" + WORKER_OPTIONS)
    work_dir = tmp_path / 'work'
    trained = run('tools/train.py', config, '--work-dir', work_dir,
                  '--cfg-options', 'train_dataloader.num_workers=0')
    output = trained.stdout + trained.stderr
    assert 'train_dataloader: num_workers=0, so persistent_workers off, no prefetch_factor' \
        in output
    assert (work_dir / 'iter_4.pth').is_file() and (work_dir / 'curves.png').is_file()

    tested = run('tools/test.py', config, work_dir / 'iter_4.pth', '--work-dir',
                 tmp_path / 'test')
    output = tested.stdout + tested.stderr
    assert 'metrics: PSNR' in output
    assert 'test_dataloader: num_workers=0, so persistent_workers off' in output
    assert 'PlotCurvesHook:' not in output  # (its name in MMEngine's hook list has no colon)
    assert 'tensorboard is not installed' not in output
