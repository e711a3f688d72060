"""The package stands on its own: what `pip install .` installs, declares and imports.

* Importing the NumPy parts loads none of torch, SciPy, matplotlib, Optuna, scikit-learn
  (checked in a fresh interpreter), and the lazy stand-ins of ``trainart._lazy`` load them on
  first use.
* The wheel, built from a copy of the sources, declares (``Requires-Dist``) every third-party
  module that its code imports anywhere (a static audit over the files in the wheel), with
  lower bounds that requirements.txt's pins satisfy.
* Installed into a fresh virtual environment that holds only the declared dependencies, the
  README's example runs from outside the repository, and so does ``trainart --help``.

The fresh environment is made without downloading anything: ``python -m venv --without-pip``,
the wheel installed with this environment's pip (``pip --python``, ``--no-deps --no-index``),
and the dependencies linked from this environment: the closure of the requirements, walked
through the installed distributions' metadata, each distribution's files symlinked into one
folder that a ``.pth`` file puts on the new environment's path. A module that the wheel
imports but does not declare (or that a declared package does not pull in) is missing there.
"""

from __future__ import annotations

import ast
import functools
import importlib.metadata as md
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]

NUMPY_PARTS = ["optim", "norm", "init", "dropout", "activations", "nn", "surfaces",
               "regularize", "tuning", "newton", "diagnostics", "layers", "losses", "training"]
HEAVY = ["torch", "scipy", "matplotlib", "optuna", "sklearn"]


def _run(cmd, *, cwd, env=None, timeout=120) -> subprocess.CompletedProcess:
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout, check=False)
    assert proc.returncode == 0, (cmd, proc.stdout[-3000:], proc.stderr[-3000:])
    return proc


# ---------------------------------------------------------------------- the import boundary

_BOUNDARY = """
import json, sys
HEAVY = {heavy!r}
loaded = {{}}
import trainart
loaded["trainart"] = [m for m in HEAVY if m in sys.modules]
for part in {parts!r}:
    __import__("trainart." + part)
    loaded[part] = [m for m in HEAVY if m in sys.modules]
import numpy as np
import trainart.newton, trainart.regularize
trainart.newton.newton_step(np.ones(2), 2.0 * np.eye(2))   # needs scipy.linalg
loaded["after newton_step"] = [m for m in HEAVY if m in sys.modules]
loaded["rebound"] = type(sys.modules["trainart.newton.newton"].scipy).__name__
trainart.regularize.SharedTrunk                             # an nn.Module subclass
loaded["after SharedTrunk"] = [m for m in HEAVY if m in sys.modules]
print(json.dumps(loaded))
"""


def test_numpy_parts_load_no_torch_scipy_or_matplotlib():
    """A fresh interpreter imports trainart and each NumPy part in turn: none loads torch,
    SciPy, matplotlib, Optuna or scikit-learn; the first call that needs one loads it."""
    code = _BOUNDARY.format(heavy=HEAVY, parts=NUMPY_PARTS)
    out = _run([sys.executable, "-c", code], cwd=ROOT).stdout
    loaded = json.loads(out.strip().splitlines()[-1])
    for part in ["trainart", *NUMPY_PARTS]:
        assert loaded[part] == [], f"import trainart.{part} loaded {loaded[part]}"
    assert loaded["after newton_step"] == ["scipy"]
    assert loaded["rebound"] == "module"
    assert "torch" in loaded["after SharedTrunk"]


def test_lazy_stand_in_forwards_to_the_real_module(monkeypatch):
    import scipy.linalg

    from trainart._lazy import lazy_import
    from trainart.regularize import penalties

    sp = lazy_import("scipy")
    assert sp.linalg is scipy.linalg  # a submodule, loaded as `import scipy.linalg` would
    monkeypatch.setattr(scipy.linalg, "cho_factor", "patched")
    assert sp.linalg.cho_factor == "patched"  # nothing cached on the stand-in
    assert "scipy" in repr(sp) and "loaded" in repr(sp)
    with pytest.raises(AttributeError):
        sp.no_such_attribute_here  # noqa: B018
    with pytest.raises(AttributeError, match="lazy module 'scipy'"):
        sp.linalg_copy = 1
    with pytest.raises(ValueError, match="lazy_import: name"):
        lazy_import("")
    # at a module's top level, the first use puts the real module in the stand-in's place
    namespace = {}
    exec("from trainart._lazy import lazy_import\nj = lazy_import('json')\n"
         "def dumps(x):\n    return j.dumps(x)\n", namespace)
    assert type(namespace["j"]).__name__ == "_LazyModule"
    assert namespace["dumps"]([1]) == "[1]" and namespace["j"] is json
    import trainart.regularize as reg
    from trainart.regularize._shared_trunk import SharedTrunk

    assert reg.SharedTrunk is penalties.SharedTrunk is SharedTrunk
    assert "SharedTrunk" in dir(reg) and "SharedTrunk" in dir(penalties)
    assert all(hasattr(reg, name) for name in reg.__all__)
    with pytest.raises(AttributeError):
        reg.NoSuchThing  # noqa: B018


# ---------------------------------------------------------------------- the wheel

@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The wheel, built from a copy of pyproject.toml, README.md and trainart/ (so the build
    writes nothing into the checkout), with this environment's setuptools, offline."""
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, src / name)
    shutil.copytree(ROOT / "trainart", src / "trainart",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    _run([sys.executable, "-m", "pip", "wheel", str(src), "--no-deps", "--no-build-isolation",
          "--no-index", "--quiet", "-w", str(tmp / "dist")], cwd=tmp, timeout=300)
    (whl,) = (tmp / "dist").glob("trainart-*.whl")
    return whl


def _metadata(whl: Path):
    with zipfile.ZipFile(whl) as z:
        (name,) = [n for n in z.namelist() if n.endswith(".dist-info/METADATA")]
        meta = Parser().parsestr(z.read(name).decode())
    extras = meta.get_all("Provides-Extra") or []
    reqs = [Requirement(r) for r in meta.get_all("Requires-Dist") or []]
    base = [r for r in reqs if r.marker is None]
    by_extra = {e: [r for r in reqs if r.marker is not None and r.marker.evaluate({"extra": e})]
                for e in extras}
    return base, by_extra


def _declared(reqs) -> set[str]:
    return {canonicalize_name(r.name) for r in reqs}


def _imports(tree: ast.AST) -> set[str]:
    """Top-level names of the modules a file imports: import statements anywhere (inside
    functions too) and constant strings given to lazy_import, import_module, resources.files."""
    found = set()
    for n in ast.walk(tree):
        if isinstance(n, ast.Import):
            found |= {a.name for a in n.names}
        elif isinstance(n, ast.ImportFrom) and n.level == 0:
            found.add(n.module)
        elif (isinstance(n, ast.Call) and n.args and isinstance(n.args[0], ast.Constant)
              and isinstance(n.args[0].value, str)):
            fn = n.func.attr if isinstance(n.func, ast.Attribute) else getattr(n.func, "id", "")
            if fn in ("lazy_import", "import_module", "files"):
                found.add(n.args[0].value)
    return {m.split(".")[0] for m in found}


@functools.cache
def _owners() -> dict[str, list[str]]:
    return md.packages_distributions()


def _third_party(modules: set[str]) -> dict[str, set[str]]:
    """{import name: its distributions (canonical names)}, without stdlib and trainart."""
    owners = _owners()
    out = {}
    for m in modules - set(sys.stdlib_module_names) - {"trainart", "__future__"}:
        assert m in owners, f"{m} is imported by trainart but installed by no distribution here"
        out[m] = {canonicalize_name(d) for d in owners[m]}
    return out


def test_wheel_declares_every_import(wheel):
    base, by_extra = _metadata(wheel)
    assert _declared(base) >= {"numpy", "scipy", "matplotlib"}
    assert [f"{r.name}{r.specifier}" for r in by_extra["torch"]] == ["torch==2.13.0"]  # pinned
    assert set(by_extra) >= {"torch", "data", "tuning", "grading", "all"}
    (everything,) = by_extra["all"]
    assert everything.name == "trainart" and everything.extras == set(by_extra) - {"all"}
    declared = _declared(base).union(*(_declared(v) for v in by_extra.values()))
    grading = _declared(base) | _declared(by_extra["grading"])

    with zipfile.ZipFile(wheel) as z:
        files = {n: z.read(n).decode() for n in z.namelist() if n.endswith(".py")}
    source = {p.relative_to(ROOT).as_posix() for p in (ROOT / "trainart").rglob("*.py")}
    assert set(files) == source, "the wheel's modules differ from trainart/"
    for name, text in sorted(files.items()):
        for module, dists in _third_party(_imports(ast.parse(text))).items():
            assert dists & declared, f"{name} imports {module} ({dists}): not declared"
            if name.startswith("trainart/grading/"):
                assert dists & grading, f"{name} imports {module}: not in trainart[grading]"
        # module-level imports of the NumPy parts are NumPy only (the rest is lazy)
        if not name.startswith(("trainart/grading/", "trainart/regularize/_shared_trunk")):
            top = {n for n in ast.parse(text).body if isinstance(n, (ast.Import, ast.ImportFrom))}
            for module, dists in _third_party(_imports(ast.Module(list(top), []))).items():
                assert dists <= _declared(base), f"{name} imports {module} at module level"

    # requirements.txt's pins (the project's own environment) satisfy every bound
    pins = {}
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if "==" in line:
            name, version = line.split("==")
            pins[canonicalize_name(name)] = version
    for r in base + [r for v in by_extra.values() for r in v if r.name != "trainart"]:
        name = canonicalize_name(r.name)
        if name in pins:
            assert r.specifier.contains(pins[name], prereleases=True), (str(r), pins[name])


def _closure(requirements) -> dict[str, md.Distribution]:
    """The installed distributions that ``requirements`` need, transitively (markers and
    extras evaluated), checking that each installed version satisfies its requirement."""
    seen: dict[str, md.Distribution] = {}
    stack = list(requirements)
    while stack:
        req = stack.pop()
        name = canonicalize_name(req.name)
        dist = md.distribution(req.name)
        assert req.specifier.contains(dist.version, prereleases=True), (str(req), dist.version)
        if name in seen:
            continue
        seen[name] = dist
        for line in dist.requires or []:
            sub = Requirement(line)
            if sub.marker is None or any(sub.marker.evaluate({"extra": e})
                                         for e in {"", *req.extras}):
                stack.append(sub)
    return seen


def _link(dists, into: Path) -> None:
    """Symlink every top-level file or folder of the distributions into ``into``."""
    for dist in dists:
        assert dist.files is not None, f"{dist.metadata['Name']} has no RECORD"
        for top in {f.parts[0] for f in dist.files}:
            if top in ("..", "__pycache__") or (into / top).exists():
                continue
            (into / top).symlink_to(Path(dist.locate_file(top)).resolve())


def test_wheel_runs_the_readme_example_in_a_fresh_venv(wheel, tmp_path):
    base, by_extra = _metadata(wheel)
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], cwd=tmp_path)
    py = venv / "bin" / "python"
    _run([sys.executable, "-m", "pip", "--python", str(py), "install", "--no-deps",
          "--no-index", "--quiet", str(wheel)], cwd=tmp_path, timeout=300)
    site = Path(_run([str(py), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                     cwd=tmp_path).stdout.strip())
    deps = tmp_path / "deps"
    deps.mkdir()
    _link(_closure(base).values(), deps)
    (site / "declared_dependencies.pth").write_text(f"{deps}\n")

    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env.update(PYTHONNOUSERSITE="1", MPLCONFIGDIR=str(tmp_path / "mpl"),
               OMP_NUM_THREADS="1", PATH=f"{venv / 'bin'}:{env.get('PATH', '')}")
    work = tmp_path / "elsewhere"  # not the checkout: its trainart/ must not be imported
    work.mkdir()
    readme = (ROOT / "README.md").read_text()
    install = readme[readme.index("### Installing the package"):]
    example = re.search(r"```python\n(.*?)```", install, re.S).group(1)
    expected = re.search(r"print\(.*\)  # (.*)$", example, re.M).group(1)
    check = example + (
        "\nimport importlib.util, sys, trainart\n"
        "print(trainart.__file__)\n"
        "print([m for m in ('torch', 'optuna', 'sklearn', 'nbformat')"
        " if importlib.util.find_spec(m)])\n")
    out = _run([str(py), "-c", check], cwd=work, env=env).stdout.splitlines()
    assert out[0] == expected
    assert Path(out[1]).is_relative_to(site), out[1]  # the wheel's copy, not the checkout's
    assert out[2] == "[]"  # nothing undeclared is importable: the environment is clean

    # the command installed by the wheel; grading's modules import with trainart[grading]
    assert "build-exercises" in _run(["trainart", "--help"], cwd=work, env=env).stdout
    _link(_closure(by_extra["grading"]).values(), deps)
    _run([str(py), "-c", "import trainart.grading.build, trainart.grading.grade, "
          "trainart.grading.plugin, trainart.grading.assemble, trainart.grading.samples, "
          "trainart.grading.cli, nbclient, xdist, ipykernel, tqdm"], cwd=work, env=env)
