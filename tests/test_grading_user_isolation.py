"""Where bubblewrap cannot run (Gradescope's containers), a uid of its own still isolates.

`grade(..., user_isolation=True)` with bubblewrap unavailable runs each submission as an
unprivileged uid without capabilities, trainart's off-limits modules stubbed in a copy on
its ``PYTHONPATH``. Honest work keeps full marks; the reference cannot be imported; the
grader, its reports and the installation cannot be touched; nothing it started survives.
"""

from __future__ import annotations

import hashlib
import os
import sys
import time
from pathlib import Path

import nbformat
import pytest

from trainart.grading import grade, samples, sandbox


def _private_parents() -> list[Path]:
    """Folders above the interpreter and the checkout that other users cannot search (a
    Python installed under /root): opened (search only, no listing) while this file runs,
    as a Gradescope image has its Python under /usr and its environment under /opt."""
    found = []
    for leaf in (Path(os.path.realpath(sys.executable)), Path(grade.__file__).resolve(),
                 Path(sys.prefix)):
        for folder in reversed(leaf.parents):
            if folder not in found and not folder.stat().st_mode & 0o001:
                found.append(folder)
    return found


@pytest.fixture(scope="module", autouse=True)
def searchable():
    if os.geteuid() != 0:
        pytest.skip("user isolation needs the grader to run as root")
    opened = [(p, p.stat().st_mode) for p in _private_parents()]
    for path, mode in opened:
        path.chmod(mode | 0o001)
    try:
        ok, why = sandbox.user_isolation_available()
        if not ok:
            pytest.skip(f"no user isolation here: {why}")
        yield
    finally:
        for path, mode in opened:
            path.chmod(mode)

SIG = "def adam_step(param, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):\n"
PACKAGE_INIT = Path(grade.__file__).resolve().parents[1] / "__init__.py"
ATTACKS = {
    "imports_reference": SIG + (
        "    from trainart.optim.adam import adam_step as ref\n"
        "    return ref(param, grad, m, v, t, lr, beta1, beta2, eps)\n"),
    "vandal": "import os, signal, pathlib\n"
              "for _pid in (os.getppid(), 1):\n"
              "    try:\n        os.kill(_pid, signal.SIGKILL)\n"
              "    except OSError:\n        pass\n"
              f"for _p in ({str(PACKAGE_INIT)!r}, '/etc/hostname'):\n"
              "    try:\n        pathlib.Path(_p).write_text('x')\n"
              "    except OSError:\n        pass\n"
              + SIG + "    return param, m, v\n",
    "detaches": "import subprocess\n"
                "subprocess.Popen(['sleep', '300'], start_new_session=True)\n"
                + SIG + "    return param, m, v\n",
}


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _uid_processes(uids: set[int]) -> list[str]:
    found = []
    for proc in Path("/proc").iterdir():
        try:
            if not proc.name.isdigit() or proc.stat().st_uid not in uids:
                continue
            state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
            if state != "Z":  # a zombie is dead already, waiting for its reaper
                found.append((proc / "cmdline").read_bytes().replace(b"\0", b" ").decode())
        except OSError:
            pass
    return found


@pytest.fixture(scope="module")
def graded(searchable, tmp_path_factory):
    folder = tmp_path_factory.mktemp("user_isolation")
    nbformat.write(samples.reference("optim_adam"), folder / "honest.ipynb")
    for key, code in ATTACKS.items():
        nb = samples.reference("optim_adam")
        samples.set_solution(nb, "adam_step", code)
        nbformat.write(nb, folder / f"{key}.ipynb")
    before = _digest(PACKAGE_INIT)
    patch = pytest.MonkeyPatch()
    patch.setattr(sandbox, "available", lambda: (False, "bubblewrap blocked (test)"))
    try:
        reports = grade.grade([folder], tmp_path_factory.mktemp("out"),
                              grading_dir=samples.EXERCISES_DIR / "grading", jobs=2,
                              cell_timeout=15, progress=False, user_isolation=True)
    finally:
        patch.undo()
    time.sleep(0.5)
    uids = {sandbox.slot_uid(slot) for slot in range(2)}
    return {r.student: r for r in reports}, before, _uid_processes(uids)


def test_honest_work_keeps_full_marks(graded):
    r = graded[0]["honest"]
    assert r.status == grade.GRADED and r.score == r.max_score > 0, r.messages


def test_the_reference_is_off_limits_and_the_attempt_reported(graded):
    r = graded[0]["imports_reference"]
    assert r.score == 0 and any("off limits" in f for f in r.flags), (r.flags, r.checks)


def test_the_grader_and_the_installation_are_out_of_reach(graded):
    reports, before, _ = graded
    assert reports["vandal"].status == grade.GRADED and reports["vandal"].score == 0
    assert _digest(PACKAGE_INIT) == before
    assert Path("/etc/hostname").read_text() != "x"


def test_nothing_it_started_outlives_it(graded):
    assert graded[0]["detaches"].score == 0
    assert graded[2] == [], f"still running: {graded[2]}"


def test_without_root_or_setpriv_it_refuses(monkeypatch, tmp_path):
    monkeypatch.setattr(sandbox, "available", lambda: (False, "no bubblewrap"))
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    with pytest.raises(grade.SandboxUnavailable, match="must run as root"):
        grade.grade([tmp_path], tmp_path / "out", grading_dir=samples.EXERCISES_DIR / "grading",
                    user_isolation=True, progress=False)


def test_gradescope_grades_as_a_user_of_its_own_where_bubblewrap_is_blocked(searchable, tmp_path,
                                                                           monkeypatch):
    """The Gradescope autograder's path in a container that forbids namespaces."""
    from trainart.grading import gradescope

    source = tmp_path / "source"
    (source / "exercises" / "grading").mkdir(parents=True)
    (source / "exercises" / "src").mkdir()
    for sub, suffix in (("grading", ".ipynb"), ("src", ".py")):
        data = (samples.EXERCISES_DIR / sub / f"optim_adam{suffix}").read_bytes()
        (source / "exercises" / sub / f"optim_adam{suffix}").write_bytes(data)
    submission = tmp_path / "submission"
    submission.mkdir()
    nbformat.write(samples.reference("optim_adam"), submission / "mine.ipynb")
    monkeypatch.setattr(sandbox, "available", lambda: (False, "bubblewrap blocked (test)"))
    result = gradescope.grade_submission(source, submission)
    assert result["score"] == sum(t["max_score"] for t in result["tests"]) > 0, result
