"""Toy data whose noise predictor is known exactly: Gaussians and Gaussian mixtures.

If x_0 ~ sum_k w_k N(mu_k, s_k^2 I) then x_t ~ sum_k w_k N(alpha_t mu_k, v_k(t) I) with
v_k(t) = alpha_t^2 s_k^2 + sigma_t^2, so the score and the optimal noise predictor
eps*(x_t, t) = -sigma_t * grad log p_t(x_t) have closed forms.  A sampler fed this predictor must
reproduce the data distribution; any error left is the sampler's own.

Taught in: notebooks/01_forward_diffusion.ipynb, notebooks/02_samplers.ipynb.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import torch

from .schedules import Schedule

__all__ = ["GaussianMixture", "gaussian_eps_model", "gaussian_ode_map", "two_moons_mixture", "sliced_wasserstein",
           "CorrelatedGaussian"]


@dataclass
class GaussianMixture:
    """sum_k w_k N(mu_k, s_k^2 I) in D dimensions: ``means`` (K, D), ``stds`` (K,), ``weights`` (K,)."""

    means: torch.Tensor
    stds: torch.Tensor
    weights: torch.Tensor

    def __post_init__(self):
        self.means = torch.as_tensor(self.means, dtype=torch.float64)
        self.stds = torch.as_tensor(self.stds, dtype=torch.float64).reshape(-1)
        w = torch.as_tensor(self.weights, dtype=torch.float64).reshape(-1)
        self.weights = w / w.sum()
        if self.means.ndim != 2 or not (len(self.means) == len(self.stds) == len(self.weights)):
            raise ValueError("means must be (K, D) with K stds and K weights")

    @property
    def dim(self) -> int:
        return self.means.shape[1]

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """n points (n, D), float32."""
        k = torch.multinomial(self.weights, n, replacement=True, generator=generator)
        z = torch.randn(n, self.dim, generator=generator, dtype=torch.float64)
        return (self.means[k] + self.stds[k, None] * z).float()

    def eps(self, x: torch.Tensor, t: torch.Tensor, schedule: Schedule) -> torch.Tensor:
        """Exact eps*(x_t, t) = -sigma_t * score: a responsibility-weighted sum over components."""
        a, s = schedule.marginal(t.double().cpu())  # alpha_t, sigma_t per sample
        a, s = a[:, None, None], s[:, None, None]
        xd = x.double().cpu()[:, None, :]  # (B, 1, D)
        v = a**2 * self.stds[None, :, None] ** 2 + s**2  # v_k(t) = alpha^2 s_k^2 + sigma^2   (B, K, 1)
        diff = xd - a * self.means[None]  # x - alpha mu_k
        logp = torch.log(self.weights)[None] - 0.5 * (diff**2).sum(-1) / v[..., 0] - 0.5 * self.dim * torch.log(v[..., 0])
        r = torch.softmax(logp, dim=1)[..., None]  # responsibilities r_k(x_t)
        score = -(r * diff / v).sum(1)  # grad log p_t = -sum_k r_k (x - alpha mu_k) / v_k
        return (-s[:, 0] * score).to(dtype=x.dtype, device=x.device)  # eps* = -sigma_t * score

    def model_fn(self, schedule: Schedule, key: str = "x"):
        """A ``model_fn`` for :func:`mmdiff_lite.sample` over the single modality ``key``."""
        return lambda x, t: {key: self.eps(x[key], t, schedule)}


def two_moons_mixture(k_per_moon: int = 8, std: float = 0.08) -> GaussianMixture:
    """A 2-D two-moons shape made of 2*k small Gaussians (a toy you can see, with an exact score)."""
    th = torch.linspace(0, torch.pi, k_per_moon, dtype=torch.float64)
    upper = torch.stack([torch.cos(th), torch.sin(th)], 1) - torch.tensor([0.5, 0.25])
    lower = torch.stack([1 - torch.cos(th), -torch.sin(th)], 1) - torch.tensor([0.5, -0.25])
    means = torch.cat([upper, lower]) * 0.8
    return GaussianMixture(means, torch.full((2 * k_per_moon,), std), torch.ones(2 * k_per_moon))


def _per_key(v, key):
    return v[key] if isinstance(v, Mapping) else v


def gaussian_eps_model(schedule: Schedule, mean, std):
    """``model_fn`` whose prediction is the exact eps* for data x_0 ~ N(mean, std^2 I) per modality.

    ``mean`` and ``std`` are floats or dicts by modality.  eps* = sigma_t (x_t - alpha_t mu) / v(t),
    v(t) = alpha_t^2 std^2 + sigma_t^2.
    """

    def model_fn(x: Mapping[str, torch.Tensor], t: torch.Tensor) -> dict:
        a, s = schedule.marginal(t.double().cpu())
        out = {}
        for k, xk in x.items():
            mu, sd = float(_per_key(mean, k)), float(_per_key(std, k))
            shape = (-1, *([1] * (xk.ndim - 1)))
            aa = a.reshape(shape).to(xk.device)
            ss = s.reshape(shape).to(xk.device)
            v = aa**2 * sd**2 + ss**2  # marginal variance of x_t
            out[k] = (ss * (xk.double() - aa * mu) / v).to(xk.dtype)  # eps* = sigma (x - alpha mu) / v
        return out

    return model_fn


def gaussian_ode_map(x: torch.Tensor, t_from: float, t_to: float, schedule: Schedule, mean: float, std: float):
    """Exact solution of the probability-flow ODE for Gaussian data between two times.

    The ODE keeps the standardised value (x_t - alpha_t mu) / sqrt(v(t)) constant, so
    x_to = alpha_to mu + sqrt(v_to / v_from) (x_from - alpha_from mu).
    """
    a0, s0 = (float(v) for v in schedule.marginal(t_from))
    a1, s1 = (float(v) for v in schedule.marginal(t_to))
    v0, v1 = a0**2 * std**2 + s0**2, a1**2 * std**2 + s1**2
    return a1 * mean + (v1 / v0) ** 0.5 * (x - a0 * mean)


@dataclass
class CorrelatedGaussian:
    """Two scalar "modalities" ``audio`` and ``video``, each N(0, 1), with correlation ``rho``.

    The joint noise predictor is exact: x_t ~ N(0, C_t), C_t = alpha_t^2 Sigma + sigma_t^2 I, so
    eps*(x_t) = sigma_t C_t^{-1} x_t; and the true conditional is known in closed form,
    p(a | v) = N(rho v, 1 - rho^2).  The toy on which zero-shot conditioning can be checked exactly.
    Taught in: notebooks/08_zero_shot_conditioning.ipynb.
    """

    rho: float = 0.9

    def model_fn(self, schedule: Schedule):
        """A ``model_fn`` over ``{"audio": (B, 1), "video": (B, 1)}`` (differentiable, for guidance)."""
        r = float(self.rho)

        def fn(x: Mapping[str, torch.Tensor], t: torch.Tensor) -> dict:
            a, s = (v.to(x["audio"].device, torch.float64)[:, None] for v in schedule.marginal(t.double().cpu()))
            xa, xv = x["audio"].double(), x["video"].double()
            d, o = a**2 + s**2, a**2 * r  # C_t = [[d, o], [o, d]] (unit variances)
            det = d**2 - o**2
            ea = s * (d * xa - o * xv) / det  # eps* = sigma_t C_t^{-1} x_t
            ev = s * (d * xv - o * xa) / det
            return {"audio": ea.to(x["audio"].dtype), "video": ev.to(x["video"].dtype)}

        return fn

    def conditional(self, given: float) -> tuple[float, float]:
        """(mean, variance) of the true p(other | given) = N(rho * given, 1 - rho^2)."""
        return self.rho * float(given), 1.0 - self.rho**2


def sliced_wasserstein(a: torch.Tensor, b: torch.Tensor, n_projections: int = 128,
                       generator: torch.Generator | None = None) -> float:
    """Sliced 1-Wasserstein distance between two point clouds (N, D) and (M, D).

    Project on random unit directions; in 1-D, W1 is the mean gap between matched quantiles.
    """
    a, b = a.double().cpu(), b.double().cpu()
    dirs = torch.randn(n_projections, a.shape[1], generator=generator, dtype=torch.float64)
    dirs = dirs / dirs.norm(dim=1, keepdim=True)
    qs = torch.linspace(0.005, 0.995, 199, dtype=torch.float64)
    pa = torch.quantile(a @ dirs.T, qs, dim=0)
    pb = torch.quantile(b @ dirs.T, qs, dim=0)
    return float((pa - pb).abs().mean())
