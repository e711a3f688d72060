"""Lazy imports: the NumPy parts of trainart load torch, SciPy and matplotlib only when used.

``torch = lazy_import("torch")`` at the top of a module binds a stand-in; the real module is
imported on the first attribute access (``torch.zeros``, ``nn.Module``, ``plt.subplots``), so
``import trainart.newton`` stays fast and free of torch, and function bodies read as usual.

On that first access the stand-in also puts the real module in its place in the globals of
the module that created it (what the ``import`` statement would have bound), so later
accesses are plain module attribute lookups, with no overhead, and a test that patches
``scipy.linalg.cho_factor`` is seen. A stand-in held elsewhere keeps forwarding every access
to the real module (nothing is cached on it). An attribute that is a submodule not imported
yet (``torch.func``) is imported on access, as ``import torch.func`` would.

Until a stand-in is used, its module is not in ``sys.modules``; ``tests/test_packaging.py``
checks that importing the NumPy parts loads none of torch, SciPy and matplotlib.
"""

from __future__ import annotations

import importlib
import sys

__all__ = ["lazy_import"]


class _LazyModule:
    """Stands for the module ``name`` and imports it on first attribute access."""

    __slots__ = ("_lazy_name", "_lazy_globals")

    def __init__(self, name: str, owner_globals: dict | None):
        object.__setattr__(self, "_lazy_name", name)
        object.__setattr__(self, "_lazy_globals", owner_globals)

    def _lazy_load(self):
        name = object.__getattribute__(self, "_lazy_name")
        module = importlib.import_module(name)
        owner = object.__getattribute__(self, "_lazy_globals")
        if owner is not None:  # rebind the owner's name(s) to the real module, once
            for key, value in list(owner.items()):
                if value is self:
                    owner[key] = module
            object.__setattr__(self, "_lazy_globals", None)
        return module

    def __getattr__(self, attr: str):
        module = self._lazy_load()
        try:
            return getattr(module, attr)
        except AttributeError:
            if attr.startswith("__"):
                raise
            try:  # a submodule not imported yet, as `import torch.func` would load it
                return importlib.import_module(f"{module.__name__}.{attr}")
            except ModuleNotFoundError:
                pass
            raise

    def __setattr__(self, attr: str, value):
        name = object.__getattribute__(self, "_lazy_name")
        raise AttributeError(f"lazy module {name!r}: set attributes on the real module, "
                             f"not on its lazy stand-in")

    def __dir__(self):
        return dir(self._lazy_load())

    def __repr__(self) -> str:
        name = object.__getattribute__(self, "_lazy_name")
        state = "loaded" if name in sys.modules else "not loaded"
        return f"<lazy module {name!r} ({state})>"


def lazy_import(name: str) -> _LazyModule:
    """A stand-in for ``import name`` (or ``from parent import child`` for a dotted name) that
    imports the module on first attribute access, then replaces itself with the module in
    the globals of the caller (the module whose top level called ``lazy_import``).

    Args:
        name: the absolute module name, e.g. ``"torch"``, ``"torch.nn.functional"``,
            ``"matplotlib.pyplot"``.

    Returns:
        The stand-in; ``stand_in.attr`` is ``importlib.import_module(name).attr``.
    """
    if not isinstance(name, str) or not name:
        raise ValueError(f"lazy_import: name must be a non-empty module name, got {name!r}")
    return _LazyModule(name, sys._getframe(1).f_globals)
