"""Checks of what the user's callables return (``fun``, ``grad``, ``hess``, ``hessp``,
``fun_and_grad``), so that a wrong return value fails with a message naming the optimizer,
the callable, what was expected and what came, instead of a NumPy error from deep inside.

Argument checks (numbers, integers, arrays) use :mod:`trainart._checks`; these helpers only
look at return values, whose shape depends on the point ``x``.
"""

from __future__ import annotations

import numpy as np

from .. import _checks

__all__ = ["value", "vector", "matrix", "value_and_gradient"]


def _describe(v) -> str:
    """A short description of what came: 'a float', 'a tuple of length 3', 'shape (3,)'."""
    if isinstance(v, (tuple, list)):
        return f"a {type(v).__name__} of length {len(v)}"
    if isinstance(v, (float, int, np.floating, np.integer)):
        return f"a {type(v).__name__}"
    shape = getattr(v, "shape", None)
    if shape is not None:
        return f"an array of shape {tuple(shape)}"
    return f"a {type(v).__name__}"


def start_point(owner: str, x0) -> np.ndarray:
    """``x0`` as a fresh float64 vector of shape ``(d,)``, ``d >= 1``, or a clear error."""
    x = _checks.float_array(owner, "x0", x0).astype(np.float64).copy()
    if x.ndim != 1 or x.size == 0:
        raise ValueError(f"{owner}: x0 must be a non-empty vector of shape (d,), got shape "
                         f"{x.shape}")
    return x


def value(owner: str, name: str, v) -> float:
    """The scalar ``v`` (a Python/NumPy number or a one-element array) as a float, else a
    ``TypeError`` saying that ``name`` must return a scalar and what it returned."""
    if isinstance(v, (tuple, list)):
        raise TypeError(f"{owner}: {name} must return a scalar, got {_describe(v)}")
    try:
        arr = np.asarray(v)
    except Exception:  # pragma: no cover - exotic objects
        arr = np.asarray(None)
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number)
                                   or arr.dtype == np.bool_) or np.iscomplexobj(arr):
        raise TypeError(f"{owner}: {name} must return a real scalar, got {_describe(v)}")
    if arr.size != 1:
        raise TypeError(f"{owner}: {name} must return a scalar, got {_describe(v)}")
    return float(arr.reshape(-1)[0])


def vector(owner: str, name: str, v, d: int) -> np.ndarray:
    """``v`` as a new float64 vector of shape ``(d,)`` (any shape with ``d`` entries is
    flattened), else an error naming ``name``, the expected shape and the one that came."""
    arr = _checks.float_array(owner, name, v)
    if arr.size != d:
        raise ValueError(f"{owner}: {name} must have shape ({d},) like x, got "
                         f"{_describe(arr)}")
    return np.array(arr, dtype=np.float64, copy=True).reshape(d)


def matrix(owner: str, name: str, v, d: int) -> np.ndarray:
    """``v`` as a float64 matrix of shape ``(d, d)``, else an error naming ``name``."""
    arr = _checks.float_array(owner, name, v)
    if arr.shape != (d, d):
        raise ValueError(f"{owner}: {name} must have shape ({d}, {d}) for x of shape ({d},), "
                         f"got {_describe(arr)}")
    return arr.astype(np.float64)


def value_and_gradient(owner: str, name: str, out, d: int) -> tuple[float, np.ndarray]:
    """Unpack ``out = fun_and_grad(x)`` into ``(f, g)`` with ``f`` a float and ``g`` of shape
    ``(d,)``, else an error such as ``"bfgs: fun_and_grad must return (value, gradient), got
    a float"``."""
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        raise TypeError(f"{owner}: {name} must return (value, gradient), got "
                        f"{_describe(out)}")
    f = value(owner, f"the value returned by {name}", out[0])
    g = vector(owner, f"the gradient returned by {name}", out[1], d)
    return f, g
