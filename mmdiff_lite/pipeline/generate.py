"""Generate audio-video pairs with a coupled U-Net and any sampler of the kit.

Taught in: notebooks/07_joint_sampling.ipynb.
"""
from __future__ import annotations

import contextlib
from typing import Callable

import torch

from ..diffusion import Conditioning, Schedule, eps_from_v, initial_noise, linear_schedule, sample, zero_shot_transforms
from ..utils import derive_seed, make_generator, tqdm

__all__ = ["model_fn_of", "generate", "MODALITIES"]

MODALITIES = ("video", "audio")


def model_fn_of(model: torch.nn.Module, shift_generator: torch.Generator | None = None,
                autocast: bool | None = None, schedule: Schedule | None = None,
                condition: dict | None = None) -> Callable:
    """Wrap a network of the kit as a ``model_fn(x, t) -> eps`` for :func:`mmdiff_lite.sample`.

    ``condition``: inputs the network is given at every call besides ``x_t`` (the upsampler's ``low`` frames).

    RS-MMA shifts are drawn from ``shift_generator`` (reproducible sampling); on CUDA the network runs
    under autocast (bf16 where supported) unless ``autocast=False``. A v-predicting network
    (``model.config.prediction == "v"``) is converted to noise with :func:`mmdiff_lite.eps_from_v`
    under ``schedule`` (default: the linear schedule).
    Taught in: notebooks/07_joint_sampling.ipynb.
    """
    v_pred = getattr(model.config, "prediction", "eps") == "v"
    schedule = schedule or linear_schedule()
    device = next(model.parameters()).device
    use_amp = device.type == "cuda" if autocast is None else autocast
    dtype = torch.bfloat16 if device.type == "cuda" and torch.cuda.is_bf16_supported() else torch.float16

    def fn(x: dict, t: torch.Tensor) -> dict:
        ctx = torch.autocast(device.type, dtype=dtype) if use_amp else contextlib.nullcontext()
        with ctx:
            out = model(x, t, shift_generator=shift_generator, **(condition or {}))
        out = {k: v.float() for k, v in out.items()}
        return eps_from_v(x, out, t.double().cpu(), schedule) if v_pred else out  # eps = sqrt(ab) v + sqrt(1-ab) x_t

    return fn


@torch.no_grad()
def generate(model: torch.nn.Module, n: int, *, method: str = "dpm_solver", steps: int = 20, seed: int = 0,
             schedule: Schedule | None = None, batch_size: int = 16, progress: bool = True,
             given: dict | None = None, conditioning: Conditioning | None = None, **options) -> dict:
    """``n`` pairs ``{"video": (n, F, C, H, W), "audio": (n, C, T)}`` in [-1, 1], on the CPU.

    Batch ``b`` starts from noise drawn with seed ``(seed, b)``, so a seed fixes the pairs for a given
    ``batch_size``.  ``options`` go to the sampler (e.g. ``order=3`` for DPM-Solver).  ``given`` maps one
    modality to ``n`` clean clips to condition on (zero-shot, paper section 3.4): by ``conditioning``
    (:class:`mmdiff_lite.Conditioning`; default: replacement with the fixed initial noise, as the authors).
    Taught in: notebooks/00_quickstart.ipynb, notebooks/07_joint_sampling.ipynb,
    notebooks/08_zero_shot_conditioning.ipynb.
    """
    if n < 1:
        raise ValueError("n must be at least 1")
    schedule = schedule or linear_schedule()
    device = next(model.parameters()).device
    cfg = model.config
    if given:
        _check_given(given, n, cfg)
    if conditioning is not None and not given:
        raise ValueError("conditioning needs `given`: the clips of the modality to condition on")
    was_training = model.training
    model.eval()
    try:
        return _generate(model, n, method, steps, seed, schedule, batch_size, progress, given,
                         conditioning or Conditioning(method="replace"), options, device, cfg)
    finally:
        model.train(was_training)


def _check_given(given: dict, n: int, cfg) -> None:
    if len(given) != 1 or next(iter(given)) not in MODALITIES:
        raise ValueError(f"given must map exactly one of {', '.join(MODALITIES)} to its clips, got {sorted(given)}")
    key, clips = next(iter(given.items()))
    want = (n, *(cfg.video_shape if key == "video" else cfg.audio_shape))
    if tuple(clips.shape) != want:
        raise ValueError(f"given {key} has shape {tuple(clips.shape)}; this model needs {want} for n = {n} "
                         "(one given clip per generated pair)")


def _generate(model, n, method, steps, seed, schedule, batch_size, progress, given, conditioning, options,
              device, cfg) -> dict:
    out = {"video": [], "audio": []}
    batches = range(0, n, batch_size)
    for b, start in enumerate(tqdm(batches, desc=f"{method} x{steps}", disable=not progress, leave=False)):
        m = min(batch_size, n - start)
        gen = make_generator(derive_seed(seed, "noise", b), device)
        shapes = {"video": (m, *cfg.video_shape), "audio": (m, *cfg.audio_shape)}
        fn = model_fn_of(model, shift_generator=make_generator(derive_seed(seed, "shift", b), device), schedule=schedule)
        x_T = initial_noise(shapes, gen, device)
        transforms = []
        if given:
            part = {k: v[start:start + m].to(device).float() for k, v in given.items()}
            target = next(k for k in MODALITIES if k not in part)
            transforms = zero_shot_transforms(
                part, target, conditioning, fixed_noise={k: x_T[k].clone() for k in part},  # the authors' fixed noise
                generator=make_generator(derive_seed(seed, "replacement", b), device),
                loss_scale=1024.0 if device.type == "cuda" else 1.0)  # fp16 autocast on CUDA: unscaled afterwards
        x = sample(fn, shapes, schedule=schedule, method=method, steps=steps, generator=gen, x_T=x_T,
                   transforms=transforms, **options)
        for k in out:
            out[k].append(x[k].clamp(-1, 1).float().cpu())
    return {k: torch.cat(v) for k, v in out.items()}
