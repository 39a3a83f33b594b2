"""The TimmUNet encoder: any timm architecture as a ``features_only`` feature pyramid, with
optional pretrained weights from a local file (nothing is ever downloaded)."""
import difflib
from pathlib import Path
from typing import Optional

from torch import nn


def build_encoder(name: str, in_channels: int, weights: Optional[str] = None,
                  **timm_kwargs) -> nn.Module:
    """``timm.create_model(name, features_only=True, in_chans=in_channels, ...)``.

    ``weights``: a local checkpoint of the *classification* model ``name`` (a timm ``.pth``
    or ``.safetensors`` state dict, as timm's own pretrained files are). timm loads it before
    cutting the model into features, drops the classifier and adapts the first convolution
    when ``in_channels`` is not 3 (the channels are tiled and rescaled). ``timm_kwargs`` go to
    ``timm.create_model`` (e.g. ``out_indices``, ``drop_path_rate``).
    """
    import timm
    if not timm.is_model(name):
        close = difflib.get_close_matches(name, timm.list_models(), n=5, cutoff=0.6)
        raise ValueError(f'TimmUNet: timm has no architecture {name!r}'
                         + (f'; similar names: {", ".join(close)}.' if close else '.'))
    options = dict(features_only=True, in_chans=in_channels, **timm_kwargs)
    if weights is None:
        return timm.create_model(name, pretrained=False, **options)
    path = Path(weights).expanduser()
    if not path.is_file():
        raise FileNotFoundError(
            f'TimmUNet: encoder weights file {path} does not exist. Weights are never '
            f'downloaded: save the state dict of timm.create_model({name!r}) (e.g. its '
            f'pretrained file from the Hugging Face hub) there, or set encoder_weights=None to '
            f'start from random weights.')
    # source='file' makes timm take the file even for models whose weights live on a hub.
    overlay = dict(file=str(path), source='file')
    try:
        return timm.create_model(name, pretrained=True, pretrained_cfg_overlay=overlay, **options)
    except (RuntimeError, KeyError, ValueError, OSError) as error:
        reason = str(error).strip().splitlines()[0][:500]
        raise ValueError(f'TimmUNet: could not load the encoder weights {path} into the timm '
                         f'model {name!r}: {reason}') from error
