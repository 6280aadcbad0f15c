"""data layer: clip presets, the synthetic bouncing-ball benchmark, AV file I/O, real-clip preparation.

Knows no model. Helpers for data set scripts stay in their modules (``mmdiff_lite.data.download``,
``.media``, ``.sources``). Taught in: notebooks/03_audio_video_data.ipynb
"""
from .dataset import ClipDataset
from .io import encode_mp4, read_mp4, read_wav, resample, write_mp4, write_wav
from .media import MediaError
from .prepare import PrepareReport, load_manifest, prepare_clips
from .presets import PRESETS, ClipConfig, clip_preset
from .synthetic import SyntheticClips, clips_per_second, synthetic_clip

__all__ = [
    "ClipConfig", "PRESETS", "clip_preset",
    "synthetic_clip", "SyntheticClips", "clips_per_second",
    "ClipDataset",
    "write_mp4", "read_mp4", "encode_mp4", "write_wav", "read_wav", "resample", "MediaError",
    "prepare_clips", "PrepareReport", "load_manifest",
]
