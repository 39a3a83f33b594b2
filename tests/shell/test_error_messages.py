"""Clear messages for config, plugin and input errors (rf.cli: run_cli and its explanations)."""
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.registry import MODELS as MMENGINE_MODELS
from mmengine.registry import DefaultScope
from mmengine.runner import Runner

from rf.checkpoint import UnsafeCheckpointError
from rf.cli.config_checks import require_keys, unknown_override_keys
from rf.cli.errors import one_line_error, run_cli
from rf.cli.unknown_types import explain_unknown_type
from rf.cli.user_errors import ConfigKeyError, UnknownTypeError
from rf.datasets.image_io import ImageReadError
from rf.datasets.paired_folder import PairedImageDataset
from rf.plugins import loaded_plugins
from rf.plugins.manager import PluginInfo, get_loader
from rf.registry import DATASETS, MODELS, TRANSFORMS

REPO_ROOT = Path(__file__).resolve().parents[2]
TINY_BACKBONE = dict(type='ResfusionUNet', dim=8, dim_mults=(1,), in_channels=6, out_channels=3,
                     groups=8)


def _closest_names(message: str):
    part = message.split('Closest registered names: ', 1)[1]
    return part.split('. ', 1)[0].split(', ')


def _paired_folder(root: Path, corrupt: bool = False) -> Path:
    for folder in ('low', 'high'):
        (root / folder).mkdir()
        cv2.imwrite(str(root / folder / '0.png'), np.full((8, 8, 3), 100, np.uint8))
    if corrupt:
        (root / 'low' / '0.png').write_bytes(b'not a png at all')
    return root


def _raised(build):
    with pytest.raises(Exception) as info:
        build()
    return info.value


# --------------------------------------------------------------------------- unknown types


def test_model_typo_through_mmengine_root_registry_with_rf_scope():
    with DefaultScope.overwrite_default_scope('rf'):
        exc = _raised(lambda: MMENGINE_MODELS.build(dict(type='Resfusionn')))
    assert isinstance(exc, KeyError)
    message = explain_unknown_type(exc)
    assert message.startswith("unknown model type 'Resfusionn' (registry rf::model).")
    assert _closest_names(message)[0] == 'Resfusion'
    assert 'Please check' not in message and 'https://' not in message
    assert one_line_error(exc) == message


def test_model_typo_without_default_scope_suggests_scoped_name():
    with DefaultScope.overwrite_default_scope('mmengine'):
        exc = _raised(lambda: MMENGINE_MODELS.build(dict(type='Resfusionn')))
    message = explain_unknown_type(exc)
    assert '(registry mmengine::model)' in message
    assert 'rf.Resfusion' in _closest_names(message)


def test_nested_backbone_typo_names_the_backbone():
    exc = _raised(lambda: MODELS.build(dict(
        type='Resfusion', backbone=dict(TINY_BACKBONE, type='ResfusionUNett'),
        fuser=dict(type='concat'), task=dict(type='restoration'))))
    message = explain_unknown_type(exc)
    assert "unknown model type 'ResfusionUNett'" in message
    assert _closest_names(message)[0] == 'ResfusionUNet'


def test_nesting_context_of_wrapped_messages_is_kept():
    # Older MMEngine/MMCV prefix "class `Outer` in module: " and keep the inner repr quotes.
    inner = str(KeyError('ResfusionUNett is not in the rf::model registry. Please check whether '
                         'the value of `ResfusionUNett` is correct or it was registered.'))
    message = explain_unknown_type(KeyError(f'class `Resfusion` in rf.models.resfusion: {inner}'))
    assert "unknown model type 'ResfusionUNett' (registry rf::model) while building class " \
           "`Resfusion`." in message


def test_transform_typo_inside_a_dataset(tmp_path):
    root = _paired_folder(tmp_path)
    with DefaultScope.overwrite_default_scope('rf'):
        exc = _raised(lambda: DATASETS.build(dict(
            type='PairedImageDataset', data_root=str(root),
            pipeline=[dict(type='LoadRestorationImagez'), dict(type='PackRestorationInputs')])))
    message = explain_unknown_type(exc)
    assert "unknown transform type 'LoadRestorationImagez' (registry rf::transform)" in message
    assert 'LoadRestorationImages' in _closest_names(message)


def test_right_name_in_the_wrong_scope_says_how_to_fix_it(tmp_path):
    # Outside rf's scope, MMEngine's Compose looks rf's transforms up in its root registry.
    root = _paired_folder(tmp_path)
    with DefaultScope.overwrite_default_scope('mmengine'):
        exc = _raised(lambda: PairedImageDataset(
            data_root=str(root), pipeline=[dict(type='LoadRestorationImages')]))
    message = explain_unknown_type(exc)
    assert message.startswith("unknown transform type 'LoadRestorationImages' (registry "
                              "mmengine::transform). It is registered as "
                              "rf.LoadRestorationImages: set default_scope = 'rf' in the config "
                              "or write type='rf.LoadRestorationImages'. Plugins loaded: ")


def test_dataset_typo_inside_a_runner_built_dataloader(tmp_path):
    root = _paired_folder(tmp_path)
    with DefaultScope.overwrite_default_scope('rf'):
        exc = _raised(lambda: Runner.build_dataloader(dict(
            batch_size=1, num_workers=0, sampler=dict(type='DefaultSampler', shuffle=False),
            dataset=dict(type='PairedImageDatset', data_root=str(root), pipeline=[]))))
    message = one_line_error(exc)
    assert "unknown dataset type 'PairedImageDatset' (registry rf::dataset)" in message
    assert _closest_names(message)[0] == 'PairedImageDataset'


def test_plugins_are_listed_with_failures(monkeypatch):
    TRANSFORMS.get('LoadRestorationImages')  # make sure the plugins are loaded
    monkeypatch.setitem(get_loader().plugins, 'acme', PluginInfo(
        name='acme', module='acme.rf', error="ImportError: No module named 'acme_deps'"))
    message = explain_unknown_type(_raised(lambda: MODELS.build(dict(type='AcmeNet'))))
    loaded = [p.name for p in loaded_plugins() if p.loaded]
    assert 'resfusion_unet' in loaded
    assert f"Plugins loaded: {', '.join(loaded)}; " in message
    assert "failed to load: acme (ImportError: No module named 'acme_deps')." in message


def test_no_close_name_lists_the_registry():
    message = explain_unknown_type(_raised(lambda: MODELS.build(
        dict(type='Resfusion', backbone=TINY_BACKBONE, fuser=dict(type='qqqq'),
             task=dict(type='restoration')))))
    assert "unknown fuser type 'qqqq' (registry rf::fuser)" in message
    assert 'No registered name is close' in message and 'concat' in message


def test_other_errors_are_not_explained():
    assert explain_unknown_type(KeyError('model')) is None
    assert explain_unknown_type(ValueError('bad value')) is None


def test_error_classes_print_plain_messages():
    assert str(UnknownTypeError('unknown model type x')) == 'unknown model type x'
    assert str(ConfigKeyError("a.py has no 'model'")) == "a.py has no 'model'"
    assert isinstance(ConfigKeyError('x'), KeyError)


# --------------------------------------------------------------------------- config keys


def test_require_keys_names_every_missing_nested_key():
    cfg = Config(dict(model=dict(type='Resfusion'), train_dataloader=dict(batch_size=1),
                      val_dataloader=None))
    with pytest.raises(ConfigKeyError) as info:
        require_keys(cfg, ['model', 'train_dataloader.dataset', 'train_dataloader.batch_size',
                           'optim_wrapper', 'val_dataloader'], 'configs/x.py', 'training')
    text = str(info.value)
    assert text.startswith("configs/x.py has no 'train_dataloader.dataset', no 'optim_wrapper' "
                           "and no 'val_dataloader' (it is None)")
    assert text.endswith('(needed for training)')
    assert info.value.keys == ['train_dataloader.dataset', 'optim_wrapper', 'val_dataloader']
    assert one_line_error(info.value) == text


def test_require_keys_passes_on_a_complete_config():
    cfg = Config.fromfile(str(REPO_ROOT / 'configs' / 'lol.py'))
    require_keys(cfg, ['model.backbone', 'train_dataloader.dataset.pipeline.0.type',
                       'param_scheduler.0.end'], 'configs/lol.py', 'training')


def test_unknown_override_keys_on_a_real_config():
    cfg = Config.fromfile(str(REPO_ROOT / 'configs' / 'lol.py'))
    valid = {'train_dataloader.dataset.data_root': '/data', 'param_scheduler.0.end': 10,
             'train_dataloader.dataset.pipeline.1.transforms.0.height': 64}
    bad = {'train_dataloader.dataset.data_rot': '/data', 'param_scheduler.3.end': 10,
           'model.backbone.zzz_unheard_of': 1, 'train_datalodaer.batch_size': 2}
    warnings = unknown_override_keys(cfg, {**valid, **bad})
    assert len(warnings) == len(bad)
    assert warnings[0] == ("--cfg-options train_dataloader.dataset.data_rot: no such key "
                           "'train_dataloader.dataset.data_rot' in the config; did you mean "
                           "train_dataloader.dataset.data_root?")
    assert warnings[1].startswith('--cfg-options param_scheduler.3.end: param_scheduler is a '
                                  'list of 1 item(s)')
    assert 'model.backbone has type, dim' in warnings[2] and 'adds it' in warnings[2]
    assert warnings[3].endswith('did you mean train_dataloader.batch_size?')
    cfg.merge_from_dict(valid)  # MMEngine agrees that the valid keys exist
    assert cfg.param_scheduler[0].end == 10


# --------------------------------------------------------------------------- CLI errors


class _CorruptImages(torch.utils.data.Dataset):
    """Reads its images with rf's pipeline; module level so that workers can unpickle it."""

    def __init__(self, root: Path) -> None:
        with DefaultScope.overwrite_default_scope('rf'):
            self.dataset = DATASETS.build(dict(type='PairedImageDataset', data_root=str(root),
                                               pipeline=[dict(type='LoadRestorationImages')]))

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, index):
        return self.dataset[index]


class _Buggy(torch.utils.data.Dataset):
    def __len__(self) -> int:
        return 1

    def __getitem__(self, index):
        return {'x': 1 / 0}


def _first_batch_error(dataset) -> BaseException:
    loader = torch.utils.data.DataLoader(dataset, batch_size=1, num_workers=1,
                                         collate_fn=pseudo_collate)
    return _raised(lambda: next(iter(loader)))


def test_worker_wrapped_image_error_gives_the_original_message(tmp_path):
    root = _paired_folder(tmp_path, corrupt=True)
    exc = _first_batch_error(_CorruptImages(root))
    assert isinstance(exc, ImageReadError)
    assert 'DataLoader worker process 0' in str(exc)
    path = root / 'low' / '0.png'
    assert one_line_error(exc) == (f'Cannot decode image file {path}: not an image, or a '
                                   'truncated one.')


def test_worker_wrapped_bug_keeps_its_traceback():
    exc = _first_batch_error(_Buggy())
    assert isinstance(exc, ZeroDivisionError)
    assert one_line_error(exc) is None


def test_one_line_error_kinds(tmp_path):
    class DataError(ValueError):
        rf_user_error = True

    missing = tmp_path / 'nope.py'
    assert one_line_error(_raised(lambda: open(missing))) == \
        f'No such file or directory: {missing}'
    assert one_line_error(UnsafeCheckpointError('x.pth pickles os.system')) == \
        'x.pth pickles os.system'
    assert one_line_error(DataError('sample 3 is empty')) == 'sample 3 is empty'
    assert one_line_error(ValueError('sample 3 is empty')) is None
    assert one_line_error(KeyError('model')) is None
    assert one_line_error(ImageReadError('a\nb')) == 'a\nb'


def test_run_cli_exit_codes_and_stderr(capsys):
    def bad_input():
        raise ImageReadError('Cannot read image file x.png: the file is empty.')

    assert run_cli(bad_input) == 1
    assert capsys.readouterr().err == 'error: Cannot read image file x.png: the file is empty.\n'

    def interrupted():
        raise KeyboardInterrupt

    assert run_cli(interrupted) == 130
    assert capsys.readouterr().err == 'error: interrupted\n'

    assert run_cli(lambda: None) == 0
    assert run_cli(lambda: 3) == 3
    assert capsys.readouterr().err == ''


def test_run_cli_keeps_bugs_and_system_exit():
    def bug():
        raise AttributeError('NoneType has no attribute shape')

    with pytest.raises(AttributeError):
        run_cli(bug)

    def leave():
        raise SystemExit(2)

    with pytest.raises(SystemExit) as info:
        run_cli(leave)
    assert info.value.code == 2
