"""The forward (noising) process for a *pair* of modalities that share one timestep t.

MM-Diffusion (paper section 3.2) noises audio and video independently, with the same schedule and
the same t; the reverse process is one network that predicts both noises.  Every function here takes
and returns dicts ``{"video": ..., "audio": ...}`` (any modality names work), with one t per sample.

Taught in: notebooks/01_forward_diffusion.ipynb.
"""
from __future__ import annotations

from typing import Mapping

import torch

from .schedules import Schedule

__all__ = [
    "q_step",
    "q_sample",
    "q_posterior",
    "predict_x0",
    "v_target",
    "eps_from_v",
    "epsilon_loss",
    "sample_timesteps",
]

Pair = Mapping[str, torch.Tensor]


def _bcast(v: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Per-sample coefficients (B,) reshaped to broadcast against x (B, ...), in x's dtype/device."""
    return v.to(device=x.device, dtype=x.dtype).reshape(-1, *([1] * (x.ndim - 1)))


def _randn_like(x: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
    return torch.randn(x.shape, generator=generator, dtype=x.dtype, device=x.device)


def _batch_t(t, x: Pair) -> torch.Tensor:
    sizes = {v.shape[0] for v in x.values()}
    if len(sizes) != 1:
        raise ValueError(f"all modalities must share the batch size, got {sorted(sizes)}")
    t = torch.as_tensor(t, dtype=torch.float64)
    return t.expand(sizes.pop()) if t.ndim == 0 else t


def q_step(x_prev: Pair, t, schedule: Schedule, generator: torch.Generator | None = None) -> dict:
    """One forward step, paper Eq. (1): q(x_t | x_{t-1}) = N(sqrt(1 - beta_t) x_{t-1}, beta_t I).

    (The paper prints the covariance as I; DDPM's is beta_t I.)  ``t`` is an integer step (B,) or scalar.
    """
    t = _batch_t(t, x_prev).long()
    beta = schedule.betas[t.cpu()]
    out = {}
    for k, x in x_prev.items():
        b = _bcast(beta, x)
        out[k] = (1 - b).sqrt() * x + b.sqrt() * _randn_like(x, generator)  # sqrt(1-beta_t) x + sqrt(beta_t) z
    return out


def q_sample(x0: Pair, t, schedule: Schedule, noise: Pair | None = None,
             generator: torch.Generator | None = None) -> tuple[dict, dict]:
    """Closed-form marginal q(x_t | x_0) = N(sqrt(alpha_bar_t) x_0, (1 - alpha_bar_t) I) for each modality.

    One shared t per sample, independent noise per modality.  Returns ``(x_t, noise)``.
    Taught in: notebooks/01_forward_diffusion.ipynb.
    """
    t = _batch_t(t, x0)
    ab = schedule.alpha_bar(t.cpu())
    if noise is None:
        noise = {k: _randn_like(x, generator) for k, x in sorted(x0.items())}
    xt = {}
    for k, x in x0.items():
        a = _bcast(ab, x)
        xt[k] = a.sqrt() * x + (1 - a).sqrt() * noise[k]  # x_t = sqrt(ab) x_0 + sqrt(1 - ab) eps
    return xt, dict(noise)


def predict_x0(xt: Pair, eps: Pair, t, schedule: Schedule) -> dict:
    """x_0 from x_t and predicted noise: x0_hat = (x_t - sqrt(1 - alpha_bar_t) eps) / sqrt(alpha_bar_t)."""
    t = _batch_t(t, xt)
    ab = schedule.alpha_bar(t.cpu())
    return {k: (x - _bcast((1 - ab).sqrt(), x) * eps[k]) / _bcast(ab.sqrt(), x) for k, x in xt.items()}


def v_target(x0: Pair, eps: Pair, t, schedule: Schedule) -> dict:
    """The "velocity" a v-predicting network learns (Salimans & Ho 2022, Eq. 14 of *Progressive distillation*):

        v = sqrt(alpha_bar_t) eps - sqrt(1 - alpha_bar_t) x_0.

    At high noise v is about -x_0, so the network states the clip instead of the tiny difference between
    x_t and eps that eps-prediction must get right there (see :func:`eps_from_v`).
    Taught in: notebooks/06_training.ipynb.
    """
    t = _batch_t(t, x0)
    ab = schedule.alpha_bar(t.cpu())
    return {k: _bcast(ab.sqrt(), x) * eps[k] - _bcast((1 - ab).sqrt(), x) * x for k, x in x0.items()}  # sqrt(ab) eps - sqrt(1-ab) x0


def eps_from_v(xt: Pair, v: Pair, t, schedule: Schedule) -> dict:
    """The noise implied by a predicted v: eps = sqrt(alpha_bar_t) v + sqrt(1 - alpha_bar_t) x_t.

    (From x_t = sqrt(ab) x_0 + sqrt(1 - ab) eps and the definition of v in :func:`v_target`.)  Samplers
    take noise predictions, so a v-predicting network is sampled through this conversion.
    Taught in: notebooks/06_training.ipynb.
    """
    t = _batch_t(t, xt)
    ab = schedule.alpha_bar(t.cpu())
    return {k: _bcast(ab.sqrt(), x) * v[k] + _bcast((1 - ab).sqrt(), x) * x for k, x in xt.items()}  # sqrt(ab) v + sqrt(1-ab) x_t


def q_posterior(x0: Pair, xt: Pair, t, schedule: Schedule) -> tuple[dict, torch.Tensor]:
    """DDPM posterior q(x_{t-1} | x_t, x_0) = N(mu_tilde, beta_tilde I), integer t >= 1 (DDPM Eq. 6-7).

    mu_tilde = sqrt(ab_{t-1}) beta_t / (1 - ab_t) x_0 + sqrt(alpha_t) (1 - ab_{t-1}) / (1 - ab_t) x_t,
    beta_tilde = (1 - ab_{t-1}) / (1 - ab_t) beta_t.  Returns (means per modality, variance (B,) float64).
    """
    t = _batch_t(t, xt).long().cpu()
    if bool((t < 1).any()):
        raise ValueError("q_posterior needs t >= 1 (x_{-1} does not exist)")
    ab = schedule.alphas_cumprod
    ab_t, ab_prev, beta = ab[t], ab[t - 1], schedule.betas[t]
    c0 = ab_prev.sqrt() * beta / (1 - ab_t)  # coefficient of x_0
    ct = (1 - beta).sqrt() * (1 - ab_prev) / (1 - ab_t)  # coefficient of x_t
    var = (1 - ab_prev) / (1 - ab_t) * beta  # beta_tilde_t
    means = {k: _bcast(c0, x) * x0[k] + _bcast(ct, x) * x for k, x in xt.items()}
    return means, var


def sample_timesteps(batch: int, T: int, generator: torch.Generator | None = None,
                     device: str | torch.device = "cpu") -> torch.Tensor:
    """t ~ Uniform{0, …, T-1}, one per sample (the paper trains with uniform t)."""
    return torch.randint(0, T, (batch,), generator=generator, device=device)


def epsilon_loss(eps_pred: Pair, eps: Pair, t=None, *, weights: Mapping[str, float] | None = None,
                 lambda_t=None, reduce: bool = True):
    """The paper's Eq. (3), summed over modalities:

        L = sum_m w_m * E[ lambda(t) * mean((eps_hat_m - eps_m)^2) ]

    ``weights`` w_m per modality (default 1 each: the authors' unweighted MSE(v) + MSE(a));
    ``lambda_t`` a callable of t or a (B,) tensor of per-sample weights (default 1).  With
    ``reduce=False`` returns a dict of per-sample losses per modality (B,) before weighting.
    Taught in: notebooks/01_forward_diffusion.ipynb.
    """
    per = {k: ((eps_pred[k].float() - eps[k].float()) ** 2).flatten(1).mean(1) for k in eps}  # per-sample MSE
    if not reduce:
        return per
    lam = None
    if lambda_t is not None:
        lam = lambda_t(t) if callable(lambda_t) else lambda_t
        lam = torch.as_tensor(lam, dtype=torch.float32)
    total = 0.0
    for k, v in per.items():
        w = 1.0 if weights is None else float(weights.get(k, 1.0))
        v = v * lam.to(v.device) if lam is not None else v  # lambda(t) * ||eps_hat - eps||^2
        total = total + w * v.mean()
    return total
