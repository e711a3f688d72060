"""Weight penalties, decoupled weight decay and parameter sharing (trainart.regularize).

Values and gradients of every penalty against torch autograd and centred differences;
L2 in the loss equals torch's ``weight_decay`` over a whole training run; L2-in-Adam and
decoupled decay give different trajectories in both trainart.optim and torch.optim, and
``decoupled_weight_decay_`` + Adam equals torch's AdamW step for step in float64.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from optim_problems import make_problem

from trainart import optim
from trainart.data import Dataset
from trainart.gradcheck import numerical_gradient, relative_error
from trainart.models import mlp, train_classifier
from trainart.regularize import (
    SharedTrunk,
    decoupled_weight_decay_,
    l1_penalty,
    l1_penalty_grad,
    l2_eigen_shrinkage,
    l2_penalty,
    l2_penalty_grad,
    penalized_loss,
    share_parameters_,
    soft_threshold,
    tied_loss,
    tying_penalty,
    tying_penalty_grad,
    unique_parameters,
    weight_params,
)

F64 = torch.float64
SHAPES = [(4, 3), (5,), (2, 3, 2)]


def _arrays(seed=0, shapes=SHAPES):
    rng = np.random.default_rng(seed)
    return [rng.normal(size=s) for s in shapes]


def _tensors(arrs):
    return [torch.tensor(a, dtype=F64, requires_grad=True) for a in arrs]


# ------------------------------------------------------------------ values and gradients

@pytest.mark.parametrize("lam", [0.0, 0.3, 2.0])
def test_l2_value_and_gradient_match_autograd(lam):
    arrs = _arrays()
    ts = _tensors(arrs)
    value = l2_penalty(ts, lam)
    value.backward()
    assert isinstance(l2_penalty(arrs, lam), float)
    np.testing.assert_allclose(l2_penalty(arrs, lam), value.item(), rtol=1e-14, atol=0)
    np.testing.assert_allclose(value.item(), lam / 2 * sum(np.sum(a**2) for a in arrs),
                               rtol=1e-14)
    for g, t, gt in zip(l2_penalty_grad(arrs, lam), ts, l2_penalty_grad(ts, lam)):
        np.testing.assert_allclose(g, t.grad.numpy(), rtol=1e-14, atol=0)
        np.testing.assert_array_equal(gt.numpy(), g)


@pytest.mark.parametrize("lam", [0.0, 0.3, 2.0])
def test_l1_value_and_gradient_match_autograd_including_exact_zeros(lam):
    arrs = _arrays(1)
    arrs[0][0, 0] = 0.0  # autograd's subgradient of |w| at 0 is 0
    ts = _tensors(arrs)
    value = l1_penalty(ts, lam)
    value.backward()
    np.testing.assert_allclose(l1_penalty(arrs, lam), value.item(), rtol=1e-14, atol=0)
    for g, t in zip(l1_penalty_grad(arrs, lam), ts):
        np.testing.assert_array_equal(g, t.grad.numpy())
    assert l1_penalty_grad(arrs, lam)[0][0, 0] == 0.0


@pytest.mark.parametrize("lam", [0.0, 0.7])
def test_tying_value_and_gradients_match_autograd(lam):
    a, b = _arrays(2), _arrays(3)
    ta, tb = _tensors(a), _tensors(b)
    value = tying_penalty(ta, tb, lam)
    value.backward()
    np.testing.assert_allclose(tying_penalty(a, b, lam), value.item(), rtol=1e-14, atol=0)
    ga, gb = tying_penalty_grad(a, b, lam)
    for g, t in zip(ga + gb, ta + tb):
        np.testing.assert_allclose(g, t.grad.numpy(), rtol=1e-14, atol=1e-300)
    assert tying_penalty(a, a, lam) == 0.0


def test_penalty_gradients_pass_a_numerical_check():
    a, b = _arrays(4), _arrays(5)
    for i in range(len(a)):
        num_l2 = numerical_gradient(lambda: l2_penalty(a, 0.7), a[i])
        num_l1 = numerical_gradient(lambda: l1_penalty(a, 0.7), a[i])
        num_ta = numerical_gradient(lambda: tying_penalty(a, b, 0.7), a[i])
        num_tb = numerical_gradient(lambda: tying_penalty(a, b, 0.7), b[i])
        ga, gb = tying_penalty_grad(a, b, 0.7)
        for num, exact in ((num_l2, l2_penalty_grad(a, 0.7)[i]),
                           (num_l1, l1_penalty_grad(a, 0.7)[i]), (num_ta, ga[i]),
                           (num_tb, gb[i])):
            # absolute: a relative error is meaningless on entries near 0 (|w| ~ 1e-3)
            np.testing.assert_allclose(num, exact, rtol=1e-7, atol=1e-8)
            assert relative_error(num, exact) < 1e-6


@settings(max_examples=50, deadline=None)
@given(arrays(np.float64, st.integers(1, 30), elements=st.floats(-5, 5)),
       st.floats(0, 3))
def test_soft_threshold_is_torch_softshrink_and_the_l1_prox(w, t):
    out = soft_threshold(w, t)
    np.testing.assert_array_equal(out, F.softshrink(torch.from_numpy(w), t).numpy())
    np.testing.assert_array_equal(soft_threshold(torch.from_numpy(w), t).numpy(), out)
    assert np.all(out[np.abs(w) <= t] == 0)
    # prox optimality: 0 in (u - w) + t * subdifferential |u|
    nz = out != 0
    np.testing.assert_allclose((out - w)[nz], -t * np.sign(out[nz]), atol=1e-12)


def test_proximal_l1_makes_exact_zeros_where_subgradient_steps_do_not():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 10))
    w_true = np.zeros(10)
    w_true[:3] = [2.0, -1.5, 1.0]
    y = X @ w_true + 0.1 * rng.normal(size=50)
    lam, lr = 0.5, 0.01
    w_sub, w_prox = np.zeros(10), np.zeros(10)
    for _ in range(2000):
        w_sub -= lr * (X.T @ (X @ w_sub - y) / 50 + l1_penalty_grad([w_sub], lam)[0])
        w_prox = soft_threshold(w_prox - lr * X.T @ (X @ w_prox - y) / 50, lr * lam)
    assert np.count_nonzero(w_prox == 0) >= 5
    assert np.count_nonzero(w_sub == 0) == 0


# ------------------------------------------------------------ weight decay vs optimizers


def _run(make_opt, steps=100, decay=None, l2=0.0):
    loss, start = make_problem()
    params = [p.clone().requires_grad_(True) for p in start]
    opt = make_opt(params)
    traj = []
    for _ in range(steps):
        opt.zero_grad()
        value = loss(params)
        if l2:
            value = value + l2_penalty(params, l2)
        value.backward()
        if decay is not None:
            decoupled_weight_decay_(params, *decay)
        opt.step()
        traj.append(torch.cat([p.detach().flatten() for p in params]).clone())
    return torch.stack(traj).numpy()


def test_decoupled_decay_plus_adam_equals_torch_adamw_over_a_trajectory():
    lr, wd = 0.01, 0.1
    ours = _run(lambda ps: optim.Adam(ps, lr=lr), decay=(lr, wd))
    ref = _run(lambda ps: torch.optim.AdamW(ps, lr=lr, weight_decay=wd))
    np.testing.assert_allclose(ours, ref, rtol=1e-11, atol=1e-13)
    ours_torch = _run(lambda ps: torch.optim.Adam(ps, lr=lr), decay=(lr, wd))
    np.testing.assert_allclose(ours_torch, ref, rtol=1e-11, atol=1e-13)
    np.testing.assert_allclose(_run(lambda ps: optim.AdamW(ps, lr=lr, weight_decay=wd)), ref,
                               rtol=1e-11, atol=1e-13)


def test_l2_in_adam_and_decoupled_decay_give_different_trajectories():
    lr, wd = 0.01, 0.1
    for Adam in (optim.Adam, torch.optim.Adam):
        l2 = _run(lambda ps, A=Adam: A(ps, lr=lr, weight_decay=wd))
        l2_loss = _run(lambda ps, A=Adam: A(ps, lr=lr), l2=wd)      # the same thing, by hand
        decoupled = _run(lambda ps, A=Adam: A(ps, lr=lr), decay=(lr, wd))
        np.testing.assert_allclose(l2, l2_loss, rtol=1e-10, atol=1e-12)
        gap = np.abs(l2[-1] - decoupled[-1]).max()
        assert gap > 1e-2, gap
    # ... while for plain SGD the two are the same update
    sgd_l2 = _run(lambda ps: optim.SGD(ps, lr=0.05, weight_decay=wd))
    sgd_dec = _run(lambda ps: optim.SGD(ps, lr=0.05), decay=(0.05, wd))
    np.testing.assert_allclose(sgd_l2, sgd_dec, rtol=1e-10, atol=1e-12)


def test_decoupled_weight_decay_is_in_place_on_arrays_and_tensors():
    arrs = _arrays()
    before = [a.copy() for a in arrs]
    decoupled_weight_decay_(arrs, 0.1, 0.5)
    for a, b in zip(arrs, before):
        np.testing.assert_allclose(a, 0.95 * b, rtol=1e-15)
    t = torch.ones(3, requires_grad=True)
    decoupled_weight_decay_([t], 0.1, 0.5)
    assert torch.allclose(t.detach(), torch.full((3,), 0.95))


def _synthetic_data(n=256, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 6)).astype(np.float32)
    y = (X[:, 0] + X[:, 1] * X[:, 2] > 0).astype(np.int64) + 2 * (X[:, 3] > 0.5)
    return Dataset(X[:192], y[:192], X[192:], y[192:])


def test_penalized_loss_on_all_params_equals_torch_sgd_weight_decay_over_training():
    data = _synthetic_data()
    lam = 0.05
    a = mlp([6, 16, 4], seed=1).double()
    b = copy.deepcopy(a)
    ha = train_classifier(a, torch.optim.SGD(a.parameters(), lr=0.1, momentum=0.9,
                                             weight_decay=lam), data, epochs=3, batch_size=32)
    hb = train_classifier(b, torch.optim.SGD(b.parameters(), lr=0.1, momentum=0.9), data,
                          epochs=3, batch_size=32,
                          loss_fn=penalized_loss(l2=lam, params=list(b.parameters())))
    for pa, pb in zip(a.parameters(), b.parameters()):
        torch.testing.assert_close(pa, pb, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(ha["test_loss"], hb["test_loss"], rtol=1e-10)


def test_penalized_loss_penalizes_only_the_weights_by_default():
    model = mlp([6, 5, 3], seed=0, batch_norm=True).double()
    ws = weight_params(model)
    assert [tuple(w.shape) for w in ws] == [(5, 6), (3, 5)]
    x = torch.randn(7, 6, dtype=F64, generator=torch.Generator().manual_seed(0))
    y = torch.tensor([0, 1, 2, 0, 1, 2, 0])
    got = penalized_loss(l1=0.2, l2=0.3)(model, x, y)
    want = F.cross_entropy(model(x), y) + 0.2 * sum(w.abs().sum() for w in ws) \
        + 0.15 * sum((w**2).sum() for w in ws)
    torch.testing.assert_close(got, want, rtol=1e-14, atol=0)


def test_tied_loss_gradient_pulls_towards_the_frozen_reference():
    ref = mlp([6, 5, 3], seed=0).double()
    model = mlp([6, 5, 3], seed=1).double()
    x = torch.randn(7, 6, dtype=F64, generator=torch.Generator().manual_seed(0))
    y = torch.tensor([0, 1, 2, 0, 1, 2, 0])
    loss_fn = tied_loss(ref, 0.4)
    with torch.no_grad():  # changing the reference afterwards must not matter
        ref[0].weight.add_(1.0)
    loss_fn(model, x, y).backward()
    plain = copy.deepcopy(model)
    plain.zero_grad()
    F.cross_entropy(plain(x), y).backward()
    ref_fresh = mlp([6, 5, 3], seed=0).double()
    for w, w_plain, w_ref in zip(weight_params(model), weight_params(plain),
                                 weight_params(ref_fresh)):
        torch.testing.assert_close(w.grad, w_plain.grad + 0.4 * (w - w_ref).detach(),
                                   rtol=1e-12, atol=1e-14)


# ------------------------------------------------------------------ the eigenbasis view of L2

def _least_squares(seed=0, n=40, d=5):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)) * np.array([3.0, 1.0, 0.5, 0.2, 0.05])   # spread curvatures
    y = X @ rng.normal(size=d) + 0.1 * rng.normal(size=n)
    return X, y


@pytest.mark.parametrize("alpha", [0.0, 0.01, 1.0, 30.0])
def test_l2_eigen_shrinkage_scales_each_eigen_component_of_the_ridge_solution(alpha):
    X, y = _least_squares()
    H = X.T @ X
    w_star = np.linalg.solve(H, X.T @ y)
    ridge = np.linalg.solve(H + alpha * np.eye(5), X.T @ y)           # the closed form
    lam, Q, factors = l2_eigen_shrinkage(H, alpha)
    np.testing.assert_allclose(Q @ np.diag(lam) @ Q.T, H, rtol=0, atol=1e-10)
    np.testing.assert_allclose(factors, lam / (lam + alpha), rtol=0, atol=1e-15)
    np.testing.assert_allclose(Q @ (factors * (Q.T @ w_star)), ridge, rtol=0, atol=1e-10)
    # component by component: (q_i . w_ridge) = factor_i (q_i . w_star)
    np.testing.assert_allclose(Q.T @ ridge, factors * (Q.T @ w_star), rtol=0, atol=1e-10)


def test_l2_eigen_shrinkage_is_where_torch_sgd_with_weight_decay_converges():
    X, y = _least_squares(seed=1)
    alpha = 2.0
    H = X.T @ X
    lam, Q, factors = l2_eigen_shrinkage(H, alpha)
    w_star = np.linalg.solve(H, X.T @ y)
    w = torch.zeros(5, dtype=F64, requires_grad=True)
    opt = torch.optim.SGD([w], lr=1.0 / (lam[-1] + alpha), weight_decay=alpha)
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    for _ in range(6000):
        opt.zero_grad()
        (0.5 * ((Xt @ w - yt) ** 2).sum()).backward()
        opt.step()
    np.testing.assert_allclose(w.detach().numpy(), Q @ (factors * (Q.T @ w_star)),
                               rtol=0, atol=1e-10)


def test_l2_eigen_shrinkage_rejects_bad_matrices():
    with pytest.raises(ValueError, match="l2_eigen_shrinkage: H must be a square matrix"):
        l2_eigen_shrinkage(np.ones((2, 3)), 1.0)
    with pytest.raises(ValueError, match="l2_eigen_shrinkage: H must be symmetric"):
        l2_eigen_shrinkage(np.array([[1.0, 2.0], [0.0, 1.0]]), 1.0)
    with pytest.raises(ValueError, match="l2_eigen_shrinkage: H must be positive semi-def"):
        l2_eigen_shrinkage(-np.eye(2), 1.0)
    with pytest.raises(ValueError, match="l2_eigen_shrinkage: alpha"):
        l2_eigen_shrinkage(np.eye(2), -1.0)


def test_old_import_paths_of_parameter_sharing_still_work():
    from trainart.regularize import penalties, sharing
    assert penalties.share_parameters_ is sharing.share_parameters_ is share_parameters_
    assert penalties.unique_parameters is sharing.unique_parameters is unique_parameters
    assert penalties.SharedTrunk is sharing.SharedTrunk is SharedTrunk


# ------------------------------------------------------------------ bad arguments

@pytest.mark.parametrize("call, match", [
    (lambda: l2_penalty(_arrays(), -1), "l2_penalty: lam must be a finite number >= 0"),
    (lambda: l1_penalty(_arrays(), float("nan")), "l1_penalty: lam"),
    (lambda: l2_penalty_grad(_arrays(), -0.1), "l2_penalty_grad: lam"),
    (lambda: l1_penalty_grad([], 1.0), "l1_penalty_grad: params must hold"),
    (lambda: tying_penalty(_arrays(), _arrays()[:2], 1.0), "tying_penalty: params_a and"),
    (lambda: tying_penalty([np.ones(3)], [np.ones(4)], 1.0), "tying_penalty: params_a\\[0\\]"),
    (lambda: tying_penalty_grad([np.ones(3)], [np.ones(2)], 1.0), "tying_penalty_grad"),
    (lambda: soft_threshold(np.ones(3), -1), "soft_threshold: t"),
    (lambda: decoupled_weight_decay_(_arrays(), 0.0, 0.1), "decoupled_weight_decay_: lr"),
    (lambda: decoupled_weight_decay_(_arrays(), 0.1, -1), "decoupled_weight_decay_: weight_"),
    (lambda: penalized_loss(l1=-1), "penalized_loss: l1"),
    (lambda: penalized_loss(l2=-1), "penalized_loss: l2"),
    (lambda: tied_loss(mlp([2, 2]), -1), "tied_loss: lam"),
])
def test_bad_arguments_raise_value_errors_naming_them(call, match):
    with pytest.raises(ValueError, match=match):
        call()


@pytest.mark.parametrize("call, match", [
    (lambda: l2_penalty([np.ones(2), torch.ones(2)], 1.0), "l2_penalty: params must be all"),
    (lambda: l2_penalty(mlp([2, 2]), 1.0), "l2_penalty: params must be a list"),
    (lambda: l1_penalty(["a"], 1.0), "l1_penalty: params\\[0\\] must be a numeric array"),
    (lambda: weight_params([torch.ones(2)]), "weight_params: model"),
    (lambda: tying_penalty([np.ones(2)], [torch.ones(2)], 1.0), "tying_penalty: params_a and"),
])
def test_bad_types_raise_type_errors_naming_them(call, match):
    with pytest.raises(TypeError, match=match):
        call()
