"""What a video of the synthetic benchmark shows: balls, their tracks, wall impacts, plausibility.

The analyzer knows the preset's palette: every pixel is explained as background blended with one
ball colour (``pixel = bg + alpha * (colour - bg)``); pixels far from every such blend belong to no
ball. Each colour is one ball (colours are distinct within a clip), so tracking is per colour.
An *impact* is a direction reversal of a ball's centre on one axis, at a frame where the ball is at
the wall it was moving towards. Garbage (noise, blobs, NaNs) yields few or no impacts and low
plausibility, never an exception.

Taught in: notebooks/03_audio_video_data.ipynb
"""
from __future__ import annotations

import functools

import numpy as np

from ..data.presets import ClipConfig, clip_preset
from ..data.synthetic import render_video

__all__ = ["analyze_video", "ball_masses", "video_impacts"]

_RESIDUAL_TOL = 0.3  # a pixel farther than this (RGB distance in [0, 1] units) from a blend is no ball's
_MIN_ALPHA = 0.2  # fainter pixels are background (keeps noise from adding up to a ball)
_PRESENT = 0.4  # a colour counts as a ball in a frame when its mass is this fraction of a ball's
_SHAPE_RANGE = (0.6, 1.6)  # allowed ratio of mass and of spread to a clean ball's
_FRAME_MAE = 0.03  # mean absolute difference (in [0, 1] units) between a frame and its re-rendering


@functools.lru_cache(maxsize=16)
def _reference(cfg: ClipConfig) -> tuple[float, float]:
    """Mass and mean squared radius of one clean ball in the middle of the frame."""
    centre = np.array([[[cfg.height / 2, cfg.width / 2]]], dtype=np.float32).repeat(cfg.num_frames, axis=1)
    frame = render_video(cfg, centre, [0])[:1][None]
    mass, _, spread = ball_masses(frame, cfg)
    return float(mass[0, 0, 0]), float(spread[0, 0, 0])


def _to_unit(video: np.ndarray) -> np.ndarray:
    """(B, F, C, H, W) in [-1, 1] -> (B, F, H, W, C) in [0, 1], NaN-free."""
    v = np.nan_to_num(np.asarray(video, dtype=np.float32), nan=-1.0, posinf=1.0, neginf=-1.0)
    return np.clip((v.transpose(0, 1, 3, 4, 2) + 1.0) * 0.5, 0.0, 1.0)


def ball_masses(video: np.ndarray, cfg: ClipConfig) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per frame and palette colour: ball mass, centroid (y, x) and mean squared radius.

    ``video`` is (B, F, C, H, W) in [-1, 1]. Returns ``mass`` (B, F, K), ``centre`` (B, F, K, 2)
    (NaN where the colour is absent) and ``spread`` (B, F, K) (NaN where absent).
    """
    p = _to_unit(video)
    bg = np.asarray(cfg.background, dtype=np.float32)
    cols = np.asarray(cfg.colours, dtype=np.float32) - bg  # (K, 3) directions away from the background
    d = p - bg
    alpha = np.clip(np.einsum("bfhwc,kc->bfhwk", d, cols) / (cols ** 2).sum(1), 0.0, 1.0)
    resid = np.linalg.norm(d[..., None, :] - alpha[..., None] * cols, axis=-1)  # (B, F, H, W, K)
    w = np.where((resid < _RESIDUAL_TOL) & (alpha > _MIN_ALPHA), alpha, 0.0)
    w = np.where(w == w.max(axis=-1, keepdims=True), w, 0.0)  # each pixel belongs to one colour at most
    yy = np.arange(cfg.height, dtype=np.float32)[:, None] + 0.5
    xx = np.arange(cfg.width, dtype=np.float32)[None, :] + 0.5
    mass = w.sum(axis=(2, 3))
    with np.errstate(invalid="ignore", divide="ignore"):
        cy = np.einsum("bfhwk,h->bfk", w, yy[:, 0]) / mass
        cx = np.einsum("bfhwk,w->bfk", w, xx[0]) / mass
        r2 = (yy[None, None, :, :, None] - cy[:, :, None, None]) ** 2 + (xx[None, None, :, :, None] - cx[:, :, None, None]) ** 2
        spread = (w * r2).sum(axis=(2, 3)) / mass
    centre = np.stack([cy, cx], axis=-1)
    centre[mass <= 0] = np.nan
    return mass, centre, spread


def video_impacts(track: np.ndarray, cfg: ClipConfig) -> list[int]:
    """Impact frames of one ball track (F, 2) (y, x; NaN where unseen): wall-side direction reversals.

    Frame ``f`` (not the first or last) is an impact when the centre moves at least a third of the
    slowest speed towards a wall from ``f - 1`` to ``f``, at least as much away from it from ``f`` to
    ``f + 1``, and is within half a radius of that wall at ``f``. A corner hit counts once.
    """
    min_step = 0.35 * cfg.speed_range[0]
    tol = 0.5 * cfg.ball_radius
    frames = set()
    for axis, size in enumerate((cfg.height, cfg.width)):
        p = track[:, axis]
        d1, d2, at = p[1:-1] - p[:-2], p[2:] - p[1:-1], p[1:-1]
        lo, hi = cfg.ball_radius, size - cfg.ball_radius
        with np.errstate(invalid="ignore"):
            rev = (d1 * d2 < 0) & (np.abs(d1) > min_step) & (np.abs(d2) > min_step)
            wall = ((d1 > 0) & (at >= hi - tol)) | ((d1 < 0) & (at <= lo + tol))
        frames.update((np.nonzero(rev & wall)[0] + 1).tolist())
    return sorted(frames)


def analyze_video(video: np.ndarray, cfg: str | ClipConfig = "tiny") -> list[dict]:
    """Analyse a batch (B, F, C, H, W) of benchmark videos; one dict per clip.

    Keys: ``impacts`` (list of (frame, colour index)), ``tracks`` (K, F, 2) centres, ``present``
    (F, K) bool, ``ball_count_ok`` (fraction of frames whose ball count is in the preset's range),
    ``ball_shape_ok`` (fraction of seen balls whose mass and spread match a clean ball's),
    ``frame_ok`` (fraction of frames that a re-rendering of the detected balls explains) and
    ``video_plausibility`` (fraction of frames where all three hold).

    Taught in: notebooks/03_audio_video_data.ipynb
    """
    cfg = clip_preset(cfg)
    ref_mass, ref_spread = _reference(cfg)
    mass, centre, spread = ball_masses(video, cfg)
    present = mass > _PRESENT * ref_mass
    with np.errstate(invalid="ignore", divide="ignore"):
        m_ok = (mass / ref_mass >= _SHAPE_RANGE[0]) & (mass / ref_mass <= _SHAPE_RANGE[1])
        s_ok = (spread / ref_spread >= _SHAPE_RANGE[0]) & (spread / ref_spread <= _SHAPE_RANGE[1])
    shape_ok = m_ok & s_ok
    count = present.sum(-1)
    count_ok = (count >= cfg.balls[0]) & (count <= cfg.balls[1])
    unit = _to_unit(video)
    out = []
    for b in range(mass.shape[0]):
        tracked = [k for k in range(len(cfg.colours)) if present[b, :, k].mean() >= 0.5]
        tracks = np.where(present[b][..., None], centre[b], np.nan).transpose(1, 0, 2)  # (K, F, 2)
        impacts = sorted((f, k) for k in tracked for f in video_impacts(tracks[k], cfg))
        frame_err = np.ones(cfg.num_frames)
        if tracked:
            pos = np.nan_to_num(tracks[tracked], nan=-10.0 * cfg.ball_radius)  # unseen: drawn off-frame
            redraw = render_video(cfg, pos, tracked).transpose(0, 2, 3, 1)
            frame_err = np.abs(unit[b] - (redraw + 1.0) * 0.5).mean(axis=(1, 2, 3))
        frame_fine = frame_err < _FRAME_MAE
        seen = present[b]
        shapes = (shape_ok[b] | ~seen).all(-1)
        n_seen = seen.sum()
        out.append({
            "impacts": impacts,
            "tracks": tracks,
            "present": seen,
            "ball_count_ok": float(count_ok[b].mean()),
            "ball_shape_ok": float((shape_ok[b] & seen).sum() / n_seen) if n_seen else 0.0,
            "frame_ok": float(frame_fine.mean()),
            "video_plausibility": float((count_ok[b] & shapes & frame_fine).mean()),
        })
    return out
