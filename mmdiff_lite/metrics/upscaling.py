"""Scores of an upscaled clip: flicker between neighbouring frames, and fidelity to its low-resolution input.

* :func:`temporal_flicker`: the mean absolute difference of neighbouring frames, mean |v_{f+1} − v_f|. A ball that
  moves changes some pixels from frame to frame in any video; an upsampler that draws each frame's details anew
  adds changes of its own. :func:`flicker_excess` subtracts the flicker of a bicubic upscale of the same input
  (which adds no detail, so no flicker of its own): what is left is the flicker the upsampler added.
* :func:`psnr` and :func:`ssim` of the output area-downsampled back to the input's size against the input: an
  upsampler must add detail without changing what the low-resolution frame shows. PSNR = 10 log10(peak² / MSE)
  with the peak-to-peak range 2 of [-1, 1] values; SSIM on the frames mapped to [0, 1] (its luminance term depends
  on absolute means, so it is not the same on [-1, 1]) with an 11×11 Gaussian window (σ = 1.5), C1 = 0.01²,
  C2 = 0.03², per channel and frame, averaged (Wang et al. 2004).

Taught in: notebooks/11_super_resolution.ipynb
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from ..model.sr import downsample_frames

__all__ = ["temporal_flicker", "bicubic_upscale", "flicker_excess", "psnr", "ssim", "input_fidelity"]


def temporal_flicker(video: torch.Tensor) -> torch.Tensor:
    """Per clip, mean |v_{f+1} − v_f| over frames, channels and pixels: ``(B, F, C, H, W)`` -> ``(B,)``."""
    if video.dim() != 5 or video.shape[1] < 2:
        raise ValueError(f"flicker needs clips (B, F, C, H, W) with F >= 2, got {tuple(video.shape)}")
    return (video[:, 1:].float() - video[:, :-1].float()).abs().flatten(1).mean(1)


def bicubic_upscale(video: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """``(..., C, h, w)`` frames upscaled bicubically to ``size``, clamped to [-1, 1] (the baseline upscale)."""
    lead = video.shape[:-3]
    x = F.interpolate(video.reshape(-1, *video.shape[-3:]).float(), size=size, mode="bicubic", align_corners=False)
    return x.clamp(-1, 1).reshape(*lead, *x.shape[-3:])


def flicker_excess(upscaled: torch.Tensor, low: torch.Tensor) -> torch.Tensor:
    """Per clip, the flicker of ``upscaled`` minus that of a bicubic upscale of ``low`` (the flicker it added)."""
    return temporal_flicker(upscaled) - temporal_flicker(bicubic_upscale(low, upscaled.shape[-2:]))


def psnr(a: torch.Tensor, b: torch.Tensor, peak: float = 2.0) -> torch.Tensor:
    """Per clip PSNR in dB of two batches ``(B, ...)`` of values in [-1, 1]: 10 log10(peak² / MSE)."""
    mse = ((a.float() - b.float()) ** 2).flatten(1).mean(1)
    return 10 * torch.log10(peak ** 2 / mse.clamp_min(1e-12))


def _gaussian_window(size: int = 11, sigma: float = 1.5) -> torch.Tensor:
    x = torch.arange(size, dtype=torch.float64) - (size - 1) / 2
    g = torch.exp(-x ** 2 / (2 * sigma ** 2))
    g = g / g.sum()
    return (g[:, None] * g[None, :]).float()


def ssim(a: torch.Tensor, b: torch.Tensor, window: int = 11, sigma: float = 1.5) -> torch.Tensor:
    """Per clip mean SSIM of two batches of clips ``(B, F, C, H, W)`` (or images ``(B, C, H, W)``):

        SSIM = ((2 μ_a μ_b + C1)(2 σ_ab + C2)) / ((μ_a² + μ_b² + C1)(σ_a² + σ_b² + C2))

    on values in [-1, 1] mapped to [0, 1], with local statistics under a Gaussian window (valid positions only),
    averaged over positions, channels and frames. Frames smaller than the window use a window of the frame's
    size."""
    if a.shape != b.shape:
        raise ValueError(f"SSIM needs equal shapes, got {tuple(a.shape)} and {tuple(b.shape)}")
    lead = a.shape[0]
    x = (a.reshape(-1, 1, *a.shape[-2:]).float() + 1) / 2
    y = (b.reshape(-1, 1, *b.shape[-2:]).float() + 1) / 2
    size = min(window, *a.shape[-2:])
    w = _gaussian_window(size, sigma)[None, None].to(x.device)
    mu_x, mu_y = F.conv2d(x, w), F.conv2d(y, w)
    sxx = F.conv2d(x * x, w) - mu_x ** 2
    syy = F.conv2d(y * y, w) - mu_y ** 2
    sxy = F.conv2d(x * y, w) - mu_x * mu_y
    c1, c2 = 0.01 ** 2, 0.03 ** 2
    s = ((2 * mu_x * mu_y + c1) * (2 * sxy + c2)) / ((mu_x ** 2 + mu_y ** 2 + c1) * (sxx + syy + c2))
    return s.reshape(lead, -1).mean(1)


def input_fidelity(upscaled: torch.Tensor, low: torch.Tensor) -> dict:
    """PSNR and SSIM (per clip) of ``upscaled`` area-downsampled to ``low``'s size against ``low``."""
    back = downsample_frames(upscaled.float(), tuple(low.shape[-2:]))
    return {"psnr": psnr(back, low), "ssim": ssim(back, low)}
