"""Exercises of notebooks/06_training.ipynb."""
from __future__ import annotations

import torch

from .base import close, exercise

NB = "06_training"


@exercise("06.min-snr-weight", notebook=NB, kind="write", answer="my_min_snr_weight",
          hint="for the eps-loss lambda(t) = min(SNR, gamma) / SNR: 1 where the SNR is below gamma, gamma / SNR above")
def _min_snr(fn):
    from ..diffusion import linear_schedule
    from ..train import min_snr_weight

    snr = linear_schedule().snr[torch.tensor([0, 10, 100, 259, 500, 999])]
    for gamma in (1.0, 5.0, 20.0):
        if (problem := close(fn(snr, gamma), min_snr_weight(snr, gamma))) is not None:
            return f"at gamma = {gamma}: {problem}"
    return None


@exercise("06.v-target", notebook=NB, kind="write", answer="my_v_target",
          hint="v = sqrt(ab_t) eps - sqrt(1 - ab_t) x_0, with ab_t = schedule.alphas_cumprod[t]")
def _v_target(fn):
    from ..diffusion import linear_schedule, v_target

    schedule, gen = linear_schedule(), torch.Generator().manual_seed(0)
    for t in (0, 300, 999):
        x0, eps = torch.randn(2, 6, generator=gen, dtype=torch.float64), torch.randn(2, 6, generator=gen, dtype=torch.float64)
        want = v_target({"x": x0}, {"x": eps}, t, schedule)["x"]
        if (problem := close(fn(x0, eps, t, schedule), want)) is not None:
            return f"at t = {t}: {problem}"
    return None
