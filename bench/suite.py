"""What `make test` costs from a fresh clone, the package installation aside.

``make test`` in the repository itself with its ``_build`` moved aside (restored afterwards),
so nothing is cached: lint, unit tests, every chapter executed once into the cache, the book
build, nbval over the cache, the browser test. The installed ``.venv`` is reused (the
installation is not timed). A clone in another folder cannot borrow the ``.venv``: its
editable install points at this folder, which the grading sandbox does not mount. Target: at
most 12 minutes. One run: it takes minutes.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from .report import Row
from .timing import fmt_seconds

GROUP = "test suite"
REPO = Path(__file__).resolve().parents[1]
LIMIT = 12 * 60.0


def run(smoke: bool = False, log=print) -> list[Row]:
    if smoke:
        return [Row(GROUP, "`make test` with no `_build` (smoke: not run)", "-")]
    if not (REPO / ".venv" / ".installed").exists():
        return [Row(GROUP, "`make test` with no `_build`", "skipped: run `make setup` first")]
    build, aside = REPO / "_build", None
    with tempfile.TemporaryDirectory(prefix="trainart-bench-suite-", dir=REPO.parent) as tmp:
        if build.exists():
            aside = Path(tmp) / "_build"
            build.rename(aside)
        try:
            start = time.perf_counter()
            proc = subprocess.run(["make", "test"], cwd=REPO, capture_output=True, text=True)
            seconds = time.perf_counter() - start
        finally:
            if aside is not None:
                shutil.rmtree(build, ignore_errors=True)
                aside.rename(build)
    log(f"  make test with no _build: {seconds:.0f} s, exit code {proc.returncode}")
    return [Row(GROUP, "`make test` with no `_build` (installation not counted)",
                fmt_seconds(seconds) + ("" if proc.returncode == 0 else
                                        f" (exit {proc.returncode})"),
                "", None, f"<= {LIMIT / 60:.0f} min",
                proc.returncode == 0 and seconds <= LIMIT,
                {"seconds": seconds, "exit_code": proc.returncode,
                 "output_tail": (proc.stdout + proc.stderr)[-3000:]})]
