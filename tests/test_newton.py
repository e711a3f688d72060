"""Newton's method and the derivatives it needs (trainart.newton.newton, .derivatives, .result).

* One Newton step minimizes any SPD quadratic exactly (hypothesis); newton_step factorizes
  once (Cholesky and cho_solve, LU when H is not positive definite), as does damped Newton.
* Quadratic convergence: near the minimum the error ratio e_{k+1} / e_k^2 stays bounded
  (and does not with a perturbed Hessian, so the test can fail).
* The same minimizers as scipy's trust-exact Newton on standard test functions.
* Fallbacks: pure Newton goes to a saddle, damped Newton (eigen or identity fallback) to a
  minimum; singular Hessians, NaN/inf and non-finite starts end in a message, not an error.
* Derivatives: centred differences vs the analytic surfaces, torch.func vs analytic, the
  Hessian of a tiny MLP vs differences, the model objective's gradient vs autograd.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.linalg
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import minimize

from trainart.newton import (
    OptimizeResult,
    backtracking,
    flat_params,
    model_hessian,
    model_objective,
    newton,
    newton_cg,
    newton_step,
    numerical_gradient,
    numerical_hessian,
    set_flat_params_,
    torch_gradient,
    torch_hessian,
    truncated_cg,
)
from trainart.surfaces import Quadratic, Rosenbrock, Saddle

F64 = torch.float64


# --------------------------------------------------------------------------- test functions


class Counted:
    """Wraps fun/grad/hess and counts the calls, to check the result's counters."""

    def __init__(self, fun, grad, hess):
        self.n = {"f": 0, "g": 0, "h": 0}
        self._fun, self._grad, self._hess = fun, grad, hess

    def fun(self, x):
        self.n["f"] += 1
        return self._fun(x)

    def grad(self, x):
        self.n["g"] += 1
        return self._grad(x)

    def hess(self, x):
        self.n["h"] += 1
        return self._hess(x)


def beale(x):
    a, b = x
    return ((1.5 - a + a * b) ** 2 + (2.25 - a + a * b**2) ** 2
            + (2.625 - a + a * b**3) ** 2)


def himmelblau(x):
    a, b = x
    return (a**2 + b - 11) ** 2 + (a + b**2 - 7) ** 2


def booth(x):
    a, b = x
    return (a + 2 * b - 7) ** 2 + (2 * a + b - 5) ** 2


def torch_problem(f):
    """(fun, grad, hess) on NumPy vectors, the derivatives by torch.func."""
    return (lambda x: float(f(torch.as_tensor(x, dtype=F64))),
            lambda x: torch_gradient(f, x), lambda x: torch_hessian(f, x))


# ------------------------------------------------------------------------------ newton_step


@settings(max_examples=40, deadline=None)
@given(d=st.integers(1, 6), seed=st.integers(0, 2**32 - 1), shift=st.floats(0.01, 10.0))
def test_one_newton_step_minimizes_any_spd_quadratic(d, seed, shift):
    """f(x) = 1/2 x^T A x - b^T x with A SPD: x0 + p with H p = -g is A^{-1} b, from anywhere."""
    rng = np.random.default_rng(seed)
    M = rng.standard_normal((d, d))
    A = M @ M.T + shift * np.eye(d)
    b = rng.standard_normal(d)
    x0 = 10 * rng.standard_normal(d)
    x_star = np.linalg.solve(A, b)
    scale = np.linalg.cond(A) * (1 + np.linalg.norm(x_star) + np.linalg.norm(x0))
    p = newton_step(A @ x0 - b, A)
    assert np.allclose(x0 + p, x_star, rtol=0, atol=1e-12 * scale)
    for damped in (False, True):
        res = newton(lambda x: 0.5 * x @ A @ x - b @ x, lambda x: A @ x - b, lambda x: A, x0,
                     damped=damped, tol=1e-9 * scale)
        assert res.success, res.message
        assert res.history["step"][1] == 1.0  # the full step is taken (and accepted)
        assert np.allclose(res.history["x"][1], x_star, rtol=0, atol=1e-12 * scale)
        assert res.nit <= 2


def test_newton_step_uses_no_inverse_and_handles_indefinite_and_singular():
    H = np.array([[2.0, 0.0], [0.0, -1.0]])
    g = np.array([1.0, 1.0])
    assert np.allclose(newton_step(g, H), [-0.5, 1.0])  # a saddle's Newton step, not descent
    with pytest.raises(np.linalg.LinAlgError, match="newton_step: H is singular"):
        newton_step(g, np.array([[1.0, 1.0], [1.0, 1.0]]))
    with pytest.raises(ValueError, match="newton_step: H must have shape"):
        newton_step(g, np.eye(3))


def test_newton_step_factorizes_once_cholesky_or_lu(monkeypatch):
    """SPD: one Cholesky factorization and cho_solve, no LU; indefinite: LU after the failed
    Cholesky; damped Newton factorizes each Hessian once (the test and the solve)."""
    calls = {"cho_factor": 0, "cho_solve": 0, "lu_factor": 0}
    for name in calls:
        real = getattr(scipy.linalg, name)

        def counted(*args, _real=real, _name=name, **kwargs):
            calls[_name] += 1
            return _real(*args, **kwargs)
        monkeypatch.setattr(scipy.linalg, name, counted)
    rng = np.random.default_rng(0)
    M = rng.standard_normal((6, 6))
    A, g = M @ M.T + np.eye(6), rng.standard_normal(6)
    assert np.allclose(newton_step(g, A), -np.linalg.solve(A, g), rtol=1e-12, atol=0)
    assert calls == {"cho_factor": 1, "cho_solve": 1, "lu_factor": 0}
    S = A - 3 * np.eye(6) * np.abs(np.linalg.eigvalsh(A)).max()  # negative definite
    assert np.allclose(newton_step(g, S), -np.linalg.solve(S, g), rtol=1e-12, atol=0)
    assert calls == {"cho_factor": 2, "cho_solve": 1, "lu_factor": 1}
    r = Rosenbrock()
    res = newton(r.f, r.grad, r.hessian, r.start)
    assert res.success and calls["cho_factor"] == 2 + res.nhev and calls["lu_factor"] == 1


# ---------------------------------------------------------------------- convergence rate


def newton_errors(surface, hess, damped=True, x0=None, max_iter=100):
    res = newton(surface.f, surface.grad, hess, surface.start if x0 is None else x0,
                 damped=damped, tol=1e-12, max_iter=max_iter)
    assert res.success, res.message
    return np.array([np.linalg.norm(x - surface.minima[0]) for x in res.history["x"]])


def ratios(e):
    """e_{k+1} / e_k^2 for the iterates close to the minimum (above the rounding floor)."""
    near = (e[:-1] < 0.1) & (e[1:] > 1e-14)
    return e[1:][near] / e[:-1][near] ** 2


@pytest.mark.parametrize("damped", [False, True])
@pytest.mark.parametrize("surface", [Rosenbrock(), Rosenbrock(dim=6, a=1.0),
                                     Rosenbrock(b=10.0)], ids=repr)
def test_quadratic_convergence(surface, damped):
    r"""Theorem 3.5 (N&W): near x* with Lipschitz Hessian, e_{k+1} <= C e_k^2, with
    C ~ L / (2 lambda_min). For Rosenbrock C is a few hundred at most, and at least two
    iterates lie in the region where the ratio is measured."""
    x0 = None if surface.dim == 2 else np.ones(surface.dim) + 0.05 * np.arange(surface.dim)
    e = newton_errors(surface, surface.hessian, damped, x0)
    r = ratios(e)
    assert len(r) >= 2, e
    assert np.all(r < 1e3), r
    assert e[-1] < 1e-12


def test_a_wrong_hessian_breaks_quadratic_convergence():
    """The same measurement with a perturbed Hessian shows only linear convergence: the ratio
    e_{k+1}/e_k^2 grows without bound, so the test above can fail."""
    r = Rosenbrock()
    e = newton_errors(r, lambda x: r.hessian(x) + 1.0 * np.eye(2), max_iter=500)
    assert np.max(ratios(e)) > 1e6


# ------------------------------------------------------------------------- parity with scipy


PROBLEMS = [
    ("rosenbrock2", Rosenbrock().f, Rosenbrock().grad, Rosenbrock().hessian, [-1.2, 1.0]),
    ("rosenbrock6", Rosenbrock(6).f, Rosenbrock(6).grad, Rosenbrock(6).hessian,
     Rosenbrock(6).start),
    ("quadratic", Quadratic(1e4, dim=8, angle=0.4).f, Quadratic(1e4, dim=8, angle=0.4).grad,
     Quadratic(1e4, dim=8, angle=0.4).hessian, Quadratic(1e4, dim=8).start),
    ("beale", *torch_problem(beale), [1.0, 1.0]),
    ("booth", *torch_problem(booth), [0.0, 0.0]),
    ("himmelblau", *torch_problem(himmelblau), [0.0, 0.0]),
]


@pytest.mark.parametrize("name,fun,grad,hess,x0", PROBLEMS, ids=[p[0] for p in PROBLEMS])
def test_same_minimizer_as_scipy_trust_exact(name, fun, grad, hess, x0):
    x0 = np.asarray(x0, dtype=np.float64)
    ours = newton(fun, grad, hess, x0, tol=1e-10)
    ref = minimize(fun, x0, jac=grad, hess=hess, method="trust-exact",
                   options=dict(gtol=1e-6))
    assert ours.success and ref.success, (ours.message, ref.message)
    assert np.allclose(ours.x, ref.x, rtol=0, atol=1e-7), (ours.x, ref.x)
    assert abs(ours.fun - ref.fun) <= 1e-12 * max(1.0, abs(ref.fun))
    assert np.allclose(ours.jac, grad(ours.x))


# ------------------------------------------------------------------- fallbacks and failures


def test_pure_newton_stops_at_the_saddle_damped_newton_escapes():
    s = Saddle()
    pure = newton(s.f, s.grad, s.hessian, s.start, damped=False)
    assert pure.success and np.linalg.norm(pure.x - s.saddle) < 1e-6
    assert np.min(np.linalg.eigvalsh(s.hessian(pure.x))) < 0  # a saddle, not a minimum
    for fallback in ("eigen", "identity"):
        res = newton(s.f, s.grad, s.hessian, s.start, fallback=fallback)
        assert res.success, res.message
        assert min(np.linalg.norm(res.x - m) for m in s.minima) < 1e-8
        assert f"the {fallback} fallback" in res.message
        assert any(res.history["fallback"])
        assert np.all(np.diff(res.history["fun"]) < 0)  # every step descends


def test_backtracking_is_armijo():
    r = Rosenbrock()
    x = r.start
    g = r.grad(x)
    ls = backtracking(r.f, x, r.f(x), g, -g, alpha0=1.0, rho=0.5, c1=1e-4)
    assert ls.success and ls.nfev >= 2
    assert ls.f_new <= r.f(x) + 1e-4 * ls.alpha * g @ -g
    assert r.f(x - 2 * ls.alpha * g) > r.f(x) + 1e-4 * 2 * ls.alpha * g @ -g  # the one before
    assert not backtracking(r.f, x, r.f(x), g, g).success  # ascent direction: a failure flag


def test_singular_hessian_gives_a_message():
    fun, grad = (lambda x: x[0] ** 2 + x[1]), (lambda x: np.array([2 * x[0], 1.0]))
    hess = lambda x: np.diag([2.0, 0.0])  # noqa: E731
    res = newton(fun, grad, hess, np.ones(2), damped=False)
    assert not res.success and res.status == 4 and "singular" in res.message
    # Damped Newton takes the floored-eigenvalue step and walks down the slope instead.
    res = newton(fun, grad, hess, np.ones(2), max_iter=5)
    assert not res.success and res.status == 1 and res.fun < -1e6


def test_nan_inf_and_bad_start_give_messages_not_exceptions():
    fun = lambda x: float(np.sum(x - np.log(x)))  # noqa: E731  min at 1, nan for x < 0
    grad = lambda x: 1 - 1 / x  # noqa: E731
    hess = lambda x: np.diag(1 / x**2)  # noqa: E731
    with np.errstate(invalid="ignore", divide="ignore"):
        pure = newton(fun, grad, hess, np.array([3.0]), damped=False)  # 3 - 6 = -3: log nan
        assert not pure.success and pure.status == 3 and "Non-finite" in pure.message
        damped = newton(fun, grad, hess, np.array([3.0]))  # backtracking steps over the nan
        assert damped.success and abs(damped.x[0] - 1) < 1e-8
        res = newton(fun, grad, hess, np.array([np.nan]))
        assert res.status == 3 and res.message == "The start x0 is not finite."
        assert res.nfev == 0
        res = newton(lambda x: math.inf, grad, hess, np.array([2.0]))
        assert res.status == 3 and not res.success


def test_counts_and_result():
    r = Rosenbrock()
    c = Counted(r.f, r.grad, r.hessian)
    res = newton(c.fun, c.grad, c.hess, r.start)
    assert (res.nfev, res.njev, res.nhev) == (c.n["f"], c.n["g"], c.n["h"])
    assert res.history["nfev"][-1] == res.nfev
    assert len(res.history["x"]) == res.nit + 1 == len(res.history["fun"])
    assert res["x"] is res.x and "history" in res.keys() and isinstance(res, OptimizeResult)
    assert math.isnan(res.history["step"][0])
    assert "success=True" in repr(res)


def test_argument_errors():
    r = Rosenbrock()
    with pytest.raises(ValueError, match="newton: fallback must be"):
        newton(r.f, r.grad, r.hessian, r.start, fallback="shift")
    with pytest.raises(ValueError, match="newton: x0 must be a non-empty vector"):
        newton(r.f, r.grad, r.hessian, np.ones((2, 2)))
    with pytest.raises(ValueError, match="newton: max_iter"):
        newton(r.f, r.grad, r.hessian, r.start, max_iter=0)
    with pytest.raises(TypeError, match="newton: fun, grad and hess must be callables"):
        newton(r.f, r.grad, None, r.start)
    with pytest.raises(ValueError, match="backtracking: rho"):
        backtracking(r.f, r.start, 1.0, r.grad(r.start), -r.grad(r.start), rho=1.0)


# ---------------------------------------------------------------------------- derivatives


SURFACES = [Rosenbrock(), Rosenbrock(dim=5, b=10.0), Quadratic(100.0, dim=4, angle=0.3),
            Saddle()]


@pytest.mark.parametrize("surface", SURFACES, ids=repr)
def test_differences_match_the_analytic_surfaces(surface):
    rng = np.random.default_rng(0)
    for _ in range(3):
        x = rng.uniform(-1.5, 1.5, surface.dim)
        H = surface.hessian(x)
        scale = 1 + np.abs(H).max()
        assert np.allclose(numerical_gradient(surface.f, x), surface.grad(x), rtol=1e-7,
                           atol=1e-6)
        assert np.allclose(numerical_hessian(surface.grad, x), H, rtol=0, atol=1e-7 * scale)
        assert np.allclose(numerical_hessian(surface.f, x), H, rtol=0, atol=1e-4 * scale)


def torch_rosenbrock(x):
    return torch.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)


def test_torch_func_derivatives_match_analytic():
    r = Rosenbrock(dim=5)
    x = np.random.default_rng(1).uniform(-1.5, 1.5, 5)
    assert np.allclose(torch_gradient(torch_rosenbrock, x), r.grad(x), rtol=1e-13, atol=1e-12)
    assert np.allclose(torch_hessian(torch_rosenbrock, x), r.hessian(x), rtol=1e-13, atol=1e-12)
    t = torch.as_tensor(x)
    assert isinstance(torch_hessian(torch_rosenbrock, t), torch.Tensor)
    assert torch.allclose(torch_gradient(torch_rosenbrock, t), torch.as_tensor(r.grad(x)))


def tiny_mlp(seed=0):
    torch.manual_seed(seed)
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 3))
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(10, 3, generator=g, dtype=F64)
    y = torch.randint(0, 3, (10,), generator=g)
    return model, X, y


def test_model_hessian_equals_numerical_hessian():
    model, X, y = tiny_mlp()
    ce = torch.nn.functional.cross_entropy
    H = model_hessian(model, ce, X, y)
    theta = flat_params(model)
    assert H.shape == (31, 31) and np.allclose(H, H.T, atol=1e-14)
    fg = model_objective(model, X, y)
    H_num = numerical_hessian(lambda v: fg(v)[1], theta)
    assert np.allclose(H, H_num, rtol=0, atol=1e-8)
    H_num_f = numerical_hessian(lambda v: fg(v)[0], theta)  # second differences of the loss
    assert np.allclose(H, H_num_f, rtol=0, atol=1e-5)
    assert np.min(np.linalg.eigvalsh(H)) < 0  # a non-convex loss: the Hessian is indefinite


@pytest.mark.parametrize("weight_decay", [0.0, 0.3])
def test_model_objective_gradient_equals_autograd(weight_decay):
    model, X, y = tiny_mlp(1)
    fg = model_objective(model, X, y, weight_decay=weight_decay)
    theta = flat_params(model)
    f, g = fg(theta)
    ref = model.double()
    loss = torch.nn.functional.cross_entropy(ref(X), y)
    loss = loss + 0.5 * weight_decay * sum((p**2).sum() for p in ref.parameters())
    loss.backward()
    g_ref = torch.cat([p.grad.reshape(-1) for p in ref.parameters()]).numpy()
    assert abs(f - loss.item()) < 1e-14 and np.allclose(g, g_ref, rtol=1e-12, atol=1e-14)
    assert np.allclose(g, numerical_gradient(lambda v: fg(v)[0], theta), atol=1e-8)


def test_flat_params_roundtrip():
    model, _, _ = tiny_mlp()
    theta = flat_params(model)
    assert theta.dtype == np.float64 and theta.shape == (31,)
    set_flat_params_(model, np.arange(31.0))
    assert np.array_equal(flat_params(model), np.arange(31.0))
    assert model[0].weight.dtype == torch.float32  # each parameter keeps its dtype
    with pytest.raises(ValueError, match=r"set_flat_params_: vec must have shape \(31,\)"):
        set_flat_params_(model, np.zeros(30))
    with pytest.raises(TypeError, match="flat_params: model must be a torch.nn.Module"):
        flat_params(object())



def test_argument_messages_name_the_function_the_argument_and_what_came():
    """A wrong return value of fun, grad or hess fails at once with a message naming newton,
    the callable, what was expected and what came (it used to be a NumPy error from inside:
    'incompatible dimensions', 'cannot reshape array')."""
    r = Rosenbrock()
    with pytest.raises(TypeError, match=r"newton: fun must return a scalar, got a tuple of "
                                        r"length 2"):
        newton(lambda x: (r.f(x), r.grad(x)), r.grad, r.hessian, r.start)
    with pytest.raises(TypeError, match=r"newton: fun must return a scalar, got an array of "
                                        r"shape \(2,\)"):
        newton(lambda x: x, r.grad, r.hessian, r.start)
    with pytest.raises(ValueError, match=r"newton: grad must have shape \(2,\) like x, got an "
                                         r"array of shape \(3,\)"):
        newton(r.f, lambda x: np.ones(3), r.hessian, r.start)
    with pytest.raises(ValueError, match=r"newton: hess must have shape \(2, 2\) for x of shape "
                                         r"\(2,\), got an array of shape \(3, 3\)"):
        newton(r.f, r.grad, lambda x: np.eye(3), r.start)
    with pytest.raises(ValueError, match=r"newton: hess must have shape \(2, 2\).*got an array "
                                         r"of shape \(2,\)"):
        newton(r.f, r.grad, lambda x: np.ones(2), r.start, damped=False)
    with pytest.raises(TypeError, match="newton: fun, grad and hess must be callables, got "
                                        "hess = NoneType"):
        newton(r.f, r.grad, None, r.start)
    with pytest.raises(ValueError, match=r"newton: fallback must be one of 'eigen', "
                                         r"'identity', got 'shift'"):
        newton(r.f, r.grad, r.hessian, r.start, fallback="shift")
    with pytest.raises(ValueError, match=r"newton: shift must be a finite number >= 0, got -1"):
        newton(r.f, r.grad, r.hessian, r.start, shift=-1)
    with pytest.raises(ValueError, match=r"newton: c1 must be in \(0, 1\), got 1.5"):
        newton(r.f, r.grad, r.hessian, r.start, c1=1.5)
    with pytest.raises(ValueError, match=r"newton_step: shift must be a finite number >= 0"):
        newton_step(np.ones(2), np.eye(2), shift=float("inf"))
    with pytest.raises(TypeError, match=r"backtracking: f must return a scalar, got an array "
                                        r"of shape \(2,\)"):
        backtracking(lambda x: x, r.start, 1.0, r.grad(r.start), -r.grad(r.start))
    with pytest.raises(ValueError, match=r"backtracking: x, g and p must be vectors of the same "
                                         r"shape \(d,\), got \(3,\), \(2,\) and \(2,\)"):
        backtracking(r.f, np.ones(3), 1.0, r.grad(r.start), -r.grad(r.start))
    with pytest.raises(TypeError, match=r"numerical_gradient: f must return a scalar, got an "
                                        r"array of shape \(2,\)"):
        numerical_gradient(lambda x: x, np.ones(2))


# --------------------------------------------------------------- regularized Newton, H + mu I


@settings(max_examples=30, deadline=None)
@given(d=st.integers(1, 6), seed=st.integers(0, 2**32 - 1), mu=st.floats(0.0, 100.0))
def test_regularized_step_solves_the_shifted_system(d, seed, mu):
    """(H + mu I) p = -g for symmetric H (indefinite too, once the shift makes it definite);
    p is a descent direction when H + mu I is positive definite."""
    rng = np.random.default_rng(seed)
    M = rng.standard_normal((d, d))
    H = (M + M.T) / 2
    mu = mu + max(0.0, -np.linalg.eigvalsh(H).min()) + 0.1   # positive definite
    g = rng.standard_normal(d)
    p = newton_step(g, H, shift=mu)
    assert np.allclose((H + mu * np.eye(d)) @ p, -g, rtol=0, atol=1e-10 * (1 + mu))
    assert g @ p < 0


def test_regularized_step_interpolates_between_newton_and_gradient_descent():
    rng = np.random.default_rng(0)
    Q, _ = np.linalg.qr(rng.standard_normal((5, 5)))
    H = (Q * np.array([-1.0, 0.5, 1.0, 3.0, 10.0])) @ Q.T
    g = rng.standard_normal(5)
    assert np.array_equal(newton_step(g, H, shift=0.0), newton_step(g, H))
    mu = 1e8   # p -> -g / mu
    assert np.allclose(mu * newton_step(g, H, shift=mu), -g, rtol=2e-7, atol=0)  # ~ lambda/mu
    # In the eigenbasis every component is -g_i / (lambda_i + mu).
    p = newton_step(g, H, shift=2.0)
    assert np.allclose(Q.T @ p, -(Q.T @ g) / (np.array([-1.0, 0.5, 1.0, 3.0, 10.0]) + 2.0),
                       rtol=1e-12, atol=1e-14)


def test_regularized_newton_trajectory_equals_the_formula_and_escapes_the_saddle():
    """Pure Newton with shift mu: x_{k+1} = x_k - (H_k + mu I)^{-1} g_k, the whole trajectory
    to 1e-12; on the saddle a shift larger than the negative curvature (-1) leads to a
    minimum, while the unshifted pure Newton stops at the saddle."""
    s, mu = Saddle(), 1.5
    res = newton(s.f, s.grad, s.hessian, s.start, damped=False, shift=mu, max_iter=60)
    x = s.start.copy()
    for xk in res.history["x"][1:]:
        x = x - np.linalg.solve(s.hessian(x) + mu * np.eye(2), s.grad(x))
        assert np.allclose(xk, x, rtol=0, atol=1e-12)
    assert res.success and min(np.linalg.norm(res.x - m) for m in s.minima) < 1e-8
    damped = newton(s.f, s.grad, s.hessian, s.start, shift=mu)
    assert damped.success and not any(damped.history["fallback"])   # never needed
    # The shift costs the quadratic rate: the error shrinks linearly near the minimum.
    e = np.linalg.norm(np.array(res.history["x"]) - s.minima[0], axis=1)
    tail = e[(e < 1e-2) & (e > 1e-10)]
    ratios = tail[1:] / tail[:-1]
    assert np.all((ratios > 0.1) & (ratios < 0.9)), ratios


# ------------------------------------------------------------------ Hessian-free Newton-CG


def _logistic():
    from scipy.special import expit, log_expit
    from sklearn.datasets import load_breast_cancer
    X, y = load_breast_cancer(return_X_y=True)
    X = np.c_[(X - X.mean(0)) / X.std(0), np.ones(len(X))]
    lam = 1e-3

    def fun(w):
        z = X @ w
        return float(np.mean(-y * log_expit(z) - (1 - y) * log_expit(-z)) + 0.5 * lam * w @ w)

    def grad(w):
        return X.T @ (expit(X @ w) - y) / len(y) + lam * w

    def hessp(w, v):
        p = expit(X @ w)
        return X.T @ (p * (1 - p) * (X @ v)) / len(y) + lam * v

    return fun, grad, hessp, np.zeros(X.shape[1])


def test_newton_cg_same_iterates_as_scipy():
    """The whole trajectory equals scipy.optimize.minimize(method="Newton-CG") to 1e-10 on
    L2-regularized logistic regression (every line search accepts its first trial there, in
    both), with the same number of iterations and Hessian-vector products."""
    fun, grad, hessp, x0 = _logistic()
    seen = []
    ref = minimize(fun, x0, jac=grad, hessp=hessp, method="Newton-CG",
                   callback=lambda xk: seen.append(xk.copy()))
    ours = newton_cg(fun, grad, hessp, x0)
    assert ours.success and ref.success, (ours.message, ref.message)
    assert ours.nit == ref.nit and ours.nhev == ref.nhev
    assert np.allclose(np.array(ours.history["x"][1:]), np.array(seen), rtol=0, atol=1e-10)


@pytest.mark.parametrize("dim", [2, 10])
def test_newton_cg_same_minimizer_as_scipy_on_rosenbrock(dim):
    r = Rosenbrock(dim=dim)
    hessp = lambda x, v: r.hessian(x) @ v  # noqa: E731
    ours = newton_cg(r.f, r.grad, hessp, r.start, xtol=1e-10)
    ref = minimize(r.f, r.start, jac=r.grad, hessp=hessp, method="Newton-CG",
                   options=dict(xtol=1e-10))
    assert ours.success and ref.success, (ours.message, ref.message)
    # Both stop once the curvature along -g falls below 3 eps (|g| ~ 1e-8): about 1e-7 away.
    assert np.allclose(ours.x, r.minima[0], rtol=0, atol=1e-6)
    assert np.allclose(ours.x, ref.x, rtol=0, atol=1e-6)
    assert abs(ours.fun - ref.fun) < 1e-12
    assert np.all(np.diff(ours.history["fun"]) <= 0)


def test_truncated_cg_solves_spd_systems_and_handles_negative_curvature():
    rng = np.random.default_rng(1)
    Q, _ = np.linalg.qr(rng.standard_normal((8, 8)))
    H = (Q * np.logspace(0, 2, 8)) @ Q.T
    g = 1e-3 * rng.standard_normal(8)   # small |g|: a tight forcing term
    p, n, ok = truncated_cg(lambda v: H @ v, g)
    assert ok and n <= 8 + 1
    assert np.linalg.norm(H @ p + g, 1) <= min(0.5, np.sqrt(np.abs(g).sum())) * np.abs(g).sum()
    # Negative curvature along -g at the first iteration: scaled steepest descent.
    Hneg = -np.eye(3)
    g3 = np.array([1.0, -2.0, 0.5])
    p, n, ok = truncated_cg(lambda v: Hneg @ v, g3)
    assert ok and n == 1 and np.allclose(p, -(g3 @ g3) / abs(g3 @ Hneg @ g3) * g3)


def test_newton_cg_messages_and_counts():
    fun, grad, hessp, x0 = _logistic()
    calls = {"hessp": 0}

    def counted(w, v):
        calls["hessp"] += 1
        return hessp(w, v)

    res = newton_cg(fun, grad, counted, x0)
    assert res.nhev == calls["hessp"] == sum(res.history["cg"])
    assert len(res.history["x"]) == res.nit + 1
    with pytest.raises(ValueError, match=r"newton_cg: hessp must have shape \(31,\) like x, got "
                                         r"an array of shape \(30,\)"):
        newton_cg(fun, grad, lambda w, v: v[:30], x0)
    with pytest.raises(TypeError, match="newton_cg: fun, grad and hessp must be callables"):
        newton_cg(fun, grad, None, x0)
    with pytest.raises(ValueError, match="newton_cg: max_iter must be an integer >= 1"):
        newton_cg(fun, grad, hessp, x0, max_iter=0)
    with pytest.raises(ValueError, match=r"truncated_cg: g must be a vector"):
        truncated_cg(lambda v: v, np.ones((2, 2)))
