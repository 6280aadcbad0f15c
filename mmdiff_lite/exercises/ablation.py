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
    for base in (100.0, 10000.0, 3.0):  # the base is a parameter, not a constant
        msg = close(fn(x, tau, base), rotate(x[None, None], tau, base)[0, 0], rtol=1e-4, atol=1e-5)
        if msg:
            return f"base {base}: {msg}"
    return None


@exercise("10.rotary-offset", notebook=NB, kind="predict", answer="logits_differ",
          hint="a rotated logit is qᵀ R(ω(τ_k − τ_q)) k: what changes between the two keys, and what stays?")
def _offset(answer):
    if not isinstance(answer, bool):
        return "answer True or False"
    return None if answer is True else ("the two keys have the same content but times one frame apart, so "
                                        "τ_k − τ_q differs by 1 and so do the rotated logits")
