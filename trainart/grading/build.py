"""Build the student notebook and the canonical grading notebook from an exercise source.

- The **student notebook** ``exercises/<name>.ipynb``: markdown, setup, solution stubs
  (``raise NotImplementedError``) and the visible checks; no hidden check, no solution,
  no outputs.
- The **canonical grading notebook** ``exercises/grading/<name>.ipynb``: the same plus the
  hidden checks, every check tagged ``nbval-check-output`` and carrying the outputs the
  *reference* solution produced when run through nbval itself (with the recording plugin).
  It holds no solution either: at grading time its solution cells are replaced by the
  student's.

Run ``trainart build-exercises`` after editing a source; a test fails when a committed
notebook is stale.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

from .plugin import read_results
from .source import Exercise, parse_exercise, reference_source, student_source

NBFORMAT_MINOR = 5
KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
CHECK_TAG = "nbval-check-output"


def solution_marker(cell_id: str) -> str:
    """The first line of every solution cell: the grader's fallback when cell ids change."""
    return f"# [solution: {cell_id}] keep this line: the grader finds your answer by it"


class BuildError(RuntimeError):
    """The reference solution does not pass its own checks, or nbval could not run."""


def _notebook(exercise: Exercise, *, hidden: bool, solutions: bool):
    nb = nbformat.v4.new_notebook()
    nb.nbformat_minor = NBFORMAT_MINOR
    nb.metadata["kernelspec"] = dict(KERNELSPEC)
    nb.metadata["language_info"] = {"name": "python"}
    nb.metadata["trainart"] = {"exercise": exercise.name, "title": exercise.title,
                               "total_points": exercise.total_points}
    if exercise.off_limits:
        nb.metadata["trainart"]["off_limits"] = exercise.off_limits
    markdown = 0
    for cell in exercise.cells:
        if cell.hidden and not hidden:
            continue
        if cell.role == "markdown":
            nb_cell = nbformat.v4.new_markdown_cell(cell.source)
            nb_cell.id = f"md-{markdown}"
            markdown += 1
            nb.cells.append(nb_cell)
            continue
        if cell.role == "solution":
            body = reference_source(cell) if solutions else student_source(cell)
            source = f"{solution_marker(cell.id)}\n{body}"
        else:
            source = cell.source
        nb_cell = nbformat.v4.new_code_cell(source)
        nb_cell.id = cell.id
        meta = {"role": cell.role, "id": cell.id}
        if cell.role == "check":
            meta |= {"points": cell.points, "hidden": cell.hidden}
            nb_cell.metadata["tags"] = [CHECK_TAG]
        nb_cell.metadata["trainart"] = meta
        nb.cells.append(nb_cell)
    return nb


def solutions_note(name: str) -> str:
    """The closing cell of a student notebook: where the worked solution will appear."""
    return (f"## After the deadline\n\nYour instructor publishes the worked solution "
            f"of this exercise, `{name}-solution.ipynb` (the reference code with its "
            f"comments, and the visible checks), where the course's material is posted, once "
            f"the deadline has passed: instructors build it with `trainart release-solutions "
            f"{name}`. Until then, `trainart check {name}.ipynb` tells you which visible "
            f"checks pass.")


def student_notebook(exercise: Exercise):
    """What students get: stubs, visible checks, no outputs, where solutions will appear."""
    nb = _notebook(exercise, hidden=False, solutions=False)
    note = nbformat.v4.new_markdown_cell(solutions_note(exercise.name))
    note.id = "md-solutions"
    nb.cells.append(note)
    return nb


def solution_notebook(exercise: Exercise):
    """What an instructor publishes after the deadline: the student notebook with the
    reference solution in every solution cell (its comments explain it) and the visible
    checks, without the hidden checks (they may be used again)."""
    nb = _notebook(exercise, hidden=False, solutions=True)
    nb.metadata["trainart"]["solution"] = True
    intro = nbformat.v4.new_markdown_cell(
        f"**Worked solution** of *{exercise.title}*, released by the instructor after the "
        f"deadline. Run it top to bottom: every visible check prints PASS.")
    intro.id = "md-solution-intro"
    nb.cells.insert(0, intro)
    return nb


def release_solutions(names: list[str], out_dir: str | Path,
                      source_dir: str | Path = "exercises/src") -> list[Path]:
    """Write ``<name>-solution.ipynb`` into ``out_dir`` for each exercise of ``names``."""
    source_dir, out_dir = Path(source_dir), Path(out_dir)
    known = sorted(p.stem for p in source_dir.glob("*.py"))
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ValueError(f"unknown exercise {', '.join(map(repr, unknown))}; known: "
                         f"{', '.join(known)}")
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name in names:
        path = out_dir / f"{name}-solution.ipynb"
        nbformat.write(solution_notebook(parse_exercise(source_dir / f"{name}.py")), path)
        written.append(path)
    return written


def run_nbval(notebooks: list[Path], *, workdir: Path, cell_timeout: int = 60,
              jobs: int = 1, timeout: float | None = None, poll=None) -> str:
    """Run nbval (lax, current env, stderr ignored, recording plugin) over ``notebooks``.

    Returns pytest's output; raises ``subprocess.TimeoutExpired`` (after killing the run)
    when it takes longer than ``timeout`` seconds. ``poll()`` is called every half second.
    """
    ini = workdir / "pytest.ini"
    ini.write_text("[pytest]\n")
    cmd = [sys.executable, "-m", "pytest", "-c", str(ini), "--rootdir", str(workdir),
           "-p", "trainart.grading.plugin", "-p", "no:cacheprovider",
           "--nbval-lax", "--nbval-current-env", f"--nbval-cell-timeout={cell_timeout}",
           "-q", "--no-header", "-rN", "--color=no"]
    if jobs > 1:
        cmd += ["-n", str(jobs), "--dist", "loadfile"]
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1",
               MKL_NUM_THREADS="1", PYTHONHASHSEED="0", JUPYTER_PLATFORM_DIRS="1",
               PYDEVD_DISABLE_FILE_VALIDATION="1")
    log = workdir / "pytest.log"
    with log.open("w") as out:
        proc = subprocess.Popen(cmd + [str(p) for p in notebooks], cwd=workdir, env=env,
                                stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
        deadline = None if timeout is None else time.monotonic() + timeout
        while proc.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                os.killpg(proc.pid, signal.SIGKILL)  # the kernels too
                proc.wait()
                raise subprocess.TimeoutExpired(cmd, timeout)
            if poll is not None:
                poll()
            time.sleep(0.5)
    return log.read_text()


def record_reference_outputs(exercise: Exercise) -> dict[str, list]:
    """Run the reference solution through nbval; return each check cell's outputs."""
    with tempfile.TemporaryDirectory(prefix="trainart-build-") as tmp:
        path = Path(tmp) / f"{exercise.name}.ipynb"
        nbformat.write(_notebook(exercise, hidden=True, solutions=True), path)
        log = run_nbval([path], workdir=Path(tmp), cell_timeout=120)
        records = {r["id"]: r for r in read_results(path)}
    problems = [f"cell {cid}: {r['outcome']} ({r['reason']}) {r['output'].strip()}"
                for cid, r in records.items() if r["outcome"] != "passed"]
    checks = exercise.checks
    missing = [c.id for c in checks if c.id not in records]
    if missing and not problems:
        problems.append(f"no result for checks {missing}: {log[-2000:]}")
    for c in checks:
        out = records.get(c.id, {}).get("output", "")
        if c.id in records and not (out.startswith("PASS: ") and out.count("\n") == 1):
            problems.append(f"check {c.id} must print exactly one 'PASS: ...' line with the "
                            f"reference solution, printed {out!r}")
    if problems:
        raise BuildError(f"{exercise.name}: the reference solution fails its own notebook:\n  "
                         + "\n  ".join(problems))
    return {c.id: [nbformat.v4.new_output("stream", name="stdout", text=records[c.id]["output"])]
            for c in checks}


def canonical_notebook(exercise: Exercise, outputs: dict[str, list]):
    """The grading notebook: student version + hidden checks + recorded check outputs."""
    nb = _notebook(exercise, hidden=True, solutions=False)
    count = 0
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        count += 1
        if cell.metadata["trainart"]["role"] == "check":
            cell.outputs = outputs[cell.id]
            cell.execution_count = count
    return nb


def build_exercise(source: str | Path, out_dir: str | Path = "exercises") -> tuple[Path, Path]:
    """Write the student and the canonical notebook for one source; return their paths."""
    exercise = parse_exercise(source)
    out_dir = Path(out_dir)
    (out_dir / "grading").mkdir(parents=True, exist_ok=True)
    student = out_dir / f"{exercise.name}.ipynb"
    canonical = out_dir / "grading" / f"{exercise.name}.ipynb"
    nbformat.write(student_notebook(exercise), student)
    nbformat.write(canonical_notebook(exercise, record_reference_outputs(exercise)), canonical)
    return student, canonical
