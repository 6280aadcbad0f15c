"""Every notebook follows the kit's rules (checked on the committed files, without running them)."""
import importlib
import inspect
import json
import re
import sys
import tomllib
from pathlib import Path

import pytest

import mmdiff_lite as mm

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9]*.ipynb"))


def _cells(path):
    return json.loads(path.read_text())["cells"]


def _src(cell):
    return "".join(cell["source"])


def _outputs_text(cell):
    parts = []
    for o in cell.get("outputs", []):
        t = o.get("text", "")
        parts.append(t if isinstance(t, str) else "".join(t))
        for mime in ("text/plain", "text/html"):
            d = o.get("data", {}).get(mime, "")
            parts.append(d if isinstance(d, str) else "".join(d))
    return "".join(parts)


def test_there_are_notebooks():
    assert len(NOTEBOOKS) >= 2


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_rules(path):
    cells = _cells(path)
    code = [c for c in cells if c["cell_type"] == "code"]
    url = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["urls"]["Repository"]
    # 1. the Colab cell comes first and installs from the one repository URL
    assert "google.colab" in _src(code[0]) and f"git+{url}" in _src(code[0])
    # 2. a papermill parameters cell whose BUDGET defaults from the environment
    params = [c for c in code if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(params) == 1
    assert 'BUDGET = os.environ.get("MMDIFF_BUDGET", "cpu")' in _src(params[0])
    # 3. imports the kit, starts a run, asserts what it teaches, finishes
    body = "\n".join(_src(c) for c in code)
    assert "import mmdiff_lite" in body and "start(BUDGET" in body and "run.finish()" in body
    assert re.search(r"^\s*assert\b", body, re.M)
    # 4. committed with the outputs of a real cpu run: no errors, no machine paths, small
    assert path.stat().st_size < 3 * 2**20
    text = "\n".join(_outputs_text(c) for c in code)
    assert "budget: cpu" in text, "commit the notebook executed at the cpu budget (make notebooks)"
    assert not any(o.get("output_type") == "error" for c in code for o in c.get("outputs", []))
    assert not re.search(r"/(work|root|home|tmp)/", text), "outputs show a machine path"


def _resolve(name):
    """``mm.x.y`` (or ``mmdiff_lite.x.y``) -> the object, importing submodules (``mm.viz.show_pair``) as needed."""
    parts = name.removeprefix("mm.").removeprefix("mmdiff_lite.").split(".")
    obj, path = mm, "mmdiff_lite"
    for p in parts:
        path = f"{path}.{p}"
        if not hasattr(obj, p):
            importlib.import_module(path)
        obj = getattr(obj, p)
    return obj


def _docs(name, obj):
    """The object's docstring plus those of the kit modules that define it (constants have no own docs)."""
    docs = [inspect.getdoc(obj) or ""] if (callable(obj) or inspect.ismodule(obj)) else []
    last = name.split(".")[-1]
    owners = {getattr(obj, "__module__", None)} if callable(obj) else set()
    owners |= {m.__name__ for m in list(sys.modules.values())
               if m and m.__name__.startswith("mmdiff_lite.") and vars(m).get(last) is obj}
    docs += [inspect.getdoc(sys.modules[m]) or "" for m in owners if m in sys.modules]
    return "\n".join(docs)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_back_links_between_notebooks_and_functions(path):
    """Each notebook names the functions it teaches; each of them names the notebook (d2l-style)."""
    intro = _src(_cells(path)[0])
    m = re.search(r"Functions taught here:\*\*(.*)", intro, re.S)
    assert m, "the first cell must list 'Functions taught here'"
    names = re.findall(r"`([\w.]+)`", m.group(1))
    assert names
    for name in names:
        obj = _resolve(name)
        assert path.name in _docs(name, obj), f"{name} does not say that {path.name} teaches it"
