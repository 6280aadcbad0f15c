"""The Fréchet distance between two Gaussians fitted to feature sets: the maths behind FID, FVD and FAD.

Fit a Gaussian to each set of features (mean μ, covariance Σ) and take the squared 2-Wasserstein
distance between the two Gaussians:

    d² = ‖μ₁ − μ₂‖² + tr(Σ₁ + Σ₂ − 2 (Σ₁^½ Σ₂ Σ₁^½)^½)

It is 0 only when the two fits agree, and it only sees the first two moments of the features. The
estimate from samples is **biased upwards**: two sets of N draws from one distribution give about
tr-terms of order d/N, not 0 (:func:`frechet_extrapolated` removes the 1/N term). So two numbers are only
comparable at the same N, which is one reason why a reproduction at another sample count (or another
resize or feature network) lands far from the paper's FVD.

Taught in: notebooks/09_evaluation.ipynb
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

__all__ = ["gaussian_stats", "frechet_gaussians", "frechet_distance", "frechet_extrapolated", "as_features"]


def as_features(x, what: str = "features") -> np.ndarray:
    """``x`` (N, d) as a float64 array; a clear error for any other shape or for non-finite values."""
    a = np.asarray(x.detach().cpu() if hasattr(x, "detach") else x, dtype=np.float64)
    if a.ndim != 2:
        raise ValueError(f"{what} must be (N, d) feature vectors, got shape {tuple(a.shape)}")
    if len(a) < 2:
        raise ValueError(f"{what}: need at least 2 feature vectors to fit a covariance, got {len(a)}")
    if not np.isfinite(a).all():
        raise ValueError(f"{what} contain NaN or inf: check the clips and the feature network")
    return a


def gaussian_stats(features) -> tuple[np.ndarray, np.ndarray]:
    """Mean (d,) and unbiased covariance (d, d) of ``features`` (N, d), in float64 (as torchmetrics and
    pytorch-fid fit them)."""
    a = as_features(features)
    return a.mean(axis=0), np.cov(a, rowvar=False).reshape(a.shape[1], a.shape[1])


def _psd_sqrt(s: np.ndarray) -> np.ndarray:
    w, v = np.linalg.eigh((s + s.T) / 2)
    return (v * np.sqrt(np.clip(w, 0.0, None))) @ v.T


def frechet_gaussians(mu1, sigma1, mu2, sigma2) -> float:
    """d² = ‖μ₁ − μ₂‖² + tr(Σ₁ + Σ₂ − 2 (Σ₁^½ Σ₂ Σ₁^½)^½): the Fréchet (2-Wasserstein) distance of two Gaussians.

    ``tr((Σ₁Σ₂)^½)`` is computed as the sum of square roots of the eigenvalues of the symmetric PSD
    matrix Σ₁^½ Σ₂ Σ₁^½ (same eigenvalues as Σ₁Σ₂), so it stays real and stable for singular covariances.
    Taught in: notebooks/09_evaluation.ipynb
    """
    mu1, mu2 = np.asarray(mu1, np.float64), np.asarray(mu2, np.float64)
    s1, s2 = np.asarray(sigma1, np.float64), np.asarray(sigma2, np.float64)
    if mu1.shape != mu2.shape or s1.shape != s2.shape or s1.shape != mu1.shape * 2:
        raise ValueError(f"means {mu1.shape}/{mu2.shape} and covariances {s1.shape}/{s2.shape} do not match")
    root = _psd_sqrt(s1)
    cross = np.sqrt(np.clip(np.linalg.eigvalsh(root @ s2 @ root), 0.0, None)).sum()
    d2 = float(((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2.0 * cross)
    return max(d2, 0.0)


def frechet_distance(x, y) -> float:
    """The Fréchet distance between Gaussians fitted to feature sets ``x`` (N, d) and ``y`` (M, d).

    FVD, FAD and the kit's bench versions are this function applied to different features.
    Taught in: notebooks/09_evaluation.ipynb
    """
    x, y = as_features(x, "x"), as_features(y, "y")
    if x.shape[1] != y.shape[1]:
        raise ValueError(f"x and y have different feature sizes ({x.shape[1]} and {y.shape[1]})")
    return frechet_gaussians(*gaussian_stats(x), *gaussian_stats(y))


def frechet_extrapolated(x, y, sizes: Sequence[int] | None = None, seed: int = 0, repeats: int = 3) -> dict:
    """The Fréchet distance at several sample counts N and its straight-line extrapolation in 1/N to
    N = ∞ (the "FID∞" of Chong & Forsyth, 2020): ``{"sizes", "values", "at_infinity", "slope"}``.

    The estimate's bias is close to c/N, so the fitted intercept is what an infinite sample would give.
    Each size draws ``repeats`` random subsets without replacement (``seed``) from both sets.
    Taught in: notebooks/09_evaluation.ipynb
    """
    x, y = as_features(x, "x"), as_features(y, "y")
    n = min(len(x), len(y))
    if sizes is None:
        sizes = sorted({max(2, int(n * f)) for f in (0.25, 0.4, 0.6, 0.8, 1.0)})
    if len(sizes) < 2 or max(sizes) > n:
        raise ValueError(f"sizes must be at least two sample counts up to {n}")
    rng = np.random.default_rng(seed)
    values = []
    for m in sizes:
        draws = [frechet_distance(x[rng.choice(len(x), m, replace=False)], y[rng.choice(len(y), m, replace=False)])
                 for _ in range(repeats)]
        values.append(float(np.mean(draws)))
    slope, intercept = np.polyfit(1.0 / np.asarray(sizes, np.float64), values, 1)
    return {"sizes": list(map(int, sizes)), "values": values, "at_infinity": float(intercept), "slope": float(slope)}
