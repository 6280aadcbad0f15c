"""Confidence intervals for small samples: Student-t for means (seeds of an ablation, raters of a study) and
Wilson's score interval for a share (the Turing test's "judged real").

Taught in: notebooks/10_ablations.ipynb, notebooks/12_user_study.ipynb
"""
from __future__ import annotations

import math
from typing import Sequence

__all__ = ["t_interval", "wilson_interval"]


def t_interval(values: Sequence[float], level: float = 0.95) -> dict:
    """Mean and Student-t interval half-width, mean ± t_{(1+level)/2, n-1} · s / √n (``half`` is ``None`` for n = 1).

    The interval for the mean of n independent draws of a normal variable; with 3 seeds t is 4.30, not 1.96.
    """
    v = [float(x) for x in values]
    n = len(v)
    if n == 0:
        raise ValueError("a t interval needs at least one value")
    mean = sum(v) / n
    if n < 2:
        return {"mean": mean, "half": None, "n": n}
    from scipy.stats import t

    sd = math.sqrt(sum((x - mean) ** 2 for x in v) / (n - 1))
    return {"mean": mean, "half": float(t.ppf(0.5 + level / 2, n - 1)) * sd / math.sqrt(n), "n": n}


def wilson_interval(successes: int, n: int, level: float = 0.95) -> dict:
    """Share p̂ = k/n and Wilson's score interval (center ± half)/(1 + z²/n), center = p̂ + z²/(2n),
    half = z·√(p̂(1−p̂)/n + z²/(4n²)).

    Unlike the normal approximation p̂ ± z·√(p̂(1−p̂)/n) it stays inside [0, 1] and does not collapse to a point
    at 0 or n successes, which matters for a class-sized Turing test (20 votes, 19 of them "real").
    """
    if n < 1 or not 0 <= successes <= n:
        raise ValueError(f"a share needs 0 <= successes <= n and n >= 1, got {successes} of {n}")
    from scipy.stats import norm

    z = float(norm.ppf(0.5 + level / 2))
    p = successes / n
    denom = 1 + z * z / n
    center = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    low, high = max(0.0, center - half), min(1.0, center + half)
    return {"share": p, "low": min(p, low), "high": max(p, high), "n": n, "k": successes}  # p̂ inside, despite rounding
