"""Looking inside a coupled U-Net: shapes at every block, parameters per block, receptive fields,
RS-MMA attention maps. Used by the notebooks and tests; nothing here changes a model.

Taught in: notebooks/04_coupled_unet.ipynb, notebooks/05_rs_mma.ipynb
"""
from __future__ import annotations

import copy
import math
from collections import OrderedDict

import torch
from torch import nn

from .rsmma import RSMMA, token_mask

__all__ = ["top_blocks", "block_contents", "trace_shapes", "parameter_table", "parameter_groups",
           "audio_encoder_chain", "measured_receptive_field", "gradient_support", "rsmma_frame_attention",
           "rsmma_swap_probe", "example_pair", "rsmma_window_entropy", "rsmma_inputs"]


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


def block_contents(module: nn.Module) -> str:
    """What a top-level block holds, e.g. ``"res + attn + RS-MMA S=1"`` or ``"res (down)"``.

    ``res``: a coupled residual block (``(down)``/``(up)``: it resamples), ``attn``: video
    self-attention, ``a-attn``: audio self-attention, ``RS-MMA S=s``: cross attention with window s.

    Taught in: notebooks/04_coupled_unet.ipynb
    """
    if not isinstance(module, nn.ModuleList):
        return "conv" if isinstance(module, nn.Conv1d) or not isinstance(module, nn.Sequential) else "GN-SiLU-conv"
    parts = []
    for layer in module:
        if isinstance(layer, RSMMA):
            parts.append(f"RS-MMA S={layer.window}")
            continue
        mode = getattr(layer.audio.resample, "mode", None)
        parts.append("res" + (f" ({mode})" if mode else ""))
        parts += ["attn"] * (layer.video_attention is not None) + ["a-attn"] * (layer.audio_attention is not None)
    return " + ".join(parts)


@torch.no_grad()
def trace_shapes(model: nn.Module, pair: dict | None = None, t: float = 500.0) -> list[dict]:
    """Run one pair through ``model`` and record, per block: the level of its output (``"level (out)"``),
    the video and audio channels it receives (on the way up these include the concatenated skip), the video
    ``(F, C, H, W)`` and audio ``(C, T)`` shapes it outputs (per clip; batch axis dropped), what it
    holds (:func:`block_contents`) and its parameter count.

    Taught in: notebooks/04_coupled_unet.ipynb
    """
    pair = pair if pair is not None else example_pair(model.config)
    height = model.config.video_shape[2]
    rows, hooks = [], []

    def hook(name, module):
        def fn(_mod, inp, out):
            if isinstance(out, tuple):
                (v, a), (vi, ai) = out, inp[:2]
            elif name.endswith("video"):
                v, a, vi, ai = out, None, inp[0], None
            else:
                v, a, vi, ai = None, out, None, inp[0]
            size = v.shape[3] if v is not None else None
            rows.append({
                "block": name,
                "level (out)": None if size is None else (height // size).bit_length() - 1,
                "in C (v, a)": "/".join("-" if x is None else str(x.shape[1]) for x in (vi, ai)),
                "video (F, C, H, W)": None if v is None else (v.shape[2], v.shape[1], v.shape[3], v.shape[4]),
                "audio (C, T)": None if a is None else tuple(a.shape[1:]),
                "contents": block_contents(module),
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
    """Boolean mask of the inputs that the output element ``index`` of ``fn(x)`` depends on.

    Taught in: notebooks/05_rs_mma.ipynb
    """
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
    return {key: probs.unflatten(-2, (f, probs.shape[2] // f)).mean(-2).mean((0, 1))  # (F, F)
            for key, probs in _segment_attention(block, video, audio, shift).items()}


def _segment_attention(block: RSMMA, video: torch.Tensor, audio: torch.Tensor, shift: int) -> dict[str, torch.Tensor]:
    """Per direction, each query token's attention (explicit masked softmax) summed over the tokens of each key
    segment: ``(B, heads, F * Lq, F)``, rows summing to 1, zero outside the window."""
    f = video.shape[2]
    (qv, kv, _), (qa, ka, _) = block.qkv(video, audio)
    out = {}
    for key, q, k in (("video->audio", qv, ka), ("audio->video", qa, kv)):
        lq, lk = q.shape[2] // f, k.shape[2] // f
        logits = q @ k.transpose(-1, -2) / q.shape[-1] ** 0.5
        mask = token_mask(f, block.window, shift, lq, lk, device=q.device)
        out[key] = logits.masked_fill(~mask, float("-inf")).softmax(-1).unflatten(-1, (f, lk)).sum(-1)
    return out


def _window_shares(block: RSMMA, video: torch.Tensor, audio: torch.Tensor, shift: int) -> dict[str, torch.Tensor]:
    """Per direction, each query token's attention summed over the tokens of each key segment inside its window:
    ``(B, heads, F * Lq, S)``, rows summing to 1 (not averaged, unlike :func:`rsmma_frame_attention`)."""
    f, s = video.shape[2], block.window
    out = {}
    for key, probs in _segment_attention(block, video, audio, shift).items():  # (B, h, F*Lq, F)
        frame_of_query = torch.arange(f, device=probs.device).repeat_interleave(probs.shape[2] // f)
        window = (frame_of_query[:, None] + shift + torch.arange(s, device=probs.device)) % f  # (F*Lq, S): key segments
        out[key] = probs.gather(-1, window.expand(*probs.shape[:2], -1, -1))
    return out


@torch.no_grad()
def rsmma_window_entropy(block: RSMMA, video: torch.Tensor, audio: torch.Tensor, shift: int) -> dict[str, float]:
    """How concentrated one RS-MMA block's attention is on particular key segments of its window.

    For every clip, head and query token: the entropy of its attention mass over the S key segments of its window,
    divided by log S (1: spread evenly over the window, 0: all on one segment), then averaged.  Unlike the
    averaged maps of :func:`rsmma_frame_attention`, whose mean over tokens and heads would hide queries that each
    pick a different segment, this is per query.  A block with S = 1 has nothing to choose: ``nan``.

    Taught in: notebooks/05_rs_mma.ipynb
    """
    if block.window == 1:
        return {"video->audio": float("nan"), "audio->video": float("nan")}
    out = {}
    for key, p in _window_shares(block, video, audio, shift).items():
        p = p.clamp_min(1e-30)
        out[key] = (-(p * p.log()).sum(-1) / math.log(block.window)).mean().item()
    return out


def rsmma_inputs(model: nn.Module, pair: dict, t: torch.Tensor) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    """The (video, audio) features each RS-MMA block of ``model`` receives in one forward pass on ``pair`` at ``t``,
    by block name (forward hooks: functions a module calls after each forward, here to keep its inputs).

    Taught in: notebooks/05_rs_mma.ipynb
    """
    from .unet import rsmma_modules

    captured, hooks = {}, []
    for name, block in rsmma_modules(model):
        hooks.append(block.register_forward_hook(lambda mod, inp, out, name=name: captured.update({name: (inp[0], inp[1])})))
    try:
        with torch.no_grad():
            model(pair, t)
    finally:
        for h in hooks:
            h.remove()
    return captured


@torch.no_grad()
def rsmma_swap_probe(block: RSMMA, video: torch.Tensor, audio: torch.Tensor, swap: tuple[int, int],
                     seed: int = 0, atol: float = 1e-9) -> dict[str, torch.Tensor]:
    """Which query segments of each clip an RS-MMA call lets a change of two key segments reach.

    Per direction, the key modality's segments ``swap = (a, b)`` are exchanged (video frames for
    ``"audio->video"``, audio segments for ``"video->audio"``) in every clip, the block is called
    again with the same shift (one generator seeded with ``seed`` per call), and the query modality's
    output is compared segment by segment. Swapping keeps the GroupNorm statistics, which RS-MMA
    takes over the whole clip, so only attention can carry the change. Returns bool ``(B, F)`` per
    direction (true: that segment's output changed by more than ``atol``; use float64 block and inputs
    so that unreached segments differ by rounding only) and the ``"shift"`` R that was used.

    Taught in: notebooks/05_rs_mma.ipynb
    """
    f = video.shape[2]
    order = list(range(f))
    order[swap[0]], order[swap[1]] = order[swap[1]], order[swap[0]]
    order = torch.tensor(order, device=video.device)

    def call(v, a):
        return block(v, a, torch.Generator(device=video.device).manual_seed(seed))

    v0, a0 = call(video, audio)
    shift = block.last_shift
    swapped_audio = audio.unflatten(-1, (f, -1)).index_select(2, order).flatten(2)
    v1, _ = call(video, swapped_audio)
    _, a1 = call(video.index_select(2, order), audio)
    video_change = (v1 - v0).abs().amax(dim=(1, 3, 4))  # (B, F): per frame
    audio_change = (a1 - a0).abs().unflatten(-1, (f, -1)).amax(dim=(1, 3))  # (B, F): per segment
    return {"video->audio": video_change > atol, "audio->video": audio_change > atol, "shift": shift}
