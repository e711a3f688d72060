"""Execute the chapters once, in parallel, into the book's jupyter-cache.

    python tools/execute_chapters.py [--cache _build/.jupyter_cache] [--jobs 2] [NOTEBOOK ...]

The book (``execute_notebooks: cache``) and the nbval check of the chapters
(``tools/nbval_cache.py``) both read the executed notebooks from this cache, so `make test`
runs every chapter once. Notebooks run side by side (one kernel per worker process), each in
its own directory, exactly as myst-nb would run it (``single_nb_execution``, same timeout,
errors not allowed), and land in the cache under the key myst-nb looks up (the hash of the
code cells), so ``jupyter-book build`` executes nothing more.

A cached notebook is reused only when it was executed by the same code: the record carries a
key of the ``trainart`` sources (the grader aside), the pinned requirements and the CPU-kernel
settings (``OPENBLAS_CORETYPE``, ``ATEN_CPU_CAPABILITY``). Editing ``trainart`` re-executes every
chapter; editing one chapter re-executes only that one. ``--force`` re-executes everything.

Exit status 1 when a notebook fails, with its traceback.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT = 300  # _config.yml's execute.timeout
KERNEL_SETTINGS = ("OPENBLAS_CORETYPE", "ATEN_CPU_CAPABILITY")


def chapters() -> list[Path]:
    paths = sorted((ROOT / "chapters").rglob("*.ipynb"))
    return [p for p in paths if ".ipynb_checkpoints" not in p.parts]


def environment_key() -> str:
    """A hash of what decides a chapter's outputs besides its own code cells."""
    digest = hashlib.sha256()
    # trainart.grading is the exercise grader: no chapter imports it.
    sources = sorted(p for p in (ROOT / "trainart").rglob("*.py")
                     if "grading" not in p.relative_to(ROOT / "trainart").parts)
    for path in sources + [ROOT / "requirements.txt"]:
        digest.update(path.relative_to(ROOT).as_posix().encode())
        digest.update(path.read_bytes())
    for name in KERNEL_SETTINGS:
        digest.update(f"{name}={os.environ.get(name, '')}".encode())
    return digest.hexdigest()[:16]


def _execute(path: str, allow_errors: bool) -> tuple[str, str, float, str | None]:
    """Run one notebook in its own folder (a worker process); return it as JSON."""
    from jupyter_cache.executors.utils import single_nb_execution

    nb = nbformat.read(path, as_version=4)
    result = single_nb_execution(nb, cwd=str(Path(path).parent), timeout=TIMEOUT,
                                 allow_errors=allow_errors, meta_override=True)
    return path, nbformat.writes(result.nb), result.time, result.exc_string


def _display(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def _cached_and_current(cache, path: Path, key: str) -> bool:
    nb = nbformat.read(path, as_version=4)
    try:
        record = cache.match_cache_notebook(nb)
    except KeyError:
        return False
    return record.data.get("environment") == key


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path)
    parser.add_argument("--cache", type=Path, default=ROOT / "_build" / ".jupyter_cache")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--force", action="store_true", help="re-execute cached notebooks too")
    parser.add_argument("--allow-errors", action="store_true",
                        help="run every cell even after one fails (to audit a whole chapter); "
                             "failing cells are cached with their errors")
    args = parser.parse_args(argv)

    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn
    from jupyter_cache.cache.db import NbProjectRecord

    cache = get_cache(str(args.cache))
    key = environment_key()
    paths = [p.resolve() for p in (args.notebooks or chapters())]
    todo = [p for p in paths if args.force or not _cached_and_current(cache, p, key)]
    settings = " ".join(f"{n}={os.environ[n]}" for n in KERNEL_SETTINGS if n in os.environ)
    print(f"{len(paths) - len(todo)} of {len(paths)} notebooks cached; executing {len(todo)} "
          f"on {args.jobs} workers{' (' + settings + ')' if settings else ''}", flush=True)

    failed = []
    start = time.perf_counter()
    with ProcessPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        futures = [pool.submit(_execute, str(p), args.allow_errors) for p in todo]
        for future in as_completed(futures):
            path, text, seconds, error = future.result()
            name = _display(Path(path))
            record = cache.add_nb_to_project(path)
            if error is not None:  # kept with the notebook, for tools/nbval_cache.py to show
                NbProjectRecord.set_traceback(record.uri, error, cache.db)
                failed.append(name)
                print(f"FAILED {name} ({seconds:.1f} s)\n{error}", flush=True)
                continue
            NbProjectRecord.remove_tracebacks([record.pk], cache.db)
            cache.cache_notebook_bundle(
                CacheBundleIn(nbformat.reads(text, as_version=4), record.uri,
                              data={"execution_seconds": seconds, "environment": key}),
                check_validity=False, overwrite=True)
            print(f"{seconds:6.1f} s  {name}", flush=True)
    print(f"executed {len(todo) - len(failed)} notebooks in "
          f"{time.perf_counter() - start:.1f} s wall", flush=True)
    if failed:
        print("failed: " + ", ".join(map(str, failed)), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
