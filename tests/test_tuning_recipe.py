"""The recipe checks: the initial loss is ln C, a small sample can be memorized, the LR range
test suggests a rate below the explosion, and the curve diagnosis names each shape."""

import math

import numpy as np
import pytest
import torch

from trainart.data import Dataset, load_mnist5k
from trainart.models import SoftmaxRegression, mlp, train_classifier
from trainart.tuning import (
    DIAGNOSES,
    curve_gallery,
    diagnose_curves,
    expected_initial_loss,
    initial_loss,
    lr_range_test,
    overfit_small_sample,
)


@pytest.fixture(scope="module")
def mnist():
    return load_mnist5k()


# ---------------------------------------------------------------------------------------
# Initial loss
# ---------------------------------------------------------------------------------------


def test_expected_initial_loss_is_ln_c():
    assert expected_initial_loss(10) == pytest.approx(math.log(10), abs=1e-15)
    assert expected_initial_loss(2) == pytest.approx(0.6931471805599453)
    for bad in (1, 0, 2.0, True):
        with pytest.raises(ValueError, match="^expected_initial_loss: num_classes"):
            expected_initial_loss(bad)


def test_a_fresh_mlp_on_mnist_starts_near_ln_10_and_a_bad_init_does_not(mnist):
    model = mlp([784, 64, 10], seed=0)
    loss = initial_loss(model, mnist.X_train, mnist.y_train)
    assert abs(loss - math.log(10)) < 0.05, loss
    # the same as torch's cross-entropy over the whole training set
    with torch.no_grad():
        ref = torch.nn.functional.cross_entropy(model(torch.from_numpy(mnist.X_train)),
                                                torch.from_numpy(mnist.y_train)).item()
    assert loss == pytest.approx(ref, rel=1e-5)
    with torch.no_grad():
        model[-1].weight.mul_(30.0)  # over-confident logits
    assert initial_loss(model, mnist.X_train, mnist.y_train) > 1.2 * math.log(10)


def test_initial_loss_of_numpy_softmax_regression_is_ln_c_from_zero_weights(mnist):
    model = SoftmaxRegression(784, 10, seed=None)
    assert initial_loss(model, mnist.X_test, mnist.y_test) == pytest.approx(math.log(10))
    with pytest.raises(TypeError, match="^initial_loss: model"):
        initial_loss(object(), mnist.X_test, mnist.y_test)


# ---------------------------------------------------------------------------------------
# Overfit a small sample
# ---------------------------------------------------------------------------------------


def test_overfit_small_sample_reaches_train_accuracy_one(mnist):
    model = mlp([784, 64, 10], seed=0)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    hist = overfit_small_sample(model, opt, mnist, n=100, epochs=100, seed=0)
    assert hist["train_acc"][-1] == 1.0
    assert len(hist["train_acc"]) < 100  # stopped as soon as it got there
    assert hist["train_eval_loss"][-1] < 0.5 * hist["train_eval_loss"][0]
    assert len(set(hist["indices"])) == 100
    # on the sample only: held-out accuracy is far lower
    Xt, yt = torch.from_numpy(mnist.X_test), torch.from_numpy(mnist.y_test)
    with torch.no_grad():
        acc = (model(Xt).argmax(1) == yt).float().mean().item()
    assert acc < 0.9


def test_shuffled_labels_are_harder_to_memorize(mnist):
    """The check catches a broken pipeline: labels shuffled apart from their inputs."""
    rng = np.random.default_rng(0)
    broken = Dataset(mnist.X_train, rng.permutation(mnist.y_train), mnist.X_test, mnist.y_test)
    runs = {}
    for name, data in (("ok", mnist), ("shuffled", broken)):
        model = mlp([784, 16, 10], seed=0)
        opt = torch.optim.SGD(model.parameters(), lr=0.5)
        runs[name] = overfit_small_sample(model, opt, data, n=200, epochs=15, seed=0)
    assert runs["ok"]["train_acc"][-1] > runs["shuffled"]["train_acc"][-1] + 0.3, \
        (runs["ok"]["train_acc"][-1], runs["shuffled"]["train_acc"][-1])


def test_overfit_small_sample_checks_its_arguments(mnist):
    model = mlp([784, 8, 10], seed=0)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="^overfit_small_sample: n must be <="):
        overfit_small_sample(model, opt, mnist, n=10**6)
    with pytest.raises(TypeError, match="^overfit_small_sample: data"):
        overfit_small_sample(model, opt, (mnist.X_train, mnist.y_train))


# ---------------------------------------------------------------------------------------
# LR range test
# ---------------------------------------------------------------------------------------


def test_lr_range_test_suggests_a_rate_inside_the_range_below_the_explosion(mnist):
    lr_min, lr_max, steps, beta = 1e-5, 100.0, 100, 0.98
    res = lr_range_test(lambda: mlp([784, 64, 10], seed=0), mnist, lr_min=lr_min,
                        lr_max=lr_max, steps=steps, beta=beta, seed=0)
    assert res.diverged_at is not None and len(res.lrs) < steps  # it stopped early
    assert lr_min <= res.suggestion < res.diverged_at <= lr_max
    assert res.suggestion <= res.lrs[np.argmin(res.smoothed[:-1])] / 10 * (1 + 1e-12)
    assert lr_min <= res.steepest < res.diverged_at
    # exponentially spaced rates; smoothed = bias-corrected moving average of the losses
    ratios = res.lrs[1:] / res.lrs[:-1]
    assert np.allclose(ratios, (lr_max / lr_min) ** (1 / (steps - 1)))
    avg, ref = 0.0, []
    for i, v in enumerate(res.losses):
        avg = beta * avg + (1 - beta) * v
        ref.append(avg / (1 - beta ** (i + 1)))
    np.testing.assert_allclose(res.smoothed, ref, rtol=1e-12)
    assert res.smoothed[-1] > 4 * res.smoothed[:-1].min()
    # and the suggestion trains: one epoch at it beats one epoch at the explosion rate
    finals = []
    for lr in (res.suggestion, res.diverged_at):
        model = mlp([784, 64, 10], seed=0)
        hist = train_classifier(model, torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9),
                                mnist, epochs=1, batch_size=64, seed=0, eval_test=False)
        finals.append(hist["train_loss"][-1])
    assert finals[0] < 0.5 * math.log(10) < 2 * math.log(10) < finals[1], finals


def test_lr_range_test_checks_its_arguments(mnist):
    make = lambda: mlp([784, 4, 10], seed=0)  # noqa: E731
    with pytest.raises(ValueError, match="^lr_range_test: lr_min must be < lr_max"):
        lr_range_test(make, mnist, lr_min=1.0, lr_max=0.1)
    with pytest.raises(ValueError, match="^lr_range_test: lr_min"):
        lr_range_test(make, mnist, lr_min=0.0)
    with pytest.raises(ValueError, match="^lr_range_test: beta"):
        lr_range_test(make, mnist, beta=1.0)
    with pytest.raises(TypeError, match="^lr_range_test: make_model"):
        lr_range_test(make(), mnist)


# ---------------------------------------------------------------------------------------
# Reading curves
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("epochs", [20, 50, 120])
def test_diagnose_curves_labels_every_gallery_curve(seed, epochs):
    gallery = curve_gallery(seed=seed, epochs=epochs)
    assert tuple(gallery) == DIAGNOSES
    for label, curves in gallery.items():
        diagnosis = diagnose_curves(**curves, num_classes=10)
        assert diagnosis.label == label, (label, diagnosis)
        assert diagnosis.reason


def test_diagnose_curves_uses_accuracies_and_the_expected_initial_loss():
    t = np.arange(30)
    healthy = 0.1 + 2.2 * np.exp(-t / 5)
    assert diagnose_curves(healthy).label == "healthy"
    # a gap between train and validation accuracy is overfitting
    acc = np.minimum(1.0, 0.1 + t / 20)
    assert diagnose_curves(healthy, train_acc=acc, val_acc=acc - 0.3).label == "overfitting"
    # a low final training accuracy is underfitting
    assert diagnose_curves(healthy, train_acc=0.5 * acc).label == "underfitting"
    # a start far above ln C is a bad initialization, if C is known
    high_start = 0.2 + 5.8 * np.exp(-t / 5)
    assert diagnose_curves(high_start).label != "bad initialization"
    assert diagnose_curves(high_start, num_classes=10).label == "bad initialization"
    # a loss that ends above its start is diverging
    assert diagnose_curves(np.r_[healthy, 2.5]).label == "diverging"


def test_diagnose_curves_on_real_runs(mnist):
    small = Dataset(mnist.X_train[:1000], mnist.y_train[:1000], mnist.X_test[:500],
                    mnist.y_test[:500])
    labels = {}
    for lr in (1e-4, 50.0):
        model = mlp([784, 32, 10], seed=0)
        hist = train_classifier(model, torch.optim.SGD(model.parameters(), lr=lr), small,
                                epochs=12, batch_size=100, seed=0)
        labels[lr] = diagnose_curves(hist["train_loss"], hist["test_loss"],
                                     num_classes=10).label
    assert labels[1e-4] == "lr too low", labels
    assert labels[50.0] == "diverging", labels


def test_diagnose_curves_checks_its_arguments():
    with pytest.raises(ValueError, match="^diagnose_curves: train_loss must be a 1-D"):
        diagnose_curves([1.0, 0.5])
    with pytest.raises(ValueError, match="^diagnose_curves: val_loss must have as many"):
        diagnose_curves([3, 2, 1, 0.5], [3, 2, 1, 0.5, 0.4])
    with pytest.raises(ValueError, match="^curve_gallery: epochs"):
        curve_gallery(epochs=10)
