"""The Optimization chapter's helpers: update rules against torch.optim (float64, whole
trajectories), the weight-decay correspondence under momentum, the least-squares noise
floor, and argument checks."""

import numpy as np
import pytest
import torch

from trainart.book import optimization as book
from trainart.optim import constant, cosine_annealing

RNG = np.random.default_rng(0)
A = RNG.standard_normal((5, 5))
H = A @ A.T / 5 + 0.1 * np.eye(5)  # a positive definite Hessian
THETA0 = RNG.standard_normal(5)


def grad(theta):
    return H @ theta + np.sin(theta)  # not quadratic: the trajectory depends on every step


def torch_trajectory(make, steps=200):
    p = torch.tensor(THETA0, dtype=torch.float64, requires_grad=True)
    opt = make([p])
    path = [p.detach().numpy().copy()]
    for _ in range(steps):
        p.grad = torch.from_numpy(grad(p.detach().numpy().copy()))
        opt.step()
        path.append(p.detach().numpy().copy())
    return np.array(path)


CASES = [
    (book.momentum_step, dict(lr=0.05, mu=0.9),
     lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9)),
    (book.nesterov_step, dict(lr=0.05, mu=0.9),
     lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9, nesterov=True)),
    (book.adagrad_step, dict(lr=0.3), lambda p: torch.optim.Adagrad(p, lr=0.3)),
    (book.rmsprop_step, dict(lr=0.01), lambda p: torch.optim.RMSprop(p, lr=0.01)),
    (book.adadelta_step, dict(), lambda p: torch.optim.Adadelta(p)),
    (book.adam_step, dict(lr=0.05), lambda p: torch.optim.Adam(p, lr=0.05)),
    (book.adam_step, dict(lr=0.01, betas=(0.8, 0.99), eps=1e-6),
     lambda p: torch.optim.Adam(p, lr=0.01, betas=(0.8, 0.99), eps=1e-6)),
    (book.momentum_weight_decay_step, dict(lr=0.05, mu=0.9, l2=0.3),
     lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9, weight_decay=0.3)),
]


@pytest.mark.parametrize("rule, hyper, make", CASES, ids=lambda c: getattr(c, "__name__", ""))
def test_update_rules_match_torch_over_whole_trajectories(rule, hyper, make):
    ours = book.rule_trajectory(rule, grad, THETA0, 200, **hyper)
    theirs = torch_trajectory(make)
    assert np.abs(ours - theirs).max() < 1e-10
    assert np.abs(ours[-1] - ours[0]).max() > 1e-2  # the run really moved


def test_decoupled_decay_matches_torch_sgd_without_momentum():
    # Without momentum, L2 and decoupled decay are the same update.
    l2 = book.rule_trajectory(book.momentum_weight_decay_step, grad, THETA0, 100,
                              lr=0.05, mu=0.0, l2=0.3)
    dec = book.rule_trajectory(book.momentum_weight_decay_step, grad, THETA0, 100,
                               lr=0.05, mu=0.0, decoupled=0.3)
    assert np.abs(l2 - dec).max() < 1e-13


def test_with_momentum_l2_equals_decoupled_only_at_the_fixed_point():
    def lin(th):
        return H @ th - 1.0  # gradient of 0.5 th'H th - sum(th)

    mu, lam = 0.9, 0.3
    kw = dict(lr=0.05, mu=mu)
    l2 = book.rule_trajectory(book.momentum_weight_decay_step, lin, THETA0, 3000, l2=lam, **kw)
    same = book.rule_trajectory(book.momentum_weight_decay_step, lin, THETA0, 3000,
                                decoupled=lam, **kw)
    scaled = book.rule_trajectory(book.momentum_weight_decay_step, lin, THETA0, 3000,
                                  decoupled=lam / (1 - mu), **kw)
    ridge = np.linalg.solve(H + lam * np.eye(5), np.ones(5))
    assert np.abs(l2[-1] - ridge).max() < 1e-10
    assert np.abs(scaled[-1] - ridge).max() < 1e-10        # same fixed point
    assert np.abs(same[-1] - ridge).max() > 1e-2           # the naive lambda is not
    assert np.abs(scaled[1:50] - l2[1:50]).max() > 1e-3    # and the paths differ
    assert np.abs(scaled[1] - l2[1]).max() > 0             # from the first step on


def test_rule_source_drops_the_docstring():
    src = book.rule_source(book.adam_step)
    assert src.startswith("def adam_step(") and '"""' not in src and "m_hat" in src
    assert len(src.splitlines()) <= 8
    with pytest.raises(TypeError, match="rule_source: rule"):
        book.rule_source(3)


def test_least_squares_problem_solves_the_normal_equations():
    X, y, ts = book.least_squares_problem(n=300, d=7, noise=0.5, seed=1)
    assert X.shape == (300, 7) and y.shape == (300,)
    assert np.abs(X.T @ (X @ ts - y)).max() < 1e-9
    X2, y2, _ = book.least_squares_problem(n=300, d=7, noise=0.5, seed=1)
    assert np.array_equal(X, X2) and np.array_equal(y, y2)


def test_least_squares_sgd_noise_floor_and_decay():
    X, y, ts = book.least_squares_problem(n=500, d=10, noise=0.5, seed=0)
    const = book.least_squares_sgd(X, y, constant(0.05), 20, batch_size=5, seed=0)
    small = book.least_squares_sgd(X, y, constant(0.005), 20, batch_size=5, seed=0)
    cos = book.least_squares_sgd(X, y, cosine_annealing(0.05, 20), 20, batch_size=5, seed=0)
    assert const[0] == pytest.approx(book.least_squares_loss(X, y, np.zeros(10))
                                     - book.least_squares_loss(X, y, ts))
    assert np.all(const >= 0) and np.all(cos >= 0)
    # a floor: constant rate stalls; ten times smaller rate, a lower floor; decay goes below
    assert const[10:].max() < 10 * const[10:].min()
    assert small[-1] < const[-1] / 3
    assert cos[-1] < const[-1] / 10
    again = book.least_squares_sgd(X, y, constant(0.05), 20, batch_size=5, seed=0)
    assert np.array_equal(const, again)


def test_best_time_is_positive():
    assert 0 < book.best_time(lambda: sum(range(100)), repeats=2, number=3) < 1


def test_bad_arguments_name_the_function_and_argument():
    with pytest.raises(ValueError, match="least_squares_problem: n"):
        book.least_squares_problem(n=5, d=10)
    with pytest.raises(ValueError, match="least_squares_problem: noise"):
        book.least_squares_problem(noise=-1)
    X, y, _ = book.least_squares_problem(n=50, d=3)
    with pytest.raises(TypeError, match="least_squares_sgd: schedule"):
        book.least_squares_sgd(X, y, 0.1, 3)
    with pytest.raises(ValueError, match="least_squares_sgd: batch_size"):
        book.least_squares_sgd(X, y, constant(0.1), 3, batch_size=0)
    with pytest.raises(ValueError, match="rule_trajectory: steps"):
        book.rule_trajectory(book.adam_step, grad, THETA0, -1)
    with pytest.raises(TypeError, match="rule_trajectory: grad"):
        book.rule_trajectory(book.adam_step, 3, THETA0, 1)
    with pytest.raises(ValueError, match="best_time: repeats"):
        book.best_time(lambda: None, repeats=0)
