"""Score generated pairs: samplers side by side, coupled vs uncoupled models, shift on vs off.

Taught in: notebooks/07_joint_sampling.ipynb.
"""
from __future__ import annotations

import time
from typing import Iterable

import torch

from ..metrics.sync import HEADLINE_KEYS, sync_scores
from .generate import generate

__all__ = ["SAMPLER_TABLE", "score_generated", "compare_samplers"]

#: The sampler comparison of the training issue: (label, method, steps, options).
SAMPLER_TABLE = [
    ("DDPM-1000", "ddpm", 1000, {}),
    ("DDIM-50", "ddim", 50, {}),
    ("DPM-Solver-20", "dpm_solver", 20, {"order": 3}),
    ("DPM-Solver++-20", "dpm_solver++", 20, {"order": 2}),
]



def score_generated(model: torch.nn.Module, n: int, preset: str, *, method: str = "dpm_solver", steps: int = 20,
                    seed: int = 0, batch_size: int = 16, progress: bool = False, **options) -> dict:
    """Generate ``n`` pairs and return their benchmark scores, the seconds taken and the pairs."""
    start = time.perf_counter()
    pairs = generate(model, n, method=method, steps=steps, seed=seed, batch_size=batch_size, progress=progress, **options)
    seconds = time.perf_counter() - start
    scores = sync_scores(pairs["video"], pairs["audio"], preset=preset)
    return {"seconds": seconds, **{k: scores[k] for k in HEADLINE_KEYS}, "pairs": pairs}


def compare_samplers(model: torch.nn.Module, n: int, preset: str, table: Iterable = SAMPLER_TABLE, *,
                     seed: int = 0, progress: bool = False) -> list[dict]:
    """One row per sampler of ``table`` on the same seeds: label, NFE, seconds and scores."""
    rows = []
    for label, method, steps, options in table:
        r = score_generated(model, n, preset, method=method, steps=steps, seed=seed, progress=progress, **options)
        r.pop("pairs")
        rows.append({"sampler": label, "nfe": steps, **r})
    return rows
