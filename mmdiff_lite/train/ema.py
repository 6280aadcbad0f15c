"""Exponential moving average of the weights (the authors keep one at 0.9999)."""
from __future__ import annotations

import copy

import torch
from torch import nn

__all__ = ["EMA"]


class EMA:
    """theta_ema <- d * theta_ema + (1 - d) * theta after each optimizer step.

    The decay ramps as d_n = min(decay, (1 + n) / (warmup + n)) over the first updates, so early EMA weights are
    not dominated by the random initialisation. After n updates the average spans about (warmup + n) / (warmup - 1)
    recent steps until d_n reaches ``decay``: ``warmup`` 10 (the default, guided-diffusion's ramp) spans n / 9,
    a larger one fewer steps (a shorter lag behind the raw weights early in a run), and 1 turns the ramp off.
    """

    def __init__(self, model: nn.Module, decay: float = 0.9999, warmup: float = 10.0):
        if not 0.0 <= decay < 1.0:
            raise ValueError("EMA decay must be in [0, 1)")
        if isinstance(warmup, bool) or not warmup >= 1.0:
            raise ValueError(f"EMA warmup must be a number >= 1 (1: no ramp; got {warmup!r})")
        self.decay, self.warmup, self.updates = float(decay), float(warmup), 0
        self.model = copy.deepcopy(model).eval().requires_grad_(False)

    def current_decay(self) -> float:
        return min(self.decay, (1 + self.updates) / (self.warmup + self.updates))

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        d = self.current_decay()
        for e, p in zip(self.model.parameters(), model.parameters()):
            e.lerp_(p.detach().to(e.dtype), 1.0 - d)  # e = d e + (1 - d) p
        for e, b in zip(self.model.buffers(), model.buffers()):
            e.copy_(b)
        self.updates += 1
