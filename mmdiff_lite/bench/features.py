"""``mmdiff-lite bench features``: do the benchmark feature networks measure what matters?

1. :func:`mmdiff_lite.metrics.feature_checks.check_feature_network`: the real-against-real floor, every
   corruption at rising strength, and two collapsed generators (``checks.json``, ``corruptions.png``).
2. The shipped models: every snapshot of ``tiny`` (step 500 to the final one), ``tiny-nocross`` and
   ``tiny-rshift``, each evaluated as ``mmdiff-lite evaluate`` does on the same seeds (``models.json``,
   ``models.md``, ``snapshots.png``). The distances should fall as training goes on and the sync scores rise,
   and the joint distance should tell ``tiny-nocross`` from ``tiny``.

Taught in: notebooks/09_evaluation.ipynb
"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

from ..metrics.feature_checks import check_feature_network
from ..metrics.features import feature_network
from ..pipeline import load_model, load_snapshot, sampling_setup, shipped_checkpoints
from ..pipeline.fidelity import evaluate_model
from ..utils import atomic_path, write_json

__all__ = ["DEFAULT_MODELS", "model_rows", "feature_benchmark", "models_markdown"]

#: The shipped models the benchmark evaluates: "name" or "name@step" (a shipped EMA snapshot).
DEFAULT_MODELS = ("tiny@500", "tiny@1000", "tiny@2000", "tiny@4000", "tiny", "tiny-nocross", "tiny-rshift")


def _load(spec: str):
    name, _, step = spec.partition("@")
    return load_snapshot(name, int(step)) if step else load_model(name)


def model_rows(models: Sequence[str] = DEFAULT_MODELS, n: int = 256, seed: int = 0, n_boot: int = 100,
               progress: bool = True) -> list[dict]:
    """One :func:`mmdiff_lite.pipeline.fidelity.evaluate_model` result per model spec, with its ``model`` label."""
    rows = []
    nets = {}
    for spec in models:
        model, meta = _load(spec)
        _, preset = sampling_setup(meta)
        net = nets.setdefault(preset, feature_network("bench", preset))
        rows.append({"model": spec, **evaluate_model(model, meta, net, n=n, seed=seed, n_boot=n_boot, progress=progress)})
    return rows


def models_markdown(rows: list[dict]) -> str:
    """A Markdown table of :func:`model_rows`: each distance (95% interval) and the sync scores."""
    keys = [k for k in ("fvd", "kvd", "fad", "kad", "fjd", "kjd") if k in rows[0]["generated"]]
    head = "| model | step | " + " | ".join(keys) + " | f1 | semantic | memorised |"
    lines = [head, "|" + "---|" * (len(keys) + 5)]
    for r in rows:
        cells = [f"{r['generated'][k]['value']:.3f} [{r['generated'][k]['low']:.3f}, {r['generated'][k]['high']:.3f}]"
                 for k in keys]
        lines.append(f"| {r['model']} | {r['step']} | " + " | ".join(cells)
                     + f" | {r['sync']['f1']:.3f} | {r['sync']['semantic']:.3f} | {r['memorisation']['share_generated']:.3f} |")
    floor = rows[0]["floor"]
    lines.append("| real vs real (floor) | – | " + " | ".join(f"{floor[k]['value']:.3f}" for k in keys)
                 + f" | {rows[0]['sync_real']['f1']:.3f} | {rows[0]['sync_real']['semantic']:.3f} | 0.050 |")
    return "\n".join(lines) + "\n"


def feature_benchmark(out: str | Path, n: int = 256, seed: int = 0, n_boot: int = 100,
                      models: Sequence[str] | None = DEFAULT_MODELS, progress: bool = True) -> dict:
    """Run both parts into folder ``out`` (each file written atomically); returns ``{"checks", "models"}``."""
    from ..viz.evaluation import plot_corruptions, plot_snapshots

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    net = feature_network("bench", "tiny")
    checks = check_feature_network(net, n=n, seed=seed, n_boot=n_boot, progress=progress)
    write_json(out / "checks.json", checks)
    plot_corruptions(checks, out / "corruptions.png")
    rows = []
    if models:
        known = shipped_checkpoints()
        missing = [m for m in models if m.partition("@")[0] not in known]
        if missing:
            raise ValueError(f"not shipped: {', '.join(missing)} (shipped: {', '.join(known)})")
        rows = model_rows(models, n=n, seed=seed, n_boot=n_boot, progress=progress)
        write_json(out / "models.json", {"n": n, "seed": seed, "rows": rows})
        with atomic_path(out / "models.md") as tmp:
            tmp.write_text(models_markdown(rows))
        plot_snapshots(rows, out / "snapshots.png")
    return {"checks": checks, "models": rows}
