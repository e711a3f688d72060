"""Tests of trainart.regularize.transfer's parameter groups for fine-tuning."""

from __future__ import annotations

import pytest
import torch

from trainart.models import mlp
from trainart.regularize.transfer import (
    freeze_,
    head_and_body_groups,
    replace_head,
    unfreeze_,
)


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
