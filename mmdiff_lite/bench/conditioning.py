"""Zero-shot conditioning side by side (``mmdiff-lite bench conditioning``): for audio->video and video->audio,
the joint sample, replacement (fixed and fresh noise) and gradient guidance (the paper's form over a lambda grid,
reconstruction guidance, every sampler), all on the same given clips and seeds.

Each seed s takes the first ``n`` true pairs of the benchmark drawn with seed s and samples with seed s; a row
pools the per-pair scores of all seeds.  Every row is written to ``out/rows/`` as soon as it is done, so an
interrupted run resumes where it stopped.  Δf1 is the row's f1 minus replacement's (fixed noise, the same
same sampler) pair by pair, with the standard error of those differences.
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Sequence

import torch

from ..diffusion import Conditioning, benchmark_table
from ..metrics.reference import PAIRING_KEYS, reference_pairs
from ..metrics.sync import paired_difference, standard_error
from ..pipeline import load_model, sampling_setup
from ..pipeline.conditional import score_conditional
from ..utils import default_device, tqdm, write_json
from ..viz.model import table_text

__all__ = ["default_rows", "conditioning_benchmark", "conditioning_markdown", "add_paired_differences", "REFERENCE_ROW"]

REFERENCE_ROW = "replace (fixed noise)"
_SAMPLERS = {label: (method, steps, opts) for label, method, steps, opts in benchmark_table()}


def default_rows(paper_grid: Sequence[float] = (0.3, 1, 3, 10), recon_grid: Sequence[float] = (30, 100, 300, 1000),
                 best: tuple[str, float] = ("reconstruction", 300.0), t_min: float = 150.0,
                 samplers: Sequence[str] = ("DDIM-50", "DPM-Solver++-20", "SDE-DPM-Solver++-20"),
                 main: str = "DPM-Solver-20") -> list[dict]:
    """The issue's rows for one direction: (label, sampler label, conditioning or None)."""
    rows = [{"row": "joint sample (reference)", "sampler": main, "conditioning": None},
            {"row": REFERENCE_ROW, "sampler": main, "conditioning": Conditioning("replace")},
            {"row": "replace (fresh noise)", "sampler": main, "conditioning": Conditioning("replace", noise="fresh")}]
    rows += [{"row": f"guide paper λ={lam:g}", "sampler": main, "conditioning": Conditioning("guide", lam)}
             for lam in paper_grid]
    rows += [{"row": f"guide reconstruction λ={lam:g} (t≥{t_min:g})", "sampler": main,
              "conditioning": Conditioning("guide", lam, form="reconstruction", t_min=t_min)} for lam in recon_grid]
    form, lam = best
    for label in samplers:
        rows.append({"row": f"{label}: replace", "sampler": label, "conditioning": Conditioning("replace")})
        rows.append({"row": f"{label}: guide {form} λ={lam:g}", "sampler": label,
                     "conditioning": Conditioning("guide", lam, form=form, t_min=t_min if form == "reconstruction" else 0)})
    return rows


def _is_replacement(row: dict) -> bool:
    c = row["conditioning"]
    return c is not None and c["method"] == "replace" and c["noise"] == "fixed"


def add_paired_differences(rows: list[dict]) -> list[dict]:
    """``d_f1`` ± ``se_d_f1`` and ``d_reference`` on each row of one direction: f1 minus that of replacement
    (fixed noise) with the *same sampler*, pair by pair (the joint sample: minus its sampler's replacement)."""
    refs = {}
    for r in rows:
        if _is_replacement(r):
            refs.setdefault(r["sampler"], r)
    for r in rows:
        ref = refs.get(r["sampler"])
        if ref is not None:
            r["d_f1"], r["se_d_f1"] = paired_difference(r["per_clip"]["f1"], ref["per_clip"]["f1"])
            r["d_reference"] = ref["row"]
    return rows


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9.=_-]+", "_", text).strip("_")


def _run_row(model, preset, schedule, given, row, n, seeds, batch_size, progress) -> dict:
    method, steps, opts = row.get("spec") or _SAMPLERS[row["sampler"]]  # spec: (method, steps, options)
    per_clip = {k: [] for k in PAIRING_KEYS}
    plaus, seconds = [], 0.0
    for s in seeds:
        v, a = reference_pairs(n, preset, seed=s)["true"]
        r = score_conditional(model, {"video": v, "audio": a}, given, row["conditioning"], method=method, steps=steps,
                              seed=s, batch_size=batch_size, preset=preset, schedule=schedule, progress=progress,
                              **opts)
        for k in PAIRING_KEYS:
            per_clip[k] += r["per_clip"][k]
        plaus.append(r["plausibility"])
        seconds += r["seconds_per_pair"] * n
    total = n * len(seeds)
    out = {"given": given, "row": row["row"], "sampler": row["sampler"],
           "conditioning": None if row["conditioning"] is None else vars(row["conditioning"]).copy(),
           "pairs": total, "seconds_per_pair": seconds / total, "plausibility": sum(plaus) / len(plaus),
           "per_clip": per_clip}
    for k in PAIRING_KEYS:
        out[k] = sum(per_clip[k]) / total
        out[f"se_{k}"] = standard_error(per_clip[k])
    return out


def conditioning_benchmark(checkpoint: str = "tiny", out: str | Path = "outputs/bench-conditioning", n: int = 64,
                           seeds: Sequence[int] = (0, 1, 2), given: Sequence[str] = ("audio", "video"),
                           rows: Sequence[dict] | None = None, batch_size: int = 16, progress: bool = True) -> dict:
    """Run (or resume) the zero-shot table; returns ``{"rows": [...], ...}`` and writes ``out/results.json``."""
    if n < 1 or not seeds:
        raise ValueError("--n must be at least 1 and --seeds must name at least one seed")
    out = Path(out)
    (out / "rows").mkdir(parents=True, exist_ok=True)
    model, meta = load_model(checkpoint, device=default_device())
    schedule, preset = sampling_setup(meta)
    rows = list(rows) if rows is not None else default_rows()
    results = []
    jobs = [(g, r) for g in given for r in rows]
    for g, row in tqdm(jobs, desc="conditioning rows", disable=not progress):
        path = out / "rows" / f"{g}--{_slug(row['row'])}.json"
        if path.exists():
            done = json.loads(path.read_text())
            if done.get("pairs") == n * len(seeds):
                results.append(done)
                continue
        res = _run_row(model, preset, schedule, g, row, n, seeds, batch_size, progress=False)
        write_json(path, res)
        results.append(res)
    for g in given:
        add_paired_differences([r for r in results if r["given"] == g])
    result = {"checkpoint": str(checkpoint), "step": meta.get("step"), "preset": preset, "n_per_seed": n,
              "seeds": list(seeds), "threads": torch.get_num_threads(), "reference": REFERENCE_ROW, "rows": results}
    write_json(out / "results.json", result)
    (out / "table.md").write_text(conditioning_markdown(result))
    return result


_COLUMNS = {"row": "row", "sampler": "sampler", "f1": "f1", "se_f1": "± se", "f1_exact": "f1 exact",
            "semantic": "semantic", "se_semantic": "± se ", "plausibility": "plausibility (generated)",
            "seconds_per_pair": "s/pair", "d_f1": "Δf1 vs replace", "se_d_f1": "± se  "}


def conditioning_markdown(result: dict) -> str:
    """Markdown tables (one per direction) of a :func:`conditioning_benchmark` result."""
    parts = [f"Zero-shot conditioning on `{result['checkpoint']}` (step {result['step']}): "
             f"{result['n_per_seed']} given clips × seeds {result['seeds']} per row, {result['threads']} threads; "
             "Δf1 = f1 minus replacement's (fixed noise) with the same sampler, on the same pairs (se of the paired "
             "differences)."]
    for g, title in (("audio", "Video for a given sound (audio → video)"), ("video", "Sound for a given video (video → audio)")):
        rows = [r for r in result["rows"] if r["given"] == g]
        if rows:
            table = [{label: r.get(key) for key, label in _COLUMNS.items()} for r in rows]
            parts.append(f"### {title}\n\n" + table_text(table, floats="{:.3f}", markdown=True))
    return "\n\n".join(parts) + "\n"
