"""viz layer (see the package docstring): figures and players for the notebooks.

Modules: ``av`` (players with sound, slowed copies), ``plots`` (curves), ``sheet`` (contact sheets), ``model``
(tables of a network), ``training`` (training curves, time to sync), ``conditioning`` (guidance figures), ``evaluation`` (distances against corruption and step).  Each is
imported on first use, so ``mm.viz.model.table_text`` needs no import of its own (and matplotlib loads only then).
"""
import importlib as _importlib

from .av import pair_figure, pair_html, show_pair

__all__: list[str] = ["show_pair", "pair_figure", "pair_html"]
_MODULES = ("ablation", "av", "conditioning", "evaluation", "model", "plots", "sheet", "training")


def __getattr__(name: str):
    if name in _MODULES:
        return _importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'mmdiff_lite.viz' has no attribute {name!r} (its modules: {', '.join(_MODULES)})")
