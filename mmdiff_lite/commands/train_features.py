"""``mmdiff-lite train-features``: train the benchmark's own video and audio encoders (FVD-bench, KVD-bench,
FAD-bench and the joint distance are computed on them) on fresh synthetic clips, and save them as one
safetensors file with the recipe and the held-out accuracy in its header. The shipped tiny networks came from
    mmdiff-lite train-features --preset tiny --steps 1500 --seed 0 --out bench-tiny.safetensors
"""
from __future__ import annotations

import argparse
import math
import shlex
import sys

from ..data import PRESETS
from ..fields import at_least


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train-features", help="train the benchmark feature networks (FVD/KVD/FAD-bench)",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--preset", default="tiny", choices=list(PRESETS), help="clip preset (default: tiny)")
    p.add_argument("--steps", type=at_least(1), default=1500, help="Adam steps (default: 1500)")
    p.add_argument("--batch-size", type=at_least(2), default=32, help="clips per step (default: 32)")
    p.add_argument("--lr", type=float, default=2e-3, help="peak learning rate, cosine decay (default: 2e-3)")
    p.add_argument("--seed", type=at_least(0), default=0)
    p.add_argument("--out", required=True, help="the .safetensors file to write (atomically)")
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..train.features import train_bench_features
    from ..utils import check_output_file

    if not (math.isfinite(args.lr) and args.lr > 0):
        raise ValueError(f"--lr must be a positive finite number, got {args.lr}")
    if not args.out.endswith(".safetensors"):
        raise ValueError(f"--out must be a .safetensors file, got {args.out!r}")
    check_output_file(args.out, "--out")
    command = "mmdiff-lite " + " ".join(shlex.quote(a) for a in sys.argv[1:]) if sys.argv[1:] else ""
    net = train_bench_features(args.preset, args.steps, args.batch_size, args.lr, args.seed, args.out,
                               progress=not args.no_progress, command=command)
    acc = net.meta["held_out_accuracy"]
    print(f"wrote {args.out}: held-out frame accuracy impact {acc['impact']:.3f}, onset {acc['onset']:.3f}, "
          f"pitch {acc['pitch']:.3f}, ball centre error {acc['position_px']:.2f} px ({net.meta['seconds']:.0f} s)")
    return 0
