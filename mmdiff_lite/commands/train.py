"""``mmdiff-lite train``: train a coupled U-Net on the synthetic benchmark or prepared clips.

Writes to --out: last.safetensors (the whole training state; --resume continues exactly from it),
ema.safetensors (the EMA weights, what you sample with), log.jsonl and config.json; with
--snapshot-every N also ema-step<N>.safetensors (the EMA weights at every N-th step).
A folder that already holds a run is refused unless you pass --resume (continue it exactly) or --overwrite
(delete it and start again); --resume on a folder with no run is an error.  One training at a time may write
to a folder (a lock), and a run killed at any moment resumes to the same weights, snapshots and log.  A NaN or
infinite loss or gradient norm stops the run at that step and keeps the last good checkpoint.
Under torchrun the same command trains with DistributedDataParallel (nccl on GPU, gloo on CPU):
    torchrun --nproc_per_node 2 -m mmdiff_lite train --preset tiny --steps 1000 --out runs/ddp
"""
from __future__ import annotations

import argparse

from ..diffusion.schedules import SCHEDULES
from ..fields import at_least
from .options import parse_overrides


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train", help="train a model (resumable; DDP under torchrun)", description=__doc__,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--preset", default="tiny", help="training recipe and model preset: tiny, small, ref-small, paper, or the upsampler sr-tiny, sr-paper (default: tiny)")
    p.add_argument("--steps", type=at_least(1), help="train until this many optimizer steps")
    p.add_argument("--batch-size", type=at_least(1), help="global batch size (all processes and accumulation)")
    p.add_argument("--accumulation", type=at_least(1), help="gradient accumulation steps")
    p.add_argument("--lr", type=float, help="peak learning rate")
    p.add_argument("--warmup-steps", type=at_least(0), help="linear learning-rate warm-up")
    p.add_argument("--lr-decay-steps", type=at_least(0),
                   help="cosine decay of the learning rate to --lr-final times its peak by this step (0: constant)")
    p.add_argument("--lr-final", type=float, help="the fraction of the peak learning rate left after the decay")
    p.add_argument("--ema-decay", type=float, help="EMA decay")
    p.add_argument("--ema-warmup", type=float, help="the EMA decay ramps as min(ema_decay, (1 + n) / (ema_warmup + n)); "
                   "larger: a shorter lag early in a run, 1: no ramp")
    p.add_argument("--loss-weighting", choices=["none", "min_snr"], help="lambda(t) of the loss")
    p.add_argument("--min-snr-gamma", type=float, help="gamma of the min-SNR weighting")
    p.add_argument("--schedule", choices=list(SCHEDULES), help="noise schedule of the forward process")
    p.add_argument("--seed", type=at_least(0), help="run seed (default: 0)")
    p.add_argument("--data-dir", help="prepared real clips (data_scripts/prepare_clips.py) instead of synthetic ones")
    p.add_argument("--flip-prob", type=float, help="horizontal-flip probability for real clips")
    p.add_argument("--amp", choices=["auto", "off", "bf16", "fp16"], help="mixed precision on CUDA (default: auto)")
    p.add_argument("--no-cross-attention", action="store_true", help="train the ablation baseline: two U-Nets sharing only t")
    p.add_argument("--model", action="append", default=[], metavar="KEY=VALUE",
                   help="a model option, e.g. --model channels=32 (JSON values; repeatable)")
    p.add_argument("--log-every", type=at_least(1))
    p.add_argument("--ckpt-every", type=at_least(1))
    p.add_argument("--preview-every", type=at_least(0),
                   help="every N steps write preview pairs of the EMA weights (mp4 with sound, contact sheet, scores) "
                        "to OUT/previews/step<N>/ (default: 0, never)")
    p.add_argument("--preview-n", type=at_least(1), help="pairs per preview (default: 4)")
    p.add_argument("--snapshot-every", type=at_least(0),
                   help="keep the EMA weights of every N-th step as ema-step<N>.safetensors (default: 0, none)")
    p.add_argument("--out", required=True, help="run folder")
    p.add_argument("--resume", action="store_true", help="continue the run in --out exactly where it stopped")
    p.add_argument("--overwrite", action="store_true", help="delete the run already in --out and start a new one")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from mmdiff_lite.model import model_config
    from mmdiff_lite.pipeline import write_preview
    from mmdiff_lite.train import train, train_config

    overrides = parse_overrides(args.model)
    if args.no_cross_attention:
        overrides["cross_attention"] = False
    given = dict(steps=args.steps, batch_size=args.batch_size, accumulation=args.accumulation, lr=args.lr,
                 warmup_steps=args.warmup_steps, lr_decay_steps=args.lr_decay_steps, lr_final=args.lr_final,
                 ema_decay=args.ema_decay, ema_warmup=args.ema_warmup, loss_weighting=args.loss_weighting,
                 min_snr_gamma=args.min_snr_gamma, schedule=args.schedule,
                 seed=args.seed, data_dir=args.data_dir, flip_prob=args.flip_prob, amp=args.amp,
                 log_every=args.log_every, ckpt_every=args.ckpt_every, preview_every=args.preview_every,
                 preview_n=args.preview_n, snapshot_every=args.snapshot_every, model_overrides=overrides or None)
    # an option left off the command line (None here) keeps the preset's value
    cfg = train_config(args.preset, **{k: v for k, v in given.items() if v is not None})
    model_config(cfg.preset, **cfg.model_overrides)  # fail fast, one line, on unknown model options
    summary = train(cfg, args.out, resume=args.resume, progress=not args.no_progress, preview=write_preview,
                    overwrite=args.overwrite)
    print(f"trained to step {summary['step']} in {summary['wall_seconds']:.0f} s; weights: {args.out}/ema.safetensors")
    return 0
