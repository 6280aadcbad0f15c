"""``make student``: the course without its solutions.

Every cell tagged ``solution`` is emptied (code: ``# your code here``; markdown: a line asking for the answer) and
the outputs of the solution and ``check`` cells are cleared, so nothing gives an answer away; everything else,
outputs included, stays as the teacher's copy has it.

    python -m mmdiff_lite.exercises.student --src notebooks --out build/student
"""
from __future__ import annotations

import argparse
import copy
import json
from pathlib import Path

__all__ = ["student_notebook", "write_student_copy", "CODE_PLACEHOLDER", "TEXT_PLACEHOLDER"]

CODE_PLACEHOLDER = "# your code here\n"
TEXT_PLACEHOLDER = "*Your answer here (double-click to edit).*\n"


def _tags(cell: dict) -> list[str]:
    return cell.get("metadata", {}).get("tags", [])


def student_notebook(nb: dict) -> dict:
    """A copy of notebook ``nb`` (nbformat JSON) with its solutions emptied."""
    out = copy.deepcopy(nb)
    for cell in out["cells"]:
        tags = _tags(cell)
        if "solution" in tags:
            cell["source"] = [CODE_PLACEHOLDER if cell["cell_type"] == "code" else TEXT_PLACEHOLDER]
        if cell["cell_type"] == "code" and ({"solution", "check"} & set(tags)):
            cell["outputs"], cell["execution_count"] = [], None
    return out


def write_student_copy(src: str | Path = "notebooks", out: str | Path = "build/student") -> list[Path]:
    """Write the student copy of every notebook in ``src`` to ``out``; returns the files written."""
    from ..utils import atomic_path

    written = []
    for path in sorted(Path(src).glob("[0-9]*.ipynb")):
        target = Path(out) / path.name
        with atomic_path(target) as tmp:
            tmp.write_text(json.dumps(student_notebook(json.loads(path.read_text())), indent=1, ensure_ascii=False) + "\n")
        written.append(target)
    return written


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--src", default="notebooks", help="the course (default: notebooks)")
    p.add_argument("--out", default="build/student", help="where the student copy goes (default: build/student)")
    args = p.parse_args(argv)
    files = write_student_copy(args.src, args.out)
    print(f"student copy: {len(files)} notebooks in {args.out}/ (solutions emptied)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
