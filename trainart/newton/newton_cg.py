r"""Hessian-free Newton: the truncated Newton-CG method.

Newton's step solves :math:`\nabla^2 f(x_k)\,p = -\nabla f(x_k)`. The conjugate-gradient
method (CG) solves such a system with nothing but products :math:`v \mapsto \nabla^2 f(x_k)
v`, and a Hessian-vector product costs about one more gradient (by autograd, or by a
difference of two gradients), so the :math:`d \times d` Hessian is never formed: memory
:math:`O(d)`, and a few CG iterations per Newton step instead of an :math:`O(d^3)` solve.
*Truncated*: CG stops early, when its residual is small relative to the gradient (a forcing
sequence that makes the steps exact enough for superlinear convergence), or as soon as it
meets a direction of non-positive curvature. This is the inner solver of Hessian-free
optimization (Martens, 2010).

The algorithm is SciPy's ``minimize(method="Newton-CG")`` step for step (the same forcing
sequence, curvature tests, first trial step and stopping test), so the two produce the same
iterates whenever their strong-Wolfe line searches accept the same step.
"""

from __future__ import annotations

import math
from functools import partial

import numpy as np

from .. import _checks
from . import _outputs
from .linesearch import _open_unit, _strong_wolfe
from .result import OptimizeResult, record

__all__ = ["truncated_cg", "newton_cg"]

_EPS = np.finfo(np.float64).eps


def truncated_cg(hvp, g, max_iter: int | None = None):
    r"""Approximately solve :math:`Hp = -g` by conjugate gradients, using only products
    :math:`Hv`.

    .. math::

        &p_0 = 0,\ r_0 = g,\ d_0 = -r_0;\quad \text{for } i = 0, 1, \dots:\\
        &\quad \alpha_i = \frac{r_i^\top r_i}{d_i^\top H d_i},\ p_{i+1} = p_i + \alpha_i d_i,\
            r_{i+1} = r_i + \alpha_i H d_i,\
            d_{i+1} = -r_{i+1} + \frac{r_{i+1}^\top r_{i+1}}{r_i^\top r_i}\, d_i

    (:math:`r_i = Hp_i + g` is the residual). It stops when :math:`\lVert r_i\rVert_1 \le
    \eta\,\lVert g\rVert_1` with the forcing term :math:`\eta = \min(0.5,
    \lVert g\rVert_1^{1/2})`, or when a direction has curvature :math:`d_i^\top H d_i \le
    3\varepsilon`: at :math:`i > 0` it returns the :math:`p_i` reached so far (a descent
    direction), at :math:`i = 0` (negative curvature along :math:`-g`) the scaled steepest
    descent step :math:`-\frac{g^\top g}{|g^\top H g|}\, g`.

    Args:
        hvp: ``hvp(v) -> H v``, a vector of shape ``(d,)``.
        g: the gradient, shape ``(d,)``.
        max_iter: the most CG iterations (default :math:`20d`, as SciPy).

    Returns:
        ``(p, n_products, converged)``: the direction, the number of calls of ``hvp`` and
        ``False`` if ``max_iter`` iterations ended without meeting a stopping test.

    Reference: Nocedal and Wright (2006), *Numerical Optimization*, 2nd ed., Algorithm 7.1
    (line search Newton-CG); SciPy, ``scipy.optimize._optimize._minimize_newtoncg``.
    """
    owner = "truncated_cg"
    g = _checks.float_array(owner, "g", g).astype(np.float64)
    if g.ndim != 1:
        raise ValueError(f"{owner}: g must be a vector of shape (d,), got shape {g.shape}")
    d = g.size
    max_iter = 20 * d if max_iter is None else _checks.positive_int(owner, "max_iter",
                                                                       max_iter)
    return _truncated_cg(owner, hvp, g, max_iter)


def _truncated_cg(owner, hvp, g, max_iter):
    d = g.size
    g_norm1 = float(np.sum(np.abs(g)))
    tolerance = min(0.5, math.sqrt(g_norm1)) * g_norm1   # eta * |g|_1, the forcing term
    p = np.zeros(d)
    r = g.copy()            # the residual H p + g
    direction = -r
    rr = float(r @ r)
    n_products = 0
    for i in range(max_iter):
        if np.sum(np.abs(r)) <= tolerance:
            return p, n_products, True
        Hd = _outputs.vector(owner, "hessp", hvp(direction), d)
        n_products += 1
        curvature = float(direction @ Hd)
        if 0 <= curvature <= 3 * _EPS:
            return p, n_products, True
        if curvature < 0:   # negative curvature: stop with what we have
            if i == 0:
                p = (rr / -curvature) * -g     # steepest descent, scaled
            return p, n_products, True
        alpha = rr / curvature
        p = p + alpha * direction
        r = r + alpha * Hd
        rr_new = float(r @ r)
        direction = -r + (rr_new / rr) * direction
        rr = rr_new
    return p, n_products, False


def newton_cg(fun, grad, hessp, x0, xtol: float = 1e-5, max_iter: int | None = None,
              c1: float = 1e-4, c2: float = 0.9, max_ls: int = 25,
              callback=None) -> OptimizeResult:
    r"""Truncated (Hessian-free) Newton: Newton steps computed by conjugate gradients from
    Hessian-vector products only.

    .. math::

        \nabla^2 f(x_k)\, p_k \approx -\nabla f(x_k)\ \text{(by } \texttt{truncated\_cg}
        \text{, products } \nabla^2 f(x_k) v\text{ only)},\qquad
        x_{k+1} = x_k + \alpha_k p_k

    :math:`\alpha_k` comes from a strong-Wolfe line search whose first trial is
    :math:`\min\bigl(1, 1.01\cdot 2(f_k - f_{k-1})/\nabla f_k^\top p_k\bigr)` (1 at the
    start or when that is not positive), as in SciPy. Stops with success when a step is
    short, :math:`\lVert\alpha_k p_k\rVert_1 \le d\cdot` ``xtol`` (SciPy's ``xtol`` is this
    average per coordinate), when CG returns a zero step (the curvature along
    :math:`-\nabla f` is at the rounding level, :math:`\le 3\varepsilon`), or at an exactly
    zero gradient; otherwise at ``max_iter``, a
    failed line search, an inner CG that does not converge in :math:`20d` iterations or a
    non-finite value (never raising).

    Args:
        fun, grad: :math:`f(x)` (a scalar) and :math:`\nabla f(x)` (shape ``(d,)``).
        hessp: ``hessp(x, v) -> \nabla^2 f(x) v`` (shape ``(d,)``), as SciPy's ``hessp``.
        x0: the start, shape ``(d,)``.
        xtol: the average step per coordinate below which the run stops.
        max_iter: the most Newton iterations (default :math:`200d`, as SciPy).
        c1, c2, max_ls: the strong-Wolfe constants and its most evaluations per search.
        callback: ``callback(intermediate)`` after each iteration, with an
            :class:`OptimizeResult`.

    Returns:
        An :class:`~trainart.newton.OptimizeResult`; ``nhev`` counts the Hessian-vector
        products, ``history['cg']`` the CG iterations of each step.

    Reference: Nocedal and Wright (2006), *Numerical Optimization*, 2nd ed., Algorithm 7.1;
    Martens (2010), "Deep learning via Hessian-free optimization", ICML;
    SciPy, ``scipy.optimize.minimize(method="Newton-CG")``.
    """
    owner = "newton_cg"
    for name, fn in (("fun", fun), ("grad", grad), ("hessp", hessp)):
        if not callable(fn):
            raise TypeError(f"{owner}: fun, grad and hessp must be callables, got "
                            f"{name} = {type(fn).__name__}")
    x = _outputs.start_point(owner, x0)
    d = x.size
    xtol = _checks.positive(owner, "xtol", xtol)
    max_iter = 200 * d if max_iter is None else _checks.positive_int(owner, "max_iter",
                                                                        max_iter)
    c1 = _open_unit(owner, "c1", c1)
    c2 = _open_unit(owner, "c2", c2, low=c1)
    max_ls = _checks.positive_int(owner, "max_ls", max_ls)

    def fun_and_grad(z):
        return (_outputs.value(owner, "fun", fun(z)), _outputs.vector(owner, "grad", grad(z), d))

    res = OptimizeResult(x=x, fun=math.nan)
    res.history["cg"] = [0]

    def done(status, message):
        res.status, res.success, res.message = status, status == 0, message
        return res

    if not np.all(np.isfinite(x)):
        return done(3, "The start x0 is not finite.")
    f, g = fun_and_grad(x)
    res.nfev = res.njev = 1
    res.fun, res.jac = f, g
    record(res.history, x, f, g, math.nan, res.nfev)
    f_prev = None
    while True:
        if not (math.isfinite(f) and np.all(np.isfinite(g))):
            return done(3, f"Non-finite function value or gradient at iteration {res.nit} "
                           f"(f = {f}).")
        if not np.any(g):
            return done(0, "Optimization terminated successfully: the gradient is zero.")
        if res.nit >= max_iter:
            return done(1, "Maximum number of iterations reached.")
        p, n_products, converged = _truncated_cg(owner, partial(hessp, x), g, 20 * d)
        res.nhev += n_products
        if not converged:
            return done(5, f"The conjugate-gradient solve did not converge in {20 * d} "
                           f"iterations at iteration {res.nit}.")
        if not np.any(p):   # CG stopped at once (curvature at rounding level): a zero step
            res.nit += 1     # counted as an iteration, as SciPy does
            record(res.history, x, f, g, 1.0, res.nfev)
            res.history["cg"].append(n_products)
            return done(0, "Optimization terminated successfully: the CG step is zero "
                           "(the curvature along -g is at the rounding level).")
        slope = float(g @ p)
        alpha0 = 1.0
        if f_prev is not None and slope != 0:
            guess = 2.02 * (f - f_prev) / slope
            alpha0 = min(1.0, guess) if guess > 0 else 1.0
        ls = _strong_wolfe(fun_and_grad, x, f, g, p, alpha0, c1, c2, max_ls, owner,
                           "fun_and_grad")
        res.nfev += ls.nfev
        res.njev += ls.nfev
        if not ls.success:
            return done(2, f"The strong-Wolfe line search failed at iteration {res.nit}.")
        step = ls.alpha * p
        x, f_prev, f, g = x + step, f, ls.f_new, ls.g_new
        res.nit += 1
        res.x, res.fun, res.jac = x, f, g
        record(res.history, x, f, g, ls.alpha, res.nfev)
        res.history["cg"].append(n_products)
        if callback is not None:
            callback(OptimizeResult(x=x.copy(), fun=f, jac=g.copy(), nit=res.nit,
                                    nfev=res.nfev, njev=res.njev, nhev=res.nhev))
        if float(np.sum(np.abs(step))) <= d * xtol:
            if not (math.isfinite(f) and np.all(np.isfinite(g))):
                return done(3, "Non-finite function value or gradient at the last iterate.")
            return done(0, "Optimization terminated successfully: the step "
                           "|alpha p|_1 <= d * xtol.")
