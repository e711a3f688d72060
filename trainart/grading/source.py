"""The authored exercise format: one ``exercises/src/<name>.py`` file per exercise.

A source is a Python file split into cells by ``# %%`` header lines (the "percent" format
editors understand). The header says the cell's role and, for checks, its points::

    # %% [markdown]
    # # Exercise: Adam
    # Implement one Adam step ...

    # %% setup
    import numpy as np
    from trainart.grading.checks import check

    # %% solution id=adam_step
    def adam_step(param, grad, m, v, t, lr, beta1, beta2, eps):
        ### BEGIN SOLUTION
        ...reference code...
        ### END SOLUTION

    # %% check id=first_step points=2
    with check("the first step moves every coordinate by lr") as c:
        ...

    # %% check id=long_run points=3 hidden
    ...

Roles: ``markdown`` (text; each line starts with ``# ``), ``setup`` (code students see and
may not change), ``solution`` (what the student writes: the lines between ``### BEGIN
SOLUTION`` and ``### END SOLUTION`` become ``raise NotImplementedError`` in the student
notebook), ``check`` (graded; ``points=N``; ``hidden`` ones exist only in the grading
notebook). Every code cell needs a unique ``id=`` of letters, digits, ``-`` and ``_``. A setup
cell may declare ``off-limits=trainart.optim.adam,...``: the parts of trainart that hold the
reference solution, replaced by stubs inside the grading sandbox.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

ROLES = ("markdown", "setup", "solution", "check")
BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
_HEADER = re.compile(r"^# %%(?P<rest>.*)$")
_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class ExerciseFormatError(ValueError):
    """An exercise source that does not follow the format; the message names file and line."""


@dataclass
class Cell:
    role: str
    source: str
    id: str = ""
    points: int = 0
    hidden: bool = False
    line: int = 0  # where its header is, for error messages
    off_limits: tuple[str, ...] = ()  # setup cells: trainart modules hidden while grading

    @property
    def is_code(self) -> bool:
        return self.role != "markdown"


@dataclass
class Exercise:
    name: str
    cells: list[Cell] = field(default_factory=list)

    @property
    def checks(self) -> list[Cell]:
        return [c for c in self.cells if c.role == "check"]

    @property
    def solutions(self) -> list[Cell]:
        return [c for c in self.cells if c.role == "solution"]

    @property
    def off_limits(self) -> list[str]:
        return [m for c in self.cells for m in c.off_limits]

    @property
    def total_points(self) -> int:
        return sum(c.points for c in self.checks)

    @property
    def title(self) -> str:
        for c in self.cells:
            if c.role == "markdown":
                for line in c.source.splitlines():
                    if line.startswith("# "):
                        return line[2:].strip()
        return self.name


def _parse_header(rest: str, where: str) -> dict:
    rest = rest.strip()
    if rest.startswith("[markdown]"):
        return {"role": "markdown"}
    words = rest.split()
    if not words or words[0] not in ROLES[1:]:
        raise ExerciseFormatError(f"{where}: a cell header must name a role "
                                  f"({', '.join(ROLES[1:])} or [markdown]), got {rest!r}")
    meta = {"role": words[0]}
    for word in words[1:]:
        key, eq, value = word.partition("=")
        if key == "hidden" and not eq:
            meta["hidden"] = True
        elif key == "id" and eq:
            meta["id"] = value
        elif key == "off-limits" and eq and words[0] == "setup":
            meta["off_limits"] = tuple(m for m in value.split(",") if m)
        elif key == "points" and eq:
            try:
                meta["points"] = int(value)
            except ValueError:
                raise ExerciseFormatError(
                    f"{where}: points must be an integer, got {value!r}") from None
        else:
            raise ExerciseFormatError(f"{where}: unknown cell option {word!r} "
                                      f"(use id=..., points=N, hidden; off-limits=MODULE,... "
                                  f"on a setup cell)")
    return meta


def parse_exercise(path: str | Path) -> Exercise:
    """Read an exercise source file into an :class:`Exercise`, checking the format."""
    path = Path(path)
    lines = path.read_text(encoding="utf-8").splitlines()
    exercise = Exercise(name=path.stem)
    current: dict | None = None
    body: list[str] = []

    def flush():
        if current is None:
            return
        text = "\n".join(body).strip("\n")
        if current["role"] == "markdown":
            text = "\n".join(line[2:] if line.startswith("# ") else line.lstrip("#")
                             for line in text.splitlines())
        exercise.cells.append(Cell(source=text, **current))

    for number, line in enumerate(lines, start=1):
        match = _HEADER.match(line)
        if match:
            flush()
            current = _parse_header(match["rest"], f"{path}:{number}")
            current["line"] = number
            body = []
        elif current is None:
            if line.strip():
                raise ExerciseFormatError(f"{path}:{number}: text before the first '# %%' header")
        else:
            body.append(line)
    flush()
    _validate(exercise, path)
    return exercise


def _validate(exercise: Exercise, path: Path) -> None:
    seen = set()
    for cell in exercise.cells:
        where = f"{path}:{cell.line}"
        if not cell.is_code:
            continue
        if not _ID.match(cell.id):
            raise ExerciseFormatError(f"{where}: every code cell needs id=NAME "
                                      f"(letters, digits, - and _), got {cell.id!r}")
        if cell.id in seen:
            raise ExerciseFormatError(f"{where}: duplicate cell id {cell.id!r}")
        seen.add(cell.id)
        if cell.role == "check" and cell.points <= 0:
            raise ExerciseFormatError(f"{where}: check {cell.id!r} needs points=N with N > 0")
        if cell.role != "check" and (cell.points or cell.hidden):
            raise ExerciseFormatError(f"{where}: only check cells have points or hidden")
        if cell.role == "solution":
            if cell.source.count(BEGIN) != 1 or cell.source.count(END) != 1 or \
                    cell.source.index(BEGIN) > cell.source.index(END):
                raise ExerciseFormatError(f"{where}: solution {cell.id!r} needs one "
                                          f"'{BEGIN}' ... '{END}' block")
    if not exercise.solutions or not exercise.checks:
        raise ExerciseFormatError(f"{path}: an exercise needs solution and check cells")


def student_source(cell: Cell) -> str:
    """The solution cell as students get it: the solution block replaced by a stub."""
    out, inside = [], False
    for line in cell.source.splitlines():
        stripped = line.strip()
        if stripped == BEGIN:
            indent = line[: len(line) - len(line.lstrip())]
            out.append(f"{indent}# YOUR CODE HERE")
            out.append(f'{indent}raise NotImplementedError("{cell.id}: not implemented yet")')
            inside = True
        elif stripped == END:
            inside = False
        elif not inside:
            out.append(line)
    return "\n".join(out)


def reference_source(cell: Cell) -> str:
    """The solution cell with the reference solution, delimiters removed."""
    return "\n".join(line for line in cell.source.splitlines()
                     if line.strip() not in (BEGIN, END))
