"""Figures of an ablation study: each metric per variant with its 95% interval over seeds (per step for studies
read at several steps).

Taught in: notebooks/10_ablations.ipynb
"""
from __future__ import annotations

import matplotlib.pyplot as plt

__all__ = ["plot_study"]


def plot_study(summary: dict, study: str, metrics=("f1", "f1_exact", "fvd", "fad", "fjd")):
    """One panel per metric: mean ± 95% CI over seeds for every variant of ``study`` (x: training step)."""
    entries = summary[study]
    fig, axes = plt.subplots(1, len(metrics), figsize=(2.9 * len(metrics), 3.0), squeeze=False)
    variants = list(dict.fromkeys(e["variant"] for e in entries))
    for ax, m in zip(axes[0], metrics):
        for i, v in enumerate(variants):
            es = [e for e in entries if e["variant"] == v]
            x = [e["step"] * (1 + 0.02 * (i - len(variants) / 2)) for e in es]  # small offsets keep bars apart
            y = [e[m]["mean"] for e in es]
            err = [e[m]["half"] or 0.0 for e in es]
            ax.errorbar(x, y, yerr=err, marker="o", ms=4, capsize=2, label=es[0]["label"] or v)
        ax.set(title=m, xlabel="training step")
        if m.startswith("f") and m[1:] in ("vd", "ad", "jd"):
            ax.set_yscale("log")
        ax.tick_params(labelsize=7)
    axes[0][0].legend(fontsize=6)
    fig.suptitle(f"ablation: {study} (mean ± 95% CI over seeds)", fontsize=9)
    fig.tight_layout()
    return fig
