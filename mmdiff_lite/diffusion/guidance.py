"""Zero-shot conditional generation for any ``model_fn`` and every sampler (paper section 3.4).

A joint model p(a, v) can generate a for a given v without retraining.  Two transforms of the sampling loop
(:mod:`.loop`) do it:

* :class:`Replacement`: at every model call overwrite the given modality with q(v_t | v) (fixed noise, as the
  authors do, or fresh noise at every call), and return the given clip itself at the end;
* :class:`GradientGuidance`: correct the generated modality's noise prediction by the gradient of how badly
  the model reconstructs the given modality; the gradient reaches the generated modality only through the
  model's cross-modal paths (RS-MMA).

Both are written for a pair (one given modality, one generated), in both directions.

Taught in: notebooks/08_zero_shot_conditioning.ipynb.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Mapping

import torch

from .loop import CallInfo, Transform
from .schedules import Schedule

__all__ = ["Replacement", "GradientGuidance", "guidance_gradient", "paper_guidance_weight", "Conditioning",
           "zero_shot_transforms", "GUIDANCE_FORMS"]

GUIDANCE_FORMS = ("paper", "reconstruction")


def _check(noise: str | None = None, form: str | None = None, scale=None) -> None:
    """The one place the conditioning options are checked (by :class:`Conditioning` and the transforms)."""
    if noise is not None and noise not in ("fixed", "fresh"):
        raise ValueError(f"noise must be 'fixed' or 'fresh', got {noise!r}")
    if form is not None and form not in GUIDANCE_FORMS:
        raise ValueError(f"unknown guidance form {form!r}: use one of {', '.join(GUIDANCE_FORMS)}")
    if scale is not None and (isinstance(scale, bool) or not isinstance(scale, (int, float)) or not math.isfinite(scale)
                              or scale < 0):
        raise ValueError(f"the guidance scale must be a finite number >= 0, got {scale!r}")


class Replacement(Transform):
    """Replacement conditioning: before each model call, v_t <- alpha_t v + sigma_t eps for the given v.

    ``noise="fixed"`` reuses one eps for the whole run (the authors: the initial noise x_T of that
    modality, passed as ``fixed_noise``); ``"fresh"`` draws a new eps from ``generator`` at every call.
    At the end the given clips are returned exactly.  ``last_noise`` is the eps of the latest call (the
    gradient guidance of the paper compares against q(v_{t-1} | v) with the same eps).
    """

    def __init__(self, given: Mapping[str, torch.Tensor], *, noise: str = "fixed",
                 fixed_noise: Mapping[str, torch.Tensor] | None = None, generator: torch.Generator | None = None):
        _check(noise=noise)
        if noise == "fixed" and fixed_noise is not None and set(fixed_noise) != set(given):
            raise ValueError("fixed_noise must name the same modalities as given")
        self.given = {k: v.float() for k, v in given.items()}
        self.mode, self.generator = noise, generator
        self.fixed = dict(fixed_noise) if fixed_noise is not None else None
        self.last_noise: dict = {}

    def _draw(self) -> dict:
        return {k: torch.randn(v.shape, generator=self.generator, device=v.device, dtype=v.dtype)
                for k, v in sorted(self.given.items())}

    def model_input(self, x: dict, info: CallInfo) -> dict:
        if self.mode == "fixed":
            if self.fixed is None:
                self.fixed = self._draw()
            eps = self.fixed
        else:
            eps = self._draw()
        self.last_noise = eps
        a, s = info.alpha_sigma
        return {**x, **{k: (a * v + s * eps[k]).to(x[k].dtype) for k, v in self.given.items()}}  # q(v_t | v)

    def finish(self, x: dict) -> dict:
        return {**x, **{k: v.to(x[k].dtype).clone() for k, v in self.given.items()}}


def guidance_gradient(loss: torch.Tensor, x_target: torch.Tensor, loss_scale: float = 1.0) -> torch.Tensor:
    """d(sum of the per-sample losses)/d x_target in fp32.

    ``loss_scale`` multiplies the loss before the backward pass (so that fp16 activations under autocast do
    not underflow) and divides the gradient afterwards: the result does not depend on it.  (The authors'
    fp16 code multiplies by 2^20 and never divides back, so its guidance strength is 2^20 times the one
    it states.)
    """
    (g,) = torch.autograd.grad(loss.float().sum() * loss_scale, x_target, retain_graph=True)
    return g.float() / loss_scale


def paper_guidance_weight(schedule: Schedule, t: float) -> tuple[float, float, float, float]:
    """(w, c0, ct, ab_prev) for the paper's form at float time t, one training step back (t - 1).

    w = sqrt(1 - beta_t) sigma_t^2 / beta_t turns the paper's change of the DDPM *state* into a change of
    the noise prediction (see :class:`GradientGuidance`); c0, ct are DDPM's posterior-mean coefficients of
    x0_hat and x_t; alpha_bar at t - 1 is log-linear between alpha_bar(-1) = 1 and alpha_bar(0) for t < 1.
    """
    ab_t = float(schedule.alpha_bar(t))
    ab_prev = float(schedule.alpha_bar(t - 1.0)) if t >= 1 else math.exp(t * math.log(float(schedule.alpha_bar(0.0))))
    beta = 1.0 - ab_t / ab_prev
    c0 = ab_prev**0.5 * beta / (1 - ab_t)
    ct = (1 - beta) ** 0.5 * (1 - ab_prev) / (1 - ab_t)
    return (1 - beta) ** 0.5 * (1 - ab_t) / beta, c0, ct, ab_prev


class GradientGuidance(Transform):
    r"""Gradient guidance of the generated modality ``target`` towards the given clip (after a :class:`Replacement`).

    **The paper's equation** (section 3.4; a = generated, v = given):
    :math:`\tilde a_{t-1} = a_{t-1} - \lambda \sqrt{1-\bar\alpha_t}\,\nabla_{a_t}\lVert v_{t-1} - \hat v_{t-1}\rVert^2`,
    where :math:`(a_{t-1}, v_{t-1})` is the joint DDPM step from :math:`(a_t, \hat v_t)` and
    :math:`\hat v_{t-1} = q(v_{t-1} | v)` with the replacement's noise.  ``form="paper"`` computes
    L = ||mu_v(t-1) - v_hat_{t-1}||^2 per pair with mu_v the DDPM posterior mean of v one training step back
    (the authors' code uses the sampled v_{t-1}, whose extra noise sigma z only adds noise to the gradient).

    *How it enters each sampler.* DDPM's step is x_{t-1} = mu(x_t, eps_hat) + sigma z with
    mu = (x_t - beta_t / sigma_t eps_hat) / sqrt(1 - beta_t), so d mu / d eps_hat = -beta_t / (sigma_t sqrt(1 - beta_t)).
    Moving the state by -lambda sigma_t grad L is therefore the same as replacing the noise prediction by

        eps_tilde_a = eps_hat_a + lambda * sqrt(1 - beta_t) sigma_t^2 / beta_t * grad_{a_t} L      (1)

    (exactly, for 1000-step DDPM).  The kit applies (1) at every model call of every sampler: it is a change
    of the model's score, so DDIM (x_s = alpha_s x0_hat + sigma_s eps_tilde) and DPM-Solver (eps_tilde in its
    Taylor expansion) integrate the same guided process, and DPM-Solver++ sees it as a change of its data
    prediction, x0_tilde = x0_hat - sigma_t / alpha_t * (eps_tilde - eps_hat).  Written per model call rather
    than per state update, its total effect does not grow with the number of steps.  (The authors support
    DDPM only: their DDIM and DPM-Solver paths print "not supported".)

    **Reconstruction guidance** (Ho et al. 2022, *Video Diffusion Models*, Eq. 7), ``form="reconstruction"``:
    x0_tilde_a = x0_hat_a - (lambda alpha_t / 2) grad_{a_t} ||v - x0_hat_v(a_t, v_t)||^2, the gradient taken
    through the model's own clean estimate of the given modality; as a noise prediction
    eps_tilde_a = eps_hat_a + lambda alpha_t^2 / (2 sigma_t) grad_{a_t} ||v - x0_hat_v||^2.

    Losses are sums of squares per pair (the paper's ||.||^2); the authors' code averages over the elements and
    the batch, scales by sqrt(alpha_bar_t) instead of sqrt(1 - alpha_bar_t), and (fp16) leaves the loss scale
    of 2^20 in: their lambda = 3 is not this lambda.  The gradient is computed in fp32 (:func:`guidance_gradient`).
    ``t_min``: no guidance below this time (the reconstruction weight grows like 1/sigma_t at the end).
    """

    def __init__(self, replacement: Replacement, target: str, scale: float, *, form: str = "paper",
                 loss_scale: float = 1.0, t_min: float = 0.0):
        _check(form=form, scale=scale)
        if target in replacement.given:
            raise ValueError(f"{target!r} is the given modality: guide the other one")
        if len(replacement.given) != 1:
            raise ValueError("gradient guidance needs exactly one given modality")
        self.replacement, self.target, self.scale = replacement, target, float(scale)
        self.form, self.loss_scale, self.t_min = form, float(loss_scale), float(t_min)
        self.key = next(iter(replacement.given))
        self.grad_inputs = frozenset({target}) if self.scale > 0 else frozenset()

    def loss(self, x: dict, out: dict, info: CallInfo) -> tuple[torch.Tensor, float]:
        """(per-pair loss (B,), the weight of its gradient in the noise prediction) at this call."""
        k, given = self.key, self.replacement.given[self.key]
        a, s = info.alpha_sigma
        x0_v = (x[k].float() - s * out[k].float()) / a  # the model's clean estimate of the given modality
        if self.form == "reconstruction":
            return ((given - x0_v) ** 2).flatten(1).sum(1), a**2 / (2 * s)
        w, c0, ct, ab_prev = paper_guidance_weight(info.schedule, info.t)
        mean_prev = c0 * x0_v + ct * x[k].float()  # mu_v(t-1): DDPM's posterior mean of v
        target_prev = ab_prev**0.5 * given + (1 - ab_prev) ** 0.5 * self.replacement.last_noise[k]  # q(v_{t-1} | v)
        return ((mean_prev - target_prev) ** 2).flatten(1).sum(1), w

    def model_output(self, x: dict, out: dict, info: CallInfo) -> dict:
        if self.scale == 0 or info.t < self.t_min:
            return out
        with torch.autocast(x[self.target].device.type, enabled=False):
            loss, weight = self.loss(x, out, info)
            grad = guidance_gradient(loss, x[self.target], self.loss_scale)
        corrected = out[self.target].float() + self.scale * weight * grad  # eps_tilde = eps_hat + lambda w grad L
        return {**out, self.target: corrected.to(out[self.target].dtype)}


@dataclass(frozen=True)
class Conditioning:
    """How to condition: ``method`` ``"replace"`` (replacement alone) or ``"guide"`` (replacement, then gradient
    guidance with strength ``scale`` in ``form``); the replacement's ``noise`` (``"fixed"`` or ``"fresh"``);
    no guidance below ``t_min``."""

    method: str = "guide"
    scale: float = 1.0
    noise: str = "fixed"
    form: str = "paper"
    t_min: float = 0.0

    def __post_init__(self):
        if self.method not in ("replace", "guide"):
            raise ValueError(f"unknown conditioning method {self.method!r}: use replace or guide")
        _check(self.noise, self.form, self.scale)


def zero_shot_transforms(given: Mapping[str, torch.Tensor], target: str, conditioning: Conditioning, *,
                         fixed_noise: Mapping[str, torch.Tensor] | None = None,
                         generator: torch.Generator | None = None, loss_scale: float = 1.0) -> list[Transform]:
    """The transforms of ``conditioning`` for generating ``target`` given the clean clips ``given``."""
    c = conditioning
    rep = Replacement(given, noise=c.noise, fixed_noise=fixed_noise, generator=generator)
    if c.method == "replace":
        return [rep]
    return [rep, GradientGuidance(rep, target, c.scale, form=c.form, loss_scale=loss_scale, t_min=c.t_min)]
