"""Noise schedules of the forward process (DDPM, Ho et al. 2020; paper section 3.2).

Index convention (as in the authors' code and diffusers): discrete steps ``t = 0 … T-1``; step ``t``
adds noise with ``beta[t]`` and ``alphas_cumprod[t] = prod_{s<=t} (1 - beta[s])``.  Samplers and
models agree on a *continuous* extension ``alpha_bar(t)`` for float ``t`` in ``[0, T-1]``: the
log of ``sqrt(alpha_bar)`` is interpolated linearly between integer steps (DPM-Solver's discrete-time
wrapper), so it equals ``alphas_cumprod`` exactly at integers.

Taught in: notebooks/01_forward_diffusion.ipynb.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch

__all__ = ["Schedule", "linear_schedule", "cosine_schedule", "get_schedule", "SCHEDULES"]

Tensorish = float | torch.Tensor


@dataclass(frozen=True)
class Schedule:
    """A variance-preserving noise schedule, defined by its ``betas`` (float64, length ``T``)."""

    name: str
    betas: torch.Tensor

    def __post_init__(self):
        b = self.betas
        if b.ndim != 1 or b.dtype != torch.float64:
            raise ValueError("betas must be a 1-D float64 tensor")
        if not bool(((b > 0) & (b < 1)).all()):
            raise ValueError("every beta must lie in (0, 1)")

    @property
    def T(self) -> int:
        return self.betas.numel()

    @property
    def alphas(self) -> torch.Tensor:
        """alpha_t = 1 - beta_t."""
        return 1.0 - self.betas

    @property
    def alphas_cumprod(self) -> torch.Tensor:
        """alpha_bar_t = prod_{s<=t} alpha_s (float64, length T)."""
        return torch.cumprod(self.alphas, dim=0)

    @property
    def snr(self) -> torch.Tensor:
        """SNR(t) = alpha_bar_t / (1 - alpha_bar_t)."""
        ab = self.alphas_cumprod
        return ab / (1.0 - ab)

    @property
    def log_snr(self) -> torch.Tensor:
        """log SNR(t) = log(alpha_bar_t / (1 - alpha_bar_t)) = 2 * lambda_t."""
        return torch.log(self.snr)

    @property
    def lambdas(self) -> torch.Tensor:
        """DPM-Solver's half log-SNR: lambda_t = log(alpha_t / sigma_t) = log SNR(t) / 2."""
        return 0.5 * self.log_snr

    # ---- continuous time -------------------------------------------------------------------
    def _log_alpha(self) -> torch.Tensor:
        return 0.5 * torch.log(self.alphas_cumprod)  # log alpha_t = log sqrt(alpha_bar_t)

    def _interp(self, t: Tensorish, table: torch.Tensor) -> torch.Tensor:
        t = torch.as_tensor(t, dtype=torch.float64)
        if bool(((t < 0) | (t > self.T - 1)).any()):
            raise ValueError(f"t must lie in [0, {self.T - 1}] (discrete-step units)")
        lo = torch.clamp(torch.floor(t), max=self.T - 2).long()
        frac = t - lo
        return table[lo] * (1 - frac) + table[lo + 1] * frac

    def alpha_bar(self, t: Tensorish) -> torch.Tensor:
        """Continuous alpha_bar(t) for float t in [0, T-1] (float64); exact at integers."""
        return torch.exp(2.0 * self._interp(t, self._log_alpha()))

    def marginal(self, t: Tensorish) -> tuple[torch.Tensor, torch.Tensor]:
        """(alpha_t, sigma_t) = (sqrt(alpha_bar(t)), sqrt(1 - alpha_bar(t))) of q(x_t | x_0)."""
        ab = self.alpha_bar(t)
        return ab.sqrt(), (1.0 - ab).sqrt()

    def lambda_(self, t: Tensorish) -> torch.Tensor:
        """lambda(t) = log(alpha_t / sigma_t) at float t (DPM-Solver's time variable)."""
        la = self._interp(t, self._log_alpha())
        return la - 0.5 * torch.log1p(-torch.exp(2.0 * la))

    def t_of_lambda(self, lam: Tensorish) -> torch.Tensor:
        """Inverse of ``lambda_``: the float t whose lambda(t) is ``lam`` (lambda decreases in t)."""
        lam = torch.as_tensor(lam, dtype=torch.float64)
        table = self.lambdas  # decreasing in t
        lo_val, hi_val = table[-1], table[0]
        if bool(((lam < lo_val - 1e-9) | (lam > hi_val + 1e-9)).any()):
            raise ValueError("lambda outside the schedule's range")
        # log alpha is linear in t between integers; invert lambda -> log alpha -> t
        log_alpha = -0.5 * torch.log1p(torch.exp(-2.0 * lam))  # alpha^2 = 1 / (1 + e^{-2 lambda})
        la_table = self._log_alpha()  # decreasing in t
        idx = torch.searchsorted(-la_table, -log_alpha.reshape(-1)).reshape(lam.shape)
        idx = idx.clamp(1, self.T - 1)
        la_hi, la_lo = la_table[idx - 1], la_table[idx]
        frac = (la_hi - log_alpha) / (la_hi - la_lo)
        return (idx - 1).to(torch.float64) + frac.clamp(0.0, 1.0)


def linear_schedule(T: int = 1000, beta_start: float = 1e-4, beta_end: float = 0.02) -> Schedule:
    """DDPM's linear betas (the paper's schedule: 1e-4 -> 0.02, T = 1000)."""
    if T < 2:
        raise ValueError("T must be at least 2")
    return Schedule("linear", torch.linspace(beta_start, beta_end, T, dtype=torch.float64))


def cosine_schedule(T: int = 1000, s: float = 0.008, max_beta: float = 0.999) -> Schedule:
    """Nichol & Dhariwal's cosine schedule: alpha_bar(t) = cos^2(((t/T + s) / (1 + s)) * pi/2)."""
    if T < 2:
        raise ValueError("T must be at least 2")

    def f(u: float) -> float:
        return math.cos((u + s) / (1 + s) * math.pi / 2) ** 2  # alpha_bar before normalising

    betas = [min(1 - f((i + 1) / T) / f(i / T), max_beta) for i in range(T)]  # beta_t = 1 - ab_t/ab_{t-1}
    return Schedule("cosine", torch.tensor(betas, dtype=torch.float64))


#: name -> maker: the one list of noise schedules (``linear``: the paper's; ``cosine``: Nichol & Dhariwal's).
SCHEDULES = {"linear": linear_schedule, "cosine": cosine_schedule}


def get_schedule(name: str, T: int = 1000) -> Schedule:
    """A schedule by name, one of :data:`SCHEDULES`: ``linear`` (the paper's) or ``cosine``."""
    if name not in SCHEDULES:
        raise ValueError(f"unknown schedule {name!r}: use one of {', '.join(SCHEDULES)}")
    return SCHEDULES[name](T)
