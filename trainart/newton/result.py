"""The result of an optimizer run, in the spirit of ``scipy.optimize.OptimizeResult``."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["OptimizeResult", "STATUS"]

#: What each ``status`` code means (0 and only 0 is a success).
STATUS = {
    0: "converged",
    1: "maximum number of iterations or function evaluations reached",
    2: "the line search failed",
    3: "non-finite value (nan or inf)",
    4: "singular Hessian",
    5: "the inner conjugate-gradient solve did not converge",
}


def new_history() -> dict:
    """An empty per-iteration history: iterates, values, gradient norms, steps, fevals."""
    return {"x": [], "fun": [], "grad_norm": [], "step": [], "nfev": []}


def record(history: dict, x, fun, grad, step, nfev) -> None:
    """Append one iterate to ``history`` (``step`` is ``nan`` for the start)."""
    history["x"].append(np.array(x, dtype=np.float64, copy=True))
    history["fun"].append(float(fun))
    history["grad_norm"].append(float(np.linalg.norm(grad)) if grad is not None else np.nan)
    history["step"].append(float(step))
    history["nfev"].append(int(nfev))


@dataclass
class OptimizeResult:
    r"""What an optimizer returns: the final point, its value and how it got there.

    Attributes:
        x: the final iterate, float64 of shape ``(d,)``.
        fun: :math:`f(x)`.
        jac: the gradient :math:`\nabla f(x)` at the final iterate (``None`` if unknown).
        nit: the number of iterations (accepted steps).
        nfev: the number of function evaluations; one call of a ``fun_and_grad`` counts
            once, as ``scipy.optimize.minimize(..., jac=True)`` counts it.
        njev: the number of gradient evaluations.
        nhev: the number of Hessian evaluations (Hessian-vector products for
            :func:`~trainart.newton.newton_cg`).
        success: whether a convergence test was met.
        status: ``0`` converged, ``1`` iteration/evaluation limit, ``2`` line search
            failed, ``3`` non-finite value, ``4`` singular Hessian, ``5`` the inner CG of
            :func:`~trainart.newton.newton_cg` did not converge (see ``STATUS``).
        message: a sentence saying why the run stopped.
        history: per-iteration lists, the start included: ``'x'`` (iterates), ``'fun'``,
            ``'grad_norm'`` (Euclidean), ``'step'`` (the step length :math:`\alpha` that led
            to the iterate, ``nan`` for the start) and ``'nfev'`` (cumulative evaluations).
            Some optimizers add lists (Newton's ``'fallback'``).
        hess_inv: BFGS's final inverse-Hessian approximation (``None`` elsewhere).

    Like SciPy's result it can also be read as a mapping: ``res["x"]``, ``res.keys()``.
    """

    x: np.ndarray
    fun: float
    jac: np.ndarray | None = None
    nit: int = 0
    nfev: int = 0
    njev: int = 0
    nhev: int = 0
    success: bool = False
    status: int = 0
    message: str = ""
    history: dict = field(default_factory=new_history)
    hess_inv: np.ndarray | None = None

    def __getitem__(self, key: str):
        try:
            return getattr(self, key)
        except AttributeError:
            raise KeyError(key) from None

    def keys(self) -> list[str]:
        """The field names, as a mapping's keys."""
        return list(self.__dataclass_fields__)

    def __repr__(self) -> str:
        x = np.array2string(np.asarray(self.x), precision=6, threshold=8)
        return (f"OptimizeResult(success={self.success}, status={self.status}, "
                f"message={self.message!r}, fun={self.fun:.6g}, x={x}, nit={self.nit}, "
                f"nfev={self.nfev}, njev={self.njev}, nhev={self.nhev})")
