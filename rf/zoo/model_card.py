"""``MODEL_CARD.md``: what a published model is, what it was trained on and how, how well it
scores under which protocol, its licence, and how to load it."""
from typing import Dict, List, Optional, Tuple

from rf.zoo.run_records import describe_protocol

RF_LICENCE = ('Apache-2.0, as rf itself (see NOTICE: weights you train with rf are yours to '
              'license; this is the default a published card states).')
AUTHORS_LICENCE = ("CC BY-NC-SA 4.0: these weights were converted from the authors' checkpoint "
                   '(tools/convert_official.py) and keep the licence under which they distribute '
                   'it (github.com/nkicsl/Resfusion): non-commercial use, attribution, the same '
                   'licence for derivatives.')
_SPLIT_KEYS = ('type', 'data_root', 'split', 'degraded_dir', 'gt_dir', 'mask_dir', 'ann_file',
               'data_prefix', 'domain_a', 'domain_b', 'image_size')


def _short(spec) -> str:
    """``Type(key=value, ...)`` of a config dict, nested dicts and pipelines left out."""
    if not isinstance(spec, dict):
        return repr(spec)
    args = ', '.join(f'{k}={v!r}' for k, v in spec.items()
                     if k != 'type' and not isinstance(v, (dict, list)))
    return f'{spec.get("type", "?")}({args})'


def _datasets(spec) -> List[dict]:
    """The leaf dataset configs under wrappers (``dataset=``, ``datasets=[...]``)."""
    if not isinstance(spec, dict):
        return []
    inner = spec.get('datasets') or ([spec['dataset']] if isinstance(spec.get('dataset'), dict)
                                     else [])
    return [leaf for child in inner for leaf in _datasets(child)] if inner else [spec]


def data_lines(cfg) -> List[str]:
    lines = []
    for phase in ('train', 'val', 'test'):
        loader = cfg.get(f'{phase}_dataloader') or {}
        for dataset in _datasets(loader.get('dataset')):
            fields = ', '.join(f'{k}={dataset[k]!r}' for k in _SPLIT_KEYS[1:] if k in dataset)
            lines.append(f'- {phase}: `{dataset.get("type", "?")}` {fields}'.rstrip())
    return lines or ['- not recorded in the config']


def training_lines(cfg, meta: dict, machine: Optional[str]) -> List[str]:
    train_cfg = cfg.get('train_cfg') or {}
    budget = (f'{train_cfg["max_iters"]} iterations' if 'max_iters' in train_cfg else
              f'{train_cfg["max_epochs"]} epochs' if 'max_epochs' in train_cfg else 'not recorded')
    lines = [f'- schedule: `{train_cfg.get("type", "?")}`, {budget}']
    if 'iter' in meta or 'epoch' in meta:
        lines.append(f'- these weights: iteration {meta.get("iter", "?")}, epoch '
                     f'{meta.get("epoch", "?")}' + (f', saved {meta["time"]}' if 'time' in meta
                                                    else ''))
    loader = cfg.get('train_dataloader') or {}
    if 'batch_size' in loader:
        lines.append(f'- batch size per process: {loader["batch_size"]}')
    optim = (cfg.get('optim_wrapper') or {}).get('optimizer')
    if optim:
        lines.append(f'- optimizer: `{_short(optim)}`')
    hooks = [h.get('type') for h in cfg.get('custom_hooks') or [] if isinstance(h, dict)]
    if 'EMAHook' in hooks:
        lines.append('- moving average of the weights: EMAHook (the published weights)')
    if 'seed' in meta:
        lines.append(f'- seed: {meta["seed"]}')
    lines.append(f'- machine: {machine or "not recorded (no training log beside the checkpoint)"}')
    return lines


def metric_lines(metrics: Dict[str, Tuple[float, str]]) -> List[str]:
    if not metrics:
        return ['No metrics recorded. Publish with `--metric NAME=VALUE` (e.g. '
                '`--metric PSNR@lol=23.1`) or from the checkpoint\'s work dir, where the '
                'validation logs and tools/test.py\'s metrics.json are read.']
    lines = ['| metric | value | protocol | source |', '|---|---|---|---|']
    for key, (value, source) in metrics.items():
        shown = f'{value:.4f}' if isinstance(value, float) else str(value)
        lines.append(f'| {key} | {shown} | {describe_protocol(key)} | {source} |')
    return lines


def licence_lines(converted: bool, started_from: Optional[str]) -> List[str]:
    lines = [AUTHORS_LICENCE if converted else RF_LICENCE]
    if started_from and not converted:
        lines.append(f'Training started from `{_shown_path(started_from)}` (load_from): that '
                     "file's licence applies too; weights converted from the authors' checkpoint "
                     'keep CC BY-NC-SA 4.0 through fine-tuning.')
    return lines + ['The data the model was trained on may carry terms of its own.']


def _shown_path(path: str) -> str:
    return path if '://' in path else path.replace('\\', '/').rsplit('/', 1)[-1]


def render_model_card(name: str, weights_file: str, sha256: str, weights_kind: str, cfg,
                      meta: dict, metrics: Dict[str, Tuple[float, str]],
                      machine: Optional[str], parameters: int,
                      started_from: Optional[str] = None) -> str:
    """The card's Markdown text (deterministic for the same inputs)."""
    model = cfg.get('model') or {}
    converted = 'converted_from' in meta
    task = (model.get('task') or {}).get('type', 'restoration')
    sections = [
        f'# {name}', '',
        f'A Resfusion model ({task}) published with rf\'s `tools/publish_model.py` '
        '(docs/model_zoo.md).', '',
        '## Files', '',
        '| file | what |', '|---|---|',
        f'| `{weights_file}` | the weights: {weights_kind}; safetensors, sha256 `{sha256}` |',
        '| `config.py` | the resolved config the weights were trained with |',
        '| `MODEL_CARD.md` | this card |', '',
        '## Task and network', '',
        f'- task: `{task}`; model `{model.get("type", "?")}`, target `{model.get("target", "?")}`, '
        f'schedule `{_short(model.get("schedule"))}`',
        f'- backbone: `{_short(model.get("backbone"))}`',
        f'- fuser: `{_short(model.get("fuser"))}`',
        f'- parameters: {parameters:,}', '',
        '## Data', '', *data_lines(cfg), '',
        '## Training', '',
        *(['- converted from the authors\' checkpoint '
           f'`{meta["converted_from"]}` (tools/convert_official.py), not trained with rf']
          if converted else training_lines(cfg, meta, machine)), '',
        '## Metrics', '', *metric_lines(metrics), '',
        '## Licence', '', *licence_lines(converted, started_from), '',
        '## Loading', '',
        '```python',
        'from rf.inference import init_model, restore_image',
        f"model = init_model('config.py', '{weights_file}', device='cpu')",
        '```', '',
        f'or `python tools/restore.py config.py {weights_file} INPUT OUTDIR`; from the Hub, '
        'the weights path is `hf://OWNER/REPO` (docs/model_zoo.md).', '']
    return '\n'.join(sections)
