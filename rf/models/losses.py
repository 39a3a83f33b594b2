"""Losses by name for configs (``loss=dict(type='MSELoss')``): torch's own, registered in rf."""
from torch import nn

from rf.registry import MODELS

MSELoss = MODELS.register_module(name='MSELoss', module=nn.MSELoss)
L1Loss = MODELS.register_module(name='L1Loss', module=nn.L1Loss)
