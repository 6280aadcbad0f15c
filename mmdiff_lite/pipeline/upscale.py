"""The cascade's second stage: upscale generated (or real) pairs frame by frame with the super-resolution model,
keeping their sound.

:func:`upscale` samples the per-frame upsampler (:class:`mmdiff_lite.model.SuperResUNet`) for every frame of a clip
at once, with the authors' choices: DDIM with 25 steps, and **the same initial noise for all frames of a clip**
(``shared_noise=True``). DDIM with η = 0 is deterministic given x_T, so frames that look alike start alike and end
alike; independent noise per frame (``shared_noise=False``) lets each frame's invented details differ, which shows
as flicker (:func:`mmdiff_lite.metrics.upscaling.flicker_excess` measures it).

Taught in: notebooks/11_super_resolution.ipynb
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from ..data import clip_preset, read_mp4
from ..diffusion import Schedule, linear_schedule, sample
from ..model.sr import downsample_frames
from ..utils import derive_seed, make_generator, tqdm
from .generate import model_fn_of

__all__ = ["upscale", "upscale_pairs", "read_low_pairs"]


@torch.no_grad()
def upscale(model: torch.nn.Module, low: torch.Tensor, *, method: str = "ddim", steps: int = 25, seed: int = 0,
            shared_noise: bool = True, schedule: Schedule | None = None, batch_size: int = 4,
            progress: bool = False, **options) -> torch.Tensor:
    """Frames ``low`` ``(B, F, C, h, w)`` in [-1, 1] upscaled to the model's ``(B, F, C, H, W)``, on the CPU.

    Clip batch ``b`` starts from noise of seed ``(seed, b)``: one ``(C, H, W)`` draw repeated over the clip's frames
    when ``shared_noise`` (the authors), else one per frame. ``options`` go to the sampler."""
    cfg = model.config
    if low.dim() != 5 or tuple(low.shape[2:]) != (cfg.frame_shape[0], *cfg.low_size):
        raise ValueError(f"low frames of shape {tuple(low.shape)} do not fit {cfg.name}, which takes "
                         f"(B, F, {cfg.frame_shape[0]}, {cfg.low_size[0]}, {cfg.low_size[1]}) and gives "
                         f"{cfg.frame_shape[1]}x{cfg.frame_shape[2]}")
    if not torch.isfinite(low).all():
        raise ValueError("the low-resolution frames hold NaN or infinite values: nothing to upscale")
    schedule = schedule or linear_schedule()
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    out = []
    try:
        for b, start in enumerate(tqdm(range(0, len(low), batch_size), desc=f"upscale {method} x{steps}",
                                       disable=not progress, leave=False)):
            part = low[start:start + batch_size].to(device).float()
            m, f = part.shape[:2]
            gen = make_generator(derive_seed(seed, "upscale", b), device)
            if shared_noise:
                x_T = torch.randn((m, 1, *cfg.frame_shape), generator=gen, device=device).expand(m, f, *cfg.frame_shape)
            else:
                x_T = torch.randn((m, f, *cfg.frame_shape), generator=gen, device=device)
            fn = model_fn_of(model, schedule=schedule, condition={"low": part})
            x = sample(fn, {"video": tuple(x_T.shape)}, schedule=schedule, method=method, steps=steps, generator=gen,
                       x_T={"video": x_T.contiguous()}, **options)
            out.append(x["video"].clamp(-1, 1).float().cpu())
    finally:
        model.train(was_training)
    return torch.cat(out)


def upscale_pairs(model: torch.nn.Module, pairs: dict, **kwargs) -> dict:
    """``{"video": upscaled, "audio": the same audio}`` for pairs at the model's low resolution."""
    return {"video": upscale(model, pairs["video"], **kwargs), "audio": pairs["audio"]}


def read_low_pairs(source: str | Path, model: torch.nn.Module) -> dict:
    """Pairs to upscale: a ``pairs.npz`` (``video``, ``audio``), a folder holding one (``mmdiff-lite sample``'s
    output), or a folder of mp4s (frames shown larger are area-averaged back to the model's input size, sound
    resampled to the low-resolution clip preset's rate)."""
    source = Path(source)
    npz = source if source.suffix == ".npz" else source / "pairs.npz"
    cfg = model.config
    if npz.is_file():
        with np.load(npz) as z:
            if "video" not in z or "audio" not in z:
                raise ValueError(f"{npz} has no 'video' and 'audio' arrays: give mmdiff-lite sample's pairs.npz")
            return {"video": torch.from_numpy(z["video"]).float(), "audio": torch.from_numpy(z["audio"]).float()}
    files = sorted(source.glob("*.mp4")) if source.is_dir() else []
    if not files:
        raise FileNotFoundError(f"{source} is neither a pairs.npz nor a folder with pairs.npz or *.mp4 clips")
    low_clip = clip_preset(cfg.clip).with_(height=cfg.low_size[0], width=cfg.low_size[1])
    videos, audios = [], []
    for f in files:
        clip = read_mp4(f, sample_rate=low_clip.sample_rate, num_frames=cfg.num_frames)
        v = clip["video"]
        h, w = v.shape[-2:]
        if h % cfg.low_size[0] or w % cfg.low_size[1]:
            raise ValueError(f"{f.name} has {h}x{w} frames, not a multiple of the model's input {cfg.low_size}")
        videos.append(downsample_frames(v, cfg.low_size))
        a = clip["audio"][:, :low_clip.audio_samples]
        audios.append(torch.nn.functional.pad(a, (0, low_clip.audio_samples - a.shape[-1])))
    return {"video": torch.stack(videos), "audio": torch.stack(audios)}
