"""Sample submissions built from the committed notebooks: for tests, benchmarks and demos."""

from __future__ import annotations

from pathlib import Path

import nbformat

from .build import solution_marker
from .source import parse_exercise, reference_source

REPO = Path(__file__).resolve().parents[2]
EXERCISES_DIR = REPO / "exercises"


def student(name: str):
    """The student notebook of exercise ``name``, as committed (stubs, visible checks)."""
    return nbformat.read(EXERCISES_DIR / f"{name}.ipynb", as_version=4)


def set_solution(nb, cell_id: str, body: str):
    """Write ``body`` into solution cell ``cell_id`` (keeping its marker line); return ``nb``."""
    for cell in nb.cells:
        if cell.get("id") == cell_id:
            cell.source = solution_marker(cell_id) + "\n" + body
            return nb
    raise KeyError(f"no cell with id {cell_id!r}")


def reference(name: str):
    """The student notebook with the reference solution filled in: full marks."""
    nb = student(name)
    for cell in parse_exercise(EXERCISES_DIR / "src" / f"{name}.py").solutions:
        set_solution(nb, cell.id, reference_source(cell))
    return nb


def exercise_names() -> list[str]:
    return sorted(p.stem for p in (EXERCISES_DIR / "src").glob("*.py"))
