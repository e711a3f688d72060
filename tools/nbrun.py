"""Execute notebooks in place and store their outputs the way this project commits them.

    python tools/nbrun.py chapters/optimization/01_gradient_descent.ipynb [...]

Outputs are recorded by really running the notebook (so the values nbval compares are
never typed by hand), then cleaned: images and large HTML (figures, animations) are
dropped because the book build re-creates them; text outputs stay so a reader of the
raw notebook sees the numbers. Prints the wall time of each notebook.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

MAX_HTML_CHARS = 20_000


def clean_outputs(nb) -> None:
    """Drop images, large HTML and volatile metadata from every code cell."""
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        kept = []
        for out in cell.get("outputs", []):
            data = out.get("data")
            if data is not None:
                if "image/png" in data or "image/jpeg" in data or "image/svg+xml" in data:
                    continue
                if len(data.get("text/html", "")) > MAX_HTML_CHARS:
                    continue
                out["metadata"] = {}
            kept.append(out)
        cell["outputs"] = kept
        cell.metadata.pop("execution", None)


def run(path: Path, timeout: int) -> float:
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    NotebookClient(nb, timeout=timeout, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    elapsed = time.perf_counter() - start
    clean_outputs(nb)
    nb.metadata.pop("widgets", None)
    nbformat.write(nb, path)
    return elapsed


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--timeout", type=int, default=300, help="seconds per cell")
    args = parser.parse_args(argv)
    for path in args.notebooks:
        print(f"{path}: {run(path, args.timeout):.1f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
