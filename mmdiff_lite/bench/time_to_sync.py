"""Time to sync (``mmdiff-lite bench time-to-sync``): how long a recipe trains, from scratch, before the sound follows
the ball.

The run trains with the real :class:`mmdiff_lite.train.Trainer` and every ``eval_every`` steps scores the EMA weights
the same way: DPM-Solver-20, ``n`` pairs from a fixed evaluation seed, the benchmark's sync scores.  Training time
(the trainer's own wall clock, evaluation excluded) and evaluation time are kept apart.  The result is the training
time at which ``f1 >= 0.7`` and ``semantic >= 0.7`` first both hold, with the whole curve.

Resumable: the run folder keeps its training state and ``curve.json`` its rows, so an interrupted benchmark goes on
from its last evaluated step.
"""
from __future__ import annotations

import time
from dataclasses import asdict, replace
from pathlib import Path

import torch

from ..pipeline.evaluate import score_pairs_with_chance
from ..pipeline.generate import generate
from ..train import Trainer
from ..utils import write_json
from .throughput import recipe_config, torch_threads

__all__ = ["time_to_sync", "GOALS", "first_sync"]

#: The scores that define "in sync" (the issue's goal): both must hold at one evaluation.
GOALS = {"f1": 0.7, "semantic": 0.7}


def first_sync(rows: list[dict], goals: dict = GOALS) -> dict | None:
    """The first row (in step order) at which every goal holds, or ``None``."""
    return next((r for r in sorted(rows, key=lambda r: r["step"]) if all(r[k] >= v for k, v in goals.items())), None)


def _curve_path(out: Path) -> Path:
    return out / "curve.json"


def _read_rows(out: Path, recipe: dict) -> list[dict]:
    import json

    path = _curve_path(out)
    if not path.is_file():
        return []
    saved = json.loads(path.read_text())
    if saved.get("recipe") != recipe:
        raise ValueError(f"{out} holds a time-to-sync run of another recipe: choose a new --out (or delete it)")
    return saved["rows"]


def time_to_sync(out: str | Path, preset: str = "tiny", *, eval_every: int = 250, max_steps: int = 8000, n: int = 64,
                 eval_seed: int = 10_000, options: dict | None = None, threads: int | None = None,
                 stop_at_sync: bool = True, progress: bool = True) -> dict:
    """Train recipe ``preset`` (with ``options``: TrainConfig fields or model options) from scratch into
    ``out/run``, score it every ``eval_every`` steps, and return ``{"recipe", "rows", "sync", ...}`` (also written
    to ``out/curve.json``).  ``stop_at_sync``: stop at the first evaluation at which the goals hold."""
    if eval_every < 1 or max_steps < eval_every or n < 2:
        raise ValueError("eval_every must be >= 1, max_steps >= eval_every and n >= 2 (the chance level needs 2 pairs)")
    out = Path(out)
    cfg = recipe_config(preset, options, steps=eval_every)
    recipe = {"train": asdict(replace(cfg, steps=0)), "eval": {"sampler": "DPM-Solver-20", "n": n, "seed": eval_seed},
              "threads": threads or torch.get_num_threads()}
    rows = _read_rows(out, recipe)
    with torch_threads(threads):
        while True:
            done = max((r["step"] for r in rows), default=0)
            if (stop_at_sync and first_sync(rows)) or done >= max_steps:
                break
            step = done + eval_every
            trainer = Trainer(replace(cfg, steps=step), out / "run", resume="auto", progress=progress)
            trainer.run()
            started = time.perf_counter()
            pairs = generate(trainer.ema.model, n, method="dpm_solver", steps=20, seed=eval_seed,
                             schedule=trainer.schedule, progress=False)
            scores = score_pairs_with_chance(pairs, trainer.data_preset)
            scores.pop("per_clip")
            rows.append({"step": step, "train_seconds": round(trainer.wall, 2),
                         "eval_seconds": round(time.perf_counter() - started, 2), **scores})
            write_json(_curve_path(out), {"recipe": recipe, "rows": rows})
            if progress:
                r = rows[-1]
                print(f"step {step}: {r['train_seconds']:.0f} s of training, f1 {r['f1']:.3f} (chance "
                      f"{r['chance_f1']:.3f}), semantic {r['semantic']:.3f}, eval {r['eval_seconds']:.0f} s", flush=True)
    hit = first_sync(rows)
    result = {"recipe": recipe, "rows": rows, "goals": GOALS,
              "sync": None if hit is None else {"step": hit["step"], "train_seconds": hit["train_seconds"]},
              "eval_seconds_total": round(sum(r["eval_seconds"] for r in rows), 1)}
    write_json(_curve_path(out), result)
    return result
