"""``mmdiff-lite upscale``: the cascade's second stage. Upscale pairs frame by frame with a super-resolution
checkpoint (DDIM-25, the same initial noise for every frame of a clip, as the authors), keep their sound, and
write mp4s, a contact sheet, pairs.npz and metrics.json (the sync scores at the high-resolution clip preset):

    mmdiff-lite sample --checkpoint tiny --n 8 --out outputs/tiny
    mmdiff-lite upscale --checkpoint sr-tiny --input outputs/tiny --out outputs/tiny-x2

--input takes a pairs.npz, a folder with one (mmdiff-lite sample's output), or a folder of mp4s.
"""
from __future__ import annotations

import argparse

from ..fields import at_least


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("upscale", help="upscale pairs with the super-resolution stage (sound kept)",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--checkpoint", default="sr-tiny", help="upsampler: shipped name, run folder or .safetensors")
    p.add_argument("--input", required=True, help="pairs.npz, a folder holding one, or a folder of mp4s")
    p.add_argument("--out", required=True, help="output folder (new, empty or an earlier output)")
    p.add_argument("--steps", type=at_least(1), default=25, help="DDIM steps (default: 25)")
    p.add_argument("--seed", type=at_least(0), default=0)
    p.add_argument("--independent-noise", action="store_true",
                   help="draw each frame's initial noise on its own (flickers more; for comparison)")
    p.add_argument("--overwrite", action="store_true")
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..pipeline import load_model, read_low_pairs, sampling_setup, upscale_pairs, write_pairs
    from ..pipeline.export import check_pairs_folder

    check_pairs_folder(args.out, args.overwrite)  # before loading and sampling, not after
    model, meta = load_model(args.checkpoint)
    if getattr(model.config, "kind", "coupled") != "sr":
        raise ValueError(f"{args.checkpoint} is not a super-resolution checkpoint (it is a {model.config.name} "
                         "model): use sr-tiny or an upsampler you trained (mmdiff-lite train --preset sr-tiny)")
    schedule, preset = sampling_setup(meta)
    low = read_low_pairs(args.input, model)
    pairs = upscale_pairs(model, low, steps=args.steps, seed=args.seed, shared_noise=not args.independent_noise,
                          schedule=schedule, progress=not args.no_progress)
    metrics = write_pairs(args.out, pairs, preset, overwrite=args.overwrite,
                          extra={"checkpoint": str(args.checkpoint), "steps": args.steps, "seed": args.seed,
                                 "shared_noise": not args.independent_noise})
    scores = metrics.get("scores") or {}
    print(f"wrote {len(pairs['video'])} upscaled pairs ({tuple(pairs['video'].shape[-2:])}) to {args.out}"
          + (f": f1 {scores['f1']:.3f}, semantic {scores['semantic']:.3f}" if scores else ""))
    return 0
