"""Exercises of notebooks/04_coupled_unet.ipynb."""
from __future__ import annotations

from .base import exercise, within

NB = "04_coupled_unet"


@exercise("04.receptive-field", notebook=NB, kind="write", answer="my_receptive_field",
          hint="each layer adds (kernel - 1) * dilation * (product of the strides before it) input samples to 1")
def _receptive_field(fn):
    from ..model import receptive_field

    cases = [[(3, 1, 1)], [(3, 1, 1), (3, 2, 1), (3, 4, 1)], [(3, 1, 2), (3, 2, 1)], [(5, 1, 1), (3, 1, 2), (3, 8, 1)],
             [(3, 2 ** k, 1) for k in range(10)]]
    for layers in cases:
        if (problem := within(fn(layers), receptive_field(layers), 0, f"for {layers} your field")) is not None:
            return problem
    return None


@exercise("04.width-ratio", notebook=NB, kind="predict", answer="params_ratio",
          hint="a convolution with C inputs and C outputs has about C * C * k weights")
def _width_ratio(ratio):
    from ..model import build_model

    def count(channels):
        return sum(p.numel() for p in build_model("tiny", channels=channels).parameters())

    return within(ratio, count(32) / count(16), 0.25, "your ratio")
