"""L-BFGS and BFGS: trainart.newton against ``scipy.optimize.minimize`` on test problems.

Each problem is one ``fun_and_grad(x) -> (f, g)`` in float64 NumPy, handed unchanged to
both sides: :func:`trainart.newton.lbfgs` against ``method="L-BFGS-B"`` and
:func:`trainart.newton.bfgs` against ``method="BFGS"``, all at their defaults (memory 10,
``gtol=1e-5``; L-BFGS-B's ``ftol``). Counted: function evaluations (one call of
``fun_and_grad``), iterations, the final value, and the time of a whole run (interleaved,
median). "Same minimum": both succeed, and their final points agree to 1e-3 (max-norm,
relative to max(1, |x|)) or, on a flat minimum that pins f but not x (Powell's), their final
values to 1e-6.

Problems (standard starts): Rosenbrock in 2 and 100 dimensions from (-1.2, 1, -1.2, ...);
Beale from (1, 1); Powell's singular function from (3, -1, 0, 1); a 50-dimensional
quadratic with condition number 1e4; L2-regularised logistic regression on scikit-learn's
breast-cancer data (30 standardised features and a bias). The set over which the counts are
judged adds Rosenbrock 10-D from 8 seeded random starts: a long run's count moves by a few
percent with the CPU's BLAS kernels (Rosenbrock 100-D: 602-609 evaluations, the quadratic
389-413 under three OpenBLAS/ATen settings), so the target is on the set's median ratio and
its largest ratio, never a tie on one problem.
"""

from __future__ import annotations

import numpy as np
from scipy import optimize

from .report import Row
from .timing import fmt_seconds, interleaved

GROUP = "quasi-Newton"
SAME_X_RTOL = 1e-3
SAME_F_TOL = 1e-6


def rosenbrock(dim: int):
    def fun_and_grad(x):
        return optimize.rosen(x), optimize.rosen_der(x)
    start = np.array([-1.2 if i % 2 == 0 else 1.0 for i in range(dim)])
    return f"Rosenbrock {dim}-D", fun_and_grad, start


def beale():
    c = np.array([1.5, 2.25, 2.625])
    k = np.arange(1, 4)

    def fun_and_grad(x):
        a, b = x
        r = c - a * (1 - b**k)
        grad = np.array([np.sum(2 * r * -(1 - b**k)), np.sum(2 * r * a * k * b ** (k - 1))])
        return float(np.sum(r**2)), grad
    return "Beale 2-D", fun_and_grad, np.array([1.0, 1.0])


def powell_singular():
    def fun_and_grad(x):
        a, b, c, d = x
        r = np.array([a + 10 * b, np.sqrt(5) * (c - d), (b - 2 * c) ** 2,
                      np.sqrt(10) * (a - d) ** 2])
        J = np.array([[1, 10, 0, 0], [0, 0, np.sqrt(5), -np.sqrt(5)],
                      [0, 2 * (b - 2 * c), -4 * (b - 2 * c), 0],
                      [2 * np.sqrt(10) * (a - d), 0, 0, -2 * np.sqrt(10) * (a - d)]])
        return float(r @ r), 2 * J.T @ r
    return "Powell singular 4-D", fun_and_grad, np.array([3.0, -1.0, 0.0, 1.0])


def quadratic(dim: int = 50, cond: float = 1e4, seed: int = 0):
    rng = np.random.default_rng(seed)
    Q, _ = np.linalg.qr(rng.standard_normal((dim, dim)))
    A = (Q * np.logspace(0, np.log10(cond), dim)) @ Q.T
    b = rng.standard_normal(dim)

    def fun_and_grad(x):
        Ax = A @ x
        return float(0.5 * x @ Ax - b @ x), Ax - b
    return f"quadratic {dim}-D, cond {cond:.0e}", fun_and_grad, np.zeros(dim)


def logistic_regression(lam: float = 1e-3):
    from sklearn.datasets import load_breast_cancer

    X, y = load_breast_cancer(return_X_y=True)
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    X = np.hstack([X, np.ones((len(X), 1))])
    s = 2.0 * y - 1  # labels in {-1, +1}

    def fun_and_grad(w):
        z = s * (X @ w)
        loss = np.mean(np.logaddexp(0.0, -z)) + 0.5 * lam * w @ w
        grad = X.T @ (-s / (1 + np.exp(z))) / len(X) + lam * w
        return float(loss), grad
    return "logistic regression (breast cancer, 31-D)", fun_and_grad, np.zeros(X.shape[1])


def problems(smoke: bool = False) -> list:
    if smoke:
        return [rosenbrock(2)]
    return [rosenbrock(2), rosenbrock(100), beale(), powell_singular(), quadratic(),
            logistic_regression()]


def random_rosenbrock_starts(count: int = 8, dim: int = 10, seed: int = 0) -> list:
    """Rosenbrock in ``dim`` dimensions from ``count`` seeded uniform starts in [-2, 2]^dim."""
    rng = np.random.default_rng(seed)
    _, fun_and_grad, _ = rosenbrock(dim)
    return [(f"Rosenbrock {dim}-D, random start {k}", fun_and_grad, rng.uniform(-2, 2, dim))
            for k in range(count)]


def problem_set() -> list:
    """The set over which evaluation counts are compared: one chaotic run (Rosenbrock 100-D,
    the 50-D quadratic) moves by a few percent with the CPU's BLAS kernels, so a claim about
    counts is a statement about the whole set's ratios, not a tie on one problem."""
    return problems() + random_rosenbrock_starts()


def evaluation_ratios(method: str = "L-BFGS") -> dict[str, tuple[int, int]]:
    """{problem: (trainart's evaluations, scipy's)} over :func:`problem_set`."""
    counts = {}
    for name, fun_and_grad, x0 in problem_set():
        ours, ref = (run() for run in _runners(fun_and_grad, x0)[method])
        if not (ours.success and ref.success):
            raise RuntimeError(f"{method} on {name}: {ours.message} / {ref.message}")
        counts[name] = (int(ours.nfev), int(ref.nfev))
    return counts


def _runners(fun_and_grad, x0):
    from trainart.newton import bfgs, lbfgs

    return {
        "L-BFGS": (lambda: lbfgs(fun_and_grad, x0),
                   lambda: optimize.minimize(fun_and_grad, x0, jac=True, method="L-BFGS-B")),
        "BFGS": (lambda: bfgs(fun_and_grad, x0),
                 lambda: optimize.minimize(fun_and_grad, x0, jac=True, method="BFGS")),
    }


def _summary(res, seconds: float) -> str:
    return f"{res.nfev} fev, {res.nit} it, f={res.fun:.1e}, {fmt_seconds(seconds)}"


def _set_row(method: str) -> Row:
    counts = evaluation_ratios(method)
    ratios = np.array([ours / ref for ours, ref in counts.values()])
    reference = "scipy L-BFGS-B" if method == "L-BFGS" else "scipy BFGS"
    judged = method == "L-BFGS"
    return Row(
        GROUP, f"{method} vs {reference}: evaluations over {len(ratios)} problems "
               f"(median ratio, range)",
        f"{sum(o for o, _ in counts.values())} fev in all",
        f"{sum(r for _, r in counts.values())} fev in all", float(np.median(ratios)),
        f"median <= 1.02x, each <= 1.15x ({ratios.min():.2f}x-{ratios.max():.2f}x)"
        if judged else f"{ratios.min():.2f}x-{ratios.max():.2f}x",
        bool(np.median(ratios) <= 1.02 and ratios.max() <= 1.15) if judged else None,
        {"method": method, "counts": counts, "median_ratio": float(np.median(ratios)),
         "min_ratio": float(ratios.min()), "max_ratio": float(ratios.max())},
    )


def run(smoke: bool = False) -> list[Row]:
    rows = [] if smoke else [_set_row("L-BFGS"), _set_row("BFGS")]
    for name, fun_and_grad, x0 in problems(smoke):
        for method, (ta_run, sp_run) in _runners(fun_and_grad, x0).items():
            ta, sp = ta_run(), sp_run()
            times = interleaved({"trainart": ta_run, "scipy": sp_run},
                                rounds=3 if smoke else 7, warmup=0)
            t_ta, t_sp = times["trainart"].median, times["scipy"].median
            scale = max(1.0, float(np.max(np.abs(sp.x))))
            same = bool(ta.success and sp.success
                        and (np.max(np.abs(ta.x - sp.x)) <= SAME_X_RTOL * scale
                             or abs(ta.fun - sp.fun) <= SAME_F_TOL * max(1.0, abs(sp.fun))))
            reference = "scipy L-BFGS-B" if method == "L-BFGS" else "scipy BFGS"
            rows.append(Row(
                GROUP, f"{method} vs {reference}, {name}: function evaluations",
                _summary(ta, t_ta), _summary(sp, t_sp), ta.nfev / sp.nfev,
                "same minimum", same,
                {"problem": name, "method": method, "same_minimum": same,
                 "trainart": {"nfev": ta.nfev, "nit": ta.nit, "fun": float(ta.fun),
                              "success": bool(ta.success), "message": ta.message,
                              "seconds": times["trainart"].seconds},
                 "reference": {"nfev": int(sp.nfev), "nit": int(sp.nit), "fun": float(sp.fun),
                               "success": bool(sp.success), "message": str(sp.message),
                               "seconds": times["scipy"].seconds},
                 "time_ratio": t_ta / t_sp},
            ))
    return rows
