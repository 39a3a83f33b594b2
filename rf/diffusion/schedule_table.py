"""The DDPM tables of a sequence of steps ``1..N``: the one table class every schedule uses.

From ``β_t`` (and, when they are known more exactly than ``1 - β_t`` and its cumulative product
give them, ``α_t`` and ``ᾱ_t``): ``ᾱ_{t-1}``, ``√α_t``, ``√ᾱ_t``, ``√(1-ᾱ_t)``, the posterior
variance ``β̃_t = β_t (1 - ᾱ_{t-1}) / (1 - ᾱ_t)`` and the resnoise weight of ``R``,
``(1 - √α_t) √(1 - ᾱ_t) / β_t``. The truncated schedule is one such table; the sub-sequence a
sampler with fewer steps walks is another (:meth:`ScheduleTable.sub_sequence`).

Tables are computed and stored in float64 and cast to the caller's device and dtype on use.
"""
from typing import Dict, Optional, Sequence, Union

import torch

#: The tables :meth:`ScheduleTable.gather` serves, all over the steps ``t = 1..num_steps``.
TABLE_NAMES = (
    'betas', 'alphas', 'alphas_cumprod', 'alphas_cumprod_prev', 'sqrt_alphas',
    'sqrt_alphas_cumprod', 'sqrt_one_minus_alphas_cumprod', 'posterior_variance',
    'resnoise_coef',
)


class ScheduleTable:
    """The tables of one sequence of diffusion steps, indexed by 1-based ``t``."""

    def __init__(self, betas: torch.Tensor, alphas: Optional[torch.Tensor] = None,
                 alphas_cumprod: Optional[torch.Tensor] = None) -> None:
        self._set_tables(betas, alphas, alphas_cumprod)

    def _set_tables(self, betas: torch.Tensor, alphas: Optional[torch.Tensor] = None,
                    alphas_cumprod: Optional[torch.Tensor] = None) -> None:
        self.betas = torch.as_tensor(betas, dtype=torch.float64)
        self.alphas = 1 - self.betas if alphas is None else alphas
        self.alphas_cumprod = (torch.cumprod(self.alphas, 0) if alphas_cumprod is None
                               else alphas_cumprod)
        self.alphas_cumprod_prev = torch.cat(
            [torch.ones(1, dtype=torch.float64), self.alphas_cumprod[:-1]])
        self.sqrt_alphas = self.alphas.sqrt()
        self.sqrt_alphas_cumprod = self.alphas_cumprod.sqrt()
        self.sqrt_one_minus_alphas_cumprod = (1 - self.alphas_cumprod).sqrt()
        # β̃_t = β_t (1 - ᾱ_{t-1}) / (1 - ᾱ_t); 0 at t = 1.
        self.posterior_variance = (self.betas * (1 - self.alphas_cumprod_prev)
                                   / (1 - self.alphas_cumprod))
        # The weight of R in the resnoise: (1 - √α_t) √(1 - ᾱ_t) / β_t.
        self.resnoise_coef = ((1 - self.sqrt_alphas) * self.sqrt_one_minus_alphas_cumprod
                              / self.betas)
        self._device_cache: Dict[torch.device, Dict[str, torch.Tensor]] = {}

    @classmethod
    def sub_sequence(cls, table: 'ScheduleTable', steps: Sequence[int]) -> 'ScheduleTable':
        """The DDPM process on the steps ``τ_1 < ... < τ_S`` of ``table`` (1-based): ``ᾱ'_i =
        ᾱ_{τ_i}``, ``α'_i = ᾱ_{τ_i} / ᾱ_{τ_{i-1}}`` (``ᾱ_{τ_0} = 1``), ``β'_i = 1 - α'_i`` (the
        respacing of improved DDPM)."""
        index = torch.as_tensor(list(steps), dtype=torch.long) - 1
        alphas_cumprod = table.alphas_cumprod[index].clone()
        prev = torch.cat([torch.ones(1, dtype=torch.float64), alphas_cumprod[:-1]])
        alphas = alphas_cumprod / prev
        return cls(1 - alphas, alphas, alphas_cumprod)

    @property
    def num_steps(self) -> int:
        """The steps of this table."""
        return len(self.betas)

    def tables_on(self, device: Union[str, torch.device]) -> Dict[str, torch.Tensor]:
        """Every table on ``device``, in float64 (float32 where the device has no float64)."""
        device = torch.device(device)
        if device not in self._device_cache:
            dtype = torch.float32 if device.type == 'mps' else torch.float64
            self._device_cache[device] = {
                name: getattr(self, name).to(device=device, dtype=dtype) for name in TABLE_NAMES}
        return self._device_cache[device]

    def gather(self, name: str, t: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
        """Table ``name`` at 1-based steps ``t`` (shape (B,)), shaped to broadcast against ``like``.

        The value is cast to ``like``'s device and dtype after indexing the float64 table.
        """
        table = self.tables_on(like.device)[name]
        t = torch.as_tensor(t, device=like.device).long().reshape(-1)
        values = table[t - 1]
        return values.reshape(-1, *([1] * (like.dim() - 1))).to(like.dtype)
