"""What DDPM and DDIM share: integer timesteps, alpha_bar at this and the next visited step, x0_hat.

Taught in: notebooks/02_samplers.ipynb.
"""
from __future__ import annotations

from ..grids import discrete_timesteps
from ..schedules import Schedule
from .base import Sampler
from .common import eps_from_x0, x0_from_eps

__all__ = ["DiscreteSampler"]


class DiscreteSampler(Sampler):
    """Visits ``discrete_timesteps(T, steps, spacing)``; the step after the last lands on the clean data."""

    def __init__(self, schedule: Schedule, steps: int | None = None, *, spacing: str = "trailing",
                 clip_x0: float | None = None):
        super().__init__(schedule, steps or schedule.T)
        self.clip_x0 = clip_x0
        self.timesteps = [float(t) for t in discrete_timesteps(schedule.T, self.steps, spacing)]
        self.t_final = -1.0  # alpha_bar_{-1} = 1: the clean data

    def step(self, state: dict, x: dict, model_out: dict, i: int) -> dict:
        ab = self.schedule.alphas_cumprod
        t, prev = int(self.timesteps[i]), int(self.next_time(i))
        ab_t = float(ab[t])
        ab_prev = float(ab[prev]) if prev >= 0 else 1.0
        eps = model_out
        x0 = x0_from_eps(x, eps, ab_t**0.5, (1 - ab_t) ** 0.5, self.clip_x0)
        if self.clip_x0 is not None:
            eps = eps_from_x0(x, x0, ab_t**0.5, (1 - ab_t) ** 0.5)
        state["x0"] = x0
        return self.update(state, x, x0, eps, ab_t, ab_prev, last=prev < 0)

    def update(self, state, x, x0, eps, ab_t, ab_prev, last):  # pragma: no cover - abstract
        raise NotImplementedError
