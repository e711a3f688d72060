r"""Quasi-Newton methods: BFGS and limited-memory BFGS (L-BFGS).

Both build curvature from gradient differences instead of the Hessian. With
:math:`s_k = x_{k+1} - x_k`, :math:`y_k = \nabla f(x_{k+1}) - \nabla f(x_k)` and
:math:`\rho_k = 1/(y_k^\top s_k)`, the BFGS inverse-Hessian update is

.. math::

    H_{k+1} = (I - \rho_k s_k y_k^\top)\, H_k\, (I - \rho_k y_k s_k^\top)
              + \rho_k s_k s_k^\top ,

the closest symmetric matrix to :math:`H_k` (in a weighted norm) that satisfies the secant
condition :math:`H_{k+1} y_k = s_k`; it stays positive definite as long as
:math:`y_k^\top s_k > 0`, which a strong-Wolfe line search guarantees. BFGS stores
:math:`H_k` (:math:`d^2` numbers); L-BFGS keeps only the last :math:`m` pairs
:math:`(s_i, y_i)` and applies the same updates to :math:`H_0 = \gamma I` on the fly (the
two-loop recursion, :math:`O(md)` work).

**Convergence test (as SciPy's L-BFGS-B, so evaluation counts are comparable).** Both stop
with success when the largest gradient entry is small, :math:`\lVert\nabla f(x_k)
\rVert_\infty \le` ``gtol`` (SciPy's BFGS ``gtol`` with ``norm=inf``; L-BFGS-B's projected
gradient, which equals the gradient without bounds); :func:`lbfgs` also stops when the
relative decrease :math:`(f_{k-1} - f_k)/\max(|f_{k-1}|, |f_k|, 1) \le` ``ftol``, with
L-BFGS-B's default ``ftol`` :math:`= 10^7\,\varepsilon_{\text{mach}}` (``factr=1e7``). Like
L-BFGS-B, :func:`lbfgs` starts with the step :math:`1/\lVert\nabla f(x_0)\rVert_2` and tries
:math:`\alpha = 1` afterwards, counts one evaluation per call of ``fun_and_grad`` (SciPy's
``nfev`` with ``jac=True``) and counts every trial point of the line search.
"""

from __future__ import annotations

import math

import numpy as np

from .. import _checks
from . import _outputs
from .linesearch import _open_unit, _strong_wolfe
from .result import OptimizeResult, new_history, record

__all__ = ["bfgs_update", "bfgs", "two_loop", "lbfgs"]

_EPS = np.finfo(np.float64).eps


def bfgs_update(H, s, y) -> np.ndarray:
    r"""One BFGS update of the inverse-Hessian approximation.

    .. math::

        H_{+} = (I - \rho\, s y^\top)\, H\, (I - \rho\, y s^\top) + \rho\, s s^\top,
        \qquad \rho = \frac{1}{y^\top s}

    so that :math:`H_{+} y = s` (the secant condition).

    Args:
        H: the current approximation, symmetric ``(d, d)``.
        s: the step :math:`x_{k+1} - x_k`, shape ``(d,)``.
        y: the gradient change :math:`\nabla f(x_{k+1}) - \nabla f(x_k)`, shape ``(d,)``.

    Returns:
        The updated symmetric ``(d, d)`` matrix.

    Raises:
        ValueError: if :math:`y^\top s \le 0` (the update would lose positive definiteness).

    Reference: Nocedal and Wright (2006), *Numerical Optimization*, 2nd ed., eq. 6.17.
    """
    owner = "bfgs_update"
    H = _checks.float_array(owner, "H", H).astype(np.float64)
    s = _checks.float_array(owner, "s", s).astype(np.float64)
    y = _checks.float_array(owner, "y", y).astype(np.float64)
    if s.ndim != 1 or y.shape != s.shape or H.shape != (s.size, s.size):
        raise ValueError(f"{owner}: H, s and y must have shapes (d, d), (d,) and (d,), got "
                         f"{H.shape}, {s.shape} and {y.shape}")
    sy = float(y @ s)
    if not sy > 0:
        raise ValueError(f"bfgs_update: the curvature y^T s must be > 0, got {sy!r}")
    rho = 1.0 / sy
    Hy = H @ y
    # Expanded form of (I - rho s y^T) H (I - rho y s^T) + rho s s^T for symmetric H.
    Hn = (H - rho * (np.outer(s, Hy) + np.outer(Hy, s))
          + (rho * rho * float(y @ Hy) + rho) * np.outer(s, s))
    return 0.5 * (Hn + Hn.T)


def two_loop(g, s_list, y_list, gamma: float | None = None) -> np.ndarray:
    r"""The L-BFGS two-loop recursion: :math:`H_k g` for the inverse Hessian :math:`H_k` that
    the BFGS update builds from :math:`H_k^0 = \gamma I` and the stored pairs, without forming
    any matrix.

    .. math::

        &q \leftarrow g;\quad \text{for } i = k-1, \dots, k-m:\quad
            \alpha_i = \rho_i s_i^\top q,\ q \leftarrow q - \alpha_i y_i\\
        &r \leftarrow \gamma q;\quad \text{for } i = k-m, \dots, k-1:\quad
            \beta = \rho_i y_i^\top r,\ r \leftarrow r + (\alpha_i - \beta)\, s_i

    Args:
        g: the vector to multiply (the gradient), shape ``(d,)``.
        s_list, y_list: the stored pairs, oldest first (equal lengths, may be empty).
        gamma: the scale of :math:`H^0`; default
            :math:`\gamma = s_{k-1}^\top y_{k-1} / y_{k-1}^\top y_{k-1}` (N&W eq. 7.20), or 1
            with no pairs.

    Returns:
        :math:`H_k g`, shape ``(d,)`` (the search direction is its negative).

    Reference: Nocedal and Wright (2006), *Numerical Optimization*, 2nd ed., Algorithm 7.4.
    """
    owner = "two_loop"
    g = _checks.float_array(owner, "g", g).astype(np.float64)
    if g.ndim != 1:
        raise ValueError(f"{owner}: g must be a vector of shape (d,), got shape {g.shape}")
    if len(s_list) != len(y_list):
        raise ValueError(f"{owner}: s_list and y_list must have the same length, got "
                         f"{len(s_list)} and {len(y_list)}")
    s_list = [_pair_vector(owner, f"s_list[{i}]", s, g.shape) for i, s in enumerate(s_list)]
    y_list = [_pair_vector(owner, f"y_list[{i}]", y, g.shape) for i, y in enumerate(y_list)]
    if gamma is None:
        gamma = (float(s_list[-1] @ y_list[-1]) / float(y_list[-1] @ y_list[-1])
                 if s_list else 1.0)
    rhos = [1.0 / float(y @ s) for s, y in zip(s_list, y_list)]
    q = g.copy()
    alphas = []
    for s, y, rho in zip(reversed(s_list), reversed(y_list), reversed(rhos)):
        a = rho * float(s @ q)
        q -= a * y
        alphas.append(a)
    r = gamma * q
    for s, y, rho, a in zip(s_list, y_list, rhos, reversed(alphas)):
        b = rho * float(y @ r)
        r += (a - b) * s
    return r


def _pair_vector(owner, name, v, shape):
    v = _checks.float_array(owner, name, v).astype(np.float64)
    if v.shape != shape:
        raise ValueError(f"{owner}: {name} must have the shape of g, {shape}, got {v.shape}")
    return v


def _start(owner, fun_and_grad, x0):
    if not callable(fun_and_grad):
        raise TypeError(f"{owner}: fun_and_grad must be callable, got "
                        f"{type(fun_and_grad).__name__}")
    return _outputs.start_point(owner, x0)


def _evaluate(owner, fun_and_grad, x):
    return _outputs.value_and_gradient(owner, "fun_and_grad", fun_and_grad(x), x.size)


def _finish(res, status, message):
    res.status, res.success, res.message = status, status == 0, message
    return res


def _first_eval(owner, res, fun_and_grad, x):
    """Evaluate at the start; return ``(f, g)`` or ``None`` after filling a failure."""
    res.history = new_history()
    if not np.all(np.isfinite(x)):
        _finish(res, 3, "The start x0 is not finite.")
        return None
    f, g = _evaluate(owner, fun_and_grad, x)
    res.nfev = res.njev = 1
    res.fun, res.jac = f, g
    record(res.history, x, f, g, math.nan, res.nfev)
    if not (math.isfinite(f) and np.all(np.isfinite(g))):
        _finish(res, 3, f"Non-finite function value or gradient at the start (f = {f}).")
        return None
    return f, g


def bfgs(fun_and_grad, x0, gtol: float = 1e-5, max_iter: int | None = None, H0=None,
         c1: float = 1e-4, c2: float = 0.9, max_ls: int = 25, callback=None) -> OptimizeResult:
    r"""BFGS with a strong-Wolfe line search.

    .. math::

        p_k = -H_k \nabla f(x_k),\quad x_{k+1} = x_k + \alpha_k p_k,\quad
        H_{k+1} = (I - \rho_k s_k y_k^\top) H_k (I - \rho_k y_k s_k^\top) + \rho_k s_k s_k^\top

    :math:`H_0` is ``H0``, by default the identity (as SciPy's BFGS). The first trial step
    is 1 with ``H0`` and :math:`\min(1, 1.01/\lVert\nabla f(x_0)\rVert_2)` without it
    (SciPy's); later searches start from the step that would repeat the last decrease
    (N&W eq. 3.60, as SciPy),

    .. math::

        \alpha_k^{(0)} = \min\Bigl(1,\ 1.01 \cdot
            \frac{2\,(f_k - f_{k-1})}{\nabla f_k^\top p_k}\Bigr),

    which becomes 1 as the method converges superlinearly. While :math:`H_k` overestimates
    the inverse curvature the trial overshoots and is cut back by interpolation, which is
    exact on a quadratic: the searches are then nearly exact and BFGS keeps close to its
    finite termination on quadratics (53 iterations on a 50-dimensional quadratic with
    condition number :math:`10^4`). Rescaling :math:`H_0 = \frac{y_0^\top s_0}{y_0^\top
    y_0} I` before the first update (N&W eq. 6.20) would be invariant to the scale of
    :math:`f`, but makes :math:`H_0` too small along the flat directions of such a problem:
    the unit steps there are too short yet pass the Wolfe test with :math:`c_2 = 0.9`, and
    the inexact searches cost the quadratic termination (344 iterations on the same
    problem; ``H0="scaled"`` runs this variant). Pass a matrix ``H0`` to start elsewhere.
    A pair with
    :math:`y^\top s \le \varepsilon\,\lVert y\rVert^2` is skipped.

    Stops with success at :math:`\lVert\nabla f\rVert_\infty \le` ``gtol``; otherwise at
    ``max_iter``, a failed line search, or a non-finite value (never raising).

    Args:
        fun_and_grad: ``fun_and_grad(x) -> (f, g)``, float64; one call is one evaluation.
        x0: the start, shape ``(d,)``.
        gtol: the max-norm gradient tolerance.
        max_iter: the most iterations (default ``200 * d``, as SciPy).
        H0: a symmetric positive-definite ``(d, d)`` initial inverse Hessian (default
            the identity), or ``"scaled"``: the identity for the first step, replaced by
            :math:`\frac{y_0^\top s_0}{y_0^\top y_0} I` before the first update (N&W
            eq. 6.20).
        c1, c2, max_ls: the strong-Wolfe constants and its most evaluations per search.
        callback: ``callback(intermediate)`` after each iteration, with an
            :class:`OptimizeResult` whose ``hess_inv`` is the current :math:`H_{k+1}`.

    Returns:
        An :class:`~trainart.newton.OptimizeResult` with the final ``hess_inv``.

    Reference: Nocedal and Wright (2006), *Numerical Optimization*, 2nd ed., Algorithm 6.1.
    """
    owner = "bfgs"
    x = _start(owner, fun_and_grad, x0)
    d = x.size
    gtol = _checks.non_negative(owner, "gtol", gtol)
    max_iter = 200 * d if max_iter is None else _checks.positive_int(owner, "max_iter",
                                                                        max_iter)
    max_ls = _checks.positive_int(owner, "max_ls", max_ls)
    c1 = _open_unit(owner, "c1", c1)
    c2 = _open_unit(owner, "c2", c2, low=c1)
    scaled = isinstance(H0, str)
    if scaled:
        _checks.one_of(owner, "H0", H0, ("scaled",))
        H = np.eye(d)
    elif H0 is None:
        H = np.eye(d)
    else:
        H = _checks.float_array(owner, "H0", H0).astype(np.float64).copy()
        if H.shape != (d, d):
            raise ValueError(f"{owner}: H0 must have shape ({d}, {d}) for x0 of shape ({d},), "
                             f"got {H.shape}")
    res = OptimizeResult(x=x, fun=math.nan)
    first = _first_eval(owner, res, fun_and_grad, x)
    res.hess_inv = H
    if first is None:
        return res
    f, g = first
    f_prev = math.nan
    for k in range(max_iter + 1):
        if np.max(np.abs(g)) <= gtol:
            return _finish(res, 0, "Optimization terminated successfully: "
                                   "max |gradient| <= gtol.")
        if k == max_iter:
            return _finish(res, 1, "Maximum number of iterations reached.")
        p = -H @ g
        if k == 0:
            alpha0 = 1.0 if (H0 is not None and not scaled) else min(
                1.0, 1.01 / float(np.linalg.norm(g)))
        else:  # N&W eq. 3.60; 1 if the guess is useless (no decrease, rounding)
            slope = float(g @ p)
            guess = 2.02 * (f - f_prev) / slope if slope < 0 else math.nan
            alpha0 = min(1.0, guess) if guess > 0 else 1.0
        ls = _strong_wolfe(fun_and_grad, x, f, g, p, alpha0, c1, c2, max_ls, owner,
                           "fun_and_grad")
        res.nfev += ls.nfev
        res.njev += ls.nfev
        if not ls.success:
            return _finish(res, 2, f"The strong-Wolfe line search failed at iteration {k} "
                                   f"(no acceptable step, e.g. precision loss or non-finite "
                                   f"values).")
        s = ls.alpha * p
        y = ls.g_new - g
        x, f_prev, f, g = x + s, f, ls.f_new, ls.g_new
        if float(s @ y) > _EPS * float(y @ y):
            if scaled and k == 0:  # N&W eq. 6.20, before the first update
                H = (float(s @ y) / float(y @ y)) * np.eye(d)
            H = bfgs_update(H, s, y)
        res.nit += 1
        res.x, res.fun, res.jac, res.hess_inv = x, f, g, H
        record(res.history, x, f, g, ls.alpha, res.nfev)
        if callback is not None:
            callback(OptimizeResult(x=x.copy(), fun=f, jac=g.copy(), nit=res.nit,
                                    nfev=res.nfev, njev=res.njev, hess_inv=H.copy()))
    raise AssertionError("unreachable")  # pragma: no cover


def lbfgs(fun_and_grad, x0, m: int = 10, gtol: float = 1e-5,
          ftol: float = 2.220446049250313e-09, max_iter: int = 15000, max_fun: int = 15000,
          c1: float = 1e-4, c2: float = 0.9, max_ls: int = 20, callback=None) -> OptimizeResult:
    r"""Limited-memory BFGS with a strong-Wolfe line search.

    .. math::

        p_k = -H_k \nabla f(x_k)\ \text{(two-loop recursion over the last } m
        \text{ pairs, } H_k^0 = \gamma_k I),\qquad x_{k+1} = x_k + \alpha_k p_k

    The first step (and the step after a restart) is steepest descent with trial length
    :math:`1/\lVert\nabla f\rVert_2`; later trials start at :math:`\alpha = 1`. A pair with
    :math:`y^\top s \le \varepsilon\,\lVert y\rVert^2` is not stored. If a line search fails
    the memory is dropped and the iteration restarts with steepest descent; a second failure
    in a row ends the run (as L-BFGS-B does).

    Stops with success when :math:`\lVert\nabla f\rVert_\infty \le` ``gtol`` or the relative
    decrease :math:`(f_{k-1} - f_k)/\max(|f_{k-1}|, |f_k|, 1) \le` ``ftol`` (SciPy L-BFGS-B's
    two tests and defaults); otherwise at ``max_iter`` iterations, ``max_fun`` evaluations,
    repeated line-search failure or a non-finite value (never raising).

    Args:
        fun_and_grad: ``fun_and_grad(x) -> (f, g)``, float64; one call is one evaluation.
        x0: the start, shape ``(d,)``.
        m: the number of stored pairs (L-BFGS-B's ``maxcor``).
        gtol, ftol: the tolerances above.
        max_iter, max_fun: the most iterations and evaluations.
        c1, c2, max_ls: the strong-Wolfe constants and its most evaluations per search.
        callback: ``callback(intermediate)`` after each iteration with an
            :class:`OptimizeResult`.

    Returns:
        An :class:`~trainart.newton.OptimizeResult`.

    Reference: Nocedal and Wright (2006), *Numerical Optimization*, 2nd ed., Algorithm 7.5;
    Liu and Nocedal (1989), "On the limited memory BFGS method for large scale
    optimization", *Mathematical Programming* 45.
    """
    owner = "lbfgs"
    x = _start(owner, fun_and_grad, x0)
    m = _checks.positive_int(owner, "m", m)
    gtol = _checks.non_negative(owner, "gtol", gtol)
    ftol = _checks.non_negative(owner, "ftol", ftol)
    max_iter = _checks.positive_int(owner, "max_iter", max_iter)
    max_fun = _checks.positive_int(owner, "max_fun", max_fun)
    max_ls = _checks.positive_int(owner, "max_ls", max_ls)
    c1 = _open_unit(owner, "c1", c1)
    c2 = _open_unit(owner, "c2", c2, low=c1)
    res = OptimizeResult(x=x, fun=math.nan)
    first = _first_eval(owner, res, fun_and_grad, x)
    if first is None:
        return res
    f, g = first
    S, Y = [], []
    if np.max(np.abs(g)) <= gtol:
        return _finish(res, 0, "Optimization terminated successfully: max |gradient| <= gtol.")
    while True:
        if res.nit >= max_iter:
            return _finish(res, 1, "Maximum number of iterations reached.")
        if res.nfev >= max_fun:
            return _finish(res, 1, "Maximum number of function evaluations reached.")
        p = -two_loop(g, S, Y)
        if not float(g @ p) < 0:  # cannot happen with y^T s > 0, but be safe
            S, Y, p = [], [], -g
        alpha0 = 1.0 if S else min(1.0, 1.0 / float(np.linalg.norm(p)))
        ls = _strong_wolfe(fun_and_grad, x, f, g, p, alpha0, c1, c2,
                           min(max_ls, max_fun - res.nfev), owner, "fun_and_grad")
        res.nfev += ls.nfev
        res.njev += ls.nfev
        if not ls.success:
            if S:  # restart from steepest descent once
                S, Y = [], []
                continue
            return _finish(res, 2, f"The strong-Wolfe line search failed at iteration "
                                   f"{res.nit} even along steepest descent (precision loss "
                                   f"or non-finite values).")
        s = ls.alpha * p
        y = ls.g_new - g
        if float(s @ y) > _EPS * float(y @ y):
            S.append(s)
            Y.append(y)
            if len(S) > m:
                S.pop(0)
                Y.pop(0)
        f_old = f
        x, f, g = x + s, ls.f_new, ls.g_new
        res.nit += 1
        res.x, res.fun, res.jac = x, f, g
        record(res.history, x, f, g, ls.alpha, res.nfev)
        if callback is not None:
            callback(OptimizeResult(x=x.copy(), fun=f, jac=g.copy(), nit=res.nit,
                                    nfev=res.nfev, njev=res.njev))
        if np.max(np.abs(g)) <= gtol:
            return _finish(res, 0, "Optimization terminated successfully: "
                                   "max |gradient| <= gtol.")
        if (f_old - f) / max(abs(f_old), abs(f), 1.0) <= ftol:
            return _finish(res, 0, "Optimization terminated successfully: relative "
                                   "reduction of f <= ftol.")
