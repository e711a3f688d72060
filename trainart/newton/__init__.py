r"""Second-order optimization: Newton's method, BFGS and L-BFGS, written out in NumPy.

* :mod:`.derivatives` - gradients and Hessians: centred differences, ``torch.func``
  autograd for functions and small models, and a model's loss as a function of one flat
  parameter vector;
* :mod:`.linesearch` - the backtracking (Armijo) and strong-Wolfe line searches;
* ``newton`` - Newton's method, pure, damped and regularized (:math:`H + \\mu I`),
  with a fallback for Hessians that are not positive definite;
* ``newton_cg`` - Hessian-free (truncated) Newton: conjugate gradients on
  Hessian-vector products;
* :mod:`.quasi_newton` - BFGS and limited-memory BFGS (the two-loop recursion);
* :mod:`.result` - :class:`OptimizeResult`, in the spirit of ``scipy.optimize.OptimizeResult``.

Every optimizer takes plain callables on float64 NumPy vectors (a :mod:`trainart.surfaces`
surface's ``f``, ``grad`` and ``hessian`` work as they are), counts every function
evaluation, records a per-iteration ``history`` and never raises on a numerical failure
(NaN/inf, a singular Hessian, a failed line search): the result says what happened. A
callable that returns the wrong kind of thing (``fun_and_grad`` returning only a float, a
gradient or Hessian of the wrong shape) raises at once, with a message naming the optimizer,
the callable, what was expected and what came.

Example::

    from trainart.newton import lbfgs, newton
    from trainart.surfaces import Rosenbrock

    r = Rosenbrock()
    res = newton(r.f, r.grad, r.hessian, r.start)
    res2 = lbfgs(lambda x: (r.f(x), r.grad(x)), r.start)
"""

from .derivatives import (
    flat_params,
    model_hessian,
    model_objective,
    numerical_gradient,
    numerical_hessian,
    set_flat_params_,
    torch_gradient,
    torch_hessian,
)
from .linesearch import LineSearchResult, backtracking, strong_wolfe
from .newton import newton, newton_step
from .newton_cg import newton_cg, truncated_cg
from .quasi_newton import bfgs, bfgs_update, lbfgs, two_loop
from .result import STATUS, OptimizeResult

__all__ = [
    "OptimizeResult", "STATUS", "numerical_gradient", "numerical_hessian", "torch_gradient",
    "torch_hessian", "model_hessian", "flat_params", "set_flat_params_", "model_objective",
    "LineSearchResult", "backtracking", "strong_wolfe", "newton_step", "newton", "bfgs",
    "bfgs_update", "two_loop", "lbfgs", "truncated_cg", "newton_cg",
]
