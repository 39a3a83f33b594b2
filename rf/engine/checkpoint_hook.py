"""MMEngine's CheckpointHook made crash-safe: a SIGKILL at any moment loses no checkpoint.

MMEngine writes checkpoints and ``last_checkpoint`` in place and deletes the outdated (and the
previous best) checkpoint *before* saving the new one, so a kill at the wrong moment leaves a
truncated file, an empty ``last_checkpoint`` or one that points to a deleted file. This hook
writes every file atomically (:mod:`rf.engine.atomic_files`), saves the new checkpoint and
updates ``last_checkpoint`` first, and only then deletes what is outdated.
"""
import os.path as osp
from typing import List

from mmengine.dist import is_main_process
from mmengine.hooks import CheckpointHook

from rf.engine.atomic_files import BACKEND_NAME, atomic_write_text, remove_stale_temporaries
from rf.registry import HOOKS


class _DeferredRemoval:
    """Wraps a file backend, recording ``remove``/``rmtree`` calls instead of running them."""

    def __init__(self, backend) -> None:
        self._backend = backend
        self.pending: List[str] = []

    def remove(self, path) -> None:
        self.pending.append(path)

    def rmtree(self, path) -> None:
        self.pending.append(path)

    def __getattr__(self, name):
        return getattr(self._backend, name)


@HOOKS.register_module()
class CrashSafeCheckpointHook(CheckpointHook):
    """:class:`mmengine.hooks.CheckpointHook` with atomic writes and delete-after-save.

    Takes the same arguments. Local output folders use the atomic backend unless
    ``backend_args`` names another one.
    """

    def __init__(self, *args, **kwargs) -> None:
        if kwargs.get('backend_args') is None and kwargs.get('file_client_args') is None:
            kwargs['backend_args'] = dict(backend=BACKEND_NAME)
        super().__init__(*args, **kwargs)

    def before_train(self, runner) -> None:
        super().before_train(runner)
        if is_main_process() and osp.isdir(self.out_dir):
            removed = remove_stale_temporaries(self.out_dir)
            if removed:
                runner.logger.info(f'Removed {removed} partial checkpoint file(s) that an '
                                   f'interrupted save left in {self.out_dir}.')

    def _remove_deferred(self, deferred: _DeferredRemoval, keep: List[str]) -> None:
        for path in deferred.pending:
            if path in keep:
                continue
            if deferred._backend.isfile(path):
                deferred._backend.remove(path)
            elif deferred._backend.isdir(path):
                deferred._backend.rmtree(path)

    def _with_deferred_removal(self, save, runner, *args) -> None:
        """Run ``save`` with deletions held back until everything new is written."""
        backend = self.file_backend
        deferred = _DeferredRemoval(backend)
        self.file_backend = deferred
        try:
            save(runner, *args)
        finally:
            self.file_backend = backend
        if is_main_process():
            keep = [p for p in (self.last_ckpt, getattr(self, 'best_ckpt_path', None),
                                *getattr(self, 'best_ckpt_path_dict', {}).values()) if p]
            self._remove_deferred(deferred, keep)

    def _save_checkpoint_with_step(self, runner, step, meta) -> None:
        """MMEngine's step save, reordered: save, point ``last_checkpoint`` at it, then prune."""
        outdated = []
        if self.max_keep_ckpts > 0 and not (self.keep_ckpt_ids
                                            and self.keep_ckpt_ids[-1] == step):
            if len(self.keep_ckpt_ids) == self.max_keep_ckpts:
                outdated.append(self.keep_ckpt_ids.popleft())
            self.keep_ckpt_ids.append(step)
            runner.message_hub.update_info('keep_ckpt_ids', list(self.keep_ckpt_ids))

        filename = self.filename_tmpl.format(step)
        self.last_ckpt = self.file_backend.join_path(self.out_dir, filename)
        runner.message_hub.update_info('last_ckpt', self.last_ckpt)
        runner.save_checkpoint(
            self.out_dir, filename, self.file_client_args,
            save_optimizer=self.save_optimizer, save_param_scheduler=self.save_param_scheduler,
            meta=meta, by_epoch=self.by_epoch, backend_args=self.backend_args, **self.args)
        if not is_main_process():
            return
        atomic_write_text(osp.join(runner.work_dir, 'last_checkpoint'), self.last_ckpt)
        for old_step in outdated:
            path = self.file_backend.join_path(self.out_dir, self.filename_tmpl.format(old_step))
            if path != self.last_ckpt and self.file_backend.isfile(path):
                self.file_backend.remove(path)
