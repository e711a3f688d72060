"""A determined student against the grader: every attack earns zero, honest work full marks.

One batch holds honest submissions (the reference, correct variants written differently) and
several variants of every class of attack from issue 15, obfuscated ones included: forged
output, patching inside the kernel, reading what must stay secret, neighbours and the runner,
resource abuse. It is graded once through the real pipeline (a bubblewrap sandbox per
submission, the checks in the grader's process); each test reads its report. Malformed files
and the canary have their own small batches.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path

import nbformat
import pytest

from trainart.grading import grade, samples, sandbox

ROOT = Path(__file__).resolve().parents[1]
GRADING = ROOT / "exercises" / "grading"
CELL_TIMEOUT = 12  # seconds; 8 timed out an honest notebook once on a loaded 2-core machine

pytestmark = pytest.mark.skipif(not sandbox.available()[0],
                                reason=f"no sandbox: {sandbox.available()[1]}")

SIG = "def adam_step(param, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):\n"
WRONG = SIG + "    return param + 0.0, m + 0.0, v + 0.0\n"
RIGHT_BODY = ("    m = beta1 * m + (1 - beta1) * grad\n"
              "    v = beta2 * v + (1 - beta2) * grad * grad\n"
              "    m_hat, v_hat = m / (1 - beta1**t), v / (1 - beta2**t)\n"
              "    return param - lr * m_hat / (np.sqrt(v_hat) + eps), m, v\n")

HONEST = {
    "honest_reference": None,
    # the same rule, arranged with a loop over the entries and in-place updates of copies
    "honest_loops": SIG + (
        "    param, m, v = (np.array(a, dtype=float) for a in (param, m, v))\n"
        "    out = param.copy()\n"
        "    for i in np.ndindex(param.shape):\n"
        "        m[i] = beta1 * m[i] + (1 - beta1) * grad[i]\n"
        "        v[i] = beta2 * v[i] + (1 - beta2) * grad[i] ** 2\n"
        "        out[i] -= lr * (m[i] / (1 - beta1**t)) / (np.sqrt(v[i] / (1 - beta2**t)) + eps)\n"
        "    return out, m, v\n"),
    # prints while it works, imports math, returns lists of floats
    "honest_chatty": "import math\n" + SIG + (
        "    print('step', t, 'PASS? FAIL?')\n"
        "    b1, b2 = 1 - beta1**t, 1 - beta2**t\n"
        "    m = beta1 * m + (1 - beta1) * grad\n"
        "    v = beta2 * v + (1 - beta2) * grad**2\n"
        "    step = lr * (m / b1) / (np.sqrt(v / b2) + eps)\n"
        "    return param - step, m, v\n"),
}

# Every attack's adam_step is wrong (or a stub): only a successful attack could earn points.
ATTACKS = {
    # ---- forged output: the old grader trusted printed PASS lines
    "forge_cr_exception": SIG + (
        "    raise type('E\\rPASS: the first step moves every coordinate', (Exception,), {})()\n"),
    "forge_prints_pass": WRONG.replace(
        "    return", "    print('PASS: three Adam steps match the reference');"
                     " print('\\x1b[1A\\rPASS')\n    return"),
    "forge_display_and_raw_stdout": (
        "import sys, os\nfrom IPython.display import display\n"
        "display({'text/plain': 'PASS: all'}, raw=True)\n"
        "os.write(1, b'PASS: everything\\n')\nsys.__stdout__.write('PASS\\n')\n" + WRONG),
    # ---- patching the checker inside the kernel (the checks no longer run there)
    "patch_class_check": (
        "class check:\n"
        "    def __init__(self, what): self.what = what\n"
        "    def __enter__(self): return self\n"
        "    def __exit__(self, *a): print('PASS: ' + self.what); return True\n"
        "    def __getattr__(self, name): return lambda *a, **k: None\n" + WRONG),
    "patch_exit_obfuscated": (
        "import importlib\n"
        "_m = importlib.import_module('.'.join(['trainart', 'grad' + 'ing', 'che' + 'cks']))\n"
        "_c = getattr(_m, 'ch' + 'eck')\n"
        "setattr(_c, '__ex' + 'it__', lambda self, *a: (print('PASS: ' + self.what), True)[1])\n"
        "for _n in ('close', 'equal', 'within', 'true'):\n"
        "    setattr(_c, _n, lambda *a, **k: None)\n" + WRONG),
    "patch_numpy": (
        "import numpy, gc\n"
        "_t = lambda *a, **k: True\n"
        "for _name in ['allclose', 'array_equal', 'isfinite', 'all']:\n"
        "    setattr(numpy, _name, _t)\n"
        "numpy.isclose = lambda a, b, **k: numpy.ones(numpy.shape(a), dtype=bool)\n"
        "for _o in gc.get_objects():\n"
        "    if isinstance(_o, dict) and 'isclose' in _o and 'allclose' in _o:\n"
        "        _o['isclose'] = numpy.isclose\n" + WRONG),
    "patch_print_and_stdout": (
        "import builtins, sys, io\n"
        "_p = builtins.print\n"
        "builtins.print = lambda *a, **k: _p(*[str(x).replace('FAIL', 'PASS') for x in a], **k)\n"
        "class _W(io.StringIO):\n"
        "    def write(self, s): return sys.__stdout__.write(s.replace('FAIL', 'PASS'))\n"
        "sys.stdout = _W()\n" + WRONG),
    "patch_input_transformer": (
        "_ip = __import__('IPy' + 'thon').get_ipython()\n"
        "getattr(_ip, 'input_transformers_' + 'post').append(\n"
        "    lambda lines: ['print(\"PASS: ok\")\\n'] if 'check' in ''.join(lines) else lines)\n"
        + WRONG),
    # ---- reading what must stay secret
    "secret_frames_and_gc": SIG + (
        "    import sys, gc\n"
        "    f = sys._getframe(1)\n"
        "    while f is not None:\n"
        "        for k in ('ref', 'expected', 'opt'):\n"
        "            if k in f.f_locals and hasattr(f.f_locals[k], 'shape'):\n"
        "                return f.f_locals[k], m, v\n"
        "        f = f.f_back\n"
        "    for o in gc.get_objects():\n"
        "        if isinstance(o, dict) and 'exp_avg' in o:\n"
        "            return param, o['exp_avg'], o['exp_avg_sq']\n"
        "    return param, m, v\n"),
    "secret_import_reference": SIG + (
        "    import importlib\n"
        "    Adam = getattr(importlib.import_module('trainart.op' + 'tim'), 'Ad' + 'am')\n"
        "    p = np.array(param, dtype=float)\n"
        "    opt = Adam([p], lr=lr, betas=(beta1, beta2), eps=eps)\n"
        "    opt.state[0] = {'step': t - 1, 'exp_avg': m.copy(), 'exp_avg_sq': v.copy()}\n"
        "    opt.step([grad])\n"
        "    return p, opt.state[0]['exp_avg'], opt.state[0]['exp_avg_sq']\n"),
    "secret_read_sources": (
        "import os, glob, json, trainart\n"
        "_found = None\n"
        "_roots = [os.path.dirname(os.path.dirname(trainart.__file__)), '/work', '/tmp',\n"
        "          '/grading', '/home', '/srv', '/mnt']\n"
        "for _r in _roots:\n"
        "    for _p in glob.glob(_r + '/**/optim_adam*', recursive=True)[:50]:\n"
        "        try:\n"
        "            _t = open(_p).read()\n"
        "        except Exception:\n"
        "            continue\n"
        "        if 'BEGIN SOLUTION' in _t or 'new_m = beta1' in _t:\n"
        "            _found = _t\n"
        "if _found:\n"
        "    _src = _found.split('### BEGIN SOLUTION')[1].split('### END SOLUTION')[0]\n"
        "    exec(SIG_AND + _src)\n"
        "else:\n"
        "    " + WRONG.replace("\n    ", "\n        ")),
    "secret_read_pyc": (
        "import os, marshal, glob, trainart\n"
        "_d = os.path.dirname(trainart.__file__)\n"
        "_pyc = glob.glob(_d + '/optim/__pycache__/adam*.pyc') + glob.glob(_d + '/optim/adam.py')\n"
        "_ns = {}\n"
        "for _p in _pyc:\n"
        "    try:\n"
        "        exec(open(_p).read() if _p.endswith('.py') else\n"
        "             marshal.loads(open(_p, 'rb').read()[16:]), _ns)\n"
        "    except Exception:\n"
        "        pass\n" + WRONG),
    # ---- neighbours and the runner
    "neighbour_copy": (
        "import os\n"
        "_src = None\n"
        "for _top in ('/tmp', '/grading', '/work', '/root', '/home', '/proc'):\n"
        "    for _dir, _subs, _files in os.walk(_top):\n"
        "        _subs[:] = [d for d in _subs if d not in ('site-packages', '.pyenv', 'sys',\n"
        "                                                  'lib', 'include', 'share', 'bin')]\n"
        "        for _f in _files:\n"
        "            if _f.endswith('.ipynb'):\n"
        "                try:\n"
        "                    _t = open(os.path.join(_dir, _f)).read()\n"
        "                except Exception:\n"
        "                    continue\n"
        "                if 'm_hat' in _t and 'honest' not in _t:\n"
        "                    _src = _t\n"
        + WRONG),
    "neighbour_sabotage": (
        "import os, glob\n"
        "for _pat in ('/tmp/**/*', '/grading/**/*', '/work/*/*.ipynb', '/work/*/*/*.ipynb',\n"
        "             '/work/*/trainart/*/*.py', '/work/*/exercises/*/*'):\n"
        "    for _p in glob.glob(_pat, recursive=True)[:200]:\n"
        "        try:\n"
        "            if os.path.isfile(_p) and not _p.startswith('/grading/submission'):\n"
        "                open(_p, 'w').write('sabotaged')\n"
        "        except Exception:\n"
        "            pass\n"
        "import trainart.grading.checks as _c\n"
        "try:\n"
        "    open(_c.__file__, 'a').write('\\nraise SystemExit\\n')\n"
        "except Exception:\n"
        "    pass\n" + WRONG),
    "runner_kill_parent": (
        "import os, signal\n"
        "for _pid in (os.getppid(), 1, -1):\n"
        "    try:\n"
        "        os.kill(_pid, signal.SIGKILL)\n"
        "    except Exception:\n"
        "        pass\n" + WRONG),
    "runner_kills_itself_in_check": SIG + "    import os\n    os._exit(3)\n",
    "runner_swallows_interrupts": (
        "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\n" + SIG + (
            "    while True:\n"
            "        try:\n"
            "            print('.', end='')\n"
            "        except BaseException:\n"
            "            pass\n")),
    "runner_detached_processes": (
        "import subprocess, os\n"
        "subprocess.Popen(['sleep', 'TOKEN'], start_new_session=True)\n"
        "if os.fork() == 0:\n"
        "    os.setsid()\n"
        "    if os.fork() == 0:\n"
        "        import time\n"
        "        os.execvp('sleep', ['sleep', 'TOKEN'])\n"
        "    os._exit(0)\n" + WRONG),
    "runner_fake_server": (
        "import socket, json, struct\n"
        "def _fake(ns, address):\n"
        "    s = socket.socket(socket.AF_UNIX); s.connect(address)\n"
        "    def send(h):\n"
        "        b = json.dumps(h).encode(); s.sendall(struct.pack('<QQ', len(b), 0) + b)\n"
        "    send({'op': 'ready'})\n"
        "    while True:\n"
        "        send({'op': 'return', 'value': {'t': [0.01, 0.0, 0.0]}, 'changed': [[99, 1]]})\n"
        "import trainart.grading.serve as _s\n"
        "_s.serve = _fake\n" + WRONG),
    "runner_deletes_records": (
        "import os, glob\n"
        "for _p in glob.glob('/grading/**', recursive=True):\n"
        "    try:\n"
        "        os.remove(_p)\n"
        "    except Exception:\n"
        "        pass\n"
        "raise SystemExit\n"),
    # ---- resources
    "resource_memory": "_x = bytearray(40 * 2**30)\n" + WRONG,
    "resource_processes": (
        "import os, time\n"
        "_kids = 0\n"
        "for _ in range(300):\n"
        "    try:\n"
        "        if os.fork() == 0:\n"
        "            time.sleep(60)\n"
        "            os._exit(0)\n"
        "        _kids += 1\n"
        "    except OSError:\n"
        "        break\n" + WRONG),
    "resource_disk_and_output": (
        "for _i in range(40):\n"
        "    try:\n"
        "        open(f'/tmp/fill{_i}', 'wb').write(b'x' * 2**25)\n"
        "    except Exception:\n"
        "        break\n"
        "print('y' * 2**22)\n" + WRONG),
}
ATTACKS["secret_read_sources"] = ATTACKS["secret_read_sources"].replace("SIG_AND", repr(SIG))


def _fingerprint() -> dict:
    paths = sorted((ROOT / "trainart" / "grading").glob("*.py")) + sorted(GRADING.glob("*"))
    paths += sorted((ROOT / "exercises" / "src").glob("*.py"))
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in paths}


TOKEN = f"600.{os.getpid()}{int(time.time()) % 100000}"  # this run's detached sleepers
ATTACKS["runner_detached_processes"] = ATTACKS["runner_detached_processes"].replace("TOKEN",
                                                                                    TOKEN)


def _sandbox_processes() -> list[int]:
    """Processes still running that an attack of this run started."""
    found = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                if TOKEN.encode() in (d / "cmdline").read_bytes():
                    found.append(int(d.name))
            except OSError:
                pass
    return found


@pytest.fixture(scope="module")
def attacked(tmp_path_factory):
    folder = tmp_path_factory.mktemp("attack_batch")
    for key, code in {**HONEST, **ATTACKS}.items():
        nb = samples.reference("optim_adam")
        if code is not None:
            samples.set_solution(nb, "adam_step", code)
        nbformat.write(nb, folder / f"{key}.ipynb")
    nbformat.write(samples.reference("optim_momentum"), folder / "honest_momentum.ipynb")
    before = _fingerprint()
    start = time.monotonic()
    reports = grade.grade([folder], tmp_path_factory.mktemp("attack_reports"),
                          grading_dir=GRADING, jobs=2, cell_timeout=CELL_TIMEOUT,
                          progress=False)
    seconds = time.monotonic() - start
    time.sleep(0.5)
    return {r.student: r for r in reports}, before, seconds, _sandbox_processes()


def _full(r) -> bool:
    return r.status == grade.GRADED and r.max_score > 0 and r.score == r.max_score


@pytest.mark.parametrize("key", sorted(HONEST) + ["honest_momentum"])
def test_honest_work_in_the_same_batch_keeps_full_marks(attacked, key):
    assert _full(attacked[0][key]), attacked[0][key]


@pytest.mark.parametrize("key", sorted(ATTACKS))
def test_every_attack_earns_nothing(attacked, key):
    report = attacked[0][key]
    assert report.status == grade.GRADED, report  # the student's fault: graded, not excused
    assert report.score == 0 and report.max_score == 10, report
    assert report.sandboxed


def test_forged_output_never_reaches_a_report(attacked):
    for key in ("forge_cr_exception", "forge_prints_pass"):
        text = json.dumps([c.message for c in attacked[0][key].checks])
        assert "\r" not in text and "\x1b" not in text


def test_off_limits_reference_fails_and_is_reported(attacked):
    report = attacked[0]["secret_import_reference"]
    assert any("trainart.optim.adam" in f and "off limits" in f for f in report.flags), report
    assert any("off limits" in c.message for c in report.checks), report.checks


def test_the_installation_and_secrets_are_untouched(attacked):
    assert _fingerprint() == attacked[1]


def test_nothing_a_submission_started_outlives_it(attacked):
    assert attacked[3] == [], f"sandbox processes still running: {attacked[3]}"


def test_a_stuck_submission_costs_only_its_own_time(attacked):
    reports, _, seconds, _ = attacked
    stuck = reports["runner_swallows_interrupts"]
    assert any("did not finish" in c.message for c in stuck.checks), stuck.checks
    assert seconds < 240, f"the batch took {seconds:.0f} s"


def test_a_dying_kernel_is_the_students_zero_not_could_not_grade(attacked):
    for key in ("runner_kills_itself_in_check", "runner_deletes_records", "runner_kill_parent"):
        report = attacked[0][key]
        assert report.status == grade.GRADED and report.score == 0, report


# ------------------------------------------------------------------------ malformed files
def _write(folder: Path, name: str, content) -> None:
    path = folder / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content if isinstance(content, str) else json.dumps(content))


@pytest.fixture(scope="module")
def malformed(tmp_path_factory):
    folder = tmp_path_factory.mktemp("malformed")
    good = json.loads(nbformat.writes(samples.reference("optim_clipping")))
    bad_meta = json.loads(json.dumps(good))
    bad_meta["cells"][1]["metadata"] = "a string"
    _write(folder, "meta_string.ipynb", bad_meta)
    bad_source = json.loads(json.dumps(good))
    bad_source["cells"][2]["source"] = 42
    _write(folder, "source_number.ipynb", bad_source)
    top_meta = json.loads(json.dumps(good))
    top_meta["metadata"] = ["not", "a", "dict"]
    _write(folder, "top_metadata_list.ipynb", top_meta)
    cells_dict = json.loads(json.dumps(good))
    cells_dict["cells"] = {"0": "x"}
    _write(folder, "cells_not_a_list.ipynb", cells_dict)
    cell_str = json.loads(json.dumps(good))
    cell_str["cells"][0] = "just a string"
    _write(folder, "cell_is_a_string.ipynb", cell_str)
    _write(folder, "deep.ipynb", '{"cells": ' + "[" * 200_000 + "]" * 200_000 + "}")
    _write(folder, "huge.ipynb", b'{"cells": [], "x": "' + b"a" * (50 * 2**20) + b'"}')
    _write(folder, "empty.ipynb", "")
    _write(folder, "binary.ipynb", os.urandom(4096))
    _write(folder, "nbformat5.ipynb", dict(good, nbformat=5))
    # a valid nbformat 3 notebook of the same (correct) work: upgraded and graded
    v3 = {"nbformat": 3, "nbformat_minor": 0, "metadata": {"name": ""}, "worksheets": [{
        "cells": [{"cell_type": "code", "input": c["source"], "language": "python",
                   "metadata": {}, "outputs": []} if c["cell_type"] == "code" else
                  {"cell_type": "markdown", "source": c["source"], "metadata": {}}
                  for c in good["cells"]], "metadata": {}}]}
    _write(folder, "nbformat3.ipynb", v3)
    _write(folder, "honest.ipynb", good)
    start = time.monotonic()
    reports = grade.grade([folder], tmp_path_factory.mktemp("malformed_reports"),
                          grading_dir=GRADING, jobs=2, cell_timeout=CELL_TIMEOUT,
                          progress=False)
    return {r.student: r for r in reports}, time.monotonic() - start


@pytest.mark.parametrize("key,reason", [
    ("meta_string", "metadata of cell 1"), ("source_number", "source of cell 2"),
    ("top_metadata_list", "the notebook's metadata"), ("cells_not_a_list", "no list of cells"),
    ("cell_is_a_string", "cell 0 is a str"), ("deep", "nests its JSON"),
    ("huge", "MB"), ("empty", "not valid JSON"), ("binary", "not UTF-8"),
    ("nbformat5", "nbformat 5"),
])
def test_malformed_files_are_rejected_with_a_reason(malformed, key, reason):
    report = malformed[0][key]
    assert report.status == grade.REJECTED and report.score == 0, report
    assert reason in report.messages[0], report.messages


def test_a_batch_of_bad_files_completes_with_a_row_each(malformed):
    reports, seconds = malformed
    assert len(reports) == 12
    assert _full(reports["honest"]) and _full(reports["nbformat3"]), reports["nbformat3"]
    assert seconds < 120


# ----------------------------------------------------------------------------- the canary
def test_could_not_grade_only_when_the_canary_fails(tmp_path):
    """A grading machine that cannot run the exercise's setup fails the reference too: then,
    and only then, the batch says "could not grade"."""
    grading = tmp_path / "exercises" / "grading"
    grading.mkdir(parents=True)
    (tmp_path / "exercises" / "src").symlink_to(ROOT / "exercises" / "src")
    canonical = nbformat.read(GRADING / "optim_clipping.ipynb", as_version=4)
    for cell in canonical.cells:
        if cell.metadata.get("trainart", {}).get("role") == "setup":
            cell.source = "import numpy_is_not_installed_here\n" + cell.source
    nbformat.write(canonical, grading / "optim_clipping.ipynb")
    subs = tmp_path / "subs"
    subs.mkdir()
    nbformat.write(samples.reference("optim_clipping"), subs / "good.ipynb")
    nbformat.write(samples.student("optim_clipping"), subs / "stub.ipynb")
    reports = {r.student: r for r in grade.grade([subs], tmp_path / "out", grading_dir=grading,
                                                  jobs=2, cell_timeout=CELL_TIMEOUT,
                                                  progress=False)}
    for report in reports.values():
        assert report.status == grade.NOT_GRADED, report
        assert "Could not grade" in report.messages[0]
    assert "could not grade" in (tmp_path / "out" / "class.csv").read_text()


def test_refuses_to_grade_for_credit_without_a_sandbox(tmp_path, monkeypatch):
    monkeypatch.setattr(sandbox, "available", lambda: (False, "bwrap is missing"))
    with pytest.raises(grade.SandboxUnavailable, match="refusing to grade for credit"):
        grade.grade([tmp_path], tmp_path / "out", grading_dir=GRADING, progress=False)
