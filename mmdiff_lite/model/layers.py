"""Small building blocks shared by the video and the audio halves.

* :func:`group_norm`: GroupNorm with 32 groups (the authors' setting), fewer when the channel count
  is not a multiple of 32 (tiny models): the largest power of two <= 32 dividing the channels.
* :func:`zero_init`: zero a layer's parameters, so a fresh residual branch is the identity.
* :class:`ResBranch`: the residual block of one modality, written once for both.

Taught in: notebooks/04_coupled_unet.ipynb
"""
from __future__ import annotations

import math
from typing import Callable

import torch
from torch import nn
import torch.nn.functional as F

__all__ = ["group_norm", "norm_groups", "zero_init", "ResBranch"]


def norm_groups(channels: int, groups: int = 32) -> int:
    """Groups used for ``channels``: ``gcd(groups, channels)``, i.e. 32 for every multiple of 32.

    Taught in: notebooks/04_coupled_unet.ipynb
    """
    return math.gcd(groups, channels)


def group_norm(channels: int, groups: int = 32) -> nn.GroupNorm:
    """GroupNorm over ``channels`` with :func:`norm_groups` groups (affine, eps 1e-5)."""
    return nn.GroupNorm(norm_groups(channels, groups), channels)


def zero_init(module: nn.Module) -> nn.Module:
    """Set every parameter of ``module`` to zero and return it."""
    for p in module.parameters():
        nn.init.zeros_(p)
    return module


def broadcast_channels(v: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """View a per-channel ``(B, C)`` tensor so it broadcasts against ``like`` ``(B, C, ...)``."""
    return v.view(*v.shape, *([1] * (like.dim() - 2)))


class ResBranch(nn.Module):
    """One modality's residual block, conditioned on t by a per-channel scale and shift.

    ``x -> GN -> SiLU -> conv_in -> resample -> GN * (1 + scale) + shift -> SiLU -> dropout
    -> conv_out (1x1, zero-initialised)``, added to ``skip(resample(x))``.
    ``conv_in`` is the modality's 3-wide convolution (2D+1D for video, dilated 1D for audio);
    ``pointwise`` makes its 1x1 convolutions (the output layer and, when the width changes, the
    skip). As in the authors' code, ``conv_in`` runs at the block's *input* resolution and the
    resampling follows it (down-sampling blocks convolve before pooling, up-sampling blocks before
    repeating).

    Taught in: notebooks/04_coupled_unet.ipynb
    """

    def __init__(self, in_ch: int, out_ch: int, conv_in: nn.Module, pointwise: Callable[[int, int], nn.Module],
                 resample: nn.Module | None = None, dropout: float = 0.0, groups: int = 32):
        super().__init__()
        self.norm_in = group_norm(in_ch, groups)
        self.resample = resample if resample is not None else nn.Identity()
        self.conv_in = conv_in
        self.norm_out = group_norm(out_ch, groups)
        self.dropout = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
        self.conv_out = zero_init(pointwise(out_ch, out_ch))
        self.skip = pointwise(in_ch, out_ch) if in_ch != out_ch else nn.Identity()

    def forward(self, x: torch.Tensor, scale: torch.Tensor, shift: torch.Tensor) -> torch.Tensor:
        h = F.silu(self.norm_in(x))
        h = self.resample(self.conv_in(h))  # conv at the input resolution, then resample
        h = self.norm_out(h) * (1 + broadcast_channels(scale, h)) + broadcast_channels(shift, h)  # GN(h)(1+s)+b
        h = self.conv_out(self.dropout(F.silu(h)))
        return self.skip(self.resample(x)) + h
