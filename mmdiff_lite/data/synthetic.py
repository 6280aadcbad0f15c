"""The synthetic benchmark: bouncing balls whose wall impacts make a sound.

Every clip is a few coloured balls on a dark background. Each time a ball hits a wall it emits a
short decaying tone whose pitch is set by its colour. So *timing* (is the tone on the impact frame?)
tests fine audio-video alignment and *colour <-> pitch* tests semantic alignment, and both are known
exactly, which makes sync measurable (see :mod:`mmdiff_lite.metrics.sync`).

Motion is built so that every impact lands exactly on a frame: along each axis a ball needs a whole
number ``n`` of frames to cross the box, so its unfolded coordinate is ``(phase + direction * f) * L / n``
and it touches a wall whenever ``phase + direction * f`` is a multiple of ``n``. The tone then starts
exactly at that frame's first audio sample.

Taught in: notebooks/03_audio_video_data.ipynb
"""
from __future__ import annotations

import functools
import time
from typing import Sequence

import numpy as np
import torch
from torch.utils.data import Dataset

from .presets import ClipConfig, clip_preset

__all__ = ["synthetic_clip", "SyntheticClips", "clips_per_second", "render_video", "render_audio", "tone", "sample_motion"]

_MAX_TRIES = 10_000


def sample_motion(cfg: ClipConfig, rng: np.random.Generator) -> dict:
    """Draw ball colours and frame-snapped bouncing motion that satisfies the preset's rules.

    Rules: ball count in ``cfg.balls``, distinct colours, total impacts in ``cfg.impacts``, none on the
    first or last frame (a reversal is only visible between two neighbours), and impacts at least
    ``cfg.min_gap_frames`` apart (so tones never overlap). Draws again until they hold.
    Returns ``positions`` (balls, F, 2) as (y, x) pixel coordinates, ``ball_colours`` and the impacts.
    """
    f = np.arange(cfg.num_frames)
    travel = cfg.travel
    for _ in range(_MAX_TRIES):
        nb = int(rng.integers(cfg.balls[0], cfg.balls[1] + 1))
        colours = rng.choice(len(cfg.colours), size=nb, replace=False)
        n = rng.integers(cfg.crossing_frames[0], cfg.crossing_frames[1] + 1, size=(nb, 2))
        phase = rng.integers(0, 2 * n)
        direction = rng.choice((-1, 1), size=(nb, 2))
        steps = phase[:, :, None] + direction[:, :, None] * f  # (balls, 2, F): unfolded position in steps
        period = (2 * n)[:, :, None]
        u = np.mod(steps, period)
        tri = np.where(u <= n[:, :, None], u, period - u)  # triangle wave: 0 and n are the two walls
        hits = (np.mod(steps, n[:, :, None]) == 0).any(axis=1)  # (balls, F): either axis at a wall
        frames, balls = np.nonzero(hits.T)  # sorted by frame
        if len(frames) == 0 or frames[0] == 0 or frames[-1] == cfg.num_frames - 1:
            continue
        if not (cfg.impacts[0] <= len(frames) <= cfg.impacts[1]):
            continue
        if len(frames) > 1 and np.diff(frames).min() < cfg.min_gap_frames:
            continue
        scale = np.asarray(travel)[None, :, None] / n[:, :, None]
        pos = cfg.ball_radius + tri * scale  # (balls, 2, F)
        return {
            "positions": pos.transpose(0, 2, 1).astype(np.float32),
            "ball_colours": colours.astype(int),
            "impact_frames": frames.astype(int),
            "impact_balls": balls.astype(int),
        }
    raise RuntimeError(f"preset {cfg.name!r}: no motion satisfies its impact rules; widen impacts or crossing_frames")


@functools.lru_cache(maxsize=None)
def _grid(height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    yy = (np.arange(height, dtype=np.float32) + 0.5)[:, None]
    xx = (np.arange(width, dtype=np.float32) + 0.5)[None, :]
    return yy, xx


def render_video(cfg: ClipConfig, positions: np.ndarray, ball_colours: Sequence[int]) -> np.ndarray:
    """Draw balls at ``positions`` (balls, F, 2) as anti-aliased discs: (F, C, H, W) float32 in [-1, 1].

    Vectorised over frames and pixels; later balls are drawn over earlier ones.
    """
    yy, xx = _grid(cfg.height, cfg.width)
    pos = np.asarray(positions, dtype=np.float32)
    dist = np.sqrt((yy - pos[:, :, 0, None, None]) ** 2 + (xx - pos[:, :, 1, None, None]) ** 2)  # (b, F, H, W)
    alpha = np.clip(cfg.ball_radius + 0.5 - dist, 0.0, 1.0)
    img = np.empty((cfg.num_frames, cfg.height, cfg.width, 3), dtype=np.float32)
    img[:] = np.asarray(cfg.background, dtype=np.float32)
    for b, c in enumerate(ball_colours):
        a = alpha[b][..., None]
        img = img * (1.0 - a) + a * np.asarray(cfg.colours[c], dtype=np.float32)
    return np.ascontiguousarray((2.0 * img - 1.0).transpose(0, 3, 1, 2))


@functools.lru_cache(maxsize=64)
def tone(sample_rate: int, pitch: float, seconds: float, amplitude: float) -> np.ndarray:
    """One impact sound: a sine at ``pitch`` under an exponential decay, faded to zero at the end.

    It starts at zero phase (no click) and lasts ``seconds`` (shorter than a frame).
    """
    n = int(round(seconds * sample_rate))
    t = np.arange(n, dtype=np.float64) / sample_rate
    envelope = np.exp(-t / (seconds / 4.0))
    tail = max(1, n // 4)
    envelope[-tail:] *= 0.5 * (1.0 + np.cos(np.linspace(0.0, np.pi, tail)))
    out = (amplitude * np.sin(2.0 * np.pi * pitch * t) * envelope).astype(np.float32)
    out.flags.writeable = False
    return out


def render_audio(cfg: ClipConfig, impact_frames: Sequence[int], impact_pitches: Sequence[float]) -> np.ndarray:
    """The soundtrack: one tone per impact, starting at the impact frame's first sample. (C, T) float32."""
    audio = np.zeros(cfg.audio_shape, dtype=np.float32)
    spf = cfg.samples_per_frame
    for frame, pitch in zip(impact_frames, impact_pitches):
        wave = tone(cfg.sample_rate, float(pitch), cfg.tone_seconds, cfg.tone_amplitude)
        start = int(frame) * spf
        seg = wave[: cfg.audio_samples - start]
        audio[:, start:start + len(seg)] += seg
    return np.clip(audio, -1.0, 1.0)


def synthetic_clip(seed: int | Sequence[int], preset: str | ClipConfig = "tiny", as_numpy: bool = False) -> dict:
    """One benchmark clip, fully determined by ``seed`` (an int or a sequence of ints).

    Returns a dict with ``video`` (F, C, H, W) and ``audio`` (C, T), float32 tensors in [-1, 1]
    (numpy arrays with ``as_numpy=True``), and the ground truth: ``impact_frames``, ``impact_times``
    (seconds), ``impact_balls``, ``impact_colours`` (names), ``impact_pitches`` (Hz), ``ball_colours``
    (colour index per ball), ``positions`` (balls, F, 2) ball centres (y, x) in pixels, and
    ``seed``/``preset``.

    Taught in: notebooks/03_audio_video_data.ipynb
    """
    cfg = clip_preset(preset)
    rng = np.random.default_rng(seed)
    motion = sample_motion(cfg, rng)
    impact_colours = motion["ball_colours"][motion["impact_balls"]]
    pitches = [cfg.pitches[c] for c in impact_colours]
    video = render_video(cfg, motion["positions"], motion["ball_colours"])
    audio = render_audio(cfg, motion["impact_frames"], pitches)
    if not as_numpy:
        video, audio = torch.from_numpy(video), torch.from_numpy(audio)
    return {
        "video": video,
        "audio": audio,
        "impact_frames": motion["impact_frames"].tolist(),
        "impact_times": [f / cfg.fps for f in motion["impact_frames"].tolist()],
        "impact_balls": motion["impact_balls"].tolist(),
        "impact_colours": [cfg.colour_names[c] for c in impact_colours],
        "impact_pitches": pitches,
        "ball_colours": motion["ball_colours"].tolist(),
        "positions": motion["positions"],
        "seed": seed,
        "preset": cfg.name,
    }


class SyntheticClips(Dataset):
    """Benchmark clips generated on the fly: item ``i`` is ``synthetic_clip((seed, i), preset)``.

    Clip ``i`` depends only on the run ``seed`` and ``i`` (not on workers, order or epochs), so a
    training run can be resumed or re-shuffled and still see the same clips. Items are dicts
    ``{"video": (F, C, H, W), "audio": (C, T)}`` (collate into ``(B, F, C, H, W)`` and ``(B, C, T)``);
    :meth:`truth` gives the ground truth of item ``i``. Generation runs at well over 200 tiny clips
    per second on one core (see ``tests/test_data_synthetic.py``).

    Taught in: notebooks/03_audio_video_data.ipynb
    """

    def __init__(self, preset: str | ClipConfig = "tiny", seed: int = 0, length: int = 100_000):
        self.config = clip_preset(preset)
        self.seed = int(seed)
        self.length = int(length)

    def __len__(self) -> int:
        return self.length

    def _check(self, index: int) -> int:
        index = int(index)
        if index < 0:
            index += self.length
        if not 0 <= index < self.length:
            raise IndexError(f"clip {index} out of range for {self.length} clips")
        return index

    def truth(self, index: int) -> dict:
        """Item ``index`` with its ground truth (see :func:`synthetic_clip`)."""
        return synthetic_clip((self.seed, self._check(index)), self.config)

    def __getitem__(self, index: int) -> dict:
        clip = self.truth(index)
        return {"video": clip["video"], "audio": clip["audio"]}

    def batch(self, indices: Sequence[int] | range) -> dict:
        """Items ``indices`` stacked: ``{"video": (B, F, C, H, W), "audio": (B, C, T)}``."""
        items = [self[i] for i in indices]
        return {k: torch.stack([it[k] for it in items]) for k in ("video", "audio")}


def clips_per_second(n: int = 500, preset: str | ClipConfig = "tiny", threads: int | None = 1) -> float:
    """Measured generation speed of :class:`SyntheticClips` items on ``threads`` torch threads (1: one core).

    Taught in: notebooks/03_audio_video_data.ipynb
    """
    before = torch.get_num_threads()
    if threads:
        torch.set_num_threads(threads)
    try:
        ds = SyntheticClips(preset, seed=0, length=n + 1)
        ds[n]  # warm caches
        start = time.perf_counter()
        for i in range(n):
            ds[i]
        return n / (time.perf_counter() - start)
    finally:
        torch.set_num_threads(before)
