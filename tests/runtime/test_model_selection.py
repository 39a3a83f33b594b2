"""Model selection: the paper configs select as the authors did (validation on the test split
every 10 epochs, best RGB PSNR at original size), and --select-on val-split holds training
pairs out for validation instead."""
import pytest
from mmengine.config import Config
from mmengine.registry import DefaultScope

from rf.engine.model_selection import ModelSelectionError, select_on_validation_split

from lol_layout import write_lol_layout

PAPER_CONFIGS = ('configs/lol.py', 'configs/lolv2_real.py', 'configs/istd.py',
                 'configs/raindrop.py')


@pytest.mark.parametrize('path', PAPER_CONFIGS)
def test_paper_configs_select_by_rgb_psnr_every_ten_epochs(path):
    cfg = Config.fromfile(path)
    assert cfg.train_cfg.val_interval == 10
    assert cfg.default_hooks.checkpoint.save_best == 'PSNR@rgb'
    assert cfg.default_hooks.checkpoint.rule == 'greater'
    assert dict(type='ProtocolMetric', protocol='rgb') in list(cfg.val_evaluator)
    protocols = {metric['protocol'] for metric in cfg.test_evaluator
                 if metric['type'] == 'ProtocolMetric'}
    assert protocols and all(p != 'rgb' for p in protocols)


def test_validation_split_is_held_out_of_training(tmp_path):
    root = write_lol_layout(tmp_path / 'LOL', pairs=5)
    cfg = Config.fromfile('configs/lol.py')
    for loader in ('train_dataloader', 'val_dataloader'):
        cfg[loader]['dataset']['data_root'] = str(root)
    test_split = cfg.val_dataloader.dataset.split
    select_on_validation_split(cfg, hold_out_every=2)
    assert cfg.val_dataloader.dataset.split == 'train' != test_split
    assert cfg.val_dataloader.dataset.pipeline == cfg.test_dataloader.dataset.pipeline
    from rf.registry import DATASETS
    with DefaultScope.overwrite_default_scope('rf'):
        train = DATASETS.build(cfg.train_dataloader.dataset)
        val = DATASETS.build(cfg.val_dataloader.dataset)
    train_names = {info['img_id'] if 'img_id' in info else str(info) for info in
                   (train.get_data_info(i) for i in range(len(train)))}
    val_names = {info['img_id'] if 'img_id' in info else str(info) for info in
                 (val.get_data_info(i) for i in range(len(val)))}
    assert len(train) + len(val) == 5 and len(val) == 3
    assert not train_names & val_names
    with pytest.raises(ModelSelectionError, match='twice'):
        select_on_validation_split(cfg, hold_out_every=2)
