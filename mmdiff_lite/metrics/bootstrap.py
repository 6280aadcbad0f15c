"""Bootstrap confidence intervals for the distribution distances (Fréchet and kernel).

Both sets are resampled with replacement, the distance is recomputed, and the interval is the central
``level`` share of those replicates, moved by their mean offset from the estimate (a bias-corrected percentile
bootstrap). The correction matters for the Fréchet distance: a resampled set holds only about 63% distinct
clips, so its 1/N bias is larger than the original's and raw replicates sit above the estimate (often so far
that the plain percentile interval would not contain it). The kernel distance needs one care: a clip
drawn twice into one resampled set would pair with itself, and k(x, x) is exactly the term the unbiased
estimate leaves out; so pairs of *the same original clip* are left out of each replicate too.

The interval says how much the number would move with other clips from the same two distributions.
It does not remove the Fréchet distance's 1/N bias: an interval at N = 256 does not cover the value at
N = 2048.

Taught in: notebooks/09_evaluation.ipynb
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from .frechet import as_features, frechet_gaussians, gaussian_stats
from .kernel import polynomial_kernel

__all__ = ["bootstrap_interval", "frechet_interval", "kernel_interval"]


def bootstrap_interval(statistic: Callable[[np.ndarray, np.ndarray], float], n_x: int, n_y: int, value: float,
                       n_boot: int = 200, level: float = 0.95, seed: int = 0) -> dict:
    """``{"value", "low", "high", "se", "bootstrap_bias", "level", "n_boot"}``: the bias-corrected percentile
    interval of ``statistic(ix, iy)`` over ``n_boot`` resamplings of the index sets ``range(n_x)`` and ``range(n_y)``.

    ``se`` is the replicates' standard deviation, ``bootstrap_bias`` their mean minus ``value``. Taught in: notebooks/09_evaluation.ipynb
    """
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must be between 0 and 1, got {level}")
    if n_boot < 2:
        raise ValueError(f"n_boot must be at least 2, got {n_boot}")
    rng = np.random.default_rng(seed)
    reps = np.array([statistic(rng.integers(0, n_x, n_x), rng.integers(0, n_y, n_y)) for _ in range(n_boot)])
    bias = float(reps.mean() - value)
    lo, hi = np.quantile(reps, [(1.0 - level) / 2.0, (1.0 + level) / 2.0]) - bias
    return {"value": float(value), "low": float(lo), "high": float(hi), "se": float(reps.std(ddof=1)),
            "bootstrap_bias": bias, "level": level, "n_boot": n_boot}


def frechet_interval(x, y, **options) -> dict:
    """:func:`mmdiff_lite.metrics.frechet_distance` of ``x`` and ``y`` with its bootstrap interval (cut at 0)."""
    x, y = as_features(x, "x"), as_features(y, "y")

    def stat(ix, iy):
        return frechet_gaussians(*gaussian_stats(x[ix]), *gaussian_stats(y[iy]))

    ci = bootstrap_interval(stat, len(x), len(y), stat(np.arange(len(x)), np.arange(len(y))), **options)
    ci["low"] = max(ci["low"], 0.0)  # a Fréchet distance is never negative
    return ci


def _off_pairs_mean(k: np.ndarray, idx: np.ndarray) -> float:
    sub = k[np.ix_(idx, idx)]
    distinct = idx[:, None] != idx[None, :]
    return float(sub[distinct].mean())


def kernel_interval(x, y, degree: int = 3, gamma: float | None = None, coef: float = 1.0, **options) -> dict:
    """:func:`mmdiff_lite.metrics.mmd2_unbiased` of ``x`` and ``y`` with its bootstrap interval (pairs of one
    original clip left out of every replicate)."""
    x, y = as_features(x, "x"), as_features(y, "y")
    kxx, kyy, kxy = (polynomial_kernel(a, b, degree, gamma, coef) for a, b in ((x, x), (y, y), (x, y)))

    def stat(ix, iy):
        return _off_pairs_mean(kxx, ix) + _off_pairs_mean(kyy, iy) - 2.0 * float(kxy[np.ix_(ix, iy)].mean())

    return bootstrap_interval(stat, len(x), len(y), stat(np.arange(len(x)), np.arange(len(y))), **options)
