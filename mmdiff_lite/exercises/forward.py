"""Exercises of notebooks/01_forward_diffusion.ipynb."""
from __future__ import annotations

import torch

from .base import close, exercise, within

NB = "01_forward_diffusion"


@exercise("01.posterior-mean", notebook=NB, kind="write", answer="posterior_mean",
          hint="mu_tilde = sqrt(ab_{t-1}) beta_t / (1 - ab_t) x_0 + sqrt(alpha_t) (1 - ab_{t-1}) / (1 - ab_t) x_t, "
               "with ab = schedule.alphas_cumprod (index t - 1 for ab_{t-1})")
def _posterior_mean(fn):
    from ..diffusion import linear_schedule, q_posterior

    schedule, gen = linear_schedule(), torch.Generator().manual_seed(0)
    for t in (1, 2, 250, 999):
        x0, xt = torch.randn(3, 5, generator=gen, dtype=torch.float64), torch.randn(3, 5, generator=gen, dtype=torch.float64)
        want = q_posterior({"x": x0}, {"x": xt}, t, schedule)[0]["x"]
        if (problem := close(fn(x0, xt, t, schedule), want)) is not None:
            return f"at t = {t}: {problem}"
    return None


def _first_below(schedule, level: float = 0.1) -> int:
    return int(torch.nonzero(schedule.snr < level)[0])


@exercise("01.snr-crossing", notebook=NB, kind="predict", answer="t_snr_tenth",
          hint="the first index t (from 0) with schedule.snr[t] < 0.1: torch.nonzero(schedule.snr < 0.1)[0]")
def _snr_crossing(t):
    from ..diffusion import linear_schedule

    return within(t, _first_below(linear_schedule()), 0, "your t")


@exercise("01.cosine-crossing", notebook=NB, kind="explain", answer="t_snr_tenth_cosine",
          hint="build mm.cosine_schedule() and find the same crossing: it keeps the signal longer")
def _cosine_crossing(t):
    from ..diffusion import cosine_schedule

    return within(t, _first_below(cosine_schedule()), 0, "your t")
