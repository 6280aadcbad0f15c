"""Figures and tables for the model notebooks: masks, receptive fields, cost curves, attention maps.

Taught in: notebooks/04_coupled_unet.ipynb, notebooks/05_rs_mma.ipynb
"""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

__all__ = ["table_text", "plot_masks", "plot_receptive_fields", "plot_cost_curves", "plot_frame_attention"]


def table_text(rows: list[dict], floats: str = "{:.3f}", markdown: bool = False) -> str:
    """Plain-text table of dict rows sharing their keys (numbers right-aligned); a Markdown table
    (right-aligned columns) with ``markdown=True``.

    Taught in: notebooks/04_coupled_unet.ipynb, notebooks/05_rs_mma.ipynb
    """
    keys = list(rows[0])

    def cell(v):
        if isinstance(v, float):
            return floats.format(v)
        if isinstance(v, int) and not isinstance(v, bool):
            return f"{v:,}"
        return "-" if v is None else str(v)

    cells = [[cell(r[k]) for k in keys] for r in rows]
    widths = [max(len(k), *(len(c[i]) for c in cells)) for i, k in enumerate(keys)]
    if markdown:
        line = lambda vals: "| " + " | ".join(v.rjust(w) for v, w in zip(vals, widths)) + " |"  # noqa: E731
        rule = "|" + "|".join("-" * (w + 1) + ":" for w in widths) + "|"
    else:
        line = lambda vals: "  ".join(v.rjust(w) for v, w in zip(vals, widths))  # noqa: E731
        rule = line(["-" * w for w in widths])
    return "\n".join([line(keys), rule, *map(line, cells)])


def plot_masks(masks: dict, ncols: int = 4, size: float = 2.2, xlabel="key segment k",
               ylabel="query segment q", blocks=None):
    """Boolean masks (title -> 2D tensor) drawn side by side (true = may attend, dark).

    ``xlabel``/``ylabel``: one label for every panel, or a list with one per panel. ``blocks``: per
    panel ``(rows, cols)`` tokens per segment (or ``None``): thin lines then mark the segment borders.

    Taught in: notebooks/05_rs_mma.ipynb
    """
    n = len(masks)
    per_panel = lambda v: list(v) if isinstance(v, (list, tuple)) else [v] * n  # noqa: E731
    xlabels, ylabels, blocks = per_panel(xlabel), per_panel(ylabel), per_panel(blocks)
    ncols = min(ncols, n)
    nrows = (n + ncols - 1) // ncols
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows), squeeze=False)
    for i, (ax, (title, m)) in enumerate(zip(axes.flat, masks.items())):
        m = np.asarray(m, dtype=float)
        ax.imshow(m, cmap="Greys", vmin=0, vmax=1, interpolation="nearest")
        ax.set_title(title, fontsize=9)
        ax.set_xticks([]), ax.set_yticks([])
        ax.set_xlabel(xlabels[i], fontsize=8)
        ax.set_ylabel(ylabels[i], fontsize=8)
        if blocks[i] is not None:
            rows, cols = blocks[i]
            for y in np.arange(rows, m.shape[0], rows) - 0.5:
                ax.axhline(y, color="tab:blue", lw=0.6)
            for x in np.arange(cols, m.shape[1], cols) - 0.5:
                ax.axvline(x, color="tab:blue", lw=0.6)
    for ax in axes.flat[n:]:
        ax.axis("off")
    fig.tight_layout()
    return fig


def plot_receptive_fields(rows: list[tuple[str, int]], sample_rate: float, frame_seconds: float,
                          clip_seconds: float | None = None):
    """Receptive field of the audio encoder, block by block, in milliseconds (bars, log scale; the
    numbers on the bars are input samples), against one video frame and, when given, the whole clip.

    Taught in: notebooks/04_coupled_unet.ipynb
    """
    names, rf = zip(*rows)
    ms = np.array(rf) / sample_rate * 1000
    fig, ax = plt.subplots(figsize=(7, 3))
    ax.bar(range(len(rf)), ms, color="tab:orange")
    ax.axhline(frame_seconds * 1000, color="k", ls="--", lw=1, label=f"one video frame ({frame_seconds * 1000:g} ms)")
    if clip_seconds is not None:
        ax.axhline(clip_seconds * 1000, color="tab:red", ls=":", lw=1.2, label=f"whole clip ({clip_seconds * 1000:g} ms)")
    ax.set_yscale("log")
    ax.set_xticks(range(len(rf)), names, rotation=45, ha="right", fontsize=8)
    ax.set_ylabel("receptive field (ms, log scale)", fontsize=8)
    for i, r in enumerate(rf):
        ax.text(i, ms[i] * 1.1, str(r), ha="center", fontsize=7)
    ax.set_ylim(top=ms.max() * 3)
    ax.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    return fig


def plot_cost_curves(curves: dict, xlabel: str, ylabel: str = "attention entries per clip"):
    """Lines ``label -> (x, y)`` on log-y axes (RS-MMA cost against window or frames).

    Taught in: notebooks/05_rs_mma.ipynb
    """
    fig, ax = plt.subplots(figsize=(5, 3.2))
    for label, (x, y) in curves.items():
        ax.plot(x, y, marker="o", ms=3, label=label)
    ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def plot_frame_attention(maps: dict, size: float = 2.6):
    """Frame-level attention matrices (title -> (F, F)), colour = share of a query's attention.

    Taught in: notebooks/05_rs_mma.ipynb
    """
    fig, axes = plt.subplots(1, len(maps), figsize=(size * len(maps), size), squeeze=False)
    for ax, (title, m) in zip(axes.flat, maps.items()):
        im = ax.imshow(np.asarray(m), cmap="viridis", vmin=0, interpolation="nearest")
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("key segment", fontsize=8)
        ax.set_ylabel("query segment", fontsize=8)
        fig.colorbar(im, ax=ax, fraction=0.046)
    fig.tight_layout()
    return fig
