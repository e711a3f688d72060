"""A Gradescope autograder: the same trusted grader, packaged for Gradescope's containers.

    trainart gradescope-autograder EXERCISE [EXERCISE ...] -o autograder.zip [--grading-dir DIR]

:func:`build_autograder` writes the zip that Gradescope's "Configure Autograder" page takes
(its specification: https://gradescope-autograders.readthedocs.io/en/latest/specs/). At the
root of the zip:

- ``setup.sh``: run once, as root, when Gradescope builds the image. It installs Python
  (3.11 or newer: the pinned NumPy and SciPy need it; from the deadsnakes PPA where the base
  image's is older) and ``bubblewrap`` with apt, makes a virtual environment in
  ``/opt/trainart-venv`` (outside ``/autograder``, so that the sandbox, which binds the
  environment read-only, never sees ``/autograder``), installs the project's pins that
  grading needs (``requirements-grading.txt``; ``torch==2.13.0`` from PyTorch's CPU index only
  when a chosen exercise uses torch) and then ``trainart[grading]`` from the copy in the
  zip, and makes ``/autograder/source`` readable by root only;
- ``run_autograder``: run per submission; it calls ``python -m trainart.grading.gradescope
  run`` (:func:`run`);
- ``pyproject.toml``, ``README.md`` and ``trainart/``: the package, to install;
- ``exercises/grading/NAME.ipynb`` and ``exercises/src/NAME.py`` of the chosen exercises
  only (the canonical notebooks with the hidden checks, the reference solutions for the
  canary), and ``autograder.json`` (what was built, for the record).

:func:`run` finds the one notebook in ``/autograder/submission``, grades it with
:func:`trainart.grading.grade.grade` (sandboxed, canary on) and writes
``/autograder/results/results.json``: ``score``, ``output`` (the report, in Markdown), and
one test per check (``name``, ``score``, ``max_score``, ``output``: its message, ``status``,
``visibility``: ``visible``, or ``after_published`` for a hidden check). The top-level
``output`` leaves the hidden checks out (students see it at once). No notebook, several, or
a file the grader rejects: score 0 and the reason. ``TRAINART_AUTOGRADER_ROOT`` replaces
``/autograder`` (tests simulate the layout in a temporary folder).

Choices:

- **The grading machine failed** (the canary, the reference solution graded alongside, did
  not get full marks; or the grader itself crashed): no ``results.json`` is written (a stale
  one is removed), the reason goes to standard output (Gradescope shows it to the
  instructor as the autograder's output) and the exit status is 2. Gradescope then marks
  the submission as an autograder failure, which the student sees as "the autograder failed
  to execute", never as a score, and which the instructor can rerun. A result file would
  need a score, and any score (0 included) would be read as the student's.
- **Isolation**: the student's notebook runs in bubblewrap where it works, exactly as
  ``trainart grade`` runs it; the kernel's root holds ``/usr``, the virtual environment and
  ``trainart`` (off-limits modules stubbed), never ``/autograder``. Docker's default profile
  forbids the namespaces bubblewrap needs, so where it does not work the notebook runs as an
  unprivileged uid of its own, without capabilities (``setpriv``; the Gradescope community's
  advice, e.g. Securescope's deprivileged user), with a copy of trainart whose off-limits
  modules are stubs; the installed package and ``/autograder/source`` are root-only, and
  ``/autograder/results`` belongs to root. It shares the container's network and its
  world-readable files, which hold nothing secret; Gradescope gives every submission a
  container of its own. Where neither works (not root, no ``setpriv``), :func:`run` refuses
  as a machine failure above: never unisolated.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import re
import sys
import tempfile
import time
import traceback
import zipfile
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import trainart

if TYPE_CHECKING:  # imported where used: `trainart --help` must not need nbformat
    from . import grade as grading

PACKAGE = Path(trainart.__file__).resolve().parent
REPO = PACKAGE.parent
DEFAULT_ROOT = "/autograder"
ROOT_VARIABLE = "TRAINART_AUTOGRADER_ROOT"
PYTHON_VARIABLE = "TRAINART_PYTHON"
VENV = "/opt/trainart-venv"
TORCH = "torch==2.13.0"  # never unpinned: a newer torch pulls CUDA
TORCH_INDEX = "https://download.pytorch.org/whl/cpu"
FAILED = 2  # run()'s exit status when the machine, not the submission, failed
_EPOCH = (1980, 1, 1, 0, 0, 0)  # zip timestamps: nothing in the zip depends on the clock but
# autograder.json's date


# --------------------------------------------------------------------------- building
def known_exercises(grading_dir: Path) -> list[str]:
    """The exercises that have a canonical grading notebook in ``grading_dir``."""
    return sorted(p.stem for p in Path(grading_dir).glob("*.ipynb"))


def _check_exercises(exercises: list[str], grading_dir: Path) -> list[str]:
    """The chosen exercises, each once, in order; a ValueError names any unknown one."""
    known = known_exercises(grading_dir)
    if not exercises:
        raise ValueError(f"name at least one exercise; known: {', '.join(known)}")
    unknown = [e for e in exercises if e not in known]
    if unknown:
        raise ValueError(f"unknown exercise{'s' if len(unknown) > 1 else ''} "
                         f"{', '.join(repr(e) for e in unknown)}; known: {', '.join(known)}")
    missing = [e for e in exercises if not (grading_dir.parent / "src" / f"{e}.py").is_file()]
    if missing:
        raise ValueError(f"no source (reference solution, for the canary) for "
                         f"{', '.join(missing)} in {grading_dir.parent / 'src'}")
    return list(dict.fromkeys(exercises))


def needs_torch(exercises: list[str], grading_dir: Path) -> bool:
    """Whether a chosen exercise imports torch (its setup, checks or reference solution);
    trainart itself imports torch only inside the functions that use it."""
    pattern = re.compile(r"^\s*(import torch\b|from torch\b)", re.MULTILINE)
    return any(pattern.search((grading_dir.parent / "src" / f"{e}.py").read_text("utf-8"))
               for e in exercises)


def _name(requirement: str) -> str:
    """The canonical name of the package a requirement line names."""
    return re.match(r"\s*([A-Za-z0-9_.-]+)", requirement).group(1).lower().replace("_", "-")


def grading_packages(pyproject: Path | None = None) -> list[str]:
    """What grading imports: trainart's dependencies and its ``grading`` extra, as
    pyproject.toml declares them (read when the zip is built, so the two never drift)."""
    text = (pyproject or REPO / "pyproject.toml").read_text("utf-8")
    try:
        import tomllib
    except ImportError:  # Python 3.10: the two lists, read plainly
        lists = [re.search(rf"^{key}\s*=\s*\[(.*?)\]", text, re.MULTILINE | re.DOTALL)
                 for key in ("dependencies", "grading")]
        declared = [q for m in lists for q in re.findall(r'"([^"]+)"', m.group(1))]
    else:
        project = tomllib.loads(text)["project"]
        declared = project["dependencies"] + project["optional-dependencies"]["grading"]
    return list(dict.fromkeys(_name(d) for d in declared))


def pinned_requirements(with_torch: bool, requirements: Path | None = None) -> list[str]:
    """The lines of requirements.txt that grading installs (and torch's, if asked), so that
    Gradescope grades with the versions the tests passed with."""
    requirements = requirements or REPO / "requirements.txt"
    pins = {}
    for line in requirements.read_text("utf-8").splitlines():
        if re.match(r"^[A-Za-z0-9_.-]+==\S+$", line.strip()):
            pins[_name(line)] = line.strip()
    wanted = grading_packages() + (["torch"] if with_torch else [])
    unpinned = [name for name in wanted if name not in pins]
    if unpinned:
        raise ValueError(f"{requirements} pins no version of {', '.join(unpinned)}")
    if with_torch and pins["torch"] != TORCH:
        raise ValueError(f"{requirements} pins {pins['torch']}; this autograder installs "
                         f"{TORCH} (the CPU wheel): update TORCH in {__name__}")
    return [pins[name] for name in wanted]


def setup_script(exercises: list[str], with_torch: bool) -> str:
    """Gradescope's ``setup.sh``: Python, bubblewrap, the pinned environment, trainart."""
    torch_step = (f'"$VENV/bin/python" -m pip install --index-url {TORCH_INDEX} '
                  f'--extra-index-url https://pypi.org/simple "{TORCH}"\n' if with_torch
                  else "# (no chosen exercise uses torch: not installed)\n")
    return f"""#!/usr/bin/env bash
# Built by `trainart gradescope-autograder` for: {' '.join(exercises)}.
# Gradescope runs this once, as root, when it builds the autograder's image.
set -euo pipefail
umask 022
ROOT="${{{ROOT_VARIABLE}:-{DEFAULT_ROOT}}}"
SRC="$ROOT/source"
VENV={VENV}
export DEBIAN_FRONTEND=noninteractive

apt-get update
apt-get install -y --no-install-recommends python3 python3-venv python3-pip bubblewrap \\
    util-linux ca-certificates
PY=python3
if ! python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    # the pinned NumPy and SciPy need Python 3.11 or newer
    apt-get install -y --no-install-recommends software-properties-common gpg-agent
    add-apt-repository -y ppa:deadsnakes/ppa
    apt-get update
    apt-get install -y --no-install-recommends python3.12 python3.12-venv
    PY=python3.12
fi

# Outside /autograder: the sandbox binds this environment read-only, never /autograder.
"$PY" -m venv "$VENV"
"$VENV/bin/python" -m pip install --upgrade pip
{torch_step}"$VENV/bin/python" -m pip install -r "$SRC/requirements-grading.txt"
"$VENV/bin/python" -m pip install -c "$SRC/requirements-grading.txt" "$SRC[grading]"

# The hidden checks, canonical notebooks and reference solutions: root only.
chmod -R go-rwx "$SRC"

if ! "$VENV/bin/python" -c 'from trainart.grading.sandbox import available
ok, why = available(); print("bubblewrap:", why); raise SystemExit(0 if ok else 1)'; then
    echo "Note: bubblewrap does not work while the image is built; if it does not work when"
    echo "grading either, each submission runs as an unprivileged user of its own instead"
    echo "(setpriv). Submit a reference solution to test before releasing the assignment."
fi
"""


def run_script() -> str:
    """Gradescope's ``run_autograder``: grade the submission with the installed trainart."""
    return f"""#!/usr/bin/env bash
# Gradescope runs this once per submission, as root; see trainart/grading/gradescope.py.
set -u
ROOT="${{{ROOT_VARIABLE}:-{DEFAULT_ROOT}}}"
PY="${{{PYTHON_VARIABLE}:-{VENV}/bin/python}}"
cd "$ROOT"
exec "$PY" -m trainart.grading.gradescope run
"""


def _package_files() -> list[Path]:
    """trainart's source files (no compiled copies, no caches)."""
    return sorted(p for p in PACKAGE.rglob("*") if p.is_file()
                  and "__pycache__" not in p.parts and p.suffix not in (".pyc", ".pyo"))


def _add(zf: zipfile.ZipFile, name: str, data: bytes, mode: int = 0o644) -> None:
    info = zipfile.ZipInfo(name, date_time=_EPOCH)
    info.external_attr = (0o100000 | mode) << 16  # a regular file and its permissions
    info.compress_type = zipfile.ZIP_DEFLATED
    zf.writestr(info, data)


def build_autograder(exercises: list[str], out: Path, grading_dir: Path) -> Path:
    """Write Gradescope's autograder zip for ``exercises`` to ``out`` and return its path.

    It holds the secrets of the chosen exercises only: their canonical notebooks and
    sources. A ValueError names an unknown exercise and lists the known ones."""
    grading_dir, out = Path(grading_dir), Path(out)
    exercises = _check_exercises(list(exercises), grading_dir)
    with_torch = needs_torch(exercises, grading_dir)
    for needed in ("pyproject.toml", "README.md"):
        if not (REPO / needed).is_file():
            raise FileNotFoundError(f"no {REPO / needed}: build the autograder from a checkout "
                                    f"of the project (pip install -e .)")
    pins = pinned_requirements(with_torch)
    record = {"exercises": exercises, "torch": with_torch, "built": date.today().isoformat(),
              "trainart": getattr(trainart, "__version__", "")}
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w") as zf:
        _add(zf, "setup.sh", setup_script(exercises, with_torch).encode(), 0o755)
        _add(zf, "run_autograder", run_script().encode(), 0o755)
        _add(zf, "requirements-grading.txt", ("\n".join(pins) + "\n").encode())
        _add(zf, "autograder.json", (json.dumps(record, indent=2) + "\n").encode())
        for needed in ("pyproject.toml", "README.md"):
            _add(zf, needed, (REPO / needed).read_bytes())
        for path in _package_files():
            _add(zf, f"trainart/{path.relative_to(PACKAGE).as_posix()}", path.read_bytes())
        for name in exercises:
            _add(zf, f"exercises/grading/{name}.ipynb",
                 (grading_dir / f"{name}.ipynb").read_bytes())
            _add(zf, f"exercises/src/{name}.py",
                 (grading_dir.parent / "src" / f"{name}.py").read_bytes())
    return out


# ---------------------------------------------------------------------------- running
class MachineFailure(RuntimeError):
    """The submission could not be graded for a reason of the machine's (the message says
    which): no result is given, the instructor reruns it."""


def root() -> Path:
    """Gradescope's ``/autograder``, or what ``TRAINART_AUTOGRADER_ROOT`` names."""
    return Path(os.environ.get(ROOT_VARIABLE) or DEFAULT_ROOT)


def find_notebooks(submission: Path) -> tuple[list[Path], list[Path]]:
    """The notebooks (``*.ipynb``) below ``submission``, and every file there, skipping hidden
    files and folders (``.ipynb_checkpoints``) and macOS's ``__MACOSX``."""
    files = sorted(p for p in submission.rglob("*") if p.is_file() and not any(
        part.startswith(".") or part == "__MACOSX" for part in p.relative_to(submission).parts))
    return [p for p in files if p.suffix.lower() == ".ipynb"], files


def _zero(why: str, submission: Path, files: list[Path]) -> dict:
    """A 0-score result for a submission that holds no single notebook to grade."""
    listed = ", ".join(p.relative_to(submission).as_posix() for p in files[:20]) or "nothing"
    return {"score": 0, "output": f"**Score: 0** (nothing was graded).\n\n{why}\n\n"
                                  f"Submitted: {listed}.\n",
            "output_format": "md", "stdout_visibility": "hidden", "tests": []}


def _test(check: grading.CheckResult) -> dict:
    return {"name": check.id + (" (hidden)" if check.hidden else ""), "score": check.points,
            "max_score": check.max_points, "output": check.message,
            "status": "passed" if check.passed else "failed",
            "visibility": "after_published" if check.hidden else "visible"}


def student_output(report: grading.Report) -> str:
    """The report students see at once: the visible checks only, and how many hidden
    checks (and points) wait for the grades to be published."""
    from . import grade as grading

    visible = [c for c in report.checks if not c.hidden]
    hidden = [c for c in report.checks if c.hidden]
    shown = dataclasses.replace(report, checks=visible, score=sum(c.points for c in visible),
                                max_score=sum(c.max_points for c in visible))
    text = grading.markdown_report(shown)
    if report.status == grading.GRADED:
        text = text.replace(f"**Score: {shown.score} / {shown.max_score}**",
                            f"**Visible checks: {shown.score} / {shown.max_score} points**", 1)
    if hidden:
        text += (f"\n{len(hidden)} hidden check{'s' if len(hidden) > 1 else ''} "
                 f"({sum(c.max_points for c in hidden)} points) also graded this notebook; "
                 f"their results appear when the grades are published.\n")
    return text


def results(report: grading.Report) -> dict:
    """Gradescope's results.json for a graded or rejected submission."""
    from . import grade as grading

    if report.status == grading.NOT_GRADED:
        raise MachineFailure("\n".join(report.messages) or "could not grade")
    if report.flags:  # for the instructor (stdout), never a change of score
        print("flagged for review: " + "; ".join(report.flags))
    return {"score": report.score if report.status == grading.GRADED else 0,
            "output": student_output(report), "output_format": "md",
            "stdout_visibility": "hidden", "tests": [_test(c) for c in report.checks]}


def hide_installed_package() -> None:
    """Where bubblewrap does not work, the submission runs as a uid of its own with a copy of
    trainart whose off-limits modules are stubs (:func:`.sandbox.user_command`): the
    installed package, which holds the reference implementations, becomes root-only. Only in
    the image's environment (``/opt/trainart-venv``), a container of its own per submission;
    never a checkout."""
    if not PACKAGE.is_relative_to(Path(VENV).resolve()):
        return
    for path in [PACKAGE, *PACKAGE.rglob("*")]:
        path.chmod(path.stat().st_mode & ~0o077)


def grade_submission(source: Path, submission: Path, jobs: int = 2) -> dict:
    """The results.json for the submission folder, graded against the exercises in
    ``source/exercises/grading``; MachineFailure when the machine, not the work, failed."""
    from . import grade as grading
    from . import sandbox

    notebooks, files = find_notebooks(submission)
    if not notebooks:
        return _zero("No Jupyter notebook (`.ipynb`) was found in your submission: upload "
                     "the exercise's notebook.", submission, files)
    if len(notebooks) > 1:
        return _zero("Your submission holds several notebooks; upload exactly one, the "
                     "exercise's notebook.", submission, files)
    grading_dir = source / "exercises" / "grading"
    exercises = known_exercises(grading_dir)
    if not exercises:
        raise MachineFailure(f"no canonical notebooks in {grading_dir}: a broken autograder")
    if not sandbox.available()[0]:
        hide_installed_package()
    with tempfile.TemporaryDirectory(prefix="trainart-gradescope-") as out:
        try:
            (report,) = grading.grade(notebooks, out, grading_dir=grading_dir,
                                      exercise=exercises[0] if len(exercises) == 1 else None,
                                      jobs=jobs, progress=False, canary=True,
                                      user_isolation=True)
        except grading.SandboxUnavailable as e:
            raise MachineFailure(f"not graded: {e}. Grading without the sandbox would let "
                                 f"the submission read the hidden checks and write its own "
                                 f"result.") from e
    return results(report)


def run(autograder_root: Path | None = None) -> int:
    """Grade ``/autograder/submission`` into ``/autograder/results/results.json``.

    0: a result was written (a score, possibly 0 with its reason). FAILED: the machine
    failed; no result file, the reason on standard output for the instructor."""
    base = Path(autograder_root) if autograder_root else root()
    out = base / "results" / "results.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.unlink(missing_ok=True)
    started = time.monotonic()
    try:
        result = grade_submission(base / "source", base / "submission")
    except MachineFailure as e:
        print(f"Autograder failure, not the student's: {e}\nNo result was written; rerun "
              f"this submission once the problem is fixed.")
        return FAILED
    except Exception:  # noqa: BLE001 - the grader's own failure is never a student's 0
        print("Autograder failure, not the student's: the grader crashed; no result was "
              "written. Rerun this submission.\n" + traceback.format_exc())
        return FAILED
    result["execution_time"] = round(time.monotonic() - started, 1)
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"score {result['score']}; results in {out}")
    return 0


# ---------------------------------------------------------------------------- the CLI
def cmd_build(args) -> int:
    """``trainart gradescope-autograder``: build the zip and say what to do with it."""
    grading_dir = args.grading_dir or _default_grading_dir()
    path = build_autograder(args.exercises, args.out, grading_dir)
    print(f"{path}: upload it on Gradescope (assignment > Configure Autograder > Zip file "
          f"upload), then test it with a reference solution")
    return 0


def _default_grading_dir() -> Path:
    here = Path("exercises/grading")
    return here if here.is_dir() else REPO / "exercises" / "grading"


def register(subparsers) -> argparse.ArgumentParser:
    """Add ``gradescope-autograder`` to the ``trainart`` command's subcommands."""
    p = subparsers.add_parser("gradescope-autograder",
                              help="build a Gradescope autograder zip for exercises")
    p.add_argument("exercises", nargs="+", metavar="EXERCISE",
                   help="exercise names (exercises/grading/NAME.ipynb)")
    p.add_argument("-o", "--out", type=Path, default=Path("autograder.zip"),
                   help="the zip to write (default: autograder.zip)")
    p.add_argument("--grading-dir", type=Path, default=None,
                   help="canonical notebooks (default: exercises/grading)")
    p.set_defaults(func=cmd_build)
    return p


def main(argv=None) -> int:
    """``python -m trainart.grading.gradescope run``: what ``run_autograder`` calls."""
    parser = argparse.ArgumentParser(prog="python -m trainart.grading.gradescope")
    sub = parser.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run", help="grade /autograder/submission (Gradescope's layout)")
    r.add_argument("--root", type=Path, default=None,
                   help=f"instead of {DEFAULT_ROOT} (or ${ROOT_VARIABLE})")
    register(sub)
    args = parser.parse_args(argv)
    if args.command == "run":
        return run(args.root)
    try:
        return args.func(args)
    except (FileNotFoundError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
