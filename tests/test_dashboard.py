"""The class dashboard and the similarity report, built from one real graded batch.

The batch (graded once, in a module fixture): the reference, the blank notebook, a wrong but
plausible answer (the lecture's velocity convention), a near-copy of it with renamed
variables and another layout, a second student who left the starter code, a file that is
not a notebook under a hostile name, and one reference of a second exercise. Then the HTML
is checked as text, and in Debian's chromium over http://127.0.0.1 (marked ``site``).
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import nbformat
import pytest
from _serve import serve

from trainart.grading import dashboard, grade, samples, sandbox, similarity

EXERCISE, OTHER = "optim_momentum", "optim_clipping"
CELL = "sgd_momentum_step"
HOSTILE = "<script>x<"  # a folder name; the student is "<script>x<__script>"

WRONG = '''\
    if buf is None:
        velocity = -lr * grad
    else:
        velocity = momentum * buf - lr * grad
    new_param = param + velocity
    return new_param, velocity
'''
# The same code: other names, other layout, a comment.
COPY = '''\
    if buf is None:
        v = -lr*grad
    else:
        v = (momentum*buf -
             lr*grad)   # the velocity
    p = param + v
    return p, v
'''


def _body(code: str) -> str:
    return f"def {CELL}(param, grad, buf, lr, momentum, nesterov=False, dampening=0.0):\n{code}"


def _write(nb, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """Grade the batch once, then write the similarity report and the dashboard."""
    root = tmp_path_factory.mktemp("dashboard")
    subs, out = root / "subs", root / "out"
    _write(samples.reference(EXERCISE), subs / "ref.ipynb")
    _write(samples.student(EXERCISE), subs / "blank.ipynb")
    _write(samples.student(EXERCISE), subs / "blank2.ipynb")
    _write(samples.set_solution(samples.student(EXERCISE), CELL, _body(WRONG)),
           subs / "wrong.ipynb")
    _write(samples.set_solution(samples.student(EXERCISE), CELL, _body(COPY)),
           subs / "copy.ipynb")
    _write(samples.reference(OTHER), subs / "other.ipynb")
    (subs / HOSTILE).mkdir()
    (subs / HOSTILE / "script>.txt").write_text("not a notebook\n")
    started = time.monotonic()
    reports = grade.grade([subs], out, jobs=2, progress=False,
                          unsafe_no_sandbox=not sandbox.available()[0])
    similarity.write_similarity(out)
    dashboard.write_dashboard(out)
    print(f"graded and reported in {time.monotonic() - started:.1f} s")
    return out, {r.student: r for r in reports}


def _html(out: Path) -> dict[str, str]:
    return {p.relative_to(out).as_posix(): p.read_text(encoding="utf-8")
            for p in sorted(out.rglob("*.html"))}


# --------------------------------------------------------------------------- the batch
def test_the_batch_graded_as_expected(graded):
    _, reports = graded
    assert reports["ref"].score == reports["ref"].max_score == 10
    assert reports["other"].status == "graded" and reports["other"].score > 0
    assert reports["blank"].score == 0
    assert reports["wrong"].score < 10
    assert reports["wrong"].score == reports["copy"].score
    assert reports[f"{HOSTILE}__script>"].status == "rejected"


# ------------------------------------------------------------------------------ the HTML
def test_every_student_has_a_row_and_a_page(graded):
    out, reports = graded
    index = (out / "index.html").read_text(encoding="utf-8")
    links = re.findall(r'<a href="(students/[^"]+)">([^<]*)</a>', index)
    assert sorted(name for _, name in links) == sorted(map(_escaped, reports))
    for href, _ in links:
        assert (out / href).is_file(), href
        assert "Back to the class dashboard" in (out / href).read_text(encoding="utf-8")
    wrong = (out / "students" / "wrong.html").read_text(encoding="utf-8")
    assert "quadratic_run" in wrong and "failed" in wrong
    assert (out / "students" / "ref.html").read_text(encoding="utf-8").count("passed") >= 5


def _escaped(name: str) -> str:
    return name.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def test_student_names_are_escaped(graded):
    out, _ = graded
    pages = _html(out)
    for path, text in pages.items():
        assert HOSTILE not in text, path
        assert "<script" not in text.lower(), path
    assert "&lt;script&gt;x&lt;__script&gt;" in pages["index.html"]
    hostile = [p for p in pages if p.startswith("students/script-x-")]
    assert len(hostile) == 1, sorted(pages)


def test_images_have_alt_text_and_nothing_is_external(graded):
    out, _ = graded
    for path, text in _html(out).items():
        assert re.search(r"<title>[^<]+</title>", text), path
        assert text.count("<table") == text.count('<thead><tr><th scope="col">'), path
        for img in re.findall(r"<img\b[^>]*>", text):
            alt = re.search(r'alt="([^"]*)"', img)
            assert alt and alt.group(1).strip(), img
            src = re.search(r'src="([^"]*)"', img).group(1)
            assert (out / src).is_file(), src
        assert not re.search(r"(?i)(https?:)?//[a-z0-9]", text), path
    index = (out / "index.html").read_text(encoding="utf-8")
    assert index.count("<img") == 4  # a histogram and a check chart per exercise
    assert 'href="similarity.html"' in index


def test_failure_table_puts_the_most_missed_check_first(graded):
    out, _ = graded
    rates = dashboard.check_rates(dashboard.graded(dashboard.load_reports(out), EXERCISE))
    assert [r.rate for r in rates] == sorted((r.rate for r in rates), reverse=True)
    assert rates[0].failed >= 3  # the blanks and the wrong pair


def test_rerun_writes_the_same_bytes(graded):
    out, _ = graded
    files = sorted(out.rglob("*.png")) + sorted(out.rglob("*.html")) + [out / "similarity.json"]
    before = {p: p.read_bytes() for p in files}
    similarity.write_similarity(out)
    dashboard.write_dashboard(out)
    assert {p: p.read_bytes() for p in files} == before


def test_dashboard_reads_odd_folders(tmp_path):
    (tmp_path / "notes.json").write_text('{"not": "a report"}')
    (tmp_path / "broken.json").write_text("{")
    (tmp_path / "a.json").write_text(json.dumps(
        {"student": "a & b", "status": "graded", "exercise": "ex", "score": 1,
         "max_score": 2, "checks": [{"id": "c1", "passed": False}, "junk"]}))
    (tmp_path / "b.json").write_text(json.dumps({"student": "a & b", "status": "rejected"}))
    (tmp_path / "c.json").write_text(json.dumps({"student": "김\ud800", "status": "rejected"}))
    index = dashboard.write_dashboard(tmp_path).read_text(encoding="utf-8")
    assert index.count("a &amp; b</a>") == 2 and "김?</a>" in index
    assert len(list((tmp_path / "students").glob("*.html"))) == 3
    with pytest.raises(FileNotFoundError):
        dashboard.write_dashboard(tmp_path / "missing")


# ------------------------------------------------------------------------ the similarity
def test_near_copy_ranks_first_and_starter_code_is_no_match(graded):
    out, _ = graded
    data = json.loads((out / "similarity.json").read_text(encoding="utf-8"))
    (exercise,) = [e for e in data["exercises"] if e["exercise"] == EXERCISE]
    (cell,) = exercise["cells"]
    top = cell["pairs"][0]
    assert {top["a"], top["b"]} == {"wrong", "copy"}, cell["pairs"]
    assert top["similarity"] > 0.5 and top["lines_a"] and top["lines_b"]
    assert all(p["similarity"] < top["similarity"] for p in cell["pairs"][1:])
    named = {n for p in cell["pairs"] for n in (p["a"], p["b"])}
    assert not named & {"blank", "blank2"}, cell["pairs"]
    page = (out / "similarity.html").read_text(encoding="utf-8")
    assert "never changes a score" in page and "<mark>" in page


def test_similarity_of_one_and_of_huge_cells(tmp_path):
    """A class of one has no pair; a huge cell is compared on its first characters only."""
    body = _body(WRONG + "    x = 1\n" * 50_000)
    nb = samples.set_solution(samples.student(EXERCISE), CELL, body)
    _write(nb, tmp_path / "subs" / "huge.ipynb")
    report = {"submission": str(tmp_path / "subs" / "huge.ipynb"), "student": "huge",
              "exercise": EXERCISE, "status": "graded", "score": 0, "max_score": 10}
    out = tmp_path / "out"
    out.mkdir()
    (out / "huge.json").write_text(json.dumps(report))
    started = time.monotonic()
    data = json.loads(similarity.write_similarity(out).with_suffix(".json").read_text())
    assert time.monotonic() - started < 10
    (cell,) = data["exercises"][0]["cells"]
    assert cell["pairs"] == [] and cell["truncated"] == ["huge"]
    (out / "copy.json").write_text(json.dumps(dict(report, student="copy")))
    data = json.loads(similarity.write_similarity(out).with_suffix(".json").read_text())
    (pair,) = data["exercises"][0]["cells"][0]["pairs"]
    assert pair["similarity"] == 1.0


def test_similarity_notes_unreadable_submissions(tmp_path):
    (tmp_path / "gone.json").write_text(json.dumps(
        {"submission": str(tmp_path / "gone.ipynb"), "student": "gone", "exercise": EXERCISE,
         "status": "graded"}))
    data = json.loads(similarity.write_similarity(tmp_path).with_suffix(".json").read_text())
    assert data["exercises"] == [] and data["skipped"][0]["student"] == "gone"


def test_cli_subcommands(graded, capsys):
    import argparse

    out, _ = graded
    parser = argparse.ArgumentParser(prog="trainart")
    sub = parser.add_subparsers(dest="command", required=True)
    dashboard.register(sub)
    similarity.register(sub)
    for command in ("similarity", "dashboard"):
        args = parser.parse_args([command, str(out)])
        assert args.func(args) == 0
    assert "index.html" in capsys.readouterr().out


# ------------------------------------------------------------------------- in a browser
@pytest.fixture(scope="module")
def served(graded):
    out, _ = graded
    with serve(out) as url:
        yield url


@pytest.mark.site
def test_dashboard_in_a_browser(browser, served):
    page = browser.new_page()
    failed, external = [], []
    page.on("requestfailed", lambda r: failed.append(f"{r.url} ({r.failure})"))
    page.on("response", lambda r: failed.append(f"{r.url} (HTTP {r.status})")
            if r.status >= 400 and not r.url.endswith("/favicon.ico") else None)
    page.on("request", lambda r: external.append(r.url)
            if not r.url.startswith((served, "data:", "about:")) else None)
    page.goto(f"{served}/index.html", wait_until="networkidle")
    assert page.title() == "Class dashboard"
    widths = page.eval_on_selector_all("img", "els => els.map(e => e.complete && e.naturalWidth)")
    assert len(widths) == 4 and all(w and w > 0 for w in widths), widths
    page.get_by_role("link", name="wrong", exact=True).click()
    page.wait_for_load_state("networkidle")
    assert page.url.endswith("/students/wrong.html")
    assert "quadratic_run" in page.inner_text("main")
    page.get_by_role("link", name="Back to the class dashboard").click()
    page.wait_for_load_state("networkidle")
    page.get_by_role("link", name=re.compile("Most similar solutions")).click()
    page.wait_for_load_state("networkidle")
    assert page.url.endswith("/similarity.html")
    assert page.locator("mark").count() > 0
    assert not failed, failed
    assert not external, external
    page.close()
