"""The super-resolution stage's configuration: a per-frame image diffusion upsampler in the ADM style.

The paper's second stage takes the coupled U-Net's 64×64 frames to 256×256 (reference §6): every frame is
upsampled on its own by an image diffusion model that sees the noisy high-resolution frame with the
low-resolution frame, upsampled bilinearly to the same size, concatenated as extra input channels. The authors
use guided-diffusion's 64→256 upsampler layout (their image_sr_train.sh): width 192, channel multipliers
(1, 1, 2, 2, 4, 4), two residual blocks per level, self-attention (4 heads) at 32², 16² and 8², residual blocks
for up- and down-sampling, scale-shift normalisation, no class label.

* ``clip``: the clip preset of the high-resolution clips (``tiny-x2``: tiny's world at 32×32); the training
  frames are these clips' frames, and the low-resolution input is each frame area-downsampled to ``low_size``.
* ``frame_shape`` ``(C, H, W)``: the output frame; ``low_size`` ``(h, w)``: the input frame.
* ``channels``, ``channel_mult``, ``num_blocks``, ``attention_levels``, ``heads``, ``emb_mult`` (time embedding
  width = channels × emb_mult; 4 in ADM), ``dropout``, ``norm_groups``, ``prediction`` (``eps`` or ``v``).

The model knows no schedule and no audio: its one modality is ``video``, and its condition is ``low``.

Taught in: notebooks/11_super_resolution.ipynb
"""
from __future__ import annotations

from dataclasses import dataclass

from ..fields import check_fields
from .sizes import UNetSizes

__all__ = ["SRConfig"]


@dataclass(frozen=True)
class SRConfig(UNetSizes):
    """Everything that decides the per-frame upsampler's shape (see the module)."""

    name: str = "custom-sr"
    kind: str = "sr"  # which network family (the coupled U-Net's configs say "coupled")
    clip: str = "tiny-x2"
    num_frames: int = 16
    frame_shape: tuple[int, int, int] = (3, 32, 32)
    low_size: tuple[int, int] = (16, 16)
    channels: int = 32
    channel_mult: tuple[int, ...] = (1, 2, 2)
    num_blocks: int = 1
    attention_levels: tuple[int, ...] = (2,)
    heads: int = 4
    emb_mult: int = 4
    norm_groups: int = 32
    dropout: float = 0.0
    prediction: str = "eps"

    #: the modalities the network denoises, and the conditions it is given (the trainer reads both)
    modalities = ("video",)
    conditions = ("low",)

    def __post_init__(self):
        check_fields(self)
        self.validate()

    @property
    def video_shape(self) -> tuple[int, int, int, int]:
        return (self.num_frames, *self.frame_shape)

    @property
    def input_shapes(self) -> dict:
        return {"video": self.video_shape}

    def validate(self) -> None:
        if self.kind != "sr":
            raise ValueError(f"an SRConfig has kind 'sr', got {self.kind!r}")
        sizes = {"channels": self.channels, "num_blocks": self.num_blocks, "heads": self.heads,
                 "emb_mult": self.emb_mult, "norm_groups": self.norm_groups, "num_frames": self.num_frames}
        bad = [f"{k}={v}" for k, v in sizes.items() if v < 1]
        if bad or not self.channel_mult or min(self.channel_mult) < 1 or min(self.frame_shape + self.low_size) < 1:
            raise ValueError(f"{', '.join(bad) or 'a size'}: sizes and counts must be at least 1")
        c, h, w = self.frame_shape
        if h % self.low_size[0] or w % self.low_size[1] or h // self.low_size[0] != w // self.low_size[1] \
                or h == self.low_size[0]:
            raise ValueError(f"frame {h}x{w} must be an integer multiple (> 1, the same in both directions) of "
                             f"low_size {self.low_size}")
        n = self.num_levels
        if h % 2 ** (n - 1) or w % 2 ** (n - 1):
            raise ValueError(f"frame size {h}x{w} must be divisible by 2^{n - 1} for {n} levels")
        if any(lv < 0 or lv >= n for lv in self.attention_levels):
            raise ValueError(f"attention_levels={self.attention_levels} must lie in 0..{n - 1}")
        if self.prediction not in ("eps", "v"):
            raise ValueError(f"prediction={self.prediction!r}: use 'eps' or 'v'")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError("dropout must lie in [0, 1)")
