"""DPM-Solver (Lu et al. 2022), noise prediction: single-step (the authors': order 3, 20 NFE) or multistep.

Step counts are NFE (network evaluations).  The single-step solver of order k calls the network k times
per outer step; here each of those calls is one ``step`` of the seam (:mod:`.base`), so the loop that
calls the model, and every guidance transform in it, sees the intermediate points too.

Taught in: notebooks/02_samplers.ipynb.
"""
from __future__ import annotations

import math

import torch

from ..grids import solver_time_grid
from ..loop import run_sampler
from ..schedules import Schedule
from .base import Sampler, SamplerSpec, register
from .common import lincomb, randn_like, x0_from_eps
from .dpm_math import Times, dpm1, multistep_order, multistep_update, singlestep_orders, solver_grid

__all__ = ["DPMSolver", "MultistepSolver", "dpm_solver", "dpm_solver_sample", "singlestep_orders"]


class MultistepSolver(Sampler):
    """Multistep DPM-Solver (eps history) or, with ``data_pred``, DPM-Solver++ (x0_hat history)."""

    name = "dpm_solver"

    def __init__(self, schedule: Schedule, steps: int, *, order: int, spacing: str = "logSNR",
                 t_start: float | None = None, t_end: float = 0.0, timesteps=None, lower_order_final: bool = True,
                 data_pred: bool = False, clip_x0: float | None = None, stochastic: bool = False):
        grid = solver_grid(schedule, steps, spacing, t_start, t_end, timesteps)
        super().__init__(schedule, len(grid) - 1)
        self.grid = [float(g) for g in grid]
        self.timesteps, self.t_final = self.grid[:-1], self.grid[-1]
        self.order, self.lower_order_final = order, lower_order_final
        self.data_pred, self.clip_x0, self.stochastic = data_pred, clip_x0, stochastic
        self.ts = Times(schedule)

    def start(self, generator=None) -> dict:
        return {**super().start(generator), "hist": [], "lams": []}

    def step(self, state, x, model_out, i):
        s, t = self.grid[i], self.grid[i + 1]
        a_s, s_s, l_s = self.ts(s)
        x0 = x0_from_eps(x, model_out, a_s, s_s, self.clip_x0 if self.data_pred else None)
        hist, lams = state["hist"], state["lams"]
        hist.insert(0, (s, x0 if self.data_pred else model_out))
        lams.insert(0, l_s)
        del hist[3:], lams[3:]
        k = multistep_order(i, self.steps, self.order, self.lower_order_final)
        noise = randn_like(x, state["generator"]) if self.stochastic else None
        state["x0"] = x0
        return multistep_update(x, hist, lams, self.ts, t, k, self.data_pred, noise)


class DPMSolver(Sampler):
    """Single-step DPM-Solver-1/2/3 (DPM-Solver paper, Algorithms 1 and 2).

    Single-step order 3, outer step s -> t with h = lambda_t - lambda_s, r1 = 1/3, r2 = 2/3:
      u1 = a_{s1}/a_s x - s_{s1} (e^{r1 h} - 1) eps_s,                           D1 = eps(u1, s1) - eps_s
      u2 = a_{s2}/a_s x - s_{s2} (e^{r2 h} - 1) eps_s - s_{s2} r2/r1 ((e^{r2 h} - 1)/(r2 h) - 1) D1,
                                                                                 D2 = eps(u2, s2) - eps_s
      x_t = a_t/a_s x - s_t (e^h - 1) eps_s - s_t / r2 ((e^h - 1)/h - 1) D2.
    Order 2 (r1 = 1/2): x_t = a_t/a_s x - s_t (e^h - 1) eps_s - s_t / (2 r1) (e^h - 1) (eps(u, s1) - eps_s).
    """

    name = "dpm_solver"

    def __init__(self, schedule: Schedule, steps: int, *, order: int = 3, spacing: str = "logSNR",
                 t_start: float | None = None, t_end: float = 0.0):
        super().__init__(schedule, steps)
        self.orders = singlestep_orders(steps, order)
        if spacing == "logSNR":
            outer = solver_time_grid(schedule, len(self.orders), spacing, t_start, t_end)
        else:  # pick the outer points of the fine grid, as many fine steps as each order uses
            fine = solver_time_grid(schedule, steps, spacing, t_start, t_end)
            outer = fine[torch.cumsum(torch.tensor([0] + self.orders), 0)]
        self.outer = [float(v) for v in outer]
        self.ts = ts = Times(schedule)
        self.plan, self.timesteps = [], []  # per model call: (outer step j, stage), and its time
        self.inner = []  # per outer step: (s1, s2) intermediate times (None where unused)
        for j, k in enumerate(self.orders):
            s, t = self.outer[j], self.outer[j + 1]
            l_s, l_t = ts(s)[2], ts(t)[2]
            h = l_t - l_s
            r = {1: (), 2: (0.5,), 3: (1 / 3, 2 / 3)}[k]
            mids = [ts.t_at(l_s + ri * h) for ri in r]
            self.inner.append(mids)
            for stage, time in enumerate([s, *mids]):
                self.plan.append((j, stage))
                self.timesteps.append(time)
        self.t_final = self.outer[-1]

    def outer_end(self, i):
        j, stage = self.plan[i]
        return (j, self.outer[j + 1]) if stage == self.orders[j] - 1 else None

    def step(self, state, x, model_out, i):
        j, stage = self.plan[i]
        k, ts = self.orders[j], self.ts
        s, t = self.outer[j], self.outer[j + 1]
        if stage == 0:
            a_s, s_s, _ = ts(s)
            state.update(x_s=x, eps_s=model_out, x0=x0_from_eps(x, model_out, a_s, s_s))
            return dpm1(x, model_out, ts, s, t if k == 1 else self.inner[j][0])
        x_s, eps_s = state["x_s"], state["eps_s"]
        (a_s, _, l_s), (a_t, s_t, l_t) = ts(s), ts(t)
        h = l_t - l_s
        d = lincomb((1.0, model_out), (-1.0, eps_s))  # eps(u, s_i) - eps_s
        if k == 2:  # x_t = a_t/a_s x - s_t (e^h - 1) eps_s - s_t / (2 r1) (e^h - 1) D
            r1 = 0.5
            return lincomb((a_t / a_s, x_s), (-s_t * math.expm1(h), eps_s), (-s_t / (2 * r1) * math.expm1(h), d))
        r1, r2 = 1 / 3, 2 / 3
        if stage == 1:  # the second intermediate point u2, from D1
            a2, sg2, _ = ts(self.inner[j][1])
            phi = math.expm1(r2 * h) / (r2 * h) - 1  # (e^{r2 h} - 1)/(r2 h) - 1
            return lincomb((a2 / a_s, x_s), (-sg2 * math.expm1(r2 * h), eps_s), (-sg2 * r2 / r1 * phi, d))
        # x_t = a_t/a_s x - s_t (e^h - 1) eps_s - s_t / r2 ((e^h - 1)/h - 1) D2
        return lincomb((a_t / a_s, x_s), (-s_t * math.expm1(h), eps_s), (-s_t / r2 * (math.expm1(h) / h - 1), d))


def dpm_solver(schedule: Schedule, steps: int, *, solver: str = "singlestep", order: int = 3, **options) -> Sampler:
    """DPM-Solver, ``solver="singlestep"`` (the authors': order 3, logSNR spacing, 20 NFE) or ``"multistep"``;
    ``timesteps`` and ``lower_order_final`` (multistep only) set its grid and its last orders."""
    if order not in (1, 2, 3):
        raise ValueError(f"order must be 1, 2 or 3, got {order}")
    if solver == "multistep":
        return MultistepSolver(schedule, steps, order=order, **options)
    if solver != "singlestep":
        raise ValueError(f"unknown solver {solver!r}: use singlestep or multistep")
    return DPMSolver(schedule, steps, order=order, **options)


def dpm_solver_sample(model_fn, x: dict, schedule: Schedule, steps: int, **options) -> dict:
    """DPM-Solver through the kit's loop (:func:`mmdiff_lite.sample` with ``x_T = x``)."""
    return run_sampler(model_fn, x, dpm_solver(schedule, steps, **options))


register(SamplerSpec("dpm_solver", dpm_solver, "DPM-Solver (noise prediction; the paper's: order 3, 20 NFE)",
                     options=("order", "solver", "spacing", "t_start", "t_end", "timesteps", "lower_order_final"),
                     benchmark=(("DPM-Solver-20", 20, {"order": 3}),), position=2))
