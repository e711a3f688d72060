"""The setup cells' heavy imports, made lazy in the grading kernel.

An exercise's setup cells run twice while it is graded: in the grader, where the check cells
use them, and in the submission's kernel, so that the student's code sees the names it saw in
Jupyter. In the kernel most of them are never used: ``import torch`` there costs 1.3 s of CPU
(a third of the exercises' setup imports it, for the checks' references), ``scipy.stats``
0.4 s, which is most of what a submission's grading costs beyond starting the kernel.

:func:`lazy_setup` rewrites the top-level ``import``/``from ... import`` statements of such
modules in a setup cell into placeholders that import the real thing the first time any
attribute is looked up or the object is called. A solution that uses ``torch`` gets the real
module at its first ``torch.<name>``; one that does not never pays for it. Only the kernel's
copy is rewritten; the grader runs the setup cells as written.
"""

from __future__ import annotations

import ast
import importlib
import threading
import types

# CPython 3.11's AST constructor keeps its recursion depth per interpreter, not per thread:
# two threads parsing or compiling at once can fail with "SystemError: AST constructor
# recursion depth mismatch" (seen grading 2 submissions at once). Every parse and compile
# of the grader's threads holds this lock.
AST_LOCK = threading.Lock()

HEAVY = ("torch", "scipy")  # top-level packages whose import is deferred


def _load(module: str, attribute: str | None):
    real = importlib.import_module(module)
    if attribute is None:
        return real
    try:
        return getattr(real, attribute)
    except AttributeError:  # a submodule not imported by its package: `from a import sub`
        return importlib.import_module(f"{module}.{attribute}")


class LazyModule(types.ModuleType):
    """Stands for module ``name`` until an attribute is looked up, then is the real one.
    ``statement``: the dotted name the import named (``import a.b`` binds ``a`` but must
    import ``a.b`` too)."""

    def __init__(self, name: str, statement: str | None = None):
        super().__init__(name)
        self._trainart_imports = statement or name

    def _real(self):
        importlib.import_module(self._trainart_imports)
        return importlib.import_module(self.__name__)

    def __getattr__(self, attribute):
        if attribute.startswith("_trainart"):
            raise AttributeError(attribute)
        return getattr(self._real(), attribute)

    def __dir__(self):
        return dir(self._real())

    def __repr__(self):
        return repr(self._real())


class LazyAttribute:
    """Stands for ``from module import attribute`` until called or looked into."""

    def __init__(self, module: str, attribute: str):
        self._where = (module, attribute)

    def __call__(self, *args, **kwargs):
        return _load(*self._where)(*args, **kwargs)

    def __getattr__(self, name):
        return getattr(_load(*self._where), name)

    def __repr__(self):
        return repr(_load(*self._where))


def _heavy(module: str | None) -> bool:
    return module is not None and module.split(".")[0] in HEAVY


def _placeholders(node: ast.stmt) -> list[str] | None:
    """The assignments that replace one import statement, or None to keep it."""
    if isinstance(node, ast.Import) and all(_heavy(a.name) for a in node.names):
        lines = []
        for alias in node.names:
            if alias.asname:  # import a.b.c as x: x is a.b.c
                lines.append(f"{alias.asname} = _trainart_lazy.LazyModule({alias.name!r})")
            else:  # import a.b.c: binds a
                top = alias.name.split(".")[0]
                extra = "" if top == alias.name else f", {alias.name!r}"
                lines.append(f"{top} = _trainart_lazy.LazyModule({top!r}{extra})")
        return lines
    if (isinstance(node, ast.ImportFrom) and node.level == 0 and _heavy(node.module)
            and all(a.name != "*" for a in node.names)):
        return [f"{a.asname or a.name} = _trainart_lazy.LazyAttribute({node.module!r}, "
                f"{a.name!r})" for a in node.names]
    return None


def lazy_setup(source: str) -> str:
    """``source`` with its top-level imports of :data:`HEAVY` packages deferred."""
    try:
        with AST_LOCK:
            tree = ast.parse(source)
    except SyntaxError:
        return source
    lines = source.splitlines()
    changed = False
    for node in reversed(tree.body):  # from the end, so earlier line numbers stay valid
        new = _placeholders(node)
        line = lines[node.lineno - 1]
        if (new is None or node.lineno != node.end_lineno or node.col_offset
                or line[node.end_col_offset:].strip()):
            continue  # kept: not heavy, or sharing its line (`import torch; x = 1`)
        lines[node.lineno - 1] = "; ".join(new)
        changed = True
    if not changed:
        return source
    return "import trainart.grading.lazy as _trainart_lazy\n" + "\n".join(lines) + "\n"
