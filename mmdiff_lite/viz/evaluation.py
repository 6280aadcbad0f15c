"""Figures of the distribution distances: distance against corruption strength, and against training step.

Taught in: notebooks/09_evaluation.ipynb
"""
from __future__ import annotations

import matplotlib.pyplot as plt

__all__ = ["plot_corruptions", "plot_snapshots"]

_MAIN = {"video": "fvd", "audio": "fad"}


def _err(points):
    v = [p["value"] for p in points]
    return v, [[max(x - p["low"], 0) for x, p in zip(v, points)], [max(p["high"] - x, 0) for x, p in zip(v, points)]]


def plot_corruptions(checks: dict, path=None):
    """One panel per corruption: its modality's Fréchet distance and the joint one (95% intervals, log axis)
    against strength, with the real-against-real floor as a dashed line. Saved to ``path`` if given."""
    curves = checks["curves"]
    fig, axes = plt.subplots(1, len(curves), figsize=(2.3 * len(curves), 2.8), squeeze=False)
    for ax, (name, c) in zip(axes[0], curves.items()):
        for key, style in ((_MAIN[c["modality"]], "o-"), ("fjd", "s--")):
            v, e = _err([d[key] for d in c["distances"]])
            ax.errorbar(c["strengths"], v, yerr=e, fmt=style, ms=3, capsize=2, label=key)
            ax.axhline(checks["floor"][key]["value"], color=ax.lines[-1].get_color(), lw=0.8, ls=":")
        ax.set(yscale="log", title=name.replace("_", " "), xlabel=c["unit"])
        ax.tick_params(labelsize=7)
        ax.legend(fontsize=6, loc="upper left")
    axes[0][0].set_ylabel("Fréchet distance (bench)")
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=100)
    return fig


def plot_snapshots(rows: list[dict], path=None):
    """FVD-, FAD- and joint-bench (log axis, 95% intervals) and f1 against training step for the ``tiny@STEP``
    and ``tiny`` rows; other models as separate markers at their step. Saved to ``path`` if given."""
    line = [r for r in rows if r["model"].partition("@")[0] == "tiny"]
    other = [r for r in rows if r not in line]
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(10, 3.4))
    for key, marker in (("fvd", "o"), ("fad", "s"), ("fjd", "^")):
        v, e = _err([r["generated"][key] for r in line])
        ax.errorbar([r["step"] for r in line], v, yerr=e, marker=marker, capsize=2, label=f"{key} (tiny)")
        colour = ax.lines[-1].get_color()
        for r in other:
            ax.plot(r["step"], r["generated"][key]["value"], marker=marker, ls="none", mfc="none", color=colour, ms=9)
        ax.axhline(line[0]["floor"][key]["value"], color=colour, ls=":", lw=0.8)
    for r in other:
        ax.annotate(r["model"], (r["step"], r["generated"]["fjd"]["value"]), fontsize=7, xytext=(4, 4),
                    textcoords="offset points")
    ax.set(xscale="log", yscale="log", xlabel="training step", ylabel="distance (bench)",
           title="distances (dotted: real vs real); hollow: other models")
    ax.legend(fontsize=7)
    bx.plot([r["step"] for r in line], [r["sync"]["f1"] for r in line], "o-", label="f1 (tiny)")
    bx.plot([r["step"] for r in line], [r["sync"]["semantic"] for r in line], "s-", label="semantic (tiny)")
    for r in other:
        bx.plot(r["step"], r["sync"]["f1"], "o", mfc="none", ms=9, color="grey")
        bx.annotate(r["model"], (r["step"], r["sync"]["f1"]), fontsize=7, xytext=(4, -10), textcoords="offset points")
    bx.set(xscale="log", xlabel="training step", ylabel="score", ylim=(0, 1.02), title="sync scores")
    bx.legend(fontsize=7)
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=100)
    return fig
