"""Time grids for samplers: which timesteps a K-step sampler visits.

Taught in: notebooks/02_samplers.ipynb.
"""
from __future__ import annotations

import numpy as np
import torch

from .schedules import Schedule

__all__ = ["discrete_timesteps", "solver_time_grid"]


def discrete_timesteps(T: int, steps: int, spacing: str = "trailing") -> list[int]:
    """``steps`` integer timesteps, descending, for DDPM/DDIM (diffusers' names for the spacings).

    ``leading``: 0, T/K, 2T/K, … (DDIM's paper; diffusers' default); ``trailing``: T-1, T-1-T/K, …
    (starts at pure noise); ``linspace``: rounded linspace(0, T-1, K).
    """
    if not 1 <= steps <= T:
        raise ValueError(f"steps must be in [1, {T}], got {steps}")
    if spacing == "leading":
        ts = np.arange(0, steps) * (T // steps)
    elif spacing == "trailing":
        ts = np.round(np.arange(T, 0, -T / steps)).astype(np.int64) - 1
    elif spacing == "linspace":
        ts = np.linspace(0, T - 1, steps).round().astype(np.int64)
    else:
        raise ValueError(f"unknown spacing {spacing!r}: use leading, trailing or linspace")
    return sorted({int(t) for t in ts}, reverse=True)


def solver_time_grid(schedule: Schedule, steps: int, spacing: str = "logSNR",
                     t_start: float | None = None, t_end: float = 0.0) -> torch.Tensor:
    """K+1 float times (discrete-step units, descending from ``t_start`` to ``t_end``) for ODE solvers.

    DPM-Solver's continuous time is tau = (t + 1) / T in [1/T, 1] (the authors sample from tau = 1 to
    1e-3, i.e. t = T-1 to 0).  ``time_uniform``: uniform in tau; ``time_quadratic``: uniform in
    sqrt(tau); ``logSNR``: uniform in lambda = log(alpha/sigma) (the authors' choice).
    """
    T = schedule.T
    t_start = float(T - 1) if t_start is None else float(t_start)
    if steps < 1:
        raise ValueError("steps must be >= 1")
    if not 0 <= t_end < t_start <= T - 1:
        raise ValueError(f"need 0 <= t_end < t_start <= {T - 1}")
    tau0, tau1 = (t_start + 1) / T, (t_end + 1) / T
    if spacing == "time_uniform":
        tau = torch.linspace(tau0, tau1, steps + 1, dtype=torch.float64)
    elif spacing == "time_quadratic":
        tau = torch.linspace(tau0**0.5, tau1**0.5, steps + 1, dtype=torch.float64) ** 2
    elif spacing == "logSNR":
        lam = torch.linspace(float(schedule.lambda_(t_start)), float(schedule.lambda_(t_end)), steps + 1,
                             dtype=torch.float64)
        grid = schedule.t_of_lambda(lam)
    else:
        raise ValueError(f"unknown spacing {spacing!r}: use logSNR, time_uniform or time_quadratic")
    if spacing != "logSNR":
        grid = tau * T - 1  # t = tau T - 1
    grid[0], grid[-1] = t_start, t_end  # exact ends despite round-off
    return grid.clamp(t_end, t_start)
