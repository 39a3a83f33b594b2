"""Neural-network building blocks that several plugins share (as timm keeps ``timm.layers``).

Plugins import only the core, never each other: a block that two plugins need (a backbone and a
fuser, or two backbones) lives here.
"""
from rf.nn.context_attention import ContextAttention, check_context
from rf.nn.embeddings import SinusoidalPosEmb
from rf.nn.mask_encoding import MASK_ENCODINGS, encode_shadow_mask
from rf.nn.position_features import (
                                     MAX_FREQUENCY,
                                     POSITION_FEATURES,
                                     POSITION_FREQUENCIES,
                                     grid_position_features,
)
from rf.nn.unet_input import prepare_unet_input

__all__ = ['ContextAttention', 'MASK_ENCODINGS', 'MAX_FREQUENCY', 'POSITION_FEATURES',
           'POSITION_FREQUENCIES', 'SinusoidalPosEmb', 'check_context', 'encode_shadow_mask',
           'grid_position_features', 'prepare_unet_input']
