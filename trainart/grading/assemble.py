"""Put a submission's solution cells into the canonical notebook, and flag tampering.

Only the *source* of each solution cell is taken from the submission: matched by cell id,
or, when the id changed, by the marker line ``# [solution: ID]`` that starts every solution
cell. Everything else the student changed is discarded: check cells (edited, deleted or
added), extra cells, stored outputs, the kernelspec.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

# (pattern, what the report says) for code that could tamper with grading from inside the
# kernel. A match is not a verdict: the submission is flagged for a person to review.
FLAG_PATTERNS = [
    (r"\bget_ipython\b", "uses get_ipython()"),
    (r"\b(settrace|setprofile)\b", "calls sys.settrace/setprofile"),
    (r"\b__builtins__\b|\bbuiltins\b", "touches builtins"),
    (r"\.ipynb\b", "refers to a .ipynb file"),
    (r"\btrainart\b", "imports trainart, which holds the reference implementations"),
    (r"\bsys\.(stdout|stderr|__stdout__)\b|\bredirect_std(out|err)\b", "redirects output"),
    (r"\bsys\.modules\b", "touches sys.modules"),
    (r"\b_getframe\b|\binspect\.(stack|currentframe)\b", "inspects the call stack"),
    (r"\bos\._exit\b|\bsignal\.", "exits the process or handles signals"),
    (r"\bCheckFailed\b|\bcheck\s*=|\bcheck\.__", "redefines the check helper"),
]


class SubmissionError(ValueError):
    """The submission is not a gradable notebook (the student's fault: scored zero)."""


@dataclass
class Assembled:
    notebook: object
    exercise: str
    messages: list[str] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)


def load_notebook(path: Path):
    """Read ``path`` as a notebook, or raise :class:`SubmissionError` saying why not."""
    if path.suffix != ".ipynb":
        raise SubmissionError(f"not a notebook: {path.name} is not a .ipynb file")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise SubmissionError(f"not a notebook: {path.name} is not UTF-8 text") from None
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as e:
        raise SubmissionError(f"not a notebook: {path.name} is not valid JSON "
                              f"(line {e.lineno}, column {e.colno}: {e.msg})") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("cells"), list):
        raise SubmissionError(f"not a notebook: {path.name} has no list of cells")
    try:
        return nbformat.reads(text, as_version=4)
    except Exception as e:  # nbformat raises several kinds for malformed notebooks
        raise SubmissionError(f"not a notebook: {path.name} could not be read "
                              f"({type(e).__name__})") from None


def _solution_ids(nb) -> list[str]:
    return [c.id for c in nb.cells
            if c.cell_type == "code" and c.metadata.get("trainart", {}).get("role") == "solution"]


def _marker(cell_id: str) -> re.Pattern:
    return re.compile(rf"^#\s*\[solution:\s*{re.escape(cell_id)}\]", re.MULTILINE)


def identify_exercise(nb, canonicals: dict) -> str:
    """Which exercise ``nb`` answers: its metadata, else the solution cells it contains."""
    named = nb.metadata.get("trainart", {}).get("exercise")
    if named in canonicals:
        return named
    scores = {}
    for name, canonical in canonicals.items():
        ids = _solution_ids(canonical)
        found = sum(1 for sid in ids if _find_solution(nb, sid) is not None)
        scores[name] = found
    best = max(scores, key=scores.get, default=None)
    if best is None or scores[best] == 0:
        known = ", ".join(sorted(canonicals))
        raise SubmissionError(f"this notebook is not one of the exercises ({known}): none of "
                              f"their solution cells is in it")
    return best


def _find_solution(nb, cell_id: str):
    """The student's cell for solution ``cell_id``: by id, else by its marker line."""
    code = [c for c in nb.cells if c.cell_type == "code"]
    for cell in code:
        if cell.get("id") == cell_id:
            return cell
    pattern = _marker(cell_id)
    for cell in code:
        if pattern.search(cell.source):
            return cell
    return None


def assemble(nb, canonical, exercise: str, expected: str | None = None) -> Assembled:
    """A fresh copy of ``canonical`` whose solution cells hold the student's sources."""
    if expected is not None and exercise != expected:
        raise SubmissionError(f"this notebook is for exercise '{exercise}', "
                              f"not '{expected}'")
    result = Assembled(notebook=nbformat.from_dict(json.loads(json.dumps(canonical))),
                       exercise=exercise)
    taken = set()
    for cell in result.notebook.cells:
        meta = cell.metadata.get("trainart", {})
        if cell.cell_type != "code" or meta.get("role") != "solution":
            continue
        theirs = _find_solution(nb, cell.id)
        if theirs is None:
            result.messages.append(
                f"Solution cell '{cell.id}' is missing: no cell has its id or starts with "
                f"'# [solution: {cell.id}]'. It was graded as not implemented.")
            continue
        taken.add(id(theirs))
        cell.source = theirs.source
        if theirs.get("id") != cell.id:
            result.messages.append(f"Solution cell '{cell.id}' was found by its marker line "
                                   f"(its cell id had changed).")
        for pattern, what in FLAG_PATTERNS:
            if re.search(pattern, theirs.source):
                result.flags.append(f"cell '{cell.id}' {what}")
    ignored = _changed_other_cells(nb, canonical, taken)
    if ignored:
        result.messages.append(f"{ignored} other cell(s) were added or changed; only solution "
                               f"cells are graded, so they were ignored.")
    kernel = nb.metadata.get("kernelspec", {}).get("name")
    if kernel and kernel != canonical.metadata["kernelspec"]["name"]:
        result.messages.append(f"The notebook asked for kernel '{kernel}'; it was graded with "
                               f"the course's Python 3 kernel.")
    return result


def _changed_other_cells(nb, canonical, taken: set) -> int:
    sources = {c.source.strip() for c in canonical.cells}
    return sum(1 for c in nb.cells
               if id(c) not in taken and c.source.strip() and c.source.strip() not in sources)
