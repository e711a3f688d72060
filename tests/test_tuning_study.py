"""The study harness (trainart.tuning.study): the grid matches initialization to activation,
one training equals the torch loop it describes and repeats exactly, the learning rate is
chosen on validation with one seed and the test accuracy reported with the others, and
parallel runs give the serial numbers."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from trainart.models import mlp
from trainart.tuning import MATCHED_INIT, StudyResult, run_study, study_grid, train_config


def tiny_data(seed=0):
    """Three separable blobs in 6 dimensions: train 60, validation 30, test 30."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 2, (3, 6))
    parts = []
    for n in (60, 30, 30):
        y = rng.integers(0, 3, n)
        parts += [(centres[y] + rng.normal(0, 1, (n, 6))).astype(np.float32), y.astype(np.int64)]
    return tuple(parts)


DATA = tiny_data()
RELU = {"activation": "relu", "init": "kaiming", "dropout": 0.2, "batch_norm": True}
SMALL = {"hidden": (8,), "epochs": 3, "batch_size": 16}


def test_study_grid_matches_the_initialization_to_the_activation():
    control = {"activation": "tanh", "init": "kaiming", "dropout": 0.0, "batch_norm": False}
    grid = study_grid([0.0, 0.5], ["relu", "tanh", "sigmoid"], controls=[control])
    assert len(grid) == 2 * 3 * 2 + 1 and grid[-1] == control
    assert all(c["init"] == MATCHED_INIT[c["activation"]] for c in grid[:-1])
    assert MATCHED_INIT == {"relu": "kaiming", "tanh": "xavier", "sigmoid": "xavier"}
    assert [(c["activation"], c["batch_norm"], c["dropout"]) for c in grid[:4]] == [
        ("relu", False, 0.0), ("relu", False, 0.5), ("relu", True, 0.0), ("relu", True, 0.5)]
    with pytest.raises(ValueError, match="^study_grid: activations must be one of"):
        study_grid([0.0], ["gelu"])
    with pytest.raises(ValueError, match=r"^study_grid: dropouts must be in \[0, 1\)"):
        study_grid([1.0], ["relu"])
    with pytest.raises(ValueError, match="^study_grid: each control must be a dict"):
        study_grid([0.0], ["relu"], controls=[{"activation": "relu"}])


def test_train_config_is_the_torch_loop_it_describes():
    """Same network, same minibatches, same dropout masks: the same accuracies."""
    lr, seed = 0.05, 3
    out = train_config(RELU, DATA, lr, seed, **SMALL)
    Xtr, ytr, Xva, yva, Xte, yte = (torch.as_tensor(a) for a in DATA)
    net = mlp([6, 8, 3], seed=seed, **RELU)
    opt = torch.optim.SGD(net.parameters(), lr=lr, momentum=0.9)
    order = np.random.default_rng(seed)
    torch.manual_seed(seed)
    for _ in range(3):
        perm = torch.from_numpy(order.permutation(60))
        for start in range(0, 60, 16):
            idx = perm[start:start + 16]
            loss = F.cross_entropy(net(Xtr[idx]), ytr[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    net.eval()
    with torch.no_grad():
        acc = [float((net(X).argmax(1) == y).double().mean())
               for X, y in ((Xva, yva), (Xte, yte), (Xtr, ytr))]
    assert [out["val_acc"], out["test_acc"], out["train_acc"]] == acc
    assert out["value"] == out["val_acc"]


def test_train_config_repeats_and_leaves_the_global_generator_alone():
    torch.manual_seed(123)
    state = torch.get_rng_state()
    a = train_config(RELU, DATA, 0.05, 0, **SMALL)
    assert torch.equal(torch.get_rng_state(), state)
    assert train_config(RELU, DATA, 0.05, 0, **SMALL) == a
    many = {train_config(RELU, DATA, 0.05, s, epochs=1, hidden=(4,))["val_acc"]
            for s in range(6)}
    assert len(many) > 1                           # the seed matters
    with pytest.raises(ValueError, match="^train_config: lr must be a finite number > 0"):
        train_config(RELU, DATA, 0.0, 0)
    with pytest.raises(ValueError, match="^train_config: epochs must be an integer >= 1"):
        train_config(RELU, DATA, 0.1, 0, epochs=0)
    with pytest.raises(TypeError, match=r"^train_config: data must be \(X_train"):
        train_config(RELU, DATA[:4], 0.1, 0)


def test_run_study_chooses_the_rate_on_validation_and_reports_fresh_seeds():
    configs = study_grid([0.0], ["relu", "sigmoid"])
    lrs, seeds = [0.01, 0.3], [1, 2]
    res = run_study(configs, DATA, lrs, seeds, select_seed=0, **SMALL)
    sweep = np.array([[train_config(c, DATA, lr, 0, **SMALL)["val_acc"] for lr in lrs]
                      for c in configs])
    assert np.array_equal(res.sweep, sweep)
    chosen = [lrs[int(np.argmax(row))] for row in sweep]
    assert res.best_lr() == chosen
    for k, (c, lr) in enumerate(zip(configs, chosen)):
        for j, s in enumerate(seeds):
            out = train_config(c, DATA, lr, s, **SMALL)
            assert (res.val[k, j], res.test[k, j], res.train[k, j]) == (
                out["val_acc"], out["test_acc"], out["train_acc"])
    rows = res.rows()
    assert rows[0]["test_sd"] == pytest.approx(np.std(res.test[0], ddof=1), abs=1e-15)
    assert rows[1]["test_min"] == res.test[1].min() and rows[1]["lr"] == chosen[1]
    lines = res.table().splitlines()
    means = [float(line.split("|")[6]) for line in lines[2:]]
    assert len(lines) == 2 + len(configs) and means == sorted(means, reverse=True)


def test_run_study_checks_its_arguments():
    configs = study_grid([0.0], ["relu"])
    with pytest.raises(ValueError, match="^run_study: seeds must be distinct and exclude"):
        run_study(configs, DATA, [0.1], [0, 1], select_seed=0)
    with pytest.raises(ValueError, match="^run_study: lrs must not be empty"):
        run_study(configs, DATA, [], [1])
    with pytest.raises(ValueError, match="^run_study: n_jobs must be an integer >= 1"):
        run_study(configs, DATA, [0.1], [1], n_jobs=0)
    with pytest.raises(ValueError, match="^StudyResult.table: digits"):
        StudyResult(configs, [0.1], 0, np.zeros((1, 1)), [1], np.zeros((1, 1)),
                    np.zeros((1, 1)), np.zeros((1, 1))).table(digits=0)


def test_parallel_study_equals_the_serial_one():
    configs = study_grid([0.0, 0.5], ["tanh"], batch_norms=[False])
    serial = run_study(configs, DATA, [0.05, 0.2], [1, 2], **SMALL)
    parallel = run_study(configs, DATA, [0.05, 0.2], [1, 2], n_jobs=2, **SMALL)
    for name in ("sweep", "val", "test", "train"):
        assert np.array_equal(getattr(serial, name), getattr(parallel, name))
