"""Argument checks that fail early with a message naming the argument."""

from __future__ import annotations

import math

import numpy as np


def number(owner: str, name: str, value) -> float:
    """``value`` as a float (not NaN) or an error naming ``owner`` and ``name``."""
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{owner}: {name} must be a number, got {value!r}") from None
    if math.isnan(value):
        raise ValueError(f"{owner}: {name} must be a number, got nan")
    return value


def positive(owner: str, name: str, value) -> float:
    """``value > 0`` or a ``ValueError`` naming ``owner`` and ``name``."""
    value = number(owner, name, value)
    if not value > 0 or math.isinf(value):
        raise ValueError(f"{owner}: {name} must be a finite number > 0, got {value!r}")
    return value


def non_negative(owner: str, name: str, value) -> float:
    """``value >= 0`` or a ``ValueError`` naming ``owner`` and ``name``."""
    value = number(owner, name, value)
    if not value >= 0 or math.isinf(value):
        raise ValueError(f"{owner}: {name} must be a finite number >= 0, got {value!r}")
    return value


def unit_interval(owner: str, name: str, value) -> float:
    """``0 <= value < 1`` or a ``ValueError`` naming ``owner`` and ``name``."""
    value = number(owner, name, value)
    if not 0.0 <= value < 1.0:
        raise ValueError(f"{owner}: {name} must be in [0, 1), got {value!r}")
    return value


def probability(owner: str, name: str, value) -> float:
    """``0 <= value <= 1`` (closed, e.g. a momentum weight) or a ``ValueError``."""
    value = number(owner, name, value)
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{owner}: {name} must be in [0, 1], got {value!r}")
    return value


def boolean(owner: str, name: str, value) -> bool:
    """``True`` or ``False`` (NumPy's bools too), or a ``TypeError`` naming the argument."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{owner}: {name} must be True or False, got {value!r}")
    return bool(value)


def is_integer(value) -> bool:
    """True for a Python or NumPy integer (``np.int64(5)``), never for a bool."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def integer(owner: str, name: str, value, minimum: int | None = None,
            maximum: int | None = None) -> int:
    """``value`` as a Python int within ``[minimum, maximum]`` (either bound optional), or a
    ``ValueError`` naming ``owner``, ``name``, what was expected and what came."""
    ok = is_integer(value) and (minimum is None or value >= minimum) and (
        maximum is None or value <= maximum)
    if not ok:
        if minimum is not None and maximum is not None:
            want = f"an integer in [{minimum}, {maximum}]"
        elif minimum is not None:
            want = f"an integer >= {minimum}"
        elif maximum is not None:
            want = f"an integer <= {maximum}"
        else:
            want = "an integer"
        raise ValueError(f"{owner}: {name} must be {want}, got {value!r}")
    return int(value)


def positive_int(owner: str, name: str, value) -> int:
    """An integer ``>= 1`` (Python or NumPy) or a ``ValueError`` naming ``owner`` and ``name``."""
    return integer(owner, name, value, minimum=1)


def non_negative_int(owner: str, name: str, value) -> int:
    """An integer ``>= 0`` (Python or NumPy) or a ``ValueError`` naming ``owner`` and ``name``."""
    return integer(owner, name, value, minimum=0)


def one_of(owner: str, name: str, value, choices):
    """``value`` if it is one of ``choices``, else a ``ValueError`` listing them."""
    if value not in choices:
        raise ValueError(f"{owner}: {name} must be one of {', '.join(map(repr, choices))}, "
                         f"got {value!r}")
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

