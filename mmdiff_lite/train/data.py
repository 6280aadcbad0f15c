"""Where a training run's clips come from: global sample index -> clip, independent of processes.

Sample ``i`` of a run is the ``i``-th clip it ever sees (step s covers ``s*B … s*B + B - 1``).  For the
synthetic benchmark that is simply clip ``(seed, i)`` (unlimited data); for prepared real clips it is a
seeded permutation per epoch (and the data set's own per-epoch horizontal flips).
"""
from __future__ import annotations

from typing import Sequence

import torch

from ..data import ClipDataset, SyntheticClips, clip_preset
from ..utils import make_generator
from .randomness import derive_seed

__all__ = ["SampleSource", "make_source"]


class SampleSource:
    """``batch(ids)`` -> ``{"video": (B, F, C, H, W), "audio": (B, C, T)}`` for global sample ids."""

    def __init__(self, dataset, seed: int, unlimited: bool):
        self.dataset, self.seed, self.unlimited = dataset, int(seed), unlimited
        self._perm_epoch, self._perm = None, None

    @property
    def video_shape(self):
        return tuple(self.dataset[0]["video"].shape)

    @property
    def audio_shape(self):
        return tuple(self.dataset[0]["audio"].shape)

    def shape(self, key: str) -> tuple:
        """The shape of one clip's ``key`` (``video`` or ``audio``)."""
        return tuple(self.dataset[0][key].shape)

    def _index(self, i: int) -> int:
        if self.unlimited:
            return i
        n = len(self.dataset)
        epoch, pos = divmod(i, n)
        if self._perm_epoch != epoch:  # a fresh seeded permutation each epoch
            self._perm = torch.randperm(n, generator=make_generator(derive_seed(self.seed, "epoch", epoch)))
            self._perm_epoch = epoch
            self.dataset.set_epoch(epoch)
        return int(self._perm[pos])

    def item(self, i: int) -> dict:
        it = self.dataset[self._index(i)]
        return {"video": it["video"], "audio": it["audio"]}

    def batch(self, ids: Sequence[int]) -> dict:
        items = [self.item(int(i)) for i in ids]
        return {k: torch.stack([it[k] for it in items]) for k in ("video", "audio")}


def make_source(data_preset: str | None, data_dir: str | None, seed: int, flip_prob: float = 0.0) -> SampleSource:
    """The synthetic benchmark of ``data_preset`` or the prepared clips in ``data_dir``."""
    if data_dir:
        dataset = ClipDataset(data_dir, flip_prob=flip_prob, seed=derive_seed(seed, "flips") % 2**31)
        return SampleSource(dataset, seed, unlimited=False)
    cfg = clip_preset(data_preset)
    return SampleSource(SyntheticClips(cfg, seed=derive_seed(seed, "clips") % 2**31, length=2**62), seed, unlimited=True)
