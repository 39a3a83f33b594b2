"""Base beta schedules, one small file each, registered in ``rf.registry.NOISE_SCHEDULES``.

A schedule is a function ``f(T) -> torch.float64 tensor of shape (T,)`` holding ``β_1..β_T``.
Importing this package registers every first-party schedule (it is the registry's location).
"""
from rf.diffusion.schedules.cosine import cosine_betas
from rf.diffusion.schedules.linear import linear_betas
from rf.diffusion.schedules.scaled_linear import scaled_linear_betas
from rf.diffusion.schedules.sigmoid import sigmoid_betas

__all__ = ['cosine_betas', 'linear_betas', 'scaled_linear_betas', 'sigmoid_betas']
