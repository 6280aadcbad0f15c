"""Shipped and trained checkpoints: find them, verify them, rebuild the model they hold.

Shipped checkpoints live in ``mmdiff_lite/checkpoints/`` with ``manifest.json`` (command, seed, steps,
wall time, sha256, scores); loading one verifies its sha256.

Taught in: notebooks/00_quickstart.ipynb, notebooks/06_training.ipynb.
"""
from __future__ import annotations

import json
from pathlib import Path

import torch

from ..model import build_model, model_config
from ..model.config import UNetConfig
from ..train.checkpoint import load_weights
from ..utils import sha256_file

__all__ = ["SHIPPED_DIR", "shipped_checkpoints", "resolve_checkpoint", "model_from_config", "load_model", "ship", "load_or_train"]

SHIPPED_DIR = Path(__file__).resolve().parent.parent / "checkpoints"


def shipped_checkpoints() -> dict:
    """The manifest of shipped checkpoints: name -> record (empty when none ship)."""
    path = SHIPPED_DIR / "manifest.json"
    return json.loads(path.read_text()) if path.is_file() else {}


def resolve_checkpoint(name_or_path: str | Path) -> Path:
    """A shipped name (sha256-verified) or a path to a ``.safetensors`` file or a run folder."""
    shipped = shipped_checkpoints()
    key = str(name_or_path)
    if key in shipped:
        rec = shipped[key]
        path = SHIPPED_DIR / rec["file"]
        if not path.is_file():
            raise FileNotFoundError(f"shipped checkpoint {key!r} is missing ({rec['file']}); reinstall the kit")
        if sha256_file(path) != rec["sha256"]:
            raise ValueError(f"shipped checkpoint {key!r} fails its sha256 check; the file is damaged, reinstall the kit")
        return path
    path = Path(name_or_path)
    if path.is_dir():
        for name in ("ema.safetensors", "last.safetensors"):
            if (path / name).is_file():
                return path / name
        raise FileNotFoundError(f"{path} holds no ema.safetensors or last.safetensors")
    if path.is_file():
        return path
    names = ", ".join(shipped) or "none ship yet"
    raise ValueError(f"unknown checkpoint {key!r}: give a .safetensors path, a run folder, or a shipped name ({names})")


def model_from_config(cfg: dict) -> torch.nn.Module:
    """Rebuild a coupled U-Net from the configuration dict stored in a checkpoint header."""
    fixed = {k: tuple(v) if isinstance(v, list) else v for k, v in cfg.items()}
    return build_model(model_config(UNetConfig(**fixed)))


def load_model(name_or_path: str | Path = "tiny", device: str | torch.device = "cpu") -> tuple[torch.nn.Module, dict]:
    """(model in eval mode on ``device``, checkpoint header) for a shipped name or a path."""
    path = resolve_checkpoint(name_or_path)
    state, meta = load_weights(path, device="cpu")
    if "model_config" not in meta:
        raise ValueError(f"{path} has no model configuration in its header; was it written by mmdiff-lite?")
    model = model_from_config(meta["model_config"])
    try:
        model.load_state_dict(state)
    except RuntimeError as err:
        raise ValueError(f"{path} does not match its own model configuration ({str(err).splitlines()[0]})") from None
    return model.to(device).eval(), meta


def ship(run_dir: str | Path, name: str, *, command: str, scores: dict, dtype: torch.dtype = torch.float16) -> dict:
    """Copy a run's EMA weights into the kit as shipped checkpoint ``name`` and record it in the manifest.

    The record holds the training command, seed, steps, wall time, sha256, size and the measured scores.
    """
    from ..train.checkpoint import save_weights
    from ..utils import atomic_path

    src = resolve_checkpoint(Path(run_dir) / "last.safetensors")
    state, meta = load_weights(src)
    SHIPPED_DIR.mkdir(parents=True, exist_ok=True)
    dest = SHIPPED_DIR / f"{name}.safetensors"
    keep = {k: meta[k] for k in ("step", "wall_seconds", "train_config", "model_config", "schedule") if k in meta}
    save_weights(dest, state, {**keep, "shipped_as": name}, dtype=dtype)
    record = {"file": dest.name, "sha256": sha256_file(dest), "bytes": dest.stat().st_size, "dtype": str(dtype).split(".")[-1],
              "command": command, "seed": meta["train_config"]["seed"], "steps": meta["step"],
              "wall_seconds": round(meta["wall_seconds"], 1), "scores": scores}
    manifest = {**shipped_checkpoints(), name: record}
    with atomic_path(SHIPPED_DIR / "manifest.json") as tmp:
        tmp.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return record


def load_or_train(name: str = "tiny", *, steps: int, out: str | Path, device: str | torch.device = "cpu",
                  progress: bool = True, **train_overrides) -> tuple[torch.nn.Module, dict]:
    """The shipped checkpoint ``name`` if the kit has it, else a model trained here for ``steps`` steps.

    ``name`` is ``tiny`` or ``tiny-nocross`` (the same recipe without cross attention).  A run already in
    ``out`` is resumed, so re-running a notebook does not start over.
    Taught in: notebooks/00_quickstart.ipynb, notebooks/06_training.ipynb.
    """
    if name in shipped_checkpoints():
        return load_model(name, device)
    if name not in ("tiny", "tiny-nocross"):
        raise ValueError(f"no shipped checkpoint {name!r} and no recipe to train it: use tiny or tiny-nocross")
    from ..train import train, train_config

    overrides = {"model_overrides": {"cross_attention": False}} if name == "tiny-nocross" else {}
    cfg = train_config("tiny", steps=steps, **overrides, **train_overrides)
    train(cfg, out, resume=True, progress=progress)
    return load_model(out, device)
