"""Run tools/train.py and SIGKILL it at a chosen moment (used by tests/runtime/test_crash_safety.py).

    python tests/helpers/train_and_kill.py after-save N  -- TRAIN ARGS   # killed once the Nth step
                                                                  # checkpoint is complete
    python tests/helpers/train_and_kill.py during-save N -- TRAIN ARGS   # killed half-way through
                                                                  # writing the Nth checkpoint file
"""
import os
import signal
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / 'tools'))


def kill_self() -> None:
    sys.stdout.flush()
    sys.stderr.flush()
    os.kill(os.getpid(), signal.SIGKILL)


def main() -> None:
    mode, count = sys.argv[1], int(sys.argv[2])
    train_args = sys.argv[sys.argv.index('--') + 1:]
    from rf.engine import atomic_files, checkpoint_hook
    calls = {'n': 0}
    if mode == 'after-save':
        original = checkpoint_hook.CrashSafeCheckpointHook._save_checkpoint_with_step

        def save_then_die(self, runner, step, meta):
            original(self, runner, step, meta)
            calls['n'] += 1
            if calls['n'] == count:
                kill_self()
        checkpoint_hook.CrashSafeCheckpointHook._save_checkpoint_with_step = save_then_die
    elif mode == 'during-save':
        original_write = atomic_files._write_and_sync

        def write_half_then_die(handle, data):
            if handle.name.endswith('.pth' + f'.{os.getpid()}.rf-tmp'):
                calls['n'] += 1
                if calls['n'] == count:
                    handle.write(data[:len(data) // 2])
                    handle.flush()
                    kill_self()
            original_write(handle, data)
        atomic_files._write_and_sync = write_half_then_die
    else:
        raise SystemExit(f'unknown mode {mode}')
    import train
    train.main(train_args)


if __name__ == '__main__':
    main()
