"""Bad input to trainart.regularize's training-time functions (augmentation, mixup, FGSM,
early stopping, ensembles, transfer) raises an error naming the function and the argument:
one table for the package.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from trainart.data import Dataset
from trainart.models import mlp
from trainart.regularize import (
    EarlyStopping,
    accuracy,
    add_noise,
    adversarial_loss,
    augmented_loss,
    bagging,
    bootstrap_indices,
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
    smoothed_targets,
)


def _logits(n=6, C=4, seed=0, scale=2.0):
    rng = np.random.default_rng(seed)
    return scale * rng.normal(size=(n, C)), rng.integers(0, C, size=n)


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
