"""Training the benchmark feature networks (``mmdiff-lite train-features``): both encoders of
:mod:`mmdiff_lite.metrics.features.bench` learn the synthetic benchmark's ground truth, frame by frame.

Targets of clip i (drawn fresh, never a training clip of a diffusion model: its own seed stream):

* video: which colours are present (binary cross-entropy), each present ball's centre divided by the frame
  size (squared error), and the wall-impact frames (binary cross-entropy);
* audio: the tone-onset frames and the onset's pitch class (binary cross-entropy).

Half of the training clips get a faint Gaussian hiss (σ uniform in 0…``NOISE_MAX`` on [-1, 1], video and audio
each): a trained generator leaves a noise floor of about that size (σ ≈ 0.01–0.03 measured on the shipped ``tiny``),
and features that jump at a hiss nobody hears would measure the hiss instead of the content. Stronger noise is
still outside what the encoders saw, so the noise corruption of the checks starts at σ = 0.1.

Nothing here reads a diffusion model. Held-out accuracy (impact and onset frames, pitch class) is measured
at the end and kept in the file's header; then the features' standardisation is fixed on 2,048 real clips.

Taught in: notebooks/09_evaluation.ipynb
"""
from __future__ import annotations

import json
import time

import numpy as np
import torch
import torch.nn.functional as F
from safetensors.torch import save_file

from ..data import SyntheticClips, clip_preset
from ..metrics.features.bench import BenchFeatures
from ..utils import atomic_path, derive_seed, tqdm

__all__ = ["NOISE_MAX", "augment", "feature_targets", "train_bench_features", "feature_accuracy", "calibrate_bench_features"]


def feature_targets(clips: list[dict], cfg) -> dict:
    """The per-frame ground truth of :func:`mmdiff_lite.data.synthetic_clip` results, stacked as tensors."""
    f, k = cfg.num_frames, len(cfg.colours)
    present = np.zeros((len(clips), f, k), np.float32)
    position = np.zeros((len(clips), f, k, 2), np.float32)
    impact = np.zeros((len(clips), f), np.float32)
    pitch = np.zeros((len(clips), f, len(cfg.pitches)), np.float32)
    scale = np.array([cfg.height, cfg.width], np.float32)
    for i, c in enumerate(clips):
        for ball, colour in enumerate(c["ball_colours"]):
            present[i, :, colour] = 1.0
            position[i, :, colour] = c["positions"][ball] / scale
        for frame, ball in zip(c["impact_frames"], c["impact_balls"]):
            impact[i, frame] = 1.0
            pitch[i, frame, c["ball_colours"][ball]] = 1.0
    return {k_: torch.from_numpy(v) for k_, v in
            (("present", present), ("position", position), ("impact", impact), ("pitch", pitch))}


#: The largest hiss (standard deviation on [-1, 1]) of the training clips' noise augmentation.
NOISE_MAX = 0.05


def augment(pair: dict, generator: torch.Generator, noise_max: float = NOISE_MAX) -> dict:
    """Half of the clips with Gaussian noise of a random σ in [0, noise_max], video and audio drawn apart; clamped."""
    out = {}
    for k, x in pair.items():
        b = x.shape[0]
        sigma = torch.rand(b, generator=generator) * noise_max * (torch.rand(b, generator=generator) < 0.5)
        noise = torch.randn(x.shape, generator=generator) * sigma.view(b, *([1] * (x.dim() - 1)))
        out[k] = (x + noise).clamp(-1, 1)
    return out


def _batch(data: SyntheticClips, ids) -> tuple[dict, dict]:
    clips = [data.truth(i) for i in ids]
    pair = {"video": torch.stack([c["video"] for c in clips]), "audio": torch.stack([c["audio"] for c in clips])}
    return pair, feature_targets(clips, data.config)


def _loss(net: BenchFeatures, pair: dict, target: dict) -> torch.Tensor:
    ov, oa = net.video(pair["video"]), net.audio(pair["audio"])
    bce = F.binary_cross_entropy_with_logits
    mask = target["present"][..., None]
    pos = ((ov["position"] - target["position"]) ** 2 * mask).sum() / mask.sum().clamp_min(1.0)
    return (bce(ov["present"], target["present"]) + 10.0 * pos + bce(ov["impact"], target["impact"])
            + bce(oa["onset"], target["impact"]) + bce(oa["pitch"], target["pitch"]))


@torch.no_grad()
def feature_accuracy(net: BenchFeatures, pair: dict, target: dict) -> dict:
    """Held-out frame accuracy: ``impact`` and ``onset`` (share of frames classified right at 0.5),
    ``pitch`` (share of true onsets whose pitch class is the arg-max) and ``position_px`` (mean centre error)."""
    ov, oa = net.video(pair["video"]), net.audio(pair["audio"])
    on = target["impact"] > 0
    cfg = net.config
    err = (ov["position"] - target["position"]).abs() * torch.tensor([cfg.height, cfg.width], dtype=torch.float32)
    mask = target["present"][..., None].expand_as(err) > 0
    return {"impact": float(((ov["impact"] > 0) == on).float().mean()),
            "onset": float(((oa["onset"] > 0) == on).float().mean()),
            "pitch": float((oa["pitch"].argmax(-1)[on] == target["pitch"].argmax(-1)[on]).float().mean()),
            "position_px": float(err[mask].mean())}


def calibrate_bench_features(net: BenchFeatures, seed: int = 0, n: int = 2048) -> None:
    """Fix the features' standardisation on ``n`` real clips of their own seed stream."""
    clips = SyntheticClips(net.config, seed=derive_seed(seed, "feature-scale") % 2**31, length=n)
    net.calibrate(clips.batch(range(n)))


def train_bench_features(preset: str = "tiny", steps: int = 1500, batch_size: int = 32, lr: float = 2e-3,
                         seed: int = 0, out: str | None = None, progress: bool = True, command: str = "") -> BenchFeatures:
    """Train both encoders of ``preset`` for ``steps`` Adam steps (cosine-decayed ``lr``) and, with ``out``,
    save them (safetensors, atomically) with their recipe and held-out accuracy in the header."""
    cfg = clip_preset(preset)
    torch.manual_seed(derive_seed(seed, "feature-init") % 2**31)
    net = BenchFeatures(cfg)
    data = SyntheticClips(cfg, seed=derive_seed(seed, "feature-clips") % 2**31, length=2**62)
    held = SyntheticClips(cfg, seed=derive_seed(seed, "feature-held-out") % 2**31, length=512)
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    start = time.perf_counter()
    bar = tqdm(range(steps), desc=f"feature networks ({cfg.name})", disable=not progress)
    for step in bar:
        pair, target = _batch(data, range(step * batch_size, (step + 1) * batch_size))
        pair = augment(pair, torch.Generator().manual_seed(derive_seed(seed, "feature-noise", step) % 2**63))
        loss = _loss(net, pair, target)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        if step % 50 == 0:
            bar.set_postfix(loss=f"{loss.item():.3f}")
    net.eval()
    accuracy = feature_accuracy(net, *_batch(held, range(512)))
    calibrate_bench_features(net, seed)
    net.meta = {"preset": cfg.name, "steps": steps, "batch_size": batch_size, "lr": lr, "seed": seed,
                "seconds": round(time.perf_counter() - start, 1), "held_out_accuracy": accuracy, "command": command}
    if out:
        with atomic_path(out) as tmp:
            save_file({k: v.contiguous() for k, v in net.state_dict().items()}, str(tmp),
                      metadata={"meta": json.dumps(net.meta)})
    return net
