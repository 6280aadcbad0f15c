"""Reference rows for the sync scores: true pairs beside pairs broken in known ways.

A score of generated pairs means little alone; :func:`reference_table` gives the rows it must be
read against: true pairs (the ceiling), another clip's audio (chance), audio one and two frames late,
tones at the wrong colour's pitch, a frozen first frame, silence, and noise.  :func:`shuffled_scores`
gives the chance level of any set of pairs (generated ones included) from those very clips.

Taught in: notebooks/03_audio_video_data.ipynb
"""
from __future__ import annotations

import numpy as np
import torch

from ..data.presets import ClipConfig, clip_preset
from ..data.synthetic import SyntheticClips, render_audio
from .sync import sync_scores

__all__ = ["reference_pairs", "reference_table", "shuffled_scores", "PAIRING_KEYS"]

#: The scores that depend on which soundtrack goes with which video (the plausibility scores do not).
PAIRING_KEYS = ("f1", "f1_exact", "semantic")


def _late(audio: torch.Tensor, samples: int) -> torch.Tensor:
    return torch.nn.functional.pad(audio, (samples, 0))[..., : audio.shape[-1]]


def reference_pairs(n: int = 256, preset: str | ClipConfig = "tiny", seed: int = 0) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    """``{case: (video (n, F, C, H, W), audio (n, C, T))}`` built from clips ``0..n-1`` of ``SyntheticClips(seed)``.

    Taught in: notebooks/03_audio_video_data.ipynb
    """
    cfg = clip_preset(preset)
    ds = SyntheticClips(cfg, seed=seed, length=n)
    truths = [ds.truth(i) for i in range(n)]
    v = torch.stack([t["video"] for t in truths])
    a = torch.stack([t["audio"] for t in truths])
    k = len(cfg.pitches)
    wrong = np.stack([
        render_audio(cfg, t["impact_frames"], [cfg.pitches[(cfg.pitches.index(p) + 1) % k] for p in t["impact_pitches"]])
        for t in truths
    ])
    g = torch.Generator().manual_seed(seed)
    spf = cfg.samples_per_frame
    return {
        "true": (v, a),
        "shuffled (other clip's audio)": (v, a.roll(1, 0)),
        "audio 1 frame late": (v, _late(a, spf)),
        "audio 2 frames late": (v, _late(a, 2 * spf)),
        "wrong pitch per colour": (v, torch.from_numpy(wrong)),
        "frozen video": (v[:, :1].expand_as(v), a),
        "silent audio": (v, torch.zeros_like(a)),
        "noise (both)": (torch.rand(v.shape, generator=g) * 2 - 1, torch.rand(a.shape, generator=g) * 2 - 1),
    }


def reference_table(n: int = 256, preset: str | ClipConfig = "tiny", seed: int = 0) -> dict[str, dict]:
    """:func:`sync_scores` of every case of :func:`reference_pairs` (print it with ``format_scores``).

    Taught in: notebooks/03_audio_video_data.ipynb
    """
    return {name: sync_scores(v, a, preset) for name, (v, a) in reference_pairs(n, preset, seed).items()}


def shuffled_scores(video, audio, preset: str | ClipConfig = "tiny") -> dict:
    """The chance level of a set of pairs: :func:`sync_scores` with video ``i`` given audio ``i + 1``
    (the last video gets the first audio).  Needs at least two pairs.

    Taught in: notebooks/00_quickstart.ipynb, notebooks/07_joint_sampling.ipynb
    """
    if len(video) < 2:
        raise ValueError("the shuffled chance level needs at least 2 pairs")
    return sync_scores(video, torch.as_tensor(audio).roll(-1, 0), preset)
