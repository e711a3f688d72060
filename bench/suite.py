"""What `make test` costs from a fresh clone, the package installation aside.

``git clone`` of the repository's committed HEAD into a temporary folder, the project's
``.venv`` linked into it (so the installation is not timed, and the clone's requirement files
are dated back so that make does not reinstall), then ``make test`` there: lint, unit tests,
every chapter executed once into the cache, the book build, nbval over the cache, the browser
test. Target: at most 12 minutes. One run: it takes minutes.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from pathlib import Path

from .report import Row
from .timing import fmt_seconds

GROUP = "test suite"
REPO = Path(__file__).resolve().parents[1]
LIMIT = 12 * 60.0


def fresh_clone(dst: Path) -> Path:
    subprocess.run(["git", "clone", "--quiet", "--no-hardlinks", str(REPO), str(dst)],
                   check=True)
    (dst / ".venv").symlink_to(REPO / ".venv")
    for name in ("requirements.txt", "pyproject.toml"):  # older than .venv/.installed
        os.utime(dst / name, (0, 0))
    return dst


def run(smoke: bool = False, log=print) -> list[Row]:
    if smoke:
        return [Row(GROUP, "fresh-clone `make test` (smoke: not run)", "-")]
    if not (REPO / ".venv" / ".installed").exists():
        return [Row(GROUP, "fresh-clone `make test`", "skipped: run `make setup` first")]
    with tempfile.TemporaryDirectory(prefix="trainart-bench-suite-") as tmp:
        root = fresh_clone(Path(tmp) / "clone")
        start = time.perf_counter()
        proc = subprocess.run(["make", "test"], cwd=root, capture_output=True, text=True)
        seconds = time.perf_counter() - start
    log(f"  fresh-clone make test: {seconds:.0f} s, exit code {proc.returncode}")
    return [Row(GROUP, "fresh-clone `make test` (installation not counted)",
                fmt_seconds(seconds) + ("" if proc.returncode == 0 else
                                        f" (exit {proc.returncode})"),
                "", None, f"<= {LIMIT / 60:.0f} min",
                proc.returncode == 0 and seconds <= LIMIT,
                {"seconds": seconds, "exit_code": proc.returncode,
                 "output_tail": (proc.stdout + proc.stderr)[-3000:]})]
