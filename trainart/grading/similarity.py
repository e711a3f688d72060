"""Which solution cells of a graded class look most alike: advice for a person, never a score.

For every exercise and every solution cell (by its cell id) the cells of all submissions are
compared pairwise with `copydetect <https://github.com/blingenf/copydetect>`_: the code is
tokenized with Pygments, names become ``V``/``F``, strings ``S``, comments and whitespace are
dropped (so renamed variables and reformatting do not hide a copy), and the k-grams of what
remains are fingerprinted. The exercise's starter code (the solution cell of the blank
notebook, which everyone receives) is passed as boilerplate, so it never counts as shared.

Choices, and why:

- every k-gram is kept (winnowing window 1): copydetect hashes with Python's ``hash``, which
  is salted per process, so a window > 1 would select different fingerprints on each run;
  with all of them the scores are the same every run (and cells are small);
- a pair's score is the *smaller* of its two copydetect similarities (the share of each
  cell's code found in the other): both cells must be mostly the shared code;
- a cell is compared on its first :data:`MAX_CHARS` characters only (a huge cell cannot slow
  the report down); all pairs are pre-scored with set intersections of fingerprints, and only
  the best candidates get copydetect's full comparison with the shared lines.

Writes ``similarity.json`` and ``similarity.html`` (linked from the dashboard) into the
grading output folder. Reads the submissions again from the paths in the reports.
"""

from __future__ import annotations

import argparse
import io
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .dashboard import REJECTED, esc, load_reports, page, plural, table

MAX_CHARS = 5_000  # of one cell compared (about 100 lines; the page says when)
K = 25  # k-gram length on the filtered code (copydetect's default noise threshold)
TOP_PAIRS = 10  # pairs listed per solution cell
CANDIDATES = 5  # pre-scored candidates per listed pair that copydetect compares fully
CONTEXT_LINES = 2  # unshared lines shown around the shared ones
JSON_NAME, HTML_NAME = "similarity.json", "similarity.html"
STYLE = """
.pair { display: flex; gap: 1rem; }
.pair > div { flex: 1; min-width: 0; }
pre { overflow-x: auto; background: #f6f6f6; padding: 0.5rem; }
mark { background: #fd6; }
"""
NOTE = ("Advice for a person, not a verdict: similar code can have innocent reasons (a "
        "short exercise, a common idiom, the lecture's example). It never changes a score.")


# ------------------------------------------------------------------------ the solution cells
@dataclass
class Cell:
    """One student's solution cell, fingerprinted."""

    student: str
    code: str
    truncated: bool
    fingerprint: object  # copydetect.CodeFingerprint


def fingerprint(code: str, boilerplate=None):
    """copydetect's fingerprint of Python ``code`` (every k-gram; see the module's notes)."""
    from copydetect import CodeFingerprint

    return CodeFingerprint("cell.py", K, 1, boilerplate=boilerplate, fp=io.StringIO(code),
                           language="python")


def _solution_cells(notebook) -> dict[str, str]:
    """Solution cell id -> source, in the notebook's order."""
    return {c.id: c.source for c in notebook.cells if c.cell_type == "code"
            and c.metadata.get("trainart", {}).get("role") == "solution"}


def starter_code(canonical) -> dict[str, str]:
    """The starter code of every solution cell: what the blank notebook holds."""
    return _solution_cells(canonical)


def student_cells(path: Path, canonical, exercise: str) -> dict[str, str]:
    """A submission's solution cells, found as the grader finds them (by id or marker line);
    a missing cell gets the starter code. Raises SubmissionError or OSError."""
    from .assemble import assemble, load_notebook

    assembled = assemble(load_notebook(path), canonical, exercise)
    return _solution_cells(assembled.notebook)


def collect(out_dir: Path, canonicals: dict) -> tuple[dict, list[dict]]:
    """``{(exercise, cell id): [Cell, ...]}`` over the graded submissions, and the ones
    skipped with the reason. The starter code of each cell is removed as boilerplate."""
    from .assemble import SubmissionError

    boilerplate = {(ex, cid): list(fingerprint(code).hashes)
                   for ex, nb in canonicals.items()
                   for cid, code in starter_code(nb).items()}
    cells: dict[tuple[str, str], list[Cell]] = {}
    skipped = []
    for report in load_reports(out_dir):
        if report.status == REJECTED or report.exercise not in canonicals:
            continue
        try:
            sources = student_cells(Path(report.submission), canonicals[report.exercise],
                                    report.exercise)
        except (SubmissionError, OSError, ValueError) as e:
            skipped.append({"student": report.student, "reason": f"could not read "
                            f"{Path(report.submission).name}: {str(e)[:200]}"})
            continue
        for cid, code in sources.items():
            key = (report.exercise, cid)
            fp = fingerprint(code[:MAX_CHARS], boilerplate.get(key))
            if fp.hashes:  # nothing but starter code (or too short) is never a match
                cells.setdefault(key, []).append(
                    Cell(report.student, code[:MAX_CHARS], len(code) > MAX_CHARS, fp))
    return cells, skipped


# ------------------------------------------------------------------------------- the pairs
@dataclass
class Pair:
    a: str
    b: str
    similarity: float  # the smaller of the two below
    similarity_a: float  # share of a's code found in b
    similarity_b: float
    shared_tokens: int
    lines_a: list[int] = field(default_factory=list)  # 1-based lines of a with shared code
    lines_b: list[int] = field(default_factory=list)
    html_a: str = ""  # a's code, escaped, shared parts in <mark>
    html_b: str = ""


def candidates(cells: list[Cell], keep: int) -> list[tuple[int, int]]:
    """The ``keep`` pairs whose fingerprint sets overlap most (relative to the larger)."""
    scored = []
    hashes = [c.fingerprint.hashes for c in cells]
    for i in range(len(cells)):
        for j in range(i + 1, len(cells)):
            shared = len(hashes[i] & hashes[j])
            if shared:
                scored.append((-shared / max(len(hashes[i]), len(hashes[j])), i, j))
    scored.sort()
    return [(i, j) for _, i, j in scored[:keep]]


def _lines(code: str, slices) -> list[int]:
    """1-based numbers of the lines that hold part of a shared slice."""
    lines = set()
    for start, end in zip(*slices):
        first = code.count("\n", 0, int(start)) + 1
        last = code.count("\n", 0, max(int(start), int(end) - 1)) + 1
        lines.update(range(first, last + 1))
    return sorted(lines)


def compare(x: Cell, y: Cell) -> Pair | None:
    """copydetect's full comparison of two cells, with the shared code marked."""
    from copydetect import compare_files
    from copydetect.utils import highlight_overlap

    if x.student > y.student:
        x, y = y, x
    shared, (sim_x, sim_y), (slices_x, slices_y) = compare_files(x.fingerprint, y.fingerprint)
    if shared == 0 or len(slices_x) == 0 or slices_x.shape[1] == 0:
        return None
    hl_x, _ = highlight_overlap(x.code, slices_x, "<mark>", "</mark>", CONTEXT_LINES, True)
    hl_y, _ = highlight_overlap(y.code, slices_y, "<mark>", "</mark>", CONTEXT_LINES, True)
    return Pair(a=x.student, b=y.student, similarity=round(float(min(sim_x, sim_y)), 3),
                similarity_a=round(float(sim_x), 3), similarity_b=round(float(sim_y), 3),
                shared_tokens=int(shared), lines_a=_lines(x.code, slices_x),
                lines_b=_lines(y.code, slices_y), html_a=hl_x, html_b=hl_y)


def most_similar(cells: list[Cell], top: int = TOP_PAIRS) -> list[Pair]:
    """The ``top`` most similar pairs among ``cells``, the most similar first."""
    pairs = [p for i, j in candidates(cells, top * CANDIDATES)
             if (p := compare(cells[i], cells[j])) is not None]
    pairs.sort(key=lambda p: (-p.similarity, -p.shared_tokens, p.a, p.b))
    return pairs[:top]


# ------------------------------------------------------------------------------- the report
def analyse(out_dir: Path, canonicals: dict, top: int = TOP_PAIRS) -> dict:
    """The similarity report as plain data (what ``similarity.json`` holds)."""
    from copydetect import __version__

    cells, skipped = collect(out_dir, canonicals)
    exercises = []
    for ex in sorted({ex for ex, _ in cells}):
        order = list(starter_code(canonicals[ex]))
        per_cell = []
        for cid in sorted((c for e, c in cells if e == ex), key=order.index):
            group = cells[(ex, cid)]
            per_cell.append({"cell": cid, "compared": len(group),
                             "truncated": sorted(c.student for c in group if c.truncated),
                             "pairs": [asdict(p) for p in most_similar(group, top)]})
        exercises.append({"exercise": ex, "cells": per_cell})
    return {"note": NOTE, "method": f"copydetect {__version__}, k={K}, every k-gram, starter "
            f"code as boilerplate, first {MAX_CHARS} characters of a cell",
            "exercises": exercises, "skipped": skipped}


def _percent(x: float) -> str:
    return f"{100 * x:.0f}%"


def pair_html(n: int, pair: dict) -> list[str]:
    """One pair: scores, then both cells with the shared code marked."""
    return [f"<h4>{n}. {esc(pair['a'])} and {esc(pair['b'])}: "
            f"{_percent(pair['similarity'])}</h4>",
            f"<p>{_percent(pair['similarity_a'])} of {esc(pair['a'])}'s cell and "
            f"{_percent(pair['similarity_b'])} of {esc(pair['b'])}'s are shared "
            f"({pair['shared_tokens']} tokens; lines {esc(_ranges(pair['lines_a']))} and "
            f"{esc(_ranges(pair['lines_b']))}).</p>",
            '<div class="pair">',
            f"<div><p>{esc(pair['a'])}</p><pre><code>{pair['html_a']}</code></pre></div>",
            f"<div><p>{esc(pair['b'])}</p><pre><code>{pair['html_b']}</code></pre></div>",
            "</div>"]


def _ranges(lines: list[int]) -> str:
    """[1, 2, 3, 7] -> '1-3, 7'."""
    out, start = [], None
    for i, n in enumerate(lines):
        if start is None:
            start = n
        if i + 1 == len(lines) or lines[i + 1] != n + 1:
            out.append(f"{start}-{n}" if n != start else f"{n}")
            start = None
    return ", ".join(out) or "none"


def cell_html(ex: str, cell: dict) -> list[str]:
    body = [f"<h3>Cell {esc(cell['cell'])} ({plural(cell['compared'], 'submission')} with "
            f"code of their own)</h3>"]
    if cell["truncated"]:
        body.append(f"<p>Only the first {MAX_CHARS} characters were compared for: "
                    f"{esc(', '.join(cell['truncated']))}.</p>")
    if not cell["pairs"]:
        return body + ["<p>No two cells share code beyond the starter code.</p>"]
    rows = [[str(n), esc(p["a"]), esc(p["b"]), _percent(p["similarity"]),
             str(p["shared_tokens"])] for n, p in enumerate(cell["pairs"], 1)]
    body.append(table(["Rank", "Student", "Student", "Similarity", "Shared tokens"], rows,
                      f"Most similar pairs for cell {cell['cell']} of {ex}"))
    for n, pair in enumerate(cell["pairs"], 1):
        body += pair_html(n, pair)
    return body


def report_html(data: dict) -> str:
    body = ['<p><a href="index.html">Back to the class dashboard</a></p>',
            "<h1>Similar solutions</h1>", f'<p class="note"><strong>{esc(data["note"])}'
            "</strong></p>",
            f"<p>Method: {esc(data['method'])}. A pair's similarity is the smaller of the two "
            "shares of each cell found in the other, after names, strings, comments and "
            "layout are normalized.</p>"]
    if not data["exercises"]:
        body.append("<p>Nothing to compare (no graded submission with code of its own).</p>")
    for ex in data["exercises"]:
        body.append(f"<h2>Exercise {esc(ex['exercise'])}</h2>")
        for cell in ex["cells"]:
            body += cell_html(ex["exercise"], cell)
    if data["skipped"]:
        body += ["<h2>Not compared</h2>", "<ul>"]
        body += [f"<li>{esc(s['student'])}: {esc(s['reason'])}</li>" for s in data["skipped"]]
        body.append("</ul>")
    return page("Similar solutions", body, STYLE)


def write_similarity(out_dir: Path, grading_dir: Path | None = None,
                     top: int = TOP_PAIRS) -> Path:
    """Write ``similarity.json`` and ``similarity.html`` into ``out_dir``; return the page."""
    from .grade import load_canonicals

    out_dir = Path(out_dir)
    if not out_dir.is_dir():
        raise FileNotFoundError(f"no such folder: {out_dir} (the output of `trainart grade`)")
    _require_copydetect()
    data = analyse(out_dir, load_canonicals(grading_dir or _default_grading_dir()), top)
    (out_dir / JSON_NAME).write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n",
                                     encoding="utf-8")
    html_path = out_dir / HTML_NAME
    html_path.write_text(report_html(data), encoding="utf-8")
    return html_path


def _require_copydetect() -> None:
    try:
        import copydetect  # noqa: F401
    except ImportError as e:
        raise ImportError("the similarity report needs copydetect: pip install "
                          "'copydetect==0.5.0' (part of trainart[grading])") from e


def _default_grading_dir() -> Path:
    from .cli import _default_grading_dir as default

    return default()


# ----------------------------------------------------------------------------------- CLI
def _command(args: argparse.Namespace) -> int:
    path = write_similarity(args.out_dir, args.grading_dir, args.top)
    print(f"similarity report: {path} (advice for a person; scores are unchanged)")
    return 0


def register(subparsers) -> None:
    """Add ``trainart similarity OUT_DIR`` to the ``trainart`` command's subparsers."""
    p = subparsers.add_parser("similarity", help="list the most similar solution cells of a "
                                                 "graded folder (similarity.html)")
    p.add_argument("out_dir", type=Path, metavar="OUT_DIR",
                   help="the folder `trainart grade --out` wrote")
    p.add_argument("--grading-dir", type=Path, default=None,
                   help="the canonical notebooks (default: exercises/grading)")
    p.add_argument("--top", type=int, default=TOP_PAIRS, help="pairs listed per cell")
    p.set_defaults(func=_command)
