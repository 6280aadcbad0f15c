"""The one sampling loop of the kit: model call -> guidance transforms -> sampler step.

Every sampler (:mod:`.samplers`) only says where it calls the model and how it steps; conditioning
(replacement, gradient guidance: :mod:`.guidance`) lives here, in the loop, so it works the same for all
of them.  Autograd is switched on only when a transform asks for the gradient of some model input.

Taught in: notebooks/02_samplers.ipynb, notebooks/08_zero_shot_conditioning.ipynb.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import torch

from .samplers.base import Sampler, marginal_ext
from .samplers.common import Callback, ModelFn, apply_callback, call_model, progress_iter
from .schedules import Schedule

__all__ = ["CallInfo", "Transform", "run_sampler"]


@dataclass(frozen=True)
class CallInfo:
    """Where the loop is: call ``i`` at time ``t``; the sampler's step from it lands at ``t_next``."""

    i: int
    t: float
    t_next: float
    schedule: Schedule

    @property
    def alpha_sigma(self) -> tuple[float, float]:
        """(alpha_t, sigma_t) of q(x_t | x_0) at this call."""
        return marginal_ext(self.schedule, self.t)


class Transform:
    """A guidance transform: it may change the model's input, its output, and the final result.

    ``grad_inputs`` names the modalities whose model input must carry autograd (a gradient correction);
    empty means the transform never needs a gradient, and the loop then runs without autograd.
    """

    grad_inputs: frozenset = frozenset()

    def model_input(self, x: dict, info: CallInfo) -> dict:
        return x

    def model_output(self, x: dict, out: dict, info: CallInfo) -> dict:
        return out

    def finish(self, x: dict) -> dict:
        return x


@torch.no_grad()
def run_sampler(model_fn: ModelFn, x: dict, sampler: Sampler, *, generator: torch.Generator | None = None,
                transforms: Sequence[Transform] = (), callback: Callback | None = None,
                progress: bool = False) -> dict:
    """Run ``sampler`` from the state ``x`` (at ``sampler.timesteps[0]``) to its end and return the result.

    At each of the sampler's model calls: every transform's ``model_input``, the model, every transform's
    ``model_output``, then ``sampler.step``.  ``callback(step, t, x, x0_hat)`` runs after each *outer*
    step and may return a dict that overwrites modalities.
    """
    state = sampler.start(generator)
    grad_keys = frozenset().union(*(tr.grad_inputs for tr in transforms))
    for i, t in progress_iter(enumerate(sampler.timesteps), sampler.nfe, progress, sampler.name):
        info = CallInfo(i, float(t), float(sampler.next_time(i)), sampler.schedule)
        for tr in transforms:
            x = tr.model_input(x, info)
        if grad_keys:
            with torch.enable_grad():
                x = {k: v.detach().requires_grad_(k in grad_keys) for k, v in x.items()}
                out = call_model(model_fn, x, t)
                for tr in transforms:
                    out = tr.model_output(x, out, info)
            x, out = ({k: v.detach() for k, v in d.items()} for d in (x, out))
        else:
            out = call_model(model_fn, x, t)
            for tr in transforms:
                out = tr.model_output(x, out, info)
        x = sampler.step(state, x, out, i)
        end = sampler.outer_end(i) if callback is not None else None
        if end is not None:
            x = apply_callback(callback, end[0], end[1], x, state["x0"])
    for tr in transforms:
        x = tr.finish(x)
    return x
