"""Generate audio-video pairs with a coupled U-Net and any sampler of the kit.

Taught in: notebooks/07_joint_sampling.ipynb.
"""
from __future__ import annotations

import contextlib
from typing import Callable

import torch
from tqdm.auto import tqdm

from ..diffusion import Schedule, linear_schedule, sample
from ..utils import make_generator

__all__ = ["model_fn_of", "generate"]


def model_fn_of(model: torch.nn.Module, shift_generator: torch.Generator | None = None,
                autocast: bool | None = None) -> Callable:
    """Wrap a coupled U-Net as a ``model_fn(x, t) -> eps`` for :func:`mmdiff_lite.sample`.

    RS-MMA shifts are drawn from ``shift_generator`` (reproducible sampling); on CUDA the network runs
    under autocast (bf16 where supported) unless ``autocast=False``.
    """
    device = next(model.parameters()).device
    use_amp = device.type == "cuda" if autocast is None else autocast
    dtype = torch.bfloat16 if device.type == "cuda" and torch.cuda.is_bf16_supported() else torch.float16

    def fn(x: dict, t: torch.Tensor) -> dict:
        ctx = torch.autocast(device.type, dtype=dtype) if use_amp else contextlib.nullcontext()
        with ctx:
            out = model(x, t, shift_generator=shift_generator)
        return {k: v.float() for k, v in out.items()}

    return fn


@torch.no_grad()
def generate(model: torch.nn.Module, n: int, *, method: str = "dpm_solver", steps: int = 20, seed: int = 0,
             schedule: Schedule | None = None, batch_size: int = 16, progress: bool = True,
             **options) -> dict:
    """``n`` pairs ``{"video": (n, F, C, H, W), "audio": (n, C, T)}`` in [-1, 1], on the CPU.

    Batch ``b`` starts from noise drawn with seed ``(seed, b)``, so a seed fixes the pairs for a given
    ``batch_size``.  ``options`` go to the sampler (e.g. ``order=3`` for DPM-Solver).
    Taught in: notebooks/07_joint_sampling.ipynb.
    """
    if n < 1:
        raise ValueError("n must be at least 1")
    schedule = schedule or linear_schedule()
    device = next(model.parameters()).device
    cfg = model.config
    was_training = model.training
    model.eval()
    out = {"video": [], "audio": []}
    batches = range(0, n, batch_size)
    for b, start in enumerate(tqdm(batches, desc=f"{method} x{steps}", disable=not progress, leave=False)):
        m = min(batch_size, n - start)
        gen = make_generator(seed * 100_003 + b, device)
        shapes = {"video": (m, *cfg.video_shape), "audio": (m, *cfg.audio_shape)}
        fn = model_fn_of(model, shift_generator=make_generator(seed * 100_003 + b + 7, device))
        x = sample(fn, shapes, schedule=schedule, method=method, steps=steps, generator=gen, device=device, **options)
        for k in out:
            out[k].append(x[k].clamp(-1, 1).float().cpu())
    model.train(was_training)
    return {k: torch.cat(v) for k, v in out.items()}
