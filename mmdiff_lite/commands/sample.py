"""``mmdiff-lite sample``: generate audio-video pairs with a trained model.

Writes to --out: pair_XX.mp4 (video with its sound), contact_sheet.png, pairs.npz (arrays ``video``
(N, F, C, H, W) and ``audio`` (N, C, T)) and metrics.json (the synthetic benchmark's scores and the time
taken).  --checkpoint is a shipped name (tiny, tiny-nocross), a run folder or a .safetensors file.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

METHODS = ["ddpm", "ddim", "dpm_solver", "dpm_solver++"]


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("sample", help="generate pairs (mp4 with sound, contact sheet, npz, scores)",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--checkpoint", default="tiny", help="shipped name, run folder or .safetensors (default: tiny)")
    p.add_argument("--n", type=int, default=8, help="number of pairs (default: 8)")
    p.add_argument("--method", choices=METHODS, default="dpm_solver", help="sampler (default: dpm_solver)")
    p.add_argument("--steps", type=int, default=20, help="sampler steps / NFE (default: 20)")
    p.add_argument("--order", type=int, choices=[1, 2, 3], help="DPM-Solver order (default: 3; DPM-Solver++: 2)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    p.add_argument("--batch-size", type=int, default=16, help="pairs per batch (default: 16)")
    p.add_argument("--shift", help="RS-MMA shift at sampling time: random (default, as the authors), none, or an integer")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=run)


def write_pairs(out: Path, pairs: dict, preset: str, extra: dict) -> dict:
    """Write mp4s, a contact sheet, pairs.npz and metrics.json for generated pairs; return the metrics."""
    import numpy as np

    import mmdiff_lite as mm
    from mmdiff_lite.utils import atomic_path
    from mmdiff_lite.viz.sheet import save_contact_sheet

    out.mkdir(parents=True, exist_ok=True)
    cfg = mm.clip_preset(preset)
    for i in range(len(pairs["video"])):
        mm.write_mp4(out / f"pair_{i:02d}.mp4", pairs["video"][i], pairs["audio"][i], cfg.fps, cfg.sample_rate,
                     scale=max(1, 128 // cfg.width))
    save_contact_sheet(out / "contact_sheet.png", pairs["video"][:16])
    with atomic_path(out / "pairs.npz") as tmp:
        with open(tmp, "wb") as f:
            np.savez_compressed(f, video=pairs["video"].numpy(), audio=pairs["audio"].numpy())
    scores = mm.sync_scores(pairs["video"], pairs["audio"], preset=cfg)
    metrics = {"scores": {k: v for k, v in scores.items() if isinstance(v, float)}, "n": len(pairs["video"]), **extra}
    with atomic_path(out / "metrics.json") as tmp:
        tmp.write_text(json.dumps(metrics, indent=2))
    return metrics


def run(args: argparse.Namespace) -> int:
    from mmdiff_lite.diffusion import get_schedule
    from mmdiff_lite.pipeline import generate, load_model
    from mmdiff_lite.model import shift_mode
    from mmdiff_lite.utils import default_device

    if args.n < 1 or args.steps < 1:
        raise ValueError("--n and --steps must be at least 1")
    model, meta = load_model(args.checkpoint, device=default_device())
    shift = args.shift or "random"
    if shift not in ("random", "none") and not shift.isdigit():
        raise ValueError(f"--shift takes random, none or an integer, got {args.shift!r}")
    options = {"order": args.order} if args.order else {}
    start = time.perf_counter()
    schedule = get_schedule(meta.get("schedule", "linear"))  # the schedule the model was trained with
    with shift_mode(model, shift):
        pairs = generate(model, args.n, method=args.method, steps=args.steps, seed=args.seed, schedule=schedule,
                         batch_size=args.batch_size, progress=not args.no_progress, **options)
    seconds = time.perf_counter() - start
    preset = meta.get("train_config", {}).get("data_preset") or meta["model_config"]["name"]
    extra = {"checkpoint": str(args.checkpoint), "method": args.method, "steps": args.steps, "seed": args.seed,
             "seconds": seconds, "shift": args.shift or "random"}
    metrics = write_pairs(Path(args.out), pairs, preset, extra)
    s = metrics["scores"]
    print(f"wrote {args.n} pairs to {args.out}/ in {seconds:.1f} s: f1 {s['f1']:.2f}, semantic {s['semantic']:.2f}, "
          f"video plausibility {s['video_plausibility']:.2f}, audio plausibility {s['audio_plausibility']:.2f}")
    return 0
