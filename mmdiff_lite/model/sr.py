"""The super-resolution stage: a per-frame image diffusion upsampler (ADM layout), ``SuperResUNet``.

``model({"video": x_t}, t, low=v_low) -> {"video": eps}``: ``x_t`` is ``(B, F, C, H, W)``, ``low`` the
low-resolution frames ``(B, F, C, h, w)``. Every frame is its own image: the batch and frame axes are folded,
``low`` is upsampled bilinearly to H×W and concatenated to ``x_t`` along channels (ADM's super-resolution
conditioning), and an image U-Net predicts the noise:

    ε̂ = U([x_t ; up(v_low)], t)

The U-Net: a 3×3 stem; per level ``num_blocks`` residual blocks (GN-SiLU-conv, scale-shift by t, GN-SiLU-conv)
[+ self-attention over the frame's pixels], then a down-sampling residual block; a middle block (residual,
attention, residual); a decoder with one more block per level and concatenated skips, up-sampling residual
blocks; GroupNorm-SiLU and a zero-initialised 3×3 output convolution. The residual block is the kit's one
:class:`~mmdiff_lite.model.layers.ResBranch`, with 2-D convolutions.

Frames do not see each other: temporal coherence comes from the sampler (the authors give all frames the same
initial noise, :func:`mmdiff_lite.pipeline.upscale`).

Taught in: notebooks/11_super_resolution.ipynb
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from einops import rearrange
from torch import nn

from .attention import SelfAttention
from .embedding import TimestepEmbedding
from .layers import ResBranch, group_norm, zero_init
from .sr_config import SRConfig
from .video import VideoResample

__all__ = ["SuperResUNet", "sr_condition", "downsample_frames"]


def downsample_frames(video: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """``(..., C, H, W)`` frames area-averaged to ``size`` (each low-resolution pixel the mean of its block):
    how the training pairs' low-resolution frames are made, and how an upscaled output is compared with its
    input."""
    lead = video.shape[:-3]
    x = F.adaptive_avg_pool2d(video.reshape(-1, *video.shape[-3:]).float(), size)
    return x.reshape(*lead, *x.shape[-3:]).to(video.dtype)


def sr_condition(low: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """ADM's conditioning input: the low-resolution frames ``(N, C, h, w)`` upsampled bilinearly to ``size``."""
    return F.interpolate(low, size=size, mode="bilinear", align_corners=False)


def _conv3(i, o):
    return nn.Conv2d(i, o, 3, padding=1)


def _conv1(i, o):
    return nn.Conv2d(i, o, 1)


class _Block(nn.Module):
    """One residual block told t (scale and shift per channel), optionally followed by self-attention."""

    def __init__(self, in_ch, out_ch, emb_dim, cfg: SRConfig, updown=None, attention=False):
        super().__init__()
        self.emb = nn.Sequential(nn.SiLU(), nn.Linear(emb_dim, 2 * out_ch))
        self.res = ResBranch(in_ch, out_ch, _conv3(in_ch, out_ch), _conv1, VideoResample(updown) if updown else None,
                             cfg.dropout, cfg.norm_groups, conv_out=_conv3(out_ch, out_ch))
        self.attention = SelfAttention(out_ch, cfg.heads, cfg.norm_groups) if attention else None

    def forward(self, x, emb):
        scale, shift = self.emb(emb).chunk(2, dim=1)
        x = self.res(x, scale, shift)
        if self.attention is not None:
            h, w = x.shape[-2:]
            x = rearrange(self.attention(rearrange(x, "n c h w -> n (h w) c")), "n (h w) c -> n c h w", h=h, w=w)
        return x


class SuperResUNet(nn.Module):
    """The per-frame upsampler of :class:`SRConfig` (see the module).

    Taught in: notebooks/11_super_resolution.ipynb
    """

    def __init__(self, config: SRConfig):
        super().__init__()
        self.config = cfg = config
        c = cfg.frame_shape[0]
        ch = cfg.level_channels(0)
        self.time_embed = TimestepEmbedding(cfg.channels, cfg.emb_dim)
        self.stem = _conv3(2 * c, ch)
        skips = [ch]
        self.down = nn.ModuleList()
        last = cfg.num_levels - 1
        for level in range(cfg.num_levels):
            for _ in range(cfg.num_blocks):
                out = cfg.level_channels(level)
                self.down.append(_Block(ch, out, cfg.emb_dim, cfg, attention=level in cfg.attention_levels))
                ch = out
                skips.append(ch)
            if level != last:
                self.down.append(_Block(ch, ch, cfg.emb_dim, cfg, updown="down"))
                skips.append(ch)
        self.middle = nn.ModuleList([_Block(ch, ch, cfg.emb_dim, cfg, attention=True), _Block(ch, ch, cfg.emb_dim, cfg)])
        self.up = nn.ModuleList()
        for level in reversed(range(cfg.num_levels)):
            for i in range(cfg.num_blocks + 1):
                out = cfg.level_channels(level)
                block = [_Block(ch + skips.pop(), out, cfg.emb_dim, cfg, attention=level in cfg.attention_levels)]
                ch = out
                if level and i == cfg.num_blocks:
                    block.append(_Block(ch, ch, cfg.emb_dim, cfg, updown="up"))
                self.up.append(nn.ModuleList(block))
        self.out_norm = group_norm(ch, cfg.norm_groups)
        self.out_conv = zero_init(_conv3(ch, c))

    def inputs(self, batch: dict) -> tuple[dict, dict]:
        """(what the network denoises, what it is given) for a training batch of clips: the clips' frames, and
        the same frames area-downsampled to ``low_size`` (the trainer calls this for every model)."""
        video = batch["video"]
        return {"video": video}, {"low": downsample_frames(video, self.config.low_size)}

    def forward(self, x: dict, t: torch.Tensor, shift_generator: torch.Generator | None = None,
                low: torch.Tensor | None = None) -> dict:
        cfg = self.config
        if not isinstance(x, dict) or "video" not in x or low is None:
            raise ValueError("the upsampler takes {'video': x_t (B, F, C, H, W)} and low=(B, F, C, h, w)")
        xt = x["video"]
        b, f = xt.shape[:2]
        if xt.dim() != 5 or tuple(xt.shape[2:]) != cfg.frame_shape:
            raise ValueError(f"x_t of shape {tuple(xt.shape)} does not fit the upsampler's frames (B, F, *{cfg.frame_shape})")
        if tuple(low.shape) != (b, f, cfg.frame_shape[0], *cfg.low_size):
            raise ValueError(f"low of shape {tuple(low.shape)} must be (B, F, C, h, w) = ({b}, {f}, "
                             f"{cfg.frame_shape[0]}, {cfg.low_size[0]}, {cfg.low_size[1]})")
        t = torch.as_tensor(t, device=xt.device, dtype=torch.float32)
        t = t.expand(b) if t.dim() == 0 else t
        frames = rearrange(xt, "b f c h w -> (b f) c h w")
        cond = sr_condition(rearrange(low, "b f c h w -> (b f) c h w").to(frames.dtype), cfg.frame_shape[1:])
        emb = self.time_embed(t.repeat_interleave(f))  # every frame of a clip at the clip's t
        h = self.stem(torch.cat([frames, cond], dim=1))  # [x_t ; up(v_low)]
        skips = [h]
        for block in self.down:
            h = block(h, emb)
            skips.append(h)
        for block in self.middle:
            h = block(h, emb)
        for blocks in self.up:
            h = blocks[0](torch.cat([h, skips.pop()], dim=1), emb)
            for extra in blocks[1:]:
                h = extra(h, emb)
        eps = self.out_conv(F.silu(self.out_norm(h)))
        return {"video": rearrange(eps, "(b f) c h w -> b f c h w", b=b)}
