"""Loss surfaces: exact derivatives against torch autograd and finite differences, the minima
they list, the behaviours their docstrings promise, and :func:`trajectory`.

Each loss is written a second time in torch below, independently of the NumPy code, so the
gradient and Hessian checks compare two implementations of the formula.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import minimize

from trainart.gradcheck import numerical_gradient
from trainart.optim import SGD, Adam, NonFiniteGradientError
from trainart.surfaces import (
    ALL_2D,
    Cliff,
    LocalMinima,
    Quadratic,
    Rosenbrock,
    Saddle,
    Surface,
    trajectory,
)

# --------------------------------------------------------------------------------------------
# The formulas again, in torch.


def quadratic_t(s):
    A = torch.tensor(s.A)
    return lambda x: 0.5 * x @ A @ x


def rosenbrock_t(s):
    return lambda x: torch.sum(s.b * (x[1:] - x[:-1] ** 2) ** 2 + (s.a - x[:-1]) ** 2)


def saddle_t(s):
    return lambda x: x[0] ** 2 + x[1] ** 4 / 4 - x[1] ** 2 / 2


def cliff_t(s):
    return lambda x: 0.5 * torch.sum(x**2) + s.height * torch.sigmoid(
        s.steepness * (x[0] - s.position)
    )


def local_minima_t(s):
    mu, d, w = (torch.tensor(v) for v in (s.centres, s.depths, s.widths))
    return lambda x: 0.5 * s.curvature * torch.sum(x**2) - torch.sum(
        d * torch.exp(-torch.sum((x - mu) ** 2, dim=1) / (2 * w**2))
    )


CASES = [
    ("quadratic", Quadratic(), quadratic_t),
    ("quadratic-5d-rotated", Quadratic(100.0, dim=5, angle=0.3), quadratic_t),
    ("quadratic-rotated", Quadratic(3.0, angle=0.7), quadratic_t),
    ("rosenbrock", Rosenbrock(), rosenbrock_t),
    ("rosenbrock-5d", Rosenbrock(dim=5), rosenbrock_t),
    ("rosenbrock-ab", Rosenbrock(a=2.0, b=10.0), rosenbrock_t),
    ("saddle", Saddle(), saddle_t),
    ("cliff", Cliff(), cliff_t),
    ("cliff-steep", Cliff(height=5.0, steepness=30.0, position=-0.5), cliff_t),
    ("local-minima", LocalMinima(), local_minima_t),
]
IDS = [c[0] for c in CASES]


def sample_points(surface: Surface, n: int = 6, seed: int = 0) -> np.ndarray:
    """Random points in the plotting window (2-D) or in [-2, 2]^d; near the wall for Cliff."""
    rng = np.random.default_rng(seed)
    if surface.dim == 2:
        lo = np.array([surface.xlim[0], surface.ylim[0]])
        hi = np.array([surface.xlim[1], surface.ylim[1]])
        pts = rng.uniform(lo, hi, size=(n, 2))
    else:
        pts = rng.uniform(-2, 2, size=(n, surface.dim))
    if isinstance(surface, Cliff):  # the steep part, where mistakes would hide
        wall = surface.position + rng.uniform(-2, 2, size=n) / surface.steepness
        pts = np.vstack([pts, np.column_stack([wall, rng.uniform(-1, 1, size=n)])])
    return pts


def torch_grad(f_t, x):
    xt = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    (g,) = torch.autograd.grad(f_t(xt), xt)
    return g.numpy()


def torch_hessian(f_t, x):
    return torch.autograd.functional.hessian(f_t, torch.tensor(x, dtype=torch.float64)).numpy()


def scale(a) -> float:
    return max(1.0, float(np.max(np.abs(a))))


# --------------------------------------------------------------------------------------------
# Derivatives.


@pytest.mark.parametrize("name, surface, make_t", CASES, ids=IDS)
def test_f_matches_torch_formula(name, surface, make_t):
    f_t = make_t(surface)
    for x in sample_points(surface):
        expected = float(f_t(torch.tensor(x)))
        np.testing.assert_allclose(surface.f(x), expected, rtol=1e-12, atol=1e-12)
        assert surface(x) == surface.f(x)


@pytest.mark.parametrize("name, surface, make_t", CASES, ids=IDS)
def test_grad_matches_autograd(name, surface, make_t):
    f_t = make_t(surface)
    for x in sample_points(surface):
        expected = torch_grad(f_t, x)
        np.testing.assert_allclose(surface.grad(x), expected, rtol=1e-10,
                                   atol=1e-12 * scale(expected))


@pytest.mark.parametrize("name, surface, make_t", CASES, ids=IDS)
def test_grad_matches_central_differences(name, surface, make_t):
    for x in sample_points(surface, seed=1):
        fd = numerical_gradient(lambda x=x: surface.f(x), x)
        g = surface.grad(x)
        np.testing.assert_allclose(g, fd, rtol=1e-6, atol=1e-6 * scale(g))


@pytest.mark.parametrize("name, surface, make_t", CASES, ids=IDS)
def test_hessian_matches_autograd(name, surface, make_t):
    f_t = make_t(surface)
    for x in sample_points(surface, seed=2):
        expected = torch_hessian(f_t, x)
        H = surface.hessian(x)
        assert H.shape == (surface.dim, surface.dim)
        np.testing.assert_allclose(H, expected, rtol=1e-10, atol=1e-10 * scale(expected))


@pytest.mark.parametrize("name, surface, make_t", CASES, ids=IDS)
def test_hessian_matches_differences_of_gradient(name, surface, make_t):
    for x in sample_points(surface, seed=3):
        fd = numerical_gradient(lambda x=x: surface.grad(x), x)
        H = surface.hessian(x)
        np.testing.assert_allclose(H, fd, rtol=1e-5, atol=1e-5 * scale(H))


@pytest.mark.parametrize("name, surface, make_t", CASES, ids=IDS)
def test_vectorized_evaluation_equals_pointwise(name, surface, make_t):
    pts = sample_points(surface, n=12)[:12].reshape(3, 4, surface.dim)
    f, g, H = surface.f(pts), surface.grad(pts), surface.hessian(pts)
    assert f.shape == (3, 4) and g.shape == (3, 4, surface.dim)
    assert H.shape == (3, 4, surface.dim, surface.dim)
    for i in range(3):
        for j in range(4):
            assert f[i, j] == pytest.approx(surface.f(pts[i, j]), rel=1e-14, abs=1e-14)
            np.testing.assert_allclose(g[i, j], surface.grad(pts[i, j]), rtol=1e-14, atol=1e-14)
            np.testing.assert_allclose(H[i, j], surface.hessian(pts[i, j]), rtol=1e-14,
                                       atol=1e-14)


@pytest.mark.parametrize("surface", list(ALL_2D.values()), ids=list(ALL_2D))
def test_f_on_a_meshgrid_equals_pointwise(surface):
    X, Y = np.meshgrid(np.linspace(*surface.xlim, 7), np.linspace(*surface.ylim, 5))
    Z = surface.f(np.stack([X, Y], axis=-1))
    assert Z.shape == X.shape
    expected = [[surface.f(np.array([x, y])) for x, y in zip(xr, yr)] for xr, yr in zip(X, Y)]
    np.testing.assert_allclose(Z, expected, rtol=1e-14, atol=1e-14)


coords = st.floats(-3, 3, allow_nan=False, width=64)


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(CASES), st.lists(coords, min_size=5, max_size=5))
def test_hessian_is_symmetric_and_quadratics_are_homogeneous(case, xs):
    _, surface, _ = case
    x = np.array(xs[: surface.dim] + [0.5] * (surface.dim - len(xs)))
    H = surface.hessian(x)
    np.testing.assert_array_equal(H, H.T)
    if isinstance(surface, Quadratic):  # Euler: f(x) = x . grad f(x) / 2, grad = H x
        assert surface.f(x) == pytest.approx(0.5 * x @ surface.grad(x), rel=1e-12, abs=1e-12)
        np.testing.assert_allclose(surface.grad(x), H @ x, rtol=1e-12, atol=1e-12)
    if isinstance(surface, Rosenbrock):
        assert surface.f(x) >= 0


# --------------------------------------------------------------------------------------------
# Minima and saddles.


@pytest.mark.parametrize("name, surface, make_t", CASES, ids=IDS)
def test_gradient_vanishes_and_hessian_is_positive_definite_at_minima(name, surface, make_t):
    assert surface.minima, "every surface lists its minima"
    values = [surface.f(m) for m in surface.minima]
    assert values[0] == min(values), "the global minimum comes first"
    for m in surface.minima:
        assert m.shape == (surface.dim,) and m.dtype == np.float64
        assert np.linalg.norm(surface.grad(m)) < 1e-10
        assert np.all(np.linalg.eigvalsh(surface.hessian(m)) > 0)


def test_known_minima():
    np.testing.assert_array_equal(Rosenbrock(dim=6).minima[0], np.ones(6))
    np.testing.assert_array_equal(Rosenbrock(a=2.0).minima[0], [2.0, 4.0])
    np.testing.assert_array_equal(Quadratic(dim=3).minima[0], np.zeros(3))
    np.testing.assert_array_equal(Saddle().minima, [[0.0, 1.0], [0.0, -1.0]])
    # Rosenbrock in 4-D has a second local minimum (Kok and Sandrock 2009): (-0.7757, ...)
    r4 = Rosenbrock(dim=4)
    assert len(r4.minima) == 2
    np.testing.assert_allclose(r4.minima[1], [-0.7757, 0.6131, 0.3821, 0.1460], atol=1e-4)
    assert len(Rosenbrock(dim=3).minima) == 1


@pytest.mark.parametrize("surface", [LocalMinima(), Cliff()], ids=["local-minima", "cliff"])
def test_minima_agree_with_scipy_and_none_is_missing(surface):
    """Multi-start BFGS over the window finds only listed minima, each to 1e-7."""
    found = []
    for x in np.linspace(*surface.xlim, 9):
        for y in np.linspace(*surface.ylim, 7):
            res = minimize(surface.f, [x, y], jac=surface.grad, method="BFGS",
                           options=dict(gtol=1e-11))
            found.append(res.x)
    for x in found:
        dist = min(np.linalg.norm(x - m) for m in surface.minima)
        assert dist < 1e-7, f"{x} is not a listed minimum"
    for m in surface.minima:
        assert any(np.linalg.norm(x - m) < 1e-7 for x in found)


def test_saddle_point_is_strict():
    s = Saddle()
    np.testing.assert_array_equal(s.grad(s.saddle), [0.0, 0.0])
    eig = np.linalg.eigvalsh(s.hessian(s.saddle))
    np.testing.assert_allclose(eig, [-1.0, 2.0])
    assert s.f(s.saddle) > s.f(s.minima[0])


# --------------------------------------------------------------------------------------------
# Quadratic's construction.


@pytest.mark.parametrize("kappa, dim, angle", [(10.0, 2, 0.0), (50.0, 2, 0.6), (1e3, 6, 1.1),
                                               (1.0, 3, 0.0)])
def test_quadratic_spectrum(kappa, dim, angle):
    q = Quadratic(kappa, dim=dim, angle=angle)
    np.testing.assert_array_equal(q.A, q.A.T)
    eig = np.linalg.eigvalsh(q.A)
    assert eig[-1] / eig[0] == pytest.approx(kappa, rel=1e-12)
    assert q.condition_number == kappa
    np.testing.assert_allclose(eig, np.geomspace(1.0, kappa, dim), rtol=1e-12)
    np.testing.assert_allclose(q.hessian(q.start), q.A)
    # the flat eigenvector (eigenvalue 1) is theta_1 rotated by `angle`
    flat = np.zeros(dim)
    flat[:2] = [np.cos(angle), np.sin(angle)]
    np.testing.assert_allclose(q.A @ flat, flat, atol=1e-12)


def test_gradient_descent_zig_zags_on_the_default_quadratic():
    q = Quadratic()
    path = trajectory(q, lambda p: SGD(p, lr=0.18), 20)
    signs = np.sign(path[:, 1])
    assert np.all(signs[1:] != signs[:-1]), "theta_2 flips sign every step"
    assert np.all(np.diff(path[:, 0]) > 0), "theta_1 creeps monotonically towards 0"


# --------------------------------------------------------------------------------------------
# trajectory().


def test_trajectory_is_exact_gradient_descent_on_a_quadratic():
    q = Quadratic(10.0, angle=0.4)
    lr, steps = 0.15, 60
    path = trajectory(q, lambda p: SGD(p, lr=lr), steps)
    assert path.shape == (steps + 1, 2)
    np.testing.assert_array_equal(path[0], q.start)
    M = np.eye(2) - lr * q.A  # closed form: theta_t = (I - lr A)^t theta_0
    expected = [np.linalg.matrix_power(M, t) @ q.start for t in range(steps + 1)]
    np.testing.assert_allclose(path, expected, rtol=1e-10, atol=1e-13)


def test_trajectory_converges_and_leaves_the_start_alone():
    q = Quadratic()
    start = q.start.copy()
    path = trajectory(q, lambda p: SGD(p, lr=0.1), 500)
    assert np.linalg.norm(path[-1]) < 1e-8
    np.testing.assert_array_equal(q.start, start)
    other = trajectory(q, lambda p: SGD(p, lr=0.1), 3, start=[1.0, 1.0])
    np.testing.assert_array_equal(other[0], [1.0, 1.0])


def test_diverging_learning_rate_pads_with_nan_without_warnings():
    q = Quadratic()  # lr = 1 > 2/kappa: theta_2 grows by |1 - 10| = 9 per step
    path = trajectory(q, lambda p: SGD(p, lr=1.0), 1000)
    assert path.shape == (1001, 2)
    finite = np.all(np.isfinite(path), axis=1)
    n = int(finite.sum())
    assert 100 < n < 1000
    assert finite[:n].all() and not finite[n:].any(), "finite rows, then only NaN"
    assert np.isnan(path[n:]).all()
    assert np.abs(path[n - 1]).max() > 1e300
    r = trajectory(Rosenbrock(), lambda p: SGD(p, lr=0.1), 100)  # the gradient overflows first
    assert np.isnan(r[-1]).all() and np.isfinite(r[0]).all()


def test_an_overflowing_iterate_is_caught_even_with_a_finite_gradient():
    q = Quadratic()  # lr * g overflows to -inf in the first step; the gradient was finite
    path = trajectory(q, lambda p: SGD(p, lr=1e308), 3)
    np.testing.assert_array_equal(path[0], q.start)
    assert np.isnan(path[1:]).all()


def test_check_finite_false_lets_the_optimizer_decide():
    q = Quadratic()
    path = trajectory(q, lambda p: SGD(p, lr=1.0, check_finite=False), 400, check_finite=False)
    assert path.shape == (401, 2) and not np.isnan(path[:, 0]).all()
    assert not np.all(np.isfinite(path[-1]))
    with pytest.raises(NonFiniteGradientError):
        trajectory(q, lambda p: SGD(p, lr=1.0), 400, check_finite=False)


def test_clip_norm_bounds_every_step():
    r = Rosenbrock()
    lr, c = 1e-3, 1.0
    path = trajectory(r, lambda p: SGD(p, lr=lr), 200, clip_norm=c)
    steps = np.linalg.norm(np.diff(path, axis=0), axis=1)
    assert np.all(steps <= lr * c + 1e-12)
    assert steps.max() > 0.9 * lr * c  # clipping is active, not vacuous
    unclipped = trajectory(r, lambda p: SGD(p, lr=lr), 200)
    assert np.linalg.norm(np.diff(unclipped, axis=0), axis=1).max() > 10 * lr * c


# --------------------------------------------------------------------------------------------
# The behaviours the docstrings promise.


def nearest(surface, x):
    dists = [np.linalg.norm(x - m) for m in surface.minima]
    return int(np.argmin(dists)), min(dists)


LOCAL_MINIMA = LocalMinima()
SHALLOW = len(LOCAL_MINIMA.minima) - 1


def test_local_minima_shallowest_well_is_next_to_the_start():
    lm = LOCAL_MINIMA
    assert nearest(lm, np.array([-2.0, 1.5]))[0] == SHALLOW
    assert nearest(lm, lm.start)[0] == SHALLOW
    assert lm.f(lm.minima[SHALLOW]) > lm.f(lm.minima[1]) > lm.f(lm.minima[0])


@pytest.mark.parametrize("lr", [0.01, 0.05, 0.5])
def test_local_minima_plain_gd_is_stuck_in_the_shallow_well(lr):
    which, dist = nearest(LOCAL_MINIMA, trajectory(LOCAL_MINIMA, lambda p: SGD(p, lr=lr), 600)[-1])
    assert which == SHALLOW and dist < 1e-3


@pytest.mark.parametrize("make", [
    lambda p: SGD(p, lr=0.01, momentum=0.9), lambda p: SGD(p, lr=0.05, momentum=0.9),
    lambda p: SGD(p, lr=0.5, momentum=0.9), lambda p: Adam(p, lr=0.05),
    lambda p: Adam(p, lr=0.1), lambda p: Adam(p, lr=0.5),
], ids=["momentum-0.01", "momentum-0.05", "momentum-0.5", "adam-0.05", "adam-0.1", "adam-0.5"])
def test_local_minima_momentum_and_adam_reach_the_global_minimum(make):
    which, dist = nearest(LOCAL_MINIMA, trajectory(LOCAL_MINIMA, make, 600)[-1])
    assert which == 0 and dist < 1e-3


def test_cliff_catapults_unclipped_gd_and_clipping_keeps_steps_small():
    c = Cliff()
    m = c.minima[0]
    path = trajectory(c, lambda p: SGD(p, lr=0.1), 100)
    steps = np.linalg.norm(np.diff(path, axis=0), axis=1)
    k = int(np.argmax(steps))
    assert steps[k] > 2.5 and k == 9
    assert np.linalg.norm(path[k + 1] - m) > np.linalg.norm(path[k] - m), "thrown past the min"
    assert np.abs(c.grad(path[k])).max() > 20  # the wall, not the bowl (|grad| < 6 there)

    clipped = trajectory(c, lambda p: SGD(p, lr=0.1), 100, clip_norm=1.0)
    steps = np.linalg.norm(np.diff(clipped, axis=0), axis=1)
    assert np.all(steps <= 0.1 + 1e-12)
    dist = np.linalg.norm(clipped - m, axis=1)
    assert np.all(np.diff(dist) < 0), "every clipped step gets closer to the minimum"
    assert dist[98] < 1e-3


def test_saddle_slows_gradient_descent_but_not_adam():
    s = Saddle()
    gd = trajectory(s, lambda p: SGD(p, lr=0.1), 200)
    near = np.linalg.norm(gd - s.saddle, axis=1) < 0.1
    assert near.sum() >= 30
    assert np.argmax(gd[:, 1] > 0.5) >= 60
    assert np.linalg.norm(gd[-1] - s.minima[0]) < 1e-6  # it does escape, eventually
    adam = trajectory(s, lambda p: Adam(p, lr=0.1), 200)
    assert np.argmax(adam[:, 1] > 0.5) <= 10
    assert np.linalg.norm(adam - s.saddle, axis=1).min() > 0.5


def test_all_2d_holds_default_instances():
    assert set(ALL_2D) == {"Quadratic", "Rosenbrock", "Saddle", "Cliff", "Local minima"}
    for name, s in ALL_2D.items():
        assert s.name == name and s.dim == 2
        assert s.start.dtype == np.float64 and s.start.shape == (2,)
        assert s.xlim[0] < s.start[0] < s.xlim[1] and s.ylim[0] < s.start[1] < s.ylim[1]
        for m in s.minima:
            assert s.xlim[0] < m[0] < s.xlim[1] and s.ylim[0] < m[1] < s.ylim[1]


# --------------------------------------------------------------------------------------------
# Bad input.


@pytest.mark.parametrize("make, words", [
    (lambda: Quadratic(condition_number=0.5), ["Quadratic", "condition_number"]),
    (lambda: Quadratic(condition_number=float("inf")), ["Quadratic", "condition_number"]),
    (lambda: Quadratic(dim=1), ["Quadratic", "dim"]),
    (lambda: Quadratic(dim=2.5), ["Quadratic", "dim"]),
    (lambda: Quadratic(angle=float("inf")), ["Quadratic", "angle"]),
    (lambda: Rosenbrock(dim=1), ["Rosenbrock", "dim"]),
    (lambda: Rosenbrock(b=0.0), ["Rosenbrock", "b"]),
    (lambda: Cliff(height=-1.0), ["Cliff", "height"]),
    (lambda: Cliff(steepness=0.0), ["Cliff", "steepness"]),
    (lambda: LocalMinima(curvature=0.0), ["LocalMinima", "curvature"]),
    (lambda: LocalMinima(wells=[((0.0, 0.0, 0.0), 1.0, 1.0)]), ["LocalMinima", "wells"]),
    (lambda: LocalMinima(wells=[((0.0, 0.0), -1.0, 1.0)]), ["LocalMinima", "depth"]),
    (lambda: Quadratic().f(np.zeros(3)), ["Quadratic.f", "x", "(..., 2)"]),
    (lambda: Rosenbrock(dim=3).grad(np.zeros((4, 2))), ["Rosenbrock.grad", "x"]),
    (lambda: Saddle().hessian(1.0), ["Saddle.hessian", "x"]),
    (lambda: trajectory(Saddle(), lambda p: SGD(p, lr=0.1), -1), ["trajectory", "steps"]),
    (lambda: trajectory(Saddle(), lambda p: SGD(p, lr=0.1), 5, start=[1.0]),
     ["trajectory", "start"]),
    (lambda: trajectory(Saddle(), lambda p: SGD(p, lr=0.1), 5, clip_norm=0.0),
     ["trajectory", "clip_norm"]),
])
def test_bad_arguments_raise_value_error_naming_them(make, words):
    with pytest.raises(ValueError) as info:
        make()
    for word in words:
        assert word in str(info.value)


def test_bad_types_raise_type_error():
    with pytest.raises(TypeError, match="trajectory: surface"):
        trajectory("rosenbrock", lambda p: SGD(p), 5)
    with pytest.raises(TypeError, match="make_optimizer"):
        trajectory(Saddle(), "sgd", 5)
    with pytest.raises(TypeError, match="condition_number"):
        Quadratic(condition_number="ten")
