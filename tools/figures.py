"""List a chapter's figures with their alt text, and write the cached images out to look at.

    python tools/figures.py chapters/dropout/01_dropout.ipynb [--out DIR]

For each code cell whose executed output (from the book's jupyter-cache) holds an image:
the cell's index, its alt text (``metadata.mystnb.image.alt``, what myst-nb puts on the
``<img>``), its first code lines, and, with ``--out``, the PNGs as ``DIR/cell<index>-<n>.png``.
Authors use it to write alt text that says what a figure shows.
"""

from __future__ import annotations

import argparse
import base64
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / "_build" / ".jupyter_cache"


def executed(path: Path, cache_dir: Path = CACHE) -> nbformat.NotebookNode:
    from jupyter_cache import get_cache

    nb = nbformat.read(path, as_version=4)
    cache = get_cache(str(cache_dir))
    try:
        pk, merged = cache.merge_match_into_notebook(nb)
    except KeyError:
        sys.exit(f"figures: {path} is not in {cache_dir} (run `make execute` first)")
    return merged


def figure_cells(nb: nbformat.NotebookNode) -> list[tuple[int, nbformat.NotebookNode, list[bytes]]]:
    found = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        images = [base64.b64decode(out["data"]["image/png"]) for out in cell.get("outputs", [])
                  if "image/png" in out.get("data", {})]
        if images:
            found.append((index, cell, images))
    return found


def alt_text(cell: nbformat.NotebookNode) -> str | None:
    return cell.metadata.get("mystnb", {}).get("image", {}).get("alt")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebook", type=Path)
    parser.add_argument("--out", type=Path, help="write the images here")
    args = parser.parse_args(argv)
    for index, cell, images in figure_cells(executed(args.notebook.resolve())):
        print(f"== cell {index}: {len(images)} image(s); alt: {alt_text(cell)!r}")
        print("\n".join("   " + line for line in cell.source.splitlines()[:12]))
        if args.out:
            args.out.mkdir(parents=True, exist_ok=True)
            for n, png in enumerate(images):
                (args.out / f"cell{index}-{n}.png").write_bytes(png)
    return 0


if __name__ == "__main__":
    sys.exit(main())
