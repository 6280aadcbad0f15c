"""``mmdiff-lite condition``: generate the other modality for given clips, zero-shot (paper section 3.4).

Video for a given sound (``--given audio``) or sound for a given video (``--given video``), by replacement
(``--method replace``) or gradient guidance (``--method guide --scale L``), with any sampler.  The given clips
come from an mp4, a folder of them, or the synthetic benchmark (``--benchmark N``: its first N true pairs).
Writes to --out: pair_XX.mp4 (the given modality with the generated one), contact_sheet.png, pairs.npz and
metrics.json (scores of each generated clip against its given one and against a shuffled pairing; for
--benchmark, or --score when the files are the benchmark's).  --out must be new, empty or an earlier output
of this kind (or --overwrite): the folder is written beside it and replaces it whole at the end, so an error
leaves nothing half-written and no file of an earlier run stays.
"""
from __future__ import annotations

import argparse
import math

from ..diffusion import METHODS
from ..diffusion.guidance import GUIDANCE_FORMS
from ..fields import at_least
from .options import parse_shift


def _scale(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number, got {text!r}") from None
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"must be a finite number >= 0, got {text!r}")
    return value


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("condition", help="zero-shot: video for a given sound, or sound for a given video",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--checkpoint", default="tiny", help="shipped name, run folder or .safetensors (default: tiny)")
    p.add_argument("--given", required=True, choices=["audio", "video"], help="the modality you give")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--input", metavar="FILE|DIR", help="an mp4 (or a folder of them) holding the given modality")
    src.add_argument("--benchmark", type=at_least(1), metavar="N", help="the first N true pairs of the synthetic benchmark")
    p.add_argument("--method", choices=["replace", "guide"], default="guide",
                   help="replace (the given modality overwritten at every model call) or guide (replacement plus "
                        "gradient guidance; default)")
    p.add_argument("--scale", type=_scale, default=1.0, help="guidance strength lambda (default: 1)")
    p.add_argument("--form", choices=list(GUIDANCE_FORMS), default="paper",
                   help="guidance form: paper (the paper's equation) or reconstruction (Ho et al. 2022)")
    p.add_argument("--noise", choices=["fixed", "fresh"], default="fixed",
                   help="replacement noise: fixed for the whole run (the authors) or fresh at every call")
    p.add_argument("--t-min", type=float, default=0.0, help="no guidance below this time step (default: 0)")
    p.add_argument("--sampler", choices=list(METHODS), default="dpm_solver", help="sampler (default: dpm_solver)")
    p.add_argument("--steps", type=at_least(1), default=20, help="sampler steps / NFE (default: 20)")
    p.add_argument("--order", type=int, choices=[1, 2, 3], help="DPM-Solver(++) order (default: 3; ++: 2)")
    p.add_argument("--seed", type=at_least(0), default=0, help="random seed (default: 0)")
    p.add_argument("--batch-size", type=at_least(1), default=16, help="clips per batch (default: 16)")
    p.add_argument("--shift", default="trained", help="RS-MMA shift at sampling time (default: trained)")
    p.add_argument("--score", action="store_true", help="score --input clips with the benchmark's analyzers")
    p.add_argument("--out", required=True, help="output folder (new, empty, or an earlier output: replaced whole)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing, non-empty --out")
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from mmdiff_lite.pipeline.conditional import condition_to_folder

    if args.order is not None and args.sampler not in ("dpm_solver", "dpm_solver++"):
        raise ValueError(f"--order is an option of dpm_solver and dpm_solver++, not {args.sampler}")
    options = {"order": args.order} if args.order else {}
    metrics = condition_to_folder(
        args.checkpoint, args.out, given=args.given, source=args.input, benchmark=args.benchmark,
        method=args.method, scale=args.scale, form=args.form, noise=args.noise, t_min=args.t_min,
        sampler=args.sampler, steps=args.steps, seed=args.seed, batch_size=args.batch_size,
        shift=parse_shift(args.shift), score=args.score or args.benchmark is not None, overwrite=args.overwrite,
        progress=not args.no_progress, **options)
    line = f"wrote {metrics['n']} clips ({metrics['generated']} for the given {args.given}) to {args.out}/"
    if metrics["scores"]:
        s, c = metrics["scores"], metrics["chance"] or {}
        line += f": f1 {s['f1']:.3f} (shuffled {c.get('f1', float('nan')):.3f}), semantic {s['semantic']:.3f}"
    print(line)
    return 0
