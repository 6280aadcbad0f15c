"""Write generated pairs to a folder: one mp4 with sound per pair, a contact sheet, ``pairs.npz`` and
``metrics.json`` (the benchmark's scores, their shuffled-pair chance level and what made the pairs).

Used by ``mmdiff-lite sample`` and ``mmdiff-lite demo``.
"""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import torch

from ..data import clip_preset, write_mp4
from ..metrics.reference import PAIRING_KEYS, shuffled_scores
from ..metrics.sync import sync_scores
from ..utils import atomic_path, check_output_folder, staged_folder, write_json
from ..viz.sheet import save_contact_sheet
from .checkpoints import sampling_setup
from .evaluate import timed_generate
from .generate import generate

__all__ = ["write_pairs", "sample_to_folder", "scores_line", "write_preview", "is_pairs_output", "check_pairs_folder"]

_PAIRS_FILES = re.compile(r"pair_\d+\.mp4|contact_sheet\.png|pairs\.npz|metrics\.json")


def is_pairs_output(name: str) -> bool:
    """Whether a file name is one :func:`write_pairs` writes (a folder of only these may be replaced)."""
    return _PAIRS_FILES.fullmatch(name) is not None


def check_pairs_folder(out: str | Path, overwrite: bool = False) -> Path:
    """Check before the work that ``out`` may receive pairs: new, empty, an earlier output of
    :func:`write_pairs` (replaced whole), or anything with ``overwrite``."""
    return check_output_folder(out, overwrite, owns=is_pairs_output)


def _floats(scores: dict) -> dict:
    return {k: v for k, v in scores.items() if isinstance(v, float)}


def write_pairs(out: str | Path, pairs: dict, preset: str, extra: dict | None = None, score: bool = True,
                overwrite: bool = False) -> dict:
    """Write ``pair_XX.mp4`` (frames scaled up to about 128 pixels), ``contact_sheet.png`` (up to 16
    clips), ``pairs.npz`` (``video`` (N, F, C, H, W), ``audio`` (N, C, T)) and ``metrics.json``
    (``scores``, ``chance`` (``None`` for one pair), ``n`` and ``extra``) into ``out``; return the metrics.
    ``score=False`` (clips that are not the synthetic benchmark's): ``scores`` and ``chance`` are ``None``.

    The folder is written beside ``out`` and then replaces it whole (:func:`mmdiff_lite.utils.staged_folder`),
    so no file of an earlier output stays; ``out`` must be new, empty, an earlier output, or ``overwrite``.
    Non-finite values (a model with damaged weights) are refused before anything is written."""
    cfg = clip_preset(preset)
    video, audio = pairs["video"], pairs["audio"]
    for key, x in (("video", video), ("audio", audio)):
        bad = int((~torch.isfinite(x)).sum())
        if bad:
            raise ValueError(f"the generated {key} holds {bad} NaN or infinite values, so nothing was written: the model's "
                             "weights are probably damaged or diverged (check its training log for a NaN loss)")
    with staged_folder(out, overwrite, owns=is_pairs_output) as tmp_out:
        for i in range(len(video)):
            write_mp4(tmp_out / f"pair_{i:02d}.mp4", video[i], audio[i], cfg.fps, cfg.sample_rate,
                      scale=max(1, 128 // cfg.width))
        save_contact_sheet(tmp_out / "contact_sheet.png", video[:16])
        with atomic_path(tmp_out / "pairs.npz") as tmp:
            with open(tmp, "wb") as f:
                np.savez_compressed(f, video=video.numpy(), audio=audio.numpy())
        chance = _floats(shuffled_scores(video, audio, cfg)) if score and len(video) > 1 else None
        scores = _floats(sync_scores(video, audio, preset=cfg)) if score else None
        metrics = {"scores": scores, "chance": chance, "n": len(video), **(extra or {})}
        write_json(tmp_out / "metrics.json", metrics)
    return metrics


def write_preview(model: torch.nn.Module, folder: str | Path, *, n: int, preset: str, schedule, score: bool = True,
                  extra: dict | None = None) -> dict:
    """A trainer's preview: ``n`` pairs of ``model`` (DPM-Solver-20, seed 0: the same starting noise every
    time, so successive previews show the same pairs improving), written by :func:`write_pairs`.

    Taught in: notebooks/06_training.ipynb.
    """
    pairs = generate(model, n, seed=0, schedule=schedule, progress=False)
    return write_pairs(folder, pairs, preset, extra, score=score, overwrite=True)


def sample_to_folder(model: torch.nn.Module, meta: dict, out: str | Path, *, n: int, method: str = "dpm_solver",
                     steps: int = 20, seed: int = 0, batch_size: int = 16, shift: str | int = "trained",
                     progress: bool = True, extra: dict | None = None, overwrite: bool = False, **options) -> dict:
    """Generate ``n`` pairs with a loaded checkpoint (``meta``: its header, for its schedule and clip
    preset) and :func:`write_pairs` them to ``out`` with the sampler settings, NFE and seconds taken.
    ``out`` is checked before the sampling starts."""
    check_pairs_folder(out, overwrite)
    schedule, preset = sampling_setup(meta)
    pairs, seconds, nfe = timed_generate(model, n, method=method, steps=steps, seed=seed, schedule=schedule,
                                         batch_size=batch_size, progress=progress, shift=shift, **options)
    info = {"method": method, "steps": steps, "nfe": nfe, "seed": seed, "shift": shift, "seconds": seconds}
    return write_pairs(out, pairs, preset, {**info, **options, **(extra or {})}, overwrite=overwrite)


def scores_line(metrics: dict) -> str:
    """``f1 0.81 (chance 0.20), semantic ..., video plausibility ...`` for the metrics of :func:`write_pairs`."""
    scores, chance, parts = metrics["scores"], metrics.get("chance") or {}, []
    for k in ("f1", "semantic", "video_plausibility", "audio_plausibility"):
        text = f"{k.replace('_', ' ')} {scores[k]:.2f}"
        parts.append(text + (f" (chance {chance[k]:.2f})" if k in PAIRING_KEYS and k in chance else ""))
    return ", ".join(parts)
