"""Tests of trainart.regularize.ensembles' checkpoint ensembles (CheckpointEnsemble)."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from torch.optim.swa_utils import AveragedModel

from trainart.data import Dataset
from trainart.models import mlp, train_classifier
from trainart.regularize import ensemble_predict_proba
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
