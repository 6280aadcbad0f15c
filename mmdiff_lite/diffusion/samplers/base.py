"""The sampler seam: a sampler is a time grid plus ``step``; the loop that calls the model lives outside.

In the style of diffusers' schedulers, a sampler knows

* ``timesteps``: the times at which it will call the model, one per network evaluation (NFE), in order;
* ``t_final``: where the last step lands (``-1`` means the clean data, alpha_bar = 1);
* ``step(state, x, model_out, i) -> x_next``: given the state ``x`` at ``timesteps[i]`` and the model's
  noise prediction there, the state at which the model is called next (or the result, after the last call).

Multi-stage solvers (DPM-Solver's single-step orders 2 and 3) return their intermediate points from
``step``, so the loop calls the model on *every* point the solver evaluates, and a guidance transform sees
all of them.  Samplers register themselves in :data:`SAMPLERS` (one registry for the kit: the CLI, the
sampler benchmark and the API all read it), so adding a sampler is one new file.

Taught in: notebooks/02_samplers.ipynb.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch

from ..schedules import Schedule

__all__ = ["Sampler", "SamplerSpec", "SAMPLERS", "register", "get_sampler", "benchmark_table", "marginal_ext",
           "load_samplers"]


def marginal_ext(schedule: Schedule, t: float) -> tuple[float, float]:
    """(alpha_t, sigma_t) as python floats, with t = -1 (or below) the clean data: (1, 0)."""
    if t < 0:
        return 1.0, 0.0
    a, s = schedule.marginal(float(t))
    return float(a), float(s)


class Sampler:
    """Base class.  Subclasses set ``timesteps`` (list of floats) and ``t_final`` and implement ``step``.

    ``state`` is a dict the sampler owns for one run (history of model outputs, the noise generator...);
    ``start`` makes it.  After each ``step`` the sampler leaves its data prediction in ``state["x0"]``.
    ``outer_end(i)`` says whether call ``i`` finishes one of the sampler's outer steps, and at what time
    (for the per-step ``callback`` of :func:`mmdiff_lite.sample`; a single-step solver of order 3 has 3
    calls per outer step).
    """

    name = "base"
    timesteps: list[float]
    t_final: float

    def __init__(self, schedule: Schedule, steps: int | None):
        if steps is None:
            raise ValueError(f"{self.name} needs a number of steps")
        self.schedule = schedule
        self.steps = int(steps)

    def start(self, generator: torch.Generator | None = None) -> dict:
        return {"generator": generator, "x0": None}

    def step(self, state: dict, x: dict, model_out: dict, i: int) -> dict:  # pragma: no cover - abstract
        raise NotImplementedError

    def next_time(self, i: int) -> float:
        """The time of the point that ``step(..., i)`` returns."""
        return self.timesteps[i + 1] if i + 1 < len(self.timesteps) else self.t_final

    def outer_end(self, i: int) -> tuple[int, float] | None:
        """(outer step index, time reached) when call ``i`` ends an outer step, else None."""
        return i, self.next_time(i)

    @property
    def nfe(self) -> int:
        return len(self.timesteps)


@dataclass(frozen=True)
class SamplerSpec:
    """One registry entry: the class, what it is, and the rows it contributes to the sampler benchmark."""

    name: str
    factory: Callable[..., Sampler]
    summary: str
    options: tuple[str, ...] = ()
    benchmark: tuple[tuple[str, int, dict], ...] = ()
    position: int = 100  #: where it is listed (the sampler benchmark's reference, DDPM, comes first)


#: name -> :class:`SamplerSpec`; filled by each sampler's module (see ``samplers/__init__.py``).
SAMPLERS: dict[str, SamplerSpec] = {}


def register(spec: SamplerSpec) -> SamplerSpec:
    if spec.name in SAMPLERS:
        raise ValueError(f"sampler {spec.name!r} is registered twice")
    SAMPLERS[spec.name] = spec
    return spec


def get_sampler(method: str) -> SamplerSpec:
    if method not in SAMPLERS:
        raise ValueError(f"unknown method {method!r}: use one of {', '.join(SAMPLERS)}")
    return SAMPLERS[method]


def benchmark_table() -> list[tuple[str, str, int, dict]]:
    """The sampler comparison, (label, method, steps, options) per row, in registry order."""
    return [(label, name, steps, dict(opts)) for name, spec in SAMPLERS.items() for label, steps, opts in spec.benchmark]


def load_samplers() -> dict[str, SamplerSpec]:
    """Import every module of this package (each registers its sampler) and return the registry."""
    import importlib
    import pkgutil

    from .. import samplers

    for mod in pkgutil.iter_modules(samplers.__path__):
        importlib.import_module(f"{samplers.__name__}.{mod.name}")
    ordered = sorted(SAMPLERS.values(), key=lambda spec: (spec.position, spec.name))
    SAMPLERS.clear()
    SAMPLERS.update((spec.name, spec) for spec in ordered)
    return SAMPLERS
