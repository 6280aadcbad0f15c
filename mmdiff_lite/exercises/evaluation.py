"""Exercises of notebooks/09_evaluation.ipynb."""
from __future__ import annotations

from .base import exercise, within

NB = "09_evaluation"


@exercise("09.frechet-1d", notebook=NB, kind="write", answer="frechet_1d",
          hint="in one dimension the matrix square roots are ordinary ones: d² = (μ₁ − μ₂)² + (σ₁ − σ₂)²")
def _frechet_1d(fn):
    from ..metrics import frechet_gaussians

    for m1, v1, m2, v2 in ((0.0, 1.0, 0.0, 1.0), (1.0, 4.0, -1.0, 1.0), (0.5, 0.25, 2.0, 9.0)):
        want = frechet_gaussians([m1], [[v1]], [m2], [[v2]])
        if (problem := within(fn(m1, v1, m2, v2), want, 1e-9 + 1e-9 * want,
                              f"for means {m1}, {m2} and variances {v1}, {v2} your distance")) is not None:
            return problem
    return None


@exercise("09.mmd-from-kernels", notebook=NB, kind="write", answer="my_mmd2",
          hint="leave out the diagonals of kxx and kyy: sum minus trace, over n(n − 1); the cross term is a plain mean")
def _mmd(fn):
    import numpy as np

    from ..metrics import mmd2_unbiased, polynomial_kernel

    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(30, 4)), rng.normal(0.5, 1.0, size=(20, 4))
    k = lambda a, b: polynomial_kernel(a, b)  # noqa: E731
    want = mmd2_unbiased(x, y)
    return within(fn(k(x, x), k(y, y), k(x, y)), want, 1e-9 * abs(want) + 1e-12, "your MMD²")


@exercise("09.sees-pairing", notebook=NB, kind="predict", answer="sees_pairing",
          hint="give every video another clip's sound: the set of videos and the set of sounds stay exactly the same")
def _pairing(answer):
    if not isinstance(answer, dict) or set(answer) != {"fvd", "fad", "fjd"}:
        return "answer a dict {'fvd': bool, 'fad': bool, 'fjd': bool}"
    wrong = [k for k, want in (("fvd", False), ("fad", False), ("fjd", True)) if bool(answer[k]) != want]
    return None if not wrong else f"look again at {', '.join(wrong)}: which of them sees both halves of a pair at once?"
