"""``mmdiff-lite bench rsmma`` and ``mmdiff-lite bench step``: what RS-MMA and a training step cost here.

Each case runs in a fresh process (honest peak memory); times are medians after a warm-up.
"""
from __future__ import annotations

import argparse

from ..model import MODEL_PRESETS
from .options import parse_overrides


def _threads(p: argparse.ArgumentParser) -> None:
    p.add_argument("--threads", type=int, default=None, help="torch threads per case (default: torch's choice)")
    p.add_argument("--reps", type=int, default=3, help="timed repetitions per case (median reported)")


def register(subparsers) -> None:
    parser = subparsers.add_parser("bench", help="benchmark RS-MMA (dense vs windowed) and training steps")
    sub = parser.add_subparsers(dest="bench", metavar="WHAT", required=True)

    p = sub.add_parser("rsmma", help="dense vs windowed RS-MMA at a preset's real feature shapes")
    p.add_argument("--preset", default="paper", choices=list(MODEL_PRESETS))
    p.add_argument("--batch-size", type=int, default=1)
    p.add_argument("--backward", action="store_true", help="time forward + backward instead of forward")
    _threads(p)
    p.set_defaults(func=run_rsmma)

    p = sub.add_parser("step", help="time a training step (forward, loss, backward) and the forward alone")
    p.add_argument("--preset", default="ref-small", choices=list(MODEL_PRESETS))
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--set", action="append", default=[], metavar="KEY=JSON",
                   help='model override, e.g. --set rsmma_impl=\'"dense"\' (repeatable)')
    _threads(p)
    p.set_defaults(func=run_step)


def run_rsmma(args) -> int:
    from ..bench.measure import rsmma_report
    from ..viz.model import table_text

    if args.batch_size < 1:
        raise ValueError("--batch-size must be at least 1")
    rep = rsmma_report(args.preset, args.batch_size, args.reps, args.backward, args.threads)
    what = "forward+backward" if args.backward else "forward"
    print(f"RS-MMA {what}, preset {args.preset}, batch {args.batch_size} (MB: peak RSS growth of a fresh process)")
    print(table_text(rep["rows"]))
    counts = ", ".join(f"{k}: {v}" for k, v in rep["counts"].items())
    d, w = rep["total_seconds"]["dense"], rep["total_seconds"]["windowed"]
    md, mw = rep["total_macs"]["dense"], rep["total_macs"]["windowed"]
    print(f"whole model ({counts} blocks): dense {d:.3f} s, windowed {w:.3f} s, windowed/dense {w / d:.2f} "
          f"(attention MACs: {md / 1e9:.1f} G vs {mw / 1e9:.1f} G, ratio {mw / md:.2f})")
    return 0


def run_step(args) -> int:
    from ..bench.measure import step_report

    overrides = parse_overrides(args.set, "--set")
    r = step_report(args.preset, args.batch_size, args.reps, overrides, args.threads)
    print(f"preset {args.preset}, batch {args.batch_size}, {r['params']:,} parameters, overrides {overrides or 'none'}")
    print(f"training step (forward, MSE, backward): {r['step_seconds']:.3f} s")
    print(f"forward alone (autograd on):           {r['forward_seconds']:.3f} s")
    print(f"peak memory (RSS of a fresh process):  {r['peak_mb'] / 1024:.2f} GB "
          f"({r['extra_mb'] / 1024:.2f} GB above the loaded model and batch)")
    return 0
