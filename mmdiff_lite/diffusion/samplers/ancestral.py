"""DDPM ancestral sampling and DDIM, over dicts of modalities sharing one t.

DDPM (Ho et al. 2020, Algorithm 2; the paper's reverse process, Eq. 2) with the fixed-large
(sigma^2 = beta, the authors') or fixed-small (sigma^2 = beta_tilde) variance, on any subsequence of
timesteps (respacing: betas recomputed from alpha_bar).  DDIM (Song et al. 2021, Eq. 12) with eta.

Taught in: notebooks/02_samplers.ipynb.
"""
from __future__ import annotations

import torch

from ..grids import discrete_timesteps
from ..schedules import Schedule
from .common import (Callback, ModelFn, apply_callback, call_model, eps_from_x0, lincomb, progress_iter,
                     randn_like, x0_from_eps)

__all__ = ["ddpm_sample", "ddim_sample"]


def _loop(model_fn, x, schedule, steps, spacing, clip_x0, progress, callback, desc, update):
    ab = schedule.alphas_cumprod
    ts = discrete_timesteps(schedule.T, steps, spacing)
    for i, t in progress_iter(enumerate(ts), len(ts), progress, desc):
        prev = ts[i + 1] if i + 1 < len(ts) else -1
        ab_t = float(ab[t])
        ab_prev = float(ab[prev]) if prev >= 0 else 1.0  # alpha_bar_{-1} = 1: the clean data
        eps = call_model(model_fn, x, t)
        x0 = x0_from_eps(x, eps, ab_t**0.5, (1 - ab_t) ** 0.5, clip_x0)
        if clip_x0 is not None:
            eps = eps_from_x0(x, x0, ab_t**0.5, (1 - ab_t) ** 0.5)
        x = update(x, x0, eps, ab_t, ab_prev, last=prev < 0)
        x = apply_callback(callback, i, prev if prev >= 0 else -1.0, x, x0)
    return x


def ddpm_sample(model_fn: ModelFn, x: dict, schedule: Schedule, steps: int | None = None, *,
                generator: torch.Generator | None = None, variance: str = "fixed_large",
                spacing: str = "trailing", clip_x0: float | None = None, progress: bool = False,
                callback: Callback | None = None) -> dict:
    """Ancestral sampling: x_{t-1} = mu_tilde(x_t, x0_hat) + sigma_t z (no noise at the last step).

    mu_tilde = sqrt(ab_prev) b / (1 - ab_t) x0_hat + sqrt(1 - b)(1 - ab_prev) / (1 - ab_t) x_t with
    b = 1 - ab_t / ab_prev (= beta_t when every step is visited); sigma_t^2 = b (``fixed_large``) or
    b (1 - ab_prev) / (1 - ab_t) (``fixed_small``).
    """
    if variance not in ("fixed_large", "fixed_small"):
        raise ValueError(f"unknown variance {variance!r}: use fixed_large or fixed_small")

    def update(x, x0, eps, ab_t, ab_prev, last):
        b = 1 - ab_t / ab_prev  # beta of this (possibly respaced) step
        c0 = ab_prev**0.5 * b / (1 - ab_t)
        ct = (1 - b) ** 0.5 * (1 - ab_prev) / (1 - ab_t)
        mean = lincomb((c0, x0), (ct, x))  # posterior mean mu_tilde(x_t, x0_hat)
        if last:
            return mean
        var = b if variance == "fixed_large" else b * (1 - ab_prev) / (1 - ab_t)
        return lincomb((1.0, mean), (var**0.5, randn_like(x, generator)))  # + sigma_t z

    return _loop(model_fn, x, schedule, steps or schedule.T, spacing, clip_x0, progress, callback, "DDPM", update)


def ddim_sample(model_fn: ModelFn, x: dict, schedule: Schedule, steps: int, *,
                generator: torch.Generator | None = None, eta: float = 0.0, spacing: str = "trailing",
                clip_x0: float | None = None, progress: bool = False, callback: Callback | None = None) -> dict:
    """DDIM: x_prev = sqrt(ab_prev) x0_hat + sqrt(1 - ab_prev - s^2) eps_hat + s z,
    s = eta sqrt((1 - ab_prev) / (1 - ab_t)) sqrt(1 - ab_t / ab_prev).  eta = 0 is deterministic.
    """
    if eta < 0:
        raise ValueError("eta must be >= 0")

    def update(x, x0, eps, ab_t, ab_prev, last):
        s = eta * ((1 - ab_prev) / (1 - ab_t) * (1 - ab_t / ab_prev)) ** 0.5  # sigma_t(eta)
        out = lincomb((ab_prev**0.5, x0), (max(1 - ab_prev - s**2, 0.0) ** 0.5, eps))
        if s > 0 and not last:
            out = lincomb((1.0, out), (s, randn_like(x, generator)))
        return out

    return _loop(model_fn, x, schedule, steps, spacing, clip_x0, progress, callback, "DDIM", update)
