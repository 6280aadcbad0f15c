"""Closed forms for what the coupled U-Net's design choices cost and buy.

* :func:`conv_cost`: parameters and multiply-accumulates of the factorised 2D+1D video convolution
  against a full 3D convolution with the same k x k x k receptive field.
* :func:`receptive_field` / :func:`audio_receptive_fields`: how far the dilated audio stack sees.
* :func:`rsmma_cost` / :func:`model_rsmma_costs`: attention entries and MACs of RS-MMA, dense
  (every query against all F key segments, masked) against windowed (S segments).

Taught in: notebooks/04_coupled_unet.ipynb, notebooks/05_rs_mma.ipynb
"""
from __future__ import annotations

from dataclasses import dataclass

from .audio import dilation_schedule
from .config import UNetConfig

__all__ = ["conv_cost", "receptive_field", "audio_encoder_layers", "audio_receptive_fields",
           "RSMMACost", "rsmma_cost", "model_rsmma_costs"]


def conv_cost(kind: str, in_ch: int, out_ch: int, kernel: int = 3, positions: int = 1) -> dict[str, int]:
    """Parameters and MACs (at ``positions`` output voxels) of a video convolution with bias.

    ``"2d+1d"``: ``k^2 Cin Cout + Cout`` (per frame) + ``k Cout^2 + Cout`` (across frames);
    MACs per voxel ``k^2 Cin Cout + k Cout^2``. ``"3d"``: ``k^3 Cin Cout + Cout``; MACs ``k^3 Cin Cout``.

    Taught in: notebooks/04_coupled_unet.ipynb
    """
    k = kernel
    if kind == "2d+1d":
        params = k * k * in_ch * out_ch + out_ch + k * out_ch * out_ch + out_ch
        macs = k * k * in_ch * out_ch + k * out_ch * out_ch  # per output voxel
    elif kind == "3d":
        params = k**3 * in_ch * out_ch + out_ch
        macs = k**3 * in_ch * out_ch
    else:
        raise ValueError(f"kind={kind!r}: use '2d+1d' or '3d'")
    return {"params": params, "macs": macs * positions}


def receptive_field(layers: list[tuple[int, int, int]]) -> int:
    """Receptive field (input samples) of a chain of ``(kernel, dilation, stride)`` layers.

    Closed form: ``RF = 1 + sum_l (k_l - 1) d_l J_l`` with the jump ``J_l = prod_{m<l} s_m``.
    An average pooling of rate r is the layer ``(r, 1, r)``.

    Taught in: notebooks/04_coupled_unet.ipynb
    """
    rf, jump = 1, 1
    for k, d, s in layers:
        rf += (k - 1) * d * jump  # RF += (k - 1) d J
        jump *= s  # J *= s
    return rf


def audio_encoder_layers(config: UNetConfig) -> list[tuple[str, list[tuple[int, int, int]]]]:
    """The audio encoder's 1D layers, block by block: ``[(block name, [(k, d, s), ...]), ...]``.

    Mirrors :class:`~mmdiff_lite.model.unet.CoupledUNet`: a k=3 stem, then per block one dilated
    k=3 convolution (its 1x1 convolutions do not widen the view); down blocks convolve, then pool.
    Dilation counters start at 1, as in the authors' code (so the first block's dilation is 2).

    Taught in: notebooks/04_coupled_unet.ipynb
    """
    out = [("stem_audio", [(3, 1, 1)])]
    counter, index = 1, 0
    for level in range(config.num_levels):
        for _ in range(config.num_blocks):
            out.append((f"down.{index}", [(3, dilation_schedule(counter, config.max_dilation_exp), 1)]))
            counter, index = counter + 1, index + 1
        if level < config.num_levels - 1:
            r = config.audio_rate
            out.append((f"down.{index}", [(3, dilation_schedule(counter, config.max_dilation_exp), 1), (r, 1, r)]))
            counter, index = counter + 1, index + 1
    return out


def audio_receptive_fields(config: UNetConfig) -> list[tuple[str, int]]:
    """Receptive field in input audio samples after each audio encoder block (closed form).

    Taught in: notebooks/04_coupled_unet.ipynb
    """
    chain: list[tuple[int, int, int]] = []
    out = []
    for name, layers in audio_encoder_layers(config):
        chain += layers
        out.append((name, receptive_field(chain)))
    return out


@dataclass(frozen=True)
class RSMMACost:
    """Attention entries (query-key pairs) and MACs of one RS-MMA block, both directions, one clip."""

    frames: int
    window: int
    video_tokens: int  # per frame (H * W)
    audio_tokens: int  # per segment (T / F)
    channels: int
    dense_entries: int
    windowed_entries: int

    @property
    def saving(self) -> float:
        """F / S: how many times fewer entries the windowed version computes."""
        return self.dense_entries / self.windowed_entries

    def macs(self, impl: str) -> int:
        """QK^T and PV products: 2 MACs per entry and channel."""
        entries = self.dense_entries if impl == "dense" else self.windowed_entries
        return 2 * entries * self.channels


def rsmma_cost(frames: int, window: int, video_tokens: int, audio_tokens: int, channels: int) -> RSMMACost:
    """Entries of RS-MMA per clip: dense ``2 F P F A`` against windowed ``2 F P S A``
    (P video tokens per frame, A audio tokens per segment; both directions).

    Taught in: notebooks/05_rs_mma.ipynb
    """
    dense = 2 * (frames * video_tokens) * (frames * audio_tokens)  # F P x F A, twice
    windowed = 2 * (frames * video_tokens) * (window * audio_tokens)  # F P x S A, twice
    return RSMMACost(frames, window, video_tokens, audio_tokens, channels, dense, windowed)


def model_rsmma_costs(config: UNetConfig) -> list[tuple[str, RSMMACost]]:
    """The cost of every RS-MMA block of a configuration, in call order (encoder, middle, decoder).

    Taught in: notebooks/05_rs_mma.ipynb
    """
    if not config.cross_attention:
        return []
    f = config.num_frames

    def at(level, window, name):
        (_, h, w), t = config.level_shapes(level)
        return name, rsmma_cost(f, window, h * w, t // f, config.level_channels(level))

    rows, last = [], config.num_levels - 1
    for level in range(config.num_levels):
        if config.windows[level] is not None:
            rows += [at(level, config.windows[level], f"encoder level {level}")] * config.num_blocks
    if config.middle_cross_attention:
        rows.append(at(last, f, "middle"))
    for level in reversed(range(config.num_levels)):
        if config.windows[level] is not None:
            rows += [at(level, config.windows[level], f"decoder level {level}")] * (config.num_blocks + 1)
    return rows
