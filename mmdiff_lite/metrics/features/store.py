"""Where the benchmark feature networks live: ``mmdiff_lite/checkpoints/features/bench-PRESET.safetensors``,
listed with their sha256 and training command in ``features.json`` beside them. Loading verifies the hash.

Taught in: notebooks/09_evaluation.ipynb
"""
from __future__ import annotations

import json
import os
from pathlib import Path

from safetensors.torch import load_file

from ...utils import sha256_file
from .bench import BenchFeatures

__all__ = ["FEATURES_DIR", "shipped_feature_networks", "load_bench_features", "read_feature_meta"]

FEATURES_DIR = Path(__file__).resolve().parents[2] / "checkpoints" / "features"


def shipped_feature_networks() -> dict:
    """name -> record (file, sha256, bytes, preset, command, held-out accuracy) of the shipped feature networks."""
    path = FEATURES_DIR / "features.json"
    return json.loads(path.read_text()) if path.is_file() else {}


def read_feature_meta(path: str | os.PathLike) -> dict:
    """The JSON metadata in a feature network file's safetensors header."""
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as f:
        return json.loads((f.metadata() or {}).get("meta", "{}"))


def load_bench_features(source: str = "tiny", device: str = "cpu") -> BenchFeatures:
    """The benchmark feature network for clip preset ``source`` (shipped, hash-checked) or from a file path.

    Taught in: notebooks/09_evaluation.ipynb
    """
    shipped = shipped_feature_networks()
    name = f"bench-{source}"
    if name in shipped:
        record = shipped[name]
        path = FEATURES_DIR / record["file"]
        if not path.is_file() or sha256_file(path) != record["sha256"]:
            raise ValueError(f"the shipped feature network {record['file']} is missing or damaged (sha256 should be "
                             f"{record['sha256']}); reinstall the kit or retrain it with: {record['command']}")
    elif Path(source).is_file():
        path = Path(source)
    else:
        have = ", ".join(k.removeprefix("bench-") for k in shipped) or "none"
        raise ValueError(f"no benchmark feature network for {source!r} (shipped presets: {have}); train one with "
                         f"`mmdiff-lite train-features --preset PRESET --out FILE` and pass the file")
    meta = read_feature_meta(path)
    net = BenchFeatures(meta.get("preset", source))
    net.load_state_dict(load_file(str(path)))
    net.meta = meta
    return net.eval().to(device)
