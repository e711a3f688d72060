"""Grading throughput: seconds per submission for a batch of 20, on 1 and 2 workers.

The batch mixes reference solutions and blank student notebooks across the exercises, as a
real class would hand in. Both worker counts grade the same batch, alternately (1, 2, 1,
2, ...), and the median per count is reported. "Per core" is the batch's time times the
workers over the submissions: the target holds a worker to 2 s a notebook.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import nbformat

from trainart.grading import grade, samples

from .report import Row
from .timing import fmt_seconds, interleaved

GROUP = "grading"
N = 20
WORKERS = (1, 2)
TARGET = 2.0  # seconds per submission per core


def make_batch(folder: Path, n: int) -> list[Path]:
    """Write ``n`` submissions into ``folder``: two reference solutions to each blank one."""
    names = samples.exercise_names()
    paths = []
    for i in range(n):
        name = names[i % len(names)]
        nb = samples.reference(name) if i % 3 else samples.student(name)
        path = folder / f"student{i:02d}_{name}.ipynb"
        nbformat.write(nb, path)
        paths.append(path)
    return paths


def grade_batch(subs: Path, reports: Path, jobs: int) -> float:
    """Grade every notebook in ``subs`` with ``jobs`` workers; seconds taken."""
    start = time.perf_counter()
    graded = grade.grade([subs], reports, grading_dir=samples.EXERCISES_DIR / "grading",
                         jobs=jobs, progress=False)
    seconds = time.perf_counter() - start
    bad = [r.student for r in graded if r.status != grade.GRADED]
    if bad:
        raise RuntimeError(f"grading: could not grade {bad}")
    return seconds


def run(smoke: bool = False, n: int = N, rounds: int = 3) -> list[Row]:
    """The grading rows (``smoke``: write a batch of 2, grade nothing)."""
    with tempfile.TemporaryDirectory(prefix="trainart-bench-grading-") as tmp:
        subs, reports = Path(tmp) / "subs", Path(tmp) / "reports"
        subs.mkdir()
        if smoke:
            made = make_batch(subs, 2)
            return [Row(GROUP, f"batch of {len(made)} written (smoke: not graded)", "-")]
        make_batch(subs, n)
        times = interleaved({str(jobs): (lambda jobs=jobs: grade_batch(subs, reports, jobs))
                             for jobs in WORKERS}, rounds=rounds, warmup=0)
    rows = []
    one = times["1"].median / n
    for jobs in WORKERS:
        per_sub = times[str(jobs)].median / n
        per_core = per_sub * jobs
        rows.append(Row(
            GROUP, f"batch of {n}, {jobs} worker{'s' if jobs > 1 else ''}: per submission"
                   + ("" if jobs == 1 else " (vs 1 worker)"),
            f"{fmt_seconds(per_sub)} ({fmt_seconds(per_core)} per core)",
            "" if jobs == 1 else fmt_seconds(one), None if jobs == 1 else per_sub / one,
            f"<= {TARGET:.0f} s per submission per core", per_core <= TARGET,
            {"n": n, "workers": jobs, "batch_seconds": times[str(jobs)].seconds,
             "per_submission": per_sub, "per_core": per_core},
        ))
    return rows
