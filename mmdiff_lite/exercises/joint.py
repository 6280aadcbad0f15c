"""Exercises of notebooks/07_joint_sampling.ipynb."""
from __future__ import annotations

import numpy as np

from .base import close, exercise

NB = "07_joint_sampling"


@exercise("07.paired-difference", notebook=NB, kind="write", answer="my_paired_difference",
          hint="take d = a - b clip by clip; the mean of d, and its standard error std(d, ddof=1) / sqrt(n)")
def _paired(fn):
    from ..metrics import paired_difference

    rng = np.random.default_rng(0)
    for n in (2, 16, 128):
        a = rng.random(n)
        b = 0.7 * a + 0.3 * rng.random(n)
        got, want = fn(a, b), paired_difference(a, b)
        if not isinstance(got, (tuple, list)) or len(got) != 2:
            return "return a tuple (mean difference, standard error)"
        if (problem := close(got, want)) is not None:
            return f"for n = {n}: {problem}"
    return None


@exercise("07.pairing-helps", notebook=NB, kind="predict", answer="paired_se_smaller",
          hint="when the two samplers' scores of the same seed are correlated, the pair's difference varies less")
def _pairing(answer):
    rng = np.random.default_rng(1)
    a = rng.random(256)
    b = a - 0.05 + 0.1 * rng.standard_normal(256)  # the same seeds scored twice: strongly correlated
    paired = np.std(a - b, ddof=1) / np.sqrt(256)
    unpaired = np.sqrt(np.var(a, ddof=1) / 256 + np.var(b, ddof=1) / 256)
    if not isinstance(answer, bool):
        return "answer True or False"
    return None if answer == bool(paired < unpaired) else "compare the two standard errors for correlated scores"
