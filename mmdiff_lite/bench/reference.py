"""The authors' network at a kit preset's configuration, for timing the two side by side.

The kit ships none of the authors' code. ``mmdiff-lite bench step --authors-code DIR`` takes a local checkout of
github.com/researchmm/MM-Diffusion (the folder holding ``mm_diffusion/``), imports its ``MultimodalUNet`` and builds
it with the flags that give the kit preset's network. Both then run the same training step, each in a fresh process
(:mod:`mmdiff_lite.bench.worker`).

How a kit config maps onto the authors' flags (their ``multimodal_script_util.create_model``):

* level ``l`` of the kit is their down-sampling rate ``ds = 2**l``. A window at level ``l`` is the entry ``ds`` of
  ``cross_attention_resolutions`` with the same position in ``cross_attention_windows``;
* their middle block has RS-MMA (window F, no shift) exactly when the windows list is ``[1, 4, 8]``. A kit config
  with ``middle_cross_attention`` therefore gets rates padded up to that list; a rate that no level reaches adds
  nothing;
* ``attention_levels`` become ``video_attention_resolutions``; the authors' audio has no self-attention outside the
  middle block (``audio_attention_resolutions = -1``), nor does the kit's;
* ``shift="random"`` is ``cross_attention_shift=True`` and ``"none"`` is ``False``;
* ``recompute_attention`` changes no number, only the work and memory: the authors' attention blocks always recompute
  in the backward pass, the kit's only when it is set (``ref-small`` and ``paper`` do, as the authors). A kit run
  with ``--set recompute_attention=false`` does less work and must show its memory beside theirs;
* their ``use_scale_shift_norm=True`` and ``resblock_updown=True`` (train.sh), ``num_head_channels`` = ``head_dim``.
"""
from __future__ import annotations

import importlib
import sys
from pathlib import Path

import torch
from torch import nn

from ..model import UNetConfig

__all__ = ["authors_unet_kwargs", "AuthorsUNet", "load_authors_unet"]

#: The windows list for which the authors' code puts RS-MMA in the middle block.
_MIDDLE_WINDOWS = [1, 4, 8]


def authors_unet_kwargs(cfg: UNetConfig) -> dict:
    """``MultimodalUNet(**kwargs)`` of the authors' code for the kit's coupled config ``cfg`` (see the module
    docstring); configurations their code cannot express get a ValueError that says which option."""
    if cfg.kind != "coupled":
        raise ValueError(f"{cfg.name}: only coupled U-Nets can be compared with the authors' MultimodalUNet")
    unsupported = {
        "cross_attention=False": not cfg.cross_attention, "a fixed integer shift": isinstance(cfg.shift, int),
        "middle_attention=False": not cfg.middle_attention, "audio_rate other than 4": cfg.audio_rate != 4,
        "temporal_padding='circular'": cfg.temporal_padding != "zeros",
        "cross_rotary": cfg.cross_rotary, "cross_offsets": cfg.cross_offsets, "emb_mult other than 1": cfg.emb_mult != 1, "max_dilation_exp other than 9":
        cfg.max_dilation_exp != 9,
    }
    named = [what for what, hit in unsupported.items() if hit]
    if named:
        raise ValueError(f"{cfg.name}: the authors' code has no equivalent of {', '.join(named)}; "
                         "compare a configuration without it (e.g. --preset ref-small)")
    rates = [2 ** level for level, w in enumerate(cfg.windows) if w is not None]
    windows = [w for w in cfg.windows if w is not None]
    if cfg.middle_cross_attention:
        if windows != _MIDDLE_WINDOWS[:len(windows)]:
            raise ValueError(f"{cfg.name}: the authors' code has middle-block RS-MMA only with windows (1, 4, 8); "
                             f"windows {tuple(windows)} cannot be expressed")
        while len(windows) < len(_MIDDLE_WINDOWS):  # rates past the deepest level: they only switch the middle on
            rates.append(2 ** (cfg.num_levels + len(rates)))
            windows.append(_MIDDLE_WINDOWS[len(windows)])
    elif windows == _MIDDLE_WINDOWS:
        raise ValueError(f"{cfg.name}: windows (1, 4, 8) switch on the authors' middle-block RS-MMA, which this "
                         "config turns off")
    return {
        "video_size": list(cfg.video_shape), "audio_size": list(cfg.audio_shape), "model_channels": cfg.channels,
        "video_out_channels": cfg.video_shape[1], "audio_out_channels": cfg.audio_shape[0],
        "num_res_blocks": cfg.num_blocks, "cross_attention_resolutions": rates, "cross_attention_windows": windows,
        "cross_attention_shift": cfg.shift == "random",
        "video_attention_resolutions": [2 ** level for level in cfg.attention_levels] or [-1],
        "audio_attention_resolutions": [-1], "video_type": "2d+1d", "audio_type": "1d", "dropout": cfg.dropout,
        "channel_mult": tuple(cfg.channel_mult), "use_checkpoint": False, "use_fp16": False, "num_heads": cfg.heads,
        "num_head_channels": cfg.head_dim, "use_scale_shift_norm": True, "resblock_updown": True,
    }


class AuthorsUNet(nn.Module):
    """The authors' network behind the kit's calling convention: ``net({"video", "audio"}, t)`` returns a pair."""

    def __init__(self, net: nn.Module, config: UNetConfig):
        super().__init__()
        self.net, self.config = net, config

    def forward(self, x: dict, t: torch.Tensor) -> dict:
        video, audio = self.net(x["video"], x["audio"], t)
        return {"video": video, "audio": audio}


def load_authors_unet(code_dir: str | Path, cfg: UNetConfig) -> AuthorsUNet:
    """Import ``mm_diffusion.multimodal_unet`` from the local checkout ``code_dir`` and build its MultimodalUNet
    at ``cfg``'s configuration."""
    code_dir = Path(code_dir).expanduser().resolve()
    if not (code_dir / "mm_diffusion" / "multimodal_unet.py").is_file():
        raise FileNotFoundError(f"{code_dir} holds no mm_diffusion/multimodal_unet.py: pass the folder of a local "
                                "checkout of github.com/researchmm/MM-Diffusion (the one that contains mm_diffusion/)")
    sys.path.insert(0, str(code_dir))
    try:
        module = importlib.import_module("mm_diffusion.multimodal_unet")
    finally:
        sys.path.remove(str(code_dir))
    return AuthorsUNet(module.MultimodalUNet(**authors_unet_kwargs(cfg)), cfg)
