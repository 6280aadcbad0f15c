"""The audio half's layers: dilated 1D convolutions, resampling by ``rate`` and the residual branch.

Audio is a long 1D signal, so instead of attention the audio blocks grow their receptive field with
dilation: block after block the k=3 convolution's dilation doubles, 1, 2, 4, ..., 2^N, then wraps
(:func:`dilation_schedule`). Audio features are ``(B, C, T)``.

Taught in: notebooks/04_coupled_unet.ipynb
"""
from __future__ import annotations

import torch
from torch import nn
import torch.nn.functional as F

from .layers import ResBranch

__all__ = ["AudioResample", "audio_pointwise", "audio_branch", "dilation_schedule", "dilated_conv"]


def dilation_schedule(counter: int, max_exp: int) -> int:
    """Dilation of the audio block number ``counter``: ``2^(counter mod (N + 1))`` with N = ``max_exp``.

    Taught in: notebooks/04_coupled_unet.ipynb
    """
    return 2 ** (counter % (max_exp + 1))


def dilated_conv(in_ch: int, out_ch: int, dilation: int, kernel: int = 3) -> nn.Conv1d:
    """A length-preserving dilated 1D convolution (receptive field ``1 + (k - 1) * dilation``)."""
    return nn.Conv1d(in_ch, out_ch, kernel, padding=dilation * (kernel // 2), dilation=dilation)


class AudioResample(nn.Module):
    """Divide (``"down"``: average pooling) or multiply (``"up"``: nearest) the length by ``rate``."""

    def __init__(self, mode: str, rate: int):
        super().__init__()
        if mode not in ("up", "down"):
            raise ValueError(f"mode={mode!r}: use 'up' or 'down'")
        self.mode, self.rate = mode, rate

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.mode == "down":
            return F.avg_pool1d(x, self.rate)
        return F.interpolate(x, scale_factor=self.rate, mode="nearest")

    def extra_repr(self) -> str:
        return f"{self.mode}, rate={self.rate}"


def audio_pointwise(in_ch: int, out_ch: int) -> nn.Conv1d:
    """A 1x1 convolution over time."""
    return nn.Conv1d(in_ch, out_ch, 1)


def audio_branch(in_ch: int, out_ch: int, dilation: int, updown: str | None = None, rate: int = 4,
                 dropout: float = 0.0, groups: int = 32) -> ResBranch:
    """The audio residual branch: GN, SiLU, [resample], dilated conv, scale/shift, SiLU, 1x1 conv.

    Taught in: notebooks/04_coupled_unet.ipynb
    """
    resample = AudioResample(updown, rate) if updown else None
    return ResBranch(in_ch, out_ch, dilated_conv(in_ch, out_ch, dilation), audio_pointwise, resample, dropout, groups)
