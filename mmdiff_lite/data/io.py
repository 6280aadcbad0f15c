"""Clips to and from files: mp4 with the sound muxed in (PyAV), wav (soundfile), resampling (torchaudio).

An mp4 holds H.264 video (yuv420p, which every browser plays) and AAC sound. AAC only supports some
sample rates, so the sound is resampled to the nearest supported rate of at least 16 kHz on writing
(e.g. 4096 Hz -> 16000 Hz) and back to the rate asked for on reading. Files are written atomically.

Taught in: notebooks/03_audio_video_data.ipynb
"""
from __future__ import annotations

import io
import os
from fractions import Fraction

import numpy as np
import torch

from ..utils import atomic_path
from .media import decode_audio, frames_at, probe

__all__ = [
    "resample", "aac_rate", "write_wav", "read_wav", "encode_mp4", "write_mp4", "read_mp4", "to_uint8_frames",
]

#: Sample rates the AAC encoder accepts, ascending.
AAC_RATES = (8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000, 64000, 88200, 96000)


def _tensor(x) -> torch.Tensor:
    return x.detach().to("cpu", torch.float32) if isinstance(x, torch.Tensor) else torch.as_tensor(np.asarray(x, np.float32))


def resample(audio, orig_rate: int, new_rate: int) -> torch.Tensor:
    """``audio`` (..., T) from ``orig_rate`` to ``new_rate`` Hz (torchaudio's band-limited sinc).

    Taught in: notebooks/03_audio_video_data.ipynb
    """
    import torchaudio.functional as AF

    x = _tensor(audio)
    if int(orig_rate) == int(new_rate):
        return x
    return AF.resample(x, int(orig_rate), int(new_rate))


def aac_rate(sample_rate: int) -> int:
    """The smallest AAC sample rate >= max(``sample_rate``, 16000): the rate an mp4 stores the sound at.

    Taught in: notebooks/03_audio_video_data.ipynb
    """
    want = max(int(sample_rate), 16000)
    return next((r for r in AAC_RATES if r >= want), AAC_RATES[-1])


def _check_clip(video, audio) -> tuple[torch.Tensor, torch.Tensor | None]:
    v = _tensor(video)
    if v.ndim != 4 or v.shape[1] not in (1, 3):
        raise ValueError(f"video must be (F, C, H, W) with C = 1 or 3, got {tuple(v.shape)}")
    if audio is None:
        _check_finite(v, "video")
        return v, None
    a = _tensor(audio)
    if a.ndim != 2 or a.shape[0] > 2:
        raise ValueError(f"audio must be (C, T) with C = 1 or 2, got {tuple(a.shape)}")
    _check_finite(v, "video")
    _check_finite(a, "audio")
    return v, a


def _check_finite(x: torch.Tensor, what: str) -> None:
    """NaN or inf cannot be encoded (the encoder's own error is a bare errno): say so, and why it happens."""
    if x.is_floating_point():
        bad = int((~torch.isfinite(x)).sum())
        if bad:
            raise ValueError(f"the {what} holds {bad} NaN or infinite values and cannot be encoded: a model with "
                             "damaged or diverged weights makes these (check its training log for a NaN loss)")


def write_wav(path: str | os.PathLike, audio, sample_rate: int) -> None:
    """Write ``audio`` (C, T) in [-1, 1] as 16-bit PCM wav, atomically."""
    import soundfile as sf

    a = _tensor(audio)
    if a.ndim == 1:
        a = a[None]
    with atomic_path(path) as tmp:
        sf.write(str(tmp), a.clamp(-1, 1).numpy().T, int(sample_rate), subtype="PCM_16", format="WAV")


def read_wav(path: str | os.PathLike, sample_rate: int | None = None) -> tuple[torch.Tensor, int]:
    """Read a wav as (C, T) float32 in [-1, 1]; resampled to ``sample_rate`` if given. Returns (audio, rate)."""
    import soundfile as sf

    data, rate = sf.read(str(path), dtype="float32", always_2d=True)
    audio = torch.from_numpy(np.ascontiguousarray(data.T))
    if sample_rate and int(sample_rate) != rate:
        audio, rate = resample(audio, rate, sample_rate), int(sample_rate)
    return audio, int(rate)


def to_uint8_frames(video, scale: int = 1) -> np.ndarray:
    """(F, C, H, W) in [-1, 1] -> (F, H*scale, W*scale, 3) uint8 RGB (nearest upscaling, grey -> RGB)."""
    v = _tensor(video).clamp(-1, 1)
    if v.shape[1] == 1:
        v = v.expand(-1, 3, -1, -1)
    frames = ((v + 1) * 127.5).round().to(torch.uint8).permute(0, 2, 3, 1).numpy()
    if scale > 1:
        frames = frames.repeat(scale, axis=1).repeat(scale, axis=2)
    return frames


def encode_mp4(video, audio, fps: float, sample_rate: int, scale: int = 1, crf: int = 18) -> bytes:
    """An mp4 (H.264 yuv420p + AAC) of one clip, as bytes.

    ``video`` (F, C, H, W) and ``audio`` (C, T) in [-1, 1] (``audio=None``: no sound stream at all);
    ``scale`` upsizes frames (nearest) so tiny clips are visible; frame sides must come out even
    (yuv420p). ``crf``: H.264 quality (lower = better).
    """
    import av

    v, a = _check_clip(video, audio)
    frames = to_uint8_frames(v, scale)
    _, h, w, _ = frames.shape
    if h % 2 or w % 2:
        raise ValueError(f"frames of {h}x{w}: H.264 yuv420p needs even sides, use an even scale (e.g. scale=2)")
    buf = io.BytesIO()
    with av.open(buf, mode="w", format="mp4") as c:
        vs = c.add_stream("libx264", rate=Fraction(fps).limit_denominator(1000))
        vs.width, vs.height, vs.pix_fmt = w, h, "yuv420p"
        vs.options = {"crf": str(crf), "preset": "medium"}
        sound = None
        if a is not None:  # every stream must exist before the first packet is muxed
            sound = c.add_stream("aac", rate=aac_rate(sample_rate))
            sound.layout = "mono" if a.shape[0] == 1 else "stereo"
        for i, img in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(img, format="rgb24")
            frame.pts = i
            c.mux(vs.encode(frame))
        c.mux(vs.encode())
        if sound is not None:
            _mux_audio(c, sound, a, sample_rate)
    return buf.getvalue()


def _mux_audio(container, stream, audio: torch.Tensor, sample_rate: int) -> None:
    """Encode ``audio`` (C, T), resampled to the AAC ``stream``'s rate, into the open container."""
    import av

    rate = stream.rate
    samples = resample(audio, sample_rate, rate).clamp(-1, 1).numpy().astype(np.float32)
    step = 1024
    for start in range(0, samples.shape[1], step):
        chunk = np.ascontiguousarray(samples[:, start:start + step])
        frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout=stream.layout.name)
        frame.sample_rate, frame.pts = rate, start
        container.mux(stream.encode(frame))
    container.mux(stream.encode())


def write_mp4(path: str | os.PathLike, video, audio, fps: float, sample_rate: int, scale: int = 1, crf: int = 18) -> None:
    """Write one clip as an mp4 with its sound, atomically (see :func:`encode_mp4`).

    Taught in: notebooks/03_audio_video_data.ipynb
    """
    data = encode_mp4(video, audio, fps, sample_rate, scale=scale, crf=crf)
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def read_mp4(path: str | os.PathLike, sample_rate: int | None = None, num_frames: int | None = None) -> dict:
    """Read an mp4 (or any media file) written by :func:`write_mp4` back into a pair.

    Returns ``{"video": (F, 3, H, W), "audio": (C, T), "fps", "sample_rate"}`` with values in
    [-1, 1]. Sound is resampled to ``sample_rate`` when given; ``num_frames`` cuts or holds frames to
    that count (frames are taken at the stream's frame times) and trims the sound to the same duration.

    Taught in: notebooks/03_audio_video_data.ipynb
    """
    info = probe(path)
    fps = info.fps or 1.0
    n = num_frames or max(1, int(round(info.duration * fps)))
    frames, _ = frames_at(path, [(i + 0.5) / fps for i in range(n)])
    video = torch.from_numpy(frames).permute(0, 3, 1, 2).float() / 127.5 - 1.0
    sound, rate = decode_audio(path)
    audio = _tensor(sound)
    if sample_rate:
        audio, rate = resample(audio, rate, sample_rate), int(sample_rate)
    if num_frames:
        want = int(round(n / fps * rate))
        audio = torch.nn.functional.pad(audio, (0, max(0, want - audio.shape[1])))[:, :want]
    return {"video": video, "audio": audio.clamp(-1, 1), "fps": fps, "sample_rate": rate}
