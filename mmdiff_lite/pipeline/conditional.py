"""Zero-shot conditional generation with a trained joint model: generate, score, diagnose.

Sound for a given video and video for a given sound, by replacement or gradient guidance
(:class:`mmdiff_lite.Conditioning`), scored against the given clips and against a shuffled pairing.

Taught in: notebooks/08_zero_shot_conditioning.ipynb.
"""
from __future__ import annotations

import dataclasses
import time
from typing import Sequence

import torch

from ..diffusion import Conditioning, Schedule
from ..metrics.reference import PAIRING_KEYS
from ..model import shift_mode
from .evaluate import noise_prediction, score_pairs_with_chance
from .generate import MODALITIES, generate

__all__ = ["other_modality", "score_conditional", "cross_dependence", "read_given",
           "condition_to_folder"]


def other_modality(given: str) -> str:
    """The modality generated for a ``given`` one."""
    if given not in MODALITIES:
        raise ValueError(f"given must be one of {', '.join(MODALITIES)}, got {given!r}")
    return next(k for k in MODALITIES if k != given)


def score_conditional(model: torch.nn.Module, clips: dict, given: str, conditioning: Conditioning | None, *,
                      method: str = "dpm_solver", steps: int = 20, seed: int = 0, batch_size: int = 16,
                      preset: str = "tiny", shift: str | int = "trained", progress: bool = False,
                      schedule: Schedule | None = None, **options) -> dict:
    """Generate the other modality for ``clips[given]`` and score each result with its own given clip.

    ``conditioning=None`` is the unconditional joint sample on the same seeds (the reference row: it scores
    its own generated pairs).  Returns the seconds per pair, the headline scores, the plausibility of the
    generated modality (``plausibility``), standard errors, the chance level (each generated clip with the
    next one's given clip), ``per_clip`` scores and the pairs.
    """
    target = other_modality(given)
    n = clips[given].shape[0]
    start = time.perf_counter()
    with shift_mode(model, shift):
        pairs = generate(model, n, method=method, steps=steps, seed=seed, batch_size=batch_size, progress=progress,
                         schedule=schedule, given=None if conditioning is None else {given: clips[given]},
                         conditioning=conditioning, **options)
    seconds = time.perf_counter() - start
    scores = score_pairs_with_chance(pairs, preset)
    pairing = {k: scores[k] for k in PAIRING_KEYS + tuple(f"{p}_{k}" for p in ("se", "chance") for k in PAIRING_KEYS)}
    return {"seconds_per_pair": seconds / n, **pairing, "plausibility": scores[f"{target}_plausibility"],
            "per_clip": scores["per_clip"], "pairs": pairs}


def cross_dependence(model: torch.nn.Module, clips: dict, t: float, *, given: str = "audio",
                     seeds: Sequence[int] = (0, 1, 2), schedule: Schedule | None = None) -> float:
    """How much the model's prediction of the *other* modality depends on the ``given`` one at time ``t``.

    Both are noised to ``t`` with the same noise twice: once with each clip's own given modality and once
    with the next clip's (``roll(1)`` over the batch).  Returns MSE(noise of the other | wrong given) /
    MSE(noise of the other | right given), averaged over ``seeds``: 1 means the given modality tells the
    model nothing about the other one at this t, so replacement cannot pass anything on.
    """
    target = other_modality(given)
    errors = {}
    for name, cond in (("right", clips[given]), ("wrong", clips[given].roll(1, 0))):
        total = 0.0
        for s in seeds:
            out = noise_prediction(model, {given: cond, target: clips[target]}, t, noise_seed=s, shift_seed=s,
                                   schedule=schedule)
            total += (out["eps_hat"][target] - out["eps"][target].float()).square().mean().item()
        errors[name] = total
    return errors["wrong"] / errors["right"]


def read_given(source, given: str, cfg) -> torch.Tensor:
    """The ``given`` modality of every mp4 in ``source`` (a file or a folder of them), shaped for clip preset
    ``cfg``: video (N, F, C, H, W) or audio (N, C, T).  Raises a one-line ``ValueError`` naming the file when
    one is unreadable, lacks that stream, is shorter than the preset's clips or has another picture size."""
    from pathlib import Path

    from ..data import MediaError, read_mp4
    from ..data.media import probe

    source = Path(source)
    if source.is_dir():
        files = sorted(p for p in source.iterdir() if p.suffix.lower() in (".mp4", ".mov", ".mkv", ".webm"))
        if not files:
            raise ValueError(f"{source} holds no .mp4/.mov/.mkv/.webm files: give a clip or a folder of clips")
    elif source.is_file():
        files = [source]
    else:
        raise ValueError(f"--input {source} does not exist: give an mp4 or a folder of them")
    clips = []
    for path in files:
        try:
            info = probe(path)
        except MediaError as err:
            raise ValueError(f"cannot read {path.name}: {err.reason}") from None
        if given == "audio" and not info.has_audio:
            raise ValueError(f"{path.name} has no audio stream, so there is no sound to generate a video for")
        if given == "video" and not info.has_video:
            raise ValueError(f"{path.name} has no video stream, so there is no picture to generate a sound for")
        if info.duration + 0.5 / cfg.fps < cfg.duration:
            raise ValueError(f"{path.name} lasts {info.duration:.2f} s, shorter than the {cfg.duration:.2f} s clips of "
                             f"preset {cfg.name}")
        if given == "video" and (info.width, info.height) != (cfg.width, cfg.height):
            raise ValueError(f"{path.name} is {info.width}x{info.height}; preset {cfg.name} needs {cfg.width}x"
                             f"{cfg.height} (prepare real clips with mmdiff_lite.prepare_clips)")
        try:
            clip = read_mp4(path, sample_rate=cfg.sample_rate, num_frames=cfg.num_frames)
        except MediaError as err:
            raise ValueError(f"cannot read {path.name}: {err.reason}") from None
        if given == "audio":
            clips.append(clip["audio"][: cfg.audio_channels, : cfg.audio_samples])
        else:
            clips.append(clip["video"][:, : cfg.channels])
    return torch.stack(clips)


def condition_to_folder(checkpoint, out, *, given: str, source=None, benchmark: int | None = None,
                        method: str = "guide", scale: float = 1.0, form: str = "paper", noise: str = "fixed",
                        t_min: float = 0.0, sampler: str = "dpm_solver", steps: int = 20, seed: int = 0,
                        batch_size: int = 16, shift: str | int = "trained", score: bool = True,
                        overwrite: bool = False, progress: bool = True, **options) -> dict:
    """``mmdiff-lite condition``: check everything, generate, write the folder beside ``out``, move it in place."""
    from ..data import clip_preset
    from ..metrics.reference import reference_pairs
    from ..utils import default_device
    from .checkpoints import load_model, sampling_setup
    from .export import check_pairs_folder, write_pairs

    conditioning = Conditioning(method=method, scale=scale, noise=noise, form=form, t_min=t_min)
    check_pairs_folder(out, overwrite)
    model, meta = load_model(checkpoint, device=default_device())
    schedule, preset = sampling_setup(meta)
    cfg = clip_preset(preset)
    if (source is None) == (benchmark is None):
        raise ValueError("give either an --input file/folder or --benchmark N")
    if benchmark is not None:
        clips = dict(zip(("video", "audio"), reference_pairs(benchmark, cfg, seed=seed)["true"]))
    else:
        clips = {given: read_given(source, given, cfg)}
    n = clips[given].shape[0]
    start = time.perf_counter()
    with shift_mode(model, shift):
        pairs = generate(model, n, method=sampler, steps=steps, seed=seed, batch_size=batch_size, schedule=schedule,
                         progress=progress, given={given: clips[given]}, conditioning=conditioning, **options)
    extra = {"checkpoint": str(checkpoint), "given": given, "generated": other_modality(given),
             "source": str(source) if source is not None else f"benchmark:{benchmark}",
             "conditioning": dataclasses.asdict(conditioning), "sampler": sampler, "steps": steps, "seed": seed,
             "shift": shift, "seconds": time.perf_counter() - start, **options}
    return write_pairs(out, pairs, preset, extra, score=score, overwrite=overwrite)
