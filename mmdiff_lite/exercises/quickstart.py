"""Exercises of notebooks/00_quickstart.ipynb."""
from __future__ import annotations

from .base import exercise, within

NB = "00_quickstart"


@exercise("00.clip-size", notebook=NB, kind="predict", answer="tiny_numbers",
          hint="a ClipConfig knows num_frames, fps, sample_rate and audio_samples: mm.clip_preset('tiny')")
def _clip_size(answer):
    from ..data import clip_preset

    cfg = clip_preset("tiny")
    if not isinstance(answer, (tuple, list)) or len(answer) != 3:
        return "give a tuple (frames per clip, audio samples per clip, audio samples per video frame)"
    want = (cfg.num_frames, cfg.audio_samples, cfg.sample_rate / cfg.fps)
    for got, w, what in zip(answer, want, ("frames per clip", "audio samples per clip", "audio samples per frame")):
        if (problem := within(got, w, 1e-9, what)) is not None:
            return problem
    return None


@exercise("00.clip-seconds", notebook=NB, kind="write", answer="clip_seconds",
          hint="a clip lasts num_frames / fps seconds, and its sound audio_samples / sample_rate: both must agree")
def _clip_seconds(fn):
    from ..data import PRESETS

    for name, cfg in PRESETS.items():
        if (problem := within(fn(name), cfg.num_frames / cfg.fps, 1e-9, f"clip_seconds({name!r})")) is not None:
            return problem
    return None
