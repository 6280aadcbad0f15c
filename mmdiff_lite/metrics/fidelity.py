"""Distribution distances of generated clips from real ones, on features: the FVD / KVD / FAD family.

The names follow the features they are computed on (:data:`DISTANCES`, the one list): on the kit's benchmark
networks ``fvd``/``kvd`` (video), ``fad``/``kad`` (audio) and ``fjd``/``kjd`` (the joint pair feature), each a
Fréchet distance or a kernel MMD² with its bootstrap interval. With the paper's networks the same keys hold
I3D (video) and VGGish or AudioCLIP (audio) numbers; the joint keys exist only for the bench networks.

Also here: diversity (mean pairwise feature distance) and memorisation (how close each generated clip is to its
nearest training clip, against how close held-out real clips are).

Taught in: notebooks/09_evaluation.ipynb
"""
from __future__ import annotations

import numpy as np
import torch

from .bootstrap import frechet_interval, kernel_interval
from .frechet import as_features

__all__ = ["DISTANCES", "extract_features", "distribution_distances", "mean_pairwise_distance", "nearest_distances",
           "memorisation"]

#: key -> (feature kind, "frechet" | "kernel"): every distance the kit reports.
DISTANCES = {"fvd": ("video", "frechet"), "kvd": ("video", "kernel"), "fad": ("audio", "frechet"),
             "kad": ("audio", "kernel"), "fjd": ("joint", "frechet"), "kjd": ("joint", "kernel")}


@torch.no_grad()
def extract_features(net, pairs: dict, batch_size: int = 128) -> dict:
    """``net``'s features of ``pairs`` (``{"video": (N, F, C, H, W), "audio": (N, C, T)}``), batch by batch:
    ``{kind: (N, d) float64 array}`` for every kind ``net`` returns. Independent of ``batch_size``."""
    n = len(pairs["video"])
    chunks = [net({k: v[i:i + batch_size] for k, v in pairs.items()}) for i in range(0, n, batch_size)]
    return {k: torch.cat([c[k] for c in chunks]).double().cpu().numpy() for k in chunks[0]}


def distribution_distances(generated: dict, real: dict, n_boot: int = 200, seed: int = 0, level: float = 0.95) -> dict:
    """Every distance of :data:`DISTANCES` whose feature kind both feature dicts hold:
    ``{key: {"value", "low", "high", "se", ...}}`` (bootstrap intervals, ``n_boot`` resamplings)."""
    out = {}
    for key, (kind, how) in DISTANCES.items():
        if kind in generated and kind in real:
            fn = frechet_interval if how == "frechet" else kernel_interval
            out[key] = fn(generated[kind], real[kind], n_boot=n_boot, seed=seed, level=level)
    return out


def _pairwise(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    sq = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2.0 * a @ b.T
    return np.sqrt(np.clip(sq, 0.0, None))


def mean_pairwise_distance(features) -> float:
    """Diversity: the mean Euclidean distance between two different clips' features (0 for a collapsed set)."""
    x = as_features(features)
    d = _pairwise(x, x)
    n = len(x)
    return float((d.sum() - np.trace(d)) / (n * (n - 1)))


def nearest_distances(queries, bank, exclude_self: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """For each query feature, the distance to its nearest ``bank`` feature and that feature's index."""
    q, b = as_features(queries, "queries"), as_features(bank, "bank")
    d = _pairwise(q, b)
    if exclude_self:
        np.fill_diagonal(d, np.inf)
    idx = d.argmin(1)
    return d[np.arange(len(q)), idx], idx


def memorisation(generated, held_out, training, quantile: float = 0.05) -> dict:
    """How much closer generated clips sit to the training clips than new real clips do.

    ``threshold`` is the ``quantile`` of the held-out real clips' distances to their nearest training clip;
    ``share_generated`` is the share of generated clips closer than that (``quantile`` for a model that does
    not copy; near 1 for one that replays its training set). Also the medians and each generated clip's nearest
    training index (``nearest``).
    """
    dg, idx = nearest_distances(generated, training)
    dr, _ = nearest_distances(held_out, training)
    threshold = float(np.quantile(dr, quantile))
    return {"threshold": threshold, "quantile": quantile, "share_generated": float((dg < threshold).mean()),
            "median_generated": float(np.median(dg)), "median_real": float(np.median(dr)), "nearest": idx.tolist()}
