"""Grade a folder of submissions: assemble, run nbval in parallel, score, report.

For each submission the grader writes ``<student>.json`` and ``<student>.md`` (which checks
passed, points, a message for each failure that never shows a hidden expected value) and
one class table, ``class.csv`` and ``class.md``. Three outcomes:

- ``graded``: a score, possibly 0 (a stub, a crash, an endless loop: the student's code);
- ``rejected``: 0, the file could not be graded as this course's notebook (not a notebook,
  invalid JSON, another exercise): the student's fault, said plainly;
- ``could not grade``: the machine's fault (no kernel, the exercise's own setup failed);
  no score is given and the report says to grade again.
"""

from __future__ import annotations

import csv
import json
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

import nbformat

from .assemble import SubmissionError, assemble, identify_exercise, load_notebook
from .build import run_nbval
from .plugin import read_results

GRADED, REJECTED, NOT_GRADED = "graded", "rejected", "could not grade"


@dataclass
class CheckResult:
    id: str
    points: int
    max_points: int
    hidden: bool
    passed: bool
    message: str = ""


@dataclass
class Report:
    submission: str
    student: str
    exercise: str = ""
    status: str = GRADED
    score: int = 0
    max_score: int = 0
    checks: list[CheckResult] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)


def load_canonicals(grading_dir: str | Path) -> dict:
    """The canonical grading notebooks, by exercise name."""
    paths = sorted(Path(grading_dir).glob("*.ipynb"))
    if not paths:
        raise FileNotFoundError(f"no grading notebooks in {grading_dir}: run "
                                f"`trainart build-exercises` first")
    return {p.stem: nbformat.read(p, as_version=4) for p in paths}


def find_submissions(paths) -> list[Path]:
    """Files to grade: the given files, and every non-hidden file below given folders."""
    found = []
    for path in map(Path, paths):
        if path.is_dir():
            found += sorted(p for p in path.rglob("*") if p.is_file()
                            and not any(part.startswith(".") for part in p.relative_to(path).parts))
        elif path.exists():
            found.append(path)
        else:
            raise FileNotFoundError(f"no such file or folder: {path}")
    return found


def _student_name(path: Path, roots: list[Path]) -> str:
    for root in roots:
        if root.is_dir() and path.is_relative_to(root):
            rel = path.relative_to(root).with_suffix("")
            return "__".join(rel.parts)
    return path.stem


def grade(paths, out_dir: str | Path, *, grading_dir: str | Path = "exercises/grading",
          exercise: str | None = None, jobs: int = 2, cell_timeout: int = 30,
          progress: bool = True, include_hidden: bool = True) -> list[Report]:
    """Grade submissions (files or folders) and write the reports into ``out_dir``.

    ``include_hidden=False`` runs only the checks students can see (``trainart check``).
    """
    canonicals = load_canonicals(grading_dir)
    if not include_hidden:
        for nb in canonicals.values():
            nb.cells = [c for c in nb.cells
                        if not c.metadata.get("trainart", {}).get("hidden", False)]
    if exercise is not None and exercise not in canonicals:
        raise ValueError(f"unknown exercise '{exercise}'; known: {', '.join(sorted(canonicals))}")
    roots = [Path(p) for p in paths]
    files = find_submissions(paths)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    reports, jobs_to_run = [], []
    names = set()
    work = Path(tempfile.mkdtemp(prefix="trainart-grade-"))
    try:
        for i, path in enumerate(files):
            student = _student_name(path, roots)
            while student in names:
                student += "_"
            names.add(student)
            report = Report(submission=str(path), student=student)
            reports.append(report)
            try:
                nb = load_notebook(path)
                name = exercise or identify_exercise(nb, canonicals)
                found = identify_exercise(nb, canonicals) if exercise else name
                assembled = assemble(nb, canonicals[name], found, expected=exercise)
            except SubmissionError as e:
                report.status, report.messages = REJECTED, [str(e)]
                continue
            report.exercise = name
            report.messages += assembled.messages
            report.flags += assembled.flags
            target = work / f"{i:04d}" / f"{name}.ipynb"
            target.parent.mkdir()
            nbformat.write(assembled.notebook, target)
            jobs_to_run.append((report, target, canonicals[name]))
        _run_batch([t for _, t, _ in jobs_to_run], work, jobs, cell_timeout, progress)
        for report, target, canonical in jobs_to_run:
            score(report, canonical, read_results(target), cell_timeout)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    write_reports(reports, out_dir)
    return reports


def _run_batch(notebooks: list[Path], work: Path, jobs: int, cell_timeout: int,
               progress: bool) -> None:
    """nbval over all assembled notebooks, with a progress bar and an overall time limit."""
    if not notebooks:
        return
    cells = {p: sum(c.cell_type == "code" for c in nbformat.read(p, 4).cells) for p in notebooks}
    budget = 120 + cell_timeout * sum(cells.values()) / max(1, jobs)
    bar = None
    if progress:
        from tqdm import tqdm
        bar = tqdm(total=len(notebooks), desc="grading", unit="notebook", file=sys.stderr)

    def poll():
        # A notebook is done when the plugin has recorded every one of its cells.
        if bar is not None:
            bar.update(sum(len(read_results(p)) >= n for p, n in cells.items()) - bar.n)

    try:
        run_nbval(notebooks, workdir=work, cell_timeout=cell_timeout, jobs=jobs,
                  timeout=budget, poll=poll)
    except subprocess.TimeoutExpired:
        pass  # whatever did not finish is reported per notebook by score()
    finally:
        poll()
        if bar is not None:
            bar.close()


def score(report: Report, canonical, records: list[dict], cell_timeout: int) -> None:
    """Turn nbval's per-cell records into points and messages."""
    by_id = {r["id"]: r for r in records}
    code = [c for c in canonical.cells if c.cell_type == "code"]
    first_solution = next(i for i, c in enumerate(code)
                          if c.metadata["trainart"]["role"] == "solution")
    for cell in code[:first_solution]:
        r = by_id.get(cell.id)
        if r is None or r["outcome"] != "passed":
            why = "the notebook never ran" if r is None else f"{r['reason']}: {r['output'][:300]}"
            report.status = NOT_GRADED
            report.messages.append(f"Could not grade: the exercise's setup cell '{cell.id}' "
                                   f"failed on the grading machine ({why}). Grade again.")
            return
    died = False
    for cell in code[first_solution:]:
        meta = cell.metadata["trainart"]
        r = by_id.get(cell.id)
        if died and r is not None and r["outcome"] != "passed":
            r = dict(r, reason="kernel died", outcome="failed")
        died = died or (r is not None and r["reason"] == "kernel died")
        if meta["role"] == "solution":
            if r is not None and r["outcome"] != "passed":
                report.messages.append(f"Your cell '{cell.id}': " + _failure(r, cell_timeout))
            continue
        if meta["role"] != "check":
            continue
        passed = r is not None and r["outcome"] == "passed"
        message = "" if passed else (_failure(r, cell_timeout) if r else
                                     "not run: grading stopped before this check "
                                     "(the whole notebook ran out of time)")
        report.checks.append(CheckResult(id=cell.id, points=meta["points"] if passed else 0,
                                         max_points=meta["points"], hidden=meta["hidden"],
                                         passed=passed, message=message))
    report.score = sum(c.points for c in report.checks)
    report.max_score = sum(c.max_points for c in report.checks)


def _failure(record: dict, cell_timeout: int) -> str:
    reason, output = record["reason"], record["output"].strip()
    if record["outcome"] == "xfailed":
        return "not run: an earlier cell timed out"
    if reason == "timeout":
        return (f"did not finish within {cell_timeout} s (an endless loop?); the checks after "
                f"it were not run")
    if reason == "kernel died":
        return "not run: the Python kernel had died (did your code crash or exit Python?)"
    if reason == "outputs differ":
        lines = [line for line in output.splitlines() if line.startswith("FAIL: ")]
        return lines[0][len("FAIL: "):] if lines else "the check did not pass"
    if reason == "exception":
        last = output.splitlines()[-1] if output else "an error"
        return f"raised {last}"
    return reason or "failed"


# ------------------------------------------------------------------------------ reports
def write_reports(reports: list[Report], out_dir: Path) -> None:
    for report in reports:
        (out_dir / f"{report.student}.json").write_text(
            json.dumps(asdict(report), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        (out_dir / f"{report.student}.md").write_text(markdown_report(report), encoding="utf-8")
    rows = [(r.student, r.exercise, r.status,
             r.score if r.status != NOT_GRADED else "",
             r.max_score, "; ".join(r.flags)) for r in reports]
    header = ("student", "exercise", "status", "score", "max", "flagged for review")
    with (out_dir / "class.csv").open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_md(v) for v in row) + " |" for row in rows]
    (out_dir / "class.md").write_text("# Class results\n\n" + "\n".join(lines) + "\n",
                                      encoding="utf-8")


def _md(value) -> str:
    return re.sub(r"([|])", r"\\\1", str(value))


def markdown_report(report: Report) -> str:
    """A readable report for one submission."""
    lines = [f"# {report.student}: {report.exercise or 'unknown exercise'}", ""]
    if report.status == NOT_GRADED:
        lines.append("**Could not grade** (a problem on the grading machine, not yours).")
    elif report.status == REJECTED:
        lines.append("**Score: 0** (the file could not be graded).")
    else:
        lines.append(f"**Score: {report.score} / {report.max_score}**")
    lines.append("")
    if report.checks:
        lines += ["| check | result | points | note |", "|---|---|---|---|"]
        for c in report.checks:
            name = c.id + (" (hidden)" if c.hidden else "")
            mark = "passed" if c.passed else "failed"
            lines.append(f"| {_md(name)} | {mark} | {c.points} / {c.max_points} | "
                         f"{_md(c.message)} |")
        lines.append("")
    if report.messages:
        lines += ["## Notes", ""] + [f"- {m}" for m in report.messages] + [""]
    if report.flags:
        lines += ["## Flagged for review", "",
                  "These do not change the score; an instructor will look at them.", ""]
        lines += [f"- {f}" for f in report.flags] + [""]
    return "\n".join(lines)

