"""``mmdiff-lite evaluate``: a checkpoint judged as the paper judges it, plus what the paper does not check.

1. Generate ``n`` pairs (cached chunk by chunk in ``OUT/clips/``: an interrupted run resumes where it stopped).
2. Take ``n`` of the model's own training clips as the reference (the authors: 2,048 generated against 2,048
   training clips) and ``n`` new real clips for the floor (real against real).
3. Features, then every distance of :data:`mmdiff_lite.metrics.DISTANCES` with bootstrap intervals, for the
   generated set and for the floor; the sync scores with their chance level; diversity (mean pairwise feature
   distance, colour and impact-count histograms); memorisation (nearest training clip).
4. ``OUT/metrics.json`` and ``OUT/table.md``.

Taught in: notebooks/09_evaluation.ipynb
"""
from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from ..data import SyntheticClips, clip_preset
from ..metrics import analyze_audio, analyze_video
from ..metrics.features.registry import feature_network
from ..metrics.fidelity import DISTANCES, distribution_distances, extract_features, mean_pairwise_distance, memorisation
from ..train.data import make_source
from ..utils import atomic_path, check_output_folder, derive_seed, tqdm, write_json
from .checkpoints import load_model, sampling_setup
from .evaluate import score_pairs_with_chance
from .generate import generate

__all__ = ["evaluate_checkpoint", "evaluate_model", "generated_clips", "histograms", "fidelity_markdown", "EVALUATE_FILES"]

#: What an evaluate folder holds (``--out`` may be reused for the same settings: it resumes).
EVALUATE_FILES = ("evaluate.json", "metrics.json", "table.md", "clips")


def _owns(name: str) -> bool:
    return name in EVALUATE_FILES


def generated_clips(model, n: int, out: Path | None, *, method: str, steps: int, seed: int, schedule, chunk: int = 64,
                    progress: bool = True, **options) -> dict:
    """``n`` generated pairs, generated ``chunk`` at a time (chunk c from seed ``(seed, "evaluate", c)``) and, with a
    folder ``out``, cached there as ``chunk-XXXX.safetensors`` (written atomically): a resumed run gives the same
    clips, and so does a run without a cache."""
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
    parts = []
    chunks = range((n + chunk - 1) // chunk)
    for c in tqdm(chunks, desc=f"generating {n} pairs", disable=not progress):
        m = min(chunk, n - c * chunk)
        path = None if out is None else out / f"chunk-{c:04d}.safetensors"
        part = None
        if path is not None and path.is_file():
            try:
                part = load_file(str(path))
            except Exception:  # a damaged cache file is generated again
                part = None
            if part is not None and len(part.get("video", ())) != m:
                part = None
        if part is None:
            part = generate(model, m, method=method, steps=steps, seed=derive_seed(seed, "evaluate", c),
                            schedule=schedule, batch_size=m, progress=False, **options)
            if path is not None:
                with atomic_path(path) as tmp:
                    save_file({k: v.contiguous() for k, v in part.items()}, str(tmp))
        parts.append(part)
    return {k: torch.cat([p[k] for p in parts]) for k in ("video", "audio")}


def histograms(pairs: dict, preset) -> dict:
    """Colour shares (ball colours on screen) and impact-count shares of ``pairs``, from the benchmark's analysers."""
    cfg = clip_preset(preset)
    video = analyze_video(pairs["video"].numpy(), cfg)
    colours = Counter(cfg.colour_names[k] for v in video for k in range(len(cfg.colours)) if v["present"][:, k].mean() >= 0.5)
    impacts = Counter(len(v["impacts"]) for v in video)
    onsets = Counter(len(a["onsets"]) for a in analyze_audio(pairs["audio"].numpy(), cfg))
    n = len(video)
    return {"colours": {c: colours.get(c, 0) / n for c in cfg.colour_names},
            "impacts": {str(k): impacts[k] / n for k in sorted(impacts)},
            "onsets": {str(k): onsets[k] / n for k in sorted(onsets)}}


def _total_variation(p: dict, q: dict) -> float:
    keys = set(p) | set(q)
    return 0.5 * sum(abs(p.get(k, 0.0) - q.get(k, 0.0)) for k in keys)


def evaluate_model(model, meta: dict, net, *, n: int, method: str = "dpm_solver", steps: int = 20, seed: int = 0,
                   n_boot: int = 200, cache: Path | None = None, progress: bool = True, **options) -> dict:
    """Everything ``metrics.json`` reports for ``model`` (with its checkpoint header ``meta``) on feature network
    ``net``: ``n`` generated pairs (cached in ``cache`` when given) against ``n`` of its run's training clips."""
    schedule, preset = sampling_setup(meta)
    gen = generated_clips(model, n, cache, method=method, steps=steps, seed=seed, schedule=schedule,
                          progress=progress, **options)
    train_seed = int(meta.get("train_config", {}).get("seed", 0))
    training = make_source(preset, None, train_seed).batch(range(n))
    held_out = SyntheticClips(preset, seed=derive_seed(seed, "held-out") % 2**31, length=n).batch(range(n))
    f_gen, f_train, f_real = (extract_features(net, p) for p in (gen, training, held_out))
    kind = "joint" if "joint" in f_gen else next(iter(f_gen))
    hist_gen, hist_real = histograms(gen, preset), histograms(held_out, preset)
    mem = memorisation(f_gen[kind], f_real[kind], f_train[kind])
    mem.pop("nearest")
    return {
        "preset": preset, "step": meta.get("step"), "n": n, "features": net.describe(),
        "reference": f"{n} training clips of the checkpoint's run (seed {train_seed}), as the authors compare",
        "generated": distribution_distances(f_gen, f_train, n_boot=n_boot, seed=seed),
        "floor": distribution_distances(f_real, f_train, n_boot=n_boot, seed=seed),
        "sync": {k: v for k, v in score_pairs_with_chance(gen, preset).items() if k != "per_clip"},
        "sync_real": {k: v for k, v in score_pairs_with_chance(held_out, preset).items() if k != "per_clip"},
        "diversity": {k: {"generated": mean_pairwise_distance(f_gen[k]), "real": mean_pairwise_distance(f_real[k])}
                      for k in f_gen},
        "memorisation": {**mem, "features": kind},
        "histograms": {"generated": hist_gen, "real": hist_real,
                       "total_variation": {k: _total_variation(hist_gen[k], hist_real[k]) for k in hist_gen}},
    }


def evaluate_checkpoint(checkpoint: str, out: str | Path, *, n: int = 2048, features: str = "bench",
                        method: str = "dpm_solver", steps: int = 20, seed: int = 0, n_boot: int = 200,
                        overwrite: bool = False, progress: bool = True, device: str | torch.device = "cpu",
                        **options) -> dict:
    """Evaluate ``checkpoint`` (shipped name, run folder or file) into folder ``out`` (resumable); returns what
    ``metrics.json`` holds. ``features``: ``bench`` or ``i3d:PATH`` / ``vggish:PATH`` / ``audioclip:PATH``."""
    if n < 2:
        raise ValueError("--n must be at least 2 (a covariance needs two clips)")
    settings = {"checkpoint": str(checkpoint), "n": n, "features": features, "method": method, "steps": steps,
                "seed": seed, "options": options}
    out = check_output_folder(out, overwrite, _owns)
    stamp = out / "evaluate.json"
    if stamp.is_file() and not overwrite and json.loads(stamp.read_text()).get("settings") != settings:
        raise ValueError(f"--out {out} holds an evaluation with other settings ({stamp}): choose a new folder, "
                         "or pass --overwrite to start again")
    model, meta = load_model(checkpoint, device=device)
    _, preset = sampling_setup(meta)
    net = feature_network(features, preset, device=device)  # fails now, before any generation, if weights are missing
    if overwrite and (out / "clips").is_dir():
        for p in (out / "clips").glob("chunk-*.safetensors"):
            p.unlink()
    write_json(stamp, {"settings": settings})
    result = {"settings": settings, **evaluate_model(model, meta, net, n=n, method=method, steps=steps, seed=seed,
                                                     n_boot=n_boot, cache=out / "clips", progress=progress, **options)}
    write_json(out / "metrics.json", result)
    with atomic_path(out / "table.md") as tmp:
        tmp.write_text(fidelity_markdown(result))
    return result


def _ci(d: dict) -> str:
    return f"{d['value']:.3f} [{d['low']:.3f}, {d['high']:.3f}]"


def fidelity_markdown(result: dict) -> str:
    """The Markdown table of an :func:`evaluate_checkpoint` result: each distance with its 95% interval beside
    the real-against-real floor, then the sync scores, diversity and memorisation."""
    s = result.get("settings", {})
    lines = [f"Checkpoint `{s.get('checkpoint', '?')}` (step {result['step']}), {result['n']} generated pairs "
             f"({s.get('method', '?')}, {s.get('steps', '?')} steps, seed {s.get('seed', '?')}) against {result['reference']}; "
             f"features: {result['features']}. Intervals: 95% bootstrap.", "",
             "| metric | generated | real against real (floor) |", "|---|---|---|"]
    for key in DISTANCES:
        if key in result["generated"]:
            lines.append(f"| {key} | {_ci(result['generated'][key])} | {_ci(result['floor'][key])} |")
    sync, real = result["sync"], result["sync_real"]
    for key in ("f1", "f1_exact", "semantic", "video_plausibility", "audio_plausibility"):
        if key in sync:
            chance = sync.get(f"chance_{key}")
            extra = f" (chance {chance:.3f})" if chance is not None else ""
            lines.append(f"| {key} | {sync[key]:.3f}{extra} | {real[key]:.3f} |")
    for kind, d in result["diversity"].items():
        lines.append(f"| diversity ({kind}) | {d['generated']:.3f} | {d['real']:.3f} |")
    mem = result["memorisation"]
    lines.append(f"| memorised share ({mem['features']}) | {mem['share_generated']:.3f} | {mem['quantile']:.3f} |")
    tv = result["histograms"]["total_variation"]
    lines.append(f"| colour / impact-count histogram TV | {tv['colours']:.3f} / {tv['impacts']:.3f} | 0 / 0 |")
    return "\n".join(lines) + "\n"
