"""Shipped and trained checkpoints: find them, verify them, rebuild the model they hold.

Shipped checkpoints live in ``mmdiff_lite/checkpoints/`` with ``manifest.json`` (command, seed, steps,
wall time, sha256, scores), each with its training log and optional EMA snapshots of earlier steps;
loading weights verifies their sha256.

Taught in: notebooks/00_quickstart.ipynb, notebooks/06_training.ipynb.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Iterable

import torch

from ..diffusion import Schedule, get_schedule
from ..model import build_model
from ..model.config import MODEL_PRESETS, UNetConfig, config_from_dict
from ..train.checkpoint import load_weights, save_weights, snapshot_path, snapshot_steps
from ..train.run_folder import log_records
from ..utils import atomic_path, sha256_file, write_json

__all__ = ["SHIPPED_DIR", "shipped_checkpoints", "resolve_checkpoint", "model_from_config", "load_model", "load_snapshot",
           "shipped_log", "sampling_setup", "ship", "load_or_train"]

SHIPPED_DIR = Path(__file__).resolve().parent.parent / "checkpoints"


def shipped_checkpoints() -> dict:
    """The manifest of shipped checkpoints: name -> record (empty when none ship)."""
    path = SHIPPED_DIR / "manifest.json"
    return json.loads(path.read_text()) if path.is_file() else {}


def _verified(path: Path, sha256: str, what: str) -> Path:
    """``path`` if it exists and its sha256 is ``sha256``; else a clear error naming ``what``."""
    if not path.is_file():
        raise FileNotFoundError(f"{what} is missing ({path.name}); reinstall the kit")
    if sha256_file(path) != sha256:
        raise ValueError(f"{what} fails its sha256 check ({path.name}); the file is damaged, reinstall the kit")
    return path


def _shipped_record(name: str) -> dict:
    shipped = shipped_checkpoints()
    if name not in shipped:
        raise ValueError(f"no shipped checkpoint {name!r} (shipped: {', '.join(shipped) or 'none yet'})")
    return shipped[name]


def resolve_checkpoint(name_or_path: str | Path) -> Path:
    """A shipped name (sha256-verified) or a path to a ``.safetensors`` file or a run folder.

    A bare name that ships (``tiny``) means the shipped model, even when a folder of that name exists here
    (a note on stderr says so); write it as a path (``./tiny``) for the folder.  Anything that looks like a
    path (a separator, a leading dot, a ``.safetensors`` suffix) is only ever a path.
    """
    import os
    import sys

    shipped = shipped_checkpoints()
    key = str(name_or_path)
    looks_like_path = isinstance(name_or_path, Path) or os.sep in key or "/" in key or key.startswith(".") \
        or key.endswith(".safetensors")
    if key in shipped and not looks_like_path:
        if Path(key).exists():
            print(f"note: {key!r} is the shipped checkpoint; for the local {key}/ write ./{key}", file=sys.stderr)
        return _verified(SHIPPED_DIR / shipped[key]["file"], shipped[key]["sha256"], f"shipped checkpoint {key!r}")
    path = Path(name_or_path)
    if path.is_dir():
        for name in ("ema.safetensors", "last.safetensors"):
            if (path / name).is_file():
                return path / name
        raise FileNotFoundError(f"{path} holds no ema.safetensors or last.safetensors")
    if path.is_file():
        return _verify_if_shipped(path)
    if looks_like_path:
        raise FileNotFoundError(f"no such checkpoint file or run folder: {key}")
    names = ", ".join(shipped) or "none ship yet"
    raise ValueError(f"unknown checkpoint {key!r}: give a .safetensors path, a run folder, or a shipped name ({names})")


def model_from_config(cfg: dict) -> torch.nn.Module:
    """Rebuild the network (coupled U-Net or upsampler, by the header's ``kind``) from the configuration dict stored
    in a checkpoint header."""
    fixed = {k: tuple(v) if isinstance(v, list) else v for k, v in cfg.items()}
    return build_model(config_from_dict(_with_clip(fixed)))


def _with_clip(cfg: dict) -> dict:
    """A stored model configuration with its clip preset: files written before ``UNetConfig.clip`` existed take the
    one their model preset names."""
    if "clip" in cfg:
        return cfg
    return {**cfg, "clip": MODEL_PRESETS[cfg["name"]].clip if cfg.get("name") in MODEL_PRESETS else UNetConfig.clip}


def _verify_if_shipped(path: Path) -> Path:
    """``path``, sha256-checked against the manifest when it is one of the kit's shipped files (they predate the
    per-file ``tensors_sha256`` header); other files are checked by that header when loaded."""
    if path.resolve().parent == SHIPPED_DIR:
        for name, record in shipped_checkpoints().items():
            entries = [(record["file"], record["sha256"], f"shipped checkpoint {name!r}")]
            entries += [(e["file"], e["sha256"], f"snapshot {s} of {name!r}") for s, e in record.get("snapshots", {}).items()]
            for file, sha, what in entries:
                if file == path.name:
                    return _verified(path, sha, what)
    return path


def _model_from_file(path: Path, device, which: str = "ema") -> tuple[torch.nn.Module, dict]:
    shipped = Path(path).resolve().parent == SHIPPED_DIR  # sha256-checked whole by the callers
    state, meta = load_weights(path, device="cpu", which=which, verified=shipped)
    if "model_config" not in meta:
        raise ValueError(f"{path} has no model configuration in its header; was it written by mmdiff-lite?")
    model = model_from_config(meta["model_config"])
    try:
        model.load_state_dict(state)
    except RuntimeError as err:
        raise ValueError(f"{path} does not match its own model configuration ({str(err).splitlines()[0]})") from None
    return model.to(device).eval(), meta


def load_model(name_or_path: str | Path = "tiny", device: str | torch.device = "cpu",
               weights: str = "ema") -> tuple[torch.nn.Module, dict]:
    """(model in eval mode on ``device``, checkpoint header) for a shipped name or a path.

    ``weights="raw"`` loads a run's raw (not averaged) weights from its ``last.safetensors`` instead of
    the EMA weights; give the run folder or that file.
    """
    if weights == "raw" and Path(name_or_path).is_dir():
        name_or_path = Path(name_or_path) / "last.safetensors"
    return _model_from_file(resolve_checkpoint(name_or_path), device, which=weights)


def load_snapshot(name: str, step: int, device: str | torch.device = "cpu") -> tuple[torch.nn.Module, dict]:
    """(model, header) of the EMA weights shipped checkpoint ``name`` had at training step ``step``
    (sha256-verified, like :func:`load_model`).

    Taught in: notebooks/06_training.ipynb.
    """
    snapshots = _shipped_record(name).get("snapshots", {})
    if str(step) not in snapshots:
        have = ", ".join(snapshots) or "none"
        raise ValueError(f"shipped checkpoint {name!r} has no snapshot at step {step} (it has: {have})")
    entry = snapshots[str(step)]
    return _model_from_file(_verified(SHIPPED_DIR / entry["file"], entry["sha256"], f"snapshot {step} of {name!r}"), device)


def shipped_log(name: str) -> list[dict]:
    """The training log (``log.jsonl`` records) of shipped checkpoint ``name``, up to its shipped step.

    Taught in: notebooks/06_training.ipynb.
    """
    log = _shipped_record(name).get("log")
    if not log:
        raise ValueError(f"shipped checkpoint {name!r} was shipped without its training log; ship it again")
    path = SHIPPED_DIR / log
    if not path.is_file():
        raise FileNotFoundError(f"the training log of {name!r} is missing ({log}); reinstall the kit")
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def sampling_setup(meta: dict) -> tuple[Schedule, str]:
    """(the noise schedule a checkpoint was trained with, the clip preset its pairs are scored with)."""
    preset = meta.get("train_config", {}).get("data_preset") or _with_clip(meta["model_config"])["clip"]
    return get_schedule(meta.get("schedule", "linear")), preset


def _clean_log(path: Path, last_step: int) -> str:
    """A run's log up to ``last_step`` with one record per step and kind (training or preview; runs of older
    kits logged again the steps they replayed after a resume, and the later record wins)."""
    records = {(rec.get("step", 0), "preview" in rec): rec for rec in log_records(path, last_step)}
    return "".join(json.dumps(records[k]) + "\n" for k in sorted(records))


def _ship_weights(src: Path, name: str, dest_name: str, dtype: torch.dtype) -> tuple[dict, dict]:
    """Copy the weights of ``src`` (cast to ``dtype``) to the shipped folder; (source header, file entry)."""
    state, meta = load_weights(src)
    dest = SHIPPED_DIR / dest_name
    keep = {k: meta[k] for k in ("step", "wall_seconds", "train_config", "model_config", "schedule") if k in meta}
    save_weights(dest, state, {**keep, "shipped_as": name}, dtype=dtype)
    return meta, {"file": dest.name, "sha256": sha256_file(dest)}


def ship(run_dir: str | Path, name: str, *, command: str, scores: dict, dtype: torch.dtype = torch.float16,
         snapshots: Iterable[int] = ()) -> dict:
    """Copy a run's EMA weights into the kit as shipped checkpoint ``name`` and record it in the manifest.

    Also ships the run's ``log.jsonl`` (as ``<name>.log.jsonl``) and, for each step in ``snapshots``, the
    EMA weights the run kept at that step (``<name>-step<N>.safetensors``; train with ``snapshot_every``).
    The record holds the training command, seed, steps, wall time, sha256, size, the measured scores,
    the log's file name and the snapshots' files and sha256.
    """
    run_dir = Path(run_dir)
    src = resolve_checkpoint(run_dir / "last.safetensors")
    steps = sorted({int(s) for s in snapshots})
    missing = [s for s in steps if not snapshot_path(run_dir, s).is_file()]
    if missing:
        have = ", ".join(map(str, snapshot_steps(run_dir))) or "none"
        raise FileNotFoundError(f"{run_dir} has no EMA snapshot at step(s) {', '.join(map(str, missing))} (it has: {have}); "
                                "train with --snapshot-every N to keep them")
    if not (run_dir / "log.jsonl").is_file():
        raise FileNotFoundError(f"{run_dir} has no log.jsonl to ship with the weights")
    SHIPPED_DIR.mkdir(parents=True, exist_ok=True)
    meta, entry = _ship_weights(src, name, f"{name}.safetensors", dtype)
    shipped_snapshots = {str(s): _ship_weights(snapshot_path(run_dir, s), name, f"{name}-step{s}.safetensors", dtype)[1]
                         for s in steps}
    log = SHIPPED_DIR / f"{name}.log.jsonl"
    with atomic_path(log) as tmp:
        tmp.write_text(_clean_log(run_dir / "log.jsonl", meta["step"]))
    record = {**entry, "bytes": (SHIPPED_DIR / entry["file"]).stat().st_size, "dtype": str(dtype).split(".")[-1],
              "command": command, "seed": meta["train_config"]["seed"], "steps": meta["step"],
              "wall_seconds": round(meta["wall_seconds"], 1), "scores": scores, "log": log.name,
              "snapshots": shipped_snapshots}
    old = shipped_checkpoints().get(name, {})
    write_json(SHIPPED_DIR / "manifest.json", {**shipped_checkpoints(), name: record}, sort_keys=True)
    stale = {e["file"] for e in old.get("snapshots", {}).values()} - {e["file"] for e in shipped_snapshots.values()}
    for file in stale:  # snapshots of an earlier shipping of `name` that this one does not keep
        (SHIPPED_DIR / file).unlink(missing_ok=True)
    return record


#: The shipped models' recipes: model options on top of the ``tiny`` preset.
RECIPES: dict[str, dict] = {"tiny": {}, "tiny-nocross": {"cross_attention": False}, "tiny-rshift": {"shift": "random"}}


def load_or_train(name: str = "tiny", *, steps: int, out: str | Path, device: str | torch.device = "cpu",
                  progress: bool = True, **train_overrides) -> tuple[torch.nn.Module, dict]:
    """The shipped checkpoint ``name`` if the kit has it, else a model trained here for ``steps`` steps.

    ``name`` is one of :data:`RECIPES`: ``tiny``, ``tiny-nocross`` (the same recipe without cross
    attention) or ``tiny-rshift`` (with the paper's random RS-MMA shift), or a training preset
    (``sr-tiny``: the super-resolution stage).  A run already in ``out`` is resumed, so re-running a
    notebook does not start over.
    Taught in: notebooks/00_quickstart.ipynb, notebooks/06_training.ipynb, notebooks/11_super_resolution.ipynb.
    """
    if name in shipped_checkpoints():
        return load_model(name, device)
    from ..train import TRAIN_PRESETS, train, train_config
    from .export import write_preview

    if name in RECIPES:
        overrides = {"model_overrides": RECIPES[name]} if RECIPES[name] else {}
        cfg = train_config("tiny", steps=steps, **overrides, **train_overrides)
    elif name in TRAIN_PRESETS:
        cfg = train_config(name, steps=steps, **train_overrides)
    else:
        raise ValueError(f"no shipped checkpoint {name!r} and no recipe to train it: use one of "
                         f"{', '.join([*RECIPES, *TRAIN_PRESETS])}")
    train(cfg, out, resume="auto", progress=progress, preview=write_preview if cfg.preview_every else None)
    return load_model(out, device)
