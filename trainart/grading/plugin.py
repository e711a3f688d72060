"""A pytest plugin for nbval runs: record what each cell did, and never compare stderr.

Loaded with ``-p trainart.grading.plugin``. For every notebook cell nbval runs it appends
one JSON line to ``<notebook>.results.jsonl`` (while grading, it sends it to the grader's
socket named by ``$TRAINART_NOTES`` instead: notes for the report, never points): the cell's
number and id, its outcome, why it failed (outputs differ, an exception, a time-out, a dead
kernel) and the text of its outputs. The exercise builder uses them to record the reference
outputs "through nbval itself"; the grader uses them only for notes in the report.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from queue import Empty

import pytest

RESULTS_SUFFIX = ".results.jsonl"


def results_path(notebook: str | Path) -> Path:
    return Path(str(notebook) + RESULTS_SUFFIX)


def _drop_stderr(outputs):
    return [o for o in outputs if not (o.get("output_type") == "stream"
                                       and o.get("name") == "stderr")]


def pytest_configure(config):
    from nbval.kernel import RunningKernel
    from nbval.plugin import IPyNbCell

    if getattr(IPyNbCell, "_trainart_patched", False):
        return
    original_compare = IPyNbCell.compare_outputs

    def compare_outputs(self, test, ref, skip_compare=None):
        # A warning printed by a student's code must not fail a correct answer.
        return original_compare(self, _drop_stderr(test), _drop_stderr(ref), skip_compare)

    original_await = RunningKernel.await_reply

    def await_reply(self, msg_id, timeout=None):
        # Wait in one-second slices so that a kernel that died (os._exit, a segfault) is
        # noticed at once instead of after the whole cell time-out.
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            left = 1.0 if deadline is None else min(1.0, deadline - time.monotonic())
            if left <= 0:
                raise Empty
            try:
                return original_await(self, msg_id, timeout=left)
            except Empty:
                if not self.is_alive():
                    self.trainart_died = True
                    raise

    original_runtest = IPyNbCell.runtest

    def runtest(self):
        # The cell that answers the grader's calls runs all the checks: its own time limit.
        serve = os.environ.get("TRAINART_SERVE_TIMEOUT")
        if serve and self.cell.metadata.get("trainart", {}).get("role") == "serve":
            saved = self.config.option.nbval_cell_timeout
            self.config.option.nbval_cell_timeout = float(serve)
            try:
                return original_runtest(self)
            finally:
                self.config.option.nbval_cell_timeout = saved
        return original_runtest(self)

    IPyNbCell.runtest = runtest
    IPyNbCell.compare_outputs = compare_outputs
    RunningKernel.await_reply = await_reply
    IPyNbCell._trainart_patched = True


def output_text(outputs) -> str:
    """The readable text of a cell's outputs (stdout, results, errors; no stderr)."""
    parts = []
    for out in outputs or []:
        kind = out.get("output_type")
        if kind == "stream" and out.get("name") == "stdout":
            parts.append(out.get("text", ""))
        elif kind in ("execute_result", "display_data"):
            parts.append(out.get("data", {}).get("text/plain", ""))
        elif kind == "error":
            parts.append(f"{out.get('ename')}: {out.get('evalue')}")
    return "".join(p if p.endswith("\n") else p + "\n" for p in parts if p)


def _reason(item, call) -> str:
    if call.excinfo is None:
        return ""
    exc = call.excinfo.value
    text = str(exc)
    if "Failed to interrupt kernel" in text:
        return "timeout"  # nbval stopped a kernel that ignored the interrupt
    kernel = getattr(item.parent, "kernel", None)
    if "Kernel dead" in text or (kernel is not None and not kernel.is_alive()):
        return "kernel died"
    if "Timeout" in text and "exceeded" in text:
        return "timeout"
    if "Cell outputs differ" in text:
        return "outputs differ"
    if "Cell execution caused an exception" in text:
        return "exception"
    return f"{type(exc).__name__}: {text.splitlines()[0] if text else ''}"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if not hasattr(item, "cell_num"):
        return
    failed_setup = report.when == "setup" and report.outcome != "passed"
    if report.when != "call" and not failed_setup:
        return
    state = "xfailed" if hasattr(report, "wasxfail") else report.outcome
    meta = item.cell.metadata.get("trainart", {})
    record = {
        "cell": item.cell_num,
        "id": meta.get("id") or item.cell.get("id"),
        "role": meta.get("role"),
        "phase": report.when,
        "outcome": state,
        "reason": _reason(item, call),
        "output": output_text(item.test_outputs),
    }
    if os.environ.get("TRAINART_NOTES"):  # grading: tell the grader (advice only)
        from .wire import send_note

        record["output"] = record["output"][:2000]
        send_note({"kind": "cell", **record})
        return
    with results_path(item.fspath).open("a", encoding="utf-8") as f:
        f.write(json.dumps(record) + "\n")


def read_results(notebook: str | Path) -> list[dict]:
    """The records the plugin wrote for ``notebook`` (empty when it never ran)."""
    path = results_path(notebook)
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
