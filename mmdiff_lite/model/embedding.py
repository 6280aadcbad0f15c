"""The timestep embedding both halves of the coupled U-Net share.

The network is told the diffusion step t (a float in discrete-step units, 0 ... T-1; fractional
values are fine, e.g. for DPM-Solver) as a sinusoidal code, then a small MLP.

Taught in: notebooks/04_coupled_unet.ipynb
"""
from __future__ import annotations

import math

import torch
from torch import nn

__all__ = ["timestep_embedding", "TimestepEmbedding"]


def timestep_embedding(t: torch.Tensor, dim: int, max_period: float = 10000.0) -> torch.Tensor:
    """Sinusoidal code of the timesteps ``t`` (shape ``(B,)``, float) -> ``(B, dim)``.

    Equation (Transformer positional code, used by DDPM/ADM for t):
    ``emb_i = cos(t * w_i)`` for the first half, ``sin(t * w_i)`` for the second,
    with frequencies ``w_i = max_period^(-i / (dim/2))``.

    Taught in: notebooks/04_coupled_unet.ipynb
    """
    if t.dim() != 1:
        raise ValueError(f"timesteps must have shape (B,), got {tuple(t.shape)}: pass one t per pair")
    half = dim // 2
    i = torch.arange(half, device=t.device, dtype=torch.float32)
    freqs = torch.exp(-math.log(max_period) * i / half)  # w_i = max_period^(-i/half)
    angles = t.float()[:, None] * freqs[None]  # t * w_i
    emb = torch.cat([torch.cos(angles), torch.sin(angles)], dim=1)
    if dim % 2:  # odd width: pad one zero column
        emb = torch.cat([emb, emb.new_zeros(len(t), 1)], dim=1)
    return emb


class TimestepEmbedding(nn.Module):
    """Sinusoidal code of t followed by Linear - SiLU - Linear (width ``dim`` -> ``emb_dim``).

    Taught in: notebooks/04_coupled_unet.ipynb
    """

    def __init__(self, dim: int, emb_dim: int):
        super().__init__()
        self.dim = dim
        self.mlp = nn.Sequential(nn.Linear(dim, emb_dim), nn.SiLU(), nn.Linear(emb_dim, emb_dim))

    def forward(self, t: torch.Tensor) -> torch.Tensor:
        code = timestep_embedding(t, self.dim)
        return self.mlp(code.to(self.mlp[0].weight.dtype))
