"""RS-MMA: random-shift multi-modal attention, the bridge between the video and the audio U-Nets.

The audio features are cut into F equal segments, one per video frame. With a window S and a shift
R in [0, F - S], video frame i attends to the audio segments (i + R), ..., (i + R + S - 1) mod F,
and audio segment j to the video frames (j + R), ..., (j + R + S - 1) mod F: at frame level the
boolean mask ``M[q, k] = ((k - q - R) mod F) < S`` (:func:`window_mask`). R is drawn anew at every
call (``shift="random"``, training and sampling alike), shared by the batch and both directions.

Two implementations that agree to float tolerance:

* ``dense``: full cross attention over all tokens under the frame mask expanded to tokens
  (:func:`token_mask`); the readable reference; cost proportional to F.
* ``windowed``: each query frame gathers only its S key segments (:func:`window_indices`) and
  attends to them; time and memory proportional to S, i.e. F / S times less.

Taught in: notebooks/05_rs_mma.ipynb
"""
from __future__ import annotations

import numbers

import torch
from torch import nn
import torch.nn.functional as F

from .attention import merge_heads, recomputed, split_heads, video_from_tokens, video_tokens
from .layers import group_norm, zero_init
from .rotary import rotate, token_times

__all__ = [
    "window_mask", "window_indices", "token_mask", "ring_windows", "draw_shift", "segment_attention", "RSMMA",
    "RSMMA_IMPLS",
]

#: The two implementations of :func:`segment_attention`.
RSMMA_IMPLS = ("dense", "windowed")


def _check_window(num_frames: int, window: int, shift: int) -> None:
    for name, value in (("num_frames", num_frames), ("window", window), ("shift", shift)):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise ValueError(f"{name} must be an integer, got {value!r}")
    if num_frames < 1:
        raise ValueError(f"num_frames={num_frames}: need at least one frame")
    if not 1 <= window <= num_frames:
        raise ValueError(f"window {window} does not fit {num_frames} frames: use a window between 1 and {num_frames}")
    if not 0 <= shift <= num_frames - window:
        raise ValueError(f"shift {shift} is outside 0..F-S = 0..{num_frames - window}: "
                         f"use a shift in that range (window {window}, {num_frames} frames)")


def window_mask(num_frames: int, window: int, shift: int = 0, device=None) -> torch.Tensor:
    """The frame-level RS-MMA mask: bool ``(F, F)``, ``[q, k]`` true when query segment q may attend
    to key segment k.

    Equation (RS-MMA window): ``M[q, k] = ((k - q - R) mod F) < S``, i.e. k in (q+R) ... (q+R+S-1) mod F.
    Every row and every column holds exactly S true entries.

    Taught in: notebooks/05_rs_mma.ipynb
    """
    _check_window(num_frames, window, shift)
    q = torch.arange(num_frames, device=device)[:, None]
    k = torch.arange(num_frames, device=device)[None, :]
    return torch.remainder(k - q - shift, num_frames) < window  # ((k - q - R) mod F) < S


def window_indices(num_frames: int, window: int, shift: int = 0, device=None) -> torch.Tensor:
    """Long ``(F, S)``: row q lists the key segments ``(q + R + s) mod F``, s = 0 ... S-1 (the true
    entries of :func:`window_mask` row q).

    Taught in: notebooks/05_rs_mma.ipynb
    """
    _check_window(num_frames, window, shift)
    q = torch.arange(num_frames, device=device)[:, None]
    s = torch.arange(window, device=device)[None, :]
    return torch.remainder(q + shift + s, num_frames)  # (q + R + s) mod F


def token_mask(num_frames: int, window: int, shift: int, q_per_segment: int, k_per_segment: int,
               device=None) -> torch.Tensor:
    """The frame mask expanded to tokens: bool ``(F * Lq, F * Lk)`` for segments of Lq query and Lk key tokens.

    Taught in: notebooks/05_rs_mma.ipynb
    """
    m = window_mask(num_frames, window, shift, device)
    return m.repeat_interleave(q_per_segment, 0).repeat_interleave(k_per_segment, 1)


def draw_shift(num_frames: int, window: int, mode: str | int = "random",
               generator: torch.Generator | None = None) -> int:
    """The shift R of one RS-MMA call: uniform in ``[0, F - S]`` for ``"random"`` (from ``generator``,
    or the global torch RNG when ``None``), 0 for ``"none"``, the integer itself otherwise.

    Taught in: notebooks/05_rs_mma.ipynb
    """
    if mode == "none":
        return 0
    if mode == "random":
        high = num_frames - window + 1
        if high <= 1:  # S = F: the only shift is 0, nothing to draw
            return 0
        device = generator.device if generator is not None else "cpu"
        return int(torch.randint(high, (1,), generator=generator, device=device).item())  # R ~ U{0..F-S}
    if isinstance(mode, int) and not isinstance(mode, bool):
        _check_window(num_frames, window, mode)
        return mode
    raise ValueError(f"shift mode {mode!r}: use 'random', 'none' or an integer")


def ring_windows(z: torch.Tensor, num_frames: int, window: int, shift: int) -> torch.Tensor:
    """``(B, heads, F * L, d)`` -> ``(B * heads, F, S * L, d)``: row i is key segments
    ``(i + R) ... (i + R + S - 1) mod F`` laid end to end, as overlapping views of one buffer.

    The keys are rotated by R segments and the first S - 1 segments appended (one copy of
    ``(F + S - 1) / F`` the keys); window i then starts i segments into that buffer.

    Taught in: notebooks/05_rs_mma.ipynb
    """
    b, h, n, d = z.shape
    seg = n // num_frames
    z = torch.roll(z, -shift * seg, dims=2) if shift else z  # segment R first
    z = torch.cat([z, z[:, :, :(window - 1) * seg]], dim=2) if window > 1 else z.contiguous()  # wrap around
    length = z.shape[2]
    return z.as_strided((b * h, num_frames, window * seg, d), (length * d, seg * d, d, 1))


def segment_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, num_frames: int, window: int,
                      shift: int, impl: str = "dense") -> torch.Tensor:
    """Attention of queries to keys cut into ``num_frames`` segments under the RS-MMA window.

    ``q``: ``(B, heads, F * Lq, d)``; ``k``, ``v``: ``(B, heads, F * Lk, d)``; returns ``(B, heads, F * Lq, d)``.
    Query segment i sees the key segments ``(i + R + s) mod F``, s < S.

    Equation (the paper's MMA): ``MMA(a_i, v_j) = softmax(Q_i K_j^T / sqrt(d_k)) V_j``, with ``j`` the
    S key segments of query segment ``i``.

    Taught in: notebooks/05_rs_mma.ipynb
    """
    b, h, nq, d = q.shape
    nk, dv = k.shape[2], v.shape[-1]  # values may be wider than queries and keys (see offset_readout)
    if nq % num_frames or nk % num_frames:
        raise ValueError(f"{nq} query / {nk} key tokens cannot be cut into {num_frames} equal segments")
    lq, lk = nq // num_frames, nk // num_frames
    _check_window(num_frames, window, shift)
    if window == num_frames:  # every segment sees every segment: plain full attention
        return F.scaled_dot_product_attention(q, k, v)
    if impl == "dense":
        mask = token_mask(num_frames, window, shift, lq, lk, device=q.device)
        return F.scaled_dot_product_attention(q, k, v, attn_mask=mask)  # softmax(QK^T/sqrt(d) + log M)V
    if impl == "windowed":
        qw = q.reshape(b * h, num_frames, lq, d)  # query segment i as "head" i
        if torch.is_grad_enabled() and any(z.requires_grad for z in (q, k, v)):
            # training: gather the S key segments of every query segment (backward: one index_add)
            idx = window_indices(num_frames, window, shift, device=q.device).flatten()  # (F * S,)
            kw, vw = (z.reshape(b * h, num_frames, lk, z.shape[-1]).index_select(1, idx)
                      .view(b * h, num_frames, window * lk, z.shape[-1]) for z in (k, v))
        else:  # sampling: overlapping views of the keys on the ring, no copy per window
            kw, vw = (ring_windows(z, num_frames, window, shift) for z in (k, v))
        out = F.scaled_dot_product_attention(qw, kw, vw)  # softmax(Q_i K_j^T/sqrt(d)) V_j per segment i
        return out.reshape(b, h, nq, dv)
    raise ValueError(f"rsmma_impl={impl!r}: use one of {', '.join(RSMMA_IMPLS)}")


def with_frame_onehot(v: torch.Tensor, num_frames: int) -> torch.Tensor:
    """``(B, heads, F * L, d)`` -> ``(B, heads, F * L, d + F)``: each value token gets the one-hot code of
    its segment (frame) appended, so attention also returns how much weight went to each frame.

    Taught in: notebooks/05_rs_mma.ipynb
    """
    b, h, n, _ = v.shape
    frame = torch.arange(n, device=v.device) // (n // num_frames)
    onehot = F.one_hot(frame, num_frames).to(v.dtype)  # e_k for a token of segment k
    return torch.cat([v, onehot.expand(b, h, n, num_frames)], dim=-1)


def offset_readout(out: torch.Tensor, num_frames: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Split the output of attention over :func:`with_frame_onehot` values into the content ``(B, heads,
    F * Lq, d)`` and the attention mass per *relative* offset ``(B, heads, F * Lq, F)``.

    Equation (the kit's addition to RS-MMA, not in the paper): for a query in segment i,
    ``m_i[o] = sum over keys k of segment (i + o) mod F of softmax(q k^T / sqrt(d))_k``; under the window,
    m_i is zero outside o in R ... R + S - 1 and sums to 1. Without it a query cannot tell which of the
    frames of its window (nor, with S = 1, which shift R) its answer came from: the features carry no
    frame index, so RS-MMA can match colour to pitch but not an impact to its frame.

    Taught in: notebooks/05_rs_mma.ipynb
    """
    content, mass = out[..., :-num_frames], out[..., -num_frames:]
    nq = out.shape[2]
    i = torch.arange(nq, device=out.device) // (nq // num_frames)  # query segment of each token
    idx = torch.remainder(i[:, None] + torch.arange(num_frames, device=out.device)[None, :], num_frames)  # (i + o) mod F
    return content, mass.gather(-1, idx.expand(*mass.shape[:2], nq, num_frames))


class RSMMA(nn.Module):
    """Random-shift multi-modal attention between video ``(B, C, F, H, W)`` and audio ``(B, C, T)`` features.

    Pure cross attention in both directions (video queries use audio keys/values, audio queries video
    keys/values), separate GroupNorm and q/k/v per modality, head dim ``head_dim`` (64), zero-initialised
    output projections (a fresh block is the identity), residual. ``window = num_frames`` is the full
    cross attention of the middle block. The shift used by the last call is kept in ``last_shift``.
    With ``offsets=True`` (the kit's addition) each direction also adds a zero-initialised linear map of
    the attention mass per relative frame offset (:func:`offset_readout`) to its output. With ``rotary=True``
    (the kit's addition) queries and keys are rotated by their time in frames before the scores
    (:mod:`mmdiff_lite.model.rotary`), so a score knows the true frame offset of its key.

    Taught in: notebooks/05_rs_mma.ipynb
    """

    def __init__(self, channels: int, num_frames: int, window: int, shift: str | int = "random",
                 impl: str = "dense", head_dim: int = 64, groups: int = 32, offsets: bool = False,
                 rotary: bool = False):
        super().__init__()
        _check_window(num_frames, window, 0)
        if impl not in RSMMA_IMPLS:
            raise ValueError(f"rsmma_impl={impl!r}: use one of {', '.join(RSMMA_IMPLS)}")
        if isinstance(shift, int) and not isinstance(shift, bool):
            _check_window(num_frames, window, shift)
        elif shift not in ("random", "none"):
            raise ValueError(f"shift mode {shift!r}: use 'random', 'none' or an integer")
        self.num_frames, self.window, self.shift, self.impl = num_frames, window, shift, impl
        self.heads = max(1, channels // head_dim)
        if channels % self.heads:
            raise ValueError(f"{channels} channels cannot be split into heads of {head_dim}")
        self.norm_v, self.norm_a = group_norm(channels, groups), group_norm(channels, groups)
        self.qkv_v, self.qkv_a = nn.Linear(channels, 3 * channels), nn.Linear(channels, 3 * channels)
        self.out_v = zero_init(nn.Linear(channels, channels))
        self.out_a = zero_init(nn.Linear(channels, channels))
        self.offsets, self.rotary = offsets, rotary
        if offsets:
            self.offset_v = zero_init(nn.Linear(self.heads * num_frames, channels))
            self.offset_a = zero_init(nn.Linear(self.heads * num_frames, channels))
        self.last_shift: int | None = None

    def extra_repr(self) -> str:
        return (f"frames={self.num_frames}, window={self.window}, shift={self.shift!r}, impl={self.impl}, "
                f"heads={self.heads}, offsets={self.offsets}, rotary={self.rotary}")

    def qkv(self, video: torch.Tensor, audio: torch.Tensor):
        """Per-modality q, k, v, each ``(B, heads, tokens, d)``: video tokens frame-major, audio in time order."""
        vt = self.qkv_v(video_tokens(self.norm_v(video)))
        at = self.qkv_a(self.norm_a(audio).transpose(1, 2))
        return ([split_heads(z, self.heads) for z in vt.chunk(3, dim=-1)],
                [split_heads(z, self.heads) for z in at.chunk(3, dim=-1)])

    def forward(self, video: torch.Tensor, audio: torch.Tensor, generator: torch.Generator | None = None):
        f = video.shape[2]
        if f != self.num_frames:
            raise ValueError(f"RS-MMA built for {self.num_frames} frames got {f}")
        if audio.shape[-1] % f:
            raise ValueError(f"audio length {audio.shape[-1]} cannot be cut into {f} segments: "
                             "make it a multiple of the number of frames")
        r = draw_shift(f, self.window, self.shift, generator)
        self.last_shift = r
        return recomputed(self, self._mix, video, audio, r)  # the shift is drawn once, outside any recomputation

    def _mix(self, video: torch.Tensor, audio: torch.Tensor, r: int):
        f = self.num_frames
        (qv, kv, vv), (qa, ka, va) = self.qkv(video, audio)
        if self.rotary:  # time-aligned rotary position: scores see the true frame offset
            tv, ta = token_times(qv.shape[2], f, False, qv.device), token_times(qa.shape[2], f, True, qa.device)
            qv, kv, qa, ka = rotate(qv, tv), rotate(kv, tv), rotate(qa, ta), rotate(ka, ta)
        if self.offsets:
            va, vv = with_frame_onehot(va, f), with_frame_onehot(vv, f)
        hv = segment_attention(qv, ka, va, f, self.window, r, self.impl)  # video frames -> audio segments
        ha = segment_attention(qa, kv, vv, f, self.window, r, self.impl)  # audio segments -> video frames
        if self.offsets:
            tv, ta = self._with_offsets(hv, self.out_v, self.offset_v), self._with_offsets(ha, self.out_a, self.offset_a)
        else:
            tv, ta = self.out_v(merge_heads(hv)), self.out_a(merge_heads(ha))
        return video + video_from_tokens(tv, video), audio + ta.transpose(1, 2)

    def _with_offsets(self, h: torch.Tensor, out: nn.Linear, offset: nn.Linear) -> torch.Tensor:
        """Heads ``(B, heads, L, d + F)`` -> output tokens ``(B, L, C)``: content and offset readout, each mapped."""
        content, mass = offset_readout(h, self.num_frames)
        return out(merge_heads(content)) + offset(merge_heads(mass))
