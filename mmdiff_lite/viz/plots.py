"""Plots for the diffusion notebooks (matplotlib only; no maths here that the notebooks should learn).

Taught in: notebooks/01_forward_diffusion.ipynb, notebooks/02_samplers.ipynb.
"""
from __future__ import annotations

from typing import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch

from .av import draw_spectrogram

__all__ = ["plot_schedules", "scatter_row", "plot_pair_along_t", "to_image"]


def plot_schedules(schedules: Sequence, axes=None):
    """alpha_bar(t), SNR(t) (log scale) and log-SNR(t) of each schedule, side by side."""
    if axes is None:
        _, axes = plt.subplots(1, 3, figsize=(11, 2.8))
    for s in schedules:
        t = np.arange(s.T)
        axes[0].plot(t, s.alphas_cumprod.numpy(), label=s.name)
        axes[1].semilogy(t, s.snr.numpy(), label=s.name)
        axes[2].plot(t, s.log_snr.numpy(), label=s.name)
    for ax, title in zip(axes, ["alpha_bar(t)", "SNR(t)", "log-SNR(t) = 2 lambda(t)"]):
        ax.set_title(title)
        ax.set_xlabel("t")
        ax.grid(alpha=0.3)
    axes[0].legend()
    return axes[0].figure


def scatter_row(points: Mapping[str, torch.Tensor], lim: float = 2.5, size: float = 2.2, s: float = 2.0):
    """One 2-D scatter per entry (title -> (N, 2) points), on equal square axes."""
    fig, axes = plt.subplots(1, len(points), figsize=(size * len(points), size), squeeze=False)
    for ax, (title, p) in zip(axes[0], points.items()):
        p = p.detach().cpu().numpy()
        ax.scatter(p[:, 0], p[:, 1], s=s, alpha=0.5, lw=0)
        ax.set_xlim(-lim, lim)
        ax.set_ylim(-lim, lim)
        ax.set_aspect("equal")
        ticks = [-int(lim), 0, int(lim)]
        ax.set_xticks(ticks)
        ax.set_yticks(ticks)
        ax.tick_params(labelsize=7)
        ax.set_title(title, fontsize=9)
    fig.tight_layout()
    return fig


def to_image(frame: torch.Tensor) -> np.ndarray:
    """(C, H, W) in [-1, 1] -> (H, W, 3) in [0, 1] for imshow (clipped; grey frames become RGB)."""
    img = ((frame.detach().float().cpu().permute(1, 2, 0).clamp(-1, 1) + 1) / 2).numpy()
    return img.repeat(3, axis=2) if img.shape[2] == 1 else img


def plot_pair_along_t(rows: Sequence[tuple[str, Mapping[str, torch.Tensor]]], sample_rate: int,
                      frames: Sequence[int] | None = None, n_fft: int = 256):
    """One row per (label, pair): a few video frames, the waveform and a log spectrogram.

    ``pair["video"]`` is (F, C, H, W), ``pair["audio"]`` is (C, T), both in (about) [-1, 1].
    """
    f_total = rows[0][1]["video"].shape[0]
    frames = list(frames) if frames is not None else list(np.linspace(0, f_total - 1, 4).astype(int))
    ncol = len(frames) + 2
    fig = plt.figure(figsize=(1.1 * len(frames) + 6.0, 1.25 * len(rows)))
    grid = fig.add_gridspec(len(rows), ncol, width_ratios=[1] * len(frames) + [2.5, 2.5])
    for r, (label, pair) in enumerate(rows):
        for c, f in enumerate(frames):
            ax = fig.add_subplot(grid[r, c])
            ax.imshow(to_image(pair["video"][f]), interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            if r == 0:
                ax.set_title(f"frame {f}", fontsize=8)
            if c == 0:
                ax.set_ylabel(label, fontsize=8)
        wav = pair["audio"][0].detach().float().cpu()
        ax = fig.add_subplot(grid[r, len(frames)])
        ax.plot(np.arange(len(wav)) / sample_rate, wav.numpy(), lw=0.5)
        ax.set_ylim(-3, 3)
        ax.set_yticks([-2, 0, 2])
        ax.tick_params(labelsize=7)
        if r == len(rows) - 1:
            ax.set_xlabel("seconds", fontsize=8)
        ax = fig.add_subplot(grid[r, len(frames) + 1])
        draw_spectrogram(ax, wav.numpy(), sample_rate, nfft=n_fft, clim_db=(-70, -10))  # one scale for all rows
        ax.tick_params(labelsize=7)
        if r == len(rows) - 1:
            ax.set_xlabel("seconds", fontsize=8)
        if r == 0:
            fig.axes[-2].set_title("waveform", fontsize=8)
            ax.set_title("spectrogram (Hz)", fontsize=8)
    fig.tight_layout()
    return fig
