"""trainart._checks: the one vocabulary of argument checks (messages name function, argument,
what was expected and what came)."""

import math

import numpy as np
import pytest

from trainart import _checks
from trainart.optim import step_decay


@pytest.mark.parametrize("value", [5, np.int64(5), np.int32(5), np.uint8(5)])
def test_positive_int_takes_python_and_numpy_integers(value):
    out = _checks.positive_int("f", "n", value)
    assert out == 5 and type(out) is int


@pytest.mark.parametrize("value", [0, -1, True, np.bool_(True), 2.0, "3", None])
def test_positive_int_names_what_was_expected_and_what_came(value):
    with pytest.raises(ValueError, match=r"^f: n must be an integer >= 1, got "):
        _checks.positive_int("f", "n", value)


def test_integer_bounds_are_in_the_message():
    assert _checks.integer("f", "k", np.int64(3), minimum=2, maximum=3) == 3
    with pytest.raises(ValueError, match=r"k must be an integer in \[2, 3\], got 4"):
        _checks.integer("f", "k", 4, minimum=2, maximum=3)
    with pytest.raises(ValueError, match=r"k must be an integer <= 3, got 4"):
        _checks.integer("f", "k", 4, maximum=3)
    with pytest.raises(ValueError, match=r"k must be an integer >= 0, got -1"):
        _checks.non_negative_int("f", "k", -1)


def test_step_decay_accepts_a_numpy_step_size():
    schedule = step_decay(0.1, np.int64(5))
    assert math.isclose(schedule(5), 0.01)


def test_numbers():
    assert _checks.number("f", "x", np.float32(0.5)) == 0.5
    with pytest.raises(TypeError, match=r"f: x must be a number, got 'a'"):
        _checks.number("f", "x", "a")
    with pytest.raises(ValueError, match=r"f: x must be a number, got nan"):
        _checks.number("f", "x", float("nan"))
    with pytest.raises(ValueError, match=r"lr must be a finite number > 0, got 0.0"):
        _checks.positive("f", "lr", 0)
    with pytest.raises(ValueError, match=r"p must be in \[0, 1\), got 1.0"):
        _checks.unit_interval("f", "p", 1)
    with pytest.raises(ValueError, match=r"mode must be one of 'a', 'b', got 'c'"):
        _checks.one_of("f", "mode", "c", ("a", "b"))


def test_probability_and_boolean():
    assert _checks.probability("f", "momentum", 1) == 1.0
    with pytest.raises(ValueError, match=r"f: momentum must be in \[0, 1\], got 1.5"):
        _checks.probability("f", "momentum", 1.5)
    assert _checks.boolean("f", "affine", np.bool_(False)) is False
    with pytest.raises(TypeError, match=r"f: affine must be True or False, got 1"):
        _checks.boolean("f", "affine", 1)
