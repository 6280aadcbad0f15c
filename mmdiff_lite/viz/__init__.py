"""viz layer (see the package docstring)."""
from .av import pair_figure, pair_html, show_pair

__all__: list[str] = ["show_pair", "pair_figure", "pair_html"]
