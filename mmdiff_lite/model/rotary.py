"""Time-aligned rotary position for RS-MMA's queries and keys (the kit's addition; the fix the field adopted later:
JavisDiT++'s TA-RoPE, Ovi's scaled RoPE).

RS-MMA's features carry no frame index, so with a random shift R a query cannot tell which frame of its window
its answer came from (notebook 05). Rotary position fixes that inside the attention score: rotate each query and
key, pair of channels by pair of channels, by an angle proportional to the token's *time*,

    q̃ = R(ω · τ_q) q,   k̃ = R(ω · τ_k) k,   so   q̃ · k̃ = qᵀ R(ω · (τ_k − τ_q)) k,

and the score depends on the true time offset τ_k − τ_q, whatever R was drawn. Time is measured in video frames on
both sides: a video token of frame i sits at τ = i + ½, an audio token l of the L tokens of segment j at
τ = j + (l + ½)/L, so a sound and its frame get the same clock (time-aligned). ω_p = base^(−2p/d) for channel pair
p of a head of d channels. Shifting every τ by the same amount leaves every score unchanged (the test checks it),
and with no rotation the block is plain RS-MMA.

Taught in: notebooks/10_ablations.ipynb
"""
from __future__ import annotations

import torch

__all__ = ["token_times", "rotate", "ROTARY_BASE"]

#: ω_p = ROTARY_BASE^(−2p/d): the slowest channel pair turns once in 2π·base frames, far more than a clip.
ROTARY_BASE = 100.0


def token_times(num_tokens: int, num_frames: int, spread: bool, device=None) -> torch.Tensor:
    """(num_tokens,) times in frames of tokens laid out as ``num_frames`` equal segments of L tokens.

    ``spread=False`` (video: the L tokens of frame i are pixels of one instant): τ = i + ½ for all of them.
    ``spread=True`` (audio: the L tokens of segment j follow each other in time): τ = j + (l + ½)/L.
    Taught in: notebooks/10_ablations.ipynb
    """
    if num_tokens < num_frames or num_tokens % num_frames:
        raise ValueError(f"{num_tokens} tokens cannot be cut into {num_frames} equal segments")
    per = num_tokens // num_frames
    idx = torch.arange(num_tokens, device=device)
    frame = torch.div(idx, per, rounding_mode="floor").float()
    within = ((idx % per).float() + 0.5) / per if spread else torch.full_like(frame, 0.5)
    return frame + within


def rotate(x: torch.Tensor, times: torch.Tensor, base: float = ROTARY_BASE) -> torch.Tensor:
    """Rotate each channel pair (2p, 2p+1) of ``x`` ``(B, heads, N, d)`` by the angle ω_p · τ (``times``: (N,)).

    Equation: (x₂ₚ, x₂ₚ₊₁) → (x₂ₚ cos θ − x₂ₚ₊₁ sin θ, x₂ₚ sin θ + x₂ₚ₊₁ cos θ), θ = ω_p τ, ω_p = base^(−2p/d).
    Taught in: notebooks/10_ablations.ipynb
    """
    d = x.shape[-1]
    if d % 2:
        raise ValueError(f"rotary position needs an even head size, got {d}")
    omega = base ** (-torch.arange(0, d, 2, device=x.device, dtype=torch.float32) / d)  # (d/2,)
    theta = times.to(torch.float32)[:, None] * omega[None, :]  # (N, d/2)
    cos, sin = theta.cos().to(x.dtype), theta.sin().to(x.dtype)
    even, odd = x[..., 0::2], x[..., 1::2]
    out = torch.stack([even * cos - odd * sin, even * sin + odd * cos], dim=-1)
    return out.flatten(-2)
