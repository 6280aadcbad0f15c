"""``mmdiff-lite ablate``: the paper's ablation tables on the synthetic benchmark, mean ± 95% CI over seeds.

Studies: windows (Table 3), shift (Table 4, with the padding confound, read at four training steps), coupling
(coupled vs no cross attention), fix (random shift with time-aligned rotary position or a learned offset readout),
or all. Every variant trains the same recipe (the tiny training preset as it is) for --steps on each seed, and is
evaluated on the same --n pairs (DPM-Solver-20, one evaluation seed): f1, f1_exact, semantic, plausibility,
FVD/KVD/FAD-bench and the joint distance. Writes OUT/results.csv, OUT/table.md, OUT/<study>.png; OUT/runs/
(training runs with their logs and command) and OUT/evals/ make it resumable: finished work is skipped.
On a GPU the same command trains there (the trainer picks CUDA); the researcher's path is the paper's shapes:
    mmdiff-lite train-features --preset paper --out bench-paper.safetensors
    mmdiff-lite ablate --study all --preset paper --features bench-paper.safetensors --steps 50000 --out ablations-paper
"""
from __future__ import annotations

import argparse
import shlex
from pathlib import Path

from ..fields import at_least
from ..model import model_preset_names


def register(sub: argparse._SubParsersAction) -> None:
    from ..bench.ablation_studies import study_names

    p = sub.add_parser("ablate", help="the ablation studies: train, evaluate, tabulate with CIs (resumable)",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--study", required=True, choices=[*study_names(), "all"])
    p.add_argument("--seeds", type=at_least(1), default=3, help="training seeds 0 … N−1 (default: 3)")
    p.add_argument("--steps", type=at_least(1), default=1200, help="training steps per run (default: 1200)")
    p.add_argument("--n", type=at_least(2), default=128, help="evaluation pairs per run and step (default: 128)")
    p.add_argument("--n-boot", type=at_least(2), default=100, help="bootstrap resamplings per distance (default: 100)")
    p.add_argument("--threads", type=at_least(1), default=None, help="torch threads (default: torch's choice)")
    p.add_argument("--preset", default="tiny", choices=model_preset_names("coupled"),
                   help="model preset the variants are built on (default: tiny; small or paper on a GPU)")
    p.add_argument("--features", help="bench feature network file for the preset's clips (mmdiff-lite train-features; "
                                      "default: the shipped one, tiny only)")
    p.add_argument("--shard", default="0/1", metavar="K/N",
                   help="train and evaluate only every N-th run from the K-th (N processes side by side, one per core); "
                        "then run once without --shard to tabulate (default: 0/1, everything)")
    p.add_argument("--stored-only", action="store_true",
                   help="train and evaluate nothing: tabulate the finished runs and list the missing ones")
    p.add_argument("--out", required=True, help="output folder (resumable)")
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..bench.ablation import ablate

    try:
        k, m = (int(x) for x in args.shard.split("/"))
    except ValueError:
        raise ValueError(f"--shard takes K/N, e.g. 0/2, got {args.shard!r}") from None
    command = (f"mmdiff-lite ablate --study {args.study} --seeds {args.seeds} --steps {args.steps} --n {args.n} "
               f"--n-boot {args.n_boot} --preset {args.preset}" + (f" --threads {args.threads}" if args.threads else "")
               + (f" --features {shlex.quote(args.features)}" if args.features else "")
               + f" --out {shlex.quote(str(args.out))}")
    rows = ablate(args.study, args.out, seeds=range(args.seeds), steps=args.steps, n=args.n, n_boot=args.n_boot,
                  threads=args.threads, progress=not args.no_progress, command=command, shard=(k, m),
                  preset=args.preset, features=args.features, stored_only=args.stored_only)
    if m > 1:
        print(f"shard {k}/{m} done ({len(rows)} evaluations); run again without --shard to write the tables")
        return 0
    print(Path(args.out, "table.md").read_text(), end="")  # the tables as written, with any runs still missing
    return 0
