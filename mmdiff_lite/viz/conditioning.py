"""Figures of zero-shot conditioning: f1 against the guidance strength, per direction and guidance form.

Taught in: notebooks/08_zero_shot_conditioning.ipynb.
"""
from __future__ import annotations

import matplotlib.pyplot as plt

__all__ = ["plot_f1_vs_scale"]

_TITLES = {"audio": "video for a given sound", "video": "sound for a given video"}


def plot_f1_vs_scale(result: dict, path=None, main: str = "DPM-Solver-20"):
    """f1 ± se against lambda (log axis) for each guidance form on sampler ``main``; replacement and the joint
    sample as horizontal lines.  ``result`` is a conditioning benchmark result; saved to ``path`` if given."""
    given = [g for g in ("audio", "video") if any(r["given"] == g for r in result["rows"])]
    fig, axes = plt.subplots(1, len(given), figsize=(5.2 * len(given), 3.6), squeeze=False)
    for ax, g in zip(axes[0], given):
        rows = [r for r in result["rows"] if r["given"] == g and r["sampler"] == main]
        for form, marker in (("paper", "o"), ("reconstruction", "s")):
            pts = sorted((r["conditioning"]["scale"], r["f1"], r["se_f1"] or 0.0) for r in rows
                         if r["conditioning"] and r["conditioning"]["method"] == "guide"
                         and r["conditioning"]["form"] == form)
            if pts:
                lam, f1, se = zip(*pts)
                ax.errorbar(lam, f1, yerr=[2 * s for s in se], marker=marker, capsize=3, label=f"guide ({form})")
        for r, style in ((next((r for r in rows if r["row"].startswith("replace (fixed")), None), "--"),
                         (next((r for r in rows if r["conditioning"] is None), None), ":")):
            if r is not None:
                ax.axhline(r["f1"], ls=style, color="grey", label=r["row"])
        ax.set(xscale="log", xlabel="guidance strength λ", ylabel="f1 (± 2 se)", ylim=(0, 1.02),
               title=f"{_TITLES[g]} ({main})")
        ax.legend(fontsize=7, loc="lower left")
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=110)
    return fig
