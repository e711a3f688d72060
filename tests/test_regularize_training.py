"""Regularization while training (trainart.regularize): the label-smoothing loss_fn, mixup,
augmentation, FGSM and adversarial training, transfer learning, early stopping, ensembles.
(The NumPy losses are tested in test_losses.py, calibration in test_calibration.py.)

Parity where torch/scipy have a counterpart (``F.cross_entropy(label_smoothing=...)``,
``scipy.ndimage`` rotations and shifts, a hand-written autograd FGSM) and hypothesis
property tests for the invariants (mixup is a convex combination, ...).
"""

from __future__ import annotations

import copy

import numpy as np
import pytest
import scipy.ndimage as ndi
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from torch import nn

from trainart import optim
from trainart.data import Dataset, load_digits, train_val_split
from trainart.models import evaluate, mlp, train_classifier
from trainart.regularize import (
    EarlyStopping,
    accuracy,
    accuracy_under_fgsm,
    add_noise,
    adversarial_loss,
    augmented_loss,
    bagging,
    bootstrap_indices,
    count_trainable,
    ensemble_predict_proba,
    ensemble_vote,
    fgsm,
    freeze_,
    label_smoothing_cross_entropy,
    label_smoothing_loss,
    mixup,
    mixup_loss,
    random_rotate,
    random_shift,
    replace_head,
    smoothed_targets,
    trainable_parameters,
    unfreeze_,
)

F64 = torch.float64


def _logits(n=6, C=4, seed=0, scale=2.0):
    rng = np.random.default_rng(seed)
    return scale * rng.normal(size=(n, C)), rng.integers(0, C, size=n)


@pytest.fixture(scope="module")
def digits():
    return load_digits()


# ------------------------------------------------------------------ label smoothing

def test_label_smoothing_loss_is_torchs():
    model = mlp([4, 3], seed=0).double()
    x = torch.randn(6, 4, dtype=F64, generator=torch.Generator().manual_seed(0))
    y = torch.tensor([0, 1, 2, 0, 1, 2])
    torch.testing.assert_close(label_smoothing_loss(0.1)(model, x, y),
                               F.cross_entropy(model(x), y, label_smoothing=0.1))


# ------------------------------------------------------------------ mixup

@settings(max_examples=60, deadline=None)
@given(arrays(np.float64, st.tuples(st.integers(1, 12), st.integers(1, 5)),
              elements=st.floats(-10, 10)),
       st.floats(0.05, 5.0), st.integers(0, 2**16), st.integers(2, 6))
def test_mixup_is_a_convex_combination(x, alpha, seed, C):
    y = np.random.default_rng(seed).integers(0, C, size=len(x))
    x_mix, y_soft, lam = mixup(x, y, alpha, rng=seed, num_classes=C)
    assert 0.0 <= lam <= 1.0
    assert x_mix.shape == x.shape and y_soft.shape == (len(x), C)
    np.testing.assert_allclose(y_soft.sum(axis=1), 1.0, rtol=0, atol=1e-12)
    assert np.all(y_soft >= 0)
    # replay the draws: x_mix lies between x and its shuffled partner, entry by entry
    rng = np.random.default_rng(seed)
    assert rng.beta(alpha, alpha) == lam
    partner = x[rng.permutation(len(x))]
    lo, hi = np.minimum(x, partner), np.maximum(x, partner)
    assert np.all(x_mix >= lo - 1e-12) and np.all(x_mix <= hi + 1e-12)
    np.testing.assert_allclose(x_mix, lam * x + (1 - lam) * partner, rtol=1e-14, atol=1e-14)


def test_mixup_lambda_follows_beta_alpha_alpha():
    rng = np.random.default_rng(0)
    x, y = np.zeros((2, 1)), np.array([0, 1])
    for alpha in (0.2, 1.0, 4.0):
        lams = np.array([mixup(x, y, alpha, rng)[2] for _ in range(4000)])
        var = 1 / (4 * (2 * alpha + 1))  # Var Beta(a, a)
        assert abs(lams.mean() - 0.5) < 6 * np.sqrt(var / 4000)
        assert abs(lams.var() - var) < 0.15 * var


def test_mixup_loss_equals_the_mixed_cross_entropies():
    model = mlp([4, 5, 3], seed=0).double()
    x = torch.randn(8, 4, dtype=F64, generator=torch.Generator().manual_seed(1))
    y = torch.tensor([0, 1, 2, 0, 1, 2, 0, 1])
    got = mixup_loss(0.4, 3, seed=7)(model, x, y)
    rng = np.random.default_rng(7)
    lam = rng.beta(0.4, 0.4)
    perm = torch.from_numpy(rng.permutation(8))
    out = model(lam * x + (1 - lam) * x[perm])
    want = lam * F.cross_entropy(out, y) + (1 - lam) * F.cross_entropy(out, y[perm])
    torch.testing.assert_close(got, want, rtol=1e-12, atol=1e-14)
    x_mix, y_soft, _ = mixup(x, y, 1.0, 0, 3)  # tensors in, tensors out
    assert isinstance(x_mix, torch.Tensor) and y_soft.dtype == F64


# ------------------------------------------------------------------ augmentation

def test_random_rotate_equals_scipy_ndimage_rotate(digits):
    X = digits.X_train[:20].astype(np.float64)
    out = random_rotate(X, (8, 8), 30.0, rng=0)
    angles = np.random.default_rng(0).uniform(-30, 30, size=20)
    ref = np.stack([ndi.rotate(x.reshape(8, 8), a, reshape=False, order=1,
                               mode="grid-constant").ravel() for x, a in zip(X, angles)])
    np.testing.assert_allclose(out, ref, rtol=0, atol=1e-12)
    assert random_rotate(digits.X_train[:3], (8, 8), 10, rng=0).dtype == np.float32


def test_random_shift_equals_scipy_ndimage_shift(digits):
    X = digits.X_train[:30]
    out = random_shift(X, (8, 8), 2, rng=1)
    shifts = np.random.default_rng(1).integers(-2, 3, size=(30, 2))
    ref = np.stack([ndi.shift(x.reshape(8, 8), s, order=0, mode="constant", cval=0).ravel()
                    for x, s in zip(X, shifts)])
    np.testing.assert_array_equal(out, ref)
    assert len(np.unique(shifts, axis=0)) > 5
    np.testing.assert_array_equal(random_shift(X, (8, 8), 0, rng=1), X)


def test_add_noise_has_the_asked_std():
    X = np.zeros((200, 50))
    noise = add_noise(X, 0.3, rng=0) - X
    assert abs(noise.std() - 0.3) < 0.01 and abs(noise.mean()) < 0.01


def test_augmented_loss_feeds_transformed_batches():
    model = mlp([4, 3], seed=0).double()
    x = torch.randn(6, 4, dtype=F64, generator=torch.Generator().manual_seed(0))
    y = torch.tensor([0, 1, 2, 0, 1, 2])
    torch.testing.assert_close(augmented_loss(lambda X, rng: X)(model, x, y),
                               F.cross_entropy(model(x), y))
    torch.testing.assert_close(augmented_loss(lambda X, rng: 2 * X)(model, x, y),
                               F.cross_entropy(model(2 * x), y))
    with pytest.raises(ValueError, match="augmented_loss: transform must keep"):
        augmented_loss(lambda X, rng: X[:2])(model, x, y)


# ------------------------------------------------------------------ FGSM

def test_fgsm_equals_a_hand_written_autograd_step():
    model = mlp([6, 8, 3], seed=0, activation="tanh").double()
    x = torch.rand(10, 6, dtype=F64, generator=torch.Generator().manual_seed(0))
    y = torch.randint(0, 3, (10,), generator=torch.Generator().manual_seed(1))
    xr = x.clone().requires_grad_(True)
    nn.CrossEntropyLoss()(model(xr), y).backward()
    model.zero_grad(set_to_none=True)
    for eps, clamp in ((0.1, None), (0.3, (0.0, 1.0))):
        want = x + eps * xr.grad.sign()
        if clamp:
            want = want.clamp(*clamp)
        torch.testing.assert_close(fgsm(model, x, y, eps, clamp), want, rtol=0, atol=0)
    assert all(p.grad is None for p in model.parameters())  # parameters untouched
    torch.testing.assert_close(fgsm(model, x.numpy(), y.numpy(), 0.1), x + 0.1 * xr.grad.sign())
    torch.testing.assert_close(fgsm(model, x, y, 0.0), x)


def test_fgsm_raises_the_loss_and_adversarial_training_resists_it(digits):
    data = Dataset(digits.X_train[:600], digits.y_train[:600], digits.X_test, digits.y_test)
    plain = mlp([64, 32, 10], seed=0)
    robust = copy.deepcopy(plain)
    for model, loss_fn in ((plain, None), (robust, adversarial_loss(0.1, clamp=(0, 1)))):
        train_classifier(model, torch.optim.Adam(model.parameters(), lr=1e-2), data,
                         epochs=8, batch_size=64, eval_test=False, loss_fn=loss_fn)
    X, y = torch.from_numpy(data.X_test), torch.from_numpy(data.y_test)
    clean = accuracy_under_fgsm(plain, X, y, 0.0)
    assert clean == pytest.approx(evaluate(plain, X, y)[1])
    attacked = accuracy_under_fgsm(plain, X, y, 0.1, clamp=(0, 1))
    attacked_robust = accuracy_under_fgsm(robust, X, y, 0.1, clamp=(0, 1))
    assert attacked < clean - 0.2
    assert attacked_robust > attacked + 0.1
    assert plain.training  # mode restored


def test_adversarial_loss_mixes_clean_and_attacked_cross_entropy():
    model = mlp([6, 8, 3], seed=0).double()
    x = torch.rand(10, 6, dtype=F64, generator=torch.Generator().manual_seed(0))
    y = torch.randint(0, 3, (10,), generator=torch.Generator().manual_seed(1))
    clean = F.cross_entropy(model(x), y)
    adv = F.cross_entropy(model(fgsm(model, x, y, 0.2)), y)
    torch.testing.assert_close(adversarial_loss(0.2, alpha=1.0)(model, x, y), clean)
    torch.testing.assert_close(adversarial_loss(0.2, alpha=0.3)(model, x, y),
                               0.3 * clean + 0.7 * adv)
    assert adv > clean


# ------------------------------------------------------------------ transfer

def test_freeze_keeps_the_body_fixed_while_the_new_head_learns(digits):
    model = mlp([64, 32, 16, 10], seed=0)
    replace_head(model, 2, seed=1)
    assert model[-1].out_features == 2 and model[-1].in_features == 16
    freeze_(model[:-1])
    assert count_trainable(model) == 16 * 2 + 2
    assert trainable_parameters(model) == [model[-1].weight, model[-1].bias]
    body = copy.deepcopy(model[:-1].state_dict())
    head = [p.detach().clone() for p in model[-1].parameters()]
    parity = Dataset(digits.X_train[:400], digits.y_train[:400] % 2, digits.X_test[:100],
                     digits.y_test[:100] % 2)
    opt = optim.SGD(trainable_parameters(model), lr=0.1, momentum=0.9, weight_decay=1e-3)
    train_classifier(model, opt, parity, epochs=2, batch_size=32, eval_test=False)
    for k, v in model[:-1].state_dict().items():
        assert torch.equal(v, body[k])
    assert all(not torch.equal(p, h) for p, h in zip(model[-1].parameters(), head))
    unfreeze_(model)
    assert count_trainable(model) == sum(p.numel() for p in model.parameters())


def test_replace_head_is_seeded_and_needs_a_linear():
    a = replace_head(mlp([4, 5, 3], seed=0), 7, seed=2)
    b = replace_head(mlp([4, 5, 3], seed=9), 7, seed=2)
    assert torch.equal(a[-1].weight, b[-1].weight)
    torch.manual_seed(2)
    fresh = nn.Linear(5, 7)
    torch.testing.assert_close(a[-1].weight, fresh.weight, rtol=0, atol=0)
    torch.testing.assert_close(a[-1].bias, fresh.bias, rtol=0, atol=0)
    assert not torch.equal(replace_head(mlp([4, 5, 3]), 7, seed=3)[-1].weight, a[-1].weight)
    assert replace_head(mlp([4, 5, 3]).double(), 2)[-1].weight.dtype == F64
    with pytest.raises(ValueError, match="replace_head: model must contain an nn.Linear"):
        replace_head(nn.Sequential(nn.ReLU()), 3)
    with pytest.raises(ValueError, match="replace_head: num_classes"):
        replace_head(mlp([4, 3]), 0)


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


# ------------------------------------------------------------------ bad arguments

@pytest.mark.parametrize("call, match", [
    (lambda: label_smoothing_cross_entropy(*_logits(), -0.1), "label_smoothing_cross_entropy"),
    (lambda: smoothed_targets([0, 5], 3, 0.1), "smoothed_targets: labels must be in 0..2"),
    (lambda: label_smoothing_loss(2), "label_smoothing_loss: smoothing"),
    (lambda: mixup(np.zeros((3, 2)), [0, 1, 1], 0.0), "mixup: alpha must be a finite number > 0"),
    (lambda: mixup(np.zeros((3, 2)), [0, 1, 1], -1.0), "mixup: alpha"),
    (lambda: mixup(np.zeros((3, 2)), [0, 1, 1], 1.0, lam=-0.2), "mixup: lam must be in"),
    (lambda: mixup(np.zeros((3, 2)), [0, 1], 1.0), "mixup: y must have shape"),
    (lambda: mixup_loss(0, 3), "mixup_loss: alpha"),
    (lambda: random_shift(np.zeros((2, 64)), (8, 8), -1), "random_shift: max_shift"),
    (lambda: random_shift(np.zeros((2, 63)), (8, 8), 1), "random_shift: X must have shape"),
    (lambda: random_rotate(np.zeros((2, 64)), (8, 8), -5), "random_rotate: max_degrees"),
    (lambda: add_noise(np.zeros(3), -1), "add_noise: std"),
    (lambda: fgsm(mlp([2, 2]), torch.zeros(3, 2), torch.zeros(3, dtype=torch.long), -0.1),
     "fgsm: eps must be a finite number >= 0"),
    (lambda: fgsm(mlp([2, 2]), torch.zeros(3, 2), torch.zeros(2, dtype=torch.long), 0.1),
     "fgsm: y must be"),
    (lambda: fgsm(mlp([2, 2]), torch.zeros(3, 2), torch.zeros(3, dtype=torch.long), 0.1,
                  clamp=(1, 0)), "fgsm: clamp"),
    (lambda: adversarial_loss(-1), "adversarial_loss: eps"),
    (lambda: adversarial_loss(0.1, alpha=1.5), "adversarial_loss: alpha"),
    (lambda: EarlyStopping(mlp([2, 2]), patience=0), "EarlyStopping: patience"),
    (lambda: EarlyStopping(mlp([2, 2]), mode="up"), "EarlyStopping: mode"),
    (lambda: EarlyStopping(mlp([2, 2]), min_delta=-1), "EarlyStopping: min_delta"),
    (lambda: bootstrap_indices(0, 3), "bootstrap_indices: n"),
    (lambda: ensemble_predict_proba([], np.zeros((1, 2))), "ensemble_predict_proba: models"),
    (lambda: accuracy(np.zeros(3), np.zeros(2)), "accuracy: y must have shape"),
])
def test_bad_arguments_raise_value_errors_naming_them(call, match):
    with pytest.raises(ValueError, match=match):
        call()


@pytest.mark.parametrize("call, match", [
    (lambda: freeze_([torch.ones(2)]), "freeze_"),
    (lambda: EarlyStopping([torch.ones(2)]), "EarlyStopping: model"),
    (lambda: fgsm(lambda x: x, torch.zeros(1, 2), torch.zeros(1, dtype=torch.long), 0.1),
     "fgsm: model"),
    (lambda: fgsm(mlp([2, 2]), torch.zeros(2, 2), torch.zeros(2), 0.1), "fgsm: y must hold"),
    (lambda: bagging(3, Dataset(*[np.zeros(1)] * 4), 2), "bagging: fit"),
    (lambda: ensemble_vote([lambda x: x], np.zeros((1, 2))), "ensemble_vote: models\\[0\\]"),
    (lambda: augmented_loss(3), "augmented_loss: transform"),
])
def test_bad_types_raise_type_errors_naming_them(call, match):
    with pytest.raises(TypeError, match=match):
        call()
