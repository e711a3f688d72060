"""The grader: fresh notebooks, full marks for references, zero for blanks, and every attack.

One batch of submissions (references, blanks and attacks) is graded once, through the real
pipeline (assemble, nbval with pytest-xdist, score, reports); each test then reads its
report. The cell time-out bounds what the endless loop and the dying kernel cost.
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from trainart.grading import assemble as asm
from trainart.grading import build, grade, samples, source

ROOT = Path(__file__).resolve().parents[1]
SOURCES = sorted((ROOT / "exercises" / "src").glob("*.py"))
GRADING = ROOT / "exercises" / "grading"
EXERCISES = {p.stem: source.parse_exercise(p) for p in SOURCES}
# seconds, the CLI's default: at 15, norm_groupnorm's reference and canary failed once in a
# clean clone's `make test` (the cause was not captured; the next run passed: likely a time-out
# while the rest of the unit suite loaded both cores), so a failure now prints its messages
CELL_TIMEOUT = 30
# In bubblewrap where it works (make setup installs it); the attacks that need it are in
# test_grading_attacks.py, which is skipped without it. Here the scores are what matter.
SANDBOX = {"unsafe_no_sandbox": True}


# ------------------------------------------------------------------------ the built files
def _strip_ids(nb) -> dict:
    return json.loads(json.dumps(nb))


@pytest.mark.parametrize("name", sorted(EXERCISES))
def test_student_notebook_is_fresh_and_holds_no_solution(name):
    ex = EXERCISES[name]
    committed = nbformat.read(ROOT / "exercises" / f"{name}.ipynb", as_version=4)
    assert _strip_ids(committed) == _strip_ids(build.student_notebook(ex)), (
        f"exercises/{name}.ipynb is stale: run `trainart build-exercises`")
    text = json.dumps(committed)
    for cell in ex.solutions:
        body = source.reference_source(cell).split("\n")
        solution_lines = [line.strip() for line in cell.source.split(source.BEGIN)[1]
                          .split(source.END)[0].splitlines() if line.strip()]
        assert body and not any(json.dumps(line)[1:-1] in text for line in solution_lines
                                if len(line) > 12), f"{name}: a solution line leaked"
    hidden = [c.id for c in ex.checks if c.hidden]
    assert hidden and not any(c.get("id") in hidden for c in committed.cells)
    assert all(not c.get("outputs") for c in committed.cells if c.cell_type == "code")


@pytest.mark.parametrize("name", sorted(EXERCISES))
def test_canonical_notebook_is_fresh(name):
    """Rebuilt through nbval, the grading notebook equals the committed one."""
    ex = EXERCISES[name]
    committed = nbformat.read(GRADING / f"{name}.ipynb", as_version=4)
    rebuilt = build.canonical_notebook(ex, build.record_reference_outputs(ex))
    assert _strip_ids(committed) == _strip_ids(rebuilt), (
        f"exercises/grading/{name}.ipynb is stale: run `trainart build-exercises`")
    checks = [c for c in committed.cells if c.metadata.get("trainart", {}).get("role") == "check"]
    assert all(c.execution_count and c.outputs[0]["text"].startswith("PASS: ") for c in checks)


def test_source_format_errors_name_the_line(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("# %% solution id=f\ndef f():\n    return 1\n# %% check id=c points=1\nf()\n")
    with pytest.raises(source.ExerciseFormatError, match=r"bad.py:1: solution 'f' needs one"):
        source.parse_exercise(bad)
    bad.write_text("# %% check id=c points=x\n")
    with pytest.raises(source.ExerciseFormatError, match="points must be an integer"):
        source.parse_exercise(bad)


# ------------------------------------------------------------------------- submissions
_student, _set_solution, _reference = samples.student, samples.set_solution, samples.reference


def _wrong(name):
    """Every solution replaced by a function that returns its first argument."""
    nb = _student(name)
    for cell in EXERCISES[name].solutions:
        fn = cell.source.split("def ", 1)[1].split("(", 1)[0]
        _set_solution(nb, cell.id, f"def {fn}(*args, **kwargs):\n    return args[0]")
    return nb


def _near_miss_adam():
    """Adam without bias correction: right shape, wrong numbers in the early steps."""
    code = ("def adam_step(param, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):\n"
            "    m = beta1 * m + (1 - beta1) * grad\n"
            "    v = beta2 * v + (1 - beta2) * grad * grad\n"
            "    return param - lr * m / (np.sqrt(v) + eps), m, v\n")
    return _set_solution(_student("optim_adam"), EXERCISES["optim_adam"].solutions[0].id, code)


def _attacks() -> dict:
    name = "optim_adam"
    checks = [c for c in EXERCISES[name].checks if not c.hidden]
    subs = {}

    nb = _wrong(name)
    for cell in nb.cells:
        if cell.get("id") in {c.id for c in checks}:
            cell.source = "print('PASS: edited')"
    subs["edited_check"] = nb

    nb = _wrong(name)
    canonical = nbformat.read(GRADING / f"{name}.ipynb", as_version=4)
    expected = "".join(c.outputs[0]["text"] for c in canonical.cells
                       if c.metadata.get("trainart", {}).get("role") == "check")
    nb.cells.append(nbformat.v4.new_code_cell(f"print({expected!r})"))
    subs["extra_cell_prints_expected"] = nb

    nb = _wrong(name)
    sol = EXERCISES[name].solutions[0]
    fn = sol.source.split("def ", 1)[1].split("(", 1)[0]
    _set_solution(nb, sol.id, f"def {fn}(*args, **kwargs):\n"
                  + "".join(f"    print({line!r})\n" for line in expected.splitlines())
                  + "    return args[0]")
    subs["function_prints_fake_pass"] = nb

    nb = _reference(name)
    nb.cells = [c for c in nb.cells if c.metadata.get("trainart", {}).get("role") != "check"]
    subs["deleted_checks"] = nb

    nb = _reference(name)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    subs["cleared_outputs"] = nb

    nb = _reference(name)
    nb.metadata["kernelspec"] = {"name": "no-such-kernel", "display_name": "Fake",
                                 "language": "python"}
    subs["fake_kernelspec"] = nb

    subs["endless_loop"] = _set_solution(_student(name), sol.id, "while True:\n    pass")
    subs["kernel_dies"] = _set_solution(_student(name), sol.id, "import os\nos._exit(1)")
    subs["near_miss"] = _near_miss_adam()

    nb = _reference(name)
    for cell in nb.cells:
        if cell.get("id") == sol.id:
            cell.id = "renamed-by-jupyter"
    subs["renamed_ids"] = nb

    nb = _reference(name)
    nb.cells = [c for c in nb.cells if c.get("id") != sol.id]
    subs["missing_solution"] = nb

    nb = _reference(name)
    for cell in nb.cells:
        if cell.get("id") == sol.id:
            cell.source += "\nget_ipython()"
    subs["tampers"] = nb
    return subs


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    folder = tmp_path_factory.mktemp("submissions")
    for name in EXERCISES:
        nbformat.write(_reference(name), folder / f"reference_{name}.ipynb")
        nbformat.write(_student(name), folder / f"blank_{name}.ipynb")
    for key, nb in _attacks().items():
        nbformat.write(nb, folder / f"{key}.ipynb")
    (folder / "essay.txt").write_text("I did the homework in my head.")
    (folder / "broken.ipynb").write_text('{"cells": [')
    chapter = next((ROOT / "chapters").rglob("*.ipynb"))
    (folder / "a_chapter.ipynb").write_text(chapter.read_text())
    out = tmp_path_factory.mktemp("reports")
    reports = grade.grade([folder], out, grading_dir=GRADING, jobs=2,
                          cell_timeout=CELL_TIMEOUT, progress=False, **SANDBOX)
    return {r.student: r for r in reports}, out


def _full(report):
    return report.status == grade.GRADED and report.max_score > 0 and \
        report.score == report.max_score


@pytest.mark.parametrize("name", sorted(EXERCISES))
def test_reference_scores_full_marks(graded, name):
    report = graded[0][f"reference_{name}"]
    assert _full(report), (report.status, report.messages, report.checks)
    assert not report.flags
    # the student notebook as handed out (its "After the deadline" cell included) changes no
    # cell but the solutions
    assert not any("other cell" in m for m in report.messages), report.messages


@pytest.mark.parametrize("name", sorted(EXERCISES))
def test_blank_scores_zero_and_says_not_implemented(graded, name):
    report = graded[0][f"blank_{name}"]
    assert report.status == grade.GRADED and report.score == 0 and report.max_score > 0, (
        report.status, report.messages, report.checks)
    assert all("not implemented yet" in c.message for c in report.checks), report.checks


@pytest.mark.parametrize("key", ["edited_check", "extra_cell_prints_expected",
                                 "function_prints_fake_pass", "endless_loop", "kernel_dies",
                                 "missing_solution"])
def test_attacks_earn_nothing(graded, key):
    report = graded[0][key]
    assert report.status == grade.GRADED and report.score == 0, report


@pytest.mark.parametrize("key", ["deleted_checks", "cleared_outputs", "fake_kernelspec",
                                 "renamed_ids"])
def test_correct_work_in_an_altered_notebook_still_scores(graded, key):
    assert _full(graded[0][key]), graded[0][key]


def test_messages_explain_what_happened(graded):
    reports = graded[0]
    assert any("did not finish" in m for m in reports["endless_loop"].messages)
    assert any("kernel had died" in c.message for c in reports["kernel_dies"].checks)
    assert any("kernel 'no-such-kernel'" in m for m in reports["fake_kernelspec"].messages)
    assert any("found by its marker line" in m for m in reports["renamed_ids"].messages)
    assert any("is missing" in m for m in reports["missing_solution"].messages)
    assert any("ignored" in m for m in reports["extra_cell_prints_expected"].messages)


def test_near_miss_adam_loses_the_trajectory_points(graded):
    report = graded[0]["near_miss"]
    assert report.status == grade.GRADED and 0 <= report.score < report.max_score
    failed = [c for c in report.checks if not c.passed]
    assert failed and all(c.message for c in failed)
    assert all("relative error" in c.message or "range" in c.message for c in failed), failed


def test_hidden_expected_values_are_never_revealed(graded):
    report = graded[0]["near_miss"]
    for c in report.checks:
        if c.hidden and not c.passed:
            assert "expected" not in c.message.lower() or "shape" in c.message


def test_tampering_is_flagged_not_scored(graded):
    report = graded[0]["tampers"]
    assert _full(report)
    assert any("get_ipython" in f for f in report.flags)


@pytest.mark.parametrize("key,message", [
    ("essay", "not a .ipynb file"),
    ("broken", "not valid JSON"),
    ("a_chapter", "not one of the exercises"),
])
def test_bad_files_are_rejected_with_a_reason(graded, key, message):
    report = graded[0][key]
    assert report.status == grade.REJECTED and report.score == 0
    assert message in report.messages[0]


def test_reports_are_written(graded):
    reports, out = graded
    table = (out / "class.csv").read_text().splitlines()
    assert table[0].startswith("student,exercise,status,score,max")
    assert len(table) == len(reports) + 1
    md = (out / "reference_optim_adam.md").read_text()
    assert "Score: " in md and "| check | result | points | note |" in md
    data = json.loads((out / "near_miss.json").read_text())
    assert data["score"] < data["max_score"] and data["checks"]
    assert "| student | exercise | status |" in (out / "class.md").read_text()


def test_notebook_of_another_exercise_is_rejected():
    nb = _reference("optim_momentum")
    canonicals = grade.load_canonicals(GRADING)
    found = asm.identify_exercise(nb, canonicals)
    assert found == "optim_momentum"
    expected = "for exercise 'optim_momentum', not 'optim_adam'"
    with pytest.raises(asm.SubmissionError, match=expected):
        asm.assemble(nb, canonicals["optim_adam"], found, expected="optim_adam")


def test_the_machines_fault_is_not_a_zero(tmp_path):
    """A setup the grading machine cannot run fails the canary (the reference solution
    graded alongside): the batch says "could not grade", never a zero. What the student's
    kernel reports about itself is not believed (tests/test_grading_attacks.py)."""
    grading = tmp_path / "exercises" / "grading"
    grading.mkdir(parents=True)
    (tmp_path / "exercises" / "src").symlink_to(ROOT / "exercises" / "src")
    canonical = nbformat.read(GRADING / "optim_adam.ipynb", as_version=4)
    setup = next(c for c in canonical.cells
                 if c.metadata.get("trainart", {}).get("role") == "setup")
    setup.source = "import module_missing_on_this_machine\n" + setup.source
    nbformat.write(canonical, grading / "optim_adam.ipynb")
    nbformat.write(_reference("optim_adam"), tmp_path / "kim.ipynb")
    (report,) = grade.grade([tmp_path / "kim.ipynb"], tmp_path / "out", grading_dir=grading,
                            jobs=1, cell_timeout=CELL_TIMEOUT, progress=False,
                            **SANDBOX)
    assert report.status == grade.NOT_GRADED and "Could not grade" in report.messages[0]


def test_check_command_self_checks_with_visible_checks(tmp_path):
    good = tmp_path / "mine.ipynb"
    nbformat.write(_reference("optim_clipping"), good)
    run = subprocess.run([sys.executable, "-m", "trainart.grading.cli", "check", str(good),
                          "--grading-dir", str(GRADING)], capture_output=True, text=True,
                         timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "(hidden)" not in run.stdout and "Score: " in run.stdout
    blank = tmp_path / "blank.ipynb"
    nbformat.write(copy.deepcopy(_student("optim_clipping")), blank)
    run = subprocess.run([sys.executable, "-m", "trainart.grading.cli", "check", str(blank),
                          "--grading-dir", str(GRADING)], capture_output=True, text=True,
                         timeout=300)
    assert run.returncode == 1 and "not implemented yet" in run.stdout


# ------------------------------------------- near misses of the regularization, Newton and
# tuning exercises: one plausible mistake each, in an otherwise correct notebook
_NEAR_MISSES = {
    # AdamW with the decay added to the gradient: that is Adam + L2, not decoupled decay
    "nm_adamw_decay_in_gradient": ("reg_weight_decay", "adamw_step", (
        "def adamw_step(param, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8,\n"
        "               weight_decay=1e-2):\n"
        "    grad = grad + weight_decay * param\n"
        "    m = beta1 * m + (1 - beta1) * grad\n"
        "    v = beta2 * v + (1 - beta2) * grad * grad\n"
        "    m_hat, v_hat = m / (1 - beta1**t), v / (1 - beta2**t)\n"
        "    return param - lr * m_hat / (np.sqrt(v_hat) + eps), m, v\n"),
        {"adamw_first_steps", "zero_gradient", "trajectories", "mid_run_settings"}),
    # softmax without subtracting the row maximum: right values, overflow for large logits
    "nm_label_smoothing_overflow": ("reg_label_smoothing", "smoothed_cross_entropy", (
        "def smoothed_cross_entropy(logits, targets, eps):\n"
        "    n, classes = logits.shape\n"
        "    log_p = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))\n"
        "    q = np.full((n, classes), eps / classes)\n"
        "    q[np.arange(n), targets] += 1.0 - eps\n"
        "    return float(-(q * log_p).sum() / n)\n"),
        {"large_logits"}),
    # eps spread over the C - 1 other classes (not PyTorch's convention)
    "nm_label_smoothing_c_minus_1": ("reg_label_smoothing", "smoothed_cross_entropy", (
        "def smoothed_cross_entropy(logits, targets, eps):\n"
        "    n, classes = logits.shape\n"
        "    z = logits - logits.max(axis=1, keepdims=True)\n"
        "    log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))\n"
        "    q = np.full((n, classes), eps / (classes - 1))\n"
        "    q[np.arange(n), targets] = 1.0 - eps\n"
        "    return float(-(q * log_p).sum() / n)\n"),
        {"loss_matches_torch", "shapes_and_eps"}),
    # "global" pruning that prunes every layer separately
    "nm_pruning_global_per_layer": ("reg_pruning", "global_magnitude_masks", (
        "def global_magnitude_masks(weights, amount):\n"
        "    if not 0.0 <= amount <= 1.0:\n"
        "        raise ValueError('amount')\n"
        "    masks = []\n"
        "    for w in weights:\n"
        "        keep = np.ones(w.size)\n"
        "        keep[np.argsort(np.abs(w).ravel())[:round(amount * w.size)]] = 0.0\n"
        "        masks.append(keep.reshape(w.shape))\n"
        "    return masks\n"),
        {"global_matches_torch", "more_shapes"}),
    # rounding halves up instead of to even
    "nm_pruning_round_half_up": ("reg_pruning", "global_magnitude_masks", (
        "def global_magnitude_masks(weights, amount):\n"
        "    if not 0.0 <= amount <= 1.0:\n"
        "        raise ValueError('amount')\n"
        "    flat = np.concatenate([np.abs(w).ravel() for w in weights])\n"
        "    keep = np.ones(flat.size)\n"
        "    keep[np.argsort(flat)[:int(amount * flat.size + 0.5)]] = 0.0\n"
        "    parts = np.split(keep, np.cumsum([w.size for w in weights])[:-1])\n"
        "    return [p.reshape(w.shape) for p, w in zip(parts, weights)]\n"),
        {"exact_counts"}),
    # full Newton steps, no line search
    "nm_newton_no_line_search": ("newton_step", "damped_newton", (
        "def damped_newton(f, grad, hess, x0, tol=1e-8, max_iter=100):\n"
        "    x = np.array(x0, dtype=float)\n"
        "    path = [x.copy()]\n"
        "    for _ in range(max_iter):\n"
        "        g = grad(x)\n"
        "        if np.linalg.norm(g) <= tol:\n"
        "            break\n"
        "        try:\n"
        "            p = newton_direction(g, hess(x))\n"
        "        except ValueError:\n"
        "            p = -g\n"
        "        x = x + p\n"
        "        path.append(x.copy())\n"
        "    return x, path\n"),
        {"rosenbrock", "path_matches_reference", "fallback_double_well"}),
    # backtracking on any decrease instead of Armijo's sufficient decrease
    "nm_newton_simple_decrease": ("newton_step", "damped_newton", (
        "def damped_newton(f, grad, hess, x0, tol=1e-8, max_iter=100):\n"
        "    x = np.array(x0, dtype=float)\n"
        "    path = [x.copy()]\n"
        "    for _ in range(max_iter):\n"
        "        g = grad(x)\n"
        "        if np.linalg.norm(g) <= tol:\n"
        "            break\n"
        "        try:\n"
        "            p = newton_direction(g, hess(x))\n"
        "        except ValueError:\n"
        "            p = -g\n"
        "        alpha = 1.0\n"
        "        while f(x + alpha * p) >= f(x) and alpha > 1e-15:\n"
        "            alpha /= 2\n"
        "        x = x + alpha * p\n"
        "        path.append(x.copy())\n"
        "    return x, path\n"),
        {"path_matches_reference"}),
    # H0 scaled with the oldest pair instead of the newest
    "nm_lbfgs_gamma_oldest": ("newton_lbfgs", "two_loop", (
        "def two_loop(g, s_list, y_list):\n"
        "    q = np.array(g, dtype=float)\n"
        "    if not s_list:\n"
        "        return q\n"
        "    alphas = {}\n"
        "    for i in reversed(range(len(s_list))):\n"
        "        alphas[i] = (s_list[i] @ q) / (y_list[i] @ s_list[i])\n"
        "        q = q - alphas[i] * y_list[i]\n"
        "    r = (s_list[0] @ y_list[0]) / (y_list[0] @ y_list[0]) * q\n"
        "    for i in range(len(s_list)):\n"
        "        beta = (y_list[i] @ r) / (y_list[i] @ s_list[i])\n"
        "        r = r + s_list[i] * (alphas[i] - beta)\n"
        "    return r\n"),
        {"matches_bfgs_matrix", "more_pairs"}),
    # uniform on [low, high] instead of log-uniform
    "nm_log_uniform_linear": ("tune_log_uniform", "sample_log_uniform", (
        "def sample_log_uniform(low, high, n, rng):\n"
        "    if not 0 < low < high:\n"
        "        raise ValueError('bounds')\n"
        "    return rng.uniform(low, high, size=n)\n"),
        {"samples_in_bounds", "log_uniform_ks", "search_distribution"}),
    # the bounding box of log dimensions taken in linear space
    "nm_coarse_to_fine_linear_box": ("tune_coarse_to_fine", "refine_space", (
        "def refine_space(trials, space, k, margin=0.25):\n"
        "    if not 2 <= k <= len(trials) or margin < 0:\n"
        "        raise ValueError('k or margin')\n"
        "    best = [config for config, _ in sorted(trials, key=lambda t: t[1])[:k]]\n"
        "    out = {}\n"
        "    for name, (kind, low, high) in space.items():\n"
        "        t = [config[name] for config in best]\n"
        "        w = max(t) - min(t)\n"
        "        lo, hi = max(min(t) - margin * w, low), min(max(t) + margin * w, high)\n"
        "        out[name] = (kind, lo, hi)\n"
        "    return out\n"),
        {"margin_in_log_space", "matches_reference"}),
}


@pytest.fixture(scope="module")
def graded_near_misses(tmp_path_factory):
    folder = tmp_path_factory.mktemp("near_misses")
    for key, (name, cell_id, code, _) in _NEAR_MISSES.items():
        nbformat.write(_set_solution(_reference(name), cell_id, code), folder / f"{key}.ipynb")
    out = tmp_path_factory.mktemp("near_miss_reports")
    reports = grade.grade([folder], out, grading_dir=GRADING, jobs=2,
                          cell_timeout=CELL_TIMEOUT, progress=False, **SANDBOX)
    return {r.student: r for r in reports}


@pytest.mark.parametrize("key", sorted(_NEAR_MISSES))
def test_near_misses_lose_the_points_of_their_checks(graded_near_misses, key):
    name, _, _, must_fail = _NEAR_MISSES[key]
    report = graded_near_misses[key]
    assert report.status == grade.GRADED and report.exercise == name, report
    assert 0 < report.score < report.max_score, report
    failed = {c.id for c in report.checks if not c.passed}
    assert must_fail <= failed, (must_fail - failed, report.checks)
    for c in report.checks:
        if not c.passed:
            assert c.message and "not implemented" not in c.message
            if c.hidden:
                assert "expected" not in c.message.lower() or "shape" in c.message
