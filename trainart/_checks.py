"""Argument checks that fail early with a message naming the argument."""

from __future__ import annotations

import math

import numpy as np


def _number(owner: str, name: str, value) -> float:
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{owner}: {name} must be a number, got {value!r}") from None
    if math.isnan(value):
        raise ValueError(f"{owner}: {name} must be a number, got nan")
    return value


def positive(owner: str, name: str, value) -> float:
    """``value > 0`` or a ``ValueError`` naming ``owner`` and ``name``."""
    value = _number(owner, name, value)
    if not value > 0 or math.isinf(value):
        raise ValueError(f"{owner}: {name} must be a finite number > 0, got {value!r}")
    return value


def non_negative(owner: str, name: str, value) -> float:
    """``value >= 0`` or a ``ValueError`` naming ``owner`` and ``name``."""
    value = _number(owner, name, value)
    if not value >= 0 or math.isinf(value):
        raise ValueError(f"{owner}: {name} must be a finite number >= 0, got {value!r}")
    return value


def unit_interval(owner: str, name: str, value) -> float:
    """``0 <= value < 1`` or a ``ValueError`` naming ``owner`` and ``name``."""
    value = _number(owner, name, value)
    if not 0.0 <= value < 1.0:
        raise ValueError(f"{owner}: {name} must be in [0, 1), got {value!r}")
    return value


def positive_int(owner: str, name: str, value) -> int:
    """An integer ``>= 1`` or a ``ValueError`` naming ``owner`` and ``name``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{owner}: {name} must be an integer >= 1, got {value!r}")
    return value


def float_array(owner: str, name: str, x) -> np.ndarray:
    """``x`` as a real floating-point array (ints and bools become float64, float32 stays),
    or a ``TypeError`` naming ``owner`` and ``name``."""
    arr = np.asarray(x)
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number)
                                   or arr.dtype == np.bool_):
        raise TypeError(f"{owner}: {name} must be a numeric array, got dtype {arr.dtype}")
    if np.iscomplexobj(arr):
        raise TypeError(f"{owner}: {name} must be a real array, got dtype {arr.dtype}")
    if not np.issubdtype(arr.dtype, np.floating):
        arr = arr.astype(np.float64)
    return arr


def generator(owner: str, rng) -> np.random.Generator:
    """A NumPy generator from a ``Generator`` (used as is), an int seed >= 0 or ``None``."""
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None or (isinstance(rng, (int, np.integer)) and not isinstance(rng, bool)
                       and rng >= 0):
        return np.random.default_rng(rng)
    raise TypeError(f"{owner}: rng must be an np.random.Generator, an int seed >= 0 or None, "
                    f"got {rng!r}")
