"""Plumbing shared by the samplers: dict arithmetic, model calls, progress, callbacks."""
from __future__ import annotations

from typing import Callable, Iterable, Mapping

import torch

from ...utils import tqdm

Pair = Mapping[str, torch.Tensor]
ModelFn = Callable[[dict, torch.Tensor], Mapping[str, torch.Tensor]]
#: ``callback(step, t, x, x0_hat)`` after each step; may return a dict that replaces x (e.g. to
#: overwrite a conditioning modality), or None.
Callback = Callable[[int, float, dict, dict], "dict | None"]


def lincomb(*terms: tuple[float, Pair]) -> dict:
    """sum_i c_i * x_i, key by key."""
    keys = terms[0][1].keys()
    return {k: sum(c * x[k] for c, x in terms) for k in keys}


def batch_size(x: Pair) -> int:
    sizes = {v.shape[0] for v in x.values()}
    if len(sizes) != 1:
        raise ValueError(f"all modalities must share the batch size, got {sorted(sizes)}")
    return sizes.pop()


def call_model(model_fn: ModelFn, x: Pair, t: float) -> dict:
    """Evaluate ``model_fn`` at one shared float time t and check what it returns."""
    first = next(iter(x.values()))
    tt = torch.full((batch_size(x),), float(t), dtype=torch.float32, device=first.device)
    out = model_fn(dict(x), tt)
    for k, v in x.items():
        if k not in out or out[k].shape != v.shape:
            got = tuple(out[k].shape) if k in out else "nothing"
            raise ValueError(f"model_fn returned {got} for {k!r}, expected {tuple(v.shape)}")
    return {k: out[k].to(v.dtype) for k, v in x.items()}


def x0_from_eps(x: Pair, eps: Pair, alpha: float, sigma: float, clip: float | None = None) -> dict:
    """x0_hat = (x_t - sigma_t eps) / alpha_t, optionally clipped to [-clip, clip]."""
    x0 = {k: (x[k] - sigma * eps[k]) / alpha for k in x}
    return {k: v.clamp(-clip, clip) for k, v in x0.items()} if clip is not None else x0


def eps_from_x0(x: Pair, x0: Pair, alpha: float, sigma: float) -> dict:
    """eps = (x_t - alpha_t x0) / sigma_t."""
    return {k: (x[k] - alpha * x0[k]) / sigma for k in x}


def randn_like(x: Pair, generator: torch.Generator | None) -> dict:
    return {k: torch.randn(v.shape, generator=generator, dtype=v.dtype, device=v.device) for k, v in sorted(x.items())}


def progress_iter(items: Iterable, total: int, enabled: bool, desc: str):
    return tqdm(items, total=total, desc=desc, leave=False) if enabled else items


def apply_callback(callback: Callback | None, step: int, t: float, x: dict, x0: dict) -> dict:
    if callback is None:
        return x
    out = callback(step, float(t), x, x0)
    return x if out is None else {**x, **out}
