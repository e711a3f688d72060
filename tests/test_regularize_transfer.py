"""trainart.regularize.transfer: freezing, new heads and the parameter groups of
fine-tuning (equal to separate torch optimizers)."""

from __future__ import annotations

import copy

import pytest
import torch
from torch import nn

from trainart import optim
from trainart.data import Dataset
from trainart.models import mlp, train_classifier
from trainart.regularize.transfer import (
    count_trainable,
    freeze_,
    head_and_body_groups,
    replace_head,
    trainable_parameters,
    unfreeze_,
)

F64 = torch.float64


def test_head_and_body_groups_equal_two_separate_torch_adams_over_a_trajectory():
    torch.manual_seed(0)
    x, y = torch.randn(32, 6, dtype=torch.float64), torch.randint(0, 4, (32,))
    a = replace_head(mlp([6, 10, 3], seed=0).double(), 4, seed=1)
    b = replace_head(mlp([6, 10, 3], seed=0).double(), 4, seed=1)
    opt = torch.optim.Adam(head_and_body_groups(a, 1e-2, 1e-3))
    head, body = list(b[2].parameters()), list(b[0].parameters())
    two = [torch.optim.Adam(head, lr=1e-2), torch.optim.Adam(body, lr=1e-3)]
    for _ in range(25):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(a(x), y).backward()
        opt.step()
        for o in two:
            o.zero_grad()
        torch.nn.functional.cross_entropy(b(x), y).backward()
        for o in two:
            o.step()
    for p, q in zip(a.parameters(), b.parameters()):
        torch.testing.assert_close(p, q, rtol=0, atol=1e-15)
    assert [g["lr"] for g in opt.param_groups] == [1e-2, 1e-3]


def test_head_and_body_groups_leave_out_frozen_parameters():
    net = replace_head(freeze_(mlp([6, 10, 3], seed=0)), 4)
    groups = head_and_body_groups(net, 1e-2, 1e-3)
    assert len(groups) == 1 and groups[0]["params"][0] is net[2].weight
    unfreeze_(net)
    assert len(head_and_body_groups(net, 1e-2, 1e-3)) == 2


@pytest.mark.parametrize("call, exc, match", [
    (lambda: head_and_body_groups("net", 1e-2, 1e-3), TypeError, "head_and_body_groups"),
    (lambda: head_and_body_groups(mlp([2, 2]), 0.0, 1e-3), ValueError,
     "head_and_body_groups: head_lr"),
    (lambda: head_and_body_groups(mlp([2, 2]), 1e-2, -1.0), ValueError,
     "head_and_body_groups: body_lr"),
    (lambda: head_and_body_groups(freeze_(mlp([2, 2])), 1e-2, 1e-3), ValueError,
     "head_and_body_groups: the head"),
    (lambda: replace_head(mlp([2, 2]), 0), ValueError, "replace_head: num_classes must be an "
     "integer >= 1"),
])
def test_bad_arguments_name_the_function_and_argument(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


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
