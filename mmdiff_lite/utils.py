"""Small helpers every layer may use: devices, seeds, atomic files and output folders.

Nothing here knows about diffusion, models or data.
"""
from __future__ import annotations

import contextlib
import math
import hashlib
import json
import os
import random
import shutil
import tempfile
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
import torch

__all__ = ["default_device", "make_generator", "derive_seed", "seed_everything", "atomic_path", "resolve_generator", "sha256_file",
           "write_json", "check_output_folder", "check_output_file", "staged_folder", "finite_or_none", "has_frontend", "tqdm"]


def has_frontend() -> bool:
    """True when a live notebook front end can show widgets (JupyterLab, Notebook, Colab, VS Code).

    Kernels run by papermill or nbval have none; ``MMDIFF_WIDGETS=1`` / ``0`` forces the answer.
    """
    import sys

    if os.environ.get("MMDIFF_WIDGETS") in ("0", "1"):
        return os.environ["MMDIFF_WIDGETS"] == "1"
    if "google.colab" in sys.modules:
        return True
    return any(k in os.environ for k in ("JPY_SESSION_NAME", "VSCODE_PID"))


def tqdm(*args, **kwargs):
    """A progress bar: the notebook widget in a live front end, text everywhere else (a terminal, and notebooks
    executed headless, whose saved output then ends at 100% instead of a widget's first frame)."""
    import sys

    if has_frontend():
        from tqdm.notebook import tqdm as bar
    else:
        from tqdm.std import tqdm as bar
        if "ipykernel" in sys.modules:  # a notebook run headless keeps every redraw: redraw rarely (and at the end)
            kwargs.setdefault("mininterval", 60.0)
            kwargs.setdefault("delay", kwargs["mininterval"])  # no first frame at 0%: the first after a minute, the last at the end
            if kwargs.get("leave") is False:  # an inner bar that clears itself would leave its first frame ("0%")
                kwargs["disable"] = True
    return bar(*args, **kwargs)


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


def _umask() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return umask


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
        os.chmod(tmp_path, 0o666 & ~_umask())  # mkstemp makes 0600; give the usual permissions
        os.replace(tmp_path, path)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def write_json(path: str | os.PathLike, data, **dumps_options) -> None:
    """Write ``data`` as indented JSON (plus a final newline) to ``path``, atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(data, indent=2, **dumps_options) + "\n")


def finite_or_none(value):
    """``value`` with every non-finite float (NaN, inf) inside it replaced by ``None``, so that it can be
    written as strict JSON (``json.dumps(..., allow_nan=False)``)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: finite_or_none(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite_or_none(v) for v in value]
    return value


def _writable_folder(out: Path, flag: str, target: Path | None = None) -> None:
    """A clear error when ``out`` cannot become a folder we write to: it or a parent is a file, or the
    nearest existing parent is not writable.  (``target``: the file the option names, for the message.)"""
    target = target or out
    for p in (out, *out.parents):
        if p.exists() or p.is_symlink():
            if not p.is_dir():
                where = "is a file" if p == target else f"lies under {p}, which is a file"
                raise ValueError(f"{flag} {target} {where}, not a folder: choose another {flag}")
            if not os.access(p, os.W_OK | os.X_OK):
                raise ValueError(f"cannot write into {p} (permission denied): choose another {flag}")
            return


def check_output_folder(out: str | os.PathLike, overwrite: bool = False, owns: Callable[[str], bool] | None = None,
                        flag: str = "--out") -> Path:
    """Check, before any work, that ``out`` can be written as an output folder; returns it as a ``Path``.

    It may be new or empty.  A folder that holds only files ``owns(name)`` recognises (an earlier output of
    the same kind) may be replaced; anything else needs ``overwrite=True``.  Raises a one-line ``ValueError``
    that says what to do.
    """
    out = Path(out)
    _writable_folder(out, flag)
    if out.is_dir() and not overwrite:
        names = [p.name for p in out.iterdir()]
        if names and not (owns is not None and all(owns(n) for n in names)):
            raise ValueError(f"{flag} {out} is not empty and does not hold an earlier output of this command: "
                             f"choose a new folder, or pass --overwrite to replace it")
    return out


def check_output_file(path: str | os.PathLike | None, flag: str) -> None:
    """Check, before any work, that the file ``path`` (an option's value; ``None``: not asked for) can be
    written: not a folder, and under a folder we may create or write into."""
    if path is None:
        return
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"{flag} {path} is a folder: give a file name")
    _writable_folder(path.parent, flag, target=path)


@contextlib.contextmanager
def staged_folder(out: str | os.PathLike, overwrite: bool = False, owns: Callable[[str], bool] | None = None,
                  flag: str = "--out") -> Iterator[Path]:
    """Yield an empty temporary folder beside ``out``; on success it replaces ``out`` whole.

    So a new output never mixes with the files of an earlier one (``sample --n 2`` after ``--n 4`` leaves two
    pairs, not four), and an error or a kill leaves the old folder as it was.  ``out`` is checked first with
    :func:`check_output_folder` (``overwrite``, ``owns``), before the caller does any work.
    """
    out = check_output_folder(out, overwrite, owns, flag)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
    try:
        os.chmod(tmp, 0o777 & ~_umask())  # mkdtemp makes 0700; give the usual permissions
        yield tmp
        if out.exists() or out.is_symlink():
            old = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".old.tmp", dir=out.parent))
            os.replace(out, old / "x")
            os.replace(tmp, out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, out)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
