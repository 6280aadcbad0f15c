"""The training loop: AdamW, EMA, clipping, accumulation, AMP on CUDA, DDP under torchrun, exact resume.

Taught in: notebooks/06_training.ipynb.
"""
from __future__ import annotations

import contextlib
import json
import math
import os
import time
from dataclasses import asdict
from pathlib import Path
from typing import Callable

import torch
import torch.distributed as dist

from ..diffusion import epsilon_loss, get_schedule, q_sample, v_target
from ..model import build_model
from ..utils import finite_or_none, tqdm, write_json
from .checkpoint import (load_training_state, preview_path, read_header, save_training_state, save_weights,
                         snapshot_path)
from .config import TrainConfig, recipe_changes
from .data import make_source
from .ema import EMA
from .randomness import derive_seed, draw_t_and_noise, step_generator
from .run_folder import RunFolder

__all__ = ["Trainer", "train", "TrainingDiverged"]


class TrainingDiverged(ValueError):
    """A non-finite loss or gradient norm: training stops at that step and nothing of it is saved."""

#: Options that may change when a run is resumed (everything else must match for an exact resume).


def min_snr_weight(snr: torch.Tensor, gamma: float, prediction: str = "eps") -> torch.Tensor:
    """Min-SNR-gamma weighting (Hang et al. 2023), a choice of lambda(t) in Eq. (3):
    lambda(t) = min(SNR, gamma) / SNR for the eps-loss, min(SNR, gamma) / (SNR + 1) for the v-loss.

    Both weight the *noise* error alike: ||v_hat - v||^2 = ||eps_hat - eps||^2 / alpha_bar and
    1 / alpha_bar = (SNR + 1) / SNR, so the two choices differ only in what the network outputs.
    """
    if prediction == "v":
        return torch.clamp(snr, max=gamma) / (snr + 1)  # min(SNR, gamma) / (SNR + 1)
    return torch.clamp(snr, max=gamma) / snr  # min(SNR, gamma) / SNR


class Trainer:
    """One training run writing to ``out``: ``last.safetensors``, ``ema.safetensors``, ``log.jsonl``
    (and ``ema-step<N>.safetensors`` every ``snapshot_every`` steps, ``previews/step<N>/`` every
    ``preview_every`` steps).

    ``resume``: False (a new run; a folder holding a run is refused unless ``overwrite``), True (continue the
    state in ``out``; none there is an error) or ``"auto"`` (continue if there is one).  See
    :mod:`mmdiff_lite.train.run_folder` for the lock and what a killed run leaves.  At every step the log line,
    the snapshot and the preview are written *before* the checkpoint, so a kill at any moment loses nothing a
    resumed run does not write again, bit for bit.  A non-finite loss or gradient norm stops the run with
    :class:`TrainingDiverged`, keeping the last good checkpoint."""

    def __init__(self, cfg: TrainConfig, out: str | os.PathLike, resume: bool | str = False, progress: bool = True,
                 preview: Callable[..., dict] | None = None, overwrite: bool = False):
        if cfg.preview_every and preview is None:
            raise ValueError("preview_every needs a preview writer: pass preview=mmdiff_lite.pipeline.write_preview "
                             "(the mmdiff-lite train command does)")
        self.cfg, self.out, self.progress, self.preview = cfg, Path(out), progress, preview
        self.folder = RunFolder(out)
        self.world = int(os.environ.get("WORLD_SIZE", "1"))
        self.rank = int(os.environ.get("RANK", "0"))
        if self.rank == 0:
            resuming = self.folder.decide(resume, overwrite)
        else:  # the other processes of a DDP run follow rank 0's decision
            resuming = bool(resume) and self.folder.state.is_file()
        if self.world > 1 and not dist.is_initialized():
            dist.init_process_group(backend="nccl" if torch.cuda.is_available() else "gloo")
        local = int(os.environ.get("LOCAL_RANK", "0"))
        self.device = torch.device(f"cuda:{local}" if torch.cuda.is_available() else "cpu")
        per_rank = cfg.batch_size / (self.world * cfg.accumulation)
        if per_rank != int(per_rank):
            raise ValueError(f"batch size {cfg.batch_size} must divide by processes x accumulation ({self.world} x {cfg.accumulation})")
        self.micro = int(per_rank)
        self.schedule = get_schedule(cfg.schedule)
        torch.manual_seed(derive_seed(cfg.seed, "init") % 2**63)
        self.model = build_model(cfg.preset, **cfg.model_overrides).to(self.device)
        mc = self.model.config
        self.data_preset = cfg.data_preset or mc.clip  # the model preset names its clip preset
        self.source = make_source(self.data_preset, cfg.data_dir, cfg.seed, cfg.flip_prob)
        misfit = {k: (self.source.shape(k), tuple(v)) for k, v in mc.input_shapes.items() if self.source.shape(k) != tuple(v)}
        if misfit:
            raise ValueError(f"the data's clips do not fit model preset {cfg.preset!r} ("
                             + "; ".join(f"{k}: data {a}, model {b}" for k, (a, b) in misfit.items())
                             + "); choose matching presets")
        self.ema = EMA(self.model, cfg.ema_decay, cfg.ema_warmup)
        self.opt = torch.optim.AdamW(self.model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
        self.net = self.model
        if self.world > 1:
            ids = [self.device.index] if self.device.type == "cuda" else None
            self.net = torch.nn.parallel.DistributedDataParallel(self.model, device_ids=ids)
        if cfg.compile:  # the same network and bits of state, run through torch.compile (compiled on the first steps)
            self.net = torch.compile(self.net)
        self.amp_dtype, self.scaler = self._amp()
        self.step, self.wall = 0, 0.0
        if resuming:
            self._resume()
        self._fingerprint = self._state_fingerprint()

    def _state_fingerprint(self):
        st = self.folder.state.stat() if self.folder.state.is_file() else None
        return (st.st_mtime_ns, st.st_size) if st else None

    # ---- set-up ------------------------------------------------------------------------------
    def _amp(self):
        mode = self.cfg.amp
        if self.device.type != "cuda" or mode == "off":
            return None, None
        if mode == "bf16" or (mode == "auto" and torch.cuda.is_bf16_supported()):
            return torch.bfloat16, None
        return torch.float16, torch.amp.GradScaler("cuda")

    def _meta(self) -> dict:
        return {"step": self.step, "wall_seconds": self.wall, "train_config": asdict(self.cfg),
                "model_config": self.model.config.to_dict(), "ema_updates": self.ema.updates,
                "schedule": self.cfg.schedule, "world_size": self.world, "data": {"next_sample": self.step * self.cfg.batch_size}}

    def _resume(self) -> None:
        path = self.out / "last.safetensors"
        old = read_header(path).get("train_config", {})
        changed = sorted(recipe_changes(old, self.cfg))
        if changed:
            raise ValueError(f"cannot resume {self.out}: options changed since it started ({', '.join(changed)}); "
                             "use the same options or a new --out")
        meta = load_training_state(path, model=self.model, ema=self.ema.model, optimizer=self.opt)
        self.step, self.wall, self.ema.updates = meta["step"], meta["wall_seconds"], meta["ema_updates"]

    def lr_at(self, step: int) -> float:
        """Linear warm-up to ``lr`` over ``warmup_steps``; then constant, or with ``lr_decay_steps`` a cosine decay
        to ``lr_final * lr`` at that absolute step and constant after it. The horizon is a step, not a fraction of
        ``steps``, so a run extended by resuming keeps the learning rates it already had."""
        c = self.cfg
        lr = c.lr * min(1.0, (step + 1) / c.warmup_steps) if c.warmup_steps else c.lr
        if c.lr_decay_steps:  # the config refuses a horizon inside the warm-up
            done = min(1.0, max(0.0, (step - c.warmup_steps) / (c.lr_decay_steps - c.warmup_steps)))
            lr *= c.lr_final + (1.0 - c.lr_final) * 0.5 * (1.0 + math.cos(math.pi * done))
        return lr

    # ---- one step ----------------------------------------------------------------------------
    def _micro_batch(self, step: int, m: int) -> tuple[dict, torch.Tensor, dict, dict]:
        """(x_0 of the modalities the model denoises, t, their noise, the conditions it is given) on the device.
        The model says which is which (``model.inputs``): the coupled U-Net denoises both halves of a clip, the
        upsampler its frames, given their low-resolution copies."""
        first = step * self.cfg.batch_size + (m * self.world + self.rank) * self.micro
        ids = range(first, first + self.micro)
        x0, cond = self.model.inputs(self.source.batch(ids))
        shapes = {k: v.shape[1:] for k, v in x0.items()}
        t, noise = draw_t_and_noise(self.cfg.seed, ids, shapes, self.schedule.T)
        pin = self.device.type == "cuda"
        move = lambda d: {k: (v.pin_memory() if pin else v).to(self.device, non_blocking=pin) for k, v in d.items()}
        return move(x0), t.to(self.device), move(noise), move(cond)

    def loss(self, x0: dict, t: torch.Tensor, noise: dict, shift_gen: torch.Generator | None,
             cond: dict | None = None) -> tuple[torch.Tensor, dict]:
        """The paper's Eq. (3) for a batch: noise with q(x_t | x_0), predict eps (or v), weighted MSE."""
        xt, _ = q_sample(x0, t.double().cpu(), self.schedule, noise=noise)
        ctx = torch.autocast(self.device.type, dtype=self.amp_dtype) if self.amp_dtype else contextlib.nullcontext()
        with ctx:
            pred = self.net(xt, t.float(), shift_generator=shift_gen, **(cond or {}))
        prediction = self.model.config.prediction
        target = v_target(x0, noise, t.double().cpu(), self.schedule) if prediction == "v" else noise
        lam = None
        if self.cfg.loss_weighting == "min_snr":
            lam = min_snr_weight(self.schedule.snr[t.cpu()], self.cfg.min_snr_gamma, prediction).float()
        per = epsilon_loss(pred, target, reduce=False)
        total = epsilon_loss(pred, target, t, weights={"audio": self.cfg.audio_weight}, lambda_t=lam)
        return total, {k: v.mean().item() for k, v in per.items()}

    def train_step(self) -> dict:
        cfg, step = self.cfg, self.step
        for g in self.opt.param_groups:
            g["lr"] = self.lr_at(step)
        self.opt.zero_grad(set_to_none=True)
        parts, total = {k: 0.0 for k in self.model.config.modalities}, 0.0
        for m in range(cfg.accumulation):
            x0, t, noise, cond = self._micro_batch(step, m)
            torch.manual_seed(derive_seed(cfg.seed, "dropout", step, self.rank, m) % 2**63)
            shift_gen = step_generator(cfg.seed, step, "shift", self.device)  # same on every process
            sync = self.world == 1 or m == cfg.accumulation - 1
            with contextlib.nullcontext() if sync else self.net.no_sync():
                loss, per = self.loss(x0, t, noise, shift_gen, cond)
                scaled = loss / cfg.accumulation
                (self.scaler.scale(scaled) if self.scaler else scaled).backward()
            total += loss.item() / cfg.accumulation
            for k in parts:
                parts[k] += per[k] / cfg.accumulation
        if self.scaler:
            self.scaler.unscale_(self.opt)
        gnorm = torch.nn.utils.clip_grad_norm_(self.model.parameters(), cfg.grad_clip or float("inf"))
        # fp16's gradient scaler skips steps with inf gradients on its own; a non-finite loss is divergence always
        if not math.isfinite(total) or (self.scaler is None and not math.isfinite(float(gnorm))):
            raise TrainingDiverged(self._diverged_text(step + 1, total, float(gnorm)))
        if self.scaler:
            self.scaler.step(self.opt)
            self.scaler.update()
        else:
            self.opt.step()
        self.ema.update(self.model)
        self.step += 1
        return {"step": self.step, "loss": total, **{f"loss_{k}": v for k, v in parts.items()},
                "grad_norm": float(gnorm), "lr": self.lr_at(step)}

    def _diverged_text(self, step: int, loss: float, gnorm: float) -> str:
        last = "no checkpoint was written yet"
        if self.folder.state.is_file():
            last = f"the last good checkpoint, {self.folder.state} (step {read_header(self.folder.state)['step']}), is kept"
        return (f"training diverged at step {step}: loss {loss:.4g}, gradient norm {gnorm:.4g}; nothing of this step "
                f"was saved and {last}. Lower the learning rate (now {self.cfg.lr:g}; --lr) or "
                "lengthen the warm-up, and start again (--overwrite, or a new --out)")

    # ---- the run -----------------------------------------------------------------------------
    def save(self) -> None:
        if self.rank != 0:
            return
        meta = self._meta()
        save_training_state(self.out / "last.safetensors", model=self.model, ema=self.ema.model, optimizer=self.opt, meta=meta)
        save_weights(self.out / "ema.safetensors", self.ema.model.state_dict(), meta)

    def save_snapshot(self) -> None:
        """Keep the EMA weights of this step (``ema-step<N>.safetensors``, the header of ``ema.safetensors``)."""
        if self.rank == 0:
            save_weights(snapshot_path(self.out, self.step), self.ema.model.state_dict(), self._meta())

    def _log(self, record: dict) -> None:
        """One strict-JSON line (non-finite numbers become null) appended to ``log.jsonl``."""
        if self.rank == 0:
            with open(self.out / "log.jsonl", "a") as f:
                f.write(json.dumps(finite_or_none(record), allow_nan=False) + "\n")

    def _preview(self) -> None:
        """``preview_n`` pairs of the EMA weights written to ``previews/step<N>/`` by the ``preview`` writer
        given to the trainer (a layer above it: generation and export); on the synthetic benchmark their
        scores also go to the log."""
        synthetic = self.cfg.data_dir is None
        preset = self.data_preset if synthetic else self.source.dataset.manifest["preset"]
        metrics = self.preview(self.ema.model, preview_path(self.out, self.step), n=self.cfg.preview_n, preset=preset,
                               schedule=self.schedule, score=synthetic, extra={"step": self.step})
        self._log({"step": self.step, "preview": metrics["scores"] or {}})

    def run(self) -> dict:
        """Train until ``cfg.steps``; checkpoints every ``ckpt_every`` steps and at the end, EMA snapshots
        every ``snapshot_every`` steps."""
        if self.rank != 0:
            return self._loop()
        with self.folder.locked():
            if self._state_fingerprint() != self._fingerprint:
                raise ValueError(f"{self.out} changed since this trainer was set up (another run wrote to it): "
                                 "set up the trainer again")
            self.folder.remove_temp_files()
            self.folder.cut_log(self.step)
            write_json(self.out / "config.json", {"train": asdict(self.cfg), "model": self.model.config.to_dict()})
            try:
                return self._loop()
            except TrainingDiverged as err:
                self._log({"step": self.step + 1, "diverged": str(err)})
                raise
            finally:
                self._fingerprint = self._state_fingerprint()

    def _loop(self) -> dict:
        cfg = self.cfg
        self.model.train()
        bar = tqdm(total=cfg.steps, initial=self.step, desc="train", disable=not self.progress or self.rank != 0)
        last = {}
        try:
            while self.step < cfg.steps:
                t0 = time.perf_counter()
                last = self.train_step()
                dt = time.perf_counter() - t0
                self.wall += dt
                last["clips_per_s"] = cfg.batch_size / dt
                bar.update(1)
                bar.set_postfix(loss=f"{last['loss']:.4f}", clips_s=f"{last['clips_per_s']:.1f}")
                # everything promised for this step first, the checkpoint last: a kill before the checkpoint
                # replays the step on resume and writes these again, identically
                if self.step % cfg.log_every == 0 or self.step == cfg.steps:
                    self._log({**last, "wall_seconds": self.wall})
                if cfg.snapshot_every and self.step % cfg.snapshot_every == 0:
                    self.save_snapshot()
                if cfg.preview_every and self.step % cfg.preview_every == 0 and self.rank == 0:
                    self._preview()
                if self.step % cfg.ckpt_every == 0 or self.step == cfg.steps:
                    self.save()
        finally:
            bar.close()
        if not self.folder.state.is_file():  # steps=0: a run still leaves a state to resume from
            self.save()
        return {"step": self.step, "wall_seconds": self.wall, **last}


def train(cfg: TrainConfig, out: str | os.PathLike, resume: bool | str = False, progress: bool = True,
          preview: Callable[..., dict] | None = None, overwrite: bool = False) -> dict:
    """Build a :class:`Trainer` and run it (see ``mmdiff-lite train --help``; ``resume`` and ``overwrite`` as
    in :class:`Trainer`)."""
    return Trainer(cfg, out, resume=resume, progress=progress, preview=preview, overwrite=overwrite).run()
