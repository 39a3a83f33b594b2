"""Tests of the example plugin, run against the installed distribution:

    pip install -e plugins/example_plugin && cd plugins/example_plugin && python -m pytest -q
"""
import pytest
import torch
from rf_example_backbone import CompactResNet

import rf.plugins
from rf.registry import MODELS
from rf.testing import check_backbone


def test_rf_finds_the_backbone_through_the_entry_point():
    # No registration by hand: searching rf's registry loads every installed plugin.
    assert MODELS.get('CompactResNet') is CompactResNet
    info = {p.name: p for p in rf.plugins.loaded_plugins()}['example_backbone']
    assert info.error is None and info.registered == {'MODELS': ['CompactResNet']}
    assert info.distribution == 'rf-example-backbone'


def test_keeps_rfs_backbone_contract():
    # Any size (no constraint: the net never down-samples), the step reaches the output per
    # sample, gradients everywhere, a clear error for a fuser giving the wrong channels.
    check_backbone(CompactResNet, width=16, num_blocks=3)


def test_bad_settings_are_clear_errors():
    with pytest.raises(ValueError, match='multiple of groups'):
        CompactResNet(width=12, groups=8)


def test_trains_inside_a_resfusion_model():
    torch.manual_seed(0)
    model = MODELS.build(dict(
        type='Resfusion', schedule=dict(type='linear', T=12),
        backbone=dict(type='CompactResNet', in_channels=6, out_channels=3, width=16,
                      num_blocks=2),
        fuser=dict(type='concat'), task=dict(type='restoration'), sampler=dict(seed=0)))
    gt = torch.rand(4, 3, 24, 24) * 2 - 1
    inputs = dict(gt=gt, degraded=0.3 * gt - 0.6)  # a darkened copy
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    losses = []
    for _ in range(40):
        loss = model(inputs, mode='loss')['loss']
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert sum(losses[-10:]) < 0.75 * sum(losses[:10])
    restored = model(dict(degraded=inputs['degraded']), mode='tensor')
    assert restored.shape == gt.shape and restored.abs().max() <= 1
