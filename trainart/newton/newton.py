r"""Newton's method: minimize the local quadratic model

.. math::

    m_k(p) = f(x_k) + \nabla f(x_k)^\top p + \tfrac12\, p^\top \nabla^2 f(x_k)\, p
    \quad\Longrightarrow\quad \nabla^2 f(x_k)\, p_k = -\nabla f(x_k),
    \qquad x_{k+1} = x_k + \alpha_k p_k .

Pure Newton takes :math:`\alpha_k = 1` and converges quadratically near a minimum with a
positive-definite Hessian (:math:`\lVert e_{k+1}\rVert \le C \lVert e_k\rVert^2`), but it
goes just as happily to a saddle or a maximum, and may diverge from far away. Damped Newton
chooses :math:`\alpha_k` by backtracking and, where the Hessian is not positive definite,
replaces the Newton direction by a descent direction.
"""

from __future__ import annotations

import math

import numpy as np

from .. import _checks
from .._lazy import lazy_import
from . import _outputs
from .linesearch import _open_unit, backtracking
from .result import OptimizeResult, record

scipy = lazy_import("scipy")

__all__ = ["newton_step", "newton"]


def newton_step(g, H, shift: float = 0.0) -> np.ndarray:
    r"""The Newton direction: the solution of :math:`H p = -g`, or with ``shift`` :math:`\mu`
    the regularized Newton direction

    .. math::

        (H + \mu I)\, p = -g ,

    by a Cholesky factorization :math:`H + \mu I = LL^\top` and two triangular solves when
    the matrix is positive definite (``scipy.linalg.cho_factor``, ``cho_solve``) and an LU
    solve otherwise (never an explicit inverse). In the eigenbasis of :math:`H` the step is
    :math:`p_i = -g_i / (\lambda_i + \mu)`: :math:`\mu = 0` is Newton's step, a large
    :math:`\mu` gives :math:`p \approx -g/\mu`, a gradient step with learning rate
    :math:`1/\mu`, and any :math:`\mu > -\lambda_{\min}` makes the matrix positive
    definite, so that :math:`p` is a descent direction.

    Args:
        g: the gradient, shape ``(d,)``.
        H: the Hessian, shape ``(d, d)`` (symmetric).
        shift: :math:`\mu \ge 0`, the multiple of the identity added to :math:`H`.

    Returns:
        :math:`p = -(H + \mu I)^{-1} g`, float64 of shape ``(d,)``.

    Raises:
        numpy.linalg.LinAlgError: (a ``ValueError``) if :math:`H + \mu I` is singular to
            working precision (smallest singular value :math:`\le d\,\varepsilon\,
            \sigma_{\max}`).

    Reference: Nocedal and Wright (2006), *Numerical Optimization*, 2nd ed., eq. 3.3,
    section 3.4 (modification by a multiple of the identity) and section A.1 (Cholesky).
    """
    owner = "newton_step"
    g = _checks.float_array(owner, "g", g).astype(np.float64)
    H = _checks.float_array(owner, "H", H).astype(np.float64)
    shift = _checks.non_negative(owner, "shift", shift)
    if g.ndim != 1 or H.shape != (g.size, g.size):
        raise ValueError(f"{owner}: H must have shape (d, d) for g of shape (d,), got "
                         f"{H.shape} and {g.shape}")
    if shift:
        H = H + shift * np.eye(g.size)
    p = _cholesky_step(g, H)
    if p is not None:
        return p
    sv = np.linalg.svd(H, compute_uv=False)
    if not sv[-1] > g.size * np.finfo(np.float64).eps * sv[0]:
        raise np.linalg.LinAlgError(f"{owner}: H is singular")
    return scipy.linalg.lu_solve(scipy.linalg.lu_factor(H, check_finite=False), -g,
                                 check_finite=False)


def _cholesky_step(g, H):
    """:math:`-H^{-1}g` from :math:`H = LL^\top` and two triangular solves, or ``None`` if the
    factorization fails (:math:`H` not positive definite)."""
    try:
        factor = scipy.linalg.cho_factor(H, lower=True, check_finite=False)
    except np.linalg.LinAlgError:
        return None
    return scipy.linalg.cho_solve(factor, -g, check_finite=False)


def _modified_direction(g, H, fallback: str) -> np.ndarray:
    r"""A descent direction when :math:`H` is not positive definite.

    ``"eigen"``: flip and floor the eigenvalues,
    :math:`p = -Q\,\operatorname{diag}(1/\max(|\lambda_i|, \delta))\,Q^\top g` with
    :math:`\delta = \sqrt{\varepsilon}\max(1, \max_i|\lambda_i|)`; ``"identity"``: steepest
    descent :math:`p = -g`.
    """
    if fallback == "identity":
        return -g
    lam, Q = np.linalg.eigh(H)
    delta = math.sqrt(np.finfo(np.float64).eps) * max(1.0, float(np.max(np.abs(lam))))
    return -Q @ ((Q.T @ g) / np.maximum(np.abs(lam), delta))


def _named(owner, fun):
    """``fun`` whose return value is checked under the caller's name (``"newton: fun must
    return a scalar, ..."``) when a line search calls it."""
    return lambda x: _outputs.value(owner, "fun", fun(x))


def _finite(*values) -> bool:
    return all(np.all(np.isfinite(v)) for v in values)


def newton(fun, grad, hess, x0, damped: bool = True, tol: float = 1e-8, max_iter: int = 100,
           fallback: str = "eigen", c1: float = 1e-4, rho: float = 0.5,
           shift: float = 0.0) -> OptimizeResult:
    r"""Newton's method, pure or damped.

    .. math::

        \nabla^2 f(x_k)\,p_k = -\nabla f(x_k), \qquad x_{k+1} = x_k + \alpha_k p_k

    * ``damped=False`` (pure): :math:`\alpha_k = 1` whatever happens; an indefinite Hessian
      is used as it is (so the method can stop at a saddle point), a singular one stops the
      run.
    * ``damped=True``: :math:`\alpha_k` by :func:`~trainart.newton.backtracking` from 1;
      where the Hessian is not positive definite (its Cholesky factorization fails) the
      ``fallback`` direction is used instead: ``"eigen"`` replaces each eigenvalue
      :math:`\lambda_i` by :math:`\max(|\lambda_i|, \delta)`, ``"identity"`` takes steepest
      descent :math:`-\nabla f`. The message says how often this happened, and
      ``history['fallback']`` marks the iterates it led to.
    * ``shift`` :math:`\mu > 0` (regularized Newton): every step solves
      :math:`(\nabla^2 f(x_k) + \mu I)\,p_k = -\nabla f(x_k)` instead (see
      :func:`newton_step`); with :math:`\mu > -\lambda_{\min}` the matrix is positive
      definite and the fallback is never needed.

    Stops when :math:`\lVert\nabla f(x_k)\rVert_2 \le` ``tol`` (success), after ``max_iter``
    iterations, when the line search fails, at a singular Hessian (pure), or at a non-finite
    value or start; it never raises on these, the result's ``message`` says which.

    Args:
        fun, grad, hess: :math:`f(x)` (a scalar), :math:`\nabla f(x)` (shape ``(d,)``) and
            :math:`\nabla^2 f(x)` (shape ``(d, d)``); e.g. a surface's ``f``, ``grad`` and
            ``hessian``.
        x0: the start, shape ``(d,)``.
        damped: backtracking and the fallback (True) or pure Newton (False).
        tol: the gradient-norm tolerance.
        max_iter: the most iterations.
        fallback: ``"eigen"`` or ``"identity"`` (used only when ``damped``).
        c1, rho: the backtracking constants.
        shift: :math:`\mu \ge 0`, added to the Hessian's diagonal at every step.

    Returns:
        An :class:`~trainart.newton.OptimizeResult` (``nfev``, ``njev``, ``nhev`` count the
        calls of ``fun``, ``grad``, ``hess``).

    Reference: Nocedal and Wright (2006), *Numerical Optimization*, 2nd ed., sections 3.3
    (convergence rate, Theorem 3.5) and 3.4 (Newton's method with Hessian modification).
    """
    owner = "newton"
    x = _outputs.start_point(owner, x0)
    tol = _checks.non_negative(owner, "tol", tol)
    max_iter = _checks.positive_int(owner, "max_iter", max_iter)
    _checks.one_of(owner, "fallback", fallback, ("eigen", "identity"))
    shift = _checks.non_negative(owner, "shift", shift)
    c1 = _open_unit(owner, "c1", c1)
    rho = _open_unit(owner, "rho", rho)
    for name, fn in (("fun", fun), ("grad", grad), ("hess", hess)):
        if not callable(fn):
            raise TypeError(f"{owner}: fun, grad and hess must be callables, got "
                            f"{name} = {type(fn).__name__}")
    d = x.size

    res = OptimizeResult(x=x, fun=math.nan)
    res.history["fallback"] = []

    def done(status: int, message: str) -> OptimizeResult:
        res.status, res.success = status, status == 0
        if n_fallback and damped:
            message += (f" The Hessian was not positive definite at {n_fallback} iterate(s); "
                        f"the {fallback} fallback direction was used there.")
        res.message = message
        return res

    n_fallback = 0
    if not _finite(x):
        return done(3, "The start x0 is not finite.")
    f = _outputs.value(owner, "fun", fun(x))
    g = _outputs.vector(owner, "grad", grad(x), d)
    res.nfev, res.njev = 1, 1
    res.x, res.fun, res.jac = x, f, g
    record(res.history, x, f, g, math.nan, res.nfev)
    res.history["fallback"].append(False)
    for k in range(max_iter + 1):
        if not _finite(f, g):
            return done(3, f"Non-finite function value or gradient at iteration {k} "
                           f"(f = {f}).")
        if np.linalg.norm(g) <= tol:
            return done(0, "Optimization terminated successfully: gradient norm <= tol.")
        if k == max_iter:
            return done(1, "Maximum number of iterations reached.")
        H = _outputs.matrix(owner, "hess", hess(x), d)
        if shift:
            H = H + shift * np.eye(d)
        res.nhev += 1
        if not _finite(H):
            return done(3, f"Non-finite Hessian at iteration {k}.")
        used_fallback = False
        if damped:
            p = _cholesky_step(g, H)  # one factorization: the test and the solve
            if p is None:
                p = _modified_direction(g, H, fallback)
                used_fallback = True
                n_fallback += 1
            ls = backtracking(_named(owner, fun), x, f, g, p, alpha0=1.0, rho=rho, c1=c1)
            res.nfev += ls.nfev
            if not ls.success:
                return done(2, f"The backtracking line search found no sufficient decrease at "
                               f"iteration {k}.")
            alpha, x, f = ls.alpha, x + ls.alpha * p, ls.f_new
        else:
            try:
                p = newton_step(g, H)
            except np.linalg.LinAlgError:
                return done(4, f"The Hessian is singular at iteration {k}; the Newton step "
                               f"is undefined.")
            alpha, x = 1.0, x + p
            f = _outputs.value(owner, "fun", fun(x))
            res.nfev += 1
        g = _outputs.vector(owner, "grad", grad(x), d)
        res.njev += 1
        res.nit += 1
        res.x, res.fun, res.jac = x, f, g
        record(res.history, x, f, g, alpha, res.nfev)
        res.history["fallback"].append(used_fallback)
    raise AssertionError("unreachable")  # pragma: no cover
