"""Exercises of notebooks/12_user_study.ipynb."""
from __future__ import annotations

from .base import exercise, within

NB = "12_user_study"


@exercise("12.wilson", notebook=NB, kind="write", answer="my_wilson",
          hint="center = (p + z²/2n)/(1 + z²/n), half = z·√(p(1−p)/n + z²/4n²)/(1 + z²/n), with z = 1.96 for 95%")
def _wilson(fn):
    from ..metrics import wilson_interval

    for k, n in ((0, 10), (7, 20), (50, 100), (19, 20)):
        want = wilson_interval(k, n)
        got = fn(k, n)
        if not isinstance(got, (tuple, list)) or len(got) != 2:
            return "return a pair (low, high)"
        for name, g, w in (("low", got[0], want["low"]), ("high", got[1], want["high"])):
            if (problem := within(g, w, 2e-3, f"for {k} of {n} your {name} end")) is not None:
                return problem
    return None


@exercise("12.coin-raters", notebook=NB, kind="predict", answer="coin_raters",
          hint="a rater who cannot tell says 'real' half the time for every clip, real ones included")
def _coin(answer):
    if not isinstance(answer, dict) or set(answer) != {"generated_share", "real_share", "fooled"}:
        return "answer a dict {'generated_share': float, 'real_share': float, 'fooled': bool}"
    for k in ("generated_share", "real_share"):
        try:
            value = float(answer[k])
        except (TypeError, ValueError):
            return f"{k} must be a number"
        if abs(value - 0.5) > 0.05:
            return f"look again at {k}: what does a fair coin say, whatever the clip?"
    if str(answer["fooled"]) not in ("False", "True"):
        return "fooled must be True or False"
    if bool(answer["fooled"]):
        return "a share of 50% from raters who cannot see the clips says nothing about the model"
    return None


@exercise("12.votes-to-halve", notebook=NB, kind="predict", answer="votes_to_halve",
          hint="the interval's half-width falls as 1/√n")
def _halve(answer):
    if not isinstance(answer, (int, float)) or isinstance(answer, bool):
        return "answer a number: how many times as many votes"
    return None if abs(answer - 4) < 0.5 else f"{answer} times the votes would shrink the width by √{answer}"
