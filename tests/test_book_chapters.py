"""The Dropout and Normalization chapters' helpers (trainart.book.chapters): the NumPy twin of
the dropout MLP against torch in float64, the training loop's continuation, the probes and
their argument checks."""

import numpy as np
import pytest
import torch
from torch import nn

from trainart import data, models
from trainart.book import chapters as ch
from trainart.dropout import dropout_forward


def tiny_data(n=64, d=40, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)).astype(np.float32)
    y = rng.integers(0, 10, n).astype(np.int64)
    return data.Dataset(X, y, X[:32], y[:32])


def test_dropout_mlp_layers_and_weights():
    net = ch.dropout_mlp(16, 0.5, 0.2, seed=3)
    kinds = [type(m).__name__ for m in net]
    assert kinds == ["Dropout", "Linear", "ReLU", "Dropout", "Linear", "ReLU", "Dropout", "Linear"]
    assert [m.p for m in net if isinstance(m, nn.Dropout)] == [0.2, 0.5, 0.5]
    plain = models.mlp([40, 16, 16, 10], seed=3)      # same weights whatever the rates
    for a, b in zip(ch.weights_of(net), ch.weights_of(plain), strict=True):
        assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    assert [type(m).__name__ for m in ch.dropout_mlp(8, 0.0)] == [
        "Linear", "ReLU", "Linear", "ReLU", "Linear"]
    assert sum(isinstance(m, nn.BatchNorm1d) for m in ch.dropout_mlp(8, 0.2, batch_norm=True)) == 2


@pytest.mark.parametrize("bad", [1.0, -0.1, "0.5"])
def test_dropout_mlp_rejects_bad_rates(bad):
    with pytest.raises((ValueError, TypeError), match="dropout_mlp: p_hidden"):
        ch.dropout_mlp(8, bad)
    with pytest.raises(ValueError, match="dropout_mlp: width"):
        ch.dropout_mlp(0, 0.1)


def test_np_forward_equals_torch_in_float64():
    net = ch.dropout_mlp(32, 0.5, seed=1).double()
    X = np.random.default_rng(2).standard_normal((50, 40))
    net.eval()
    with torch.no_grad():
        expected = net(torch.from_numpy(X)).numpy()
    params = ch.weights_of(net)
    assert np.abs(ch.np_forward(params, X) - expected).max() < 1e-12
    # with dropout on: the same masks, drawn from the same generator, by hand
    got = ch.np_forward(params, X, p=0.5, training=True, rng=np.random.default_rng(7))
    rng, h = np.random.default_rng(7), X
    for W, b in params[:-1]:
        h = dropout_forward(np.maximum(h @ W.T + b, 0), 0.5, True, rng)[0]
    assert np.abs(got - (h @ params[-1][0].T + params[-1][1])).max() < 1e-12
    acts = ch.np_forward(params, X, hidden=True)
    assert len(acts) == 2 and acts[0].shape == (50, 32) and acts[0].min() == 0


def test_softmax_and_auroc():
    z = np.array([[1000.0, 1000.0, 0.0], [0.0, np.log(3.0), -np.inf]])
    p = ch.softmax(z)
    assert np.allclose(p.sum(axis=1), 1) and np.allclose(p[0, :2], 0.5)
    assert np.allclose(p[1], [0.25, 0.75, 0.0])
    wrong = np.array([True, True, False, False])
    assert ch.auroc([3, 4, 1, 2], wrong) == 1.0
    assert ch.auroc([1, 2, 3, 4], wrong) == 0.0
    assert ch.auroc([1, 3, 2, 4], wrong) == 0.25


def test_train_with_curves_continues_a_run():
    d = tiny_data()
    a = ch.dropout_mlp(8, 0.2, seed=0)
    opt_a = torch.optim.SGD(a.parameters(), lr=0.1)
    long = ch.train_with_curves(a, opt_a, d, 4, seed=5)
    b = ch.dropout_mlp(8, 0.2, seed=0)
    opt_b = torch.optim.SGD(b.parameters(), lr=0.1)
    half = ch.train_with_curves(b, opt_b, d, 2, seed=5)
    rest = ch.train_with_curves(b, opt_b, d, 2, seed=5, start=2, curves=half)
    assert set(long) == {"train_acc", "test_acc", "train_loss", "test_loss"}
    for k in long:
        assert len(long[k]) == 4 and np.array_equal(long[k], rest[k]), k
    assert np.array_equal(half["train_loss"], rest["train_loss"][:2])
    for x, y in zip(a.parameters(), b.parameters(), strict=True):
        assert torch.equal(x, y)


def test_deep_mlp_variants():
    plain, before, after = (ch.deep_mlp(bn, width=8, depth=2, n_in=12) for bn in
                            (None, "before", "after"))
    assert [type(m).__name__ for m in before] == [
        "Linear", "BatchNorm1d", "ReLU", "Linear", "BatchNorm1d", "ReLU", "Linear"]
    assert before[0].bias is None and plain[0].bias is not None
    assert [type(m).__name__ for m in after][:3] == ["Linear", "ReLU", "BatchNorm1d"]
    he = ch.deep_mlp(None, "He", width=64, depth=1, n_in=400)
    assert abs(he[0].weight.std().item() - np.sqrt(2 / 400)) < 0.01
    noisy = ch.deep_mlp("before", noise=True, width=8, depth=1, n_in=12)
    x = torch.randn(5, 12)
    noisy.eval()
    quiet = ch.deep_mlp("before", width=8, depth=1, n_in=12).eval()
    assert torch.equal(noisy(x), quiet(x))             # the jitter is the identity in eval
    with pytest.raises(ValueError, match="deep_mlp: bn"):
        ch.deep_mlp("middle")
    with pytest.raises(ValueError, match="deep_mlp: init_name"):
        ch.deep_mlp(None, "Xavier")


def test_jitter_scales_and_shifts_in_range():
    j = ch.jitter().train()
    torch.manual_seed(0)
    x = torch.ones(1000, 6)
    y = j(x)
    col = y[0]
    assert torch.all(y == col)                          # one scale and shift per unit
    assert torch.all((col >= -0.5) & (col <= 2.5))      # a in [0.5, 1.5], b in [-1, 1]
    assert not torch.equal(j(x)[0], col)                 # a fresh draw at every step


def test_step_probe_restores_and_measures():
    torch.manual_seed(0)
    net = ch.deep_mlp(None, width=8, depth=2, n_in=12).double()
    xb, yb = torch.randn(20, 12, dtype=torch.float64), torch.randint(0, 10, (20,))
    before = [p.detach().clone() for p in net.parameters()]
    losses, change, g_norm = ch.step_probe(net, xb, yb, [0.0, 0.1])
    for p, q in zip(net.parameters(), before, strict=True):
        assert torch.equal(p, q)
    loss0 = nn.functional.cross_entropy(net(xb), yb)
    grads = torch.autograd.grad(loss0, list(net.parameters()))
    assert abs(losses[0] - loss0.item()) < 1e-12
    assert abs(g_norm - torch.sqrt(sum((g**2).sum() for g in grads)).item()) < 1e-10
    with torch.no_grad():                               # the step by hand
        for p, g in zip(net.parameters(), grads, strict=True):
            p -= 0.1 * g / g_norm
        moved = nn.functional.cross_entropy(net(xb), yb).item()
        for p, q in zip(net.parameters(), before, strict=True):
            p.copy_(q)
    unit_losses, _, _ = ch.step_probe(net, xb, yb, [0.1], unit=True)
    assert abs(unit_losses[0] - moved) < 1e-12 and change > 0


def test_input_drift_full_batch_moves_frozen_weights_do_not():
    rng = np.random.default_rng(0)
    X = torch.from_numpy(rng.random((60, 20)).astype(np.float32))
    y = torch.from_numpy(rng.integers(0, 10, 60))
    moved, spread0 = ch.input_drift(ch.deep_mlp(None, width=16, depth=2, n_in=20), X, y,
                                    lr=0.5, steps=3)
    assert moved.shape == (3,) and moved[-1] > 0 and spread0 == 0.0
    still, spread = ch.input_drift(ch.deep_mlp(None, width=16, depth=2, n_in=20), X, y,
                                   lr=0.0, steps=4, batch_size=10)
    assert np.all(still == 0) and spread > 0


def test_sweep_run_returns_none_on_divergence_and_numbers_otherwise():
    rng = np.random.default_rng(0)
    X = torch.from_numpy(rng.random((256, 784)).astype(np.float32))
    y = torch.from_numpy(rng.integers(0, 10, 256))
    loss, acc, shift = ch.sweep_run("batch norm", 0.1, X, y, X[:64], y[:64], epochs=1)
    assert np.isfinite(loss) and 0 <= acc <= 1 and shift > 0
    assert ch.sweep_run("plain", 1e6, X, y, X[:64], y[:64], epochs=1) is None
