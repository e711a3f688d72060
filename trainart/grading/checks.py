"""What check cells use: compare *values* with tolerances and print one fixed line.

A check cell runs the student's function on seeded inputs inside ``with check(...)``::

    with check("20 momentum steps match the reference") as c:
        c.close(student_params, reference_params, rtol=1e-6, name="parameters")

On leaving the block it prints exactly one line: ``PASS: <what>`` or ``FAIL: <what>: <why>``.
Whatever the student's code prints inside the block is swallowed, so a function that prints
a fake "PASS" changes nothing, and an exception in the student's code becomes a FAIL line
with its message (never a traceback). The messages give errors and shapes, never the
expected values, so hidden checks stay hidden.

When the grader runs the checks (``trainart.grading.runner``) they run in the grader's
own process, not in the student's kernel, inside :func:`recording`: ``check`` then prints
nothing and appends ``(passed, message)`` to the recording instead. Printing is for the
exercise builder and for a notebook opened in Jupyter.
"""

from __future__ import annotations

import contextlib
import io
import re
import threading

import numpy as np

_state = threading.local()


@contextlib.contextmanager
def recording():
    """Within this block (per thread), checks append ``(passed, message)`` to the list it
    yields instead of printing."""
    previous = getattr(_state, "sink", None)
    _state.sink = sink = []
    try:
        yield sink
    finally:
        _state.sink = previous


def clean(text: str, limit: int = 300) -> str:
    """``text`` with control characters removed and at most ``limit`` characters."""
    text = re.sub(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]", "",
                  str(text)).replace("\n", " ")
    return text if len(text) <= limit else text[: limit - 3] + "..."


class CheckFailed(AssertionError):
    """A check's comparison failed; the message says what differs, not what was expected."""


class check:
    """A context manager for one graded check; see the module docstring."""

    def __init__(self, what: str):
        self.what = what
        self._captured = io.StringIO()
        self._redirect = contextlib.redirect_stdout(self._captured)

    def __enter__(self) -> check:
        self._sink = getattr(_state, "sink", None)
        if self._sink is None:
            self._redirect.__enter__()
        return self

    def _verdict(self, passed: bool, why: str = "") -> None:
        if self._sink is not None:
            self._sink.append((passed, clean(f"{self.what}: {why}" if why else "", 500)))
        elif passed:
            print(f"PASS: {self.what}")
        else:
            print(f"FAIL: {self.what}: {why}")

    def __exit__(self, exc_type, exc, tb) -> bool:
        if self._sink is None:
            self._redirect.__exit__(None, None, None)
        if exc_type is None:
            self._verdict(True)
            return False
        if issubclass(exc_type, CheckFailed):
            self._verdict(False, str(exc))
        elif issubclass(exc_type, NotImplementedError):
            self._verdict(False, "not implemented yet")
        elif issubclass(exc_type, Exception):
            self._verdict(False, f"your code raised {clean(exc_type.__name__, 60)}: "
                                 f"{_short(exc)}")
        else:  # KeyboardInterrupt (a time-out), SystemExit, a lost sandbox: not ours
            return False
        return True

    # ------------------------------------------------------------------ comparisons
    def close(self, actual, expected, *, rtol: float = 1e-6, atol: float = 1e-12,
              name: str = "value") -> None:
        """``|actual - expected| <= atol + rtol * |expected|`` elementwise (``np.isclose``)."""
        try:
            a = np.asarray(actual, dtype=np.float64)
        except (TypeError, ValueError):
            raise CheckFailed(f"{name}: expected numbers, got {type(actual).__name__}") from None
        e = np.asarray(expected, dtype=np.float64)
        if a.shape != e.shape:
            raise CheckFailed(f"{name}: shape {a.shape}, expected shape {e.shape}")
        if not np.all(np.isfinite(a)):
            raise CheckFailed(f"{name}: contains NaN or inf")
        ok = np.isclose(a, e, rtol=rtol, atol=atol)
        if not ok.all():
            rel = np.abs(a - e) / np.maximum(np.abs(e), atol)
            worst = np.unravel_index(int(np.argmax(np.where(ok, -np.inf, rel))), a.shape)
            where = f" at index {tuple(int(i) for i in worst)}" if a.ndim else ""
            raise CheckFailed(f"{name}: relative error {rel[worst]:.1e}{where} "
                              f"(tolerance {rtol:.0e}); {int((~ok).sum())} of {ok.size} "
                              f"entries differ")

    def equal(self, actual, expected, *, name: str = "value") -> None:
        """Exact equality (ints, shapes, strings)."""
        if not _equal(actual, expected):
            raise CheckFailed(f"{name}: not the expected value")

    def within(self, value, low: float, high: float, *, name: str = "value") -> None:
        """A property check for random results: ``low <= value <= high``."""
        value = float(value)
        if not low <= value <= high:
            raise CheckFailed(f"{name} = {value:.4g} is outside the accepted range "
                              f"[{low:.4g}, {high:.4g}]")

    def returns(self, result, function: str, names: tuple[str, ...]) -> tuple:
        """``result`` unpacked, or a failure saying ``function`` must return ``names``."""
        if not (isinstance(result, tuple) and len(result) == len(names)):
            raise CheckFailed(f"{function} must return a tuple ({', '.join(names)}), "
                              f"got {type(result).__name__}")
        return result

    def true(self, condition, message: str) -> None:
        """Fail with ``message`` unless ``condition`` holds."""
        if not condition:
            raise CheckFailed(message)


def quadratic_bowl(seed: int, n: int, kappa: float = 10.0):
    """The gradient of a seeded random quadratic :math:`f(x) = x^\\top A x / 2 - b^\\top x`
    whose Hessian :math:`A` has condition number ``kappa``: a test problem for optimizers."""
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    A = q @ np.diag(np.geomspace(1.0, kappa, n)) @ q.T
    b = rng.standard_normal(n)
    return lambda x: A @ x - b


def _equal(a, b) -> bool:
    try:
        return bool(np.array_equal(a, b))
    except Exception:
        return a == b


def _short(exc: BaseException, limit: int = 200) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return text if len(text) <= limit else text[: limit - 3] + "..."
