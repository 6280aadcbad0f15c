"""``mmdiff-lite ablate``: train every variant of a study on the same budget, recipe and seeds, evaluate each the
same way, and tabulate mean ± 95% CI over seeds.

Layout of ``OUT``:

* ``runs/<variant>-<config hash>-seed<S>/``: one training run each (the trainer's own folder: log, config, EMA
  snapshots at every quarter of the budget), with ``command.json``; variants of different studies that share a
  configuration (every study's reference is the tiny recipe) share a run. Resumable: finished runs are skipped,
  interrupted ones resume exactly.
* ``evals/<run>-step<K>.json``: the evaluation of one snapshot (skipped when present): ``n`` pairs of
  DPM-Solver-20 from one evaluation seed for every variant, the sync scores and the bench distances against the
  run's training clips (:func:`mmdiff_lite.pipeline.fidelity.evaluate_model`).
* ``results.csv`` (one row per study, variant, seed and step), ``table.md`` (mean ± 95% CI over seeds, and each
  variant's difference from the study's reference, paired by seed) and ``<study>.png``.

Taught in: notebooks/10_ablations.ipynb
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import time
from pathlib import Path
from typing import Sequence

from ..metrics.features import feature_network, load_bench_features
from ..metrics.intervals import t_interval
from ..model import model_config
from ..pipeline import load_model
from ..pipeline.fidelity import evaluate_model
from ..train import Trainer, TrainConfig
from ..utils import atomic_path, write_json
from .ablation_studies import BASE_RECIPES, STUDIES, Variant, preset_windows, variants_of
from .throughput import recipe_config, torch_threads

__all__ = ["METRICS", "variant_config", "run_name", "ablate", "summarise", "table_markdown", "t_interval", "verdict",
           "read_results", "paired_delta"]

#: The columns every evaluation reports (sync scores, plausibility, bench distances).
METRICS = ("f1", "f1_exact", "semantic", "video_plausibility", "audio_plausibility", "fvd", "kvd", "fad", "kad", "fjd")


def variant_config(variant: Variant, steps: int, seed: int, snapshot_every: int = 0, preset: str = "tiny"):
    """The full TrainConfig of ``variant`` at model ``preset``: the preset's base recipe with the variant's model
    options (a windows variant's paper tuple mapped onto the preset's levels)."""
    if preset not in BASE_RECIPES:
        raise ValueError(f"unknown preset {preset!r} for ablations: use one of {', '.join(BASE_RECIPES)}")
    model = dict(variant.model)
    if "windows" in model:
        model["windows"] = preset_windows(model["windows"], model_config(preset).num_levels)
    return recipe_config(preset, {"model_overrides": model}, steps=steps, seed=seed, snapshot_every=snapshot_every,
                         **BASE_RECIPES[preset])


#: TrainConfig fields added after the grid's first runs: while at their default they stay out of a run's fingerprint,
#: so that a new option does not rename (and so retrain) the runs that predate it.
LATER_FIELDS = ("ema_warmup",)


def _fingerprint(cfg) -> str:
    full = model_config(cfg.preset, **cfg.model_overrides).to_dict()
    full.pop("name", None)
    defaults = json.loads(TrainConfig().to_json())
    recipe = {k: v for k, v in json.loads(cfg.to_json()).items() if k not in ("model_overrides", "snapshot_every")
              and not (k in LATER_FIELDS and v == defaults[k])}
    return hashlib.sha256(json.dumps({"model": full, "train": recipe}, sort_keys=True, default=str).encode()).hexdigest()[:8]


def run_name(variant: Variant, cfg) -> str:
    """``runs/`` folder of a variant's run: the first variant (in study order) with the same configuration names it."""
    fp = _fingerprint(cfg)
    for vs in STUDIES.values():
        for v in vs:
            if _fingerprint(variant_config(v, cfg.steps, cfg.seed, preset=cfg.preset)) == fp:
                return f"{v.name}-{fp}-seed{cfg.seed}"
    return f"{variant.name}-{fp}-seed{cfg.seed}"


def _eval_steps(study: str, steps: int) -> list[int]:
    if study == "shift":  # the paper's Table 4 reads the variants at several training steps
        return sorted({max(1, steps * k // 4) for k in (1, 2, 3, 4)})
    return [steps]


def _evaluate(run_dir: Path, step: int, final: int, path: Path, net, n: int, n_boot: int) -> dict:
    if path.is_file():
        return json.loads(path.read_text())
    weights = run_dir / ("ema.safetensors" if step == final else f"ema-step{step}.safetensors")
    model, meta = load_model(weights)
    started = time.perf_counter()
    ev = evaluate_model(model, meta, net, n=n, seed=0, n_boot=n_boot, progress=False)
    row = {"step": step, "eval_seconds": round(time.perf_counter() - started, 1),
           **{k: ev["sync"][k] for k in ("f1", "f1_exact", "semantic", "video_plausibility", "audio_plausibility")},
           **{k: ev["generated"][k]["value"] for k in ev["generated"]},
           **{f"floor_{k}": ev["floor"][k]["value"] for k in ev["floor"]}}
    write_json(path, row)
    return row


def ablate(study: str, out: str | Path, *, seeds: Sequence[int] = (0, 1, 2), steps: int = 1200, n: int = 128,
           n_boot: int = 100, threads: int | None = None, progress: bool = True, command: str = "",
           shard: tuple[int, int] = (0, 1), preset: str = "tiny", features: str | None = None,
           stored_only: bool = False) -> list[dict]:
    """Train and evaluate every variant of ``study`` (or ``all``) for every seed; write ``results.csv``,
    ``table.md`` and the figures into ``out``; return the rows. ``command`` is recorded in every run folder.

    ``shard=(k, m)``: this process trains and evaluates only every m-th run, starting at the k-th (run m processes
    side by side on m cores), and writes no tables; a last call without a shard finds everything done and tabulates.
    ``preset``: the model preset the variants are built on (tiny on a CPU; small or paper on a GPU), ``features``:
    a bench feature network file for that preset's clips (default: the shipped one; only tiny ships).
    A run whose evaluations are all stored is not trained again (so ``evals/`` and the runs' ``command.json`` are
    enough to tabulate on another machine: the weights need not travel).
    ``stored_only``: train and evaluate nothing; tabulate the runs whose evaluations are all stored and list the
    others in ``table.md`` as not yet run (a grid still running, or one copied from another machine).
    """
    if steps < 1 or n < 2 or not seeds:
        raise ValueError("--steps must be >= 1, --n >= 2, and at least one seed")
    k, m = shard
    if not 0 <= k < m:
        raise ValueError(f"--shard {k}/{m}: use K/N with 0 <= K < N")
    if stored_only and m > 1:
        raise ValueError("--stored-only tabulates and trains nothing: drop --shard")
    out = Path(out)
    studies = list(STUDIES) if study == "all" else [study]
    variants_of(study)  # an unknown study fails here, before any work
    snapshot_every = max(1, steps // 4)
    net = None if stored_only else (load_bench_features(features) if features
                                    else feature_network("bench", model_config(preset).clip))
    command = command or f"ablate({study!r}, {str(out)!r}, seeds={list(seeds)}, steps={steps}, n={n})"
    jobs = []  # (study, variant, seed, cfg, run)
    for seed in seeds:  # seed by seed: an interrupted grid has every variant of the first seeds
        for name in studies:
            for variant in STUDIES[name]:
                cfg = variant_config(variant, steps, seed, snapshot_every, preset)
                jobs.append((name, variant, seed, cfg, run_name(variant, cfg)))
    order = list(dict.fromkeys(j[4] for j in jobs))
    mine = {r for i, r in enumerate(order) if i % m == k}
    rows, missing, listed = [], [], set()  # missing: (study, variant, seed) of runs not yet finished
    with torch_threads(threads):
        for name, variant, seed, cfg, run in jobs:
            if run not in mine:
                continue
            run_dir = out / "runs" / run
            evals = {step: out / "evals" / f"{run}-step{step}-n{n}.json" for step in _eval_steps(name, steps)}
            stamp = run_dir / "command.json"
            if not (stamp.is_file() and all(p.is_file() for p in evals.values())):
                if stored_only:  # a run shared by several studies is listed once, under its first study
                    if run not in listed:
                        listed.add(run)
                        missing.append((name, variant.name, seed))
                    continue
                if progress:
                    print(f"[{name}] {variant.name} seed {seed}: training {run}", flush=True)
                trainer = Trainer(cfg, run_dir, resume="auto", progress=progress)
                trainer.run()
                write_json(stamp, {"command": command, "variant": variant.name, "model": variant.model, "seed": seed,
                                   "steps": steps, "train_seconds": round(trainer.wall, 1)})
            train_seconds = json.loads(stamp.read_text())["train_seconds"]
            for step, path in evals.items():
                ev = _evaluate(run_dir, step, steps, path, net, n, n_boot)
                rows.append({"study": name, "variant": variant.name, "label": variant.label,
                             "reference": variant.reference, "seed": seed, "run": run,
                             "train_seconds": train_seconds, **ev})
    if stored_only and not rows:
        raise ValueError(f"no finished run is stored under {out}: run the grid first (without --stored-only)")
    if m == 1:
        _write_results(out, rows, missing)
    return rows


def _write_results(out: Path, rows: list[dict], missing: Sequence[tuple[str, str, int]] = ()) -> None:
    import matplotlib.pyplot as plt

    from ..viz.ablation import plot_study

    keys = ["study", "variant", "label", "reference", "seed", "step", "run", "train_seconds", "eval_seconds", *METRICS]
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=keys, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    with atomic_path(out / "results.csv") as tmp:
        tmp.write_text(buf.getvalue())
    summary = summarise(rows)
    with atomic_path(out / "table.md") as tmp:
        tmp.write_text(table_markdown(summary, missing=missing))
    write_json(out / "summary.json", summary)
    for study in {r["study"] for r in rows}:
        fig = plot_study(summary, study)
        with atomic_path(out / f"{study}.png") as tmp:
            fig.savefig(tmp, format="png", dpi=90)
        plt.close(fig)


def read_results(path: str | Path) -> list[dict]:
    """The rows of a ``results.csv`` with their types back (seed and step ints, reference a bool, metrics floats).

    Taught in: notebooks/10_ablations.ipynb
    """
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    for r in rows:
        r["seed"], r["step"], r["reference"] = int(r["seed"]), int(r["step"]), r["reference"] == "True"
        for m in METRICS:
            r[m] = float(r[m])
    return rows


def paired_delta(rows: list[dict], study: str, variant: str, against: str, metric: str,
                 step: int | None = None) -> dict | None:
    """Mean ± 95% CI over seeds of ``variant`` minus ``against`` (two variants of ``study``) in ``metric``, paired by
    seed at ``step`` (default: the last step both have); None when no seed has both runs.

    A claim's matched control need not be the study's reference: "random shift with zero padding" is compared with
    R = 0 *with zero padding*, so that only the shift differs.
    Taught in: notebooks/10_ablations.ipynb
    """
    mine = [r for r in rows if r["study"] == study and r["variant"] in (variant, against)]
    if step is None:
        steps = ({r["step"] for r in mine if r["variant"] == variant}
                 & {r["step"] for r in mine if r["variant"] == against})
        if not steps:
            return None
        step = max(steps)
    by = {(r["variant"], r["seed"]): r[metric] for r in mine if r["step"] == step}
    seeds = sorted(s for v, s in by if v == variant and (against, s) in by)
    return t_interval([by[(variant, s)] - by[(against, s)] for s in seeds]) if seeds else None


# --- statistics over seeds: t_interval (metrics.intervals) --------------------------------------
def verdict(delta: dict | None, expected: int) -> str:
    """One claim's verdict from a paired difference ``delta`` (a :func:`t_interval` of variant minus reference) and
    the direction the paper claims (``expected`` = +1: the variant's value is higher, −1: lower).

    ``reproduced`` when the 95% interval excludes 0 on the claimed side, ``reversed`` when it excludes 0 on the
    other, else ``not reproduced`` (no difference these seeds can see; ``untested`` without an interval).
    """
    if delta is None:
        return "untested (no seed has both runs)"
    if delta["half"] is None:
        return "untested (one seed: no interval)"
    lo, hi = delta["mean"] - delta["half"], delta["mean"] + delta["half"]
    if lo > 0 or hi < 0:
        return "reproduced" if (lo > 0) == (expected > 0) else "reversed"
    return "not reproduced (the interval contains 0)"


def summarise(rows: list[dict]) -> dict:
    """study -> list of ``{"variant", "label", "step", metric: t_interval, "delta_"+metric: paired t_interval}``."""
    out: dict = {}
    for study in dict.fromkeys(r["study"] for r in rows):
        srows = [r for r in rows if r["study"] == study]
        ref = next((r["variant"] for r in srows if r["reference"]), srows[0]["variant"])
        for variant in dict.fromkeys(r["variant"] for r in srows):
            for step in sorted({r["step"] for r in srows if r["variant"] == variant}):
                mine = {r["seed"]: r for r in srows if r["variant"] == variant and r["step"] == step}
                entry = {"variant": variant, "label": next(iter(mine.values()))["label"], "step": step,
                         "reference": variant == ref, "seeds": sorted(mine)}
                for m in METRICS:
                    entry[m] = t_interval([r[m] for r in mine.values()])
                    delta = None if variant == ref else paired_delta(srows, study, variant, ref, m, step)
                    if delta is not None:
                        entry[f"delta_{m}"] = delta
                out.setdefault(study, []).append(entry)
    return out


def _cell(ci: dict, signed: bool = False) -> str:
    """``mean ± half-width`` (the mean with its sign when ``signed``, as a difference is; the half-width never)."""
    mean = f"{ci['mean']:+.3f}" if signed else f"{ci['mean']:.3f}"
    return mean + ("" if ci["half"] is None else f" ± {ci['half']:.3f}")


def table_markdown(summary: dict, metrics: Sequence[str] = ("f1", "f1_exact", "semantic", "fvd", "kvd", "fad", "fjd"),
                   missing: Sequence[tuple[str, str, int]] = ()) -> str:
    """One Markdown table per study: mean ± 95% CI over seeds, then Δf1 and ΔFVD against the reference; then the
    runs ``missing`` from the tables (``(study, variant, seed)``), if any."""
    parts = []
    for study, entries in summary.items():
        head = "| variant | step | seeds | " + " | ".join(metrics) + " | Δf1 vs ref | ΔFVD-bench vs ref |"
        lines = [f"### {study}", "", head, "|" + "---|" * (len(metrics) + 5)]
        for e in entries:
            d1, dv = e.get("delta_f1"), e.get("delta_fvd")
            lines.append(f"| {e['label'] or e['variant']}{' (ref)' if e['reference'] else ''} | {e['step']} | "
                         f"{len(e['seeds'])} | " + " | ".join(_cell(e[m]) for m in metrics)
                         + f" | {_cell(d1, True) if d1 else '–'} | {_cell(dv, True) if dv else '–'} |")
        parts.append("\n".join(lines))
    if missing:
        seeds: dict = {}
        for study, variant, seed in missing:
            seeds.setdefault(f"{study}/{variant}", []).append(str(seed))
        parts.append(f"Not yet run, so not in the tables above ({len(missing)} run{'s' * (len(missing) > 1)}): "
                     + "; ".join(f"{k} seed{'s' * (len(v) > 1)} {', '.join(v)}" for k, v in seeds.items())
                     + ". A run that several studies share is listed once, under its first study.")
    return "\n\n".join(parts) + "\n"
