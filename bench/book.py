"""What the book costs to run: each chapter notebook, the cold book build, a cached rebuild.

Everything happens in a temporary copy of the repository (without ``.git``, ``.venv`` and
``_build``), so the repository's notebooks and its ``_build`` are never touched:

* each chapter listed in ``_toc.yml`` is executed with nbclient from its own folder (kernel
  start included, as ``tools/nbrun.py`` measures it), once;
* ``jupyter-book build . --builder html -n -W --keep-going`` (what ``make book`` runs) with no
  ``_build``: the cold build, which executes every chapter again;
* the same command a second time: the cached rebuild (the jupyter-cache has every notebook).

The kernels and the build use the environment ``make bench`` runs in (all cores, default
threads), as ``make book`` does. Each figure is one run: these take minutes, and their
targets are absolute.
"""

from __future__ import annotations

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


def build(root: Path) -> tuple[float, int, str]:
    """``jupyter-book build`` as ``make book`` runs it: seconds, exit code, output's tail."""
    jb = Path(sys.executable).parent / "jupyter-book"
    start = time.perf_counter()
    proc = subprocess.run([str(jb), "build", str(root), "--builder", "html", "-n", "-W",
                           "--keep-going"], cwd=root, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    return seconds, proc.returncode, (proc.stdout + proc.stderr)[-2000:]


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
        for label, limit in (("cold book build (no _build)", COLD_LIMIT),
                             ("cached book rebuild", CACHED_LIMIT)):
            seconds, code, tail = build(root)
            log(f"  {label}: {seconds:.1f} s, exit code {code}")
            rows.append(Row(GROUP, f"{label}, {len(names)} chapters",
                            fmt_seconds(seconds) + ("" if code == 0 else f" (exit {code})"),
                            "", None, f"<= {limit:.0f} s", code == 0 and seconds <= limit,
                            {"seconds": seconds, "exit_code": code,
                             "output_tail": tail if code else ""}))
    return rows
