"""The Gradescope autograder: the zip's contents, and run_autograder in a simulated /autograder.

The zip is built into a temporary folder and extracted, as Gradescope does, into
``<root>/source``; ``run_autograder`` then runs with ``TRAINART_AUTOGRADER_ROOT=<root>`` and
this environment's Python (``setup.sh`` is only syntax-checked: the environment already holds
everything it installs). Grading is the real pipeline: bubblewrap where it works, the canary.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest

from trainart.grading import grade, gradescope, samples, source

ROOT = Path(__file__).resolve().parents[1]
GRADING = ROOT / "exercises" / "grading"
EXERCISE = "newton_step"  # NumPy only, graded in about 2 s
TORCH_EXERCISE = "norm_batchnorm"
CHECKS = grade.Spec.of(EXERCISE, nbformat.read(GRADING / f"{EXERCISE}.ipynb", as_version=4)).checks


def _sandbox_or_unsafe():
    """Where bubblewrap does not work here, run() refuses by design: the graded tests need it."""
    ok, why = grade.sandbox.available()
    return pytest.mark.skipif(not ok, reason=f"no sandbox here ({why}): run() refuses")


needs_sandbox = _sandbox_or_unsafe()


# ------------------------------------------------------------------------------ the zip
@pytest.fixture(scope="module")
def one_zip(tmp_path_factory) -> Path:
    return gradescope.build_autograder([EXERCISE], tmp_path_factory.mktemp("zip") / "ag.zip",
                                       GRADING)


@pytest.fixture(scope="module")
def two_zip(tmp_path_factory) -> Path:
    return gradescope.build_autograder([EXERCISE, TORCH_EXERCISE],
                                       tmp_path_factory.mktemp("zip2") / "ag.zip", GRADING)


def _text(zf: zipfile.ZipFile, name: str) -> str:
    return zf.read(name).decode("utf-8")


def _mode(zf: zipfile.ZipFile, name: str) -> int:
    return (zf.getinfo(name).external_attr >> 16) & 0o7777


def test_the_pins_are_pyprojects_grading_packages(one_zip):
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = project["dependencies"] + project["optional-dependencies"]["grading"]
    names = {re.match(r"[A-Za-z0-9_.-]+", d).group(0).lower() for d in declared}
    with zipfile.ZipFile(one_zip) as zf:
        pins = _text(zf, "requirements-grading.txt").split()
    assert {p.split("==")[0].lower() for p in pins} == names
    assert set(gradescope.grading_packages()) == names


def test_unknown_exercise_is_named_with_the_known_ones(tmp_path):
    with pytest.raises(ValueError, match=r"unknown exercise 'nope'; known: .*newton_step"):
        gradescope.build_autograder([EXERCISE, "nope"], tmp_path / "ag.zip", GRADING)
    assert not (tmp_path / "ag.zip").exists()


@pytest.mark.parametrize("which", ["one", "two"])
def test_scripts_are_valid_and_executable(which, one_zip, two_zip):
    with zipfile.ZipFile(one_zip if which == "one" else two_zip) as zf:
        for script in ("setup.sh", "run_autograder"):
            assert _mode(zf, script) & 0o111, f"{script} is not executable"
            assert _text(zf, script).startswith("#!/usr/bin/env bash\n")
            check = subprocess.run(["bash", "-n"], input=_text(zf, script), text=True,
                                   capture_output=True)
            assert check.returncode == 0, check.stderr
        setup = _text(zf, "setup.sh")
        assert "bubblewrap" in setup and "[grading]" in setup
        assert "/opt/trainart-venv" in setup and 'chmod -R go-rwx "$SRC"' in setup


def test_torch_only_when_an_exercise_needs_it_and_always_pinned(one_zip, two_zip):
    for path, wanted in ((one_zip, False), (two_zip, True)):
        with zipfile.ZipFile(path) as zf:
            text = _text(zf, "setup.sh") + _text(zf, "requirements-grading.txt")
            pins = _text(zf, "requirements-grading.txt").split()
            assert json.loads(_text(zf, "autograder.json"))["torch"] is wanted
        mentions = re.findall(r"\btorch\S*", text.replace("trainart", ""))
        installs = [m for m in mentions if m.startswith("torch=")]
        assert bool(installs) is wanted
        assert all(m.strip('"') == "torch==2.13.0" for m in installs), installs
        assert all(re.fullmatch(r"[A-Za-z0-9_.-]+==\S+", p) for p in pins), pins


def test_the_zip_holds_the_chosen_secrets_only(two_zip):
    chosen = {EXERCISE, TORCH_EXERCISE}
    with zipfile.ZipFile(two_zip) as zf:
        names = zf.namelist()
        texts = {n: zf.read(n).decode("utf-8", errors="replace") for n in names}
    exercise_files = {n for n in names if n.startswith("exercises/")}
    assert exercise_files == ({f"exercises/grading/{e}.ipynb" for e in chosen}
                              | {f"exercises/src/{e}.py" for e in chosen})
    assert {"setup.sh", "run_autograder", "pyproject.toml", "README.md",
            "trainart/grading/grade.py", "trainart/grading/gradescope.py"} <= set(names)
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
    assert all(n.split("/")[0] in ("exercises", "trainart") or "/" not in n for n in names)
    own = source.parse_exercise(ROOT / "exercises" / "src" / f"{EXERCISE}.py")
    own_hidden = [c.source for c in own.checks if c.hidden]
    assert own_hidden and all(any(s in texts[n] for n in names) for s in own_hidden), (
        "the chosen exercise's hidden checks are missing: the search below would find nothing")
    others = sorted(set(samples.exercise_names()) - chosen)
    for other in others:  # neither its hidden checks nor its reference solution, anywhere
        ex = source.parse_exercise(ROOT / "exercises" / "src" / f"{other}.py")
        secrets = [c.source for c in ex.checks if c.hidden]
        secrets += [line.strip() for cell in ex.solutions
                    for line in cell.source.split(source.BEGIN)[1].split(source.END)[0]
                    .splitlines() if len(line.strip()) > 30]
        leaks = [(n, s[:40]) for n in names if not n.startswith("trainart/")
                 for s in secrets if s in texts[n]]
        assert not leaks, f"{other} leaked: {leaks}"


# ------------------------------------------------------------------- run_autograder
def _autograder(tmp_path: Path, zip_path: Path, files: dict[str, bytes]) -> Path:
    """A simulated /autograder: the zip extracted into source/ (modes kept, as Gradescope
    keeps them), the submission's files in submission/, an empty results/."""
    root = tmp_path / "autograder"
    with zipfile.ZipFile(zip_path) as zf:
        zf.extractall(root / "source")
        for info in zf.infolist():
            (root / "source" / info.filename).chmod((info.external_attr >> 16) & 0o777)
    (root / "submission").mkdir()
    (root / "results").mkdir()
    for name, data in files.items():
        (root / "submission" / name).parent.mkdir(parents=True, exist_ok=True)
        (root / "submission" / name).write_bytes(data)
    return root


def _run(root: Path) -> tuple[int, str, dict | None]:
    env = dict(os.environ, TRAINART_AUTOGRADER_ROOT=str(root), TRAINART_PYTHON=sys.executable)
    done = subprocess.run([str(root / "source" / "run_autograder")], env=env, cwd=root,
                          capture_output=True, text=True, timeout=300)
    out = root / "results" / "results.json"
    return done.returncode, done.stdout + done.stderr, (
        json.loads(out.read_text()) if out.exists() else None)


def _notebook(nb) -> bytes:
    return nbformat.writes(nb).encode()


def _validate(result: dict, graded: bool) -> None:
    """results.json as Gradescope's specification has it, field by field."""
    assert isinstance(result["score"], (int, float)) and not isinstance(result["score"], bool)
    assert isinstance(result["output"], str) and result["output"]
    assert result.get("output_format") == "md"
    assert isinstance(result["tests"], list)
    for test in result["tests"]:
        assert set(test) >= {"name", "score", "max_score", "output", "visibility"}
        assert isinstance(test["name"], str) and isinstance(test["output"], str)
        assert all(isinstance(test[k], (int, float)) for k in ("score", "max_score"))
        assert 0 <= test["score"] <= test["max_score"]
        assert test["visibility"] in ("visible", "after_published")
    assert result["score"] == sum(t["score"] for t in result["tests"])
    if graded:
        assert len(result["tests"]) == len(CHECKS)
        for test, (cid, _, points, hidden) in zip(result["tests"], CHECKS):
            assert test["name"].split()[0] == cid
            assert test["max_score"] == points
            assert test["visibility"] == ("after_published" if hidden else "visible")
            if hidden:  # the output students see at once says nothing of a hidden check
                assert cid not in result["output"]


@needs_sandbox
def test_reference_gets_full_marks(tmp_path, one_zip):
    root = _autograder(tmp_path, one_zip, {"my work.ipynb": _notebook(samples.reference(EXERCISE))})
    rc, log, result = _run(root)
    assert rc == 0, log
    _validate(result, graded=True)
    assert result["score"] == sum(points for _, _, points, _ in CHECKS) == 10
    assert all(t["status"] == "passed" for t in result["tests"])
    assert "hidden check" in result["output"]


@needs_sandbox
def test_blank_gets_zero(tmp_path, one_zip):
    root = _autograder(tmp_path, one_zip, {"blank.ipynb": _notebook(samples.student(EXERCISE))})
    rc, log, result = _run(root)
    assert rc == 0, log
    _validate(result, graded=True)
    assert result["score"] == 0 and all(t["status"] == "failed" for t in result["tests"])


@needs_sandbox
def test_the_kernel_sees_neither_the_secrets_nor_the_results(tmp_path, one_zip):
    """A submission that fails if it can see /autograder's source or results gets full
    marks: in the sandbox, neither exists."""
    root = tmp_path / "autograder"
    probes = [root / "source" / "exercises" / "grading" / f"{EXERCISE}.ipynb",
              root / "source" / "exercises" / "src" / f"{EXERCISE}.py", root / "results"]
    nb = samples.reference(EXERCISE)
    first = source.parse_exercise(ROOT / "exercises" / "src" / f"{EXERCISE}.py").solutions[0]
    probe = ("import os as _os\n"
             f"for _p in {[str(p) for p in probes]!r}:\n"
             "    if _os.path.exists(_p):\n"
             "        raise RuntimeError('the kernel can see ' + _p)\n")
    samples.set_solution(nb, first.id, probe + source.reference_source(first))
    _autograder(tmp_path, one_zip, {"w.ipynb": _notebook(nb)})
    assert all(p.exists() for p in probes)
    rc, log, result = _run(root)
    assert rc == 0, log
    _validate(result, graded=True)
    assert result["score"] == 10, result["output"]


def test_no_notebook_gets_zero_and_says_why(tmp_path, one_zip):
    root = _autograder(tmp_path, one_zip, {"answer.py": b"print(1)\n",
                                           ".ipynb_checkpoints/x.ipynb": b"{}"})
    rc, log, result = _run(root)
    assert rc == 0, log
    _validate(result, graded=False)
    assert result["score"] == 0 and result["tests"] == []
    assert "No Jupyter notebook" in result["output"] and "answer.py" in result["output"]


def test_a_file_that_is_no_notebook_is_rejected_with_its_reason(tmp_path, one_zip):
    root = _autograder(tmp_path, one_zip, {"work.ipynb": b"this is not JSON"})
    rc, log, result = _run(root)
    assert rc == 0, log
    _validate(result, graded=False)
    assert result["score"] == 0 and result["tests"] == []
    assert "could not be graded" in result["output"] and "JSON" in result["output"]


def test_two_notebooks_get_zero_and_say_why(tmp_path, one_zip):
    nb = _notebook(samples.reference(EXERCISE))
    root = _autograder(tmp_path, one_zip, {"a.ipynb": nb, "sub/b.ipynb": nb})
    rc, log, result = _run(root)
    assert rc == 0, log
    _validate(result, graded=False)
    assert result["score"] == 0 and result["tests"] == []
    assert "several notebooks" in result["output"]
    assert "a.ipynb" in result["output"] and "sub/b.ipynb" in result["output"]


# ------------------------------------------------------- the machine's failures: no score
def _assert_machine_failure(rc: int, log: str, result) -> None:
    assert rc == gradescope.FAILED, log
    assert result is None, "a machine failure must not leave a score"
    assert "Autograder failure, not the student's" in log


@needs_sandbox
def test_a_failing_canary_gives_no_score(tmp_path, one_zip):
    root = _autograder(tmp_path, one_zip, {"w.ipynb": _notebook(samples.reference(EXERCISE))})
    src = root / "source" / "exercises" / "src" / f"{EXERCISE}.py"
    text = src.read_text()
    assert "return np.linalg.solve(hessian, -g)" in text
    src.write_text(text.replace("return np.linalg.solve(hessian, -g)", "return -g"))
    (root / "results" / "results.json").write_text("{}")  # a stale one goes
    rc, log, result = _run(root)
    _assert_machine_failure(rc, log, result)
    assert "reference solution" in log


def test_a_broken_autograder_gives_no_score(tmp_path, one_zip):
    root = _autograder(tmp_path, one_zip, {"w.ipynb": _notebook(samples.reference(EXERCISE))})
    shutil.rmtree(root / "source" / "exercises" / "grading")
    _assert_machine_failure(*_run(root))


def test_no_sandbox_gives_no_score(tmp_path, one_zip, monkeypatch, capsys):
    root = _autograder(tmp_path, one_zip, {"w.ipynb": _notebook(samples.reference(EXERCISE))})

    def unavailable(*args, **kwargs):
        raise grade.SandboxUnavailable("cannot sandbox: bubblewrap does not work here")

    monkeypatch.setattr(grade, "grade", unavailable)
    monkeypatch.setenv("TRAINART_AUTOGRADER_ROOT", str(root))
    rc = gradescope.main(["run"])
    _assert_machine_failure(rc, capsys.readouterr().out, None)
    assert not (root / "results" / "results.json").exists()


def test_results_refuses_a_report_that_could_not_be_graded():
    report = grade.Report(submission="x", student="x", exercise=EXERCISE,
                          status=grade.NOT_GRADED, messages=["Could not grade: canary"])
    with pytest.raises(gradescope.MachineFailure, match="canary"):
        gradescope.results(report)


def test_register_adds_the_subcommand(tmp_path):
    import argparse

    parser = argparse.ArgumentParser()
    gradescope.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["gradescope-autograder", EXERCISE, "-o", str(tmp_path / "a.zip"),
                              "--grading-dir", str(GRADING)])
    assert args.func(args) == 0
    with zipfile.ZipFile(tmp_path / "a.zip") as zf:
        assert f"exercises/grading/{EXERCISE}.ipynb" in zf.namelist()
    assert stat.S_ISREG((tmp_path / "a.zip").stat().st_mode)
