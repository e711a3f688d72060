r"""Line searches: choose a step length :math:`\alpha` along a descent direction :math:`p`.

With :math:`\phi(\alpha) = f(x + \alpha p)` and :math:`\phi'(0) = \nabla f(x)^\top p < 0`:

* :func:`backtracking` halves :math:`\alpha` until the sufficient-decrease (Armijo) condition
  :math:`\phi(\alpha) \le \phi(0) + c_1\alpha\phi'(0)` holds (Newton's method);
* :func:`strong_wolfe` also asks for the strong curvature condition
  :math:`|\phi'(\alpha)| \le c_2|\phi'(0)|`, which keeps :math:`s^\top y > 0` so the
  (L-)BFGS update stays positive definite (Nocedal and Wright, Algorithms 3.5 and 3.6).

Both count every function evaluation and never raise on NaN/inf: a non-finite trial value
counts as "too far" and the step is shortened.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from .. import _checks
from . import _outputs

__all__ = ["LineSearchResult", "backtracking", "strong_wolfe"]


class LineSearchResult(NamedTuple):
    """What a line search returns; ``alpha is None`` means it failed (as in SciPy).

    Attributes:
        alpha: the accepted step length, or ``None``.
        f_new: :math:`f(x + \\alpha p)` (``None`` on failure).
        g_new: :math:`\\nabla f(x + \\alpha p)` (``None`` for :func:`backtracking` and on
            failure).
        nfev: the number of function evaluations the search used.
    """

    alpha: float | None
    f_new: float | None
    g_new: np.ndarray | None
    nfev: int

    @property
    def success(self) -> bool:
        """Whether a step was accepted."""
        return self.alpha is not None


def _open_unit(owner, name, value, low=0.0):
    """A number in the open interval ``(low, 1)``, or a ``ValueError`` naming it."""
    value = _checks.number(owner, name, value)
    if not low < value < 1.0:
        bound = "0" if low == 0.0 else "c1"
        raise ValueError(f"{owner}: {name} must be in ({bound}, 1), got {value!r}")
    return value


def _check(owner, x, fx, g, p, alpha0, c1, c2=None):
    x = _checks.float_array(owner, "x", x).astype(np.float64)
    g = _checks.float_array(owner, "g", g).astype(np.float64)
    p = _checks.float_array(owner, "p", p).astype(np.float64)
    if g.ndim != 1 or g.shape != p.shape or x.shape != p.shape:
        raise ValueError(f"{owner}: x, g and p must be vectors of the same shape (d,), got "
                         f"{x.shape}, {g.shape} and {p.shape}")
    fx = _checks.number(owner, "fx", fx)
    alpha0 = _checks.positive(owner, "alpha0", alpha0)
    c1 = _open_unit(owner, "c1", c1)
    if c2 is not None:
        c2 = _open_unit(owner, "c2", c2, low=c1)
    return x, fx, g, p, alpha0, c1, c2


def backtracking(f, x, fx, g, p, alpha0: float = 1.0, rho: float = 0.5, c1: float = 1e-4,
                 max_iter: int = 50) -> LineSearchResult:
    r"""Backtracking line search: the first :math:`\alpha = \alpha_0\rho^j` with sufficient
    decrease (the Armijo condition)

    .. math::

        f(x + \alpha p) \le f(x) + c_1\,\alpha\,\nabla f(x)^\top p .

    Args:
        f: the function, ``f(x) -> float``.
        x: the current point; fx: :math:`f(x)`; g: :math:`\nabla f(x)`.
        p: a descent direction (:math:`g^\top p < 0`).
        alpha0: the first trial step (1 for Newton's method).
        rho: the shrink factor in :math:`(0, 1)`.
        c1: the sufficient-decrease constant in :math:`(0, 1)`.
        max_iter: the most trial steps.

    Returns:
        A :class:`LineSearchResult` with ``g_new=None``; ``alpha=None`` if no trial step gave
        sufficient decrease (or ``p`` is not a descent direction).

    Reference: Nocedal and Wright (2006), *Numerical Optimization*, 2nd ed., Algorithm 3.1.
    """
    x, fx, g, p, alpha, c1, _ = _check("backtracking", x, fx, g, p, alpha0, c1)
    rho = _open_unit("backtracking", "rho", rho)
    max_iter = _checks.positive_int("backtracking", "max_iter", max_iter)
    slope = float(g @ p)
    if not slope < 0:
        return LineSearchResult(None, None, None, 0)
    for n in range(1, max_iter + 1):
        f_new = _outputs.value("backtracking", "f", f(x + alpha * p))
        if f_new <= fx + c1 * alpha * slope:  # False for nan
            return LineSearchResult(alpha, f_new, None, n)
        alpha *= rho
    return LineSearchResult(None, None, None, max_iter)


def _cubic_min(a, fa, da, b, fb, db):
    r"""The minimizer of the cubic through :math:`(a, f_a, f'_a)` and :math:`(b, f_b, f'_b)`
    (Nocedal and Wright eq. 3.59), or ``None`` if it does not exist or is not finite."""
    if a == b:
        return None
    d1 = da + db - 3.0 * (fa - fb) / (a - b)
    disc = d1 * d1 - da * db
    if not (math.isfinite(disc) and disc >= 0.0):
        return None
    d2 = math.copysign(math.sqrt(disc), b - a)
    denom = db - da + 2.0 * d2
    if denom == 0.0:
        return None
    t = b - (b - a) * (db + d2 - d1) / denom
    return t if math.isfinite(t) else None


def _interpolate(lo, hi):
    r"""The trial step between ``lo`` and ``hi`` (each ``(alpha, phi, phi')``, with
    :math:`\phi(\text{hi}) \ge \phi(\text{lo})`): the cubic's minimizer if it is closer to
    ``lo`` than the minimizer of the quadratic through :math:`\phi(\text{lo}),
    \phi'(\text{lo}), \phi(\text{hi})`, else the midpoint of the two (Moré and Thuente's
    rule for a trial whose value is too high: trust the cubic only when it is cautious)."""
    (a, fa, da), (b, fb, db) = lo, hi
    if not (math.isfinite(fb) and math.isfinite(db)):
        return None
    cubic = _cubic_min(a, fa, da, b, fb, db)
    denom = (fa - fb) / (b - a) + da
    quad = a + 0.5 * (da / denom) * (b - a) if denom != 0 else None
    if cubic is None or quad is None or not math.isfinite(quad):
        return cubic
    if abs(cubic - a) < abs(quad - a):
        return cubic
    return cubic + 0.5 * (quad - cubic)


def strong_wolfe(f_and_grad, x, fx, g, p, alpha0: float = 1.0, c1: float = 1e-4,
                 c2: float = 0.9, max_iter: int = 25) -> LineSearchResult:
    r"""A line search for a step satisfying the strong Wolfe conditions

    .. math::

        \phi(\alpha) &\le \phi(0) + c_1\,\alpha\,\phi'(0)
            \qquad \text{(sufficient decrease)}\\
        |\phi'(\alpha)| &\le c_2\,|\phi'(0)| \qquad \text{(strong curvature)}

    where :math:`\phi(\alpha) = f(x + \alpha p)`, :math:`\phi'(\alpha) = \nabla f(x+\alpha
    p)^\top p`. The first phase tries :math:`\alpha_0` and extrapolates (cubic interpolation,
    at most 10-fold) until an interval must contain such a step; ``zoom`` then shrinks the
    interval by safeguarded cubic interpolation (bisection when the cubic is useless; a trial
    within 10% of an end is moved 10% inside when the previous one was that close too).

    Args:
        f_and_grad: ``f_and_grad(x) -> (f, g)``; one call counts as one evaluation.
        x: the current point; fx: :math:`f(x)`; g: :math:`\nabla f(x)`.
        p: a descent direction (:math:`g^\top p < 0`).
        alpha0: the first trial step (1 for quasi-Newton methods).
        c1, c2: the constants, :math:`0 < c_1 < c_2 < 1` (0.9 suits quasi-Newton methods).
        max_iter: the most function evaluations.

    Returns:
        A :class:`LineSearchResult`; ``alpha=None`` when no acceptable step was found within
        ``max_iter`` evaluations or ``p`` is not a descent direction.

    Reference: Nocedal and Wright (2006), *Numerical Optimization*, 2nd ed., Algorithms 3.5
    (line search) and 3.6 (zoom), section 3.5 (interpolation).
    """
    x, fx, g, p, alpha0, c1, c2 = _check("strong_wolfe", x, fx, g, p, alpha0, c1, c2)
    max_iter = _checks.positive_int("strong_wolfe", "max_iter", max_iter)
    return _strong_wolfe(f_and_grad, x, fx, g, p, alpha0, c1, c2, max_iter,
                         owner="strong_wolfe", name="f_and_grad")


def _evaluate(f_and_grad, x, alpha, p, owner, name):
    f_new, g_new = _outputs.value_and_gradient(owner, name, f_and_grad(x + alpha * p), x.size)
    if not (math.isfinite(f_new) and np.all(np.isfinite(g_new))):
        return math.inf, g_new, math.nan  # a non-finite point counts as "too far"
    return f_new, g_new, float(g_new @ p)


def _strong_wolfe(f_and_grad, x, f0, g0, p, alpha, c1, c2, max_iter, owner="strong_wolfe",
                  name="f_and_grad"):
    """The search itself, without argument checks; ``owner`` and ``name`` name the caller and
    its callable in the message if ``f_and_grad`` returns something malformed."""
    d0 = float(g0 @ p)
    if not d0 < 0:
        return LineSearchResult(None, None, None, 0)
    nfev = 0
    prev = (0.0, f0, d0)  # (alpha, phi, phi') of the previous trial
    while nfev < max_iter:
        f_new, g_new, d_new = _evaluate(f_and_grad, x, alpha, p, owner, name)
        nfev += 1
        if f_new > f0 + c1 * alpha * d0 or (nfev > 1 and f_new >= prev[1]):
            return _zoom(f_and_grad, x, f0, d0, p, prev, (alpha, f_new, d_new), c1, c2, nfev,
                         max_iter, owner, name)
        if abs(d_new) <= -c2 * d0:
            return LineSearchResult(alpha, f_new, g_new, nfev)
        if d_new >= 0:
            return _zoom(f_and_grad, x, f0, d0, p, (alpha, f_new, d_new), prev, c1, c2, nfev,
                         max_iter, owner, name)
        # Extrapolate: the cubic's minimizer, kept within [alpha + 0.01 (alpha - prev), 10 alpha].
        lo, hi = alpha + 0.01 * (alpha - prev[0]), 10.0 * alpha
        t = _cubic_min(prev[0], prev[1], prev[2], alpha, f_new, d_new)
        t = hi if t is None else min(max(t, lo), hi)
        prev, alpha = (alpha, f_new, d_new), t
    return LineSearchResult(None, None, None, nfev)


def _zoom(f_and_grad, x, f0, d0, p, lo, hi, c1, c2, nfev, max_iter, owner, name):
    """Algorithm 3.6: ``lo`` has the lowest value so far with sufficient decrease, and the
    interval between ``lo`` and ``hi`` contains a strong-Wolfe step.

    A trial within 10% of an end of the interval is taken as interpolated once (on a
    quadratic the first interpolation is the exact minimizer, often close to ``lo`` after an
    overshooting unit step) and moved 10% inside only if the previous trial was that close
    too, so the interval keeps shrinking (the insufficient-progress rule of PyTorch's
    ``_strong_wolfe``)."""
    near_end = False
    while nfev < max_iter:
        a, b = lo[0], hi[0]
        width = abs(b - a)
        if width <= 1e-16 * max(1.0, abs(a)):
            break
        t = _interpolate(lo, hi)
        left, right = min(a, b), max(a, b)
        if t is None or not left <= t <= right:
            t = 0.5 * (a + b)  # bisection when the cubic is missing or outside the interval
            near_end = False
        elif min(t - left, right - t) < 0.1 * width:
            if near_end:  # twice in a row: keep 10% away from either end
                t = min(max(t, left + 0.1 * width), right - 0.1 * width)
            near_end = not near_end
        else:
            near_end = False
        f_t, g_t, d_t = _evaluate(f_and_grad, x, t, p, owner, name)
        nfev += 1
        if f_t > f0 + c1 * t * d0 or f_t >= lo[1]:
            hi = (t, f_t, d_t)
        else:
            if abs(d_t) <= -c2 * d0:
                return LineSearchResult(t, f_t, g_t, nfev)
            if d_t * (b - a) >= 0:
                hi = lo
            lo = (t, f_t, d_t)
    return LineSearchResult(None, None, None, nfev)
