"""Exercises of notebooks/03_audio_video_data.ipynb."""
from __future__ import annotations

import torch

from .base import exercise, within

NB = "03_audio_video_data"


@exercise("03.to-stored", notebook=NB, kind="write", answer="to_stored",
          hint="[-1, 1] maps onto 0..255: (x + 1) * 127.5, rounded and clamped, as torch.uint8")
def _to_stored(fn):
    x = torch.tensor([-1.0, -0.5, 0.0, 0.25, 1.0, 0.999])
    got = fn(x)
    if not isinstance(got, torch.Tensor) or got.dtype != torch.uint8:
        return f"return a torch.uint8 tensor, got {type(got).__name__} {getattr(got, 'dtype', '')}"
    want = ((x + 1) * 127.5).round().clamp(0, 255).to(torch.uint8)
    if not torch.equal(got, want):
        return f"{got.tolist()} for {x.tolist()}"
    return None


@exercise("03.late-scores", notebook=NB, kind="predict", answer="late_scores",
          hint="f1 counts an onset as matching an impact within `tolerance` frames (default 1); f1_exact within 0")
def _late_scores(answer):
    from ..metrics.sync import sync_scores
    from ..metrics.reference import reference_pairs

    if not isinstance(answer, (tuple, list)) or len(answer) != 2:
        return "give a tuple (f1, f1_exact) for true pairs whose sound comes one frame late"
    s = sync_scores(*reference_pairs(16, "tiny")["audio 1 frame late"], "tiny")
    return within(answer[0], s["f1"], 0.05, "your f1") or within(answer[1], s["f1_exact"], 0.05, "your f1_exact")
