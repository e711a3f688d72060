"""Grading throughput with the sandbox, and a class of 500 with right, wrong and hostile work.

Two measurements, both through the real pipeline (a bubblewrap sandbox per submission, the
checks in the grader's process, the canary of each exercise graded alongside):

- **throughput**: a batch of 20 (two reference solutions to each blank notebook, across the
  exercises) graded on 1 and on 2 workers, alternately, the median per count reported. "Per
  core" is the batch's time times the workers over the submissions: the target holds a
  worker to 2 s a notebook. The canary is off here: it costs one run per exercise per batch
  (15 runs for this batch of 20, one run for a class handing in one exercise), not per
  submission; the class of 500 below grades with it.
- **a class of 500**: right (reference), wrong (stubs, and functions returning their first
  argument) and malicious submissions (forged PASS lines, a replaced ``check``, a killed
  parent, a fork storm, a memory grab, a reader of the sources) across every exercise, on 2
  workers. It must finish with a row per file, full marks for the right ones and zero for
  the rest, while the grader's memory stays bounded (its peak resident size, and the largest
  single sandbox process's, are reported; at most ``jobs`` sandboxes exist at a time).
"""

from __future__ import annotations

import resource
import tempfile
import time
from pathlib import Path

import nbformat

from trainart.grading import grade, samples, source

from .report import Row
from .timing import fmt_seconds, interleaved

GROUP = "grading"
N = 20
CLASS = 500
WORKERS = (1, 2)
TARGET = 2.0  # seconds per submission per core
MEMORY_TARGET = 1.5 * 2**30  # the grader's own peak resident size, bytes

# Code put before a blank solution: each would have won points under the old grader, or
# hurt its neighbours; none may change a score now.
MALICIOUS = [
    "print('PASS: ' * 3)\nraise type('E\\rPASS', (Exception,), {})()\n",
    "class check:\n    def __init__(self, *a): pass\n    def __enter__(self): return self\n"
    "    def __exit__(self, *a): print('PASS'); return True\n",
    "import os, signal\nfor pid in (os.getppid(), -1):\n    try:\n"
    "        os.kill(pid, signal.SIGKILL)\n    except OSError:\n        pass\n",
    "import os, time\nfor _ in range(200):\n    try:\n        if os.fork() == 0:\n"
    "            time.sleep(30)\n            os._exit(0)\n    except OSError:\n        break\n",
    "try:\n    _hog = bytearray(50 * 2**30)\nexcept MemoryError:\n    pass\n",
    "import glob\nfor _p in glob.glob('/work/*/exercises/**/*', recursive=True):\n"
    "    print(open(_p).read()[:100])\n",
]


def _wrong(name: str):
    nb = samples.student(name)
    ex = source.parse_exercise(samples.EXERCISES_DIR / "src" / f"{name}.py")
    for cell in ex.solutions:
        fn = cell.source.split("def ", 1)[1].split("(", 1)[0]
        samples.set_solution(nb, cell.id, f"def {fn}(*args, **kwargs):\n    return args[0]")
    return nb


def _malicious(name: str, i: int):
    nb = samples.student(name)
    ex = source.parse_exercise(samples.EXERCISES_DIR / "src" / f"{name}.py")
    cell = ex.solutions[0]
    samples.set_solution(nb, cell.id, MALICIOUS[i % len(MALICIOUS)]
                         + source.student_source(cell))
    return nb


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


def make_class(folder: Path, n: int = CLASS) -> dict[str, str]:
    """Write ``n`` right, wrong and malicious submissions; return each one's kind."""
    names = samples.exercise_names()
    kinds = {}
    for i in range(n):
        name = names[i % len(names)]
        kind = ("right", "wrong", "malicious")[i % 3]
        nb = (samples.reference(name) if kind == "right" else
              _wrong(name) if kind == "wrong" and i % 2 else
              samples.student(name) if kind == "wrong" else _malicious(name, i // 3))
        student = f"s{i:03d}_{kind}_{name}"
        nbformat.write(nb, folder / f"{student}.ipynb")
        kinds[student] = kind
    return kinds


def grade_batch(subs: Path, reports: Path, jobs: int) -> float:
    """Grade every notebook in ``subs`` with ``jobs`` workers; seconds taken."""
    start = time.perf_counter()
    graded = grade.grade([subs], reports, grading_dir=samples.EXERCISES_DIR / "grading",
                         jobs=jobs, progress=False, canary=False)
    seconds = time.perf_counter() - start
    bad = [r.student for r in graded if r.status != grade.GRADED]
    if bad:
        raise RuntimeError(f"grading: could not grade {bad}")
    return seconds


def class_of(n: int, jobs: int = 2) -> Row:
    """Grade a generated class of ``n``; one row with its time, memory and correctness."""
    with tempfile.TemporaryDirectory(prefix="trainart-bench-class-") as tmp:
        subs, out = Path(tmp) / "subs", Path(tmp) / "out"
        subs.mkdir()
        kinds = make_class(subs, n)
        start = time.perf_counter()
        # tqdm's bar on stderr: what an instructor sees for a large class
        reports = grade.grade([subs], out, grading_dir=samples.EXERCISES_DIR / "grading",
                              jobs=jobs, progress=True)
        seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    by = {r.student: r for r in reports}
    wrong = [s for s, k in kinds.items()
             if by[s].status != grade.GRADED
             or (k == "right") != (by[s].score == by[s].max_score > 0)
             or (k != "right" and by[s].score != 0)]
    ok = len(reports) == n and not wrong and peak <= MEMORY_TARGET
    return Row(GROUP, f"class of {n} (right, wrong, malicious), {jobs} workers",
               f"{fmt_seconds(seconds / n)} per submission; grader peak {peak / 2**20:.0f} MB",
               f"largest sandbox process {child / 2**20:.0f} MB", None,
               f"a row each, right = full, others = 0, grader <= "
               f"{MEMORY_TARGET / 2**30:.1f} GB", ok,
               {"n": n, "seconds": seconds, "grader_peak_bytes": peak,
                "largest_child_bytes": child, "misgraded": wrong[:20]})


def run(smoke: bool = False, n: int = N, rounds: int = 3, class_size: int = CLASS) -> list[Row]:
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
            GROUP, f"batch of {n}, sandboxed, {jobs} worker{'s' if jobs > 1 else ''}: "
                   f"per submission" + ("" if jobs == 1 else " (vs 1 worker)"),
            f"{fmt_seconds(per_sub)} ({fmt_seconds(per_core)} per core)",
            "" if jobs == 1 else fmt_seconds(one), None if jobs == 1 else per_sub / one,
            f"<= {TARGET:.0f} s per submission per core", per_core <= TARGET,
            {"n": n, "workers": jobs, "batch_seconds": times[str(jobs)].seconds,
             "per_submission": per_sub, "per_core": per_core},
        ))
    rows.append(class_of(class_size))
    return rows
