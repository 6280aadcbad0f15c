"""Known damage to real pairs, at a strength in natural units: a feature distance that measures what matters must
grow with each one (``mmdiff-lite bench features`` and notebook 09 check it).

Each corruption is ``fn(pair, strength, cfg, generator) -> pair`` and has a list of strengths, 0 first (no
damage). Video: blur (Gaussian σ in pixels), noise (standard deviation on [-1, 1], from 0.1: the bench encoders
are trained to ignore the faint hiss, σ ≤ 0.05, that a trained generator leaves), dropped frames (share of
frames replaced by the one before), frozen frames (share of the clip at its end held still), wrong colours
(hue turned by degrees; at 120° the benchmark's colours map onto each other, so the strengths stop at 60°).
Audio: pitch shift (semitones; an octave would map one ball's pitch onto another's) and offset (the sound
late by k video frames, silence before it).

Taught in: notebooks/09_evaluation.ipynb
"""
from __future__ import annotations

import math
from typing import Callable, NamedTuple

import torch
import torch.nn.functional as F

__all__ = ["Corruption", "CORRUPTIONS", "corrupt", "collapsed"]


class Corruption(NamedTuple):
    fn: Callable
    strengths: tuple
    unit: str
    modality: str


def _blur(pair, sigma, cfg, gen):
    if sigma <= 0:
        return pair
    r = max(1, int(math.ceil(3 * sigma)))
    x = torch.arange(-r, r + 1, dtype=torch.float32)
    k = torch.exp(-0.5 * (x / sigma) ** 2)
    k = k / k.sum()
    v = pair["video"]
    b, f, c, h, w = v.shape
    flat = v.reshape(b * f * c, 1, h, w)
    flat = F.conv2d(F.pad(flat, (r, r, 0, 0), mode="replicate"), k.view(1, 1, 1, -1))
    flat = F.conv2d(F.pad(flat, (0, 0, r, r), mode="replicate"), k.view(1, 1, -1, 1))
    return {**pair, "video": flat.reshape(b, f, c, h, w)}


def _noise(pair, std, cfg, gen):
    v = pair["video"]
    return {**pair, "video": (v + std * torch.randn(v.shape, generator=gen)).clamp(-1, 1)}


def _dropped(pair, share, cfg, gen):
    v = pair["video"].clone()
    b, f = v.shape[:2]
    n = int(round(share * (f - 1)))
    for i in range(b):
        for j in sorted((torch.randperm(f - 1, generator=gen)[:n] + 1).tolist()):
            v[i, j] = v[i, j - 1]  # a dropped frame shows the one before it (repeated in order)
    return {**pair, "video": v}


def _frozen(pair, share, cfg, gen):
    v = pair["video"].clone()
    f = v.shape[1]
    keep = f - int(round(share * f))
    if keep < f:
        v[:, keep:] = v[:, max(keep - 1, 0)].unsqueeze(1)
    return {**pair, "video": v}


def _hue(pair, degrees, cfg, gen):
    # A rotation about the grey axis of RGB space: the standard hue rotation matrix.
    a = math.radians(degrees)
    c, s, t = math.cos(a), math.sin(a), 1.0 / 3.0
    q = math.sqrt(t) * s
    m = torch.tensor([[c + (1 - c) * t, t * (1 - c) - q, t * (1 - c) + q],
                      [t * (1 - c) + q, c + (1 - c) * t, t * (1 - c) - q],
                      [t * (1 - c) - q, t * (1 - c) + q, c + (1 - c) * t]], dtype=torch.float32)
    unit = (pair["video"] + 1) / 2
    out = torch.einsum("ij,bfjhw->bfihw", m, unit).clamp(0, 1)
    return {**pair, "video": out * 2 - 1}


def _pitch(pair, semitones, cfg, gen):
    if semitones == 0:
        return pair
    import torchaudio.functional as AF

    a = pair["audio"]
    spf = cfg.samples_per_frame
    out = AF.pitch_shift(a, cfg.sample_rate, semitones, n_fft=spf, hop_length=spf // 4)
    return {**pair, "audio": out[..., : a.shape[-1]].clamp(-1, 1)}


def _offset(pair, frames, cfg, gen):
    a = pair["audio"]
    k = int(frames) * cfg.samples_per_frame
    if k == 0:
        return pair
    return {**pair, "audio": torch.cat([torch.zeros_like(a[..., :k]), a[..., :-k]], dim=-1)}


#: name -> Corruption(fn, strengths (0 first), unit, modality): the one list of the kit's corruptions.
CORRUPTIONS: dict[str, Corruption] = {
    "blur": Corruption(_blur, (0.0, 0.5, 1.0, 1.5, 2.0), "σ px", "video"),
    "noise": Corruption(_noise, (0.0, 0.1, 0.2, 0.3, 0.4), "std", "video"),  # the encoders learned to ignore σ ≤ 0.05
    "dropped_frames": Corruption(_dropped, (0.0, 0.125, 0.25, 0.375, 0.5), "share", "video"),
    "frozen_frames": Corruption(_frozen, (0.0, 0.125, 0.25, 0.375, 0.5), "share", "video"),
    "wrong_colours": Corruption(_hue, (0.0, 10.0, 20.0, 40.0, 60.0), "degrees", "video"),
    "pitch_shift": Corruption(_pitch, (0.0, 1.0, 2.0, 4.0, 6.0), "semitones", "audio"),
    "audio_offset": Corruption(_offset, (0, 1, 2, 3, 4), "frames", "audio"),
}


def corrupt(pair: dict, name: str, strength: float, cfg, seed: int = 0) -> dict:
    """``pair`` with corruption ``name`` at ``strength`` (a new dict; the input is not changed)."""
    if name not in CORRUPTIONS:
        raise ValueError(f"unknown corruption {name!r}: use one of {', '.join(CORRUPTIONS)}")
    gen = torch.Generator().manual_seed(int(seed))
    return CORRUPTIONS[name].fn(dict(pair), strength, cfg, gen)


def collapsed(pair: dict, how: str) -> dict:
    """A collapsed generator's output made from real pairs: ``"one_clip"`` (the first pair, repeated)."""
    if how != "one_clip":
        raise ValueError(f"unknown collapse {how!r}")
    return {k: v[:1].expand_as(v).clone() for k, v in pair.items()}
