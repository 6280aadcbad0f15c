"""Samplers side by side on a trained checkpoint (``mmdiff-lite bench sampling``): seconds, NFE and
scores (with the standard errors of f1 and semantic) of the samplers of ``SAMPLER_TABLE`` on the same
seeds, with the RS-MMA shift as trained (default), random, or off (R = 0) at sampling time; each row's f1
minus the first sampler's (with one sampler: the first shift mode's), pair by pair on the same seeds, with
the standard error of that difference.
"""
from __future__ import annotations

from typing import Sequence

import torch

from ..pipeline import compare_samplers, load_model, sampling_setup
from ..utils import default_device
from ..viz.model import table_text

__all__ = ["sampling_benchmark", "sampling_markdown"]

_COLUMNS = {"sampler": "sampler", "shift": "shift", "nfe": "NFE", "seconds": "seconds", "f1": "f1",
            "se_f1": "f1 se", "chance_f1": "f1 chance", "semantic": "semantic", "se_semantic": "semantic se",
            "chance_semantic": "semantic chance",
            "f1_exact": "f1 exact", "video_plausibility": "video plaus.", "audio_plausibility": "audio plaus.",
            "d_f1": "Δf1", "se_d_f1": "Δf1 se"}


def sampling_benchmark(checkpoint: str = "tiny", n: int = 64, seed: int = 0, methods: Sequence[str] | None = None,
                       shifts: Sequence[str | int] = ("trained",), batch_size: int = 16,
                       progress: bool = True) -> dict:
    """The sampler table of ``checkpoint`` (shipped name, run folder or file) on ``n`` pairs per row; rows
    keep their per-pair scores (``per_clip``), and ``d_f1`` ± ``se_d_f1`` compare each with the first row."""
    if n < 1:
        raise ValueError("--n must be at least 1")
    model, meta = load_model(checkpoint, device=default_device())
    schedule, preset = sampling_setup(meta)
    rows = compare_samplers(model, n, preset, seed=seed, progress=progress, schedule=schedule, shifts=shifts,
                            labels=methods, batch_size=batch_size)
    return {"checkpoint": str(checkpoint), "step": meta.get("step"), "preset": preset, "n": n, "seed": seed,
            "batch_size": batch_size, "device": str(next(model.parameters()).device),
            "threads": torch.get_num_threads(), "reference": rows[0]["d_reference"] if rows else None, "rows": rows}


def sampling_markdown(result: dict) -> str:
    """A Markdown heading line and table of a :func:`sampling_benchmark` result."""
    rows = [{label: r[key] for key, label in _COLUMNS.items()} for r in result["rows"]]
    head = (f"Samplers on checkpoint `{result['checkpoint']}` (step {result['step']}): {result['n']} pairs, "
            f"seed {result['seed']}, {result['threads']} threads on {result['device']}; "
            f"Δf1 = f1 minus {result['reference']}'s on the same seeds, pair by pair (se of that difference)")
    return head + "\n\n" + table_text(rows, floats="{:.3f}", markdown=True) + "\n"
