"""Small building blocks shared by the video and the audio halves.

* :func:`group_norm`: GroupNorm with 32 groups (the authors' setting), fewer when the channel count
  is not a multiple of 32 (tiny models): the largest power of two <= 32 dividing the channels.
* :func:`zero_init`: zero a layer's parameters, so a fresh residual branch is the identity.
* :class:`FastDropout`: dropout whose mask costs a sixth of ``bernoulli_`` on a CPU.
* :class:`ResBranch`: the residual block of one modality, written once for both. Its normalisations
  are recomputed in the backward pass instead of stored (same numbers, less memory).

Taught in: notebooks/04_coupled_unet.ipynb
"""
from __future__ import annotations

import math
from typing import Callable

import torch
from torch import nn
import torch.nn.functional as F
from torch.utils.checkpoint import checkpoint

__all__ = ["group_norm", "norm_groups", "zero_init", "FastDropout", "ResBranch"]


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


class FastDropout(nn.Module):
    """Inverted dropout with the mask drawn 16 bits per element from 64-bit random words.

    An element is kept when a uniform 16-bit integer is at least ``round(p * 65536)`` below the top,
    i.e. with probability ``1 - p'``, ``p' = round(p * 65536) / 65536`` (``|p' - p| <= 8e-6``), and
    kept elements are scaled by ``1 / (1 - p')`` so that ``E[out] = x`` exactly. Draws from the
    global torch RNG of the tensor's device, like ``nn.Dropout``; the identity in eval mode.
    """

    def __init__(self, p: float):
        super().__init__()
        if not 0.0 <= p < 1.0:
            raise ValueError(f"dropout probability {p} must be in [0, 1)")
        self.p = p
        self.cut = round(p * 65536)  # drop when u16 < cut

    def extra_repr(self) -> str:
        return f"p={self.p}"

    def mask(self, x: torch.Tensor) -> torch.Tensor:
        """Bool mask of ``x``'s shape, True where the element is kept."""
        n = x.numel()
        words = torch.empty((n + 3) // 4, dtype=torch.int64, device=x.device).random_(-2**63, None)
        u16 = words.view(torch.int16)[:n].view(x.shape)  # uniform in [-32768, 32767]
        return u16 >= self.cut - 32768  # P(keep) = 1 - cut / 65536

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.cut == 0:
            return x
        keep = self.mask(x)
        return torch.where(keep, x * (65536 / (65536 - self.cut)), 0.0)  # x * m / (1 - p')


def recompute_in_backward(enabled: bool, fn, *args):
    """``fn(*args)``; when ``enabled`` and autograd is recording, only ``args`` are kept and ``fn`` runs
    again in the backward pass instead of its intermediate tensors being stored (less memory, one more
    forward of ``fn``). ``fn`` must be deterministic given ``args``. The one checkpointing helper of the
    model: GroupNorm + SiLU (``norm_act``) and the attention blocks (``recompute``) both go through it."""
    if enabled and torch.is_grad_enabled():
        return checkpoint(fn, *args, use_reentrant=False)
    return fn(*args)


def _norm_act(norm: nn.GroupNorm, x: torch.Tensor, scale: torch.Tensor | None, shift: torch.Tensor | None):
    h = norm(x)
    if scale is not None:
        h = h * (1 + broadcast_channels(scale, h)) + broadcast_channels(shift, h)  # GN(h)(1+s)+b
    return F.silu(h)


def norm_act(norm: nn.GroupNorm, x: torch.Tensor, scale: torch.Tensor | None = None,
             shift: torch.Tensor | None = None) -> torch.Tensor:
    """``SiLU(GN(x) * (1 + scale) + shift)`` (or ``SiLU(GN(x))``), recomputed in backward when training.

    Only ``x`` is kept for the backward pass instead of the normalised and modulated tensors, so a
    residual block stores about three fewer feature maps; the recomputation costs one GroupNorm.
    """
    return recompute_in_backward(x.requires_grad, _norm_act, norm, x, scale, shift)


class ResBranch(nn.Module):
    """One modality's residual block, conditioned on t by a per-channel scale and shift.

    ``x -> GN -> SiLU -> conv_in -> resample -> GN * (1 + scale) + shift -> SiLU -> dropout
    -> conv_out (1x1, zero-initialised)``, added to ``skip(resample(x))``.
    ``conv_in`` is the modality's 3-wide convolution (2D+1D for video, dilated 1D for audio);
    ``pointwise`` makes its 1x1 convolutions (the output layer and, when the width changes, the
    skip); ``conv_out`` replaces the 1x1 output layer (the upsampler's ADM blocks use a 3x3 one). As in the authors' code, ``conv_in`` runs at the block's *input* resolution and the
    resampling follows it (down-sampling blocks convolve before pooling, up-sampling blocks before
    repeating).

    Taught in: notebooks/04_coupled_unet.ipynb
    """

    def __init__(self, in_ch: int, out_ch: int, conv_in: nn.Module, pointwise: Callable[[int, int], nn.Module],
                 resample: nn.Module | None = None, dropout: float = 0.0, groups: int = 32,
                 conv_out: nn.Module | None = None):
        super().__init__()
        self.norm_in = group_norm(in_ch, groups)
        self.resample = resample if resample is not None else nn.Identity()
        self.conv_in = conv_in
        self.norm_out = group_norm(out_ch, groups)
        self.dropout = FastDropout(dropout) if dropout > 0 else nn.Identity()
        self.conv_out = zero_init(conv_out if conv_out is not None else pointwise(out_ch, out_ch))
        self.skip = pointwise(in_ch, out_ch) if in_ch != out_ch else nn.Identity()

    def forward(self, x: torch.Tensor, scale: torch.Tensor, shift: torch.Tensor) -> torch.Tensor:
        h = norm_act(self.norm_in, x)  # SiLU(GN(x))
        h = self.resample(self.conv_in(h))  # conv at the input resolution, then resample
        h = norm_act(self.norm_out, h, scale, shift)  # SiLU(GN(h)(1+s)+b)
        h = self.conv_out(self.dropout(h))
        return self.skip(self.resample(x)) + h
