"""The layers import only downwards (the brief's rule), checked on every module's source, imports inside
functions included: utils < diffusion < model < data < metrics, viz < train < pipeline < bench, study, CLI, notebooks."""
import ast
from pathlib import Path

PKG = Path(__file__).resolve().parents[1] / "mmdiff_lite"
RANK = {"utils": 0, "fields": 0, "diffusion": 1, "model": 2, "data": 3, "metrics": 4, "viz": 5, "train": 6,
        "pipeline": 7, "bench": 8, "study": 8, "commands": 8, "cli": 8, "notebook": 8, "exercises": 8, "__main__": 8, "__init__": 9}


def _layer(parts):
    return parts[0] if parts else "__init__"


def _imports(path):
    rel = path.relative_to(PKG).with_suffix("").parts
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against this module's package
                base = list(rel[:-1])[: len(rel) - node.level]
                target = base + (node.module.split(".") if node.module else [])
            elif node.module and node.module.startswith("mmdiff_lite"):
                target = node.module.split(".")[1:]
            else:
                continue
            yield node.lineno, target
        elif isinstance(node, ast.Import):
            for a in node.names:
                if a.name.startswith("mmdiff_lite."):
                    yield node.lineno, a.name.split(".")[1:]


def test_no_module_imports_a_higher_layer():
    bad = []
    for path in PKG.rglob("*.py"):
        own = _layer(path.relative_to(PKG).with_suffix("").parts)
        for line, target in _imports(path):
            other = _layer(target)
            if other != own and RANK.get(other, 0) > RANK[own]:
                bad.append(f"{path.relative_to(PKG.parent)}:{line} imports {other} (a higher layer than {own})")
    assert not bad, "\n".join(bad)
