"""Safe checkpoint loading: what MMEngine stores loads; anything else is refused, never run."""
import argparse

import numpy as np
import pytest
import torch
from mmengine.logging import MessageHub

from rf.checkpoint import UnsafeCheckpointError, load_checkpoint_file


def test_mmengine_style_checkpoint_loads(tmp_path):
    hub = MessageHub.get_instance('rf_test_checkpoint')
    hub.update_scalar('train/loss', 0.5)
    hub.update_scalar('train/loss', np.float64(0.25))
    hub.update_info('iter', 7)
    hub.update_info('best_psnr', np.float32(21.5))
    state = {'meta': {'epoch': 1, 'iter': 7, 'seed': np.int64(3)}, 'state_dict': {'w': torch.ones(2)},
             'message_hub': hub.state_dict(), 'mask': np.zeros((2, 2), dtype=bool)}
    torch.save(state, tmp_path / 'iter_7.pth')
    loaded = load_checkpoint_file(str(tmp_path / 'iter_7.pth'))
    assert loaded['meta']['iter'] == 7 and torch.equal(loaded['state_dict']['w'], torch.ones(2))
    restored = MessageHub.get_instance('rf_test_checkpoint_restored')
    restored.load_state_dict(loaded['message_hub'])
    assert restored.get_scalar('train/loss').current() == 0.25


class Payload:
    """Stands for arbitrary code in a pickle: unpickling it must never call it."""

    calls = 0

    def __reduce__(self):
        return (Payload._trigger, ())

    @staticmethod
    def _trigger():
        Payload.calls += 1
        return 'ran'


@pytest.mark.parametrize('extra', [argparse.Namespace(lr=1), Payload()])
def test_foreign_objects_are_refused_and_never_run(tmp_path, extra):
    torch.save({'state_dict': {}, 'extra': extra}, tmp_path / 'foreign.pth')
    with pytest.raises(UnsafeCheckpointError, match='foreign.pth') as info:
        load_checkpoint_file(str(tmp_path / 'foreign.pth'))
    assert 'allow-list' in str(info.value)
    assert Payload.calls == 0


def test_missing_and_corrupt_files_name_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match='nope.pth'):
        load_checkpoint_file(str(tmp_path / 'nope.pth'))
    (tmp_path / 'bad.pth').write_bytes(b'not a zip or pickle')
    with pytest.raises(RuntimeError, match='bad.pth'):
        load_checkpoint_file(str(tmp_path / 'bad.pth'))


def test_mmengine_loading_goes_through_the_safe_loader(tmp_path):
    """load_from / resume use MMEngine's CheckpointLoader: rf replaces its local-file scheme."""
    import os

    from mmengine.runner.checkpoint import _load_checkpoint

    import rf.engine  # noqa: F401  (installs the loader, as building any rf model does)

    class Call:
        def __reduce__(self):
            return (os.system, ('true',))

    path = tmp_path / 'evil.pth'
    torch.save({'state_dict': {}, 'meta': {'x': Call()}}, path)
    with pytest.raises(UnsafeCheckpointError, match='system'):
        _load_checkpoint(str(path), map_location='cpu')
    good = tmp_path / 'good.pth'
    torch.save({'state_dict': {'w': torch.ones(2)}}, good)
    assert torch.equal(_load_checkpoint(str(good), map_location='cpu')['state_dict']['w'],
                       torch.ones(2))
