"""``mmdiff-lite sample``: generate audio-video pairs with a trained model.

Writes to --out: pair_XX.mp4 (video with its sound), contact_sheet.png, pairs.npz (arrays ``video``
(N, F, C, H, W) and ``audio`` (N, C, T)) and metrics.json (the synthetic benchmark's scores, their
shuffled-pair chance level and the time taken).  --checkpoint is a shipped name (tiny, tiny-nocross), a
run folder or a .safetensors file (write a local folder as a path, ./tiny, when a shipped name is the same).
--out must be new, empty or an earlier output of sample/demo (replaced whole, so no pair of an earlier run
stays), or pass --overwrite; it is checked before the sampling starts.
"""
from __future__ import annotations

import argparse

from ..diffusion import METHODS
from ..fields import at_least
from .options import parse_shift


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("sample", help="generate pairs (mp4 with sound, contact sheet, npz, scores)",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--checkpoint", default="tiny", help="shipped name, run folder or .safetensors (default: tiny)")
    p.add_argument("--n", type=at_least(1), default=8, help="number of pairs (default: 8)")
    p.add_argument("--method", choices=list(METHODS), default="dpm_solver", help="sampler (default: dpm_solver)")
    p.add_argument("--steps", type=at_least(1), default=20, help="sampler steps / NFE (default: 20)")
    p.add_argument("--order", type=int, choices=[1, 2, 3], help="DPM-Solver order (default: 3; DPM-Solver++: 2)")
    p.add_argument("--stochastic", action="store_true",
                   help="with --method dpm_solver++: its SDE form, fresh noise at every step (order 1 or 2)")
    p.add_argument("--seed", type=at_least(0), default=0, help="random seed (default: 0)")
    p.add_argument("--batch-size", type=at_least(1), default=16, help="pairs per batch (default: 16)")
    p.add_argument("--shift", default="trained",
                   help="RS-MMA shift at sampling time: trained (default: as the checkpoint was trained), "
                        "random (the authors), none (R = 0), or an integer")
    p.add_argument("--out", required=True, help="output folder (new, empty, or an earlier output: replaced whole)")
    p.add_argument("--overwrite", action="store_true", help="replace a non-empty --out that holds other files")
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from mmdiff_lite.pipeline import load_model, sample_to_folder, scores_line
    from mmdiff_lite.utils import default_device

    from mmdiff_lite.pipeline.export import check_pairs_folder

    if args.order is not None and args.method not in ("dpm_solver", "dpm_solver++"):
        raise ValueError(f"--order is an option of dpm_solver and dpm_solver++, not {args.method}")
    shift = parse_shift(args.shift)
    check_pairs_folder(args.out, args.overwrite)  # before loading and sampling, not after
    model, meta = load_model(args.checkpoint, device=default_device())
    options = {"order": args.order} if args.order else {}
    if args.stochastic:
        if args.method != "dpm_solver++":
            raise ValueError("--stochastic is an option of --method dpm_solver++ (use ddpm, or ddim's eta, otherwise)")
        options["stochastic"] = True
    metrics = sample_to_folder(model, meta, args.out, n=args.n, method=args.method, steps=args.steps, seed=args.seed,
                               batch_size=args.batch_size, shift=shift, progress=not args.no_progress,
                               extra={"checkpoint": str(args.checkpoint)}, overwrite=args.overwrite, **options)
    print(f"wrote {args.n} pairs to {args.out}/ in {metrics['seconds']:.1f} s: {scores_line(metrics)}")
    return 0
