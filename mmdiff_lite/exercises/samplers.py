"""Exercises of notebooks/02_samplers.ipynb."""
from __future__ import annotations

import torch

from .base import close, exercise

NB = "02_samplers"


@exercise("02.ddim-step", notebook=NB, kind="write", answer="ddim_step",
          hint="first x0_hat = (x - sqrt(1 - ab_t) eps) / sqrt(ab_t), then x_prev = sqrt(ab_prev) x0_hat + "
               "sqrt(1 - ab_prev) eps (eta = 0)")
def _ddim_step(fn):
    from ..diffusion import linear_schedule
    from ..diffusion.samplers.ddim import DDIM

    sampler, gen = DDIM(linear_schedule(), 10), torch.Generator().manual_seed(0)
    for ab_t, ab_prev in ((0.3, 0.5), (0.01, 0.2), (0.9, 0.99)):
        x, eps = torch.randn(4, 3, generator=gen, dtype=torch.float64), torch.randn(4, 3, generator=gen, dtype=torch.float64)
        x0 = (x - (1 - ab_t) ** 0.5 * eps) / ab_t ** 0.5
        want = sampler.update({}, {"x": x}, {"x": x0}, {"x": eps}, ab_t, ab_prev, False)["x"]
        if (problem := close(fn(x, eps, ab_t, ab_prev), want)) is not None:
            return f"at ab_t = {ab_t}, ab_prev = {ab_prev}: {problem}"
    return None


@exercise("02.singlestep-orders", notebook=NB, kind="predict", answer="orders_10_steps",
          hint="K = 3m + r calls: with r = 1 or 2, m third-order steps and one of order r; with r = 0, m - 1 "
               "third-order steps, then one of order 2 and one of order 1")
def _orders(answer):
    from ..diffusion.samplers.dpm_math import singlestep_orders

    if not isinstance(answer, (list, tuple)) or not all(isinstance(k, int) for k in answer):
        return "give a list of orders, e.g. [3, 2]"
    if sum(answer) != 10:
        return f"the orders must spend exactly 10 calls; yours spend {sum(answer)}"
    if list(answer) != singlestep_orders(10, 3):
        return f"{list(answer)} spends 10 calls, but not in the order or split the solver uses"
    return None
