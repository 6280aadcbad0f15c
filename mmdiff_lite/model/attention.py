"""Self-attention inside one modality: video spatial (within a frame) then temporal (across frames).

Attention layers work on token sequences ``(N, L, C)``. q, k, v and the output projection are 1x1
convolutions over the tokens, i.e. per-token linear maps (written as ``nn.Linear``; the same
parameters as the authors' 1x1 ``Conv1d``). The output projection starts at zero, so a fresh
attention block is the identity. 4 heads by default (the authors' setting).

Taught in: notebooks/04_coupled_unet.ipynb
"""
from __future__ import annotations

import torch
from torch import nn
import torch.nn.functional as F

from .layers import group_norm, recompute_in_backward, zero_init

__all__ = ["recomputed", "SelfAttention", "VideoSelfAttention", "AudioSelfAttention", "split_heads", "merge_heads", "video_tokens", "video_from_tokens"]


def split_heads(x: torch.Tensor, heads: int) -> torch.Tensor:
    """``(N, L, heads * d)`` -> ``(N, heads, L, d)``."""
    n, length, c = x.shape
    return x.view(n, length, heads, c // heads).transpose(1, 2)


def merge_heads(x: torch.Tensor) -> torch.Tensor:
    """``(N, heads, L, d)`` -> ``(N, L, heads * d)``."""
    n, heads, length, d = x.shape
    return x.transpose(1, 2).reshape(n, length, heads * d)


def recomputed(module: nn.Module, fn, *args):
    """``fn(*args)``, recomputed in the backward pass instead of stored when ``module.recompute`` is set
    and autograd is recording (the authors' ``use_checkpoint`` for attention blocks: less memory,
    one more forward of the block). ``fn`` must be deterministic given ``args``."""
    return recompute_in_backward(getattr(module, "recompute", False), fn, *args)


def token_norm(norm: nn.GroupNorm, tokens: torch.Tensor) -> torch.Tensor:
    """GroupNorm over the channels of ``(N, L, C)`` tokens (statistics over the whole sequence)."""
    return norm(tokens.transpose(1, 2)).transpose(1, 2)


def video_tokens(x: torch.Tensor) -> torch.Tensor:
    """``(B, C, F, H, W)`` -> ``(B, F*H*W, C)`` tokens in frame-major order (a view for channels-last features)."""
    return x.permute(0, 2, 3, 4, 1).reshape(x.shape[0], -1, x.shape[1])


def video_from_tokens(tokens: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """Inverse of :func:`video_tokens`, shaped like ``like`` ``(B, C, F, H, W)`` (channels-last in memory)."""
    b, c, f, h, w = like.shape
    return tokens.reshape(b, f, h, w, c).permute(0, 4, 1, 2, 3)


class SelfAttention(nn.Module):
    """Multi-head self-attention over ``(N, L, C)`` tokens with GroupNorm and a residual.

    Equation (scaled dot-product attention): ``softmax(Q K^T / sqrt(d)) V`` per head.

    Taught in: notebooks/04_coupled_unet.ipynb
    """

    def __init__(self, channels: int, heads: int = 4, groups: int = 32):
        super().__init__()
        if channels % heads:
            raise ValueError(f"{channels} channels cannot be split into {heads} heads: change heads or channels")
        self.heads = heads
        self.norm = group_norm(channels, groups)
        self.qkv = nn.Linear(channels, 3 * channels)
        self.proj = zero_init(nn.Linear(channels, channels))

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        return recomputed(self, self._attend, tokens)

    def _attend(self, tokens: torch.Tensor) -> torch.Tensor:
        q, k, v = self.qkv(token_norm(self.norm, tokens)).chunk(3, dim=-1)
        q, k, v = (split_heads(z, self.heads) for z in (q, k, v))
        out = F.scaled_dot_product_attention(q, k, v)  # softmax(QK^T/sqrt(d))V
        return tokens + self.proj(merge_heads(out))


class VideoSelfAttention(nn.Module):
    """Factorised video attention: spatial within each frame (H*W tokens), then temporal per pixel (F tokens).

    Taught in: notebooks/04_coupled_unet.ipynb
    """

    def __init__(self, channels: int, heads: int = 4, groups: int = 32):
        super().__init__()
        self.spatial = SelfAttention(channels, heads, groups)
        self.temporal = SelfAttention(channels, heads, groups)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, f, h, w = x.shape
        s = x.permute(0, 2, 3, 4, 1).reshape(b * f, h * w, c)  # (B F) (H W) C
        s = self.spatial(s).view(b, f, h, w, c)
        t = s.permute(0, 2, 3, 1, 4).reshape(b * h * w, f, c)  # (B H W) F C
        t = self.temporal(t).view(b, h, w, f, c)
        return t.permute(0, 4, 3, 1, 2)  # B C F H W


class AudioSelfAttention(SelfAttention):
    """Self-attention over the audio time axis (used only in the middle block, as the authors do).

    Taught in: notebooks/04_coupled_unet.ipynb
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: (B, C, T)
        return super().forward(x.transpose(1, 2)).transpose(1, 2)

