"""Files written under distributed testing: ranks never write over each other's. The sample grid
is gathered to rank 0 in dataset order and written once; restored images without an img_id get
their dataset position as a name, unique across ranks."""
import os
import socket
import subprocess
import sys
import textwrap
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from rf.engine.save_images_hook import SaveRestoredImagesHook

from conftest import REPO_ROOT

GRID_SCRIPT = textwrap.dedent('''
    import logging, sys
    import torch, torch.distributed as dist
    from types import SimpleNamespace
    from rf_plugins.tasks.generation.grid_hook import SampleGridHook
    dist.init_process_group('gloo')
    rank = dist.get_rank()
    images = [torch.full((3, 4, 4), i / 10) for i in range(7)]
    hook = SampleGridHook(out_dir={out!r}, max_images=5, nrow=5)
    runner = SimpleNamespace(work_dir={out!r}, logger=logging.getLogger('grid'))
    hook.before_test_epoch(runner)
    # The default sampler's shards: rank r gets samples r, r + 2, ...
    shard = [SimpleNamespace(pred_img=images[i]) for i in range(rank, 7, 2)]
    hook.after_test_iter(runner, 0, outputs=shard)
    hook.after_test_epoch(runner)
    print('wrote' if hook.last_path else 'did not write', flush=True)
    dist.destroy_process_group()
''')


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(('127.0.0.1', 0))
        return probe.getsockname()[1]


@pytest.mark.slow
def test_the_sample_grid_is_gathered_and_written_by_rank_zero_only(tmp_path):
    import cv2

    from rf_plugins.tasks.generation.grid_hook import sample_grid
    script = tmp_path / 'grid.py'
    script.write_text(GRID_SCRIPT.format(out=str(tmp_path)))
    port = free_port()
    processes = [subprocess.Popen(
        [sys.executable, str(script)], cwd=REPO_ROOT, stdout=subprocess.PIPE, text=True,
        env=dict(os.environ, RANK=str(rank), WORLD_SIZE='2', MASTER_ADDR='127.0.0.1',
                 MASTER_PORT=str(port), OMP_NUM_THREADS='1')) for rank in range(2)]
    outputs = [process.communicate(timeout=120)[0].strip() for process in processes]
    assert [p.returncode for p in processes] == [0, 0]
    assert outputs == ['wrote', 'did not write']
    written = cv2.imread(str(tmp_path / 'samples_grid.png'))[..., ::-1]
    expected = sample_grid([torch.full((3, 4, 4), i / 10) for i in range(5)], nrow=5)
    np.testing.assert_array_equal(written, expected)
    assert not [name for name in os.listdir(tmp_path) if name.endswith('.rf-tmp')]


def test_restored_images_without_an_id_get_names_unique_across_ranks(monkeypatch):
    import mmengine.dist
    sample = SimpleNamespace(metainfo={})
    names = set()
    for rank in range(3):
        monkeypatch.setattr(mmengine.dist, 'get_dist_info', lambda rank=rank: (rank, 3))
        names |= {SaveRestoredImagesHook._name(sample, index) for index in range(4)}
    assert names == {f'{i:06d}' for i in range(12)}
    assert SaveRestoredImagesHook._name(SimpleNamespace(metainfo={'img_id': 'a'}), 0) == 'a'
