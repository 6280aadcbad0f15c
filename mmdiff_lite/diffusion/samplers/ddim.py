"""DDIM (Song et al. 2021, Eq. 12) with eta; eta = 0 is the deterministic sampler.

Taught in: notebooks/02_samplers.ipynb.
"""
from __future__ import annotations

from .base import SamplerSpec, register
from .common import lincomb, randn_like
from .discrete import DiscreteSampler

__all__ = ["DDIM"]


class DDIM(DiscreteSampler):
    """x_prev = sqrt(ab_prev) x0_hat + sqrt(1 - ab_prev - s^2) eps_hat + s z,
    s = eta sqrt((1 - ab_prev) / (1 - ab_t)) sqrt(1 - ab_t / ab_prev).
    """

    name = "ddim"

    def __init__(self, schedule, steps, *, eta: float = 0.0, spacing: str = "trailing",
                 clip_x0: float | None = None):
        if eta < 0:
            raise ValueError("eta must be >= 0")
        super().__init__(schedule, steps, spacing=spacing, clip_x0=clip_x0)
        self.eta = float(eta)

    def update(self, state, x, x0, eps, ab_t, ab_prev, last):
        s = self.eta * ((1 - ab_prev) / (1 - ab_t) * (1 - ab_t / ab_prev)) ** 0.5  # sigma_t(eta)
        out = lincomb((ab_prev**0.5, x0), (max(1 - ab_prev - s**2, 0.0) ** 0.5, eps))
        if s > 0 and not last:
            out = lincomb((1.0, out), (s, randn_like(x, state["generator"])))
        return out


register(SamplerSpec("ddim", DDIM, "DDIM (deterministic at eta = 0)", options=("eta", "spacing", "clip_x0"),
                     benchmark=(("DDIM-50", 50, {}),), position=1))
