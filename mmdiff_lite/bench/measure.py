"""Run benchmark cases in fresh processes and assemble the tables ``mmdiff-lite bench`` prints.

Taught in: notebooks/05_rs_mma.ipynb (the cost curves; the measured tables come from the CLI)
"""
from __future__ import annotations

import json
import statistics
import subprocess
import sys


from ..model import model_config, model_rsmma_costs
from ..utils import tqdm

__all__ = ["measure", "rsmma_report", "step_report", "authors_comparison"]


def measure(spec: dict) -> dict:
    """Run one case (see :mod:`mmdiff_lite.bench.worker`) in a fresh Python process; its JSON result."""
    proc = subprocess.run([sys.executable, "-m", "mmdiff_lite.bench.worker", json.dumps(spec)],
                          capture_output=True, text=True)
    if proc.returncode:
        raise RuntimeError(f"benchmark case {spec} failed:\n{proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def rsmma_report(preset: str = "paper", batch: int = 1, reps: int = 3, backward: bool = False,
                 threads: int | None = None) -> dict:
    """Dense vs windowed RS-MMA at every RS-MMA resolution of ``preset`` (plus the middle block),
    and the whole model's RS-MMA cost (each block's time times its number of occurrences).

    Each row times the attention itself (``attn``: both directions on given q, k, v; the part whose
    cost the window divides by F/S) and the whole block (norms, q/k/v and output projections too,
    which the window does not change).
    """
    cfg = model_config(preset)
    levels = [lv for lv in range(cfg.num_levels) if cfg.windows[lv] is not None]
    cases = [*levels, "middle"] if cfg.middle_cross_attention else levels
    extra = {"threads": threads} if threads else {}
    rows = []
    for level in tqdm(cases, desc="rs-mma cases"):
        res = {impl: measure({"kind": "rsmma", "preset": preset, "level": level, "impl": impl, "batch": batch,
                              "reps": reps, "backward": backward, **extra})
               for impl in ("dense", "windowed")}
        window = res["dense"]["window"]
        rows.append({
            "level": level, "shape": res["dense"]["shape"], "S": window, "F/S": cfg.num_frames / window,
            "attn dense s": res["dense"]["core_seconds"], "attn windowed s": res["windowed"]["core_seconds"],
            "attn speed-up": res["dense"]["core_seconds"] / res["windowed"]["core_seconds"],
            "dense s": res["dense"]["seconds"], "windowed s": res["windowed"]["seconds"],
            "speed-up": res["dense"]["seconds"] / res["windowed"]["seconds"],
            "dense MB": res["dense"]["extra_mb"], "windowed MB": res["windowed"]["extra_mb"],
            "memory ratio": res["dense"]["extra_mb"] / max(res["windowed"]["extra_mb"], 1.0),
        })
    counts: dict = {}
    for name, cost in model_rsmma_costs(cfg):
        key = "middle" if name == "middle" else int(name.split()[-1])
        counts[key] = counts.get(key, 0) + 1
    total = {impl: sum(r[f"{impl} s"] * counts[r["level"]] for r in rows) for impl in ("dense", "windowed")}
    macs = {impl: sum(c.macs(impl) for _, c in model_rsmma_costs(cfg)) * batch for impl in ("dense", "windowed")}
    return {"rows": rows, "counts": counts, "total_seconds": total, "total_macs": macs}


def step_report(preset: str = "ref-small", batch: int = 8, reps: int = 3, overrides: dict | None = None,
                threads: int | None = None, profile: bool = False, authors_code: str | None = None,
                device: str = "cpu") -> dict:
    """Time of a training step (forward, MSE loss, backward), of the forward alone, and peak memory (on a GPU
    ``device``: the allocator's peak); with ``profile`` also the step's own CPU time per kernel family
    (``kernels``); with ``authors_code`` (a local checkout of the authors' repository) the same for their network
    at this configuration."""
    spec = {"kind": "step", "preset": preset, "batch": batch, "reps": reps, "overrides": overrides or {},
            "profile": profile, "device": device}
    if threads:
        spec["threads"] = threads
    if authors_code:
        spec["authors_code"] = str(authors_code)
    return measure(spec)


def authors_comparison(authors_code: str, preset: str = "ref-small", batch: int = 8, reps: int = 3,
                       overrides: dict | None = None, threads: int | None = None, rounds: int = 3,
                       device: str = "cpu") -> dict:
    """The kit's training step against the authors' at the same configuration, in one run: ``rounds`` rounds,
    each timing the kit and then the authors in fresh processes (so drifts of the machine hit both alike).
    Returns every round's rows and the medians: ``speed_up`` = authors' step time / the kit's, ``memory_ratio`` =
    the kit's peak-RSS growth / the authors'."""
    rows = []
    for r in tqdm(range(rounds), desc="rounds (kit, authors)"):
        for who, code in (("kit", None), ("authors", authors_code)):
            res = step_report(preset, batch, reps, overrides, threads, authors_code=code, device=device)
            rows.append({"round": r, "code": who, **res})
    med = {who: {k: statistics.median(row[k] for row in rows if row["code"] == who)
                 for k in ("step_seconds", "forward_seconds", "extra_mb", "peak_mb", "params")}
           for who in ("kit", "authors")}
    return {"rows": rows, "median": med, "speed_up": med["authors"]["step_seconds"] / med["kit"]["step_seconds"],
            "forward_speed_up": med["authors"]["forward_seconds"] / med["kit"]["forward_seconds"],
            "memory_ratio": med["kit"]["extra_mb"] / max(med["authors"]["extra_mb"], 1.0)}
