"""Exercises of notebooks/10_ablations.ipynb."""
from __future__ import annotations

from .base import close, exercise

NB = "10_ablations"


@exercise("10.rotate-pairs", notebook=NB, kind="write", answer="rotate_pairs",
          hint="pair p is the complex number x[2p] + i·x[2p+1]; multiply it by exp(i·ω_p·τ), ω_p = base^(−2p/d)")
def _rotate(fn):
    import torch

    from ..model.rotary import rotate

    torch.manual_seed(0)
    x, tau = torch.randn(5, 8), torch.rand(5) * 16
    got = fn(x, tau, 100.0)
    return close(got, rotate(x[None, None], tau, 100.0)[0, 0], rtol=1e-4, atol=1e-5)


@exercise("10.rotary-shift", notebook=NB, kind="predict", answer="score_depends_on_R",
          hint="R decides which keys a query may see, not the keys' times: what does a rotated score depend on?")
def _shift(answer):
    if not isinstance(answer, bool):
        return "answer True or False"
    return None if answer is False else "the score depends on τ_k − τ_q only, and R changes neither time"
