"""The maths DPM-Solver (Lu et al. 2022) and DPM-Solver++ (Lu et al. 2022b) share.

The probability-flow ODE written in lambda = log(alpha_t / sigma_t) has the exact solution
    x_t = (alpha_t / alpha_s) x_s - alpha_t * int_{lambda_s}^{lambda_t} e^{-lambda} eps(x_lambda) d lambda;
DPM-Solver Taylor-expands eps in lambda (orders 1-3), DPM-Solver++ does the same for the data
prediction x0_hat.  One solver state is shared by both modalities (the authors' choice): the pair is
one point of the joint ODE.

Taught in: notebooks/02_samplers.ipynb.
"""
from __future__ import annotations

import math

import torch

from ..grids import solver_time_grid
from ..schedules import Schedule
from .common import lincomb

__all__ = ["Times", "singlestep_orders", "dpm1", "multistep_update", "multistep_order", "solver_grid"]


class Times:
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


def dpm1(x, eps_s, ts: Times, s: float, t: float) -> dict:
    """DPM-Solver-1 (= DDIM): x_t = a_t/a_s x_s - s_t (e^h - 1) eps_s, h = lambda_t - lambda_s."""
    (a_s, _, l_s), (a_t, s_t, l_t) = ts(s), ts(t)
    h = l_t - l_s
    return lincomb((a_t / a_s, x), (-s_t * math.expm1(h), eps_s))


def multistep_update(x, hist, lams, ts: Times, t: float, order: int, data_pred: bool, noise=None) -> dict:
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


def multistep_order(i: int, steps: int, order: int, lower_order_final: bool) -> int:
    k = min(order, i + 1)  # warm-up: not enough history yet
    if lower_order_final and steps < 15:
        if i == steps - 1:
            k = 1
        elif i == steps - 2:
            k = min(k, 2)
    return k


def solver_grid(schedule, steps, spacing, t_start, t_end, timesteps) -> torch.Tensor:
    """The multistep solvers' grid: ``timesteps`` when given (strictly decreasing), else :func:`solver_time_grid`."""
    if timesteps is not None:
        g = torch.as_tensor(timesteps, dtype=torch.float64)
        if g.ndim != 1 or len(g) < 2 or bool((g[1:] >= g[:-1]).any()):
            raise ValueError("timesteps must be a strictly decreasing sequence of at least 2 times")
        return g
    return solver_time_grid(schedule, steps, spacing, t_start, t_end)
