"""BFGS, L-BFGS and the strong-Wolfe line search (trainart.newton.quasi_newton, .linesearch).

* The two-loop recursion equals the explicit L-BFGS inverse Hessian (BFGS updates of
  gamma*I over the stored pairs) times g, to 1e-10 (hypothesis).
* BFGS's inverse Hessian satisfies the secant condition H y = s after every update.
* The strong-Wolfe line search returns steps satisfying both Wolfe conditions (hypothesis),
  and takes the exact minimizer of a quadratic after one overshooting trial.
* Same minimizers as scipy.optimize.minimize (BFGS, L-BFGS-B) and
  torch.optim.LBFGS(line_search_fn="strong_wolfe") in float64 on Rosenbrock (2-D, n-D),
  an ill-conditioned quadratic, Beale, Booth, Himmelblau and L2-regularized logistic
  regression on the standardized breast-cancer data.
* Function evaluations: L-BFGS (m=10) needs about as many as scipy's L-BFGS-B over a set
  of 14 problems (median ratio <= 1.02, each <= 1.15; one run's count varies with the CPU's
  BLAS kernels) and ends at the same point; BFGS stays within 10% of scipy's BFGS on
  Rosenbrock (2-D, 100-D) and within 20% (and at most 1.5 d) on a 50-dimensional quadratic
  with condition number 1e4, also scaled by 1e4. Both use the same stopping tests
  (max-norm gradient <= 1e-5, relative decrease of f <= 1e7 * eps) and count one evaluation
  per call of fun_and_grad, so the counts measure the same thing.
* NaN/inf and non-finite starts give a message, never an exception; nfev is honest.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import minimize, rosen, rosen_der
from sklearn.datasets import load_breast_cancer

from trainart.newton import (
    bfgs,
    bfgs_update,
    flat_params,
    lbfgs,
    model_objective,
    strong_wolfe,
    torch_gradient,
    two_loop,
)
from trainart.surfaces import Quadratic, Rosenbrock

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench import quasi_newton as quasi_newton_bench  # noqa: E402

F64 = torch.float64


class Counter:
    """A fun_and_grad that counts its calls."""

    def __init__(self, fg):
        self.fg, self.n = fg, 0

    def __call__(self, x):
        self.n += 1
        return self.fg(x)


def surface_fg(surface):
    return lambda x: (float(surface.f(x)), surface.grad(x))


def torch_fg(f):
    return lambda x: (float(f(torch.as_tensor(x, dtype=F64))), torch_gradient(f, x))


def beale(x):
    return ((1.5 - x[0] + x[0] * x[1]) ** 2 + (2.25 - x[0] + x[0] * x[1] ** 2) ** 2
            + (2.625 - x[0] + x[0] * x[1] ** 3) ** 2)


def booth(x):
    return (x[0] + 2 * x[1] - 7) ** 2 + (2 * x[0] + x[1] - 5) ** 2


def himmelblau(x):
    return (x[0] ** 2 + x[1] - 11) ** 2 + (x[0] + x[1] ** 2 - 7) ** 2


def logistic_regression():
    """Mean cross-entropy of a linear 30 -> 2 classifier on standardized breast_cancer,
    plus 0.01/2 ||theta||^2 (without it the data are almost separable and the minimizer
    runs off to infinity)."""
    data = load_breast_cancer()
    X = (data.data - data.data.mean(0)) / data.data.std(0)
    torch.manual_seed(0)
    model = torch.nn.Linear(30, 2)
    return model_objective(model, X, data.target, weight_decay=0.01), flat_params(model)


QUAD = Quadratic(1e4, dim=10, angle=0.5)
PROBLEMS = [
    ("rosenbrock2", surface_fg(Rosenbrock()), np.array([-1.2, 1.0])),
    ("rosenbrock10", lambda x: (rosen(x), rosen_der(x)), np.full(10, -1.2)),
    ("quadratic-cond1e4", surface_fg(QUAD), np.r_[-4.0, np.full(9, 1.5)]),
    ("beale", torch_fg(beale), np.array([1.0, 1.0])),
    ("booth", torch_fg(booth), np.array([0.0, 0.0])),
    ("himmelblau", torch_fg(himmelblau), np.array([0.0, 0.0])),
    ("logreg-breast-cancer", *logistic_regression()),
]
IDS = [p[0] for p in PROBLEMS]
GTOL = 1e-9  # tight, so that the minimizers (not the stopping points) are compared


def torch_lbfgs(fg, x0):
    x = torch.tensor(x0, dtype=F64, requires_grad=True)
    opt = torch.optim.LBFGS([x], lr=1, max_iter=20000, max_eval=40000, history_size=10,
                            tolerance_grad=GTOL, tolerance_change=1e-15,
                            line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        f, g = fg(x.detach().numpy().copy())
        x.grad = torch.as_tensor(g, dtype=F64)
        return torch.tensor(f, dtype=F64)

    opt.step(closure)
    return x.detach().numpy()


def _close(a, b, fg):
    fa, fb = fg(a)[0], fg(b)[0]
    return np.allclose(a, b, rtol=0, atol=1e-6) and abs(fa - fb) <= 1e-10 * max(1, abs(fb))


@pytest.mark.parametrize("name,fg,x0", PROBLEMS, ids=IDS)
def test_lbfgs_same_minimizer_as_scipy_and_torch(name, fg, x0):
    ours = lbfgs(fg, x0, gtol=GTOL, ftol=0.0)
    assert ours.success, ours.message
    ref = minimize(fg, x0, jac=True, method="L-BFGS-B",
                   options=dict(gtol=GTOL, ftol=0.0, maxiter=20000, maxfun=40000))
    assert _close(ours.x, ref.x, fg), (ours.x, ref.x, ref.message)
    assert _close(ours.x, torch_lbfgs(fg, x0), fg)
    assert np.max(np.abs(ours.jac)) <= GTOL


@pytest.mark.parametrize("name,fg,x0", PROBLEMS, ids=IDS)
def test_bfgs_same_minimizer_as_scipy(name, fg, x0):
    ours = bfgs(fg, x0, gtol=GTOL)
    assert ours.success, ours.message
    ref = minimize(fg, x0, jac=True, method="BFGS", options=dict(gtol=GTOL))
    assert _close(ours.x, ref.x, fg), (ours.x, ref.x, ref.message)
    assert np.max(np.abs(ours.jac)) <= GTOL
    H = ours.hess_inv  # symmetric positive definite throughout
    assert np.allclose(H, H.T, rtol=0, atol=1e-12 * np.abs(H).max())
    assert np.min(np.linalg.eigvalsh(H)) > 0


def test_lbfgs_needs_about_as_many_evaluations_as_scipy_over_a_problem_set():
    """L-BFGS (m=10) against L-BFGS-B, both at default tolerances, over bench's problem set
    (Rosenbrock 2-D and 100-D, Beale, Powell, a 50-D quadratic, logistic regression, Rosenbrock
    10-D from 8 random starts). One long run's count moves with the CPU's BLAS kernels
    (Rosenbrock 100-D: 602, 606, 609 evaluations under the three settings of `make
    test-portable`; scipy 604-613), so the claim is about the set: measured median ratio 1.00
    under every setting, ratios 0.92-1.06. Asserted with margin: median <= 1.02, each <= 1.15.
    """
    counts = quasi_newton_bench.evaluation_ratios("L-BFGS")
    ratios = np.array([ours / ref for ours, ref in counts.values()])
    assert len(ratios) == 14
    assert np.median(ratios) <= 1.02, counts
    assert ratios.max() <= 1.15, counts


@pytest.mark.parametrize("x0", [np.array([-1.2, 1.0]), np.full(100, -1.2)],
                         ids=["rosen2", "rosen100"])
def test_lbfgs_counts_every_evaluation_and_ends_where_scipy_does(x0):
    fg = Counter(lambda x: (rosen(x), rosen_der(x)))
    ours = lbfgs(fg, x0, m=10)
    ref = minimize(rosen, x0, jac=rosen_der, method="L-BFGS-B")
    assert ours.success and ref.success, (ours.message, ref.message)
    assert ours.nfev == fg.n  # every evaluation counted, line-search trials included
    # The same end point: the global minimum (1, ..., 1), to the accuracy the tests allow.
    assert np.allclose(ours.x, ref.x, rtol=0, atol=1e-4)
    assert np.allclose(ours.x, 1.0, rtol=0, atol=1e-4) and ours.fun < 1e-8


def ill_conditioned_quadratic(d=50, cond=1e4, scale=1.0, seed=0):
    """0.5 x^T A x - b^T x with eigenvalues of A log-spaced in scale * [1, cond] (the
    benchmark's problem, bench/quasi_newton.py)."""
    rng = np.random.default_rng(seed)
    Q, _ = np.linalg.qr(rng.standard_normal((d, d)))
    A = scale * (Q * np.logspace(0, np.log10(cond), d)) @ Q.T
    b = rng.standard_normal(d)
    return lambda x: (float(0.5 * x @ A @ x - b @ x), A @ x - b)


@pytest.mark.parametrize("scale", [1.0, 1e4])
def test_bfgs_keeps_near_finite_termination_on_an_ill_conditioned_quadratic(scale):
    """With exact line searches BFGS ends a quadratic in d iterations; with H0 = I and the
    eq. 3.60 first trial the Wolfe searches are nearly exact there (the rescaled
    H0 = (y^T s / y^T y) I, H0="scaled", takes over five times as many iterations)."""
    d = 50
    fg = Counter(ill_conditioned_quadratic(d, scale=scale))
    ours = bfgs(fg, np.zeros(d))
    ref = minimize(fg.fg, np.zeros(d), jac=True, method="BFGS")
    assert ours.success and ref.success, (ours.message, ref.message)
    assert ours.nfev == fg.n
    assert ours.nit <= 1.2 * d and ours.nfev <= 1.5 * d, (ours.nit, ours.nfev)
    assert ours.nfev <= 1.2 * ref.nfev, (ours.nfev, ref.nfev)
    assert np.allclose(ours.x, ref.x, rtol=0, atol=1e-4 * max(1.0, np.abs(ref.x).max()))


@pytest.mark.parametrize("x0", [np.array([-1.2, 1.0]), np.array([-1.2, 1.0] * 50)],
                         ids=["rosen2", "rosen100"])
def test_bfgs_evaluations_comparable_to_scipy_and_same_minimum(x0):
    fg = Counter(lambda x: (rosen(x), rosen_der(x)))
    ours = bfgs(fg, x0)
    ref = minimize(rosen, x0, jac=rosen_der, method="BFGS")
    assert ours.success and ref.success, (ours.message, ref.message)
    assert ours.nfev <= 1.1 * ref.nfev, (ours.nfev, ref.nfev)
    assert np.allclose(ours.x, 1.0, rtol=0, atol=1e-4) and ours.fun < 1e-8


# ------------------------------------------------------------------- the two-loop recursion


def explicit_lbfgs_matrix(s_list, y_list, gamma):
    """H = gamma I, then H <- (I - rho s y^T) H (I - rho y s^T) + rho s s^T per pair."""
    d = s_list[0].size
    H = gamma * np.eye(d)
    for s, y in zip(s_list, y_list):
        rho = 1.0 / (y @ s)
        V = np.eye(d) - rho * np.outer(y, s)
        H = V.T @ H @ V + rho * np.outer(s, s)
    return H


def random_pairs(seed, d, m):
    """Pairs with positive curvature y^T s > 0: y = A s for a random SPD A plus noise."""
    rng = np.random.default_rng(seed)
    M = rng.standard_normal((d, d))
    A = M @ M.T + 0.5 * np.eye(d)
    S = [rng.standard_normal(d) for _ in range(m)]
    Y = [A @ s + 0.1 * rng.standard_normal(d) for s in S]
    keep = [i for i in range(m) if Y[i] @ S[i] > 1e-3 * np.linalg.norm(Y[i]) ** 2]
    return [S[i] for i in keep], [Y[i] for i in keep], rng.standard_normal(d)


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), d=st.integers(1, 8), m=st.integers(1, 12),
       gamma=st.one_of(st.none(), st.floats(0.01, 100.0)))
def test_two_loop_equals_explicit_inverse_hessian(seed, d, m, gamma):
    S, Y, g = random_pairs(seed, d, m)
    if not S:
        return
    gam = (S[-1] @ Y[-1]) / (Y[-1] @ Y[-1]) if gamma is None else gamma
    H = explicit_lbfgs_matrix(S, Y, gam)
    Hg = two_loop(g, S, Y, gamma)
    assert np.allclose(Hg, H @ g, rtol=1e-10, atol=1e-10 * np.abs(H @ g).max())


def test_two_loop_without_pairs_is_gamma_g():
    g = np.array([1.0, -2.0])
    assert np.array_equal(two_loop(g, [], []), g)
    assert np.array_equal(two_loop(g, [], [], gamma=0.5), 0.5 * g)


# ---------------------------------------------------------------------------------- BFGS


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), d=st.integers(1, 8))
def test_bfgs_update_satisfies_the_secant_condition(seed, d):
    S, Y, _ = random_pairs(seed, d, 3)
    rng = np.random.default_rng(seed + 1)
    M = rng.standard_normal((d, d))
    H = M @ M.T + 0.1 * np.eye(d)
    for s, y in zip(S, Y):
        H = bfgs_update(H, s, y)
        assert np.allclose(H @ y, s, rtol=1e-9, atol=1e-9 * np.abs(s).max())
        assert np.allclose(H, H.T) and np.min(np.linalg.eigvalsh(H)) > 0


def test_bfgs_secant_condition_after_every_iteration():
    """On Rosenbrock 5-D, after every update H_{k+1} (y_k) = s_k with y from the gradients."""
    r = Rosenbrock(dim=5)
    seen = []
    res = bfgs(surface_fg(r), r.start, callback=lambda it: seen.append(it))
    assert res.success and len(seen) == res.nit > 10
    x_prev, g_prev = r.start, r.grad(r.start)
    for it in seen:
        s, y = it.x - x_prev, it.jac - g_prev
        assert np.allclose(it.hess_inv @ y, s, rtol=1e-8, atol=1e-10 * np.abs(s).max())
        x_prev, g_prev = it.x, it.jac


def test_bfgs_update_rejects_negative_curvature():
    with pytest.raises(ValueError, match=r"bfgs_update: the curvature y\^T s must be > 0"):
        bfgs_update(np.eye(2), np.array([1.0, 0.0]), np.array([-1.0, 0.0]))


# ---------------------------------------------------------------------- strong-Wolfe search


@settings(max_examples=80, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), d=st.integers(2, 6),
       alpha0=st.sampled_from([1e-3, 1.0, 10.0]), steepest=st.booleans())
def test_strong_wolfe_returns_a_strong_wolfe_step(seed, d, alpha0, steepest):
    rng = np.random.default_rng(seed)
    r = Rosenbrock(dim=d)
    fg = Counter(surface_fg(r))
    x = rng.uniform(-1.5, 1.5, d)
    f, g = fg(x)
    p = -g if steepest else rng.standard_normal(d)
    if g @ p > 0:
        p = -p
    p = p / np.linalg.norm(p)
    c1, c2 = 1e-4, 0.9
    fg.n = 0
    ls = strong_wolfe(fg, x, f, g, p, alpha0=alpha0, c1=c1, c2=c2, max_iter=50)
    assert ls.success and ls.nfev == fg.n
    f_new, g_new = r.f(x + ls.alpha * p), r.grad(x + ls.alpha * p)
    assert f_new == ls.f_new and np.array_equal(g_new, ls.g_new)
    assert f_new <= f + c1 * ls.alpha * (g @ p)  # sufficient decrease
    assert abs(g_new @ p) <= c2 * abs(g @ p)  # strong curvature


def test_strong_wolfe_takes_the_interpolated_minimizer_after_an_overshoot():
    """On a quadratic phi the cubic through phi(0), phi'(0), phi(1), phi'(1) is exact: after
    an overshooting unit trial the search takes the line minimizer at once, even when it
    lies within 10% of the interval's end (a plain 10% clamp would evaluate 0.1 instead)."""
    a_star = 0.03
    fg = Counter(lambda z: (float(0.5 * z @ z), z.copy()))
    x = np.array([-1.0, 0.5])
    f, g = fg.fg(x)
    ls = strong_wolfe(fg, x, f, g, np.array([1.0 / a_star, 0.0]), alpha0=1.0)  # min: a_star
    assert ls.success and ls.nfev == fg.n == 2
    assert ls.alpha == pytest.approx(a_star, rel=1e-12)


def test_strong_wolfe_failure_flag_and_nan():
    fg = surface_fg(Rosenbrock())
    x = np.array([-1.2, 1.0])
    f, g = fg(x)
    assert strong_wolfe(fg, x, f, g, g).alpha is None  # an ascent direction
    nan_fg = lambda z: (math.nan, np.full(2, math.nan))  # noqa: E731
    ls = strong_wolfe(nan_fg, x, f, g, -g, max_iter=10)
    assert not ls.success and ls.nfev == 10
    # NaN beyond a wall is treated as "too far": the search backs off and succeeds.
    wall_fg = lambda z: fg(z) if z[0] < -1.0 else (math.nan, np.full(2, math.nan))  # noqa: E731
    ls = strong_wolfe(wall_fg, x, f, g, -g / np.linalg.norm(g), alpha0=1.0)
    assert ls.success and ls.f_new < f
    with pytest.raises(ValueError, match=r"strong_wolfe: c2 must be in \(c1, 1\)"):
        strong_wolfe(fg, x, f, g, -g, c1=0.5, c2=0.4)


# ---------------------------------------------------------------------- failures and counts


@pytest.mark.parametrize("method", [lbfgs, bfgs], ids=["lbfgs", "bfgs"])
def test_nonfinite_values_give_messages_not_exceptions(method):
    def fg(x):  # minimum at 1, nan for x <= 0 (trial steps may land there)
        with np.errstate(invalid="ignore", divide="ignore"):
            return float(np.sum(x - np.log(x))), 1 - 1 / x

    res = method(fg, np.array([30.0, 0.2]))
    assert res.success and np.allclose(res.x, 1.0, atol=1e-4), res.message
    res = method(fg, np.array([np.inf, 1.0]))
    assert res.status == 3 and res.message == "The start x0 is not finite." and res.nfev == 0
    res = method(lambda x: (math.inf, np.ones(2)), np.ones(2))
    assert res.status == 3 and "Non-finite" in res.message and not res.success
    nan_after_start = Counter(lambda x: (0.0, np.ones(2)) if np.all(x == 1) else
                              (math.nan, np.full(2, math.nan)))
    res = method(nan_after_start, np.ones(2))
    assert res.status == 2 and "line search failed" in res.message and not res.success
    assert res.nfev == nan_after_start.n and np.array_equal(res.x, np.ones(2))


@pytest.mark.parametrize("method", [lbfgs, bfgs], ids=["lbfgs", "bfgs"])
def test_counts_history_and_limits(method):
    fg = Counter(surface_fg(Rosenbrock()))
    res = method(fg, np.array([-1.2, 1.0]))
    assert res.nfev == res.njev == fg.n == res.history["nfev"][-1]
    assert len(res.history["x"]) == res.nit + 1 and np.array_equal(res.history["x"][-1], res.x)
    assert np.all(np.diff(res.history["fun"]) < 0)  # every accepted step descends
    res = method(fg, np.array([-1.2, 1.0]), max_iter=3)
    assert res.status == 1 and res.nit == 3 and not res.success


def test_lbfgs_limits_and_arguments():
    fg = surface_fg(Rosenbrock())
    res = lbfgs(fg, np.array([-1.2, 1.0]), max_fun=10)
    assert res.status == 1 and res.nfev <= 10 and "evaluations" in res.message
    with pytest.raises(ValueError, match="lbfgs: m must be an integer >= 1"):
        lbfgs(fg, np.zeros(2), m=0)
    with pytest.raises(ValueError, match="lbfgs: x0 must be a non-empty vector"):
        lbfgs(fg, np.zeros((2, 1)))
    with pytest.raises(TypeError, match="bfgs: fun_and_grad must be callable"):
        bfgs(None, np.zeros(2))
    with pytest.raises(ValueError, match=r"bfgs: H0 must have shape \(2, 2\)"):
        bfgs(fg, np.zeros(2), H0=np.eye(3))
    with pytest.raises(ValueError, match="two_loop: s_list and y_list must have the same"):
        two_loop(np.ones(2), [np.ones(2)], [])



def test_bfgs_scaled_h0_is_eq_6_20_and_loses_the_near_finite_termination():
    """H0="scaled" replaces the identity by (y0^T s0 / y0^T y0) I before the first update
    (N&W eq. 6.20); on the 50-dimensional quadratic with condition number 1e4 it needs
    several times more iterations than H0 = I (the claim of the Newton chapter)."""
    fg = ill_conditioned_quadratic(50)
    first = []
    scaled = bfgs(fg, np.zeros(50), H0="scaled", callback=first.append)
    identity = bfgs(fg, np.zeros(50))
    x1 = first[0].x
    s0, y0 = x1, fg(x1)[1] - fg(np.zeros(50))[1]
    expected = bfgs_update((s0 @ y0) / (y0 @ y0) * np.eye(50), s0, y0)
    assert np.allclose(first[0].hess_inv, expected, rtol=1e-12, atol=1e-15)
    assert scaled.success and identity.success
    assert scaled.nit > 4 * identity.nit, (scaled.nit, identity.nit)
    with pytest.raises(ValueError, match=r"bfgs: H0 must be one of 'scaled', got 'eye'"):
        bfgs(fg, np.zeros(50), H0="eye")


@pytest.mark.parametrize("method", [bfgs, lbfgs], ids=["bfgs", "lbfgs"])
def test_malformed_fun_and_grad_messages(method):
    """Each message names the optimizer, the callable, what was expected and what came (they
    were 'cannot unpack non-iterable float object' and 'cannot reshape array of size 3 into
    shape (2,)')."""
    name = method.__name__
    r = Rosenbrock()
    with pytest.raises(TypeError, match=rf"^{name}: fun_and_grad must return \(value, "
                                        rf"gradient\), got a float$"):
        method(lambda x: float(r.f(x)), r.start)
    with pytest.raises(TypeError, match=rf"{name}: fun_and_grad must return \(value, "
                                        rf"gradient\), got a tuple of length 3"):
        method(lambda x: (r.f(x), r.grad(x), None), r.start)
    with pytest.raises(ValueError, match=rf"^{name}: the gradient returned by fun_and_grad must "
                                         rf"have shape \(2,\) like x, got an array of shape "
                                         rf"\(3,\)$"):
        method(lambda x: (r.f(x), np.ones(3)), r.start)
    with pytest.raises(TypeError, match=rf"{name}: the value returned by fun_and_grad must "
                                        rf"return a scalar, got an array of shape \(2,\)"):
        method(lambda x: (r.grad(x), r.grad(x)), r.start)
    with pytest.raises(ValueError, match=rf"{name}: c2 must be in \(c1, 1\), got 1.0"):
        method(surface_fg(r), r.start, c2=1.0)
    # A gradient that goes wrong later, inside the line search, is caught there too.
    calls = {"n": 0}

    def late(x):
        calls["n"] += 1
        return r.f(x), (r.grad(x) if calls["n"] == 1 else np.ones(3))

    with pytest.raises(ValueError, match=rf"{name}: the gradient returned by fun_and_grad"):
        method(late, r.start)


def test_other_malformed_inputs_are_named():
    r = Rosenbrock()
    fg = surface_fg(r)
    x, g = r.start, r.grad(r.start)
    with pytest.raises(TypeError, match=r"strong_wolfe: f_and_grad must return \(value, "
                                        r"gradient\), got a float"):
        strong_wolfe(lambda z: r.f(z), x, r.f(x), g, -g)
    with pytest.raises(ValueError, match=r"strong_wolfe: c2 must be in \(c1, 1\), got 5e-05"):
        strong_wolfe(fg, x, r.f(x), g, -g, c1=1e-4, c2=5e-5)
    with pytest.raises(ValueError, match=r"two_loop: s_list\[0\] must have the shape of g, "
                                         r"\(2,\), got \(3,\)"):
        two_loop(g, [np.ones(3)], [np.ones(2)])
    with pytest.raises(ValueError, match=r"bfgs_update: H, s and y must have shapes \(d, d\), "
                                         r"\(d,\) and \(d,\), got \(2, 2\), \(2,\) and \(3,\)"):
        bfgs_update(np.eye(2), np.ones(2), np.ones(3))
    with pytest.raises(ValueError, match=r"bfgs: H0 must have shape \(2, 2\) for x0 of shape "
                                         r"\(2,\), got \(3, 3\)"):
        bfgs(fg, x, H0=np.eye(3))
