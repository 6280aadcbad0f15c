"""Looking inside a coupled U-Net: shapes at every block, parameters per block, receptive fields,
RS-MMA attention maps. Used by the notebooks and tests; nothing here changes a model.

Taught in: notebooks/04_coupled_unet.ipynb, notebooks/05_rs_mma.ipynb
"""
from __future__ import annotations

import copy
from collections import OrderedDict

import torch
from torch import nn

from .rsmma import RSMMA, token_mask

__all__ = ["top_blocks", "trace_shapes", "parameter_table", "parameter_groups", "audio_encoder_chain",
           "measured_receptive_field", "gradient_support", "rsmma_frame_attention", "example_pair"]


def top_blocks(model: nn.Module) -> list[tuple[str, nn.Module]]:
    """The model's blocks in call order: stems, encoder blocks, middle, decoder blocks, outputs."""
    names = ["stem_video", "stem_audio"]
    names += [f"down.{i}" for i in range(len(model.down))] + ["middle"]
    names += [f"up.{i}" for i in range(len(model.up))] + ["out_video", "out_audio"]
    return [(n, model.get_submodule(n)) for n in names]


def example_pair(config, batch: int = 1, seed: int = 0) -> dict[str, torch.Tensor]:
    """A random pair with the config's shapes (values in [-1, 1]).

    Taught in: notebooks/04_coupled_unet.ipynb, notebooks/05_rs_mma.ipynb
    """
    g = torch.Generator().manual_seed(seed)
    return {"video": torch.rand(batch, *config.video_shape, generator=g) * 2 - 1,
            "audio": torch.rand(batch, *config.audio_shape, generator=g) * 2 - 1}


@torch.no_grad()
def trace_shapes(model: nn.Module, pair: dict | None = None, t: float = 500.0) -> list[dict]:
    """Run one pair through ``model`` and record, per block, the video ``(F, C, H, W)`` and audio
    ``(C, T)`` shapes it outputs (per clip; the batch axis dropped) and its parameter count.

    Taught in: notebooks/04_coupled_unet.ipynb
    """
    pair = pair if pair is not None else example_pair(model.config)
    rows, hooks = [], []

    def hook(name, module):
        def fn(_mod, _inp, out):
            if isinstance(out, tuple):
                v, a = out
            elif name.endswith("video"):
                v, a = out, None
            else:
                v, a = None, out
            rows.append({
                "block": name,
                "video (F, C, H, W)": None if v is None else (v.shape[2], v.shape[1], v.shape[3], v.shape[4]),
                "audio (C, T)": None if a is None else tuple(a.shape[1:]),
                "params": sum(p.numel() for p in module.parameters()),
            })
        return fn

    for name, module in top_blocks(model):
        hooks.append(module.register_forward_hook(hook(name, module)))
    try:
        model(pair, torch.full((len(pair["video"]),), float(t)))
    finally:
        for h in hooks:
            h.remove()
    return rows


def parameter_groups(name: str) -> str:
    """The part of the model a parameter belongs to, from its name."""
    if name.split(".")[-2] in ("norm_v", "norm_a", "qkv_v", "qkv_a", "out_v", "out_a"):
        return "rs-mma"
    for key, group in (("video_attention", "video attention"), ("audio_attention", "audio attention"),
                       ("time_embed", "t embedding"), (".emb.", "t embedding"),
                       ("video", "video"), ("audio", "audio")):
        if key in name:
            return group
    return "other"


def parameter_table(model: nn.Module) -> list[dict]:
    """Parameters per top-level block, split into video, audio, video/audio attention, RS-MMA and
    the timestep embedding; the last row is the total.

    Taught in: notebooks/04_coupled_unet.ipynb
    """
    groups = ["video", "audio", "video attention", "audio attention", "rs-mma", "t embedding"]
    table: OrderedDict[str, dict] = OrderedDict()
    for name, p in model.named_parameters():
        block = ".".join(name.split(".")[:2]) if name.startswith(("down.", "up.")) else name.split(".")[0]
        row = table.setdefault(block, {"block": block, **{g: 0 for g in groups}, "total": 0})
        row[parameter_groups(name)] += p.numel()
        row["total"] += p.numel()
    total = {"block": "total", **{g: sum(r[g] for r in table.values()) for g in groups}}
    total["total"] = sum(r["total"] for r in table.values())
    return [*table.values(), total]


def audio_encoder_chain(model: nn.Module) -> nn.Sequential:
    """The audio encoder's receptive-field-relevant layers (stem, each block's resampling and dilated
    convolution) as a single-channel chain with positive weights, for measuring receptive fields.

    Taught in: notebooks/04_coupled_unet.ipynb
    """
    layers = []
    for name, block in top_blocks(model):
        if name == "stem_audio":
            convs = [(None, block)]
        elif name.startswith("down."):
            branch = block[0].audio
            convs = [(branch.resample, branch.conv_in)]
        else:
            continue
        for resample, conv in convs:  # conv at the input resolution, then the resampling
            one = nn.Conv1d(1, 1, conv.kernel_size, padding=conv.padding, dilation=conv.dilation, bias=False)
            nn.init.constant_(one.weight, 1.0)
            layers.append(one)
            if resample is not None and not isinstance(resample, nn.Identity):
                layers.append(copy.deepcopy(resample))
    return nn.Sequential(*layers)


def gradient_support(fn, x: torch.Tensor, index) -> torch.Tensor:
    """Boolean mask of the inputs that the output element ``index`` of ``fn(x)`` depends on."""
    x = x.clone().requires_grad_(True)
    fn(x)[index].backward()
    return x.grad != 0


def measured_receptive_field(chain: nn.Module, length: int) -> int:
    """Receptive field of a 1D chain measured as the span of the input gradient of a central output.

    Taught in: notebooks/04_coupled_unet.ipynb
    """
    x = torch.rand(1, 1, length) + 0.5
    with torch.no_grad():
        out_len = chain(x).shape[-1]
    support = gradient_support(chain, x, (0, 0, out_len // 2))[0, 0].nonzero().flatten()
    return int(support.max() - support.min() + 1)


@torch.no_grad()
def rsmma_frame_attention(block: RSMMA, video: torch.Tensor, audio: torch.Tensor, shift: int) -> dict[str, torch.Tensor]:
    """Attention of one RS-MMA block summed to frame level: ``(F, F)`` per direction, entry ``[q, k]``
    the share of query segment q's attention that lands on key segment k (rows sum to 1; averaged
    over the batch, heads and the tokens of a segment). Computed densely with explicit softmax.

    Taught in: notebooks/05_rs_mma.ipynb
    """
    f = video.shape[2]
    (qv, kv, _), (qa, ka, _) = block.qkv(video, audio)
    out = {}
    for key, q, k in (("video->audio", qv, ka), ("audio->video", qa, kv)):
        lq, lk = q.shape[2] // f, k.shape[2] // f
        logits = q @ k.transpose(-1, -2) / q.shape[-1] ** 0.5
        mask = token_mask(f, block.window, shift, lq, lk, device=q.device)
        probs = logits.masked_fill(~mask, float("-inf")).softmax(-1)  # (B, h, F*Lq, F*Lk)
        frame = probs.unflatten(-1, (f, lk)).sum(-1).unflatten(-2, (f, lq)).mean(-2)  # (B, h, F, F)
        out[key] = frame.mean((0, 1))
    return out
