"""The benchmark suite cannot rot: ``python -m bench.run --smoke`` runs every group at tiny
sizes (no grading, no book build), and the pieces the figures rest on are checked: the
interleaving, the table, the chapter discovery, that the optimizer cases compare the same
update and that the quasi-Newton test problems have correct gradients."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import nbformat
import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # `bench` is a folder of the repository, not an installed package
    sys.path.insert(0, str(REPO))

from bench import (  # noqa: E402
    batchnorm,
    book,
    grading,
    optimizers,
    quasi_newton,
    report,
    run,
    suite,
    timing,
)
from trainart.gradcheck import numerical_gradient  # noqa: E402


def test_smoke_run_writes_every_group(tmp_path, capsys):
    out = tmp_path / "bench.json"
    assert run.main(["--smoke", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    data = json.loads(out.read_text())
    groups = {r["group"] for r in data["rows"]}
    assert groups == {optimizers.GROUP, batchnorm.GROUP, quasi_newton.GROUP, grading.GROUP,
                      book.GROUP, suite.GROUP}
    assert data["smoke"] is True
    assert set(data["meta"]["group_seconds"]) == set(run.GROUPS)
    timed = [r for r in data["rows"] if r["ratio"] is not None]
    assert len(timed) >= 14 and all(r["ratio"] > 0 for r in timed)
    assert all(r["result"] in ("pass", "FAIL") for r in data["rows"] if r["target"])
    # the printed table is the Markdown file
    table = (tmp_path / "bench.md").read_text()
    assert "| group | measurement | value | reference | ratio | target | result |" in table
    assert table.strip() in printed
    assert "threadpool_limits(1)" in printed


def test_only_and_unknown_groups(tmp_path):
    out = tmp_path / "b.json"
    assert run.main(["--smoke", "--only", "quasi_newton", "--out", str(out)]) == 0
    assert {r["group"] for r in json.loads(out.read_text())["rows"]} == {quasi_newton.GROUP}
    with pytest.raises(SystemExit):
        run.main(["--smoke", "--only", "nope", "--out", str(out)])


def test_interleaved_rotates_and_counts():
    calls = []
    cases = {name: (lambda name=name: calls.append(name)) for name in "abc"}
    t = timing.interleaved(cases, rounds=3, number=2, warmup=1)
    assert calls[:3] == ["a", "b", "c"]  # warm-up
    rounds = calls[3:]
    assert rounds == ["a", "a", "b", "b", "c", "c", "b", "b", "c", "c", "a", "a",
                      "c", "c", "a", "a", "b", "b"]
    assert all(len(t[name].seconds) == 3 for name in "abc")
    with pytest.raises(ValueError, match="interleaved: need rounds >= 1"):
        timing.interleaved(cases, rounds=0)


def test_ratio_and_spread_are_of_medians():
    a = timing.Timing("a", [1.0, 2.0, 3.0, 100.0, 4.0])
    b = timing.Timing("b", [1.0, 1.0, 1.0, 1.0, 2.0])
    assert a.median == 3.0 and timing.ratio(a, b) == 3.0
    assert timing.Timing("c", [2.0] * 5).spread == 0.0
    assert timing.fmt_seconds(2.5e-5) == "25 µs"
    assert timing.fmt_seconds(0.0123) == "12.3 ms"
    assert timing.fmt_seconds(75.0) == "75 s"


def test_one_thread_restores_torch_threads():
    import torch

    before = torch.get_num_threads()
    with timing.one_thread():
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before


def test_table_marks_targets():
    rows = [report.Row("g", "fast", "1 ms", "2 ms", 0.5, "<= 1.0x", True),
            report.Row("g", "slow", "3 ms", "2 ms", 1.5, "<= 1.0x", False),
            report.Row("g", "info", "4 ms")]
    table = report.markdown(rows)
    assert "| g | fast | 1 ms | 2 ms | 0.50x | <= 1.0x | pass |" in table
    assert "| g | slow | 3 ms | 2 ms | 1.50x | <= 1.0x | FAIL |" in table
    assert "| g | info | 4 ms |  |  |  |  |" in table
    assert report.targets_summary(rows) == "1 of 2 targets met"
    assert [r["result"] for r in report.as_json(rows)] == ["pass", "FAIL", ""]


@pytest.mark.parametrize("rule", list(optimizers.RULES))
def test_optimizer_cases_take_the_same_step(rule):
    steps = optimizers.cases(rule, 64, seed=1)
    start = np.array(steps["trainart NumPy"][1], copy=True)
    for step, _ in steps.values():
        for _ in range(3):
            step()
    ref = steps["torch single-tensor"][1].detach().numpy()
    assert not np.allclose(ref, start)
    for label, (_, param) in steps.items():
        got = param.detach().numpy() if hasattr(param, "detach") else param
        np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-7, err_msg=label)


def test_batchnorm_cases_compute_the_same_gradients():
    steps = batchnorm.cases((6, 3, 2, 2), seed=2)
    dx, dgamma, dbeta = steps["trainart"]()
    steps["torch"]()
    assert dx.shape == (6, 3, 2, 2) and dgamma.shape == dbeta.shape == (3,)


@pytest.mark.parametrize("problem", quasi_newton.problems(), ids=lambda p: p[0])
def test_quasi_newton_problems_have_correct_gradients(problem):
    _, fun_and_grad, x0 = problem
    rng = np.random.default_rng(3)
    x = x0 + 0.3 * rng.standard_normal(x0.shape)
    f, g = fun_and_grad(x)
    assert isinstance(f, float) and g.shape == x.shape
    num = numerical_gradient(lambda: fun_and_grad(x)[0], x)
    np.testing.assert_allclose(g, num, rtol=1e-5, atol=1e-6)


def test_chapters_follow_the_toc(tmp_path):
    (tmp_path / "_toc.yml").write_text(
        "format: jb-book\nroot: intro\nparts:\n"
        "  - caption: A\n    chapters:\n      - file: ch/b\n      - file: ch/a\n"
        "        sections:\n          - file: ch/a2\n"
        "  - caption: B\n    chapters:\n      - file: ch/missing\n      - file: glossary\n")
    (tmp_path / "ch").mkdir()
    for name in ("a", "a2", "b", "unlisted"):
        nbformat.write(nbformat.v4.new_notebook(), tmp_path / "ch" / f"{name}.ipynb")
    (tmp_path / "glossary.md").write_text("# Glossary\n")
    assert book.chapters(tmp_path) == ["ch/b.ipynb", "ch/a.ipynb", "ch/a2.ipynb"]
    assert book.chapters()  # the real book has chapters, and each exists
    assert all((REPO / name).exists() for name in book.chapters())


def test_copy_leaves_out_builds_and_environments(tmp_path):
    src = tmp_path / "src"
    for rel in ("chapters/x.ipynb", "_build/html/index.html", ".venv/bin/python",
                "trainart/__pycache__/m.pyc", "_toc.yml"):
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        (src / rel).write_text("x")
    dst = book.copy_repo(tmp_path / "dst", root=src)
    assert (dst / "chapters/x.ipynb").exists() and (dst / "_toc.yml").exists()
    assert not (dst / "_build").exists() and not (dst / ".venv").exists()
    assert not (dst / "trainart/__pycache__").exists()


def test_grading_batch_is_valid_notebooks(tmp_path):
    paths = grading.make_batch(tmp_path, 4)
    assert len(paths) == 4 and len({p.name for p in paths}) == 4
    for p in paths:
        nbformat.validate(nbformat.read(p, as_version=4))
