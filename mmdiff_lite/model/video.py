"""The video half's layers: the factorised 2D+1D convolution, resampling and residual branch.

Video features inside the network are ``(B, C, F, H, W)`` (channels first, frames as a depth axis),
so that GroupNorm, pooling and convolutions apply without reshaping; the model converts from and to
the kit's ``(B, F, C, H, W)`` at its input and output. A 3x3 convolution *per frame* is a 3D
convolution with kernel (1, 3, 3), and a k=3 convolution *across frames per pixel* one with kernel
(3, 1, 1): the same parameters as a Conv2d and a Conv1d, without any reshape.

Taught in: notebooks/04_coupled_unet.ipynb
"""
from __future__ import annotations

import torch
from torch import nn
import torch.nn.functional as F

from .layers import ResBranch

__all__ = ["VideoConv", "VideoResample", "video_pointwise", "video_branch", "conv3d_equivalent"]


class VideoConv(nn.Module):
    """Factorised "2D+1D" convolution: a k x k conv within each frame, then a k conv across frames.

    Receptive field k x k x k like a 3D convolution, at ``(9 Cin Cout + 3 Cout^2)`` instead of
    ``27 Cin Cout`` weights for k = 3 (see :func:`mmdiff_lite.model.cost.conv_cost`).

    Taught in: notebooks/04_coupled_unet.ipynb
    """

    def __init__(self, in_ch: int, out_ch: int, kernel: int = 3, temporal_padding: str = "zeros"):
        super().__init__()
        p = kernel // 2
        self.spatial = nn.Conv3d(in_ch, out_ch, (1, kernel, kernel), padding=(0, p, p))
        # "circular" treats the clip's frames as a ring: the last frame's neighbour is the first
        self.temporal = nn.Conv3d(out_ch, out_ch, (kernel, 1, 1), padding=(p, 0, 0), padding_mode=temporal_padding)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.temporal(self.spatial(x))


def conv3d_equivalent(in_ch: int, out_ch: int, kernel: int = 3) -> nn.Conv3d:
    """The full 3D convolution with the same receptive field as :class:`VideoConv` (for comparison).

    Taught in: notebooks/04_coupled_unet.ipynb
    """
    return nn.Conv3d(in_ch, out_ch, kernel, padding=kernel // 2)


class VideoResample(nn.Module):
    """Halve (``"down"``: 2x2 average pooling) or double (``"up"``: nearest) the frame size of ``(B, C, F, H, W)``
    features (frames kept) or of ``(N, C, H, W)`` frames (the upsampler's)."""

    def __init__(self, mode: str):
        super().__init__()
        if mode not in ("up", "down"):
            raise ValueError(f"mode={mode!r}: use 'up' or 'down'")
        self.mode = mode

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        factor = (1, 2, 2) if x.dim() == 5 else (2, 2)
        if self.mode == "down":
            return (F.avg_pool3d if x.dim() == 5 else F.avg_pool2d)(x, factor)
        return F.interpolate(x, scale_factor=factor, mode="nearest")

    def extra_repr(self) -> str:
        return self.mode


def video_pointwise(in_ch: int, out_ch: int) -> nn.Conv3d:
    """A 1x1x1 convolution (a per-voxel linear map)."""
    return nn.Conv3d(in_ch, out_ch, 1)


def video_branch(in_ch: int, out_ch: int, updown: str | None = None, dropout: float = 0.0,
                 groups: int = 32, temporal_padding: str = "zeros") -> ResBranch:
    """The video residual branch: GN, SiLU, [resample], 2D+1D conv, scale/shift, SiLU, 1x1 conv.

    Taught in: notebooks/04_coupled_unet.ipynb
    """
    resample = VideoResample(updown) if updown else None
    conv = VideoConv(in_ch, out_ch, temporal_padding=temporal_padding)
    return ResBranch(in_ch, out_ch, conv, video_pointwise, resample, dropout, groups)
