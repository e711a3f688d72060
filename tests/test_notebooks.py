"""Hygiene of the committed notebooks and the table of contents.

nbval compares only cells tagged ``nbval-check-output`` (``--nbval-lax``), and silently skips
the comparison when a cell's stored ``execution_count`` is null; these tests make sure every
checked cell really has recorded outputs, that no figure is committed (the build makes them),
and that the table of contents lists exactly the chapters that exist.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "chapters").rglob("*.ipynb"))
CHAPTERS = [p for p in CHAPTERS if ".ipynb_checkpoints" not in p.parts]


def _toc_files(node) -> list[str]:
    files = []
    if isinstance(node, dict):
        if "file" in node:
            files.append(node["file"])
        for value in node.values():
            files += _toc_files(value)
    elif isinstance(node, list):
        for item in node:
            files += _toc_files(item)
    return files


def test_toc_lists_exactly_the_existing_chapters():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    assert toc["format"] == "jb-book"
    listed = _toc_files(toc)
    for entry in listed + [toc["root"]]:
        matches = [ROOT / f"{entry}{ext}" for ext in (".md", ".ipynb")]
        assert any(m.exists() for m in matches), f"_toc.yml lists {entry}, which does not exist"
    chapters = {p.relative_to(ROOT).with_suffix("").as_posix() for p in CHAPTERS}
    assert chapters <= set(listed), f"chapters missing from _toc.yml: {chapters - set(listed)}"


def test_there_are_chapters():
    assert CHAPTERS


@pytest.mark.parametrize("path", CHAPTERS, ids=[p.name for p in CHAPTERS])
def test_notebook_is_committed_clean(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata.get("kernelspec", {}).get("name") == "python3"
    checked = 0
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        tags = cell.metadata.get("tags", [])
        for out in cell.outputs:
            assert "image/png" not in out.get("data", {}), f"cell {i}: a figure is committed"
            assert out.get("name") != "stderr", f"cell {i} wrote to stderr: {out.get('text')!r}"
            assert out.get("output_type") != "error", f"cell {i} raised"
        if "nbval-check-output" in tags:
            checked += 1
            assert cell.execution_count is not None, f"cell {i} is checked but was never run"
            assert cell.outputs, f"cell {i} is checked but has no stored output"
    assert checked >= 3, f"{path.name}: only {checked} cells have their numbers checked by nbval"
    first_md = next(c for c in nb.cells if c.cell_type == "markdown")
    assert first_md.source.startswith("# "), "a chapter starts with its title"
