"""trainart.regularize.adversarial: FGSM (equal to a hand-written autograd step) and
adversarial training.
"""

from __future__ import annotations

import copy

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from trainart.data import Dataset
from trainart.models import evaluate, mlp, train_classifier
from trainart.regularize import (
    accuracy_under_fgsm,
    adversarial_loss,
    fgsm,
)

F64 = torch.float64


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
