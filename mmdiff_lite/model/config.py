"""The coupled U-Net's configuration: one dataclass and its named presets.

A level is one resolution of the U-Net: level 0 is the input resolution, each further level halves
the frame size (the number of frames is kept) and divides the audio length by ``audio_rate``.
Per-level settings are tuples with one entry per level: ``channel_mult`` (channels =
``channels * mult``) and ``windows`` (the RS-MMA window S of that level, ``None`` for no RS-MMA).
``attention_levels`` lists the levels whose residual blocks carry video self-attention.

Taught in: notebooks/04_coupled_unet.ipynb
"""
from __future__ import annotations

from dataclasses import dataclass, fields, replace

from ..fields import check_fields
from .sizes import UNetSizes
from .sr_config import SRConfig

__all__ = ["UNetConfig", "SRConfig", "MODEL_PRESETS", "CONFIG_KINDS", "model_config", "model_preset_names",
           "config_from_dict"]


@dataclass(frozen=True)
class UNetConfig(UNetSizes):
    """Everything that decides the coupled U-Net's shape, cost and behaviour.

    * ``clip``: the name of the clip preset (:func:`mmdiff_lite.data.clip_preset`) whose clips the model takes:
      the trainer draws the synthetic benchmark of that preset and scores its pairs with it.
    * ``video_shape`` ``(F, C, H, W)`` and ``audio_shape`` ``(C, T)``: one clip.
    * ``channels``, ``channel_mult``, ``num_blocks``: the width per level and the residual blocks
      per level (the decoder has one more per level, as in every ADM-style U-Net).
    * ``windows``: RS-MMA window per level (``None``: no cross attention there);
      ``middle_cross_attention``: full cross attention (window F) in the middle block.
    * ``cross_attention=False``: no RS-MMA anywhere, two U-Nets sharing only t (the ablation).
    * ``rsmma_impl``: ``"dense"`` (masked full attention) or ``"windowed"`` (gathers S segments).
    * ``shift``: ``"random"`` (a new R per block per call), ``"none"`` (R = 0) or a fixed int.
    * ``attention_levels``: levels with video self-attention (spatial, then temporal);
      ``middle_attention``: video and audio self-attention in the middle block.
    * ``audio_rate``: audio down-sampling factor per level; ``max_dilation_exp``: N, the audio
      convolution's dilation runs 1, 2, 4, ..., 2^N and wraps.
    * ``heads`` (self-attention heads), ``head_dim`` (RS-MMA channels per head), ``norm_groups``.
    * ``emb_mult``: timestep-embedding width = ``channels * emb_mult`` (1 in the authors' code).
    * ``channels_last``: keep video features channels-last in memory (faster convolutions on CPU).
    * ``temporal_padding``: ``"zeros"`` (the authors) or ``"circular"`` for the 1D convolutions across frames.
    * ``recompute_attention``: recompute every self-attention and RS-MMA block in the backward pass
      instead of storing its activations (the authors' ``use_checkpoint``; less memory, a bit slower).
    * ``cross_offsets``: RS-MMA also reports how its attention spread over relative frame offsets
      (:func:`mmdiff_lite.model.rsmma.offset_readout`; the kit's addition, ``False`` is the paper).
    * ``cross_rotary``: RS-MMA rotates queries and keys by their time in frames (time-aligned rotary position,
      :mod:`mmdiff_lite.model.rotary`), so its scores see the true frame offset (the kit's addition).
    * ``prediction``: what the output means, ``"eps"`` (the noise, the authors) or ``"v"``
      (sqrt(ab) eps - sqrt(1 - ab) x_0); the network itself is the same, samplers convert v to eps.

    Taught in: notebooks/04_coupled_unet.ipynb
    """

    name: str = "custom"
    kind: str = "coupled"  # which network family (the super-resolution stage's configs say "sr")
    clip: str = "paper"  # the clip preset (mmdiff_lite.data.clip_preset) whose clips this model takes
    video_shape: tuple[int, int, int, int] = (16, 3, 64, 64)
    audio_shape: tuple[int, int] = (1, 25600)
    channels: int = 128
    channel_mult: tuple[int, ...] = (1, 2, 3, 4)
    num_blocks: int = 2
    windows: tuple[int | None, ...] = (None, 1, 4, 8)
    middle_cross_attention: bool = True
    cross_attention: bool = True
    rsmma_impl: str = "windowed"
    shift: str | int = "random"
    attention_levels: tuple[int, ...] = (1, 2, 3)
    middle_attention: bool = True
    audio_rate: int = 4
    max_dilation_exp: int = 9
    heads: int = 4
    head_dim: int = 64
    norm_groups: int = 32
    emb_mult: int = 1
    dropout: float = 0.0
    channels_last: bool = False
    temporal_padding: str = "zeros"  # "zeros" (the authors) or "circular" (frames on a ring, like RS-MMA's mod F)
    prediction: str = "eps"  # "eps" (the authors) or "v"
    recompute_attention: bool = False
    cross_offsets: bool = False  # the kit's addition: RS-MMA's attention mass per relative frame offset
    cross_rotary: bool = False  # the kit's addition: time-aligned rotary position on RS-MMA's queries and keys

    #: the modalities the network denoises, and the conditions it is given (none: it generates both together)
    modalities = ("video", "audio")
    conditions = ()

    def __post_init__(self):
        check_fields(self)  # typed: "False" is false, 3.5 is no channel count, lists become tuples
        self.validate()

    @property
    def input_shapes(self) -> dict:
        """modality -> the shape of one clip of it (what the trainer checks its data against)."""
        return {"video": self.video_shape, "audio": self.audio_shape}

    # --- derived sizes -------------------------------------------------------------------------
    @property
    def num_frames(self) -> int:
        return self.video_shape[0]

    def level_shapes(self, level: int) -> tuple[tuple[int, int, int], int]:
        """((F, H, W), T) of the features at ``level``."""
        f, _, h, w = self.video_shape
        return (f, h >> level, w >> level), self.audio_shape[1] // self.audio_rate**level

    def window_at(self, level: int) -> int | None:
        """The RS-MMA window at ``level`` (``None`` when that level has no cross attention)."""
        return self.windows[level] if self.cross_attention else None

    # --- checks --------------------------------------------------------------------------------
    def validate(self) -> None:
        """Raise ``ValueError`` (saying what to change) for an inconsistent configuration."""
        if self.kind != "coupled":
            raise ValueError(f"a UNetConfig has kind 'coupled', got {self.kind!r}")
        counts = {"channels": self.channels, "num_blocks": self.num_blocks, "heads": self.heads,
                  "head_dim": self.head_dim, "norm_groups": self.norm_groups, "emb_mult": self.emb_mult,
                  "audio_rate": self.audio_rate}
        bad = [f"{k}={v}" for k, v in counts.items() if v < 1]
        bad += [f"{k}={v}" for k, v in (("video_shape", self.video_shape), ("audio_shape", self.audio_shape),
                                        ("channel_mult", self.channel_mult)) if not v or min(v) < 1]
        if bad:
            raise ValueError(f"{', '.join(bad)}: sizes and counts must be at least 1")
        if not 0.0 <= self.dropout < 1.0 or self.max_dilation_exp < 0:
            raise ValueError("dropout must lie in [0, 1) and max_dilation_exp be >= 0")
        f, c, h, w = self.video_shape
        n = self.num_levels
        if len(self.windows) != n:
            raise ValueError(f"windows has {len(self.windows)} entries but the U-Net has {n} levels "
                             f"(channel_mult={self.channel_mult}): give one window (or None) per level")
        if self.prediction not in ("eps", "v"):
            raise ValueError(f"prediction={self.prediction!r}: use 'eps' or 'v'")
        if self.temporal_padding not in ("zeros", "circular"):
            raise ValueError(f"temporal_padding={self.temporal_padding!r}: use 'zeros' or 'circular'")
        if self.rsmma_impl not in ("dense", "windowed"):
            raise ValueError(f"rsmma_impl={self.rsmma_impl!r}: use 'dense' or 'windowed'")
        if not (self.shift in ("random", "none") or (isinstance(self.shift, int) and not isinstance(self.shift, bool))):
            raise ValueError(f"shift={self.shift!r}: use 'random', 'none' or an integer")
        if any(lv < 0 or lv >= n for lv in self.attention_levels):
            raise ValueError(f"attention_levels={self.attention_levels} must lie in 0..{n - 1}")
        if h % 2 ** (n - 1) or w % 2 ** (n - 1):
            raise ValueError(f"frame size {h}x{w} must be divisible by 2^{n - 1} for {n} levels: "
                             "change the video size or use fewer levels")
        for level in range(n):
            (_, _, _), t = self.level_shapes(level)
            if self.audio_shape[1] % self.audio_rate**level:
                raise ValueError(f"audio length {self.audio_shape[1]} is not divisible by "
                                 f"audio_rate^{level} = {self.audio_rate ** level}: change the audio length")
            window = self.windows[level]
            if window is None:
                continue
            if not 1 <= window <= f:
                raise ValueError(f"window {window} at level {level} must lie in 1..{f} (the number of frames): "
                                 "use a smaller window")
            if t % f:
                raise ValueError(f"audio length {t} at level {level} cannot be cut into {f} equal segments: "
                                 "make the audio length a multiple of frames * audio_rate^level")
            if isinstance(self.shift, int) and not 0 <= self.shift <= f - window:
                raise ValueError(f"fixed shift {self.shift} is outside 0..F-S = 0..{f - window} at level {level}: "
                                 "use a smaller shift or 'random'")
        if self.middle_cross_attention and self.audio_shape[1] // self.audio_rate ** (n - 1) % f:
            raise ValueError("the middle block's audio length must be a multiple of the number of frames")


def _presets() -> dict[str, UNetConfig]:
    paper = UNetConfig(name="paper", clip="paper", dropout=0.1, recompute_attention=True)
    return {
        # The synthetic benchmark's clips (16 frames of 16x16 at 16 fps, 4096 Hz audio), sized so a
        # training step at batch 16 takes a fraction of a second on 2 CPU cores. Circular temporal
        # padding: with the authors' zeros a trained tiny model loses its last frame (notebook 05).
        # v-prediction: an eps-predicting tiny model got the clip's colours wrong at high noise (notebook 06).
        # No random shift (R = 0, the paper's ablation): the benchmark's sound must fall on the exact frame,
        # and a block cannot tell which shift it drew, so with R random the tiny model learned colour-pitch
        # but no timing (notebooks 05 and 07 measure both).
        "tiny": UNetConfig(
            name="tiny", clip="tiny", video_shape=(16, 3, 16, 16), audio_shape=(1, 4096), channels=16,
            channel_mult=(1, 2, 2), num_blocks=1, windows=(None, 1, 4), attention_levels=(2,),
            dropout=0.0, temporal_padding="circular", prediction="v", shift="none",
        ),
        # A small GPU: 16 frames of 32x32, 8192 Hz audio (1 s at 16 fps), half the paper's width.
        "small": UNetConfig(
            name="small", clip="small", video_shape=(16, 3, 32, 32), audio_shape=(1, 8192), channels=64,
            channel_mult=(1, 2, 3, 4), num_blocks=2, windows=(None, 1, 4, 8), dropout=0.1,
            temporal_padding="circular",
        ),
        # The authors' training configuration (their multimodal_train.sh).
        "paper": paper,
        # The authors' architecture shrunk, for speed comparisons with their code at equal work.
        "ref-small": UNetConfig(
            name="ref-small", clip="ref-small", video_shape=(8, 3, 32, 32), audio_shape=(1, 6400), channels=32,
            channel_mult=(1, 2, 2), num_blocks=1, windows=(None, 1, 4), attention_levels=(1, 2),
            dropout=0.1, recompute_attention=True,
        ),
        # The super-resolution stage (per-frame upsampler, ADM layout; mmdiff_lite.model.sr). sr-paper: the authors'
        # 64->256 model (guided-diffusion's upsampler without a class label, their image_sr_train.sh).
        "sr-paper": SRConfig(name="sr-paper", clip="paper-x4", num_frames=16, frame_shape=(3, 256, 256),
                             low_size=(64, 64), channels=192, channel_mult=(1, 1, 2, 2, 4, 4), num_blocks=2,
                             attention_levels=(3, 4, 5), heads=4, emb_mult=4),
        # sr-tiny: the tiny model's 16x16 frames to 32x32, trained here on the benchmark's frames (tiny-x2 clips).
        # v-prediction, as tiny (trained with its recipe's min-SNR weighting); 16 channels: 0.75 s a step at 4 clips
        # (64 frames) on one core, where 32 channels took 1.9 s.
        "sr-tiny": SRConfig(name="sr-tiny", clip="tiny-x2", num_frames=16, frame_shape=(3, 32, 32),
                            low_size=(16, 16), channels=16, channel_mult=(1, 2, 2), num_blocks=1,
                            attention_levels=(2,), heads=4, emb_mult=4, prediction="v"),
    }


#: The named presets, the kit's one list of models: the coupled U-Nets (``tiny``, ``small``, ``paper``,
#: ``ref-small``) and the super-resolution stage (``sr-tiny``, ``sr-paper``).
MODEL_PRESETS: dict[str, UNetConfig | SRConfig] = _presets()

#: config ``kind`` -> its dataclass (a checkpoint's header records the kind; headers without one are coupled).
CONFIG_KINDS = {"coupled": UNetConfig, "sr": SRConfig}


def model_preset_names(kind: str | None = None) -> list[str]:
    """Preset names, all of them or those of one ``kind`` (``coupled``: the joint generators; ``sr``)."""
    return [k for k, v in MODEL_PRESETS.items() if kind is None or v.kind == kind]


def config_from_dict(d: dict) -> UNetConfig | SRConfig:
    """A config from its ``to_dict()`` (a checkpoint header), by its ``kind``."""
    kind = d.get("kind", "coupled")
    if kind not in CONFIG_KINDS:
        raise ValueError(f"unknown model kind {kind!r} in the checkpoint: this kit knows {', '.join(CONFIG_KINDS)}")
    return CONFIG_KINDS[kind](**{**d, "kind": kind})


def model_config(preset: str | UNetConfig | SRConfig = "tiny", **overrides) -> UNetConfig | SRConfig:
    """The configuration of a named preset (or a given config) with ``overrides`` applied.

    Unknown presets and unknown override names raise ``ValueError`` listing the valid ones.

    Taught in: notebooks/04_coupled_unet.ipynb
    """
    if isinstance(preset, tuple(CONFIG_KINDS.values())):
        base = preset
    elif preset in MODEL_PRESETS:
        base = MODEL_PRESETS[preset]
    else:
        raise ValueError(f"unknown model preset {preset!r}: use one of {', '.join(MODEL_PRESETS)}")
    valid = {f.name for f in fields(type(base))} - {"kind"}
    unknown = sorted(set(overrides) - valid)
    if unknown:
        raise ValueError(f"unknown model option(s) {', '.join(unknown)}: valid options are {', '.join(sorted(valid))}")
    return replace(base, **overrides)
