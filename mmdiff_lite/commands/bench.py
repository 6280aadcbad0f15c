"""``mmdiff-lite bench``: what RS-MMA, a training step, training and sampling cost here, and how long a recipe
trains before it is in sync (``time-to-sync``).

``rsmma`` and ``step`` run each case in a fresh process (honest peak memory); ``train`` times the real
trainer's steps (clips/s); ``sampling`` puts the samplers side by side on a trained checkpoint (seconds,
NFE, scores and their shuffled-pair chance level, RS-MMA shift random vs none).  Times are medians after
a warm-up.
"""
from __future__ import annotations

import argparse

from ..fields import at_least
from ..bench.features import DEFAULT_MODELS
from ..model import model_preset_names
from .options import parse_overrides, parse_shift


def _threads(p: argparse.ArgumentParser) -> None:
    p.add_argument("--threads", type=at_least(1), default=None, help="torch threads per case (default: torch's choice)")
    p.add_argument("--reps", type=at_least(1), default=3, help="timed repetitions per case (median reported)")


def register(subparsers) -> None:
    parser = subparsers.add_parser("bench", help="benchmark RS-MMA, training steps, training throughput and samplers",
                                   description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="bench", metavar="WHAT", required=True)

    p = sub.add_parser("rsmma", help="dense vs windowed RS-MMA at a preset's real feature shapes")
    p.add_argument("--preset", default="paper", choices=model_preset_names("coupled"))
    p.add_argument("--batch-size", type=at_least(1), default=1)
    p.add_argument("--backward", action="store_true", help="time forward + backward instead of forward")
    _threads(p)
    p.set_defaults(func=run_rsmma)

    p = sub.add_parser("step", help="time a training step (forward, loss, backward) and the forward alone")
    p.add_argument("--preset", default="ref-small", choices=model_preset_names("coupled"))
    p.add_argument("--batch-size", type=at_least(1), default=8)
    p.add_argument("--set", action="append", default=[], metavar="KEY=JSON",
                   help='model override, e.g. --set rsmma_impl=\'"dense"\' (repeatable)')
    p.add_argument("--profile", action="store_true",
                   help="also profile the step: own CPU time of convolutions, attention and matrix products")
    p.add_argument("--authors-code", metavar="DIR", default=None,
                   help="a local checkout of github.com/researchmm/MM-Diffusion: time their network at the same "
                        "configuration against the kit's, alternating, in one run")
    p.add_argument("--rounds", type=at_least(1), default=3, help="with --authors-code: rounds of (kit, authors)")
    p.add_argument("--device", default="cpu", help="where the step runs, e.g. cuda (default: cpu); memory on a GPU "
                   "is the allocator's peak")
    p.add_argument("--json", metavar="FILE", default=None, help="with --authors-code: also write the rows as JSON")
    _threads(p)
    p.set_defaults(func=run_step)

    p = sub.add_parser("train", help="training throughput (clips/s) of the real trainer on synthetic data")
    p.add_argument("--preset", default="tiny", help="training recipe (default: tiny)")
    p.add_argument("--batch-size", type=at_least(1), default=16)
    p.add_argument("--steps", type=at_least(1), default=20, help="steps to run; the median is over those after 2 warm-up steps")
    p.add_argument("--threads", type=at_least(1), default=None, help="torch threads (default: torch's choice)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=JSON",
                   help="a training option (TrainConfig field) or else a model option, e.g. --set channels=32 (repeatable)")
    p.add_argument("--json", metavar="PATH", help="also write the result as JSON")
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=run_train)

    from ..pipeline.evaluate import SAMPLER_TABLE

    labels = [row[0] for row in SAMPLER_TABLE]
    p = sub.add_parser("sampling", help="the samplers side by side on a trained checkpoint (seconds, NFE, scores)")
    p.add_argument("--checkpoint", default="tiny", help="shipped name, run folder or .safetensors (default: tiny)")
    p.add_argument("--n", type=at_least(1), default=64, help="pairs per sampler (default: 64)")
    p.add_argument("--seed", type=at_least(0), default=0)
    p.add_argument("--methods", nargs="+", choices=labels, metavar="LABEL",
                   help=f"samplers to run (default: all of {', '.join(labels)})")
    p.add_argument("--shift", default="trained",
                   help="RS-MMA shift modes at sampling time, comma-separated: trained (as the checkpoint was "
                        "trained), random, none or integers (default: trained; e.g. random,none to compare)")
    p.add_argument("--batch-size", type=at_least(1), default=16, help="pairs per batch (default: 16)")
    p.add_argument("--json", metavar="PATH", help="also write the result as JSON")
    p.add_argument("--markdown", metavar="PATH", help="also write the Markdown table to a file")
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=run_sampling)

    p = sub.add_parser("time-to-sync", help="train from scratch and score every N steps: the training time until "
                                            "f1 and semantic >= 0.7 (resumable)")
    p.add_argument("--preset", default="tiny", help="training recipe (default: tiny, as mmdiff-lite train uses it)")
    p.add_argument("--eval-every", type=at_least(1), default=250, help="steps between evaluations (default: 250)")
    p.add_argument("--max-steps", type=at_least(1), default=8000, help="give up after this many steps (default: 8000)")
    p.add_argument("--n", type=at_least(2), default=64, help="pairs per evaluation, DPM-Solver-20 (default: 64)")
    p.add_argument("--eval-seed", type=at_least(0), default=10_000, help="seed of the evaluation pairs")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="a training option (TrainConfig field) or else a model option (repeatable): the recipe")
    p.add_argument("--threads", type=at_least(1), default=None, help="torch threads (default: torch's choice)")
    p.add_argument("--full-curve", action="store_true", help="go on to --max-steps after the goals are reached")
    p.add_argument("--out", required=True, help="folder: run/ (the training run), curve.json, curve.png (resumable)")
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=run_time_to_sync)

    p = sub.add_parser("conditioning", help="zero-shot conditioning: replacement vs gradient guidance, both directions")
    p.add_argument("--checkpoint", default="tiny", help="shipped name, run folder or .safetensors (default: tiny)")
    p.add_argument("--n", type=at_least(1), default=64, help="given clips per seed (default: 64)")
    p.add_argument("--seeds", type=at_least(0), nargs="+", default=[0, 1, 2], help="seeds (default: 0 1 2)")
    p.add_argument("--given", nargs="+", choices=["audio", "video"], default=["audio", "video"],
                   help="directions: audio (video for a given sound) and/or video (default: both)")
    p.add_argument("--quick", action="store_true", help="only the joint, replacement and paper-form rows")
    p.add_argument("--batch-size", type=at_least(1), default=16)
    p.add_argument("--out", default="outputs/bench-conditioning",
                   help="folder for rows/ (resumable), results.json, table.md and f1_vs_lambda.png")
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=run_conditioning)

    p = sub.add_parser("features", help="do the bench feature networks measure what matters? (floor, corruptions, "
                                        "collapse, snapshots, no-cross)")
    p.add_argument("--n", type=at_least(8), default=256, help="pairs per set (default: 256)")
    p.add_argument("--seed", type=at_least(0), default=0)
    p.add_argument("--n-boot", type=at_least(2), default=100, help="bootstrap resamplings (default: 100)")
    p.add_argument("--models", default=",".join(DEFAULT_MODELS),
                   help="shipped models, NAME or NAME@STEP, comma-separated; 'none' for the checks alone "
                        f"(default: {','.join(DEFAULT_MODELS)})")
    p.add_argument("--out", default="figures/evaluation", help="folder for checks.json, corruptions.png, models.json, "
                                                                "models.md, snapshots.png (default: figures/evaluation)")
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=run_features)

    p = sub.add_parser("upscale", help="the super-resolution stage: sync kept, input fidelity, flicker of shared vs "
                                       "independent initial noise")
    p.add_argument("--checkpoint", default="sr-tiny", help="upsampler: shipped name, run folder or .safetensors")
    p.add_argument("--low-model", default="tiny", help="the coupled model whose pairs are upscaled (default: tiny)")
    p.add_argument("--n", type=at_least(2), default=32, help="pairs per set (default: 32)")
    p.add_argument("--steps", type=at_least(1), default=25, help="DDIM steps (default: 25, the authors')")
    p.add_argument("--seed", type=at_least(0), default=0)
    p.add_argument("--json", metavar="PATH", help="also write the result as JSON")
    p.add_argument("--markdown", metavar="PATH", help="also write the tables to a file")
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=run_upscale)


def _check_reports(args) -> None:
    """Refuse unwritable ``--json`` / ``--markdown`` files before any work."""
    from ..utils import check_output_file

    check_output_file(args.json, "--json")
    check_output_file(args.markdown, "--markdown")


def _report(args, result: dict, table: str) -> int:
    """Print a benchmark's markdown table and write it (``--markdown``) and its result (``--json``) atomically."""
    from ..utils import atomic_path, write_json

    print(table, end="")
    if args.json:
        write_json(args.json, result)
    if args.markdown:
        with atomic_path(args.markdown) as tmp:
            tmp.write_text(table)
    return 0


def run_upscale(args) -> int:
    from ..bench.upscaling import measure_upscaling, upscaling_markdown

    _check_reports(args)
    result = measure_upscaling(args.checkpoint, args.n, args.seed, args.steps, args.low_model,
                               progress=not args.no_progress)
    return _report(args, result, upscaling_markdown(result))


def run_rsmma(args) -> int:
    from ..bench.measure import rsmma_report
    from ..viz.model import table_text

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


def _memory_kind(device: str) -> str:
    return "RSS of a fresh process" if device == "cpu" else "the GPU allocator's"


def run_step(args) -> int:
    from ..bench.measure import step_report

    overrides = parse_overrides(args.set, "--set")
    if args.authors_code:
        return _run_authors_comparison(args, overrides)
    r = step_report(args.preset, args.batch_size, args.reps, overrides, args.threads, args.profile, device=args.device)
    print(f"preset {args.preset}, batch {args.batch_size}, {r['params']:,} parameters, overrides {overrides or 'none'}")
    print(f"training step (forward, MSE, backward): {r['step_seconds']:.3f} s")
    print(f"forward alone (autograd on):           {r['forward_seconds']:.3f} s")
    print(f"peak memory ({_memory_kind(args.device)}):  {r['peak_mb'] / 1024:.2f} GB "
          f"({r['extra_mb'] / 1024:.2f} GB above the loaded model and batch)")
    if args.profile:
        k = r["kernels"]
        print("profiled step, own CPU time (median): " + ", ".join(f"{name} {sec:.3f} s" for name, sec in k.items()))
        floor = sum(k[name] for name in ("convolution", "attention", "matmul"))
        print(f"convolution + attention + matmul kernels alone: {floor:.3f} s of the profiled {k['wall (profiled)']:.3f} s")
    return 0


def _run_authors_comparison(args, overrides: dict) -> int:
    from ..bench.measure import authors_comparison
    from ..bench.reference import authors_unet_kwargs
    from ..model import model_config
    from ..utils import write_json

    authors_unet_kwargs(model_config(args.preset, **overrides))  # a configuration their code cannot build: say so now
    r = authors_comparison(args.authors_code, args.preset, args.batch_size, args.reps, overrides, args.threads,
                           args.rounds, device=args.device)
    kit, theirs = r["median"]["kit"], r["median"]["authors"]
    print(f"preset {args.preset}, batch {args.batch_size}, overrides {overrides or 'none'}; medians of {args.rounds} "
          f"rounds, each a fresh process per code (median of {args.reps} steps)")
    for name, m in (("kit", kit), ("authors", theirs)):
        print(f"{name:>8}: {m['params']:,} parameters, step {m['step_seconds']:.3f} s, forward {m['forward_seconds']:.3f} s, "
              f"memory above the loaded model and batch {m['extra_mb'] / 1024:.2f} GB (peak, {_memory_kind(args.device)}: {m['peak_mb'] / 1024:.2f} GB)")
    print(f"the kit's step is {r['speed_up']:.2f}x as fast as the authors' (forward {r['forward_speed_up']:.2f}x), "
          f"with {r['memory_ratio']:.2f}x their memory growth")
    if args.json:
        write_json(args.json, {"preset": args.preset, "batch": args.batch_size, "threads": args.threads,
                               "device": args.device, "authors_code": str(args.authors_code),
                               "overrides": overrides, **r})
    return 0


def run_train(args) -> int:
    from ..bench.throughput import train_throughput
    from ..utils import check_output_file, write_json
    from ..viz.model import table_text

    check_output_file(args.json, "--json")
    options = parse_overrides(args.set, "--set")
    r = train_throughput(args.preset, args.batch_size, args.steps, threads=args.threads, options=options,
                         progress=not args.no_progress)
    row = {"preset": r["preset"], "batch": r["batch_size"], "params": r["params"], "threads": r["threads"],
           "device": r["device"], "s/step": r["s_per_step"], "clips/s": r["clips_per_s"],
           "options": ", ".join(f"{k}={v}" for k, v in options.items()) or "-"}
    print(f"training throughput: median of {r['steps'] - r['warmup']} steps after {r['warmup']} warm-up steps")
    print(table_text([row]))
    if args.json:
        write_json(args.json, r)
    return 0


def run_sampling(args) -> int:
    from ..bench.sampling import sampling_benchmark, sampling_markdown

    _check_reports(args)
    shifts = [parse_shift(s.strip()) for s in args.shift.split(",") if s.strip()]
    if not shifts:
        raise ValueError("--shift needs at least one mode: random, none or an integer")
    result = sampling_benchmark(args.checkpoint, args.n, args.seed, args.methods, shifts, args.batch_size,
                                progress=not args.no_progress)
    return _report(args, result, sampling_markdown(result))


def run_conditioning(args) -> int:
    from ..bench.conditioning import conditioning_benchmark, default_rows
    from ..utils import check_output_folder
    from ..viz.conditioning import plot_f1_vs_scale

    check_output_folder(args.out, overwrite=True)  # resumable: its rows/ are kept; only checked for writability
    rows = default_rows(recon_grid=(), samplers=()) if args.quick else None
    result = conditioning_benchmark(args.checkpoint, args.out, args.n, args.seeds, args.given, rows,
                                    args.batch_size, progress=not args.no_progress)
    plot_f1_vs_scale(result, f"{args.out}/f1_vs_lambda.png")
    print(open(f"{args.out}/table.md").read(), end="")
    return 0


def run_time_to_sync(args) -> int:
    from ..bench.time_to_sync import time_to_sync
    from ..utils import check_output_folder
    from ..viz.training import plot_time_to_sync

    check_output_folder(args.out, overwrite=True)  # resumable: only checked for writability
    result = time_to_sync(args.out, args.preset, eval_every=args.eval_every, max_steps=args.max_steps, n=args.n,
                          eval_seed=args.eval_seed, options=parse_overrides(args.set, "--set"), threads=args.threads,
                          stop_at_sync=not args.full_curve, progress=not args.no_progress)
    plot_time_to_sync(result, f"{args.out}/curve.png")
    hit = result["sync"]
    if hit:
        print(f"in sync (f1 and semantic >= 0.7) after {hit['train_seconds'] / 60:.1f} min of training (step "
              f"{hit['step']}); evaluation took {result['eval_seconds_total'] / 60:.1f} min more")
    else:
        print(f"not in sync within {max(r['step'] for r in result['rows'])} steps")
    return 0


def run_features(args) -> int:
    from ..bench.features import feature_benchmark, models_markdown

    models = [] if args.models.strip() == "none" else [m.strip() for m in args.models.split(",") if m.strip()]
    result = feature_benchmark(args.out, n=args.n, seed=args.seed, n_boot=args.n_boot, models=models,
                               progress=not args.no_progress)
    checks = result["checks"]
    print(f"real against real ({args.n} pairs): " + ", ".join(f"{k} {v['value']:.3f}" for k, v in checks["floor"].items()))
    for name, c in checks["curves"].items():
        print(f"{name:15s} monotone: " + ", ".join(f"{k} {'yes' if ok else 'NO'}" for k, ok in c["monotone"].items()))
    if result["models"]:
        print(models_markdown(result["models"]), end="")
    return 0
