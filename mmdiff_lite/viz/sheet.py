"""Contact sheets: a grid of frames (rows = clips, columns = frames) saved as one PNG.

Used by ``mmdiff-lite demo`` and ``mmdiff-lite sample``.
"""
from __future__ import annotations

import os

import numpy as np
import torch

from ..data.io import to_uint8_frames
from ..utils import atomic_path

__all__ = ["contact_sheet", "save_contact_sheet"]


def contact_sheet(video: torch.Tensor, max_frames: int = 8, scale: int = 4, gap: int = 2) -> np.ndarray:
    """(B, F, C, H, W) in [-1, 1] -> uint8 image (rows = clips, columns = evenly spaced frames).

    Taught in: notebooks/00_quickstart.ipynb, notebooks/07_joint_sampling.ipynb
    """
    if video.ndim != 5:
        raise ValueError(f"video must be (B, F, C, H, W), got {tuple(video.shape)}")
    b, f, _, h, w = video.shape
    idx = np.unique(np.linspace(0, f - 1, min(max_frames, f)).round().astype(int))
    hh, ww = h * scale + gap, w * scale + gap
    sheet = np.full((b * hh + gap, len(idx) * ww + gap, 3), 255, np.uint8)
    for i in range(b):
        frames = to_uint8_frames(video[i, idx], scale)  # (len(idx), H*scale, W*scale, 3)
        for j, frame in enumerate(frames):
            sheet[gap + i * hh: gap + i * hh + h * scale, gap + j * ww: gap + j * ww + w * scale] = frame
    return sheet


def save_contact_sheet(path: str | os.PathLike, video: torch.Tensor, **kwargs) -> None:
    """Write :func:`contact_sheet` of ``video`` to a PNG file, atomically."""
    import matplotlib.image

    with atomic_path(path) as tmp:
        matplotlib.image.imsave(tmp, contact_sheet(video, **kwargs), format="png")
