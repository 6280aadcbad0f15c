"""The coupled U-Net: two U-Nets (video, audio) in lock-step, sharing t and talking through RS-MMA.

Layout (ADM style, the authors' structure): a stem convolution per modality; per level
``num_blocks`` MM-Blocks (residual block [+ video self-attention] [+ RS-MMA]) and, except at the
last level, a down-sampling residual block; a middle block (residual block with video and audio
self-attention, full cross attention, residual block); a decoder mirroring the encoder with one more
block per level and skip connections concatenated along channels; a GroupNorm-SiLU-conv output per
modality (zero-initialised). The model knows no noise schedule: it maps ``(x_t, t)`` to the noise.

Taught in: notebooks/04_coupled_unet.ipynb
"""
from __future__ import annotations

import contextlib
from typing import Iterator

import torch
from torch import nn

from .audio import dilation_schedule
from .config import UNetConfig, model_config
from .embedding import TimestepEmbedding
from ..utils import resolve_generator
from .layers import group_norm, zero_init
from .resblock import MMResBlock, MMSequence
from .attention import SelfAttention
from .rsmma import RSMMA, draw_shift
from .sr import SuperResUNet
from .video import VideoConv

__all__ = ["CoupledUNet", "NETWORKS", "build_model", "shift_generator", "shift_mode", "rsmma_modules", "perturb_zero_layers"]


class CoupledUNet(nn.Module):
    """``model({"video": v, "audio": a}, t) -> {"video": eps_v, "audio": eps_a}``.

    ``v``: ``(B, F, C, H, W)``, ``a``: ``(B, C, T)``, ``t``: float ``(B,)`` in step units [0, T-1].
    RS-MMA shifts come from ``shift_generator`` (a ``torch.Generator``) when given, else from the
    attribute ``self.shift_generator``, else from the global torch RNG; every RS-MMA block draws once
    per call, in a fixed order, so a generator seeded from (run seed, step) fixes every shift.

    Taught in: notebooks/04_coupled_unet.ipynb
    """

    def __init__(self, config: UNetConfig):
        super().__init__()
        self.config = cfg = config
        self.shift_generator: torch.Generator | None = None
        f, cv, _, _ = cfg.video_shape
        ca = cfg.audio_shape[0]
        ch = cfg.level_channels(0)
        self.time_embed = TimestepEmbedding(cfg.channels, cfg.emb_dim)
        self.stem_video = VideoConv(cv, ch, temporal_padding=cfg.temporal_padding)
        self.stem_audio = nn.Conv1d(ca, ch, 3, padding=1)

        counter = 1  # audio dilation counter (the authors start at 1): 2^(counter mod (N+1)), up in the encoder, down in the decoder
        skip_channels = [ch]
        self.down = nn.ModuleList()
        for level, mult in enumerate(cfg.channel_mult):
            for _ in range(cfg.num_blocks):
                out = cfg.channels * mult
                self.down.append(self._mm_block(ch, out, level, counter))
                ch, counter = out, counter + 1
                skip_channels.append(ch)
            if level < cfg.num_levels - 1:
                self.down.append(MMSequence([self._res(ch, ch, counter, updown="down")]))
                counter += 1
                skip_channels.append(ch)

        middle = [self._res(ch, ch, counter, video_attention=cfg.middle_attention, audio_attention=cfg.middle_attention)]
        if cfg.middle_cross_attention and cfg.cross_attention:
            middle.append(self._rsmma(ch, f, shift="none"))
        middle.append(self._res(ch, ch, counter, video_attention=cfg.middle_attention, audio_attention=cfg.middle_attention))
        self.middle = MMSequence(middle)

        counter -= 1
        self.up = nn.ModuleList()
        for level in reversed(range(cfg.num_levels)):
            for i in range(cfg.num_blocks + 1):
                out = cfg.channels * cfg.channel_mult[level]
                block = self._mm_block(ch + skip_channels.pop(), out, level, counter)
                ch, counter = out, counter - 1
                if level > 0 and i == cfg.num_blocks:
                    block.append(self._res(ch, ch, counter, updown="up"))
                self.up.append(block)

        out_conv = VideoConv(ch, cv, temporal_padding=cfg.temporal_padding)
        zero_init(out_conv.temporal)  # only the last factor: zeroing both would leave the two with no gradient
        self.out_video = nn.Sequential(group_norm(ch, cfg.norm_groups), nn.SiLU(), out_conv)
        self.out_audio = nn.Sequential(group_norm(ch, cfg.norm_groups), nn.SiLU(), zero_init(nn.Conv1d(ch, ca, 3, padding=1)))
        for m in self.modules():  # attention blocks recompute in backward (the authors' use_checkpoint)
            if isinstance(m, (SelfAttention, RSMMA)):
                m.recompute = cfg.recompute_attention

    # --- construction helpers ------------------------------------------------------------------
    def _res(self, in_ch, out_ch, counter, updown=None, video_attention=False, audio_attention=False):
        cfg = self.config
        return MMResBlock(in_ch, out_ch, cfg.emb_dim, dilation_schedule(counter, cfg.max_dilation_exp), updown,
                          video_attention, audio_attention, cfg.audio_rate, cfg.dropout, cfg.heads, cfg.norm_groups,
                          cfg.temporal_padding)

    def _rsmma(self, ch, window, shift=None):
        cfg = self.config
        return RSMMA(ch, cfg.num_frames, window, cfg.shift if shift is None else shift, cfg.rsmma_impl,
                     cfg.head_dim, cfg.norm_groups, offsets=cfg.cross_offsets, rotary=cfg.cross_rotary)

    def _mm_block(self, in_ch, out_ch, level, counter) -> MMSequence:
        """Residual block [+ video self-attention] [+ RS-MMA with this level's window]."""
        layers = [self._res(in_ch, out_ch, counter, video_attention=level in self.config.attention_levels)]
        window = self.config.window_at(level)
        if window is not None:
            layers.append(self._rsmma(out_ch, window))
        return MMSequence(layers)

    # --- forward -------------------------------------------------------------------------------
    def check_inputs(self, x: dict, t) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Validate a batch against the config; returns ``(video, audio, t)`` with t as float ``(B,)``."""
        if not isinstance(x, dict) or "video" not in x or "audio" not in x:
            raise ValueError("the model takes a pair {'video': (B, F, C, H, W), 'audio': (B, C, T)}")
        video, audio = x["video"], x["audio"]
        cfg = self.config
        if video.dim() != 5 or tuple(video.shape[1:]) != cfg.video_shape:
            raise ValueError(f"video of shape {tuple(video.shape)} does not match the model's (B, *{cfg.video_shape}): "
                             "resize the clips or build the model with video_shape=...")
        if audio.dim() != 3 or tuple(audio.shape[1:]) != cfg.audio_shape or len(audio) != len(video):
            raise ValueError(f"audio of shape {tuple(audio.shape)} does not match the model's ({len(video)}, *{cfg.audio_shape}): "
                             "resample/crop the audio or build the model with audio_shape=...")
        t = torch.as_tensor(t, device=video.device, dtype=torch.float32)
        if t.dim() == 0:
            t = t.expand(len(video))
        if t.shape != (len(video),):
            raise ValueError(f"t must have shape ({len(video)},), got {tuple(t.shape)}")
        return video, audio, t

    def inputs(self, batch: dict) -> tuple[dict, dict]:
        """(what the network denoises, what it is given) for a training batch: both halves of the pair, no
        condition (the trainer calls this for every model; the upsampler's is different)."""
        return {"video": batch["video"], "audio": batch["audio"]}, {}

    def forward(self, x: dict, t: torch.Tensor, shift_generator: torch.Generator | None = None) -> dict:
        video, audio, t = self.check_inputs(x, t)
        gen = shift_generator if shift_generator is not None else self.shift_generator
        emb = self.time_embed(t)
        v = video.transpose(1, 2)  # (B, F, C, H, W) -> (B, C, F, H, W)
        if self.config.channels_last:
            v = v.contiguous(memory_format=torch.channels_last_3d)
        v, a = self.stem_video(v), self.stem_audio(audio)
        skips = [(v, a)]
        for block in self.down:
            v, a = block(v, a, emb, gen)
            skips.append((v, a))
        v, a = self.middle(v, a, emb, gen)
        for block in self.up:
            sv, sa = skips.pop()
            v, a = block(torch.cat([v, sv], dim=1), torch.cat([a, sa], dim=1), emb, gen)  # skips along channels
        eps_v = self.out_video(v).transpose(1, 2).contiguous()
        return {"video": eps_v, "audio": self.out_audio(a)}


#: config kind -> network class: the one map from a model preset to what it builds.
NETWORKS = {"coupled": CoupledUNet, "sr": SuperResUNet}


def build_model(preset: str | UNetConfig = "tiny", **overrides) -> nn.Module:
    """The network of a named preset with overrides: the coupled U-Net (``tiny``, ``small``, ``paper``,
    ``ref-small``) or the super-resolution stage's upsampler (``sr-tiny``, ``sr-paper``), by the config's kind.

    ``overrides`` are :class:`UNetConfig` fields, e.g. ``rsmma_impl="windowed"``, ``shift="none"``,
    ``cross_attention=False``, ``windows=(None, 4, 8)``, ``channels=64``. Parameter names do not
    depend on ``rsmma_impl``, so weights load into either implementation.

    Taught in: notebooks/04_coupled_unet.ipynb
    """
    cfg = model_config(preset, **overrides)
    return NETWORKS[cfg.kind](cfg)


def rsmma_modules(model: nn.Module) -> list[tuple[str, RSMMA]]:
    """Every RS-MMA block of ``model`` with its name, in call order.

    Taught in: notebooks/05_rs_mma.ipynb
    """
    return [(n, m) for n, m in model.named_modules() if isinstance(m, RSMMA)]


@contextlib.contextmanager
def shift_generator(model: CoupledUNet, generator: torch.Generator | int | None) -> Iterator[CoupledUNet]:
    """Within the ``with`` block, ``model`` draws its RS-MMA shifts from ``generator`` (or a seed).

    Taught in: notebooks/05_rs_mma.ipynb
    """
    generator = resolve_generator(generator)
    old = model.shift_generator
    model.shift_generator = generator
    try:
        yield model
    finally:
        model.shift_generator = old


@contextlib.contextmanager
def shift_mode(model: nn.Module, mode: str | int) -> Iterator[nn.Module]:
    """Within the ``with`` block, every windowed RS-MMA block of ``model`` uses shift ``mode``:
    ``"random"`` (the authors, also at sampling time), ``"none"`` (R = 0), a fixed integer in [0, F - S], or
    ``"trained"`` (leave each block as it was built: the model's own mode).
    Full-attention blocks (S = F) have no shift and are left alone.

    Taught in: notebooks/07_joint_sampling.ipynb
    """
    if mode == "trained":  # nothing to change
        yield model
        return
    blocks = [m for _, m in rsmma_modules(model) if m.window < m.num_frames]
    for m in blocks:
        if mode not in ("random", "none"):
            draw_shift(m.num_frames, m.window, int(mode))  # raises ValueError when outside [0, F - S]
    saved = [m.shift for m in blocks]
    for m in blocks:
        m.shift = mode if mode in ("random", "none") else int(mode)
    try:
        yield model
    finally:
        for m, s in zip(blocks, saved):
            m.shift = s


@torch.no_grad()
def perturb_zero_layers(model: nn.Module, scale: float = 0.1, generator: torch.Generator | None = None) -> nn.Module:
    """Give every all-zero parameter (the zero-initialised output layers) random values of size ``scale``.

    A fresh model's residual branches, attention and RS-MMA outputs are exactly zero, which hides the
    paths between the modalities; tests and notebooks perturb them first.

    Taught in: notebooks/05_rs_mma.ipynb
    """
    for p in model.parameters():
        if torch.count_nonzero(p) == 0:
            p.copy_(torch.randn(p.shape, generator=generator).to(p) * scale)
    return model
