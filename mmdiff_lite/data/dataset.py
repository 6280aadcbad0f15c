"""A torch Dataset over clips prepared by :func:`mmdiff_lite.data.prepare.prepare_clips`.

Taught in: notebooks/03_audio_video_data.ipynb
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from .prepare import load_manifest

__all__ = ["ClipDataset"]


class ClipDataset(Dataset):
    """Prepared clips as ``{"video": (F, 3, H, W), "audio": (1, T)}`` float32 in [-1, 1].

    ``root`` is a folder written by ``data_scripts/prepare_clips.py`` (manifest.json + clips/).
    ``flip_prob`` is the chance that an item is mirrored left-right (default 0.0: off). Pass 0.5 for
    the augmentation the paper intends: the authors' loader flips *every* clip, a bug that only mirrors
    the data set instead of augmenting it. Flips are reproducible and independent of DataLoader
    workers: item ``i`` in epoch ``e`` is flipped when ``default_rng([seed, e, i]).random() < flip_prob``;
    call :meth:`set_epoch` to draw new flips per epoch. Arrays are memory-mapped, so large folders
    cost little RAM.

    Taught in: notebooks/03_audio_video_data.ipynb
    """

    def __init__(self, root: str | os.PathLike, flip_prob: float = 0.0, seed: int = 0):
        if not 0.0 <= float(flip_prob) <= 1.0:
            raise ValueError(f"flip_prob must be in [0, 1], got {flip_prob}")
        self.root = Path(root)
        self.manifest = load_manifest(self.root)
        self.clips = self.manifest["clips"]
        if not self.clips:
            raise ValueError(f"{self.root} holds no clips: prepare some with data_scripts/prepare_clips.py")
        self.flip_prob = float(flip_prob)
        self.seed = int(seed)
        self.epoch = 0
        self._arrays: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    def __len__(self) -> int:
        return len(self.clips)

    def set_epoch(self, epoch: int) -> None:
        """Use the flips of ``epoch`` (deterministic per epoch and item)."""
        self.epoch = int(epoch)

    def _load(self, stem: str) -> tuple[np.ndarray, np.ndarray]:
        """The clip arrays of one source, checked against the manifest (shape, dtype), with errors that name
        the file."""
        if stem not in self._arrays:
            m = self.manifest
            rows = next((s["clips"] for s in m["sources"] if s["file"] == stem), None)
            arrays = []
            for kind in ("video", "audio"):
                path = self.root / f"{stem}.{kind}.npy"
                try:
                    arr = np.load(path, mmap_mode="r")
                except FileNotFoundError:
                    raise FileNotFoundError(f"{path} is missing (the manifest lists it): prepare the clips again") from None
                except (ValueError, OSError, EOFError) as err:
                    raise ValueError(f"{path} is damaged ({err}): delete {self.root} and prepare the clips again") from None
                want = tuple(m[f"{kind}_shape"])
                if tuple(arr.shape[1:]) != want or str(arr.dtype) != m[f"{kind}_dtype"] or (rows and len(arr) != rows):
                    raise ValueError(f"{path} holds {arr.dtype} clips of shape {tuple(arr.shape)}, but the manifest says "
                                     f"{rows} x {want} {m[f'{kind}_dtype']}: the folder is damaged or mixed, prepare it again")
                arrays.append(arr)
            self._arrays[stem] = (arrays[0], arrays[1])
        return self._arrays[stem]

    def flipped(self, index: int) -> bool:
        """Whether item ``index`` is mirrored in the current epoch."""
        return self.flip_prob > 0 and np.random.default_rng([self.seed, self.epoch, int(index)]).random() < self.flip_prob

    def __getitem__(self, index: int) -> dict:
        if not -len(self) <= index < len(self):
            raise IndexError(f"clip {index} out of range for {len(self)} clips")
        index = index % len(self)
        clip = self.clips[index]
        video_arr, audio_arr = self._load(clip["file"])
        video = torch.from_numpy(np.array(video_arr[clip["row"]])).float() / 127.5 - 1.0
        audio = torch.from_numpy(np.array(audio_arr[clip["row"]])).float() / 32767.0
        if self.flipped(index):
            video = video.flip(-1)
        return {"video": video, "audio": audio.clamp(-1, 1)}
