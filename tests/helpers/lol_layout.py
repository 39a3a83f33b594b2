"""Generated LOL-v1 data in the official layout (``our485/{low,high}``, ``eval15/{low,high}``)
and one-epoch train -> checkpoint -> tools/test.py runs of a LOL config on it."""
import json

import cv2
import numpy as np

from layout_training import one_epoch_overrides
from tiny_training import run


def write_lol_layout(root, pairs: int = 2, train_size=(40, 48), test_size=(36, 44)):
    """``pairs`` random ground truths per split with their darkened inputs; returns ``root``."""
    rng = np.random.default_rng(0)
    for split, (height, width) in (('our485', train_size), ('eval15', test_size)):
        for i in range(pairs):
            gt = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
            for side, image in (('high', gt), ('low', gt // 4)):
                (root / split / side).mkdir(parents=True, exist_ok=True)
                cv2.imwrite(str(root / split / side / f'{i}.png'), image)
    return root


def train_and_test_lol(config, root, model_overrides):
    """One epoch of ``config`` on a generated LOL layout under ``root`` with the override keys
    every config accepts, ``model_overrides`` shrinking the model; then tools/test.py on the
    epoch's checkpoint. Returns (work dir, the metrics test.py reported, its stdout)."""
    data_root = write_lol_layout(root / 'LOL')
    overrides = [item for item in one_epoch_overrides(data_root)
                 if not item.startswith('model.')] + list(model_overrides)
    work_dir = root / 'work'
    run('tools/train.py', config, '--work-dir', work_dir, '--cfg-options', *overrides)
    checkpoint = work_dir / 'epoch_1.pth'
    assert checkpoint.is_file(), sorted(p.name for p in work_dir.iterdir())
    result = run('tools/test.py', config, checkpoint, '--work-dir', root / 'test_work',
                 '--cfg-options', *overrides)
    metrics = json.loads((root / 'test_work' / 'metrics.json').read_text())['metrics']
    return work_dir, metrics, result.stdout
