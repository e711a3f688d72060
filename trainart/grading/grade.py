"""Grade a folder of submissions: each in its own sandbox, every verdict decided here.

For each submission the grader

1. reads and validates the file (:func:`~trainart.grading.assemble.load_notebook`) and puts
   its solution cells into the canonical notebook (:func:`~trainart.grading.assemble.assemble`);
2. runs the exercise's setup cells, the student's solution cells and a last cell that
   answers calls (:mod:`~trainart.grading.serve`) with nbval, in a bubblewrap sandbox of its
   own (:mod:`~trainart.grading.sandbox`) that holds neither the checks, the references, the
   expected values nor anyone else's work;
3. runs the check cells *here*, in the grader's process (:mod:`~trainart.grading.runner`):
   the student's functions are called in the sandbox with plain data, and the comparisons,
   the points and the report are made outside it.

The reference solution of every exercise in the batch is graded the same way alongside (the
*canary*). Three outcomes:

- ``graded``: a score, possibly 0 (a stub, a crash, an endless loop, an attack);
- ``rejected``: 0, the file could not be graded as this course's notebook (too large, not a
  notebook, invalid or malformed JSON, another exercise), with the reason;
- ``could not grade``: only when the canary of the same exercise in the same batch did not
  get full marks, i.e. the grading machine failed; no score is given.

Writes ``<student>.json`` and ``<student>.md`` per submission and ``class.csv``/``class.md``.
"""

from __future__ import annotations

import concurrent.futures
import csv
import hashlib
import json
import os
import queue
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import nbformat

from . import runner, sandbox, wire
from .assemble import SubmissionError, assemble, identify_exercise, load_notebook
from .build import solution_marker
from .lazy import lazy_setup

GRADED, REJECTED, NOT_GRADED = "graded", "rejected", "could not grade"
NOTEBOOK = "submission.ipynb"
CANARY = "__canary__"


class SandboxUnavailable(RuntimeError):
    """Grading for credit needs a sandbox and there is none (the message says why)."""


@dataclass
class CheckResult:
    id: str
    points: int
    max_points: int
    hidden: bool
    passed: bool
    message: str = ""


@dataclass
class Report:
    submission: str
    student: str
    exercise: str = ""
    status: str = GRADED
    score: int = 0
    max_score: int = 0
    checks: list[CheckResult] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    sandboxed: bool = True
    # sha256 of the file and of what graded it (resumed batches reuse equal ones)
    fingerprint: str = ""


def report_from_dict(data: dict) -> Report:
    """A report as :func:`write_reports` wrote it to JSON, read back."""
    known = {f for f in Report.__dataclass_fields__}
    fields = {k: v for k, v in data.items() if k in known}
    fields["checks"] = [CheckResult(**c) for c in fields.get("checks", [])]
    return Report(**fields)


def grader_fingerprint(grading_dir: Path, include_hidden: bool) -> str:
    """What a grade depends on besides the file: the canonical notebooks (checks, points,
    expected values), trainart's grading code and whether hidden checks count."""
    digest = hashlib.sha256(b"hidden" if include_hidden else b"visible")
    for path in sorted(Path(grading_dir).glob("*.ipynb")) + sorted(
            Path(__file__).parent.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def _file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    try:
        with path.open("rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
    except OSError:
        return ""
    return digest.hexdigest()


def parse_shard(text: str) -> tuple[int, int]:
    """``"2/5"`` -> (2, 5): the second of five shards (``--shard``)."""
    m = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", str(text))
    if not m or not 1 <= int(m.group(1)) <= int(m.group(2)):
        raise ValueError(f"--shard must be I/N with 1 <= I <= N (for example 1/3), got {text!r}")
    return int(m.group(1)), int(m.group(2))


def in_shard(student: str, shard: tuple[int, int] | None) -> bool:
    """Whether ``student`` (a submission's name in the batch) belongs to ``shard`` (i, n):
    a hash of the name, so every machine splits the same folder the same way."""
    if shard is None:
        return True
    i, n = shard
    return int(hashlib.sha256(student.encode()).hexdigest(), 16) % n == i - 1


def load_canonicals(grading_dir: str | Path) -> dict:
    """The canonical grading notebooks, by exercise name."""
    paths = sorted(Path(grading_dir).glob("*.ipynb"))
    if not paths:
        raise FileNotFoundError(f"no grading notebooks in {grading_dir}: run "
                                f"`trainart build-exercises` first")
    return {p.stem: nbformat.read(p, as_version=4) for p in paths}


def find_submissions(paths) -> list[Path]:
    """Files to grade: the given files, and every non-hidden file below given folders."""
    found = []
    for path in map(Path, paths):
        if path.is_dir():
            found += sorted(p for p in path.rglob("*") if p.is_file()
                            and not any(part.startswith(".") for part in p.relative_to(path).parts))
        elif path.exists():
            found.append(path)
        else:
            raise FileNotFoundError(f"no such file or folder: {path}")
    return found


def _student_name(path: Path, roots: list[Path]) -> str:
    for root in roots:
        if root.is_dir() and path.is_relative_to(root):
            rel = path.relative_to(root).with_suffix("")
            return "__".join(rel.parts)
    return path.stem


# ------------------------------------------------------------------------ one exercise
def _role(cell) -> str:
    return cell.metadata.get("trainart", {}).get("role", "")


@dataclass
class Spec:
    """What the trusted side needs of an exercise, from its canonical notebook."""

    name: str
    setup: list[str]
    checks: list[tuple[str, str, int, bool]]  # id, source, points, hidden
    names: list[str]
    off_limits: list[str]
    solution_ids: list[str]

    @classmethod
    def of(cls, name: str, canonical) -> Spec:
        code = [c for c in canonical.cells if c.cell_type == "code"]
        solutions = [c for c in code if _role(c) == "solution"]
        return cls(
            name=name,
            setup=[c.source for c in code if _role(c) == "setup"],
            checks=[(c.id, c.source, c.metadata["trainart"]["points"],
                     c.metadata["trainart"]["hidden"]) for c in code if _role(c) == "check"],
            names=runner.student_names([c.source for c in solutions]),
            off_limits=list(canonical.metadata.get("trainart", {}).get("off_limits", [])),
            solution_ids=[c.id for c in solutions])


def kernel_notebook(assembled, address: str):
    """What runs in the sandbox: setup and solution cells, then the cell that serves calls.
    No check cell, no expected value, no hidden check. The setup cells' heavy imports are
    deferred to first use (:mod:`.lazy`): the kernel rarely needs what the checks import."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = dict(assembled.metadata["kernelspec"])
    for cell in assembled.cells:
        if cell.cell_type == "code" and _role(cell) in ("setup", "solution"):
            source = lazy_setup(cell.source) if _role(cell) == "setup" else cell.source
            new = nbformat.v4.new_code_cell(source)
            new.id, new.metadata["trainart"] = cell.id, {"role": _role(cell), "id": cell.id}
            nb.cells.append(new)
    serve = nbformat.v4.new_code_cell(
        "from trainart.grading.serve import serve as _trainart_serve\n"
        f"_trainart_serve(globals(), {address!r})")
    serve.id, serve.metadata["trainart"] = "serve", {"role": "serve", "id": "serve"}
    nb.cells.append(serve)
    return nb


def reference_notebook(canonical, source_dir: Path, name: str):
    """The canonical notebook with the reference solution filled in (the canary)."""
    from .source import parse_exercise, reference_source

    path = source_dir / f"{name}.py"
    if not path.is_file():
        return None
    nb = nbformat.from_dict(json.loads(json.dumps(canonical)))
    refs = {c.id: reference_source(c) for c in parse_exercise(path).solutions}
    for cell in nb.cells:
        if cell.cell_type == "code" and _role(cell) == "solution" and cell.id in refs:
            cell.source = solution_marker(cell.id) + "\n" + refs[cell.id]
    return nb


@dataclass
class Job:
    report: Report
    spec: Spec
    notebook: object  # the assembled notebook (canonical + the student's solution cells)
    include_hidden: bool = True


@dataclass
class Settings:
    cell_timeout: float = 30
    sandboxed: bool = True
    # "bubblewrap"; "user": only a uid of its own (sandbox.user_command); "none"
    isolation: str = "bubblewrap"
    limits: sandbox.Limits = field(default_factory=sandbox.Limits)
    startup: float = 90  # seconds for pytest, the kernel and the setup cells to start


def _stubs(spec: Spec, folder: Path) -> list[tuple[Path, Path]]:
    pairs = []
    for i, module in enumerate(spec.off_limits):
        stub = folder / f"stub{i}.py"
        stub.write_text(sandbox.stub_source(module, spec.name), encoding="utf-8")
        stub.chmod(0o644)
        pairs.append((stub, sandbox.module_file(module)))
    return pairs


def _read_capped(path: Path, limit: int) -> str:
    try:
        with path.open("rb") as f:
            return f.read(limit).decode("utf-8", errors="replace")
    except OSError:
        return ""


class _Notes:
    """What the sandbox told the grader in passing: nbval's per-cell records and attempts to
    use off-limits modules. Sent by the student's side, so used for notes and flags only."""

    def __init__(self):
        self.records: list[dict] = []
        self.tried: set[str] = set()

    def add(self, note) -> None:
        if not isinstance(note, dict) or len(self.records) > 500:
            return
        if note.get("kind") == "cell" and all(isinstance(note.get(k), str) for k in
                                               ("id", "outcome", "reason", "output")):
            self.records.append(note)
        elif note.get("kind") == "off-limits" and isinstance(note.get("name"), str) \
                and len(self.tried) < 20:
            self.tried.add(runner._checks.clean(note["name"], 100))


def _accept(listener: socket.socket, notes: _Notes, until: float, proc) -> socket.socket | None:
    """Accept connections until the kernel's serving one arrives (or ``until``, or the
    sandbox ends); notes that arrive meanwhile are kept. ``until=0``: drain what waits."""
    while True:
        try:
            conn, _ = listener.accept()
        except TimeoutError:
            if until == 0 or time.monotonic() > until or (proc and proc.poll() is not None):
                return None
            continue
        try:
            header, _ = wire.receive(conn, time.monotonic() + 2)
        except (wire.WireError, wire.Deadline, ValueError, OSError):
            conn.close()
            continue
        if header.get("op") == "ready" and until != 0:
            return conn
        if header.get("op") == "note":
            notes.add(header.get("note"))
        conn.close()


def run_job(job: Job, settings: Settings, slot: int, work: Path) -> None:
    """Grade one submission: its sandbox, the trusted checks, the report."""
    spec, report = job.spec, job.report
    chan = Path(tempfile.mkdtemp(prefix="sub-", dir=work))
    chan.chmod(0o755)
    log_path = work / f"{chan.name}.log"
    proc = conn = listener = None
    notes = _Notes()
    try:
        (chan / "sock").mkdir(mode=0o755)
        base = sandbox.MOUNT if settings.isolation == "bubblewrap" else str(chan)
        address = f"{base}/sock/rpc.sock"
        nbformat.write(kernel_notebook(job.notebook, address), chan / NOTEBOOK)
        (chan / "pytest.ini").write_text("[pytest]\n")
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(str(chan / "sock" / "rpc.sock"))
        listener.listen(64)
        os.chmod(chan / "sock" / "rpc.sock", 0o777)
        n_cells = len(spec.setup) + len(spec.solution_ids)
        checks = [(cid, src) for cid, src, _, hidden in spec.checks
                  if job.include_hidden or not hidden]
        serve_budget = settings.cell_timeout * (len(checks) + 1) + 30
        inner = [sys.executable, "-m", "pytest", "-c", f"{base}/pytest.ini",
                 "--rootdir", base, "-p", "nbval.plugin", "-p", "trainart.grading.plugin",
                 "-p", "no:cacheprovider", "--nbval-lax", "--nbval-current-env",
                 f"--nbval-cell-timeout={settings.cell_timeout}", "-q", "--no-header", "-rN",
                 "--color=no", f"{base}/{NOTEBOOK}"]
        env = {"TRAINART_SERVE_TIMEOUT": str(serve_budget), "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
               "TRAINART_NOTES": address}
        if settings.isolation == "bubblewrap":
            cmd = sandbox.command(inner, chan=chan, hide=_stubs(spec, _stub_dir(chan)),
                                  slot=slot, env=env)
            preexec, run_env = sandbox.limiter(settings.limits), None
        elif settings.isolation == "user":
            home = chan / "home"
            home.mkdir(mode=0o700)
            os.chown(home, sandbox.slot_uid(slot), sandbox.slot_uid(slot))
            view = sandbox.make_view(_stub_dir(chan), spec.off_limits, spec.name)
            cmd = sandbox.user_command(inner, view=view, home=home, slot=slot, env=env)
            preexec, run_env = sandbox.limiter(settings.limits), None
        else:
            cmd, preexec = inner, None
            run_env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1",
                           MKL_NUM_THREADS="1", PYTHONHASHSEED="0", JUPYTER_PLATFORM_DIRS="1",
                           PYDEVD_DISABLE_FILE_VALIDATION="1", **env)
        with log_path.open("wb") as log:
            proc = subprocess.Popen(cmd, cwd=chan, env=run_env, stdout=log,
                                    stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                    start_new_session=True, preexec_fn=preexec)
        started = time.monotonic()
        listener.settimeout(0.1)
        conn = _accept(listener, notes,
                       started + settings.startup + settings.cell_timeout * n_cells, proc)
        if os.environ.get("TRAINART_GRADING_TIMES"):
            print(f"connected after {time.monotonic() - started:.2f} s", file=sys.stderr)
        if conn is None:
            verdicts = [runner.Verdict(cid, False, "", lost="never") for cid, _ in checks]
        else:
            remote = runner.Remote(conn)
            verdicts = runner.run_checks(spec.setup, checks, spec.names, remote,
                                         settings.cell_timeout)
            remote.done()
    finally:
        if conn is not None:
            conn.close()
        if proc is not None:
            _kill(proc)  # the sandbox and everything in it
            if settings.isolation == "user":
                sandbox.kill_user(slot)  # and what it detached
        if listener is not None:
            listener.settimeout(0.01)
            _accept(listener, notes, 0, None)
            listener.close()
        shutil.rmtree(chan, ignore_errors=True)
        shutil.rmtree(_stub_dir(chan), ignore_errors=True)
    _score(report, spec, verdicts, notes.records, settings.cell_timeout, job.include_hidden)
    if report.student != CANARY and conn is None and not notes.records:
        tail = runner._checks.clean(_read_capped(log_path, 1 << 20)[-1000:], 1000)
        report.messages.append(f"The notebook never reached the checks. Its log ends: {tail}")
    log_path.unlink(missing_ok=True)
    for t in sorted(notes.tried):
        report.flags.append(f"tried to use {t}, which is off limits for this exercise")


def _stub_dir(chan: Path) -> Path:
    d = chan.parent / f"{chan.name}.stubs"
    d.mkdir(exist_ok=True)
    d.chmod(0o755)
    return d


def _kill(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    proc.wait()


def _score(report: Report, spec: Spec, verdicts, records, cell_timeout, include_hidden):
    by_id = {r["id"]: r for r in records}
    died = any(r["reason"] == "kernel died" for r in records)
    for cid in spec.solution_ids:
        r = by_id.get(cid)
        if r is not None and r["outcome"] != "passed":
            report.messages.append(f"Your cell '{cid}': " + _failure(r, cell_timeout))
    points = {cid: (pts, hidden) for cid, _, pts, hidden in spec.checks}
    lost_messages = {
        "timeout": f"did not finish within {cell_timeout:g} s (an endless loop?); the checks "
                   f"after it were not run",
        "died": "not run: the Python kernel had died (did your code crash or exit Python?)",
        "protocol": "your kernel stopped answering the grader properly (did your code replace "
                    "what grading needs?); the checks after it were not run",
        "after": "not run: an earlier check stopped your kernel",
        "never": ("not run: the Python kernel had died (did your code crash or exit Python?)"
                  if died else "not run: your notebook never reached the checks (an endless "
                               "loop, a crash or a time-out in your cells?)"),
    }
    for v in verdicts:
        pts, hidden = points[v.id]
        message = lost_messages.get(v.lost, v.message) if v.lost else v.message
        report.checks.append(CheckResult(id=v.id, points=pts if v.passed else 0,
                                         max_points=pts, hidden=hidden, passed=v.passed,
                                         message=runner._checks.clean(message, 500)))
    report.score = sum(c.points for c in report.checks)
    report.max_score = sum(c.max_points for c in report.checks)


def _failure(record: dict, cell_timeout: float) -> str:
    reason, output = record["reason"], runner._checks.clean(record["output"].strip(), 300)
    if record["outcome"] == "xfailed":
        return "not run: an earlier cell timed out"
    if reason == "timeout":
        return (f"did not finish within {cell_timeout:g} s (an endless loop?); the checks after "
                f"it were not run")
    if reason == "kernel died":
        return "not run: the Python kernel had died (did your code crash or exit Python?)"
    if reason == "exception":
        return f"raised {output.split(': ', 1)[-1] if output else 'an error'}"
    return runner._checks.clean(reason, 100) or "failed"


# ------------------------------------------------------------------------------ batches
def grade(paths, out_dir: str | Path, *, grading_dir: str | Path = "exercises/grading",
          exercise: str | None = None, jobs: int = 2, cell_timeout: float = 30,
          progress: bool = True, include_hidden: bool = True, sandboxed: bool | None = None,
          unsafe_no_sandbox: bool = False, canary: bool = True,
          limits: sandbox.Limits | None = None, shard: tuple[int, int] | None = None,
          resume: bool = False, user_isolation: bool = False) -> list[Report]:
    """Grade submissions (files or folders) and write the reports into ``out_dir``.

    ``sandboxed=None`` uses bubblewrap when it works; without it grading refuses
    (:class:`SandboxUnavailable`) unless ``unsafe_no_sandbox`` (or ``include_hidden=False``,
    the student's self-check, which is never for credit). ``canary`` grades each exercise's
    reference solution alongside, to tell a broken machine from a wrong answer.
    ``shard=(i, n)`` grades only the i-th of n parts of the batch (merge the parts' reports
    with :func:`merge`); ``resume`` reuses the report already in ``out_dir`` of every file
    that is unchanged and was graded by the same checks and grader (not "could not grade").
    ``user_isolation``: where bubblewrap does not work but the grader runs as root in a
    container of its own per submission (Gradescope's), run the submission as a uid of its
    own instead (:func:`.sandbox.user_command`); bubblewrap is still preferred.
    """
    ok, why = sandbox.available()
    isolation = "bubblewrap"
    if not ok and user_isolation and sandboxed is not False:
        user_ok, user_why = sandbox.user_isolation_available()
        if not user_ok:
            raise SandboxUnavailable(f"cannot sandbox: {why}; nor run as a user of its own: "
                                     f"{user_why}")
        ok, isolation = True, "user"
    if sandboxed is None:
        sandboxed = ok
    if sandboxed and not ok:
        raise SandboxUnavailable(f"cannot sandbox: {why}")
    if not sandboxed:
        isolation = "none"
    if not sandboxed and include_hidden and not unsafe_no_sandbox:
        raise SandboxUnavailable(
            f"refusing to grade for credit without a sandbox ({why}): a submission could "
            f"read the hidden checks and other students' work, or stop the grader. Install "
            f"bubblewrap, or pass --unsafe-no-sandbox for submissions you trust.")
    grading_dir = Path(grading_dir)
    canonicals = load_canonicals(grading_dir)
    if exercise is not None and exercise not in canonicals:
        raise ValueError(f"unknown exercise '{exercise}'; known: {', '.join(sorted(canonicals))}")
    specs = {name: Spec.of(name, nb) for name, nb in canonicals.items()}
    roots = [Path(p) for p in paths]
    files = find_submissions(paths)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    grader = grader_fingerprint(grading_dir, include_hidden)
    reports, todo, names = [], [], set()
    for path in files:
        student = _student_name(path, roots)
        while student in names or student == CANARY:
            student += "_"
        names.add(student)
        if not in_shard(student, shard):
            continue
        fingerprint = f"{_file_digest(path)}:{grader}"
        if resume:
            done = _previous(out_dir, student, fingerprint)
            if done is not None:
                reports.append(done)
                continue
        report = Report(submission=str(path), student=student, sandboxed=sandboxed,
                        fingerprint=fingerprint)
        reports.append(report)
        try:
            nb = load_notebook(path)
            name = exercise or identify_exercise(nb, canonicals)
            found = identify_exercise(nb, canonicals) if exercise else name
            assembled = assemble(nb, canonicals[name], found, expected=exercise)
        except SubmissionError as e:
            report.status, report.messages = REJECTED, [str(e)]
            continue
        except Exception as e:  # noqa: BLE001 - one bad file never stops the batch
            report.status = REJECTED
            report.messages = [f"not gradable: {type(e).__name__} while reading the file"]
            continue
        report.exercise = name
        report.messages += assembled.messages
        report.flags += assembled.flags
        todo.append(Job(report, specs[name], assembled.notebook, include_hidden))
    canaries = {}
    if canary:
        for name in sorted({job.spec.name for job in todo}):
            ref = reference_notebook(canonicals[name], grading_dir.parent / "src", name)
            if ref is not None:
                canaries[name] = Job(Report(submission="reference solution", student=CANARY,
                                            exercise=name, sandboxed=sandboxed),
                                     specs[name], ref, include_hidden)
    settings = Settings(cell_timeout=cell_timeout, sandboxed=sandboxed, isolation=isolation,
                        limits=limits or sandbox.Limits())
    # The checks run here in several threads: BLAS must not start its own thread pool in
    # each (OpenBLAS called from two threads with its pool can hang), so one thread each.
    try:
        from threadpoolctl import threadpool_limits
        blas = threadpool_limits(1)
    except ImportError:
        blas = None
    try:
        _run_all(list(canaries.values()) + todo, settings, jobs, progress)
    finally:
        if blas is not None:
            blas.restore_original_limits()
    for job in todo:
        c = canaries.get(job.spec.name)
        if c is not None and not (c.report.max_score and c.report.score == c.report.max_score):
            failed = ([f"{r.id}: {r.message}" for r in c.report.checks if not r.passed][:3]
                      or c.report.messages[:2] or [c.report.status])
            job.report.status, job.report.score = NOT_GRADED, 0
            job.report.messages.insert(0, f"Could not grade: the reference solution, graded in "
                                          f"the same batch, failed too ({'; '.join(failed)}). "
                                          f"A problem on the grading machine; grade again.")
    write_reports(reports, out_dir)
    return reports


def _previous(out_dir: Path, student: str, fingerprint: str) -> Report | None:
    """The report of an earlier run for the same file and grader, if it can be reused."""
    path = out_dir / f"{student}.json"
    try:
        report = report_from_dict(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError):
        return None
    if report.fingerprint != fingerprint or report.status == NOT_GRADED:
        return None
    return report


def merge(out_dirs, out: str | Path) -> list[Report]:
    """Join the reports of several runs (the shards of a class) into ``out``: its
    class.csv/class.md and every submission's report. The same student twice is an error
    unless both reports are of the same file graded the same way."""
    from .gradebook import read_reports

    by_student: dict[str, tuple[Report, Path]] = {}
    for folder in map(Path, out_dirs):
        for r in map(report_from_dict, read_reports(folder)):
            if r.student in by_student:
                other, where = by_student[r.student]
                if other.fingerprint and other.fingerprint == r.fingerprint:
                    continue
                raise ValueError(f"student {r.student!r} is in both {where} and {folder} with "
                                 f"different files or grading: grade the shards of one batch")
            by_student[r.student] = (r, folder)
    merged = [r for _, (r, _) in sorted(by_student.items())]
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    write_reports(merged, out)
    return merged


def _run_all(jobs_list: list[Job], settings: Settings, jobs: int, progress: bool) -> None:
    if not jobs_list:
        return
    slots: queue.Queue = queue.Queue()
    for i in range(max(1, jobs)):
        slots.put(i)
    work = Path(tempfile.mkdtemp(prefix="trainart-grade-"))
    os.chmod(work, 0o711)
    bar = None
    if progress:
        from tqdm import tqdm
        bar = tqdm(total=len(jobs_list), desc="grading", unit="notebook", file=sys.stderr)

    def one(job: Job) -> None:
        slot = slots.get()
        try:
            run_job(job, settings, slot, work)
        except Exception as e:  # noqa: BLE001 - the grader's own failure: this row only
            job.report.status = NOT_GRADED
            job.report.messages.append(f"Could not grade: the grader failed "
                                       f"({type(e).__name__}: {e}). Grade again.")
        finally:
            slots.put(slot)
            if bar is not None:
                bar.update(1)

    try:
        with concurrent.futures.ThreadPoolExecutor(max(1, jobs)) as pool:
            list(pool.map(one, jobs_list))
    finally:
        if bar is not None:
            bar.close()
        shutil.rmtree(work, ignore_errors=True)


# ------------------------------------------------------------------------------ reports
def write_reports(reports: list[Report], out_dir: Path) -> None:
    for report in reports:
        (out_dir / f"{report.student}.json").write_text(
            json.dumps(asdict(report), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        (out_dir / f"{report.student}.md").write_text(markdown_report(report), encoding="utf-8")
    rows = [(r.student, r.exercise, r.status,
             r.score if r.status != NOT_GRADED else "",
             r.max_score, "; ".join(r.flags)) for r in reports]
    header = ("student", "exercise", "status", "score", "max", "flagged for review")
    with (out_dir / "class.csv").open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_md(v) for v in row) + " |" for row in rows]
    (out_dir / "class.md").write_text("# Class results\n\n" + "\n".join(lines) + "\n",
                                      encoding="utf-8")


def _md(value) -> str:
    return re.sub(r"([|])", r"\\\1", str(value))


def markdown_report(report: Report) -> str:
    """A readable report for one submission."""
    lines = [f"# {report.student}: {report.exercise or 'unknown exercise'}", ""]
    if report.status == NOT_GRADED:
        lines.append("**Could not grade** (a problem on the grading machine, not yours).")
    elif report.status == REJECTED:
        lines.append("**Score: 0** (the file could not be graded).")
    else:
        lines.append(f"**Score: {report.score} / {report.max_score}**")
    lines.append("")
    if report.checks:
        lines += ["| check | result | points | note |", "|---|---|---|---|"]
        for c in report.checks:
            name = c.id + (" (hidden)" if c.hidden else "")
            mark = "passed" if c.passed else "failed"
            lines.append(f"| {_md(name)} | {mark} | {c.points} / {c.max_points} | "
                         f"{_md(c.message)} |")
        lines.append("")
    if report.messages:
        lines += ["## Notes", ""] + [f"- {m}" for m in report.messages] + [""]
    if report.flags:
        lines += ["## Flagged for review", "",
                  "These do not change the score; an instructor will look at them.", ""]
        lines += [f"- {f}" for f in report.flags] + [""]
    return "\n".join(lines)

