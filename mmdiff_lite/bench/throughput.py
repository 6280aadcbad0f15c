"""Training throughput: the real :class:`mmdiff_lite.train.Trainer` step (synthetic data, loss, backward,
clipping, AdamW, EMA) timed step by step (``mmdiff-lite bench train``).
"""
from __future__ import annotations

import contextlib
import statistics
import tempfile
import time
from dataclasses import fields

import torch

from ..model import model_config
from ..train import Trainer, TrainConfig, train_config
from ..utils import tqdm

__all__ = ["train_throughput", "recipe_config", "torch_threads"]


def _split_options(options: dict) -> tuple[dict, dict]:
    """(training options, model options): keys naming a TrainConfig field train, the others the model."""
    names = {f.name for f in fields(TrainConfig)}
    return {k: v for k, v in options.items() if k in names}, {k: v for k, v in options.items() if k not in names}


def recipe_config(preset: str, options: dict | None = None, **fields):
    """The training recipe ``preset`` with ``fields`` and ``options`` (TrainConfig fields or else model options,
    as ``--set`` gives them); unknown model options get one clear error."""
    train_opts, model_opts = _split_options(options or {})
    model_overrides = {**train_opts.pop("model_overrides", {}), **model_opts}
    cfg = train_config(preset, **fields, **train_opts, **({"model_overrides": model_overrides} if model_overrides else {}))
    model_config(cfg.preset, **cfg.model_overrides)
    return cfg


@contextlib.contextmanager
def torch_threads(threads: int | None):
    """torch's thread count set to ``threads`` (``None``: unchanged) for the ``with`` block, then restored."""
    before = torch.get_num_threads()
    if threads:
        torch.set_num_threads(threads)
    try:
        yield torch.get_num_threads()
    finally:
        torch.set_num_threads(before)


def train_throughput(preset: str = "tiny", batch_size: int = 16, steps: int = 20, warmup: int = 2,
                     threads: int | None = None, options: dict | None = None, progress: bool = True) -> dict:
    """Clips per second and seconds per step of training recipe ``preset``: the median over ``steps``
    Trainer steps after ``warmup`` warm-up steps.  ``options`` are TrainConfig fields or model options.
    """
    if steps <= warmup:
        raise ValueError(f"--steps must be more than the {warmup} warm-up steps")
    cfg = recipe_config(preset, options, steps=steps, batch_size=batch_size)
    with torch_threads(threads) as used, tempfile.TemporaryDirectory() as out:
        trainer = Trainer(cfg, out, progress=False)
        times = []
        for _ in tqdm(range(steps), desc="bench train", disable=not progress):
            t0 = time.perf_counter()
            trainer.train_step()  # ends in loss.item(): the step has finished on any device
            times.append(time.perf_counter() - t0)
    s = statistics.median(times[warmup:])
    return {"preset": preset, "batch_size": batch_size, "steps": steps, "warmup": warmup, "threads": used,
            "device": str(trainer.device), "params": sum(p.numel() for p in trainer.model.parameters()),
            "s_per_step": s, "clips_per_s": batch_size / s, "options": options or {}}
