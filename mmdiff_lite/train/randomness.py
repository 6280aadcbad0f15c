"""Every random choice of a training step, derived from the run's seed (not from the process count).

A step's clips, timesteps, noises and RS-MMA shifts are functions of ``(seed, step, global sample
index)``.  So a run resumed at step k continues exactly, and 2 processes with half the batch each
draw exactly what 1 process with the whole batch draws.
"""
from __future__ import annotations

from typing import Mapping, Sequence

import torch

from ..utils import derive_seed, make_generator

__all__ = ["derive_seed", "step_generator", "draw_t_and_noise"]


def step_generator(seed: int, step: int, purpose: str, device: str | torch.device = "cpu") -> torch.Generator:
    """A generator for one purpose of one step (e.g. the RS-MMA shifts: the same on every process)."""
    return make_generator(derive_seed(seed, purpose, step), device)


def draw_t_and_noise(seed: int, sample_ids: Sequence[int], shapes: Mapping[str, Sequence[int]],
                     T: int) -> tuple[torch.Tensor, dict]:
    """t ~ U{0..T-1} and eps ~ N(0, I) per modality for each global sample index (CPU tensors).

    ``shapes`` maps modality -> per-sample shape.  Sample i's draws depend only on (seed, i).
    """
    ts, noise = [], {k: [] for k in sorted(shapes)}
    for i in sample_ids:
        g = make_generator(derive_seed(seed, "sample", int(i)))
        ts.append(torch.randint(0, T, (1,), generator=g))
        for k in sorted(shapes):
            noise[k].append(torch.randn(tuple(shapes[k]), generator=g))
    return torch.cat(ts), {k: torch.stack(v) for k, v in noise.items()}
