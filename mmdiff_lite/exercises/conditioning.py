"""Exercises of notebooks/08_zero_shot_conditioning.ipynb."""
from __future__ import annotations

from .base import exercise, within

NB = "08_zero_shot_conditioning"


@exercise("08.paper-weight", notebook=NB, kind="write", answer="my_paper_weight",
          hint="with beta_t = 1 - ab_t / ab_{t-1}, the weight is sqrt(1 - beta_t) (1 - ab_t) / beta_t")
def _weight(fn):
    from ..diffusion import linear_schedule
    from ..diffusion.guidance import paper_guidance_weight

    schedule = linear_schedule()
    for t in (1, 10, 150, 600, 999):
        want = paper_guidance_weight(schedule, float(t))[0]
        if (problem := within(fn(schedule, t), want, 1e-6 * abs(want), f"at t = {t} your weight")) is not None:
            return problem
    return None


@exercise("08.which-direction", notebook=NB, kind="predict", answer="needs_guidance",
          hint="compare the two cross_dependence ratios: which generated modality barely listens to the given one?")
def _direction(answer):
    if answer not in ("audio", "video"):
        return "answer 'audio' (video for a given sound) or 'video' (sound for a given video)"
    return None if answer == "audio" else "look again at which direction replacement alone already solves"


@exercise("08.recon-weight", notebook=NB, kind="write", answer="recon_weight",
          hint="alpha_t = sqrt(alpha_bar_t) and sigma_t = sqrt(1 - alpha_bar_t) come from schedule.marginal(t)")
def _recon(fn):
    import torch

    from ..diffusion import CallInfo, GradientGuidance, Replacement, linear_schedule

    schedule = linear_schedule()
    for t in (20.0, 300.0, 870.0):
        rep = Replacement({"video": torch.zeros(1, 1)})
        guide = GradientGuidance(rep, "audio", 1.0, form="reconstruction")
        info = CallInfo(0, t, t - 10.0, schedule)
        zeros = {"audio": torch.zeros(1, 1), "video": torch.zeros(1, 1)}
        want = guide.loss(rep.model_input(zeros, info), zeros, info)[1]
        if (problem := within(fn(t, schedule), want, 1e-9 * abs(want) + 1e-12, f"at t = {t} your weight")) is not None:
            return problem
    return None
