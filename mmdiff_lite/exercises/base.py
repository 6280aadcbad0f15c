"""Exercises and their checkers: one registry for the whole course.

Each notebook ends with exercises of three kinds: ``predict`` (say a number, then check it), ``write`` (a small
function, checked against the package's own) and ``explain`` (change a parameter and say what happened; a model
answer is given, and where the change has a measurable outcome it is checked too).  In a notebook::

    mm.exercises.check("05.window-mask", globals().get("my_window_mask"))

shows ``correct`` or what is wrong with a hint: a :class:`Result`, which never raises, so a student's
"Run All" goes on.  The answer cells are tagged ``solution``; ``make student`` replaces them with
``# your code here``, and the tests check that every solution passes its checker and every emptied cell fails it.

Taught in: every notebook's last section.
"""
from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass
from typing import Any, Callable

__all__ = ["Exercise", "Result", "EXERCISES", "exercise", "check", "load_exercises", "KINDS"]

KINDS = ("predict", "write", "explain")


@dataclass(frozen=True)
class Exercise:
    """One exercise: ``id`` ("05.window-mask"), the notebook it ends, its kind, the name the answer cell
    defines, and a checker that returns ``None`` for a right answer or what is wrong."""

    id: str
    notebook: str
    kind: str
    answer: str
    checker: Callable[[Any], str | None]
    hint: str


@dataclass(frozen=True)
class Result:
    """What :func:`check` found: ``ok`` and the message it printed."""

    ok: bool
    message: str

    def __bool__(self) -> bool:
        return self.ok

    def __str__(self) -> str:
        return self.message

    def _ipython_display_(self) -> None:  # a notebook shows the verdict once, as text
        print(self.message)


#: Every exercise of the course, by id (filled by the modules of this package).
EXERCISES: dict[str, Exercise] = {}


def exercise(id: str, *, notebook: str, kind: str, answer: str, hint: str):
    """Register the decorated checker as exercise ``id``."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")

    def register(fn: Callable[[Any], str | None]):
        if id in EXERCISES:
            raise ValueError(f"exercise {id!r} is registered twice")
        EXERCISES[id] = Exercise(id, notebook, kind, answer, fn, hint)
        return fn

    return register


def check(id: str, answer: Any) -> Result:
    """Check ``answer`` for exercise ``id`` and return the verdict, which a notebook shows as one line (a wrong or
    missing answer gets the exercise's hint, and an answer that raises gets its error)."""
    load_exercises()
    if id not in EXERCISES:
        raise KeyError(f"no exercise {id!r}; the course has {', '.join(sorted(EXERCISES))}")
    ex = EXERCISES[id]
    if answer is None:
        result = Result(False, f"{id}: not answered yet: define `{ex.answer}` in the cell above. Hint: {ex.hint}")
    else:
        try:
            problem = ex.checker(answer)
        except Exception as err:  # the student's code raised: say so, do not stop the notebook
            problem = f"your answer raised {type(err).__name__}: {err}"
        result = Result(problem is None, f"{id}: correct" if problem is None else f"{id}: not yet: {problem}. "
                                                                                  f"Hint: {ex.hint}")
    return result


_LOADED = False


def load_exercises() -> dict[str, Exercise]:
    """Import every module of this package once (each registers its notebook's exercises)."""
    global _LOADED
    if not _LOADED:
        _LOADED = True
        for info in pkgutil.iter_modules(importlib.import_module(__package__).__path__):
            if info.name != "base":
                importlib.import_module(f"{__package__}.{info.name}")
    return EXERCISES


# ---- small helpers for checkers ----------------------------------------------------------------
def close(got, want, rtol: float = 1e-6, atol: float = 1e-8) -> str | None:
    """``None`` when two numbers or tensors agree, else how they differ."""
    import torch

    g = torch.as_tensor(got, dtype=torch.float64)
    w = torch.as_tensor(want, dtype=torch.float64)
    if g.shape != w.shape:
        return f"the shape is {tuple(g.shape)}, expected {tuple(w.shape)}"
    if not torch.allclose(g, w, rtol=rtol, atol=atol):
        return f"off by up to {float((g - w).abs().max()):.3g}"
    return None


def within(got, want: float, tol: float, what: str) -> str | None:
    """``None`` when the number ``got`` is within ``tol`` of ``want``; else a nudge without the answer."""
    try:
        got = float(got)
    except (TypeError, ValueError):
        return f"{what} must be a number, got {got!r}"
    if abs(got - want) <= tol:
        return None
    return f"{what} {got:g} is too {'high' if got > want else 'low'}"
