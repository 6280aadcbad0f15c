"""Small helpers every layer may use: devices, seeds, atomic files.

Nothing here knows about diffusion, models or data.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import random
import tempfile
from pathlib import Path
from typing import Iterator

import numpy as np
import torch

__all__ = ["default_device", "make_generator", "derive_seed", "seed_everything", "atomic_path", "resolve_generator", "sha256_file",
           "write_json"]


def default_device() -> torch.device:
    """The best device here: CUDA when present, else the CPU (so no code needs to name a device)."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def make_generator(seed: int, device: str | torch.device = "cpu") -> torch.Generator:
    """A ``torch.Generator`` on ``device`` seeded with ``seed``."""
    gen = torch.Generator(device=device)
    gen.manual_seed(int(seed))
    return gen


def derive_seed(seed: int, *keys: object) -> int:
    """A 63-bit seed from a run seed and any keys (stable across Python runs and machines): one helper for
    every random stream of the kit, so streams with different keys are unrelated."""
    text = "/".join(str(k) for k in (seed, *keys)).encode()
    return int.from_bytes(hashlib.blake2b(text, digest_size=8).digest(), "little") & (2**63 - 1)


def resolve_generator(generator: torch.Generator | int | None, device: str | torch.device = "cpu"):
    """Accept a generator, a seed or ``None`` (global RNG) and return a generator or ``None``."""
    if generator is None or isinstance(generator, torch.Generator):
        return generator
    return make_generator(int(generator), device)


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch (all devices)."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def sha256_file(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    """The sha256 hex digest of a file, read in chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success rename it onto ``path`` atomically.

    A crash while writing leaves the old file (or nothing) in place, never a half-written one.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp_path, 0o666 & ~umask)  # mkstemp makes 0600; give the usual permissions
        os.replace(tmp_path, path)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def write_json(path: str | os.PathLike, data, **dumps_options) -> None:
    """Write ``data`` as indented JSON (plus a final newline) to ``path``, atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(data, indent=2, **dumps_options) + "\n")
