"""Exercises of notebooks/05_rs_mma.ipynb."""
from __future__ import annotations

import torch

from .base import exercise, within

NB = "05_rs_mma"


@exercise("05.window-mask", notebook=NB, kind="write", answer="my_window_mask",
          hint="M[q, k] is true when (k - q - R) mod F < S: build q and k index grids with torch.arange")
def _window_mask(fn):
    from ..model import window_mask

    for frames, window, shift in ((16, 4, 0), (16, 4, 2), (8, 1, 7), (5, 5, 0), (12, 3, 9)):
        got = fn(frames, window, shift)
        want = window_mask(frames, window, shift)
        if not isinstance(got, torch.Tensor) or got.shape != want.shape or not torch.equal(got.bool(), want):
            return f"for F={frames}, S={window}, R={shift} the mask differs"
    return None


@exercise("05.mask-entries", notebook=NB, kind="predict", answer="entries_12_3",
          hint="each query frame may attend to S key frames, whatever the shift")
def _entries(n):
    from ..model import window_mask

    return within(n, int(window_mask(12, 3, 5).sum()), 0, "your count")


@exercise("05.cost-ratio", notebook=NB, kind="predict", answer="dense_over_windowed",
          hint="dense attention compares every frame with all F frames, windowed with S of them")
def _cost(ratio):
    from ..model import rsmma_cost

    c = rsmma_cost(16, 2, 64, 32, 64)
    return within(ratio, c.dense_entries / c.windowed_entries, 1e-6, "your ratio")
