"""Two gloo processes with DDP: a NaN loss on one rank makes both ranks skip the same step, and
the guard needs no collective of its own to agree (issue 17.7: no per-iteration all-reduce)."""
import os

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

pytestmark = pytest.mark.slow  # starts processes


def _rank_main(rank: int, world: int, init_file: str, out_dir: str, clip: bool) -> None:
    from mmengine.logging import MessageHub
    from torch.nn.parallel import DistributedDataParallel

    from rf.engine.nonfinite_guard import GuardedOptimWrapper

    dist.init_process_group('gloo', init_method=f'file://{init_file}', rank=rank,
                            world_size=world)
    MessageHub.get_current_instance().update_info('iter', 0)
    torch.manual_seed(0)
    model = DistributedDataParallel(torch.nn.Linear(4, 1))
    wrapper = GuardedOptimWrapper(
        optimizer=torch.optim.SGD(model.parameters(), lr=0.1), on_nonfinite='skip',
        clip_grad=dict(max_norm=1.0) if clip else None)
    calls = []
    for name in ('all_reduce', 'all_gather', 'all_gather_object', 'broadcast', 'barrier'):
        original = getattr(dist, name)

        def counting(*args, _name=name, _original=original, **kwargs):
            calls.append(_name)
            return _original(*args, **kwargs)
        setattr(dist, name, counting)
    snapshots = [[p.detach().clone() for p in model.parameters()]]
    for step in range(2):
        loss = model(torch.full((2, 4), float(rank + 1))).pow(2).mean()
        if step == 0 and rank == 1:
            loss = loss * float('nan')
        wrapper.update_params(loss)
        snapshots.append([p.detach().clone() for p in model.parameters()])
    torch.save(dict(snapshots=snapshots, skipped=wrapper.skipped_steps, calls=calls),
               os.path.join(out_dir, f'rank{rank}.pt'))
    dist.destroy_process_group()


@pytest.mark.parametrize('clip', [False, True])
def test_both_ranks_skip_a_step_poisoned_on_one_rank(tmp_path, clip):
    mp.spawn(_rank_main, args=(2, str(tmp_path / 'init'), str(tmp_path), clip), nprocs=2)
    results = [torch.load(tmp_path / f'rank{rank}.pt') for rank in (0, 1)]
    for result in results:
        before, after_bad, after_good = result['snapshots']
        assert result['skipped'] == 1
        assert all(torch.equal(a, b) for a, b in zip(before, after_bad))
        assert not all(torch.equal(a, b) for a, b in zip(after_bad, after_good))
        assert result['calls'] == [], result['calls']  # the guard agreed without a collective
    assert all(torch.equal(a, b) for a, b in zip(results[0]['snapshots'][-1],
                                                 results[1]['snapshots'][-1]))
