"""``sample``: one entry point for every sampler of the kit.

Taught in: notebooks/02_samplers.ipynb (and used by every notebook that generates).
"""
from __future__ import annotations

from typing import Mapping, Sequence

import torch

from ..utils import resolve_generator
from .samplers.ancestral import ddim_sample, ddpm_sample
from .samplers.common import ModelFn
from .samplers.dpm_solver import dpm_solver_pp_sample, dpm_solver_sample
from .schedules import Schedule

__all__ = ["sample", "METHODS", "initial_noise"]

METHODS = {
    "ddpm": ddpm_sample,
    "ddim": ddim_sample,
    "dpm_solver": dpm_solver_sample,
    "dpm_solver++": dpm_solver_pp_sample,
}


def initial_noise(shapes: Mapping[str, Sequence[int]], generator=None, device=None,
                  dtype: torch.dtype = torch.float32) -> dict:
    """x_T ~ N(0, I) per modality, drawn in sorted key order (so a seed fixes the pair)."""
    gen = resolve_generator(generator, device or "cpu")
    if device is None:
        device = gen.device if gen is not None else torch.device("cpu")
    return {k: torch.randn(tuple(shapes[k]), generator=gen, device=device, dtype=dtype) for k in sorted(shapes)}


def sample(model_fn: ModelFn, shapes: Mapping[str, Sequence[int]], *, schedule: Schedule, method: str,
           steps: int, generator: torch.Generator | int | None = None, x_T: Mapping[str, torch.Tensor] | None = None,
           device: str | torch.device | None = None, dtype: torch.dtype = torch.float32,
           progress: bool = False, **options) -> dict:
    """Draw a batch of samples of every modality in ``shapes`` (name -> full shape with batch).

    ``method``: ``ddpm`` (options: variance, spacing, clip_x0), ``ddim`` (eta, spacing, clip_x0),
    ``dpm_solver`` (order, solver, spacing, t_end, timesteps) or ``dpm_solver++`` (order, spacing,
    clip_x0, timesteps, stochastic).  ``model_fn(x: dict, t: FloatTensor[B]) -> dict`` predicts the noise of each
    modality, t in discrete-step units [0, T-1].  ``callback(step, t, x, x0_hat)`` may return a dict
    that overwrites modalities (replacement conditioning).  ``generator`` (or a seed) makes it
    reproducible; it draws x_T and every later noise.
    """
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}: use one of {', '.join(METHODS)}")
    if not shapes:
        raise ValueError("shapes must name at least one modality")
    sizes = {tuple(s)[0] for s in shapes.values()}
    if len(sizes) != 1:
        raise ValueError(f"all modalities must share the batch size (first dim), got {sorted(sizes)}")
    gen = resolve_generator(generator, device or "cpu")
    if x_T is None:
        x = initial_noise(shapes, gen, device, dtype)
    else:
        got = {k: tuple(v.shape) for k, v in x_T.items()}
        if got != {k: tuple(v) for k, v in shapes.items()}:
            raise ValueError(f"x_T has shapes {got} but shapes asks for {dict(shapes)}")
        x = {k: v.clone() for k, v in x_T.items()}
    if method == "ddpm" and steps is None:
        steps = schedule.T
    kwargs = dict(options, progress=progress)
    if method in ("ddpm", "ddim", "dpm_solver++"):  # the stochastic ones draw noise at every step
        kwargs["generator"] = gen
    with torch.no_grad():
        return METHODS[method](model_fn, x, schedule, steps, **kwargs)
