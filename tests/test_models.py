"""Tests of trainart.models: softmax cross-entropy and regression in NumPy against torch
autograd and finite differences; the seeded MLP; the training loop."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from trainart import data, models, optim
from trainart.data import Dataset
from trainart.gradcheck import numerical_gradient
from trainart.models import SoftmaxRegression, softmax_cross_entropy


def _problem(seed: int, n: int = 13, d: int = 5, C: int = 4, scale: float = 1.0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, d)) * scale, rng.integers(0, C, n), rng


# ---------------------------------------------------------------------------------------
# softmax_cross_entropy
# ---------------------------------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 20), C=st.integers(2, 8),
       scale=st.sampled_from([0.1, 1.0, 30.0]))
def test_softmax_cross_entropy_equals_torch(seed, n, C, scale):
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((n, C)) * scale
    y = rng.integers(0, C, n)
    loss, dz = softmax_cross_entropy(z, y)
    zt = torch.tensor(z, requires_grad=True)
    lt = F.cross_entropy(zt, torch.tensor(y))
    lt.backward()
    np.testing.assert_allclose(loss, lt.item(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(dz, zt.grad.numpy(), rtol=1e-10, atol=1e-15)


def test_softmax_cross_entropy_is_stable_for_huge_logits():
    z = np.array([[1000.0, 0.0, -1000.0], [-800.0, 800.0, 0.0]])
    loss, dz = softmax_cross_entropy(z, np.array([1, 1]))
    assert np.isfinite(loss) and np.all(np.isfinite(dz))
    np.testing.assert_allclose(loss, 0.5 * 1000.0)  # first row: -log softmax = 1000
    expected = F.cross_entropy(torch.tensor(z), torch.tensor([1, 1])).item()
    np.testing.assert_allclose(loss, expected, rtol=1e-12)


def test_softmax_cross_entropy_bad_input_raises():
    with pytest.raises(ValueError, match="softmax_cross_entropy: logits"):
        softmax_cross_entropy(np.zeros(3), np.array([0]))
    with pytest.raises(ValueError, match="softmax_cross_entropy: labels"):
        softmax_cross_entropy(np.zeros((2, 3)), np.array([0, 3]))
    with pytest.raises(ValueError, match="softmax_cross_entropy: y"):
        softmax_cross_entropy(np.zeros((2, 3)), np.array([0, 1, 2]))
    with pytest.raises(TypeError, match="softmax_cross_entropy: y"):
        softmax_cross_entropy(np.zeros((2, 3)), np.array([0.0, 1.0]))


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
# mlp and fresh_copies
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


def test_fresh_copies_are_equal_and_independent():
    net = models.mlp([8, 6, 3], seed=0)
    a, b = models.fresh_copies(net, 2)
    for u, v in zip(_weights(a), _weights(net), strict=True):
        assert torch.equal(u, v)
    with torch.no_grad():
        a[0].weight += 1.0
    assert torch.equal(b[0].weight, net[0].weight)
    assert not torch.equal(a[0].weight, net[0].weight)
    with pytest.raises(ValueError, match="fresh_copies: n"):
        models.fresh_copies(net, 0)


# ---------------------------------------------------------------------------------------
# train_classifier
# ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def mnist():
    return data.load_mnist5k()


@pytest.fixture(scope="module")
def small(mnist):
    return Dataset(mnist.X_train[:1000], mnist.y_train[:1000], mnist.X_test[:300],
                   mnist.y_test[:300])


def test_train_classifier_learns_mnist5k(mnist):
    net = models.mlp([784, 128, 64, 10], seed=0)
    hist = models.train_classifier(net, optim.Adam(net.parameters(), lr=1e-3), mnist, epochs=2)
    assert hist["test_acc"][-1] > 0.8, hist["test_acc"]
    assert hist["train_loss"][1] < hist["train_loss"][0] < np.log(10) + 0.1
    assert len(hist["step_loss"]) == 2 * 32  # 4000 / 128 -> 32 steps per epoch
    assert hist["lr"] == [1e-3, 1e-3]
    np.testing.assert_allclose(hist["train_loss"][0], np.mean(hist["step_loss"][:32]))
    # the recorded test numbers are the model's
    X, y = torch.from_numpy(mnist.X_test), torch.from_numpy(mnist.y_test)
    loss, acc = models.evaluate(net, X, y)
    assert loss == pytest.approx(hist["test_loss"][-1], rel=1e-6)
    assert acc == hist["test_acc"][-1]


def test_train_classifier_is_deterministic(small):
    runs = []
    for _ in range(2):
        net = models.mlp([784, 32, 10], seed=1)
        opt = optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
        runs.append((models.train_classifier(net, opt, small, epochs=2, batch_size=64, seed=5),
                     _weights(net)))
    (h1, w1), (h2, w2) = runs
    assert h1 == h2
    for u, v in zip(w1, w2, strict=True):
        assert torch.equal(u, v)
    net = models.mlp([784, 32, 10], seed=1)
    other = models.train_classifier(net, optim.SGD(net.parameters(), lr=0.1, momentum=0.9),
                                    small, epochs=2, batch_size=64, seed=6)
    assert other["step_loss"][1:] != h1["step_loss"][1:]  # the seed sets the batch order


class _Recorder(torch.nn.Module):
    """Passes its input on and remembers which rows (by their label-free id column) it saw."""

    def __init__(self):
        super().__init__()
        self.batches = []

    def forward(self, x):
        if self.training:
            self.batches.append(x[:, 0].long().tolist())
        return x


def test_train_classifier_reshuffles_every_epoch():
    n = 50
    X = np.zeros((n, 3), dtype=np.float32)
    X[:, 0] = np.arange(n)  # column 0 identifies the row
    y = np.arange(n) % 2
    toy = Dataset(X, y, X[:4], y[:4])
    recorder = _Recorder()
    net = torch.nn.Sequential(recorder, torch.nn.Linear(3, 2))
    models.train_classifier(net, optim.SGD(net.parameters(), lr=0.01), toy, epochs=3,
                            batch_size=16, seed=0)
    assert [len(b) for b in recorder.batches] == [16, 16, 16, 2] * 3
    epochs = [sum(recorder.batches[4 * e:4 * e + 4], []) for e in range(3)]
    for order in epochs:
        assert sorted(order) == list(range(n))  # each row once per epoch
    assert epochs[0] != list(range(n))  # shuffled
    assert epochs[0] != epochs[1] != epochs[2] != epochs[0]  # and a new order every epoch


def test_train_classifier_trainart_adam_matches_torch_adam(small):
    hists = []
    for make in (optim.Adam, torch.optim.Adam):
        net = models.mlp([784, 32, 10], seed=2)
        hists.append(models.train_classifier(net, make(net.parameters(), lr=1e-3), small,
                                             epochs=2, eval_test=False))
    np.testing.assert_allclose(hists[0]["step_loss"], hists[1]["step_loss"], rtol=1e-5)
    assert hists[0]["test_acc"] == []


def test_train_classifier_scheduler_steps_per_epoch(small):
    net = models.mlp([784, 16, 10], seed=0)
    opt = optim.SGD(net.parameters(), lr=0.1)
    sched = optim.LRScheduler(opt, optim.step_decay(0.1, step_size=2, gamma=0.5))
    hist = models.train_classifier(net, opt, small, epochs=5, batch_size=250, scheduler=sched)
    np.testing.assert_allclose(hist["lr"], [0.1, 0.1, 0.05, 0.05, 0.025])
    # and with torch's own scheduler on torch's optimizer
    net = models.mlp([784, 16, 10], seed=0)
    topt = torch.optim.SGD(net.parameters(), lr=0.1)
    tsched = torch.optim.lr_scheduler.StepLR(topt, step_size=2, gamma=0.5)
    thist = models.train_classifier(net, topt, small, epochs=5, batch_size=250, scheduler=tsched)
    np.testing.assert_allclose(thist["lr"], hist["lr"], rtol=1e-12)
    np.testing.assert_allclose(thist["step_loss"], hist["step_loss"], rtol=1e-5)


def test_train_classifier_clip_norm(small):
    def moved(clip_norm):
        net = models.mlp([784, 16, 10], seed=0)
        start = _weights(net)
        hist = models.train_classifier(net, optim.SGD(net.parameters(), lr=1.0), small,
                                       epochs=1, batch_size=100, clip_norm=clip_norm)
        dist = torch.sqrt(sum(((a - b) ** 2).sum() for a, b in zip(_weights(net), start,
                                                                   strict=True)))
        return hist, float(dist)

    clipped, dist = moved(1e-2)
    assert len(clipped["grad_norm"]) == 10 and min(clipped["grad_norm"]) > 1e-2
    # each SGD step has length lr * min(|g|, clip_norm) <= 1 * 1e-2: 10 steps move <= 0.1
    assert 0.01 < dist <= 0.1 * (1 + 1e-5)
    free, free_dist = moved(None)
    assert "grad_norm" not in free
    assert free_dist > 0.5


def test_mlp_and_training_ignore_the_default_dtype(small):
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)  # as another test module may leave it
    try:
        net = models.mlp([784, 8, 10], seed=0)
        assert all(p.dtype == torch.float32 for p in net.parameters())
        hist = models.train_classifier(net, optim.SGD(net.parameters(), lr=0.1), small,
                                       epochs=1, batch_size=500)
        double = models.mlp([784, 8, 10], seed=0).double()  # a float64 model gets float64 data
        models.train_classifier(double, optim.SGD(double.parameters(), lr=0.1), small,
                                epochs=1, batch_size=500)
    finally:
        torch.set_default_dtype(old)
    net = models.mlp([784, 8, 10], seed=0)
    again = models.train_classifier(net, optim.SGD(net.parameters(), lr=0.1), small, epochs=1,
                                    batch_size=500)
    assert hist == again


def test_train_classifier_bad_args_raise(small):
    net = models.mlp([784, 4, 10], seed=0)
    opt = optim.SGD(net.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="train_classifier: epochs"):
        models.train_classifier(net, opt, small, epochs=-1)
    with pytest.raises(ValueError, match="train_classifier: batch_size"):
        models.train_classifier(net, opt, small, epochs=1, batch_size=0)
    with pytest.raises(ValueError, match="train_classifier: clip_norm"):
        models.train_classifier(net, opt, small, epochs=1, clip_norm=0.0)
    with pytest.raises(TypeError, match="train_classifier: data"):
        models.train_classifier(net, opt, tuple(small), epochs=1)


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


def test_train_classifier_hooks(small):
    net = models.mlp([784, 16, 10], seed=0)
    ref = models.mlp([784, 16, 10], seed=0)
    calls = {"loss": 0, "after": 0}

    def loss_fn(model, xb, yb):
        calls["loss"] += 1
        return F.cross_entropy(model(xb), yb)

    def after_step(model):
        calls["after"] += 1

    h1 = models.train_classifier(net, optim.SGD(net.parameters(), lr=0.1), small, epochs=2,
                                 loss_fn=loss_fn, after_step=after_step, eval_train=True)
    h2 = models.train_classifier(ref, optim.SGD(ref.parameters(), lr=0.1), small, epochs=2)
    assert calls == {"loss": 16, "after": 16}  # 1000 / 128 -> 8 steps per epoch
    assert h1["step_loss"] == h2["step_loss"]  # the default loss is this loss_fn
    X, y = torch.from_numpy(small.X_train), torch.from_numpy(small.y_train)
    assert h1["train_acc"][-1] == models.evaluate(net, X, y)[1]
    assert len(h1["train_eval_loss"]) == 2 and "train_acc" not in h2


def test_train_classifier_after_step_and_early_stopping(small):
    net = models.mlp([784, 16, 10], seed=0)

    def zero_first_row(model):
        with torch.no_grad():
            model[0].weight[0] = 0.0

    def stop_after_two(epoch, history):
        return epoch == 1

    hist = models.train_classifier(net, optim.Adam(net.parameters(), lr=1e-2), small,
                                   epochs=10, after_step=zero_first_row,
                                   callback=stop_after_two)
    assert len(hist["train_loss"]) == 2
    assert torch.count_nonzero(net[0].weight[0]) == 0
    with pytest.raises(TypeError, match="train_classifier: callback must be callable"):
        models.train_classifier(net, optim.SGD(net.parameters(), lr=0.1), small, epochs=1,
                                callback=3)
