"""trainart.regularize.early_stopping: EarlyStopping's patience, best epoch and restored
weights (hypothesis over loss sequences), alone and inside train_classifier.
"""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from trainart.data import Dataset, train_val_split
from trainart.models import evaluate, mlp, train_classifier
from trainart.regularize import (
    EarlyStopping,
)

# ------------------------------------------------------------------ early stopping

def test_early_stopping_stops_after_patience_and_restores_the_best_weights():
    model = nn.Linear(1, 1, bias=False)
    stopper = EarlyStopping(model, patience=2, min_delta=0.01)
    values = [1.0, 0.8, 0.795, 0.9, 0.5]  # 0.795 is not better by min_delta
    history = {"test_loss": []}
    stopped = None
    for epoch, v in enumerate(values):
        with torch.no_grad():
            model.weight.fill_(epoch)  # the weights remember the epoch
        history["test_loss"].append(v)
        if stopper(epoch, history):
            stopped = epoch
            break
    assert stopped == stopper.stopped_epoch == 3
    assert stopper.best_epoch == 1 and stopper.best_value == 0.8
    assert model.weight.item() == 1.0  # restored


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(0, 10), min_size=1, max_size=25), st.integers(1, 5),
       st.sampled_from([0.0, 0.5]))
def test_early_stopping_stops_exactly_patience_epochs_after_the_best_and_restores_it(
        values, patience, min_delta):
    model = nn.Linear(1, 1, bias=False)
    stopper = EarlyStopping(model, patience=patience, min_delta=min_delta)
    history = {"test_loss": []}
    for epoch, v in enumerate(values):
        with torch.no_grad():
            model.weight.fill_(epoch)
        history["test_loss"].append(v)
        if stopper(epoch, history):
            break
    seen = history["test_loss"]
    best = stopper.best_epoch
    if min_delta == 0:
        assert best == seen.index(min(seen))  # the first epoch with the lowest loss
    # nothing after the best epoch improved on it by more than min_delta
    assert all(v >= seen[best] - min_delta for v in seen[best + 1:])
    if stopper.stopped_epoch is not None:
        assert stopper.stopped_epoch == best + patience == len(seen) - 1
        assert model.weight.item() == best  # the best epoch's weights are back
    else:
        assert len(seen) == len(values) and len(seen) - 1 - best < patience


def test_early_stopping_in_train_classifier_on_digits(digits):
    data = train_val_split(Dataset(digits.X_train[:300], digits.y_train[:300],
                                   digits.X_test, digits.y_test), 0.3, seed=0)
    model = mlp([64, 128, 10], seed=0)
    param_ids = [id(p) for p in model.parameters()]
    stopper = EarlyStopping(model, patience=3)
    history = train_classifier(model, torch.optim.Adam(model.parameters(), lr=3e-2), data,
                               epochs=60, batch_size=32, callback=stopper)
    assert stopper.stopped_epoch is not None and len(history["test_loss"]) < 60
    assert stopper.stopped_epoch == len(history["test_loss"]) - 1 == stopper.best_epoch + 3
    assert stopper.best_value == min(history["test_loss"])
    X, y = torch.from_numpy(data.X_test), torch.from_numpy(data.y_test)
    assert evaluate(model, X, y)[0] == pytest.approx(stopper.best_value, rel=1e-6)
    assert [id(p) for p in model.parameters()] == param_ids


def test_early_stopping_mode_max_and_nan():
    model = nn.Linear(1, 1)
    stopper = EarlyStopping(model, patience=1, monitor="test_acc", mode="max")
    assert not stopper(0, {"test_acc": [0.5]})
    assert not stopper(1, {"test_acc": [0.5, 0.7]})
    assert stopper(2, {"test_acc": [0.5, 0.7, float("nan")]})
    assert stopper.best_epoch == 1
    with pytest.raises(ValueError, match="EarlyStopping: monitor 'val' is not in the history"):
        EarlyStopping(model, monitor="val")(0, {"test_loss": [1.0]})
