"""Argument checks that fail early with a message naming the argument."""

from __future__ import annotations

import math


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
