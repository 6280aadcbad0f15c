"""What every U-Net configuration of the kit derives from its width settings (``channels``, ``channel_mult``,
``emb_mult``): the number of levels, the channels per level, the timestep-embedding width; and its ``to_dict``.
The coupled U-Net's :class:`~mmdiff_lite.model.UNetConfig` and the upsampler's
:class:`~mmdiff_lite.model.SRConfig` both inherit it.

Taught in: notebooks/04_coupled_unet.ipynb
"""
from __future__ import annotations

from dataclasses import asdict

__all__ = ["UNetSizes"]


class UNetSizes:
    """Mixin of a frozen config dataclass with ``channels``, ``channel_mult`` and ``emb_mult`` fields."""

    @property
    def num_levels(self) -> int:
        return len(self.channel_mult)

    @property
    def emb_dim(self) -> int:
        return self.channels * self.emb_mult

    def level_channels(self, level: int) -> int:
        return self.channels * self.channel_mult[level]

    def to_dict(self) -> dict:
        return asdict(self)
