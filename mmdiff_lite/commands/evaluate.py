"""``mmdiff-lite evaluate``: FVD / KVD / FAD (and the joint distance) of a checkpoint, as the paper measures them.

Generates --n pairs (cached in OUT/clips/: an interrupted run resumes from its last finished chunk), compares
them with --n of the checkpoint's own training clips (the authors: 2,048 against 2,048), and writes
OUT/metrics.json and OUT/table.md: every distance with its 95% bootstrap interval beside the real-against-real
floor, the sync scores, diversity and memorisation. --features: bench (the kit's own networks, seconds on a CPU)
or a paper network from a local file: i3d:PATH (FVD/KVD), vggish:PATH (FAD). Nothing is downloaded.
The same --out with the same settings resumes; other settings need a new folder or --overwrite.
"""
from __future__ import annotations

import argparse

from ..diffusion import METHODS
from ..fields import at_least


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("evaluate", help="FVD/KVD/FAD with intervals, sync, diversity, memorisation (resumable)",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--checkpoint", default="tiny", help="shipped name, run folder or .safetensors (default: tiny)")
    p.add_argument("--n", type=at_least(2), default=2048, help="generated pairs, and training clips (default: 2048)")
    p.add_argument("--features", default="bench",
                   help="bench (default), i3d:PATH (i3d_torchscript.pt: TorchScript runs code from the file; or a "
                        "piergiaj state dict), vggish:PATH (torchvggish state dict), audioclip:PATH (AudioCLIP-Full-Training.pt, its audio head)")
    p.add_argument("--method", "--sampler", choices=list(METHODS), default="dpm_solver", help="sampler (default: dpm_solver)")
    p.add_argument("--steps", type=at_least(1), default=20, help="sampler steps (default: 20)")
    p.add_argument("--order", type=int, choices=[1, 2, 3], help="DPM-Solver order (default: the sampler's)")
    p.add_argument("--seed", type=at_least(0), default=0)
    p.add_argument("--n-boot", type=at_least(2), default=200, help="bootstrap resamplings per interval (default: 200)")
    p.add_argument("--out", required=True, help="output folder (resumable)")
    p.add_argument("--overwrite", action="store_true", help="start again in a folder that holds other settings")
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..pipeline.fidelity import evaluate_checkpoint, fidelity_markdown
    from ..utils import default_device

    options = {"order": args.order} if args.order else {}
    result = evaluate_checkpoint(args.checkpoint, args.out, n=args.n, features=args.features, method=args.method,
                                 steps=args.steps, seed=args.seed, n_boot=args.n_boot, overwrite=args.overwrite,
                                 progress=not args.no_progress, device=default_device(), **options)
    print(fidelity_markdown(result), end="")
    return 0
