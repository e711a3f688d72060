"""Which chapter outputs change with the CPU's floating-point kernels?

    python tools/portability_report.py CACHE_DIR [CACHE_DIR ...] [--all]

Each CACHE_DIR holds the chapters executed under one kernel setting (see
``tools/execute_chapters.py`` and ``make test-portable``, which keeps one cache per setting
under ``_build/portable/``). For every code cell the report lists the settings whose text
output differs from the committed one (cells tagged ``nbval-check-output`` first, then with
``--all`` every other cell) and every cell that raised. Use it before recording a number: a
checked cell may print only what is identical under every setting.
"""

from __future__ import annotations

import argparse
import difflib
import sys
from pathlib import Path

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parent))
from execute_chapters import chapters  # noqa: E402


def _text(outputs) -> str:
    parts = []
    for out in outputs:
        if out.get("output_type") == "stream":
            parts.append(out.get("text", ""))
        elif out.get("output_type") == "error":
            parts.append(f"ERROR {out.get('ename')}: {out.get('evalue')}\n")
        elif "data" in out:
            parts.append(out["data"].get("text/plain", ""))
    return "".join(parts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("caches", nargs="+", type=Path)
    parser.add_argument("--all", action="store_true", help="report unchecked cells too")
    args = parser.parse_args(argv)

    from jupyter_cache import get_cache

    caches = {c.name: get_cache(str(c)) for c in args.caches}
    differing = 0
    for path in chapters():
        committed = nbformat.read(path, as_version=4)
        code = [c for c in committed.cells if c.cell_type == "code"]
        executed = {}
        for name, cache in caches.items():
            try:
                record = cache.match_cache_notebook(committed)
            except KeyError:
                print(f"{path.name}: not executed in {name}")
                continue
            nb = cache.get_cache_bundle(record.pk).nb
            executed[name] = [c for c in nb.cells if c.cell_type == "code"]
        for i, cell in enumerate(code):
            checked = "nbval-check-output" in cell.metadata.get("tags", [])
            want = _text(cell.outputs)
            for name, cells in executed.items():
                got = _text(cells[i].outputs)
                raised = "ERROR " in got and "ERROR " not in want
                if got == want or not (checked or args.all or raised):
                    continue
                differing += 1
                label = "checked" if checked else "unchecked"
                print(f"--- {path.relative_to(path.parents[2])} cell {i} ({label}) under {name}")
                diff = difflib.unified_diff(want.splitlines(), got.splitlines(), "committed",
                                            name, lineterm="", n=0)
                print("\n".join(list(diff)[2:]))
    print(f"{differing} cell outputs differ")
    return 0


if __name__ == "__main__":
    sys.exit(main())
