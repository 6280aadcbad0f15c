"""DPM-Solver (Lu et al. 2022) and DPM-Solver++ (Lu et al. 2022b) over dicts of modalities.

The probability-flow ODE written in lambda = log(alpha_t / sigma_t) has the exact solution
    x_t = (alpha_t / alpha_s) x_s - alpha_t * int_{lambda_s}^{lambda_t} e^{-lambda} eps(x_lambda) d lambda;
DPM-Solver Taylor-expands eps in lambda (orders 1-3), DPM-Solver++ does the same for the data
prediction x0_hat.  One solver state is shared by both modalities (the authors' choice): the pair is
one point of the joint ODE.  Step counts are NFE (network evaluations).  ``stochastic=True`` turns
DPM-Solver++ into its SDE form (SDE-DPM-Solver++, orders 1 and 2; order 1 is DDIM with eta = 1): the
same data-prediction expansion of the reverse SDE, with fresh noise at every step.

Taught in: notebooks/02_samplers.ipynb.
"""
from __future__ import annotations

import math

import torch

from ..grids import solver_time_grid
from ..schedules import Schedule
from .common import Callback, ModelFn, apply_callback, call_model, lincomb, progress_iter, randn_like, x0_from_eps

__all__ = ["dpm_solver_sample", "dpm_solver_pp_sample", "singlestep_orders"]


class _Times:
    """alpha, sigma, lambda at float times (python floats, float64 maths)."""

    def __init__(self, schedule: Schedule):
        self.s = schedule

    def __call__(self, t: float) -> tuple[float, float, float]:
        a, s = (float(v) for v in self.s.marginal(t))
        return a, s, math.log(a) - math.log(s)

    def t_at(self, lam: float) -> float:
        return float(self.s.t_of_lambda(lam))


def singlestep_orders(steps: int, order: int) -> list[int]:
    """Orders of the outer steps so that their NFE add up to ``steps`` (DPM-Solver's 'fast' recipe)."""
    if steps < 1:
        raise ValueError("steps must be >= 1")
    if order == 3:
        tail = {0: [2, 1], 1: [1], 2: [2]}[steps % 3]  # the last steps use lower orders
        return [3] * ((steps - sum(tail)) // 3) + tail
    if order == 2:
        return [2] * (steps // 2) + ([1] if steps % 2 else [])
    if order == 1:
        return [1] * steps
    raise ValueError(f"order must be 1, 2 or 3, got {order}")


# ---- single-step updates (noise prediction), DPM-Solver paper Algorithms 1 and 2 ----------------
def _dpm1(x, eps_s, ts, s, t):
    (a_s, _, l_s), (a_t, s_t, l_t) = ts(s), ts(t)
    h = l_t - l_s
    return lincomb((a_t / a_s, x), (-s_t * math.expm1(h), eps_s))  # x_t = a_t/a_s x_s - s_t (e^h - 1) eps_s


def _dpm2(model_fn, x, eps_s, ts, s, t, r1=0.5):
    (a_s, _, l_s), (a_t, s_t, l_t) = ts(s), ts(t)
    h = l_t - l_s
    s1 = ts.t_at(l_s + r1 * h)
    u = _dpm1(x, eps_s, ts, s, s1)  # first-order step to the midpoint s1
    d = lincomb((1.0, call_model(model_fn, u, s1)), (-1.0, eps_s))  # eps(u, s1) - eps_s
    # x_t = a_t/a_s x - s_t (e^h - 1) eps_s - s_t / (2 r1) (e^h - 1) (eps_s1 - eps_s)
    return lincomb((a_t / a_s, x), (-s_t * math.expm1(h), eps_s), (-s_t / (2 * r1) * math.expm1(h), d))


def _dpm3(model_fn, x, eps_s, ts, s, t, r1=1 / 3, r2=2 / 3):
    (a_s, _, l_s), (a_t, s_t, l_t) = ts(s), ts(t)
    h = l_t - l_s
    s1, s2 = ts.t_at(l_s + r1 * h), ts.t_at(l_s + r2 * h)
    u1 = _dpm1(x, eps_s, ts, s, s1)
    d1 = lincomb((1.0, call_model(model_fn, u1, s1)), (-1.0, eps_s))
    a2, sg2, _ = ts(s2)
    phi = math.expm1(r2 * h) / (r2 * h) - 1  # (e^{r2 h} - 1)/(r2 h) - 1
    u2 = lincomb((a2 / a_s, x), (-sg2 * math.expm1(r2 * h), eps_s), (-sg2 * r2 / r1 * phi, d1))
    d2 = lincomb((1.0, call_model(model_fn, u2, s2)), (-1.0, eps_s))
    # x_t = a_t/a_s x - s_t (e^h - 1) eps_s - s_t / r2 ((e^h - 1)/h - 1) D2
    return lincomb((a_t / a_s, x), (-s_t * math.expm1(h), eps_s), (-s_t / r2 * (math.expm1(h) / h - 1), d2))


# ---- multistep updates: eps (DPM-Solver) or x0 (DPM-Solver++) history ------------------------
def _multistep(x, hist, lams, ts, t, order, data_pred, noise=None):
    """One multistep update from time s0 (newest in ``hist``) to t, of the given order (1-3).

    ``hist`` holds (time, model output) newest first; ``data_pred`` selects DPM-Solver++ (outputs are
    x0_hat) or DPM-Solver (outputs are eps_hat).  The second-order form is the 'midpoint' one.
    ``noise`` (a dict of N(0, I) draws; data prediction, orders 1-2) makes it the SDE solver's step.
    """
    (s0, m0), lam0 = hist[0], lams[0]
    a_s, s_s, _ = ts(s0)
    a_t, s_t, l_t = ts(t)
    h = l_t - lam0
    if noise is not None:  # x_t = s_t/s_s e^{-h} x + a_t (1 - e^{-2h}) D0 + s_t sqrt(1 - e^{-2h}) z + ...
        base = lincomb((s_t / s_s * math.exp(-h), x), (-a_t * math.expm1(-2 * h), m0),
                       (s_t * math.sqrt(-math.expm1(-2 * h)), noise))
        c, c1, c2 = a_t, -0.5 * math.expm1(-2 * h), None  # ... + a_t (1 - e^{-2h}) / 2 D1 (no third order)
    elif data_pred:  # x_t = s_t/s_s x - a_t (e^{-h} - 1) D0 + ...
        base, c = lincomb((s_t / s_s, x), (-a_t * math.expm1(-h), m0)), a_t
        c1 = -0.5 * math.expm1(-h) if order == 2 else math.expm1(-h) / h + 1
        c2 = -((math.expm1(-h) + h) / h**2 - 0.5)
    else:  # x_t = a_t/a_s x - s_t (e^h - 1) D0 - ...
        base, c = lincomb((a_t / a_s, x), (-s_t * math.expm1(h), m0)), -s_t
        c1 = 0.5 * math.expm1(h) if order == 2 else math.expm1(h) / h - 1
        c2 = (math.expm1(h) - h) / h**2 - 0.5
    if order == 1:
        return base
    r0 = (lam0 - lams[1]) / h
    d1_0 = lincomb((1 / r0, m0), (-1 / r0, hist[1][1]))  # (m0 - m1) / r0
    if order == 2:
        return lincomb((1.0, base), (c * c1, d1_0))
    r1 = (lams[1] - lams[2]) / h
    d1_1 = lincomb((1 / r1, hist[1][1]), (-1 / r1, hist[2][1]))  # (m1 - m2) / r1
    d1 = lincomb((1.0, d1_0), (r0 / (r0 + r1), d1_0), (-r0 / (r0 + r1), d1_1))
    d2 = lincomb((1 / (r0 + r1), d1_0), (-1 / (r0 + r1), d1_1))
    return lincomb((1.0, base), (c * c1, d1), (c * c2, d2))


def _multistep_order(i: int, steps: int, order: int, lower_order_final: bool) -> int:
    k = min(order, i + 1)  # warm-up: not enough history yet
    if lower_order_final and steps < 15:
        if i == steps - 1:
            k = 1
        elif i == steps - 2:
            k = min(k, 2)
    return k


def _run_multistep(model_fn, x, schedule, grid, order, data_pred, clip_x0, lower_order_final,
                   progress, callback, desc, generator=None, stochastic=False):
    ts = _Times(schedule)
    steps = len(grid) - 1
    hist, lams = [], []
    for i in progress_iter(range(steps), steps, progress, desc):
        s, t = float(grid[i]), float(grid[i + 1])
        a_s, s_s, l_s = ts(s)
        eps = call_model(model_fn, x, s)
        x0 = x0_from_eps(x, eps, a_s, s_s, clip_x0 if data_pred else None)
        hist.insert(0, (s, x0 if data_pred else eps))
        lams.insert(0, l_s)
        del hist[3:], lams[3:]
        k = _multistep_order(i, steps, order, lower_order_final)
        noise = randn_like(x, generator) if stochastic else None
        x = _multistep(x, hist, lams, ts, t, k, data_pred, noise)
        x = apply_callback(callback, i, t, x, x0)
    return x


def _grid(schedule, steps, spacing, t_start, t_end, timesteps):
    if timesteps is not None:
        g = torch.as_tensor(timesteps, dtype=torch.float64)
        if g.ndim != 1 or len(g) < 2 or bool((g[1:] >= g[:-1]).any()):
            raise ValueError("timesteps must be a strictly decreasing sequence of at least 2 times")
        return g
    return solver_time_grid(schedule, steps, spacing, t_start, t_end)


def dpm_solver_sample(model_fn: ModelFn, x: dict, schedule: Schedule, steps: int, *, order: int = 3,
                      solver: str = "singlestep", spacing: str = "logSNR", t_start: float | None = None,
                      t_end: float = 0.0, timesteps=None, lower_order_final: bool = True,
                      progress: bool = False, callback: Callback | None = None) -> dict:
    """DPM-Solver with noise prediction; ``steps`` is the number of model evaluations (NFE).

    ``solver="singlestep"`` (the authors': order 3, logSNR spacing, 20 NFE) or ``"multistep"``.
    ``timesteps`` (multistep only) overrides the grid: a decreasing list of steps+1 float times.
    """
    if order not in (1, 2, 3):
        raise ValueError(f"order must be 1, 2 or 3, got {order}")
    if solver == "multistep":
        grid = _grid(schedule, steps, spacing, t_start, t_end, timesteps)
        return _run_multistep(model_fn, x, schedule, grid, order, False, None, lower_order_final,
                              progress, callback, f"DPM-Solver-{order}M")
    if solver != "singlestep":
        raise ValueError(f"unknown solver {solver!r}: use singlestep or multistep")
    orders = singlestep_orders(steps, order)
    if spacing == "logSNR":
        outer = solver_time_grid(schedule, len(orders), spacing, t_start, t_end)
    else:  # pick the outer points of the fine grid, as many fine steps as each order uses
        fine = solver_time_grid(schedule, steps, spacing, t_start, t_end)
        outer = fine[torch.cumsum(torch.tensor([0] + orders), 0)]
    ts = _Times(schedule)
    for i, k in progress_iter(enumerate(orders), len(orders), progress, f"DPM-Solver-{order}S"):
        s, t = float(outer[i]), float(outer[i + 1])
        a_s, s_s, _ = ts(s)
        eps = call_model(model_fn, x, s)
        x0 = x0_from_eps(x, eps, a_s, s_s)
        x = _dpm1(x, eps, ts, s, t) if k == 1 else (_dpm2 if k == 2 else _dpm3)(model_fn, x, eps, ts, s, t)
        x = apply_callback(callback, i, t, x, x0)
    return x


def dpm_solver_pp_sample(model_fn: ModelFn, x: dict, schedule: Schedule, steps: int, *, order: int = 2,
                         spacing: str = "logSNR", t_start: float | None = None, t_end: float = 0.0,
                         timesteps=None, lower_order_final: bool = True, clip_x0: float | None = None,
                         stochastic: bool = False, generator: torch.Generator | None = None,
                         progress: bool = False, callback: Callback | None = None) -> dict:
    """DPM-Solver++ (multistep, data prediction; order 2 = '2M'), optionally clipping x0_hat.

    ``stochastic=True``: SDE-DPM-Solver++ (Lu et al. 2022b, Sec. 5 / App.; orders 1-2), which draws
    fresh noise from ``generator`` at every step, as DDPM does, in the same number of network calls.
    """
    if order not in ((1, 2) if stochastic else (1, 2, 3)):
        raise ValueError(f"order must be 1 or 2 for the stochastic solver, 1-3 otherwise, got {order}")
    grid = _grid(schedule, steps, spacing, t_start, t_end, timesteps)
    desc = f"{'SDE-' if stochastic else ''}DPM-Solver++({order}M)"
    return _run_multistep(model_fn, x, schedule, grid, order, True, clip_x0, lower_order_final,
                          progress, callback, desc, generator, stochastic)

