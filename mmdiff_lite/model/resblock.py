"""The coupled residual block and the MM-Block sequence.

:class:`MMResBlock` runs the video and the audio residual branches side by side. Both are told t by
one shared projection of the timestep embedding (SiLU, Linear -> a scale and a shift per channel,
used by both modalities, as in the authors' code), each has its own GroupNorms and convolutions.
Video self-attention (spatial, then temporal) and audio self-attention follow where configured.
:class:`MMSequence` chains residual blocks and RS-MMA: an MM-Block is residual block(s) + RS-MMA.

Taught in: notebooks/04_coupled_unet.ipynb
"""
from __future__ import annotations

import torch
from torch import nn

from .attention import AudioSelfAttention, VideoSelfAttention
from .audio import audio_branch
from .rsmma import RSMMA
from .video import video_branch

__all__ = ["MMResBlock", "MMSequence"]


class MMResBlock(nn.Module):
    """Video and audio residual blocks conditioned on one shared timestep embedding.

    ``updown`` is ``None``, ``"down"`` (frame size / 2, audio length / rate) or ``"up"`` (the inverse);
    the resampling happens inside the block (the authors' ``resblock_updown``).

    Taught in: notebooks/04_coupled_unet.ipynb
    """

    def __init__(self, in_ch: int, out_ch: int, emb_dim: int, dilation: int = 1, updown: str | None = None,
                 video_attention: bool = False, audio_attention: bool = False, rate: int = 4,
                 dropout: float = 0.0, heads: int = 4, groups: int = 32, temporal_padding: str = "zeros"):
        super().__init__()
        self.emb = nn.Sequential(nn.SiLU(), nn.Linear(emb_dim, 2 * out_ch))
        self.video = video_branch(in_ch, out_ch, updown, dropout, groups, temporal_padding)
        self.audio = audio_branch(in_ch, out_ch, dilation, updown, rate, dropout, groups)
        self.video_attention = VideoSelfAttention(out_ch, heads, groups) if video_attention else None
        self.audio_attention = AudioSelfAttention(out_ch, heads, groups) if audio_attention else None
        self.dilation = dilation

    def forward(self, video: torch.Tensor, audio: torch.Tensor, emb: torch.Tensor):
        scale, shift = self.emb(emb).chunk(2, dim=1)  # one (1 + s, b) pair for both modalities
        video = self.video(video, scale, shift)
        audio = self.audio(audio, scale, shift)
        if self.video_attention is not None:
            video = self.video_attention(video)
        if self.audio_attention is not None:
            audio = self.audio_attention(audio)
        return video, audio


class MMSequence(nn.ModuleList):
    """A chain of :class:`MMResBlock` (told t) and :class:`RSMMA` (told the shift generator) layers.

    Taught in: notebooks/04_coupled_unet.ipynb
    """

    def forward(self, video: torch.Tensor, audio: torch.Tensor, emb: torch.Tensor,
                generator: torch.Generator | None = None):
        for layer in self:
            if isinstance(layer, RSMMA):
                video, audio = layer(video, audio, generator)
            else:
                video, audio = layer(video, audio, emb)
        return video, audio
