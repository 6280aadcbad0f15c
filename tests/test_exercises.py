"""The course's exercises: every checker passes its notebook's solution and fails an empty or wrong answer; the
student copy empties every solution; notebooks and the registry agree."""
import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch

import mmdiff_lite as mm
from mmdiff_lite.exercises import EXERCISES, check
from mmdiff_lite.exercises.student import CODE_PLACEHOLDER, student_notebook

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def _cells():
    """(notebook stem, exercise id, solution source) for every check cell of the course."""
    found = []
    for path in sorted(NOTEBOOKS.glob("[0-9]*.ipynb")):
        cells = json.loads(path.read_text())["cells"]
        for i, cell in enumerate(cells):
            if "check" in cell.get("metadata", {}).get("tags", []):
                src = "".join(cell["source"])
                ex_id = src.split('check("', 1)[1].split('"', 1)[0]
                solution = cells[i - 1]
                assert "solution" in solution["metadata"].get("tags", []), f"{path.name}: {ex_id} has no solution cell"
                found.append((path.stem, ex_id, "".join(solution["source"])))
    return found


CELLS = _cells()


def _run(source: str) -> dict:
    namespace = {"mm": mm, "torch": torch, "np": np, "math": math}
    exec(compile(source, "<solution>", "exec"), namespace)
    return namespace


def test_every_exercise_is_in_its_notebook_and_every_notebook_has_two_to_four():
    ids = {ex_id for _, ex_id, _ in CELLS}
    assert ids == set(EXERCISES), f"registered but not in a notebook: {set(EXERCISES) - ids}; unknown: {ids - set(EXERCISES)}"
    for stem, ex_id, _ in CELLS:
        assert EXERCISES[ex_id].notebook == stem
    per = {p.stem: sum(1 for s, _, _ in CELLS if s == p.stem) for p in NOTEBOOKS.glob("[0-9]*.ipynb")}
    assert all(2 <= n <= 4 for n in per.values()), per


@pytest.mark.parametrize("stem,ex_id,solution", CELLS, ids=[c[1] for c in CELLS])
def test_the_solution_passes_and_an_empty_or_wrong_answer_fails(stem, ex_id, solution):
    answer = EXERCISES[ex_id].answer
    result = check(ex_id, _run(solution).get(answer))
    assert result.ok, result.message
    empty = check(ex_id, _run(CODE_PLACEHOLDER).get(answer))
    assert not empty.ok and "not answered yet" in empty.message and EXERCISES[ex_id].hint in empty.message
    for wrong in (-1, lambda *args, **kwargs: -1, (0, 0, 0), "nonsense"):
        assert not check(ex_id, wrong).ok, f"{ex_id} accepts {wrong!r}"


def test_an_answer_that_raises_is_reported_not_raised():
    def broken(*args):
        raise ZeroDivisionError("oops")

    result = check("05.window-mask", broken)
    assert not result.ok and "raised ZeroDivisionError: oops" in result.message


def test_the_student_copy_empties_every_solution_and_its_checks_outputs():
    for path in sorted(NOTEBOOKS.glob("[0-9]*.ipynb")):
        nb = json.loads(path.read_text())
        student = student_notebook(nb)
        assert len(student["cells"]) == len(nb["cells"])
        for teacher, copy in zip(nb["cells"], student["cells"]):
            tags = teacher.get("metadata", {}).get("tags", [])
            if "solution" in tags:
                assert "".join(copy["source"]).strip() in ("# your code here", "*Your answer here (double-click to edit).*")
            else:
                assert copy["source"] == teacher["source"]
            if {"solution", "check"} & set(tags) and copy["cell_type"] == "code":
                assert copy["outputs"] == []
