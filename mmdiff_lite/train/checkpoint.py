"""Checkpoints in safetensors (no pickle), written atomically.

Two kinds of file:
* the **training state** (``last.safetensors``): weights, EMA weights, the optimizer's tensors, and a
  JSON header (step, configs, seed, optimizer hyper-parameters) so ``--resume`` continues exactly;
* **weights** (``ema.safetensors``, shipped checkpoints): one state dict (optionally fp16) plus the
  model configuration needed to rebuild the network.  EMA snapshots (``ema-step<N>.safetensors``, kept
  every ``snapshot_every`` steps) are weights files too.
"""
from __future__ import annotations

import json
import os
import re
from pathlib import Path

import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file

from ..utils import atomic_path

__all__ = ["save_training_state", "load_training_state", "save_weights", "load_weights", "read_header",
           "snapshot_path", "snapshot_steps", "preview_path"]


def _save(path, tensors: dict, meta: dict) -> None:
    tensors = {k: v.detach().contiguous().cpu() for k, v in tensors.items()}
    with atomic_path(path) as tmp:
        save_file(tensors, str(tmp), metadata={"meta": json.dumps(meta)})


def read_header(path: str | os.PathLike) -> dict:
    """The JSON header of a kit safetensors file (without loading its tensors)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path}")
    try:
        with safe_open(str(path), framework="pt") as f:
            return json.loads((f.metadata() or {}).get("meta", "{}"))
    except Exception as err:  # safetensors raises its own error types for corrupt files
        raise ValueError(f"{path} is not a readable safetensors checkpoint ({err})") from None


def save_training_state(path, *, model: torch.nn.Module, ema: torch.nn.Module, optimizer: torch.optim.Optimizer,
                        meta: dict) -> None:
    """Everything needed to resume: model, EMA and optimizer tensors + ``meta`` (step, configs, ...)."""
    tensors = {f"model.{k}": v for k, v in model.state_dict().items()}
    tensors.update({f"ema.{k}": v for k, v in ema.state_dict().items()})
    opt = optimizer.state_dict()
    scalars = {}
    for idx, state in opt["state"].items():
        for name, value in state.items():
            if torch.is_tensor(value):
                tensors[f"optim.{idx}.{name}"] = value
            else:
                scalars[f"{idx}.{name}"] = value
    _save(path, tensors, {**meta, "kind": "training_state", "optim_groups": opt["param_groups"], "optim_scalars": scalars})


def load_training_state(path, *, model: torch.nn.Module, ema: torch.nn.Module, optimizer: torch.optim.Optimizer) -> dict:
    """Load what :func:`save_training_state` wrote into the given objects; return the header."""
    meta = read_header(path)
    if meta.get("kind") != "training_state":
        raise ValueError(f"{path} is not a training state (it holds {meta.get('kind', 'unknown')}); resume from last.safetensors")
    tensors = load_file(str(path))
    device = next(model.parameters()).device
    for prefix, module in (("model.", model), ("ema.", ema)):
        sd = {k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)}
        try:
            module.load_state_dict(sd)
        except RuntimeError as err:
            raise ValueError(f"{path} does not fit this model ({str(err).splitlines()[0]}); use the same --preset and options") from None
    state: dict = {}
    for k, v in tensors.items():
        if k.startswith("optim."):
            _, idx, name = k.split(".", 2)
            state.setdefault(int(idx), {})[name] = v.to(device) if name != "step" else v
    for key, value in meta["optim_scalars"].items():
        idx, name = key.split(".", 1)
        state.setdefault(int(idx), {})[name] = value
    optimizer.load_state_dict({"state": state, "param_groups": meta["optim_groups"]})
    return meta


def save_weights(path, state_dict: dict, meta: dict, dtype: torch.dtype | None = None) -> None:
    """One state dict (cast to ``dtype`` when given, floating tensors only) with a JSON header."""
    sd = {k: (v.to(dtype) if dtype is not None and v.is_floating_point() else v) for k, v in state_dict.items()}
    _save(path, sd, {**meta, "kind": "weights"})


def load_weights(path, device: str | torch.device = "cpu", which: str = "ema") -> tuple[dict, dict]:
    """(state dict as float32, header) of a weights file or of a training state.

    A training state holds two sets of weights: ``which="ema"`` (the default, what you sample with) or
    ``which="raw"`` (the optimizer's current weights).  A weights file holds only EMA weights.
    Taught in: notebooks/06_training.ipynb.
    """
    if which not in ("ema", "raw"):
        raise ValueError(f"which={which!r}: use 'ema' or 'raw'")
    meta = read_header(path)
    tensors = load_file(str(path), device=str(device))
    if meta.get("kind") == "training_state":
        prefix = "ema." if which == "ema" else "model."
        tensors = {k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)}
    elif which == "raw":
        raise ValueError(f"{path} holds only EMA weights; the raw weights are in the run's last.safetensors")
    return {k: (v.float() if v.is_floating_point() else v) for k, v in tensors.items()}, meta


def snapshot_path(run_dir: str | os.PathLike, step: int) -> Path:
    """Where a run keeps the EMA weights of step ``step``: ``<run_dir>/ema-step<step>.safetensors``."""
    return Path(run_dir) / f"ema-step{int(step)}.safetensors"


def preview_path(run_dir: str | os.PathLike, step: int) -> Path:
    """Where a run writes the preview pairs of step ``step`` (``preview_every``): ``<run_dir>/previews/step<step>``."""
    return Path(run_dir) / "previews" / f"step{int(step)}"


def snapshot_steps(run_dir: str | os.PathLike) -> list[int]:
    """The steps whose EMA snapshots a run folder holds, in increasing order."""
    found = (re.fullmatch(r"ema-step(\d+)\.safetensors", p.name) for p in Path(run_dir).glob("ema-step*.safetensors"))
    return sorted(int(m.group(1)) for m in found if m)
