"""Exercises of notebooks/11_super_resolution.ipynb."""
from __future__ import annotations

from .base import exercise, within

NB = "11_super_resolution"


@exercise("11.flicker", notebook=NB, kind="write", answer="my_flicker",
          hint="difference each frame with the next along dim 1, take the absolute value, and average all but the batch")
def _flicker(fn):
    import torch

    from ..metrics.upscaling import temporal_flicker

    g = torch.Generator().manual_seed(0)
    for shape in ((2, 5, 3, 8, 8), (1, 2, 3, 4, 4)):
        v = torch.rand(shape, generator=g) * 2 - 1
        got = torch.as_tensor(fn(v), dtype=torch.float64)
        want = temporal_flicker(v).double()
        if got.shape != want.shape:
            return f"return one value per clip, shape {tuple(want.shape)}, not {tuple(got.shape)}"
        if (got - want).abs().max() > 1e-5:
            return "your flicker differs from mean |v[:, 1:] - v[:, :-1]|"
    return None


@exercise("11.static-shared", notebook=NB, kind="predict", answer="static_flicker_is_zero",
          hint="the upsampler sees one frame at a time, and DDIM with η = 0 adds no noise after x_T")
def _static(answer):
    if str(answer) not in ("True", "False"):
        return "answer True or False"
    return None if bool(answer) else "look again: identical inputs and identical starting noise, through a deterministic sampler"


@exercise("11.psnr-offset", notebook=NB, kind="predict", answer="psnr_db",
          hint="PSNR = 10 log10(peak² / MSE) with peak 2 for values in [-1, 1]; a constant error δ has MSE δ²")
def _psnr(answer):
    return within(answer, 26.02, 0.1, "your PSNR in dB")
