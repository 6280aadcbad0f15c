"""Checkpoints in safetensors (no pickle), written atomically.

Two kinds of file:
* the **training state** (``last.safetensors``): weights, EMA weights, the optimizer's tensors, and a
  JSON header (step, configs, seed, optimizer hyper-parameters) so ``--resume`` continues exactly;
* **weights** (``ema.safetensors``, shipped checkpoints): one state dict (optionally fp16) plus the
  model configuration needed to rebuild the network.  EMA snapshots (``ema-step<N>.safetensors``, kept
  every ``snapshot_every`` steps) are weights files too.

Every file the kit writes carries ``tensors_sha256`` in its header: a sha256 over each tensor's name, dtype,
shape and bytes.  Loading recomputes it, so a flipped bit anywhere in the weights is an error, not a quietly
worse model.  (Shipped checkpoints are also checked as whole files against the manifest.)
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import warnings
from pathlib import Path

import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file

from ..utils import atomic_path

__all__ = ["tensors_digest", "save_training_state", "load_training_state", "save_weights", "load_weights", "read_header",
           "snapshot_path", "snapshot_steps", "preview_path"]


def tensors_digest(tensors: dict) -> str:
    """sha256 over every tensor's name, dtype, shape and bytes, in name order (what ``tensors_sha256`` holds)."""
    h = hashlib.sha256()
    for name in sorted(tensors):
        t = tensors[name].detach().cpu().contiguous()
        h.update(f"{name}|{str(t.dtype)}|{tuple(t.shape)}|".encode())
        h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes())
    return h.hexdigest()


def _save(path, tensors: dict, meta: dict) -> None:
    tensors = {k: v.detach().contiguous().cpu() for k, v in tensors.items()}
    meta = {**meta, "tensors_sha256": tensors_digest(tensors)}
    with atomic_path(path) as tmp:
        save_file(tensors, str(tmp), metadata={"meta": json.dumps(meta)})


def _load_verified(path, meta: dict, device: str = "cpu", verified: bool = False) -> dict:
    """The tensors of ``path``, checked against the ``tensors_sha256`` of its header."""
    try:
        tensors = load_file(str(path), device=str(device))
    except Exception as err:  # safetensors' own error types for truncated or corrupt files
        raise ValueError(f"{path} is not a readable safetensors checkpoint ({err})") from None
    want = meta.get("tensors_sha256")
    if want is None:
        if not verified:
            warnings.warn(f"{path} carries no tensors_sha256 (written by an older kit), so its weights cannot be "
                          "checked for damage", stacklevel=3)
    elif tensors_digest(tensors) != want:
        raise ValueError(f"{path} is damaged: its tensors do not match the checksum in its header (a flipped bit, "
                         "a bad disk or copy); use another snapshot or the run's last.safetensors, or train again")
    return tensors


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
    tensors = _load_verified(path, meta)
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


def load_weights(path, device: str | torch.device = "cpu", which: str = "ema", verified: bool = False) -> tuple[dict, dict]:
    """(state dict as float32, header) of a weights file or of a training state.

    A training state holds two sets of weights: ``which="ema"`` (the default, what you sample with) or
    ``which="raw"`` (the optimizer's current weights).  A weights file holds only EMA weights.
    The tensors are checked against the header's ``tensors_sha256`` (``verified=True``: the whole file was
    already checked, so a file without one raises no warning).
    Taught in: notebooks/06_training.ipynb.
    """
    if which not in ("ema", "raw"):
        raise ValueError(f"which={which!r}: use 'ema' or 'raw'")
    meta = read_header(path)
    tensors = _load_verified(path, meta, device, verified)
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
