"""Does the sound belong to the picture? Sync and semantic scores of benchmark pairs.

Video impacts (from :mod:`.video`) are matched one-to-one to audio onsets (from :mod:`.audio`) when
they are at most ``tolerance`` frames apart (closest pairs first). Then

* ``f1`` = 2·matches / (impacts + onsets) with a tolerance of one frame, ``f1_exact`` with none
  (a pair with neither impacts nor onsets scores 0: there is no evidence of sync, and every benchmark
  clip has at least one impact);
* ``semantic`` = share of matched onsets whose pitch is the one of the impacting ball's colour;
* plausibility per modality (ball count, ball shape, frames explained by balls; tone purity and
  energy inside tones), so that garbage that happens to fool the sync scores is caught.

Taught in: notebooks/03_audio_video_data.ipynb
"""
from __future__ import annotations

import numpy as np
import torch

from ..data.presets import ClipConfig, clip_preset
from .audio import analyze_audio
from .video import analyze_video

__all__ = ["match_events", "sync_scores", "score_pairs", "format_scores", "standard_error",
           "paired_difference", "SCORE_KEYS",
           "HEADLINE_KEYS"]

#: The five scores reported in tables: sync (f1, f1_exact, semantic) and plausibility of each modality.
HEADLINE_KEYS = ("f1", "f1_exact", "semantic", "video_plausibility", "audio_plausibility")

#: The per-clip scores :func:`score_pairs` returns (all in [0, 1] except the counts).
SCORE_KEYS = (
    "f1", "f1_exact", "precision", "recall", "semantic",
    "video_plausibility", "ball_count_ok", "ball_shape_ok", "frame_ok",
    "audio_plausibility", "tone_purity", "tone_energy", "n_impacts", "n_onsets",
)


def match_events(impacts: list[int], onsets: list[int], tolerance: int = 1) -> list[tuple[int, int]]:
    """One-to-one matches (impact index, onset index) at most ``tolerance`` frames apart, closest first."""
    pairs = sorted(
        (abs(f - g), i, j) for i, f in enumerate(impacts) for j, g in enumerate(onsets) if abs(f - g) <= tolerance
    )
    used_i, used_j, out = set(), set(), []
    for _, i, j in pairs:
        if i not in used_i and j not in used_j:
            used_i.add(i)
            used_j.add(j)
            out.append((i, j))
    return out


def _f1(n_match: int, n_a: int, n_b: int) -> float:
    return 2.0 * n_match / (n_a + n_b) if n_a + n_b else 0.0


#: The kit's storage formats (prepared clips: video uint8, audio int16) and how they map onto [-1, 1].
_STORED = {np.dtype(np.uint8): lambda x: x / 127.5 - 1.0, np.dtype(np.int16): lambda x: x / 32767.0}


def _as_batch(x, ndim: int, what: str) -> np.ndarray:
    """Float32 in [-1, 1]; the kit's stored integer formats (uint8 frames, int16 sound) are converted, with the
    same rule as :class:`mmdiff_lite.data.ClipDataset` (scoring their raw values would silently give 0)."""
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu().numpy()
    x = np.asarray(x)
    if x.dtype in _STORED:
        x = _STORED[x.dtype](x.astype(np.float32))
    elif not (np.issubdtype(x.dtype, np.floating) or np.issubdtype(x.dtype, np.bool_)):
        raise ValueError(f"{what} of dtype {x.dtype}: pass floats in [-1, 1] (or the kit's stored uint8 video / int16 audio)")
    x = np.asarray(x, dtype=np.float32)
    if x.ndim == ndim - 1:
        x = x[None]
    if x.ndim != ndim:
        raise ValueError(f"{what} must have {ndim - 1} or {ndim} dimensions, got shape {tuple(x.shape)}")
    return x


def _check_shapes(video: np.ndarray, audio: np.ndarray, cfg: ClipConfig) -> None:
    if tuple(video.shape[1:]) != cfg.video_shape:
        raise ValueError(
            f"video clips of shape {tuple(video.shape[1:])} do not match preset {cfg.name!r} "
            f"{cfg.video_shape}: pass the preset the clips were made with"
        )
    if audio.shape[-1] != cfg.audio_samples:
        raise ValueError(
            f"audio of {audio.shape[-1]} samples does not match preset {cfg.name!r} "
            f"({cfg.audio_samples}): pass the preset the clips were made with"
        )
    if len(video) != len(audio):
        raise ValueError(f"{len(video)} videos but {len(audio)} soundtracks: pass one soundtrack per video")


def score_pairs(video, audio, preset: str | ClipConfig = "tiny", tolerance: int = 1) -> dict:
    """Per-clip scores of a batch: a dict of ``SCORE_KEYS`` -> float array (B,), plus ``details``.

    ``video`` (B, F, C, H, W) or (F, C, H, W) and ``audio`` (B, C, T) or (C, T), tensors or arrays in
    [-1, 1]. ``details`` holds each clip's video and audio analysis and its matches.
    """
    cfg = clip_preset(preset)
    v = _as_batch(video, 5, "video")
    a = _as_batch(audio, 3, "audio")
    _check_shapes(v, a, cfg)
    rows, details = [], []
    for vid, aud in zip(analyze_video(v, cfg), analyze_audio(a, cfg)):
        imp_frames = [f for f, _ in vid["impacts"]]
        on_frames = [f for f, _ in aud["onsets"]]
        matches = match_events(imp_frames, on_frames, tolerance)
        exact = match_events(imp_frames, on_frames, 0)
        n_i, n_o, n_m = len(imp_frames), len(on_frames), len(matches)
        right = sum(vid["impacts"][i][1] == aud["onsets"][j][1] for i, j in matches)
        rows.append({
            "f1": _f1(n_m, n_i, n_o),
            "f1_exact": _f1(len(exact), n_i, n_o),
            "precision": n_m / n_o if n_o else 0.0,
            "recall": n_m / n_i if n_i else 0.0,
            "semantic": right / n_m if n_m else 0.0,
            **{k: vid[k] for k in ("video_plausibility", "ball_count_ok", "ball_shape_ok", "frame_ok")},
            **{k: aud[k] for k in ("audio_plausibility", "tone_purity", "tone_energy")},
            "n_impacts": float(n_i),
            "n_onsets": float(n_o),
        })
        details.append({"video": vid, "audio": aud, "matches": matches})
    scores = {k: np.array([r[k] for r in rows], dtype=np.float64) for k in SCORE_KEYS}
    scores["details"] = details
    return scores


def sync_scores(video, audio, preset: str | ClipConfig = "tiny", tolerance: int = 1) -> dict:
    """Batch-mean sync, semantic and plausibility scores of benchmark pairs.

    Returns ``{key: float}`` for every key of ``SCORE_KEYS`` (the mean over the batch) and
    ``per_clip``: ``{key: float array (B,)}``. ``f1`` matches within ``tolerance`` frames (default 1);
    ``f1_exact`` within none. Never raises on garbage values (NaN, noise, out-of-range): those score
    low.  Video stored as uint8 (0..255) and audio as int16 are converted to [-1, 1] first. Wrong shapes for the preset raise a ``ValueError`` that says which preset to pass.

    Taught in: notebooks/03_audio_video_data.ipynb, notebooks/00_quickstart.ipynb, notebooks/07_joint_sampling.ipynb
    """
    per_clip = score_pairs(video, audio, preset, tolerance)
    per_clip.pop("details")
    out = {k: float(v.mean()) for k, v in per_clip.items()}
    out["per_clip"] = per_clip
    return out


def standard_error(values) -> float | None:
    """Standard error of a batch-mean score: s / sqrt(n), s the sample standard deviation (n - 1) of
    the per-clip values; ``None`` for fewer than two clips.  Two independent sets' means differ by
    more than about 2 sqrt(se_1^2 + se_2^2) only one time in twenty by chance.

    Taught in: notebooks/07_joint_sampling.ipynb
    """
    v = np.asarray(values, dtype=np.float64).ravel()
    return float(v.std(ddof=1) / np.sqrt(len(v))) if len(v) > 1 else None  # se = s / sqrt(n)


def paired_difference(a, b) -> tuple[float, float | None]:
    """Mean and standard error of a - b for two scores of the *same* clips (or seeds), clip by clip.

    With d_i = a_i - b_i: mean = mean(d) = mean(a) - mean(b), se = s_d / sqrt(n) (``None`` for one clip).
    When a and b are measured on the same seeds, this se is the right one for "is a below b?": it
    removes what the two share (an easy seed is easy for both); sqrt(se_a^2 + se_b^2) is right only for
    independent sets and overstates the doubt when the two are positively correlated.

    Taught in: notebooks/07_joint_sampling.ipynb
    """
    a, b = (np.asarray(x, dtype=np.float64).ravel() for x in (a, b))
    if a.shape != b.shape:
        raise ValueError(f"paired scores need one value per clip on both sides, got {a.size} and {b.size}")
    d = a - b  # d_i = a_i - b_i
    return float(d.mean()), standard_error(d)


def format_scores(table: dict[str, dict], keys=HEADLINE_KEYS) -> str:
    """A plain-text table: one row per named score dict (e.g. from :func:`sync_scores`), chosen columns.

    Taught in: notebooks/03_audio_video_data.ipynb, notebooks/00_quickstart.ipynb, notebooks/07_joint_sampling.ipynb
    """
    width = max([len(name) for name in table] + [4])
    lines = ["pair".ljust(width) + "".join(f"{k:>20}" for k in keys)]
    lines += [name.ljust(width) + "".join(f"{row[k]:>20.3f}" for k in keys) for name, row in table.items()]
    return "\n".join(lines)
