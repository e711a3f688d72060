"""`make test` executes each chapter once: tools/execute_chapters.py runs notebooks into a
jupyter-cache (the one the book build reads) and tools/nbval_cache.py checks them there with
nbval's comparison. These tests prove the pair can fail: a changed output, a changed cell
and a failing cell are each reported, and an unchanged notebook is reused, not re-run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import execute_chapters  # noqa: E402

pytestmark = pytest.mark.notebooks


def _notebook(path: Path, source: str, output: str | None, tag: bool = True) -> Path:
    cell = nbformat.v4.new_code_cell(source, execution_count=1)
    if tag:
        cell.metadata["tags"] = ["nbval-check-output"]
    if output is not None:
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=output)]
    nb = nbformat.v4.new_notebook(cells=[cell])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nbformat.write(nb, path)
    return path


def _check(cache: Path, *paths: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "tools.nbval_cache", "--nbval-from-cache",
         str(cache), "-q", "--color=no", "-p", "no:cacheprovider", "--rootdir", str(ROOT),
         *map(str, paths)], cwd=ROOT, capture_output=True, text=True)


def test_cached_executions_are_checked_and_reused(tmp_path, capsys):
    cache = tmp_path / "cache"
    good = _notebook(tmp_path / "good.ipynb", "print(6 * 7)", "42\n")
    wrong = _notebook(tmp_path / "wrong.ipynb", "print(6 * 9)", "42\n")
    fails = _notebook(tmp_path / "fails.ipynb", "raise ValueError('boom')", None, tag=False)
    assert execute_chapters.main(["--cache", str(cache), "--jobs", "2",
                                  str(good), str(wrong), str(fails)]) == 1
    assert "FAILED" in capsys.readouterr().out

    result = _check(cache, good)
    assert result.returncode == 0, result.stdout
    result = _check(cache, wrong)
    assert result.returncode == 1 and "Cell outputs differ" in result.stdout
    result = _check(cache, fails)
    assert result.returncode == 1 and "no cached execution" in result.stdout
    assert "boom" in result.stdout  # the traceback of the failed execution

    # Unchanged: reused. Edited code: re-executed, and the old execution no longer counts.
    assert execute_chapters.main(["--cache", str(cache), str(good)]) == 0
    assert "1 of 1 notebooks cached; executing 0" in capsys.readouterr().out
    _notebook(good, "print(6 * 7 + 0)", "42\n")
    result = _check(cache, good)
    assert result.returncode == 1 and "no cached execution" in result.stdout
    assert execute_chapters.main(["--cache", str(cache), str(good)]) == 0
    assert _check(cache, good).returncode == 0


def test_the_cache_key_covers_trainart_and_the_cpu_kernels(monkeypatch):
    base = execute_chapters.environment_key()
    for name in execute_chapters.KERNEL_SETTINGS:
        with monkeypatch.context() as m:  # a value no setting of make test-portable uses
            m.setenv(name, "NotACoreType")
            assert execute_chapters.environment_key() != base
    assert execute_chapters.environment_key() == base
