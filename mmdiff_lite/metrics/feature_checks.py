"""Does a feature network measure what matters? The checks of ``mmdiff-lite bench features``:

* the noise floor: real clips against other real clips (another seed), with its interval;
* every corruption of :data:`mmdiff_lite.metrics.corruptions.CORRUPTIONS` at rising strength: the distance of
  its modality should rise with it (``monotone``);
* collapsed "generators" made of real clips: one clip repeated, and only red balls.

Taught in: notebooks/09_evaluation.ipynb
"""
from __future__ import annotations

import numpy as np

from ..data import SyntheticClips, clip_preset
from ..utils import derive_seed, tqdm
from .corruptions import CORRUPTIONS, collapsed, corrupt
from .fidelity import DISTANCES, distribution_distances, extract_features

__all__ = ["real_pairs", "one_colour_pairs", "check_feature_network", "WATCHED"]

#: The distances each corruption's strength is checked against (its modality's, and the joint one).
WATCHED = {"video": ("fvd", "kvd", "fjd"), "audio": ("fad", "kad", "fjd")}


def real_pairs(preset, n: int, seed: int, start: int = 0) -> dict:
    """``n`` benchmark pairs ``start … start+n−1`` of the clip stream ``seed``: ``{"video", "audio"}`` batches."""
    return SyntheticClips(preset, seed=seed, length=start + n).batch(range(start, start + n))


def one_colour_pairs(preset, n: int, seed: int, colour: int = 0) -> dict:
    """``n`` real pairs whose balls all have colour ``colour``: a generator that collapsed onto one colour."""
    data = SyntheticClips(preset, seed=seed, length=2**62)
    keep, i = [], 0
    while len(keep) < n:
        if set(data.truth(i)["ball_colours"]) == {colour}:
            keep.append(i)
        i += 1
    return data.batch(keep)


def _values(d: dict) -> dict:
    return {k: {m: round(v[m], 6) for m in ("value", "low", "high")} for k, v in d.items()}


def check_feature_network(net, n: int = 256, seed: int = 0, n_boot: int = 100, progress: bool = True) -> dict:
    """All the checks above on ``n`` pairs per set. Returns ``{"n", "floor", "curves", "collapse"}``; each curve is
    ``{"strengths", "unit", "modality", "distances": [per strength: {key: {value, low, high}}], "monotone": {key: bool}}``.
    """
    cfg = clip_preset(net.config)
    reference = extract_features(net, real_pairs(cfg, n, derive_seed(seed, "reference") % 2**31))
    other_pairs = real_pairs(cfg, n, derive_seed(seed, "other") % 2**31)
    floor = distribution_distances(extract_features(net, other_pairs), reference, n_boot=n_boot, seed=seed)
    curves = {}
    jobs = [(name, s) for name, c in CORRUPTIONS.items() for s in c.strengths]
    for name, strength in tqdm(jobs, desc="corruptions", disable=not progress):
        c = CORRUPTIONS[name]
        feats = extract_features(net, corrupt(other_pairs, name, strength, cfg, seed=derive_seed(seed, name)))
        curve = curves.setdefault(name, {"strengths": list(c.strengths), "unit": c.unit, "modality": c.modality,
                                         "distances": []})
        curve["distances"].append(_values(distribution_distances(feats, reference, n_boot=n_boot, seed=seed)))
    for curve in curves.values():
        curve["monotone"] = {k: bool(np.all(np.diff([d[k]["value"] for d in curve["distances"]]) > 0))
                             for k in WATCHED[curve["modality"]]}
    collapse = {
        "one_clip": _values(distribution_distances(extract_features(net, collapsed(other_pairs, "one_clip")), reference,
                                                   n_boot=n_boot, seed=seed)),
        "one_colour": _values(distribution_distances(
            extract_features(net, one_colour_pairs(cfg, n, derive_seed(seed, "one-colour") % 2**31)), reference,
            n_boot=n_boot, seed=seed)),
    }
    return {"n": n, "seed": seed, "preset": cfg.name, "keys": list(DISTANCES), "floor": _values(floor),
            "curves": curves, "collapse": collapse}
