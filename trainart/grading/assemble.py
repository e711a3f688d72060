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

from .build import solutions_note

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


MAX_BYTES = 16 * 2**20  # a submission larger than this is refused before it is read
MAX_DEPTH = 64  # JSON nesting (a notebook needs about 6)
MAX_CELLS = 2000


def _text(value, where: str) -> str:
    """A cell's source: a string or a list of strings."""
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return "".join(value)
    raise SubmissionError(f"not a valid notebook: {where} is a {type(value).__name__}, "
                          f"not text")


def _dict(value, where: str) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise SubmissionError(f"not a valid notebook: {where} is a {type(value).__name__}, "
                              f"not an object")
    return value


def load_notebook(path: Path):
    """Read ``path`` as a notebook, or raise :class:`SubmissionError` saying why not.

    The size is checked before the file is read and the nesting before it is parsed; then
    every part the grader uses is validated (a cell's type, id, source and metadata, the
    notebook's metadata). nbformat 3 notebooks (``worksheets``) are upgraded. The result is
    a fresh nbformat 4 notebook holding only those parts.
    """
    if path.suffix != ".ipynb":
        raise SubmissionError(f"not a notebook: {path.name} is not a .ipynb file")
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise SubmissionError(f"not gradable: {path.name} is {size / 2**20:.0f} MB, more "
                                  f"than the {MAX_BYTES // 2**20} MB a notebook may have "
                                  f"(clear its outputs)")
        with path.open("rb") as f:
            data = f.read(MAX_BYTES + 1)
    except OSError as e:
        raise SubmissionError(f"not readable: {path.name} ({e.strerror})") from None
    if len(data) > MAX_BYTES:
        raise SubmissionError(f"not gradable: {path.name} is larger than "
                              f"{MAX_BYTES // 2**20} MB")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise SubmissionError(f"not a notebook: {path.name} is not UTF-8 text") from None
    from .wire import json_depth_ok

    if not json_depth_ok(text, MAX_DEPTH):
        raise SubmissionError(f"not a notebook: {path.name} nests its JSON more than "
                              f"{MAX_DEPTH} levels deep")
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as e:
        raise SubmissionError(f"not a notebook: {path.name} is not valid JSON "
                              f"(line {e.lineno}, column {e.colno}: {e.msg})") from None
    except (RecursionError, ValueError):
        raise SubmissionError(f"not a notebook: {path.name} is not valid JSON") from None
    if not isinstance(raw, dict):
        raise SubmissionError(f"not a notebook: {path.name} has no list of cells")
    version = raw.get("nbformat", 4 if "cells" in raw else None)
    if version == 3 or "worksheets" in raw and "cells" not in raw:
        sheets = raw.get("worksheets")
        if not isinstance(sheets, list) or not all(isinstance(w, dict) for w in sheets):
            raise SubmissionError(f"not a notebook: {path.name} is nbformat 3 without "
                                  f"a list of worksheets")
        cells = []
        for w in sheets:
            if not isinstance(w.get("cells", []), list):
                raise SubmissionError(f"not a notebook: {path.name} has a worksheet whose "
                                      f"cells are not a list")
            cells += w.get("cells", [])
        v3 = True
    elif version == 4 or (version is None and "cells" in raw):
        cells, v3 = raw.get("cells"), False
        if not isinstance(cells, list):
            raise SubmissionError(f"not a notebook: {path.name} has no list of cells")
    else:
        raise SubmissionError(f"not a notebook: {path.name} is nbformat {version!r}; only "
                              f"nbformat 3 and 4 are read")
    if len(cells) > MAX_CELLS:
        raise SubmissionError(f"not gradable: {path.name} has {len(cells)} cells, more "
                              f"than {MAX_CELLS}")
    meta = _dict(raw.get("metadata"), "the notebook's metadata")
    nb = nbformat.v4.new_notebook()
    trainart_meta = _dict(meta.get("trainart"), "metadata.trainart")
    exercise = trainart_meta.get("exercise")
    if exercise is not None and not isinstance(exercise, str):
        raise SubmissionError("not a valid notebook: metadata.trainart.exercise is not text")
    nb.metadata["trainart"] = {"exercise": exercise} if exercise else {}
    kernelspec = _dict(meta.get("kernelspec"), "metadata.kernelspec")
    if isinstance(kernelspec.get("name"), str):
        nb.metadata["kernelspec"] = {"name": kernelspec["name"][:100]}
    for i, cell in enumerate(cells):
        where = f"cell {i}"
        if not isinstance(cell, dict):
            raise SubmissionError(f"not a valid notebook: {where} is a "
                                  f"{type(cell).__name__}, not an object")
        kind = cell.get("cell_type")
        if not isinstance(kind, str):
            raise SubmissionError(f"not a valid notebook: {where} has no cell_type")
        _dict(cell.get("metadata"), f"the metadata of {where}")
        key = "input" if v3 and kind == "code" else "source"
        source = _text(cell.get(key, ""), f"the source of {where}")
        if kind == "code":
            new = nbformat.v4.new_code_cell(source)
        elif kind in ("markdown", "heading", "raw"):
            new = nbformat.v4.new_markdown_cell(source)
        else:
            raise SubmissionError(f"not a valid notebook: {where} has cell_type {kind!r}")
        cell_id = cell.get("id")
        if cell_id is not None:
            if not isinstance(cell_id, str) or len(cell_id) > 64:
                raise SubmissionError(f"not a valid notebook: the id of {where} is not a "
                                      f"short string")
            new["id"] = cell_id
        else:
            new.pop("id", None)
        nb.cells.append(new)
    return nb


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
    ignored = _changed_other_cells(nb, canonical, taken, exercise)
    if ignored:
        result.messages.append(f"{ignored} other cell(s) were added or changed; only solution "
                               f"cells are graded, so they were ignored.")
    kernel = nb.metadata.get("kernelspec", {}).get("name")
    if kernel and kernel != canonical.metadata["kernelspec"]["name"]:
        result.messages.append(f"The notebook asked for kernel '{kernel}'; it was graded with "
                               f"the course's Python 3 kernel.")
    return result


def _changed_other_cells(nb, canonical, taken: set, exercise: str) -> int:
    # the student notebook's last cell (where solutions will appear) is not in the canonical
    sources = {c.source.strip() for c in canonical.cells} | {solutions_note(exercise).strip()}
    return sum(1 for c in nb.cells
               if id(c) not in taken and c.source.strip() and c.source.strip() not in sources)
