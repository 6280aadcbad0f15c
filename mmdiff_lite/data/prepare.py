"""Real videos -> clips of a preset's shape, stored compactly with a manifest.

For every video file below ``src`` (any frame rate, size, sample rate, channel count):
consecutive clips of ``num_frames / fps`` seconds; frames sampled at the preset's rate (the frame on
screen at each frame time) and letterboxed to the preset's size (aspect kept, black bars); sound
mixed down to mono (mean of the channels; the authors' loader keeps only the left one) and resampled
(torchaudio) to the preset's rate.
Files without sound, silent, corrupt or too short are skipped and named with the reason; nothing
stops the run. Work resumes: sources already in the manifest (same sha256) are not redone.

Layout of ``out``: ``manifest.json`` and ``clips/<sha12>.video.npy`` (N, F, 3, H, W) uint8 and
``clips/<sha12>.audio.npy`` (N, 1, T) int16, one pair of arrays per source file.

Taught in: notebooks/03_audio_video_data.ipynb
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from ..utils import atomic_path, tqdm
from .download import sha256_file
from .io import resample
from .media import MediaError, decode_audio, frames_at, probe
from .presets import ClipConfig, clip_preset

__all__ = ["prepare_clips", "PrepareReport", "letterbox", "VIDEO_EXTENSIONS", "load_manifest"]

VIDEO_EXTENSIONS = (".mp4", ".m4v", ".mov", ".avi", ".mkv", ".webm", ".mpg", ".mpeg", ".flv", ".wmv", ".3gp", ".ts")
_SILENT_PEAK = 1e-4


def letterbox(frame: np.ndarray, height: int, width: int) -> np.ndarray:
    """RGB (h, w, 3) uint8 -> (3, height, width) uint8: scaled to fit (aspect kept), centred on black."""
    h, w = frame.shape[:2]
    s = min(height / h, width / w)
    nh, nw = max(1, round(h * s)), max(1, round(w * s))
    x = torch.from_numpy(np.ascontiguousarray(frame)).permute(2, 0, 1)[None].float()
    x = torch.nn.functional.interpolate(x, size=(nh, nw), mode="bilinear", antialias=True, align_corners=False)
    out = torch.zeros(3, height, width)
    top, left = (height - nh) // 2, (width - nw) // 2
    out[:, top:top + nh, left:left + nw] = x[0]
    return out.round().clamp(0, 255).to(torch.uint8).numpy()


@dataclass
class PrepareReport:
    """What :func:`prepare_clips` did: clips written, sources used or already done, files skipped (with why)."""

    out: Path
    preset: str
    clips: int = 0
    prepared: list[str] = field(default_factory=list)
    already_done: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)

    def summary(self) -> str:
        lines = [
            f"preset {self.preset}: {self.clips} clips from {len(self.prepared)} files "
            f"({len(self.already_done)} already prepared), {len(self.skipped)} skipped"
        ]
        lines += [f"  skipped {name}: {reason}" for name, reason in self.skipped]
        return "\n".join(lines)


def load_manifest(out: str | os.PathLike) -> dict:
    """The manifest of a prepared folder (``FileNotFoundError`` that says how to make one).

    Taught in: notebooks/03_audio_video_data.ipynb
    """
    path = Path(out) / "manifest.json"
    if not path.is_file():
        raise FileNotFoundError(f"no manifest.json in {os.fspath(out)!r}: run data_scripts/prepare_clips.py first")
    return json.loads(path.read_text())


def _new_manifest(cfg: ClipConfig) -> dict:
    return {
        "preset": cfg.name, "fps": cfg.fps, "sample_rate": cfg.sample_rate,
        "video_shape": list(cfg.video_shape), "audio_shape": list(cfg.audio_shape),
        "video_dtype": "uint8", "audio_dtype": "int16", "sources": [], "clips": [], "skipped": [],
    }


def _save_npy(path: Path, array: np.ndarray) -> None:
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        np.save(f, array)


def _clips_of(path: Path, cfg: ClipConfig, max_clips: int | None) -> tuple[np.ndarray, np.ndarray, list[float]]:
    """Cut one file into clips: (N, F, 3, H, W) uint8, (N, 1, T) int16 and the clip start times."""
    info = probe(path)
    if not info.has_video:
        raise MediaError("no video stream")
    if not info.has_audio:
        raise MediaError("no audio stream (a download without sound? fetch the version with audio)")
    sound, rate = decode_audio(path)
    mono = resample(torch.from_numpy(sound).mean(0, keepdim=True), rate, cfg.sample_rate).clamp(-1, 1)
    clip_s = cfg.duration
    seconds = min(info.duration or float("inf"), mono.shape[1] / cfg.sample_rate)
    n = int(np.floor(seconds / clip_s + 1e-6))
    n = min(n, max_clips) if max_clips else n
    if n < 1:
        raise MediaError(f"too short: {seconds:.2f} s of picture and sound, a clip needs {clip_s:.2f} s")
    if float(mono.abs().max()) < _SILENT_PEAK:
        raise MediaError("silent audio (every sample is ~0)")
    times = [c * clip_s + k / cfg.fps for c in range(n) for k in range(cfg.num_frames)]
    frames, last = frames_at(path, times, lambda fr: letterbox(fr, cfg.height, cfg.width))
    src_step = 1.0 / info.fps if info.fps else 0.0
    n = min(n, sum(1 for c in range(n) if times[c * cfg.num_frames + cfg.num_frames - 1] <= last + src_step + 1e-6))
    if n < 1:
        raise MediaError(f"too short: its frames end at {max(last, 0.0):.2f} s, a clip needs {clip_s:.2f} s")
    video = frames[: n * cfg.num_frames].reshape(n, cfg.num_frames, *frames.shape[1:])
    starts = [c * clip_s for c in range(n)]
    t = cfg.audio_samples
    audio = np.stack([mono[:, round(s * cfg.sample_rate):round(s * cfg.sample_rate) + t].numpy() for s in starts])
    if audio.shape[-1] < t:  # rounding left the last clip a few samples short
        audio = np.pad(audio, ((0, 0), (0, 0), (0, t - audio.shape[-1])))
    return video, np.round(audio * 32767).astype(np.int16), starts


def prepare_clips(
    src: str | os.PathLike, out: str | os.PathLike, preset: str | ClipConfig = "paper",
    max_clips_per_file: int | None = None, progress: bool = True,
) -> PrepareReport:
    """Prepare every video file below ``src`` into clips of ``preset`` in ``out`` (see module docs).

    Returns a :class:`PrepareReport`; ``report.summary()`` names every skipped file and why.
    Resumable: run it again after an interruption (or with new files) and only new sources are done.

    Taught in: notebooks/03_audio_video_data.ipynb
    """

    cfg = clip_preset(preset)
    src, out = Path(src), Path(out)
    if max_clips_per_file is not None and (isinstance(max_clips_per_file, bool) or int(max_clips_per_file) != max_clips_per_file
                                           or max_clips_per_file < 1):
        raise ValueError(f"max_clips_per_file must be an integer >= 1 (or None: no cap), got {max_clips_per_file!r}")
    if not src.is_dir():
        raise FileNotFoundError(f"source folder {os.fspath(src)!r} does not exist: pass a folder of videos")
    manifest = load_manifest(out) if (out / "manifest.json").is_file() else _new_manifest(cfg)
    if manifest["preset"] != cfg.name or manifest["video_shape"] != list(cfg.video_shape):
        raise ValueError(f"{os.fspath(out)!r} holds {manifest['preset']!r} clips: pick another --out for {cfg.name!r}")
    known = {s["sha256"]: s["source"] for s in manifest["sources"]}
    report = PrepareReport(out=out, preset=cfg.name)
    files = sorted(p for p in src.rglob("*") if p.is_file() and p.suffix.lower() in VIDEO_EXTENSIONS)
    if not files and not manifest["clips"]:
        raise ValueError(f"no video files below {os.fspath(src)!r} (looked for {', '.join(VIDEO_EXTENSIONS)}): pass the "
                         "folder that holds your videos; nothing was written")
    manifest["skipped"] = []
    for path in tqdm(files, desc="prepare", unit="file", disable=not progress):
        name = path.relative_to(src).as_posix()
        digest = sha256_file(path)
        if digest in known:
            if known[digest] == name:
                report.already_done.append(name)
            else:
                report.skipped.append((name, f"same content as {known[digest]}"))
            continue
        try:
            video, audio, starts = _clips_of(path, cfg, max_clips_per_file)
        except (MediaError, RuntimeError, ValueError) as err:  # RuntimeError: a decoder/resampler gave up
            report.skipped.append((name, getattr(err, "reason", None) or str(err)))
            continue
        stem = f"clips/{digest[:12]}"
        _save_npy(out / f"{stem}.video.npy", video)
        _save_npy(out / f"{stem}.audio.npy", audio)
        manifest["sources"].append({"source": name, "sha256": digest, "clips": len(starts), "file": stem})
        manifest["clips"] += [
            {"id": f"{digest[:12]}-{i:04d}", "file": stem, "row": i, "source": name, "start": round(s, 6),
             "end": round(s + cfg.duration, 6), "sha256": digest}
            for i, s in enumerate(starts)
        ]
        known[digest] = name
        report.prepared.append(name)
        report.clips += len(starts)
        manifest["skipped"] = [{"source": n, "reason": r} for n, r in report.skipped]
        _write_manifest(out, manifest)
    manifest["skipped"] = [{"source": n, "reason": r} for n, r in report.skipped]
    if not manifest["clips"]:  # a manifest without clips would only fail later, in training
        reasons = "; ".join(f"{n}: {r}" for n, r in report.skipped[:3]) + (" ..." if len(report.skipped) > 3 else "")
        raise ValueError(f"no clip could be cut from the {len(files)} video file(s) below {os.fspath(src)!r} "
                         f"({reasons}); nothing was written")
    _write_manifest(out, manifest)
    return report


def _write_manifest(out: Path, manifest: dict) -> None:
    with atomic_path(out / "manifest.json") as tmp:
        tmp.write_text(json.dumps(manifest, indent=1))
