"""Tests of trainart.regularize.ensembles' checkpoint ensembles (CheckpointEnsemble)."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.optim.swa_utils import AveragedModel

from trainart.data import Dataset
from trainart.models import mlp, train_classifier
from trainart.regularize import (
    accuracy,
    bagging,
    bootstrap_indices,
    ensemble_predict_proba,
    ensemble_vote,
)
from trainart.regularize.ensembles import CheckpointEnsemble


def _data(seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(96, 5))
    y = (X[:, 0] + X[:, 1] > 0).astype(np.int64) + (X[:, 2] > 1)
    return Dataset(X[:64], y[:64], X[64:], y[64:])


def test_checkpoints_and_their_average_equal_snapshots_and_torch_averaged_model():
    data = _data()
    net = mlp([5, 8, 3], seed=0).double()
    ckpt = CheckpointEnsemble(net, start_epoch=2, every=2)
    swa = AveragedModel(net)
    snaps = []

    def callback(epoch, history):
        ckpt(epoch, history)
        snaps.append(copy.deepcopy(net.state_dict()))
        if epoch >= 2 and epoch % 2 == 0:
            swa.update_parameters(net)

    train_classifier(net, torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9), data,
                     epochs=9, batch_size=16, seed=0, callback=callback)
    assert ckpt.epochs == [2, 4, 6, 8]
    members = ckpt.members()
    for e, m in zip(ckpt.epochs, members):
        for k, v in m.state_dict().items():
            assert torch.equal(v, snaps[e][k])
    avg = ckpt.average_model()
    for p, q in zip(avg.parameters(), swa.module.parameters()):
        torch.testing.assert_close(p, q, rtol=0, atol=1e-14)
    # the ensemble of checkpoints: the mean of their softmax outputs
    X = torch.from_numpy(data.X_test)
    mean = torch.stack([torch.softmax(m(X), 1) for m in members]).mean(0).detach().numpy()
    np.testing.assert_allclose(ensemble_predict_proba(members, data.X_test), mean,
                               rtol=0, atol=1e-15)


def test_checkpoint_ensemble_never_stops_training_and_copies_the_weights():
    net = mlp([5, 8, 3], seed=0)
    ckpt = CheckpointEnsemble(net)
    assert ckpt(0, {}) is None
    with torch.no_grad():
        net[0].weight.add_(1.0)
    assert not torch.equal(ckpt.states[0]["0.weight"], net[0].weight)


@pytest.mark.parametrize("call, exc, match", [
    (lambda: CheckpointEnsemble("net"), TypeError, "CheckpointEnsemble: model"),
    (lambda: CheckpointEnsemble(mlp([2, 2]), start_epoch=-1), ValueError,
     "CheckpointEnsemble: start_epoch must be an integer >= 0"),
    (lambda: CheckpointEnsemble(mlp([2, 2]), every=0), ValueError, "CheckpointEnsemble: every"),
    (lambda: CheckpointEnsemble(mlp([2, 2])).members(), RuntimeError,
     "CheckpointEnsemble.members: no checkpoint"),
])
def test_bad_arguments_name_the_function_and_argument(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


# ------------------------------------------------------------------ ensembles

def test_bootstrap_samples_hold_about_63_percent_unique_indices():
    idx = bootstrap_indices(5000, 20, seed=0)
    assert idx.shape == (20, 5000) and idx.min() >= 0 and idx.max() < 5000
    unique = np.array([len(np.unique(row)) for row in idx]) / 5000
    expected = 1 - (1 - 1 / 5000) ** 5000  # ~ 1 - 1/e
    assert abs(unique.mean() - expected) < 0.005
    np.testing.assert_array_equal(idx, bootstrap_indices(5000, 20, seed=0))


def test_bagging_trains_each_model_on_its_bootstrap_sample():
    X = np.arange(10, dtype=np.float32)[:, None]
    data = Dataset(X, np.arange(10) % 2, X[:2], np.array([0, 1]))
    seen = []

    def fit(sample, seed):
        seen.append((sample.X_train[:, 0].astype(int), seed))
        np.testing.assert_array_equal(sample.y_train, sample.X_train[:, 0].astype(int) % 2)
        return mlp([1, 2], seed=seed)

    models = bagging(fit, data, 3, seed=5)
    assert len(models) == 3 and [s for _, s in seen] == [5, 6, 7]
    for (rows, _), idx in zip(seen, bootstrap_indices(10, 3, seed=5)):
        np.testing.assert_array_equal(rows, idx)


def test_an_ensemble_of_identical_models_is_the_model(digits):
    model = mlp([64, 16, 10], seed=0)
    X = digits.X_test
    with torch.no_grad():
        proba = F.softmax(model(torch.from_numpy(X)), dim=1).double().numpy()
    ens = [copy.deepcopy(model) for _ in range(3)]
    np.testing.assert_allclose(ensemble_predict_proba(ens, X), proba, rtol=1e-12, atol=1e-15)
    np.testing.assert_array_equal(ensemble_vote(ens, X), proba.argmax(axis=1))
    assert accuracy(ensemble_predict_proba(ens, X), digits.y_test) == \
        accuracy(proba.argmax(axis=1), digits.y_test)


def test_an_ensemble_beats_its_average_member(digits):
    data = Dataset(digits.X_train[:400], digits.y_train[:400], digits.X_test, digits.y_test)
    models = []
    for seed in range(5):
        m = mlp([64, 32, 10], seed=seed)
        train_classifier(m, torch.optim.SGD(m.parameters(), lr=0.1), data, epochs=6,
                         batch_size=32, seed=seed, eval_test=False)
        models.append(m)
    member_acc = [accuracy(ensemble_predict_proba([m], data.X_test), data.y_test)
                  for m in models]
    ens_acc = accuracy(ensemble_predict_proba(models, data.X_test), data.y_test)
    vote_acc = accuracy(ensemble_vote(models, data.X_test), data.y_test)
    assert ens_acc > np.mean(member_acc) and vote_acc > np.mean(member_acc) - 0.01


def test_ensemble_vote_breaks_ties_towards_the_smaller_class():
    a, b = nn.Linear(1, 2, bias=True), nn.Linear(1, 2, bias=True)
    with torch.no_grad():
        for m, favour in ((a, 1), (b, 0)):
            m.weight.zero_()
            m.bias.copy_(torch.tensor([0.0, 0.0]))
            m.bias[favour] = 1.0
    np.testing.assert_array_equal(ensemble_vote([a, b], np.zeros((3, 1), np.float32)), 0)
