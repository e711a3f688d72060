"""One bubblewrap sandbox per submission.

`bubblewrap <https://github.com/containers/bubblewrap>`_ (Debian's ``bubblewrap``, the
sandbox Flatpak uses) builds each submission a fresh root: the system's ``/usr``, Python and
the virtual environment read-only, ``trainart`` read-only with the exercise's off-limits
modules replaced by stubs and every ``__pycache__`` hidden, an empty ``/tmp``, its own
``/grading`` folder (the notebook it runs and the grader's socket), no network, and its own
PID, IPC and UTS namespaces (``--die-with-parent``: when the grader goes, everything the
submission started goes with it). Inside, it runs as an unprivileged user of its own (one uid
per parallel slot) with no capabilities, under resource limits: address space, processes,
file size, open files, and the grader's wall clock.

Where bubblewrap is missing or does not work (macOS, Windows, a locked-down container)
:func:`available` says why; ``trainart grade`` then refuses to grade for credit unless told
``--unsafe-no-sandbox``.
"""

from __future__ import annotations

import ast
import functools
import os
import resource
import shutil
import subprocess
import sys
import sysconfig
from dataclasses import dataclass
from pathlib import Path

import trainart

from .lazy import AST_LOCK

PACKAGE = Path(trainart.__file__).resolve().parent
MOUNT = "/grading"
BASE_UID = 61000
TMPFS_BYTES = 256 * 2**20  # each of /tmp and /grading inside
# jsonschema imports rfc3987_syntax, if present, to check "iri" strings: building its grammar
# takes 1.4 s, in every sandbox (nbval loads nbformat, which loads jsonschema). Hidden inside.
SLOW_IMPORTS = ("rfc3987_syntax",)


@dataclass
class Limits:
    memory: int = 6 * 2**30  # address space per process, bytes (torch maps a lot)
    processes: int = 64  # per sandbox (its own uid)
    file_size: int = 64 * 2**20  # largest file a submission may write
    open_files: int = 256


@functools.lru_cache(maxsize=1)
def available() -> tuple[bool, str]:
    """Whether bubblewrap runs here, and if not, why."""
    exe = shutil.which("bwrap")
    if exe is None:
        return False, ("bubblewrap (`bwrap`) is not installed; on Debian/Ubuntu: "
                       "apt-get install bubblewrap")
    if not sys.platform.startswith("linux"):
        return False, "bubblewrap needs Linux"
    try:
        run = subprocess.run(command(["true"], chan=None, hide=[], slot=0), capture_output=True,
                             text=True, timeout=30, preexec_fn=_limiter(Limits()))
    except (OSError, subprocess.TimeoutExpired) as e:
        return False, f"bubblewrap did not start: {e}"
    if run.returncode != 0:
        return False, f"bubblewrap does not work here: {run.stderr.strip()[:300]}"
    return True, exe


def _limiter(limits: Limits):
    def apply():
        for what, value in ((resource.RLIMIT_AS, limits.memory),
                            (resource.RLIMIT_NPROC, limits.processes),
                            (resource.RLIMIT_FSIZE, limits.file_size),
                            (resource.RLIMIT_NOFILE, limits.open_files),
                            (resource.RLIMIT_CORE, 0)):
            resource.setrlimit(what, (value, value))
    return apply


def limiter(limits: Limits):
    """A ``preexec_fn`` that sets ``limits`` on the sandbox (inherited by all it starts)."""
    return _limiter(limits)


def _top_level_names(path: Path) -> tuple[list[str], list[str] | None]:
    """The names a module defines at its top level, and its ``__all__`` if it is a literal."""
    try:
        source = path.read_text(encoding="utf-8")
        with AST_LOCK:
            tree = ast.parse(source)
    except (OSError, SyntaxError):
        return [], None
    names, exported = [], None
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "__all__"
                                                for t in node.targets):
            try:
                exported = [str(n) for n in ast.literal_eval(node.value)]
            except ValueError:
                exported = None
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.append(node.name)
        elif isinstance(node, ast.Assign):
            names += [t.id for t in node.targets if isinstance(t, ast.Name)]
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.append(node.target.id)
    names = [n for n in names if n != "__all__"]
    return names + [n for n in exported or [] if n not in names], exported


def module_file(module: str) -> Path:
    """The file of ``trainart.<...>`` module ``module`` (a package's ``__init__.py``)."""
    parts = module.split(".")
    if parts[0] != "trainart" or len(parts) < 2:
        raise ValueError(f"off-limits modules must be parts of trainart, got {module!r}")
    base = PACKAGE.joinpath(*parts[1:])
    if base.with_suffix(".py").is_file():
        return base.with_suffix(".py")
    if (base / "__init__.py").is_file():
        return base / "__init__.py"
    raise ValueError(f"no module {module!r} in {PACKAGE}")


def stub_source(module: str, exercise: str) -> str:
    """A module that defines the real one's names, each failing with a clear message when
    used (so that the rest of trainart, which may import it, still imports)."""
    names, exported = _top_level_names(module_file(module))
    message = (f"{module} is off limits while the exercise '{exercise}' is graded: it holds "
               f"the reference solution. Write the code yourself.")
    lines = [f'"""Off limits while {exercise} is graded."""', "",
             f"_MESSAGE = {message!r}", "",
             "def _tried(name):",
             "    try:",
             "        from trainart.grading.wire import send_note",
             f"        send_note({{'kind': 'off-limits', 'name': {module!r} + '.' + name}})",
             "    except Exception:",
             "        pass",
             "    raise ImportError(_MESSAGE)", "",
             "class _OffLimitsMeta(type):",
             "    def __call__(cls, *args, **kwargs):",
             "        _tried(cls.__name__)", "",
             "    def __getattr__(cls, attr):",
             "        if attr.startswith('__'):",
             "            raise AttributeError(attr)",
             "        _tried(cls.__name__)", ""]
    for name in names:
        lines.append(f"{name} = _OffLimitsMeta({name!r}, (), {{}})")
    if exported is not None:
        lines.append(f"__all__ = {exported!r}")
    lines += ["", "def __getattr__(name):", "    if name.startswith('__'):",
              "        raise AttributeError(name)", "    _tried(name)", ""]
    return "\n".join(lines)


def _root_binds() -> list[str]:
    args = ["--ro-bind", "/usr", "/usr"]
    for top in ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
        if os.path.islink(top):
            args += ["--symlink", os.readlink(top), top]
        elif os.path.isdir(top):
            args += ["--ro-bind", top, top]
    for etc in ("/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/alternatives",
                "/etc/localtime", "/etc/passwd", "/etc/group", "/etc/nsswitch.conf",
                "/etc/fonts"):
        if os.path.exists(etc):
            args += ["--ro-bind", etc, etc]
    return args


def _dirs_to(path: Path, made: set) -> list[str]:
    """bwrap makes missing parents mode 0700; make them 0755 first so the sandbox's user
    can walk through them."""
    args = []
    for parent in reversed(path.parents):
        p = str(parent)
        if p == "/" or p in made or p.split("/")[1] in ("usr", "bin", "lib", "lib64", "sbin"):
            continue
        made.add(p)
        args += ["--perms", "0755", "--dir", p]
    return args


def python_roots() -> list[Path]:
    """What the kernel needs besides /usr: the base Python, the virtual environment."""
    roots = []
    for p in {sys.base_prefix, sys.prefix, sysconfig.get_paths()["purelib"]}:
        path = Path(p).resolve()
        if not str(path).startswith("/usr/") and not any(
                path.is_relative_to(r) for r in roots):
            roots = [r for r in roots if not r.is_relative_to(path)] + [path]
    return sorted(roots)


def command(inner: list[str], *, chan: Path | None, hide: list[tuple[Path, Path]],
            slot: int, env: dict | None = None) -> list[str]:
    """The bwrap command line that runs ``inner`` in a fresh sandbox.

    ``/grading`` (the working directory) and ``/tmp`` are small tmpfs of the sandbox's own;
    from ``chan`` only ``submission.ipynb`` and ``pytest.ini`` (read-only) and the folder
    ``sock`` holding the grader's socket (read-only: connecting needs no write) are bound
    in, so nothing a submission writes reaches the grader's disk. ``hide`` holds
    ``(stub file, file of trainart)`` pairs: the stub replaces the file inside.
    """
    made: set = set()
    args = ["bwrap", "--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts",
            "--unshare-cgroup-try", "--die-with-parent", "--new-session"]
    root = os.geteuid() == 0
    if root:  # drop to an unprivileged uid of its own inside (setpriv below)
        args += ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
    else:
        args += ["--unshare-user"]
    args += _root_binds()
    # /tmp first: the environment or the checkout may live below it (a clone in /tmp), and
    # a later bind shows through an earlier tmpfs, never the other way round.
    args += ["--proc", "/proc", "--dev", "/dev",
             "--size", str(TMPFS_BYTES), "--perms", "1777", "--tmpfs", "/tmp"]
    for path in python_roots():
        args += _dirs_to(path, made) + ["--ro-bind", str(path), str(path)]
    if not any(PACKAGE.is_relative_to(r) for r in python_roots()):
        args += _dirs_to(PACKAGE, made) + ["--ro-bind", str(PACKAGE), str(PACKAGE)]
    for slow in SLOW_IMPORTS:  # optional imports that cost seconds per sandbox, unused here
        path = Path(sysconfig.get_paths()["purelib"]) / slow
        if path.is_dir():
            args += ["--tmpfs", str(path)]
    for cache in sorted(PACKAGE.rglob("__pycache__")):
        args += ["--tmpfs", str(cache)]  # compiled copies of hidden modules
    for stub, target in hide:
        args += ["--ro-bind", str(stub), str(target)]
    if chan is not None:
        args += ["--size", str(TMPFS_BYTES), "--perms", "1777", "--tmpfs", MOUNT]
        for name in ("submission.ipynb", "pytest.ini"):
            args += ["--ro-bind", str(chan / name), f"{MOUNT}/{name}"]
        args += ["--ro-bind", str(chan / "sock"), f"{MOUNT}/sock", "--chdir", MOUNT]
    else:
        args += ["--chdir", "/tmp"]
    args += ["--clearenv"]
    base_env = {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "HOME": "/tmp",
                "LANG": "C.UTF-8", "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
                "MKL_NUM_THREADS": "1", "PYTHONHASHSEED": "0", "JUPYTER_PLATFORM_DIRS": "1",
                "PYTHONDONTWRITEBYTECODE": "1", "MPLBACKEND": "Agg",
                "MPLCONFIGDIR": "/tmp/matplotlib", "PYDEVD_DISABLE_FILE_VALIDATION": "1",
                "TMPDIR": "/tmp"}
    for key in ("OPENBLAS_CORETYPE", "ATEN_CPU_CAPABILITY"):
        if key in os.environ:
            base_env[key] = os.environ[key]
    for key, value in {**base_env, **(env or {})}.items():
        args += ["--setenv", key, value]
    if root:
        uid = str(slot_uid(slot))
        args += ["--", "setpriv", "--reuid", uid, "--regid", uid, "--clear-groups",
                 "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs", "--"]
    else:
        args += ["--"]
    return args + inner


# ------------------------------------------------- where bubblewrap cannot run: a user of its own
def user_isolation_available() -> tuple[bool, str]:
    """Whether the weaker isolation works here: the grader runs as root and can drop each
    submission to an unprivileged uid of its own with ``setpriv`` (util-linux)."""
    if not sys.platform.startswith("linux"):
        return False, "needs Linux"
    if os.geteuid() != 0:
        return False, "the grader must run as root to drop a submission to a uid of its own"
    if shutil.which("setpriv") is None:
        return False, "setpriv (util-linux) is not installed"
    uid = str(slot_uid(0))
    try:
        run = subprocess.run(["setpriv", "--reuid", uid, "--regid", uid, "--clear-groups", "--",
                              sys.executable, "-c", "import trainart.grading.serve"],
                             capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as e:
        return False, f"setpriv did not run: {e}"
    if run.returncode != 0:
        return False, (f"an unprivileged user cannot run {sys.executable} with trainart (is "
                       f"a folder above them private, like /root?): "
                       f"{run.stderr.strip()[-300:]}")
    return True, "setpriv"


def make_view(folder: Path, off_limits: list[str], exercise: str) -> Path:
    """A copy of trainart for one submission, its off-limits modules replaced by stubs, in
    ``folder`` (put first on the submission's ``PYTHONPATH``); returns ``folder``."""
    target = folder / "trainart"
    shutil.copytree(PACKAGE, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for module in off_limits:
        (target / module_file(module).relative_to(PACKAGE)).write_text(
            stub_source(module, exercise), encoding="utf-8")
    for path in [folder, *folder.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    os.chown(folder, 0, 0)
    return folder


def user_command(inner: list[str], *, view: Path, home: Path, slot: int,
                 env: dict | None = None) -> list[str]:
    """The command that runs ``inner`` as the slot's unprivileged uid, without capabilities,
    with a clean environment whose ``PYTHONPATH`` starts with ``view``.

    The weaker of the two isolations, for containers that give one container per submission
    and no user namespaces (Gradescope's): the submission cannot write what the grader owns,
    signal the grader or read what is readable by root only (the hidden checks, the real
    trainart of an installation that made it so); it shares the network and the file system's
    world-readable parts. ``trainart grade`` uses it only when told (``user_isolation``)."""
    uid = str(slot_uid(slot))
    base_env = {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "HOME": str(home),
                "LANG": "C.UTF-8", "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
                "MKL_NUM_THREADS": "1", "PYTHONHASHSEED": "0", "JUPYTER_PLATFORM_DIRS": "1",
                "JUPYTER_RUNTIME_DIR": str(home / "runtime"), "IPYTHONDIR": str(home / "ipython"),
                "PYTHONDONTWRITEBYTECODE": "1", "MPLBACKEND": "Agg",
                "MPLCONFIGDIR": str(home / "matplotlib"), "PYDEVD_DISABLE_FILE_VALIDATION": "1",
                "TMPDIR": str(home), "PYTHONPATH": str(view)}
    for key in ("OPENBLAS_CORETYPE", "ATEN_CPU_CAPABILITY"):
        if key in os.environ:
            base_env[key] = os.environ[key]
    pairs = [f"{k}={v}" for k, v in {**base_env, **(env or {})}.items()]
    return (["setpriv", "--reuid", uid, "--regid", uid, "--clear-groups", "--inh-caps=-all",
             "--bounding-set=-all", "--no-new-privs", "--", "env", "-i", *pairs] + inner)


def kill_user(slot: int) -> None:
    """Kill every process of the slot's uid (what a submission started, even detached)."""
    uid = str(slot_uid(slot))
    subprocess.run(["setpriv", "--reuid", uid, "--regid", uid, "--clear-groups", "--",
                    "kill", "-9", "--", "-1"], capture_output=True, timeout=30)


def slot_uid(slot: int) -> int:
    """The uid of parallel slot ``slot`` of this grader: its own range per grading process, so
    that two batches graded at once never share a uid (RLIMIT_NPROC counts per uid)."""
    return BASE_UID + (os.getpid() % 2000) * 32 + slot % 32
