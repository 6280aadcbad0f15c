"""``mmdiff-lite ablate``: the paper's ablation tables on the synthetic benchmark, mean ± 95% CI over seeds.

Studies: windows (Table 3), shift (Table 4, with the padding confound, read at four training steps), coupling
(coupled vs no cross attention), fix (random shift with time-aligned rotary position or a learned offset readout),
or all. Every variant trains the same recipe (the tiny training preset as it is) for --steps on each seed, and is
evaluated on the same --n pairs (DPM-Solver-20, one evaluation seed): f1, f1_exact, semantic, plausibility,
FVD/KVD/FAD-bench and the joint distance. Writes OUT/results.csv, OUT/table.md, OUT/<study>.png; OUT/runs/
(training runs with their logs and command) and OUT/evals/ make it resumable: finished work is skipped.
--jobs 2 trains two runs at a time (one process of one thread per core) and tabulates when all are done.
A smoke run of the whole grid (every study, 3 seeds; minutes, not hours; its numbers mean nothing):
    mmdiff-lite ablate --study all --seeds 3 --steps 4 --n 8 --n-boot 10 --jobs 2 --out /tmp/ablate-smoke
On a GPU the same command trains there (the trainer picks CUDA); the researcher's path is the paper's shapes:
    mmdiff-lite train-features --preset paper --out bench-paper.safetensors
    mmdiff-lite ablate --study all --preset paper --features bench-paper.safetensors --steps 50000 --out ablations-paper
"""
from __future__ import annotations

import argparse
import shlex
import subprocess
import sys
import time
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
    p.add_argument("--jobs", type=at_least(1), default=1,
                   help="run the grid as N processes side by side (one shard each, --threads 1 unless given), then "
                        "tabulate: --jobs 2 on a 2-core machine (default: 1)")
    p.add_argument("--shard", default="0/1", metavar="K/N",
                   help="train and evaluate only every N-th run from the K-th (N processes side by side, one per "
                        "core; --jobs does this for you); then run once without --shard to tabulate (default: 0/1)")
    p.add_argument("--stored-only", action="store_true",
                   help="train and evaluate nothing: tabulate the finished runs and list the missing ones")
    p.add_argument("--out", required=True, help="output folder (resumable)")
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=run)


def _grid_options(args) -> list[str]:
    """The options that define the grid (what every shard of it must share)."""
    features = ["--features", args.features] if args.features else []
    return ["--study", args.study, "--seeds", str(args.seeds), "--steps", str(args.steps), "--n", str(args.n),
            "--n-boot", str(args.n_boot), "--preset", args.preset, *features, "--out", str(args.out)]


def run_jobs(args, poll_seconds: float = 2.0) -> int:
    """``--jobs N``: N child processes ``python -m mmdiff_lite ablate … --shard K/N`` side by side (one thread each
    unless --threads says otherwise), then one tabulation here. A failing shard stops the others."""
    if args.shard != "0/1" or args.stored_only:
        raise ValueError("--jobs runs the shards itself: drop --shard and --stored-only")
    threads = str(args.threads or 1)
    children = [subprocess.Popen([sys.executable, "-m", "mmdiff_lite", "ablate", *_grid_options(args),
                                  "--threads", threads, "--shard", f"{k}/{args.jobs}", "--no-progress"])
                for k in range(args.jobs)]
    try:
        while True:
            codes = [c.poll() for c in children]
            failed = [k for k, rc in enumerate(codes) if rc not in (None, 0)]
            if failed or None not in codes:
                break
            time.sleep(poll_seconds)
    finally:  # a failed shard, or Ctrl-C here, must not leave the other shards training in the background
        for c in children:
            if c.poll() is None:
                c.terminate()
                c.wait()
    if failed:
        print(f"shard {', '.join(f'{k}/{args.jobs}' for k in failed)} failed (its output is above); the others were "
              "stopped. Finished runs are kept: run the same command again to resume.", file=sys.stderr)
        return 1
    args.jobs = 1
    return run(args)


def run(args) -> int:
    from ..bench.ablation import ablate

    if args.jobs > 1:
        return run_jobs(args)
    try:
        k, m = (int(x) for x in args.shard.split("/"))
    except ValueError:
        raise ValueError(f"--shard takes K/N, e.g. 0/2, got {args.shard!r}") from None
    threads = ["--threads", str(args.threads)] if args.threads else []
    command = "mmdiff-lite ablate " + shlex.join([*_grid_options(args), *threads])
    rows = ablate(args.study, args.out, seeds=range(args.seeds), steps=args.steps, n=args.n, n_boot=args.n_boot,
                  threads=args.threads, progress=not args.no_progress, command=command, shard=(k, m),
                  preset=args.preset, features=args.features, stored_only=args.stored_only)
    if m > 1:
        print(f"shard {k}/{m} done ({len(rows)} evaluations); a call without --shard writes the tables "
              "(--jobs makes that call itself)")
        return 0
    print(Path(args.out, "table.md").read_text(), end="")  # the tables as written, with any runs still missing
    return 0
