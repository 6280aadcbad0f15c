"""Figures of training runs: the time-to-sync curve (sync scores against training time).

Taught in: notebooks/06_training.ipynb.
"""
from __future__ import annotations

import matplotlib.pyplot as plt

__all__ = ["plot_time_to_sync"]


def plot_time_to_sync(result: dict, path=None):
    """f1 and semantic (± 2 se) against minutes of training, with their chance levels and the goals; saved to
    ``path`` if given.  ``result`` is what :func:`mmdiff_lite.bench.time_to_sync.time_to_sync` returns."""
    rows = sorted(result["rows"], key=lambda r: r["step"])
    minutes = [r["train_seconds"] / 60 for r in rows]
    fig, ax = plt.subplots(figsize=(6, 3.4))
    for key, colour in (("f1", "C0"), ("semantic", "C1")):
        se = [2 * (r.get(f"se_{key}") or 0.0) for r in rows]
        ax.errorbar(minutes, [r[key] for r in rows], yerr=se, marker="o", ms=3, capsize=2, color=colour, label=key)
        ax.plot(minutes, [r.get(f"chance_{key}") or 0.0 for r in rows], ls=":", color=colour, lw=0.8,
                label=f"{key}, shuffled pairs")
        ax.axhline(result["goals"][key], color=colour, lw=0.5, ls="--")
    if result.get("sync"):
        ax.axvline(result["sync"]["train_seconds"] / 60, color="k", lw=0.8,
                   label=f"in sync: {result['sync']['train_seconds'] / 60:.1f} min, step {result['sync']['step']}")
    ax.set_xlabel("training time (minutes, evaluation excluded)")
    ax.set_ylim(-0.02, 1.02)
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=80)
    plt.close(fig)
    return fig
