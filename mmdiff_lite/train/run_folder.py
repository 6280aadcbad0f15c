"""A training run's folder: who may write to it, and what a new run, a resumed run or ``--overwrite`` finds there.

The rules (``mmdiff-lite train`` and :class:`mmdiff_lite.train.Trainer` alike):

* a new run (``resume=False``) refuses a folder that already holds a run, unless ``overwrite=True``, which
  first deletes that run's files (and nothing else);
* ``resume=True`` on a folder without ``last.safetensors`` is an error (a misspelled path must not quietly
  start from step 0); ``resume="auto"`` resumes when there is a state and starts otherwise (notebooks);
* one process at a time: training holds an exclusive lock on ``<run>/.lock`` (released when the process ends,
  even by a kill), so a second training into the same folder stops with an error;
* temporary files a killed run left behind (``.*.tmp``) are removed when the next run takes the lock, and a
  resumed run's ``log.jsonl`` is cut back to the steps of its last checkpoint (those after it are run again).

Taught in: notebooks/06_training.ipynb.
"""
from __future__ import annotations

import contextlib
import json
import os
import shutil
from pathlib import Path

from ..utils import atomic_path, check_output_folder, finite_or_none

__all__ = ["RunFolder", "RunFolderError", "RUN_FILES", "log_records"]

#: What a run writes at the top of its folder (plus ``ema-step<N>.safetensors`` and ``previews/``).
RUN_FILES = ("last.safetensors", "ema.safetensors", "log.jsonl", "config.json")


class RunFolderError(ValueError):
    """A run folder that cannot be used as asked (clobbering, nothing to resume, another writer)."""


class RunFolder:
    """The folder ``path`` of one training run (see the module docstring for the rules)."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self._lock = None

    @property
    def state(self) -> Path:
        return self.path / "last.safetensors"

    def has_run(self) -> bool:
        """Whether the folder holds (part of) a training run."""
        return any((self.path / n).exists() for n in RUN_FILES) or any(self.path.glob("ema-step*.safetensors"))

    def decide(self, resume: bool | str = False, overwrite: bool = False) -> bool:
        """Check the folder for a run started with ``resume`` / ``overwrite``; True when it resumes a state.

        Raises :class:`RunFolderError` with what to do instead.  With ``overwrite`` the old run's files are
        deleted here (under the lock, so never under another training's feet).
        """
        if resume not in (True, False, "auto"):
            raise ValueError(f"resume takes True, False or 'auto', got {resume!r}")
        if resume is True and overwrite:
            raise RunFolderError("--resume continues a run and --overwrite deletes it: pass one of them")
        check_output_folder(self.path, overwrite=True, flag="--out")  # a file, a path under a file, no permission
        if resume is True and not self.state.is_file():
            what = "does not exist" if not self.path.exists() else "holds no last.safetensors"
            raise RunFolderError(f"nothing to resume: {self.path} {what} (a misspelled path?); check --out, or drop "
                                 "--resume to start a new run there")
        if resume is False and self.has_run():
            if not overwrite:
                raise RunFolderError(f"{self.path} already holds a training run{self._step_text()}: pass --resume to "
                                     "continue it, --overwrite to delete it and start again, or choose another --out")
            with self.locked():
                self._delete_run()
        return bool(resume) and self.state.is_file()

    def _step_text(self) -> str:
        try:
            from .checkpoint import read_header

            return f" (at step {read_header(self.state)['step']})" if self.state.is_file() else ""
        except (ValueError, KeyError):
            return ""

    def _delete_run(self) -> None:
        for name in RUN_FILES:
            (self.path / name).unlink(missing_ok=True)
        for p in self.path.glob("ema-step*.safetensors"):
            p.unlink()
        shutil.rmtree(self.path / "previews", ignore_errors=True)
        self.remove_temp_files()

    # ---- the lock ----------------------------------------------------------------------------
    def acquire(self) -> None:
        """Take the folder's exclusive lock (creating the folder), or raise :class:`RunFolderError`."""
        if self._lock is not None:
            return
        self.path.mkdir(parents=True, exist_ok=True)
        f = open(self.path / ".lock", "a+")
        try:
            import fcntl
        except ImportError:  # Windows: no advisory locks here; one run at a time is then up to you
            self._lock = f
            return
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            f.seek(0)
            holder = f.read().strip() or "another process"
            f.close()
            mine = holder == f"pid {os.getpid()}"
            where = "this Python process (another Trainer object)" if mine else holder
            raise RunFolderError(f"another training is writing to {self.path} ({where}): wait for it to end, or "
                                 "choose another --out") from None
        f.seek(0)
        f.truncate()
        f.write(f"pid {os.getpid()}")
        f.flush()
        self._lock = f

    def release(self) -> None:
        if self._lock is not None:
            self._lock.close()  # closing the file drops the lock
            self._lock = None

    @contextlib.contextmanager
    def locked(self):
        """The lock for the ``with`` block (kept if it was already held)."""
        held = self._lock is not None
        self.acquire()
        try:
            yield self
        finally:
            if not held:
                self.release()

    # ---- after a kill ------------------------------------------------------------------------
    def remove_temp_files(self) -> list[Path]:
        """Delete the ``.*.tmp`` files and folders a killed writer left (call with the lock held)."""
        found = sorted(p for p in self.path.rglob(".*.tmp"))
        for p in found:
            shutil.rmtree(p, ignore_errors=True) if p.is_dir() else p.unlink(missing_ok=True)
        return found

    def cut_log(self, step: int) -> None:
        """Keep only the log records of steps up to ``step`` (a resumed run logs the later ones again);
        a line torn by a kill is dropped."""
        log = self.path / "log.jsonl"
        if log.is_file():
            with atomic_path(log) as tmp:
                tmp.write_text("".join(json.dumps(rec, allow_nan=False) + "\n" for rec in log_records(log, step)))


def log_records(path: str | os.PathLike, last_step: float = float("inf")) -> list[dict]:
    """The records of a run's ``log.jsonl`` up to ``last_step``, in file order; torn lines (a kill) are dropped and
    non-finite numbers (logs of older kits) read as ``None``."""
    records = []
    for line in Path(path).read_text().splitlines():
        try:
            rec = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(rec, dict) and rec.get("step", 0) <= last_step:
            records.append(finite_or_none(rec))
    return records
