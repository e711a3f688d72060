"""What the book costs to run: each chapter notebook, the cold book build, a cached rebuild.

Everything happens in a temporary copy of the repository (without ``.git``, ``.venv`` and
``_build``), so the repository's notebooks and its ``_build`` are never touched:

* each chapter listed in ``_toc.yml`` is executed with nbclient from its own folder (kernel
  start included, as ``tools/nbrun.py`` measures it), once, one at a time: the chapters' own
  execution times, and their sum;
* the cold build as ``make book`` runs it with no ``_build``: ``tools/execute_chapters.py``
  executes every chapter once, ``--jobs`` of them side by side (one BLAS thread each), into the
  jupyter-cache, then ``jupyter-book build . --builder html -n -W --keep-going`` renders them
  from the cache. Target: at most 0.6x the sum of the chapters' own times (and 300 s);
* the same ``jupyter-book build`` a second time: the cached rebuild.

Each figure is one run: these take minutes, and their targets are absolute or relative to the
same run's own sum.
"""

from __future__ import annotations

import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import yaml
from nbclient import NotebookClient

from .report import Row
from .timing import fmt_seconds

GROUP = "book"
REPO = Path(__file__).resolve().parents[1]
CHAPTER_LIMIT = 60.0
COLD_LIMIT = 300.0
COLD_RATIO_LIMIT = 0.6  # cold build / sum of the chapters' own execution times
ONE_THREAD = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
CACHED_LIMIT = 30.0
IGNORE = shutil.ignore_patterns(".git", ".venv", "_build", "bench-out", "grading-out",
                                "__pycache__", "*.egg-info", ".ipynb_checkpoints",
                                ".hypothesis", ".pytest_cache")


def chapters(root: Path = REPO) -> list[str]:
    """The notebooks ``_toc.yml`` lists, in book order, as paths relative to ``root``."""
    toc = yaml.safe_load((root / "_toc.yml").read_text(encoding="utf-8"))
    found = []

    def walk(entries):
        for entry in entries or []:
            if "file" in entry and (root / f"{entry['file']}.ipynb").exists():
                found.append(f"{entry['file']}.ipynb")
            walk(entry.get("sections"))

    for part in toc.get("parts", []):
        walk(part.get("chapters"))
    walk(toc.get("chapters"))
    return found


def copy_repo(dst: Path, root: Path = REPO) -> Path:
    """A copy of the repository's sources (no ``.git``, ``.venv``, ``_build``) at ``dst``."""
    shutil.copytree(root, dst, ignore=IGNORE)
    return dst


def execute(path: Path, timeout: int = 300) -> float:
    """Execute the notebook at ``path`` from its folder (outputs discarded); seconds taken."""
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    NotebookClient(nb, timeout=timeout, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    return time.perf_counter() - start


def build(root: Path, execute_first: bool = False, jobs: int | None = None
          ) -> tuple[float, int, str]:
    """``make book`` in ``root``: the parallel execution into the cache (``execute_first``),
    then ``jupyter-book build``. Seconds, exit code, output's tail."""
    bin_dir = Path(sys.executable).parent
    jobs = jobs or os.cpu_count() or 1
    steps = []
    if execute_first:
        steps.append(([sys.executable, str(root / "tools" / "execute_chapters.py"),
                       "--cache", str(root / "_build" / ".jupyter_cache"), "--jobs", str(jobs)],
                      {**os.environ, **ONE_THREAD}))
    steps.append(([str(bin_dir / "jupyter-book"), "build", str(root), "--builder", "html", "-n",
                   "-W", "--keep-going"], None))
    start, output, code = time.perf_counter(), "", 0
    for command, env in steps:
        proc = subprocess.run(command, cwd=root, capture_output=True, text=True, env=env)
        output += proc.stdout + proc.stderr
        if proc.returncode:
            code = proc.returncode
            break
    return time.perf_counter() - start, code, output[-2000:]


def run(smoke: bool = False, log=print) -> list[Row]:
    """The book rows. ``smoke`` lists the chapters without executing or building anything."""
    names = chapters()
    if smoke:
        return [Row(GROUP, f"{len(names)} chapters in _toc.yml (smoke: not executed)", "-")]
    rows = []
    with tempfile.TemporaryDirectory(prefix="trainart-bench-book-") as tmp:
        root = copy_repo(Path(tmp) / "repo")
        for name in names:
            try:
                seconds, error = execute(root / name), ""
            except Exception as exc:  # a failing chapter is a row, not the end of the run
                seconds, error = float("nan"), f"{type(exc).__name__}: {str(exc)[-300:]}"
            log(f"  {name}: {seconds:.1f} s{' (failed)' if error else ''}")
            rows.append(Row(GROUP, f"chapter {name}: execution",
                            fmt_seconds(seconds) if not error else "failed", "",
                            None, f"<= {CHAPTER_LIMIT:.0f} s",
                            not error and seconds <= CHAPTER_LIMIT,
                            {"notebook": name, "seconds": seconds, "error": error}))
        total = sum(r.data["seconds"] for r in rows)
        rows.append(Row(GROUP, f"sum of the {len(names)} chapters' own execution times",
                        fmt_seconds(total), data={"seconds": total}))
        seconds, code, tail = build(root, execute_first=True)
        log(f"  cold book build: {seconds:.1f} s, exit code {code}")
        ratio = None if math.isnan(total) else seconds / total  # nan: a chapter failed
        rows.append(Row(GROUP, f"cold `make book` (no _build): each chapter once, "
                               f"{os.cpu_count()} at a time, then the build",
                        fmt_seconds(seconds) + ("" if code == 0 else f" (exit {code})"),
                        f"{fmt_seconds(total)} (sum of chapters)", ratio,
                        f"<= {COLD_RATIO_LIMIT}x the sum, <= {COLD_LIMIT:.0f} s",
                        code == 0 and ratio is not None and ratio <= COLD_RATIO_LIMIT
                        and seconds <= COLD_LIMIT,
                        {"seconds": seconds, "exit_code": code, "chapters_sum": total,
                         "output_tail": tail if code else ""}))
        seconds, code, tail = build(root)
        log(f"  cached book rebuild: {seconds:.1f} s, exit code {code}")
        rows.append(Row(GROUP, f"cached book rebuild, {len(names)} chapters",
                        fmt_seconds(seconds) + ("" if code == 0 else f" (exit {code})"),
                        "", None, f"<= {CACHED_LIMIT:.0f} s",
                        code == 0 and seconds <= CACHED_LIMIT,
                        {"seconds": seconds, "exit_code": code,
                         "output_tail": tail if code else ""}))
    return rows
