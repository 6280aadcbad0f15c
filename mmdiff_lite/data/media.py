"""Decoding any audio-video file with PyAV: what it holds, its frames on a clock, its sound.

Everything is placed on the file's own timeline in seconds (``pts * time_base``), so picture and
sound stay in sync whatever the frame rate, sample rate or codec delays. Files PyAV cannot open or
decode raise :class:`MediaError` (a ``ValueError``) with the reason.

Taught in: notebooks/03_audio_video_data.ipynb
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Callable, Iterator, Sequence

import numpy as np

__all__ = ["MediaError", "MediaInfo", "probe", "iter_frames", "frames_at", "decode_audio"]


class MediaError(ValueError):
    """A file that cannot be read as audio-video (corrupt, no such stream, not media).

    ``reason`` says what is wrong; the message adds the file's name (never its folders).
    """

    def __init__(self, reason: str, path: str | os.PathLike | None = None):
        self.reason = reason
        super().__init__(f"{os.path.basename(os.fspath(path))}: {reason}" if path is not None else reason)


@dataclass(frozen=True)
class MediaInfo:
    """What a file holds: stream presence, picture size and rate, sound rate and channels, duration (s)."""

    has_video: bool
    has_audio: bool
    fps: float
    width: int
    height: int
    sample_rate: int
    audio_channels: int
    duration: float


def _open(path: str | os.PathLike):
    import av

    try:
        return av.open(str(path))
    except (av.error.FFmpegError, OSError, UnicodeDecodeError) as err:  # FFmpegError covers InvalidData
        raise MediaError(f"cannot open as media ({getattr(err, 'strerror', None) or err})", path) from None


def probe(path: str | os.PathLike) -> MediaInfo:
    """The streams and duration of ``path`` (container metadata; decoding may still fail later)."""
    with _open(path) as c:
        v = c.streams.video[0] if c.streams.video else None
        a = c.streams.audio[0] if c.streams.audio else None
        duration = float(c.duration / 1_000_000) if c.duration else 0.0
        if not duration:
            for s in (v, a):
                if s is not None and s.duration and s.time_base:
                    duration = max(duration, float(s.duration * s.time_base))
        return MediaInfo(
            has_video=v is not None,
            has_audio=a is not None,
            fps=float(v.average_rate or v.guessed_rate or 0) if v is not None else 0.0,
            width=int(v.codec_context.width) if v is not None else 0,
            height=int(v.codec_context.height) if v is not None else 0,
            sample_rate=int(a.codec_context.sample_rate or 0) if a is not None else 0,
            audio_channels=int(a.codec_context.channels or 0) if a is not None else 0,
            duration=duration,
        )


def iter_frames(path: str | os.PathLike) -> Iterator[tuple[float, np.ndarray]]:
    """Yield ``(time in s, RGB frame (H, W, 3) uint8)`` for every decoded video frame, in order."""
    import av

    with _open(path) as c:
        if not c.streams.video:
            raise MediaError("no video stream", path)
        stream = c.streams.video[0]
        try:
            for frame in c.decode(stream):
                t = float(frame.pts * frame.time_base) if frame.pts is not None else float(frame.time or 0.0)
                yield t, frame.to_ndarray(format="rgb24")
        except av.error.FFmpegError as err:
            raise MediaError(f"cannot decode the video ({getattr(err, 'strerror', None) or err})", path) from None


def frames_at(
    path: str | os.PathLike, times: Sequence[float], transform: Callable[[np.ndarray], np.ndarray] | None = None
) -> tuple[np.ndarray, float]:
    """The frames showing at ``times`` (s, ascending): the last frame that started at or before each.

    ``transform`` (e.g. a letterbox) is applied once to each picked frame, so only small frames are
    kept in memory. Returns the stacked (transformed) frames and the start time of the last frame
    decoded: times after it only repeat that frame (a short or truncated file), which the caller can
    check. Times before the first frame get the first frame; no frames at all raise :class:`MediaError`.
    """
    times = list(times)
    ident = transform or (lambda frame: frame)
    picked: list[np.ndarray] = []
    raw = shown = None  # the frame on screen, and its transform (computed only when picked)
    last = float("-inf")
    for t, frame in iter_frames(path):
        last = t
        while len(picked) < len(times) and times[len(picked)] < t - 1e-6:
            if raw is None:  # times before the first frame show the first frame
                raw = frame
            if shown is None:
                shown = ident(raw)
            picked.append(shown)
        if len(picked) == len(times):
            break
        raw, shown = frame, None
    if raw is None:
        raise MediaError("no decodable video frames", path)
    while len(picked) < len(times):
        shown = ident(raw) if shown is None else shown
        picked.append(shown)
    return np.stack(picked), last


def decode_audio(path: str | os.PathLike) -> tuple[np.ndarray, int]:
    """All of the sound of ``path`` as float32 (channels, samples) in [-1, 1] and its sample rate.

    Samples are placed by their timestamps with time 0 at index 0 (a late start is padded with
    silence, samples before 0 such as encoder priming are dropped).
    """
    import av

    with _open(path) as c:
        if not c.streams.audio:
            raise MediaError("no audio stream", path)
        stream = c.streams.audio[0]
        rate = int(stream.codec_context.sample_rate or 0)
        chunks: list[tuple[int, np.ndarray]] = []
        try:
            for frame in c.decode(stream):
                rate = rate or int(frame.sample_rate)
                arr = frame.to_ndarray()
                if not frame.format.is_planar:  # interleaved: (1, n * channels)
                    arr = arr.reshape(-1, len(frame.layout.channels)).T
                arr = _to_float(arr)
                start = int(round(float(frame.pts * frame.time_base) * rate)) if frame.pts is not None else None
                chunks.append((start, arr))
        except av.error.FFmpegError as err:
            raise MediaError(f"cannot decode the audio ({getattr(err, 'strerror', None) or err})", path) from None
    if not chunks or rate <= 0:
        raise MediaError("an audio stream but no decodable sound", path)
    channels = chunks[0][1].shape[0]
    pos, placed = 0, []
    for start, arr in chunks:
        start = pos if start is None else start
        placed.append((start, arr[:channels]))
        pos = start + arr.shape[1]
    end = max(s + a.shape[1] for s, a in placed)
    out = np.zeros((channels, max(0, end)), dtype=np.float32)
    for start, arr in placed:
        lo = max(0, start)
        if start + arr.shape[1] > lo:
            out[:, lo:start + arr.shape[1]] = arr[:, lo - start:]
    return out, rate


def _to_float(arr: np.ndarray) -> np.ndarray:
    """Integer PCM -> float32 in [-1, 1]; floats pass through (clipped)."""
    if np.issubdtype(arr.dtype, np.integer):
        info = np.iinfo(arr.dtype)
        arr = arr.astype(np.float32)
        if info.min == 0:  # unsigned (u8): centred at the midpoint
            arr = arr - (info.max + 1) / 2
            return arr / ((info.max + 1) / 2)
        return arr / float(-info.min)
    return np.clip(arr.astype(np.float32), -1.0, 1.0)
