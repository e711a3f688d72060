"""Tests of trainart.book.regularization: the Regularization chapter's shared helpers."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from trainart.book.regularization import (
    add_noise,
    digit_task,
    member_stats,
    transfer_run,
)
from trainart.data import Dataset
from trainart.models import mlp


def _digits(seed=0, n=120):
    rng = np.random.default_rng(seed)
    X = rng.random((n, 6)).astype(np.float32)
    y = np.arange(n) % 10
    return Dataset(X, y.astype(np.int64), X[:40], y[:40].astype(np.int64))


def test_digit_task_keeps_the_classes_relabelled_from_zero_and_n_per_class():
    d = digit_task(_digits(), range(5, 10), n_per_class=3, seed=1)
    assert sorted(np.bincount(d.y_train).tolist()) == [3] * 5
    assert set(d.y_test.tolist()) == set(range(5)) and len(d.y_test) == 20
    again = digit_task(_digits(), range(5, 10), n_per_class=3, seed=1)
    np.testing.assert_array_equal(d.X_train, again.X_train)


def test_add_noise_is_clipped_float32_and_reproducible():
    X = np.full((50, 4), 0.5)
    a = add_noise(X, np.random.default_rng(0), std=0.3)
    b = add_noise(X, np.random.default_rng(0), std=0.3)
    assert a.dtype == np.float32 and a.min() >= 0 and a.max() <= 1
    np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(a.std(), 0.3, rtol=0.15)


def test_member_stats_match_a_direct_computation():
    d = _digits()
    members = [mlp([6, 8, 10], seed=s).double() for s in range(3)]
    st = member_stats(members, d.X_test.astype(np.float64), d.y_test)
    X = torch.from_numpy(d.X_test.astype(np.float64))
    probs = np.stack([torch.softmax(m(X), 1).detach().numpy() for m in members])
    mean_p = probs.mean(0)
    assert st["ensemble"] == np.mean(mean_p.argmax(1) == d.y_test)
    np.testing.assert_allclose(st["nll_ens"],
                               -np.log(mean_p[np.arange(40), d.y_test]).mean(), rtol=1e-12)


@pytest.mark.parametrize("how, trainable", [("from scratch", 6 * 8 + 8 + 8 * 5 + 5),
                                            ("new head only", 8 * 5 + 5),
                                            ("fine-tune all", 6 * 8 + 8 + 8 * 5 + 5)])
def test_transfer_run_trains_what_it_says(how, trainable):
    source = mlp([6, 8, 10], seed=0)
    before = [p.detach().clone() for p in source.parameters()]
    task = digit_task(_digits(), range(0, 5), n_per_class=4)
    n, acc, net = transfer_run(source, task, how, steps=5)
    assert n == trainable and 0.0 <= acc <= 1.0
    assert all(torch.equal(a, b) for a, b in zip(before, source.parameters()))   # untouched
    if how == "new head only":
        assert torch.equal(net[0].weight, source[0].weight)
    with pytest.raises(ValueError, match="transfer_run: how"):
        transfer_run(source, task, "half")
