"""nbval over the executed notebooks of the book's jupyter-cache: each chapter runs once.

    pytest -p tools.nbval_cache --nbval-from-cache _build/.jupyter_cache chapters

`tools/execute_chapters.py` executes the chapters (in parallel) into the cache the book build
reads; this plugin then checks them the way ``pytest --nbval-lax`` would, with nbval's own
comparison (``IPyNbCell.compare_outputs``: streams coalesced, carriage returns and ANSI codes
normalised, images and metadata ignored), but takes each cell's new outputs from the cached
execution instead of starting a kernel. Every code cell is an item; a cell tagged
``nbval-check-output`` must reproduce its committed outputs exactly. A chapter with no cached
execution (it failed, or its code changed since) fails with the reason, never passes.
"""

from __future__ import annotations

from collections import defaultdict

import nbformat
import pytest
from nbval.plugin import (
    IPyNbCell,
    IPyNbFile,
    coalesce_streams,
    find_comment_markers,
    find_metadata_tags,
)


def pytest_addoption(parser):
    parser.addoption("--nbval-from-cache", metavar="CACHE_DIR", default=None,
                     help="compare notebooks with their executions in this jupyter-cache")


def pytest_collect_file(file_path, parent):
    cache_dir = parent.config.getoption("nbval_from_cache")
    if cache_dir and file_path.suffix == ".ipynb":
        return CachedNbFile.from_parent(parent, path=file_path)
    return None


class CachedNbFile(IPyNbFile):
    """A chapter whose cells' new outputs come from its cached execution."""

    def setup(self):
        from jupyter_cache import get_cache

        self.setup_sanitize_files()
        cache = get_cache(self.config.getoption("nbval_from_cache"))
        try:
            record = cache.match_cache_notebook(self.nb)
        except KeyError:
            project = [r for r in cache.list_project_records() if r.uri == str(self.path)]
            reason = project[0].traceback if project and project[0].traceback else (
                "this version of the notebook was not executed into the cache "
                "(run tools/execute_chapters.py first)")
            raise RuntimeError(f"{self.path.name}: no cached execution: {reason}") from None
        executed = cache.get_cache_bundle(record.pk).nb
        self.executed_cells = [c for c in executed.cells if c.cell_type == "code"]

    def collect(self):
        self.compare_outputs = False  # --nbval-lax: only cells tagged nbval-check-output
        self.nb = nbformat.read(str(self.path), as_version=4)
        code_cells = [c for c in self.nb.cells if c.cell_type == "code"]
        for number, cell in enumerate(code_cells):
            options = defaultdict(bool, find_metadata_tags(cell.metadata))
            options.update(dict(find_comment_markers(cell.source)))
            options.setdefault("check", False)
            yield CachedNbCell.from_parent(self, name=f"Cell {number}", cell_num=number,
                                           cell=cell, options=options)

    def teardown(self):
        pass


class CachedNbCell(IPyNbCell):
    """One code cell: its cached outputs against the committed ones."""

    def runtest(self):
        if self.options["skip"]:
            pytest.skip()
        new_outputs = coalesce_streams(self.parent.executed_cells[self.cell_num].outputs)
        errors = [o for o in new_outputs if o.get("output_type") == "error"]
        if errors and not self.options["check_exception"]:
            self.raise_cell_error("Cell execution caused an exception",
                                  "\n".join(errors[0].get("traceback", [])))
        if self.cell.execution_count is None:
            if self.cell.outputs:
                self.raise_cell_error("Unrun reference cell has outputs")
            return
        if self.options["check"] and not self.compare_outputs(
                new_outputs, coalesce_streams(self.cell.outputs)):
            self.raise_cell_error("Cell outputs differ", "\n".join(self.comparison_traceback))
