"""Tests of trainart.models: softmax regression in NumPy against torch autograd and finite
differences; the seeded torch MLP. (The losses are tested in test_losses.py, the training
loop in test_training.py.)"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from trainart import data, models, optim
from trainart.gradcheck import numerical_gradient
from trainart.models import SoftmaxRegression


def _problem(seed: int, n: int = 13, d: int = 5, C: int = 4, scale: float = 1.0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, d)) * scale, rng.integers(0, C, n), rng


# ---------------------------------------------------------------------------------------
# SoftmaxRegression
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("weight_decay", [0.0, 0.3])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_softmax_regression_grads_equal_torch_autograd(seed, weight_decay):
    X, y, rng = _problem(seed)
    model = SoftmaxRegression(5, 4, seed=seed, weight_decay=weight_decay)
    model.b[:] = rng.standard_normal(4)  # a non-zero bias exercises db
    loss, (dW, db) = model.loss_and_grads(X, y)
    W = torch.tensor(model.W, requires_grad=True)
    b = torch.tensor(model.b, requires_grad=True)
    lt = F.cross_entropy(torch.tensor(X) @ W + b, torch.tensor(y))
    lt = lt + 0.5 * weight_decay * (W**2).sum()
    lt.backward()
    assert W.dtype == torch.float64
    np.testing.assert_allclose(loss, lt.item(), rtol=1e-12)
    np.testing.assert_allclose(dW, W.grad.numpy(), rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(db, b.grad.numpy(), rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("weight_decay", [0.0, 0.3])
def test_softmax_regression_grads_equal_centred_finite_differences(weight_decay):
    X, y, rng = _problem(7)
    model = SoftmaxRegression(5, 4, seed=7, weight_decay=weight_decay)
    model.W *= 100  # away from the symmetric start
    model.b[:] = rng.standard_normal(4)
    _, grads = model.loss_and_grads(X, y)
    for p, g in zip(model.params, grads, strict=True):
        numeric = numerical_gradient(lambda: model.loss(X, y), p)
        np.testing.assert_allclose(g, numeric, rtol=1e-6, atol=1e-9)


def test_softmax_regression_params_are_float64_and_updated_in_place():
    model = SoftmaxRegression(64, 10, seed=0)
    W, b = model.params
    assert W.dtype == np.float64 and b.dtype == np.float64
    assert W.shape == (64, 10) and b.shape == (10,)
    assert W is model.W and b is model.b
    d = data.load_digits()
    opt = optim.SGD(model.params, lr=0.5)
    first = model.loss(d.X_train, d.y_train)
    for _ in range(30):
        opt.step(model.loss_and_grads(d.X_train, d.y_train)[1])
    assert model.params[0] is W  # the same arrays, changed in place
    assert model.loss(d.X_train, d.y_train) < 0.5 * first
    assert model.accuracy(d.X_test, d.y_test) > 0.85
    assert model.predict(d.X_test).shape == (297,)


def test_softmax_regression_init():
    a, b = SoftmaxRegression(6, 3, seed=4), SoftmaxRegression(6, 3, seed=4)
    np.testing.assert_array_equal(a.W, b.W)
    assert 0 < np.abs(a.W).max() < 0.1
    assert not np.array_equal(a.W, SoftmaxRegression(6, 3, seed=5).W)
    np.testing.assert_array_equal(SoftmaxRegression(6, 3, seed=None).W, 0.0)
    # from zeros, every class is equally likely: loss log(C)
    X, y, _ = _problem(0, d=6, C=3)
    np.testing.assert_allclose(SoftmaxRegression(6, 3, seed=None).loss(X, y), np.log(3))


def test_softmax_regression_bad_input_raises():
    with pytest.raises(ValueError, match="SoftmaxRegression: n_classes"):
        SoftmaxRegression(4, 1)
    with pytest.raises(ValueError, match="SoftmaxRegression: n_features"):
        SoftmaxRegression(0, 3)
    with pytest.raises(ValueError, match=r"SoftmaxRegression: X must have shape \(n, 4\)"):
        SoftmaxRegression(4, 3).loss_and_grads(np.zeros((2, 5)), np.array([0, 1]))


# ---------------------------------------------------------------------------------------
# mlp
# ---------------------------------------------------------------------------------------


def _weights(model) -> list[torch.Tensor]:
    return [p.detach().clone() for p in model.parameters()]


def test_mlp_structure():
    net = models.mlp([784, 128, 64, 10], activation="tanh")
    kinds = [type(m).__name__ for m in net]
    assert kinds == ["Linear", "Tanh", "Linear", "Tanh", "Linear"]
    assert net(torch.zeros(3, 784, dtype=torch.float32)).shape == (3, 10)
    assert all(p.dtype == torch.float32 for p in net.parameters())
    assert [type(m).__name__ for m in models.mlp([4, 2])] == ["Linear"]


def test_mlp_same_seed_same_weights_and_global_rng_untouched():
    torch.manual_seed(11)
    expected = torch.rand(3)
    torch.manual_seed(11)
    a = models.mlp([20, 16, 5], seed=3)
    assert torch.equal(torch.rand(3), expected)  # the global generator was not consumed
    b = models.mlp([20, 16, 5], seed=3)
    c = models.mlp([20, 16, 5], seed=4)
    for u, v in zip(_weights(a), _weights(b), strict=True):
        assert torch.equal(u, v)
    assert not torch.equal(_weights(a)[0], _weights(c)[0])


@pytest.mark.parametrize("init, std", [("kaiming", np.sqrt(2 / 400)), ("xavier", np.sqrt(2 / 600))])
def test_mlp_inits(init, std):
    net = models.mlp([400, 200, 10], init=init, seed=0)
    w = net[0].weight.detach().numpy()
    assert abs(w.std() / std - 1) < 0.02
    assert torch.count_nonzero(net[0].bias) == 0
    bound = 1 / np.sqrt(400)  # torch's default: U(-1/sqrt(fan_in), 1/sqrt(fan_in))
    w = models.mlp([400, 200, 10], seed=0)[0].weight.detach().numpy()
    assert w.max() <= bound and w.min() >= -bound and w.max() > 0.99 * bound


def test_mlp_bad_args_raise():
    with pytest.raises(ValueError, match="mlp: sizes"):
        models.mlp([10])
    with pytest.raises(ValueError, match="mlp: sizes"):
        models.mlp([10, 0, 2])
    with pytest.raises(ValueError, match="mlp: activation"):
        models.mlp([10, 2], activation="swish")
    with pytest.raises(ValueError, match="mlp: init"):
        models.mlp([10, 2], init="orthogonal")


def test_mlp_dropout_and_batch_norm_layers():
    net = models.mlp([6, 5, 4, 3], activation="tanh", dropout=0.25, batch_norm=True, seed=2)
    kinds = [type(m).__name__ for m in net]
    assert kinds == ["Linear", "BatchNorm1d", "Tanh", "Dropout",
                     "Linear", "BatchNorm1d", "Tanh", "Dropout", "Linear"]
    assert net[3].p == 0.25
    # the Linear weights do not depend on the extra layers
    plain = models.mlp([6, 5, 4, 3], activation="tanh", seed=2)
    assert torch.equal(net[0].weight, plain[0].weight)
    he = models.mlp([6, 5, 3], init="kaiming", batch_norm=True, seed=0)
    assert torch.equal(he[1].weight, torch.ones(5))  # norm layers keep their own init
    for p in (-0.1, 1.0, True, "0.5"):
        with pytest.raises(ValueError, match="mlp: dropout"):
            models.mlp([3, 2, 2], dropout=p)
