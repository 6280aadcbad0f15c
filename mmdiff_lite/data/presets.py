"""Clip presets: the shapes, rates and physics of the kit's audio-video clips.

A :class:`ClipConfig` says everything the synthetic benchmark, the analyzers and the real-clip
preparation need to agree on: frames, frame size, frame rate, audio rate and length, and the
bouncing-ball world (colours and their pitches, ball size, speeds, impacts per clip, tone shape).

Taught in: notebooks/03_audio_video_data.ipynb
"""
from __future__ import annotations

from dataclasses import dataclass, replace

__all__ = ["ClipConfig", "PRESETS", "clip_preset"]


@dataclass(frozen=True)
class ClipConfig:
    """Shapes and the bouncing-ball world of one clip preset.

    Video is ``(num_frames, channels, height, width)`` at ``fps``; audio is
    ``(audio_channels, audio_samples)`` at ``sample_rate``; both cover the same ``duration``.
    A ball of colour ``colours[k]`` sounds at ``pitches[k]`` Hz when it hits a wall.
    Speeds are given as ``crossing_frames``: a ball needs between that many frames to travel from
    one wall to the opposite one, so every impact falls exactly on a frame (see
    :func:`mmdiff_lite.data.synthetic.synthetic_clip`).

    Taught in: notebooks/03_audio_video_data.ipynb
    """

    name: str
    num_frames: int
    height: int
    width: int
    fps: float
    sample_rate: int
    audio_samples: int
    channels: int = 3
    audio_channels: int = 1
    colour_names: tuple[str, ...] = ("red", "green", "blue")
    colours: tuple[tuple[float, float, float], ...] = ((1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0))
    pitches: tuple[float, ...] = (256.0, 512.0, 1024.0)
    background: tuple[float, float, float] = (0.0, 0.0, 0.0)
    ball_radius: float = 2.5
    balls: tuple[int, int] = (1, 1)
    crossing_frames: tuple[int, int] = (8, 20)
    impacts: tuple[int, int] = (1, 3)
    min_gap_frames: int = 2
    tone_seconds: float = 0.055
    tone_amplitude: float = 0.8

    def __post_init__(self) -> None:
        if len(self.colours) != len(self.pitches) or len(self.colours) != len(self.colour_names):
            raise ValueError("colours, colour_names and pitches must have the same length")
        if self.audio_samples % self.num_frames:
            raise ValueError("audio_samples must be a multiple of num_frames (whole samples per frame)")
        if max(self.pitches) >= self.sample_rate / 2:
            raise ValueError(f"pitches must stay below the Nyquist frequency {self.sample_rate / 2} Hz")
        if self.balls[1] > len(self.colours):
            raise ValueError("each ball of a clip has its own colour: balls[1] must be <= len(colours)")
        if not (0 < self.tone_seconds <= 1.0 / self.fps):
            raise ValueError("tone_seconds must be positive and at most one frame long")

    @property
    def duration(self) -> float:
        """Clip length in seconds (video and audio agree)."""
        return self.num_frames / self.fps

    @property
    def samples_per_frame(self) -> int:
        """Audio samples under one video frame."""
        return self.audio_samples // self.num_frames

    @property
    def video_shape(self) -> tuple[int, int, int, int]:
        return (self.num_frames, self.channels, self.height, self.width)

    @property
    def audio_shape(self) -> tuple[int, int]:
        return (self.audio_channels, self.audio_samples)

    @property
    def travel(self) -> tuple[float, float]:
        """How far a ball centre can move (y, x) in pixels: the frame less one radius at each wall."""
        return (self.height - 2 * self.ball_radius, self.width - 2 * self.ball_radius)

    @property
    def speed_range(self) -> tuple[float, float]:
        """Per-axis speeds in pixels per frame that ``crossing_frames`` allows (along the shorter side)."""
        lo, hi = self.crossing_frames
        t = min(self.travel)
        return (t / hi, t / lo)

    def with_(self, **changes) -> "ClipConfig":
        """A copy with some fields changed (validated again)."""
        return replace(self, **changes)


PRESETS: dict[str, ClipConfig] = {
    # 16 frames of 16x16 at 16 fps and 1 s of 4096 Hz audio: small enough to train on 2 CPU cores,
    # long enough that a shuffled pair matches by chance rarely (see cpu-training-budget findings).
    "tiny": ClipConfig(
        name="tiny", num_frames=16, height=16, width=16, fps=16.0, sample_rate=4096, audio_samples=4096,
        crossing_frames=(8, 20),
    ),
    # The `small` model's clips: 16 frames of 32x32 at 16 fps and 1 s of 8192 Hz audio.
    "small": ClipConfig(
        name="small", num_frames=16, height=32, width=32, fps=16.0, sample_rate=8192, audio_samples=8192,
        ball_radius=4.0, crossing_frames=(8, 20),
    ),
    # The `ref-small` model's clips (the authors' network shrunk for speed comparisons): 8 frames of 32x32
    # at 20 fps and 0.4 s of 16 kHz audio.
    "ref-small": ClipConfig(
        name="ref-small", num_frames=8, height=32, width=32, fps=20.0, sample_rate=16000, audio_samples=6400,
        pitches=(400.0, 800.0, 1600.0), ball_radius=4.0, crossing_frames=(4, 8), impacts=(1, 2), tone_seconds=0.04,
    ),
    # The paper's shapes: 16 frames of 64x64 at 10 fps and 1.6 s of 16 kHz audio.
    "paper": ClipConfig(
        name="paper", num_frames=16, height=64, width=64, fps=10.0, sample_rate=16000, audio_samples=25600,
        pitches=(400.0, 800.0, 1600.0), ball_radius=6.0, balls=(1, 2), crossing_frames=(8, 20), impacts=(1, 3),
        tone_seconds=0.06,
    ),
}
# The super-resolution stage's clips: a preset's world drawn at k times the frame size (ball and motion scaled, the
# same seed gives the same motion and the same sound), so clip i of tiny-x2 is clip i of tiny at 32x32.
PRESETS["tiny-x2"] = PRESETS["tiny"].with_(name="tiny-x2", height=32, width=32, ball_radius=5.0)
PRESETS["paper-x4"] = PRESETS["paper"].with_(name="paper-x4", height=256, width=256, ball_radius=24.0)


def clip_preset(name: str | ClipConfig) -> ClipConfig:
    """The :class:`ClipConfig` called ``name`` (a ``ClipConfig`` passes through unchanged).

    Taught in: notebooks/03_audio_video_data.ipynb
    """
    if isinstance(name, ClipConfig):
        return name
    try:
        return PRESETS[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown clip preset {name!r}: use one of {', '.join(PRESETS)}") from None
