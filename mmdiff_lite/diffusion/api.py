"""``sample``: one entry point for every sampler of the kit (read from the one registry, :data:`METHODS`).

Taught in: notebooks/02_samplers.ipynb (and used by every notebook that generates).
"""
from __future__ import annotations

from typing import Mapping, Sequence

import torch

from ..utils import resolve_generator
from .loop import Transform, run_sampler
from .samplers.base import benchmark_table, get_sampler, load_samplers
from .samplers.common import ModelFn
from .schedules import Schedule

__all__ = ["sample", "METHODS", "initial_noise", "make_sampler", "benchmark_table"]

#: name -> sampler spec (``.factory``, ``.summary``, ``.options``, ``.benchmark``): the kit's one list of samplers.
METHODS = load_samplers()


def initial_noise(shapes: Mapping[str, Sequence[int]], generator=None, device=None,
                  dtype: torch.dtype = torch.float32) -> dict:
    """x_T ~ N(0, I) per modality, drawn in sorted key order (so a seed fixes the pair)."""
    gen = resolve_generator(generator, device or "cpu")
    if device is None:
        device = gen.device if gen is not None else torch.device("cpu")
    return {k: torch.randn(tuple(shapes[k]), generator=gen, device=device, dtype=dtype) for k in sorted(shapes)}


def make_sampler(method: str, schedule: Schedule, steps: int | None, **options):
    """The sampler ``method`` of the registry over ``schedule`` with ``steps`` model calls (NFE)."""
    spec = get_sampler(method)
    unknown = sorted(set(options) - set(spec.options))
    if unknown:
        raise ValueError(f"{method} has no option {', '.join(map(repr, unknown))}: its options are "
                         f"{', '.join(spec.options) or 'none'}")
    if steps is not None and (isinstance(steps, bool) or int(steps) != steps or steps < 1):
        raise ValueError(f"steps must be a positive integer, got {steps!r}")
    return spec.factory(schedule, None if steps is None else int(steps), **options)


def sample(model_fn: ModelFn, shapes: Mapping[str, Sequence[int]], *, schedule: Schedule, method: str,
           steps: int | None, generator: torch.Generator | int | None = None,
           x_T: Mapping[str, torch.Tensor] | None = None, device: str | torch.device | None = None,
           dtype: torch.dtype = torch.float32, progress: bool = False, transforms: Sequence[Transform] = (),
           callback=None, **options) -> dict:
    """Draw a batch of samples of every modality in ``shapes`` (name -> full shape with batch).

    ``method``: a name of :data:`METHODS` (``ddpm``: variance, spacing, clip_x0; ``ddim``: eta, spacing,
    clip_x0; ``dpm_solver``: order, solver, spacing, t_end, timesteps; ``dpm_solver++``: order, spacing,
    clip_x0, timesteps, stochastic).  ``model_fn(x: dict, t: FloatTensor[B]) -> dict`` predicts the noise of
    each modality, t in discrete-step units [0, T-1].  ``transforms`` (:mod:`mmdiff_lite.diffusion.guidance`)
    change the model's input or output at every model call: replacement and gradient guidance.
    ``callback(step, t, x, x0_hat)`` runs after each outer step and may return a dict that overwrites
    modalities.  ``generator`` (or a seed) makes it reproducible; it draws x_T and every later noise.
    """
    sampler = make_sampler(method, schedule, steps, **options)
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
    return run_sampler(model_fn, x, sampler, generator=gen, transforms=transforms, callback=callback,
                       progress=progress)
