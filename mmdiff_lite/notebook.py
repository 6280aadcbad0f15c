"""What every notebook of the kit does the same way: budgets, the environment record, figures, widgets.

A notebook starts with::

    BUDGET = os.environ.get("MMDIFF_BUDGET", "cpu")   # the papermill `parameters` cell
    run = mmdiff_lite.notebook.start(BUDGET, seed=0)   # prints versions, device, budget

and ends with ``run.finish()`` (prints the wall time).  ``run.pick(smoke=..., cpu=..., gpu=...,
paper=...)`` chooses a size by budget; ``run.savefig(fig, "name")`` writes ``figures/name.png``;
``interact(fn, ...)`` shows a widget in a live front end and calls ``fn`` once with the defaults
when none is attached (papermill, nbval, CI).
"""
from __future__ import annotations

import datetime as _dt
import os
import platform
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import torch

from .utils import default_device, has_frontend, seed_everything

__all__ = ["BUDGETS", "pick", "start", "Run", "figures_dir", "interact", "has_frontend"]

#: Budget tiers: ``smoke`` (CI, about a minute a notebook), ``cpu`` (the default, a laptop),
#: ``gpu`` (a small GPU), ``paper`` (the authors' scale).
BUDGETS = ("smoke", "cpu", "gpu", "paper")


def check_budget(budget: str) -> str:
    if budget not in BUDGETS:
        raise ValueError(f"unknown BUDGET {budget!r}: use one of {', '.join(BUDGETS)}")
    return budget


def pick(budget: str, *, smoke: Any, cpu: Any, gpu: Any = None, paper: Any = None) -> Any:
    """Value for ``budget``; ``gpu`` falls back to ``cpu`` and ``paper`` to ``gpu`` when not given."""
    check_budget(budget)
    gpu = cpu if gpu is None else gpu
    paper = gpu if paper is None else paper
    return {"smoke": smoke, "cpu": cpu, "gpu": gpu, "paper": paper}[budget]


def _repo_root(start: Path) -> Path | None:
    for d in (start, *start.parents):
        if (d / "pyproject.toml").is_file() and (d / "mmdiff_lite").is_dir():
            return d
    return None


def figures_dir() -> Path:
    """Where notebooks write figures: ``$MMDIFF_FIGURES`` if set (``make test`` points it into
    ``build/``), else the kit's ``figures/`` folder, else ``./figures`` (e.g. on Colab)."""
    env = os.environ.get("MMDIFF_FIGURES")
    if env:
        d = Path(env)
    else:
        root = _repo_root(Path.cwd().resolve())
        d = root / "figures" if root else Path("figures")
    d.mkdir(parents=True, exist_ok=True)
    return d


def interact(fn: Callable[..., Any], *, expensive: bool = False, **controls: Any):
    """``ipywidgets.interact`` that also runs headless, and returns ``fn``'s result with the defaults either way.

    ``controls`` map argument names to ipywidgets controls (whose ``value`` is the default) or to
    plain values (fixed).  With a front end the controls are shown, ``fn`` runs once with the defaults and
    again on every change; without one ``fn`` is called once with the defaults, so CI executes the same code
    path a student sees first.  ``expensive=True`` (sampling, training, building models): sliders redraw
    when released, not at every tick of a drag (``continuous_update=False``), and say that they are working.

    What ``fn`` prints and displays is captured and shown as one ordinary output with a display id, which a
    later change replaces in place (``update_display_data``).  No Output widget is involved, so a headless
    executor (papermill, nbclient) sees the same plain outputs as a browser.
    """
    defaults = {k: getattr(c, "value", c) for k, c in controls.items()}
    if not has_frontend():
        print("(no widget front end: one call with the defaults " + ", ".join(f"{k}={v!r}" for k, v in defaults.items()) + ")")
        return fn(**defaults)
    import ipywidgets as widgets
    from IPython.display import DisplayHandle, display

    live = {k: c for k, c in controls.items() if isinstance(c, widgets.Widget)}
    for name, c in live.items():
        if hasattr(c, "description") and not c.description:
            c.description = name
        if expensive and hasattr(c, "continuous_update"):
            c.continuous_update = False
    panel = widgets.VBox(list(live.values()))
    panel.add_class("mmdiff-interact")  # what the browser test looks for
    display(panel)
    result, bundle = _captured(fn, defaults)
    handle = DisplayHandle()
    handle.display(bundle, raw=True)

    def redraw(_change=None):
        values = {**defaults, **{k: c.value for k, c in live.items()}}
        if expensive:
            handle.update({"text/html": bundle["text/html"] + "<p><i>working on the new values…</i></p>",
                           "text/plain": "working on the new values…"}, raw=True)
        try:
            _, new = _captured(fn, values)
        except Exception as e:  # a bad combination of values: say so where the output was, keep the controls alive
            new = _bundle(f"{type(e).__name__}: {e}\n", [])
        bundle.clear()
        bundle.update(new)
        handle.update(bundle, raw=True)

    for c in live.values():
        c.observe(redraw, names="value")
    return result


def _captured(fn: Callable[..., Any], kwargs: dict) -> tuple[Any, dict]:
    """Call ``fn(**kwargs)`` and return (its result, what it printed and displayed as one mime bundle)."""
    from IPython.utils.capture import capture_output

    with capture_output(stdout=True, stderr=False, display=True) as cap:
        result = fn(**kwargs)
    return result, _bundle(cap.stdout, cap.outputs)


def _bundle(text: str, outputs: list) -> dict:
    """Printed ``text`` and rich ``outputs`` (IPython RichOutput) in one ``text/html`` + ``text/plain`` bundle."""
    import base64
    import html

    parts, plain = [], []
    if text:
        parts.append(f"<pre>{html.escape(text)}</pre>")
        plain.append(text)
    for out in outputs:
        data = out.data
        if "text/html" in data:
            parts.append(data["text/html"])
        elif "image/png" in data or "image/jpeg" in data:
            kind = "image/png" if "image/png" in data else "image/jpeg"
            img = data[kind]
            img = base64.b64encode(img).decode() if isinstance(img, bytes) else img
            parts.append(f'<img src="data:{kind};base64,{img}"/>')
        elif "image/svg+xml" in data:
            parts.append(data["image/svg+xml"])
        else:
            parts.append(f"<pre>{html.escape(str(data.get('text/plain', '')))}</pre>")
        plain.append(str(data.get("text/plain", "")))
    return {"text/html": "\n".join(parts) or "<pre></pre>", "text/plain": "\n".join(plain)}


def show_source(obj: Any):
    """The package's own source of ``obj`` (a function, class or method), syntax-highlighted in a notebook.

    What a notebook shows is the code that runs, so it cannot drift from it.
    Taught in: notebooks/08_zero_shot_conditioning.ipynb.
    """
    import inspect

    from IPython.display import Code

    return Code(inspect.getsource(obj), language="python")


@dataclass
class Run:
    """One executed notebook: its budget, device, seed and clock."""

    budget: str
    seed: int
    device: torch.device
    started: float = field(default_factory=time.perf_counter)

    def pick(self, **by_budget: Any) -> Any:
        return pick(self.budget, **by_budget)

    def savefig(self, fig, name: str, dpi: int = 80) -> Path:
        """Write ``fig`` to ``<figures>/<name>.png`` and return the path (printed relative)."""
        path = figures_dir() / f"{name}.png"
        fig.savefig(path, dpi=dpi, bbox_inches="tight")
        print(f"figure written: figures/{path.name}")
        return path

    def finish(self) -> float:
        wall = time.perf_counter() - self.started
        print(f"notebook finished: budget={self.budget}, wall time {wall:.1f} s")
        return wall


def environment_record(budget: str, device: torch.device) -> dict[str, str]:
    """Versions, device and budget, for the top of every executed notebook."""
    import numpy as np

    rec = {
        "date (UTC)": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M"),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "numpy": np.__version__,
        "device": str(device) + (f" ({torch.cuda.get_device_name(device)})" if device.type == "cuda" else ""),
        "cpu threads": str(torch.get_num_threads()),
        "budget": budget,
    }
    try:
        from importlib.metadata import version

        rec["mmdiff-lite"] = version("mmdiff-lite")
    except Exception:  # not installed as a distribution (e.g. run from a source tree)
        rec["mmdiff-lite"] = "source tree"
    return rec


def start(budget: str, seed: int = 0) -> Run:
    """Begin a notebook run: check the budget, seed everything, print the environment record."""
    check_budget(budget)
    seed_everything(seed)
    import matplotlib

    matplotlib.rcParams["figure.dpi"] = 72  # keeps executed notebooks small (inline PNGs)
    device = default_device()
    for k, v in environment_record(budget, device).items():
        print(f"{k:>12}: {v}")
    return Run(budget=budget, seed=seed, device=device)
