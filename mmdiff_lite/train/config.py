"""Training configuration: one dataclass, named presets.

The ``tiny`` recipe departs from the authors' (lr 1e-4, linear schedule, unweighted loss, EMA 0.9999) because a
small network on a CPU must learn in minutes, not days: a higher learning rate with warm-up and a cosine decay, the
cosine noise schedule, min-SNR loss weighting with gamma 1 (a choice of the paper's lambda(t), Eq. 3) and a faster
EMA, each chosen by ``mmdiff-lite bench time-to-sync`` (README, "Time to sync").  ``paper`` is the authors'.

Taught in: notebooks/06_training.ipynb.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields, replace

from ..fields import check_fields

__all__ = ["TrainConfig", "TRAIN_PRESETS", "train_config", "RESUMABLE_CHANGES", "recipe_changes"]


def _typed_model_overrides(overrides: dict, preset: str) -> dict:
    """Model options typed as the preset's config class declares them (:class:`mmdiff_lite.model.UNetConfig`, or
    ``SRConfig`` for the upsampler; so a run's config.json records ``false``, not ``"False"``); unknown names are
    refused."""
    import typing

    from ..fields import coerce
    from ..model.config import MODEL_PRESETS, UNetConfig

    kind = type(MODEL_PRESETS[preset]) if preset in MODEL_PRESETS else UNetConfig
    hints = {k: v for k, v in typing.get_type_hints(kind).items() if k != "kind"}
    unknown = sorted(set(overrides) - set(hints))
    if unknown:
        raise ValueError(f"unknown model option(s) {', '.join(unknown)}: see mmdiff_lite.model.{kind.__name__}")
    return {k: coerce(v, hints[k], k) for k, v in overrides.items()}


@dataclass(frozen=True)
class TrainConfig:
    preset: str = "tiny"  # model preset (mmdiff_lite.model)
    data_preset: str | None = None  # clip preset of the synthetic benchmark; default: the one the model preset names
    data_dir: str | None = None  # prepared real clips (ClipDataset) instead of the synthetic benchmark
    steps: int = 1000
    batch_size: int = 16  # global batch: over all processes and accumulation steps
    accumulation: int = 1
    lr: float = 1e-4
    warmup_steps: int = 0
    lr_decay_steps: int = 0  # cosine decay of lr to lr_final * lr by this absolute step, then constant (0: no decay)
    lr_final: float = 0.1  # the fraction of lr left after the decay
    weight_decay: float = 0.0
    ema_decay: float = 0.9999
    ema_warmup: float = 10.0  # the EMA decay ramps as min(ema_decay, (1 + n) / (ema_warmup + n)); 1: no ramp
    grad_clip: float | None = 1.0
    seed: int = 0
    schedule: str = "linear"
    loss_weighting: str = "none"  # "none" (the authors) or "min_snr"
    min_snr_gamma: float = 5.0
    audio_weight: float = 1.0
    flip_prob: float = 0.0  # horizontal flips of real clips
    amp: str = "auto"  # auto (bf16/fp16 on CUDA, off on CPU) | off | bf16 | fp16
    compile: bool = False  # torch.compile the network: faster steps after a one-off compilation (bench train measures it)
    log_every: int = 10
    ckpt_every: int = 250
    preview_every: int = 0
    preview_n: int = 4
    snapshot_every: int = 0  # keep the EMA weights of every N-th step as ema-step<N>.safetensors (0: none)
    model_overrides: dict = field(default_factory=dict)

    def __post_init__(self):
        check_fields(self)  # typed: "False" is false, "inf" is no learning rate
        object.__setattr__(self, "model_overrides", _typed_model_overrides(self.model_overrides, self.preset))
        if not self.lr > 0 or self.warmup_steps < 0 or self.weight_decay < 0:
            raise ValueError(f"lr must be > 0 (got {self.lr}), warmup_steps >= 0 (got {self.warmup_steps}) and "
                             f"weight_decay >= 0 (got {self.weight_decay})")
        if not 0.0 <= self.ema_decay < 1.0 or (self.grad_clip is not None and not self.grad_clip > 0):
            raise ValueError("ema_decay must lie in [0, 1) and grad_clip be > 0 (or None: no clipping)")
        if not self.ema_warmup >= 1.0:
            raise ValueError(f"ema_warmup must be >= 1 (1: no ramp of the EMA decay; got {self.ema_warmup})")
        if self.lr_decay_steps < 0 or 0 < self.lr_decay_steps <= self.warmup_steps or not 0.0 <= self.lr_final <= 1.0:
            raise ValueError(f"lr_decay_steps must be 0 (constant lr) or past the warm-up's {self.warmup_steps} steps "
                             f"(got {self.lr_decay_steps}), and lr_final lie in [0, 1] (got {self.lr_final})")
        if self.log_every < 1 or self.ckpt_every < 1:
            raise ValueError(f"log_every and ckpt_every must be at least 1 (got {self.log_every}, {self.ckpt_every})")
        if not 0.0 <= self.flip_prob <= 1.0 or self.min_snr_gamma <= 0:
            raise ValueError("flip_prob must lie in [0, 1] and min_snr_gamma be > 0")
        if self.steps < 0 or self.batch_size < 1 or self.accumulation < 1:
            raise ValueError("steps must be >= 0, batch_size and accumulation >= 1")
        if self.snapshot_every < 0:
            raise ValueError("snapshot_every must be >= 0 (0: keep no EMA snapshots)")
        if self.preview_every < 0 or self.preview_n < 1:
            raise ValueError("preview_every must be >= 0 (0: no previews) and preview_n >= 1")
        if self.loss_weighting not in ("none", "min_snr"):
            raise ValueError("loss_weighting must be none or min_snr")
        if self.amp not in ("auto", "off", "bf16", "fp16"):
            raise ValueError("amp must be auto, off, bf16 or fp16")

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)


TRAIN_PRESETS: dict[str, TrainConfig] = {
    "tiny": TrainConfig(preset="tiny", batch_size=16, lr=2e-3, warmup_steps=100, lr_decay_steps=4000, lr_final=0.1,
                        ema_decay=0.999, schedule="cosine", loss_weighting="min_snr", min_snr_gamma=1.0, grad_clip=1.0),
    "paper": TrainConfig(preset="paper", batch_size=128, lr=1e-4, ema_decay=0.9999, grad_clip=None),
    # Not tuned: the tiny recipe's choices at the small GPU preset's width, and the authors' recipe at the shrunk
    # ref-small shapes (for speed comparisons with their code); each trains on its own clip preset's benchmark.
    "small": TrainConfig(preset="small", batch_size=32, lr=2e-4, warmup_steps=500, ema_decay=0.9999,
                         loss_weighting="min_snr", grad_clip=1.0),
    "ref-small": TrainConfig(preset="ref-small", batch_size=16, lr=1e-4, ema_decay=0.9999, grad_clip=None),
    # The super-resolution stage: a batch is 4 clips = 64 frames; tiny's recipe otherwise. sr-paper: the authors'
    # image_sr_train.sh (lr 1e-4; their batch 4-6 per GPU).
    "sr-tiny": TrainConfig(preset="sr-tiny", batch_size=4, lr=1e-3, warmup_steps=100, ema_decay=0.999,
                           loss_weighting="min_snr", grad_clip=1.0),
    "sr-paper": TrainConfig(preset="sr-paper", batch_size=8, lr=1e-4, ema_decay=0.9999, grad_clip=None),
}


#: The options a resumed run may change: they change no step's arithmetic.
RESUMABLE_CHANGES = frozenset({"steps", "log_every", "ckpt_every", "preview_every", "preview_n", "snapshot_every",
                               "compile"})


def recipe_changes(trained_with: dict, cfg: TrainConfig, ignore=RESUMABLE_CHANGES) -> dict:
    """The options in which a stored configuration (a checkpoint header's ``train_config``) differs from ``cfg``, as
    ``{name: stored value}``, leaving out ``ignore``. An option the stored configuration predates had its default
    then (the only behaviour the kit had), so it counts as that default.

    Taught in: notebooks/06_training.ipynb.
    """
    defaults, now = asdict(TrainConfig()), asdict(cfg)
    then = {k: trained_with.get(k, defaults[k]) for k in now}
    return {k: then[k] for k in now if k not in ignore and json.dumps(then[k]) != json.dumps(now[k])}


def train_config(preset: str = "tiny", **overrides) -> TrainConfig:
    """The training recipe called ``preset`` with ``overrides`` (TrainConfig fields).

    Taught in: notebooks/06_training.ipynb.
    """
    if preset not in TRAIN_PRESETS:
        raise ValueError(f"unknown training preset {preset!r}: use one of {', '.join(TRAIN_PRESETS)}")
    valid = {f.name for f in fields(TrainConfig)}
    unknown = sorted(set(overrides) - valid)
    if unknown:
        raise ValueError(f"unknown training option(s) {', '.join(unknown)}")
    nullable = {f.name for f in fields(TrainConfig) if "None" in str(f.type)}
    refused = sorted(k for k, v in overrides.items() if v is None and k not in nullable)
    if refused:
        raise ValueError(f"training option(s) {', '.join(refused)} cannot be None: leave them out to keep the "
                         f"preset's value (None is a value only for {', '.join(sorted(nullable))})")
    given = dict(overrides)  # None is honoured where it means something (grad_clip=None: no clipping)
    if "model_overrides" in given:
        given["model_overrides"] = {**TRAIN_PRESETS[preset].model_overrides, **given["model_overrides"]}
    return replace(TRAIN_PRESETS[preset], **given)
