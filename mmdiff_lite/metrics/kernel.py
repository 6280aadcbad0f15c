"""The kernel distance (KID, and KVD on video features): an unbiased estimate of the squared maximum mean
discrepancy with the polynomial kernel k(a, b) = (γ aᵀb + c)^p, p = 3, γ = 1/d, c = 1, as the authors
compute KVD (StyleGAN-V's code, after KID).

    MMD²_u = 1/(n(n−1)) Σ_{i≠j} k(xᵢ, xⱼ) + 1/(m(m−1)) Σ_{i≠j} k(yᵢ, yⱼ) − 2/(nm) Σ_{i,j} k(xᵢ, yⱼ)

Leaving out the i = j terms makes the estimate *unbiased* (its mean over repeated draws is the true MMD²,
whatever the sample count), unlike the Fréchet distance. The price: for two sets from one distribution
the true value is 0, so about half of the estimates are **negative**. A negative KVD is noise around 0,
not an error (the paper's ground-truth row reports −0.12).

Taught in: notebooks/09_evaluation.ipynb
"""
from __future__ import annotations

import numpy as np

from .frechet import as_features

__all__ = ["polynomial_kernel", "mmd2_unbiased", "kernel_distance"]


def polynomial_kernel(a, b, degree: int = 3, gamma: float | None = None, coef: float = 1.0) -> np.ndarray:
    """k(a, b) = (γ aᵀb + c)^p for all rows of ``a`` (n, d) and ``b`` (m, d): an (n, m) array; γ = 1/d by default.

    Taught in: notebooks/09_evaluation.ipynb
    """
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    gamma = 1.0 / a.shape[1] if gamma is None else gamma
    return (gamma * a @ b.T + coef) ** degree


def _mmd2_from_kernels(kxx: np.ndarray, kyy: np.ndarray, kxy: np.ndarray) -> float:
    n, m = len(kxx), len(kyy)
    xx = (kxx.sum() - np.trace(kxx)) / (n * (n - 1))
    yy = (kyy.sum() - np.trace(kyy)) / (m * (m - 1))
    return float(xx + yy - 2.0 * kxy.mean())


def mmd2_unbiased(x, y, degree: int = 3, gamma: float | None = None, coef: float = 1.0) -> float:
    """MMD²_u of feature sets ``x`` (n, d) and ``y`` (m, d) with the polynomial kernel (the equation above).

    Taught in: notebooks/09_evaluation.ipynb
    """
    x, y = as_features(x, "x"), as_features(y, "y")
    if x.shape[1] != y.shape[1]:
        raise ValueError(f"x and y have different feature sizes ({x.shape[1]} and {y.shape[1]})")
    k = lambda a, b: polynomial_kernel(a, b, degree, gamma, coef)  # noqa: E731
    return _mmd2_from_kernels(k(x, x), k(y, y), k(x, y))


def kernel_distance(x, y, subsets: int | None = None, subset_size: int = 1000, seed: int = 0, **kernel) -> float:
    """The KID/KVD of ``x`` and ``y``: :func:`mmd2_unbiased` on all features (``subsets=None``, the default),
    or its mean over ``subsets`` random subsets of ``min(subset_size, n, m)`` from each set, drawn
    without replacement (StyleGAN-V's KVD uses 100 subsets of at most 1000). Both have the same mean.

    Taught in: notebooks/09_evaluation.ipynb
    """
    x, y = as_features(x, "x"), as_features(y, "y")
    if subsets is None:
        return mmd2_unbiased(x, y, **kernel)
    rng = np.random.default_rng(seed)
    m = min(subset_size, len(x), len(y))
    return float(np.mean([mmd2_unbiased(x[rng.choice(len(x), m, replace=False)],
                                        y[rng.choice(len(y), m, replace=False)], **kernel) for _ in range(subsets)]))
