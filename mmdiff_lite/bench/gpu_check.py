"""``make gpu-check``: the GPU path in one prepared run of under 8 minutes, for the day a session is lent a GPU.

Stages, each written to the JSON report as soon as it ends (so a run cut short keeps what it measured):

1. ``tests/test_cuda.py``: autocast bf16/fp16 with gradient scaling, pinned memory, SDPA, ``torch.compile``, nccl;
2. training throughput of the real trainer: ``tiny`` (eager and compiled) and ``paper`` at a small batch;
3. time to sync of the ``tiny`` recipe on the GPU, with as many steps as the time left allows (less a reserve);
4. a slice of ``mmdiff-lite ablate``: the fix study (random shift, rotary, offset readout, R = 0), seed 0;
5. with ``--authors-code DIR`` (a local checkout of the authors' repository, carried to the machine): the training
   step of ``ref-small`` and ``paper`` against the authors' network at the same configuration, on the GPU.

Run: ``python -m mmdiff_lite.bench.gpu_check --out build/gpu-check`` (``--allow-cpu`` for a dry run without a GPU).
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

import torch

from ..utils import write_json

__all__ = ["main"]


def _stage(report: dict, path: Path, name: str, fn) -> None:
    started = time.perf_counter()
    try:
        report[name] = {"ok": True, **fn()}
    except Exception as e:  # a failed stage is a finding: record it and go on to the next
        report[name] = {"ok": False, "error": f"{type(e).__name__}: {e}"}
    report[name]["seconds"] = round(time.perf_counter() - started, 1)
    write_json(path, report)
    print(f"gpu-check: {name}: {'ok' if report[name]['ok'] else 'FAILED'} in {report[name]['seconds']} s", flush=True)


def _unit_tests(root: Path) -> dict:
    out = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(root / "tests" / "test_cuda.py")],
                         capture_output=True, text=True, timeout=300, cwd=root)
    if out.returncode not in (0, 5):
        raise RuntimeError(out.stdout[-3000:])
    return {"summary": out.stdout.strip().splitlines()[-1] if out.stdout.strip() else ""}


def _throughput(steps: int) -> dict:
    from .throughput import train_throughput

    cases = {"tiny b16": ("tiny", 16, {}), "tiny b16 compiled": ("tiny", 16, {"compile": True}),
             "paper b4": ("paper", 4, {})}
    rows = {}
    for label, (preset, batch, options) in cases.items():
        r = train_throughput(preset, batch_size=batch, steps=steps, options=options, progress=False)
        rows[label] = {k: r[k] for k in ("s_per_step", "clips_per_s") if k in r}
    return {"rows": rows}


def _time_to_sync(out: Path, seconds_left: float, s_per_step: float | None, eval_every: int, max_steps: int | None,
                  n: int) -> dict:
    from .time_to_sync import time_to_sync

    if max_steps is None:  # as many evaluated steps as the time left allows (evaluation takes the other 40%)
        affordable = int(0.6 * seconds_left / s_per_step) if s_per_step else 1000
        max_steps = max(eval_every, affordable // eval_every * eval_every)
    result = time_to_sync(out, "tiny", eval_every=eval_every, max_steps=max_steps, n=n, progress=False)
    return {"sync": result["sync"], "rows": result["rows"], "max_steps": max_steps}


def _ablation_slice(out: Path, steps: int, n: int) -> dict:
    from .ablation import ablate, summarise

    rows = ablate("fix", out, seeds=[0], steps=steps, n=n, n_boot=20, progress=False,
                  command=f"gpu-check: ablate fix, seed 0, {steps} steps, n {n}")
    return {"rows": [{k: r[k] for k in ("variant", "step", "f1", "f1_exact", "semantic", "fvd", "fad", "fjd",
                                          "train_seconds")} for r in rows], "summary": summarise(rows)}


def _against_authors(code: str) -> dict:
    from .measure import authors_comparison

    rows = {}
    for preset, batch, rounds in (("ref-small", 8, 2), ("paper", 2, 1)):
        r = authors_comparison(code, preset, batch=batch, reps=3, rounds=rounds, device="cuda")
        rows[f"{preset} b{batch}"] = {k: r[k] for k in ("median", "speed_up", "forward_speed_up", "memory_ratio")}
    return {"rows": rows}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default="build/gpu-check", help="folder of the report (gpu-check.json) and the runs")
    p.add_argument("--budget-seconds", type=float, default=420.0, help="wall time for all stages (default: 7 minutes)")
    p.add_argument("--allow-cpu", action="store_true", help="run without a GPU (a dry run of the script itself)")
    p.add_argument("--throughput-steps", type=int, default=12, help="timed trainer steps per throughput case")
    p.add_argument("--eval-every", type=int, default=250, help="time to sync: steps between evaluations")
    p.add_argument("--max-steps", type=int, default=None, help="time to sync: steps at most (default: what the time allows)")
    p.add_argument("--n", type=int, default=64, help="time to sync: pairs per evaluation")
    p.add_argument("--ablate-steps", type=int, default=300, help="ablation slice: training steps per variant")
    p.add_argument("--reserve-seconds", type=float, default=120.0, help="time kept back for the ablation slice")
    p.add_argument("--authors-code", default=None, metavar="DIR",
                   help="a local checkout of the authors' repository: also time their training step against the kit's")
    args = p.parse_args(argv)
    if not torch.cuda.is_available() and not args.allow_cpu:
        print("gpu-check: no CUDA device here; run it on a GPU machine (or pass --allow-cpu for a dry run)", file=sys.stderr)
        return 2
    started = time.perf_counter()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "gpu-check.json"
    report = {"torch": torch.__version__, "cuda": torch.version.cuda,
              "device": torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu (dry run)"}
    root = Path(__file__).resolve().parents[2]
    _stage(report, path, "unit tests (tests/test_cuda.py)", lambda: _unit_tests(root))
    _stage(report, path, "training throughput", lambda: _throughput(args.throughput_steps))
    tiny = report["training throughput"].get("rows", {}).get("tiny b16", {}).get("s_per_step")
    left = args.budget_seconds - args.reserve_seconds - (time.perf_counter() - started)
    _stage(report, path, "time to sync (tiny)", lambda: _time_to_sync(out / "time-to-sync", left, tiny, args.eval_every,
                                                                              args.max_steps, args.n))
    _stage(report, path, "ablation slice (fix, seed 0)", lambda: _ablation_slice(out / "ablate", args.ablate_steps, args.n))
    if args.authors_code:
        _stage(report, path, "against the authors' code", lambda: _against_authors(args.authors_code))
    report["wall_seconds"] = round(time.perf_counter() - started, 1)
    write_json(path, report)
    print(f"gpu-check: report {path} ({report['wall_seconds']} s)")
    return 0 if all(v.get("ok", True) for v in report.values() if isinstance(v, dict)) else 1


if __name__ == "__main__":
    raise SystemExit(main())
