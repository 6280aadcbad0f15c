"""``mmdiff-lite demo``: the README's main job (``make demo``).

Loads the shipped ``tiny`` checkpoint (sha256-verified), generates pairs with DPM-Solver at 20 steps and
writes to --out: pair_XX.mp4 (video with its sound), contact_sheet.png, pairs.npz and metrics.json (the
synthetic benchmark's scores, their shuffled-pair chance level, the seconds taken and the checkpoint's
manifest record).  An earlier demo's output in --out is replaced whole; a folder with other files needs
--overwrite.
"""
from __future__ import annotations

import argparse
import time

from ..fields import at_least

NO_TINY = ("no shipped `tiny` checkpoint in this kit: train one (mmdiff-lite train --preset tiny --out runs/tiny) and "
           "ship it (python -c \"import mmdiff_lite as mm; mm.pipeline.checkpoints.ship('runs/tiny', 'tiny', command='...', scores={})\")")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="generate pairs with the shipped tiny model (mp4 with sound, contact sheet, scores)",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", default="outputs/demo", help="output folder (default: outputs/demo)")
    p.add_argument("--n", type=at_least(1), default=8, help="number of pairs (default: 8)")
    p.add_argument("--seed", type=at_least(0), default=0, help="random seed (default: 0)")
    p.add_argument("--overwrite", action="store_true", help="replace a non-empty --out that holds other files")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from mmdiff_lite.pipeline import load_model, sample_to_folder, scores_line, shipped_checkpoints
    from mmdiff_lite.pipeline.export import check_pairs_folder
    from mmdiff_lite.utils import default_device

    check_pairs_folder(args.out, args.overwrite)
    start = time.perf_counter()
    record = shipped_checkpoints().get("tiny")
    if record is None:
        raise FileNotFoundError(NO_TINY)
    model, meta = load_model("tiny", device=default_device())
    metrics = sample_to_folder(model, meta, args.out, n=args.n, method="dpm_solver", steps=20, seed=args.seed,
                               extra={"checkpoint": {"name": "tiny", **record}}, overwrite=args.overwrite)
    print(f"shipped tiny model ({record['steps']} training steps): {args.n} pairs with DPM-Solver, 20 steps, "
          f"seed {args.seed}, in {metrics['seconds']:.1f} s")
    print(f"scores: {scores_line(metrics)}")
    print(f"wrote {args.out}/pair_00.mp4 ... pair_{args.n - 1:02d}.mp4 (video with sound), {args.out}/contact_sheet.png, "
          f"{args.out}/pairs.npz, {args.out}/metrics.json ({time.perf_counter() - start:.1f} s in all)")
    return 0
