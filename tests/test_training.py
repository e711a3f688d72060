"""Tests of trainart.training: the training loop (learning, determinism, reshuffling,
optimizer parity, schedules, clipping, hooks, early stopping), evaluate, fresh_copies, and
the old import paths through trainart.models."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from trainart import data, models, optim, training
from trainart.data import Dataset


def _weights(model) -> list[torch.Tensor]:
    return [p.detach().clone() for p in model.parameters()]


def test_the_old_import_paths_are_the_same_functions():
    for name in ("train_classifier", "evaluate", "fresh_copies", "_current_lr"):
        assert getattr(models, name) is getattr(training, name)
    for name in training.__all__:
        assert name in models.__all__


def test_fresh_copies_are_equal_and_independent():
    net = models.mlp([8, 6, 3], seed=0)
    a, b = training.fresh_copies(net, 2)
    for u, v in zip(_weights(a), _weights(net), strict=True):
        assert torch.equal(u, v)
    with torch.no_grad():
        a[0].weight += 1.0
    assert torch.equal(b[0].weight, net[0].weight)
    assert not torch.equal(a[0].weight, net[0].weight)
    with pytest.raises(ValueError, match="fresh_copies: n"):
        training.fresh_copies(net, 0)


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
    hist = training.train_classifier(net, optim.Adam(net.parameters(), lr=1e-3), mnist, epochs=2)
    assert hist["test_acc"][-1] > 0.8, hist["test_acc"]
    assert hist["train_loss"][1] < hist["train_loss"][0] < np.log(10) + 0.1
    assert len(hist["step_loss"]) == 2 * 32  # 4000 / 128 -> 32 steps per epoch
    assert hist["lr"] == [1e-3, 1e-3]
    np.testing.assert_allclose(hist["train_loss"][0], np.mean(hist["step_loss"][:32]))
    # the recorded test numbers are the model's
    X, y = torch.from_numpy(mnist.X_test), torch.from_numpy(mnist.y_test)
    loss, acc = training.evaluate(net, X, y)
    assert loss == pytest.approx(hist["test_loss"][-1], rel=1e-6)
    assert acc == hist["test_acc"][-1]


def test_train_classifier_is_deterministic(small):
    runs = []
    for _ in range(2):
        net = models.mlp([784, 32, 10], seed=1)
        opt = optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
        runs.append((training.train_classifier(net, opt, small, epochs=2, batch_size=64, seed=5),
                     _weights(net)))
    (h1, w1), (h2, w2) = runs
    assert h1 == h2
    for u, v in zip(w1, w2, strict=True):
        assert torch.equal(u, v)
    net = models.mlp([784, 32, 10], seed=1)
    other = training.train_classifier(net, optim.SGD(net.parameters(), lr=0.1, momentum=0.9),
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
    training.train_classifier(net, optim.SGD(net.parameters(), lr=0.01), toy, epochs=3,
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
        hists.append(training.train_classifier(net, make(net.parameters(), lr=1e-3), small,
                                             epochs=2, eval_test=False))
    np.testing.assert_allclose(hists[0]["step_loss"], hists[1]["step_loss"], rtol=1e-5)
    assert hists[0]["test_acc"] == []


def test_train_classifier_scheduler_steps_per_epoch(small):
    net = models.mlp([784, 16, 10], seed=0)
    opt = optim.SGD(net.parameters(), lr=0.1)
    sched = optim.LRScheduler(opt, optim.step_decay(0.1, step_size=2, gamma=0.5))
    hist = training.train_classifier(net, opt, small, epochs=5, batch_size=250, scheduler=sched)
    np.testing.assert_allclose(hist["lr"], [0.1, 0.1, 0.05, 0.05, 0.025])
    # and with torch's own scheduler on torch's optimizer
    net = models.mlp([784, 16, 10], seed=0)
    topt = torch.optim.SGD(net.parameters(), lr=0.1)
    tsched = torch.optim.lr_scheduler.StepLR(topt, step_size=2, gamma=0.5)
    thist = training.train_classifier(net, topt, small, epochs=5, batch_size=250, scheduler=tsched)
    np.testing.assert_allclose(thist["lr"], hist["lr"], rtol=1e-12)
    np.testing.assert_allclose(thist["step_loss"], hist["step_loss"], rtol=1e-5)


def test_train_classifier_clip_norm(small):
    def moved(clip_norm):
        net = models.mlp([784, 16, 10], seed=0)
        start = _weights(net)
        hist = training.train_classifier(net, optim.SGD(net.parameters(), lr=1.0), small,
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
        hist = training.train_classifier(net, optim.SGD(net.parameters(), lr=0.1), small,
                                       epochs=1, batch_size=500)
        double = models.mlp([784, 8, 10], seed=0).double()  # a float64 model gets float64 data
        training.train_classifier(double, optim.SGD(double.parameters(), lr=0.1), small,
                                epochs=1, batch_size=500)
    finally:
        torch.set_default_dtype(old)
    net = models.mlp([784, 8, 10], seed=0)
    again = training.train_classifier(net, optim.SGD(net.parameters(), lr=0.1), small, epochs=1,
                                    batch_size=500)
    assert hist == again


def test_train_classifier_bad_args_raise(small):
    net = models.mlp([784, 4, 10], seed=0)
    opt = optim.SGD(net.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="train_classifier: epochs"):
        training.train_classifier(net, opt, small, epochs=-1)
    with pytest.raises(ValueError, match="train_classifier: batch_size"):
        training.train_classifier(net, opt, small, epochs=1, batch_size=0)
    with pytest.raises(ValueError, match="train_classifier: clip_norm"):
        training.train_classifier(net, opt, small, epochs=1, clip_norm=0.0)
    with pytest.raises(TypeError, match="train_classifier: data"):
        training.train_classifier(net, opt, tuple(small), epochs=1)


def test_train_classifier_hooks(small):
    net = models.mlp([784, 16, 10], seed=0)
    ref = models.mlp([784, 16, 10], seed=0)
    calls = {"loss": 0, "after": 0}

    def loss_fn(model, xb, yb):
        calls["loss"] += 1
        return F.cross_entropy(model(xb), yb)

    def after_step(model):
        calls["after"] += 1

    h1 = training.train_classifier(net, optim.SGD(net.parameters(), lr=0.1), small, epochs=2,
                                 loss_fn=loss_fn, after_step=after_step, eval_train=True)
    h2 = training.train_classifier(ref, optim.SGD(ref.parameters(), lr=0.1), small, epochs=2)
    assert calls == {"loss": 16, "after": 16}  # 1000 / 128 -> 8 steps per epoch
    assert h1["step_loss"] == h2["step_loss"]  # the default loss is this loss_fn
    X, y = torch.from_numpy(small.X_train), torch.from_numpy(small.y_train)
    assert h1["train_acc"][-1] == training.evaluate(net, X, y)[1]
    assert len(h1["train_eval_loss"]) == 2 and "train_acc" not in h2


def test_train_classifier_after_step_and_early_stopping(small):
    net = models.mlp([784, 16, 10], seed=0)

    def zero_first_row(model):
        with torch.no_grad():
            model[0].weight[0] = 0.0

    def stop_after_two(epoch, history):
        return epoch == 1

    hist = training.train_classifier(net, optim.Adam(net.parameters(), lr=1e-2), small,
                                   epochs=10, after_step=zero_first_row,
                                   callback=stop_after_two)
    assert len(hist["train_loss"]) == 2
    assert torch.count_nonzero(net[0].weight[0]) == 0
    with pytest.raises(TypeError, match="train_classifier: callback must be callable"):
        training.train_classifier(net, optim.SGD(net.parameters(), lr=0.1), small, epochs=1,
                                callback=3)
