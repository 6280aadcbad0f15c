"""DDPM ancestral sampling (Ho et al. 2020, Algorithm 2; the paper's reverse process, Eq. 2).

With the fixed-large (sigma^2 = beta, the authors') or fixed-small (sigma^2 = beta_tilde) variance, on any
subsequence of timesteps (respacing: betas recomputed from alpha_bar).

Taught in: notebooks/02_samplers.ipynb.
"""
from __future__ import annotations

from .base import SamplerSpec, register
from .common import lincomb, randn_like
from .discrete import DiscreteSampler

__all__ = ["DDPM"]


class DDPM(DiscreteSampler):
    """x_{t-1} = mu_tilde(x_t, x0_hat) + sigma_t z (no noise at the last step).

    mu_tilde = sqrt(ab_prev) b / (1 - ab_t) x0_hat + sqrt(1 - b)(1 - ab_prev) / (1 - ab_t) x_t with
    b = 1 - ab_t / ab_prev (= beta_t when every step is visited); sigma_t^2 = b (``fixed_large``) or
    b (1 - ab_prev) / (1 - ab_t) (``fixed_small``).
    """

    name = "ddpm"

    def __init__(self, schedule, steps=None, *, variance: str = "fixed_large", spacing: str = "trailing",
                 clip_x0: float | None = None):
        if variance not in ("fixed_large", "fixed_small"):
            raise ValueError(f"unknown variance {variance!r}: use fixed_large or fixed_small")
        super().__init__(schedule, steps, spacing=spacing, clip_x0=clip_x0)
        self.variance = variance

    def update(self, state, x, x0, eps, ab_t, ab_prev, last):
        b = 1 - ab_t / ab_prev  # beta of this (possibly respaced) step
        c0 = ab_prev**0.5 * b / (1 - ab_t)
        ct = (1 - b) ** 0.5 * (1 - ab_prev) / (1 - ab_t)
        mean = lincomb((c0, x0), (ct, x))  # posterior mean mu_tilde(x_t, x0_hat)
        if last:
            return mean
        var = b if self.variance == "fixed_large" else b * (1 - ab_prev) / (1 - ab_t)
        return lincomb((1.0, mean), (var**0.5, randn_like(x, state["generator"])))  # + sigma_t z


register(SamplerSpec("ddpm", DDPM, "DDPM ancestral sampling (the paper's sampler, 1000 steps)",
                     options=("variance", "spacing", "clip_x0"), benchmark=(("DDPM-1000", 1000, {}),), position=0))
