"""Tests of trainart.regularize.sharing: parameter sharing and the multi-task SharedTrunk."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from trainart.models import mlp
from trainart.regularize.sharing import SharedTrunk, share_parameters_, unique_parameters


def test_shared_trunk_is_seeded_and_each_task_updates_only_its_head_and_the_trunk():
    a = SharedTrunk(6, [8, 4], {"digit": 10, "parity": 2}, seed=3)
    b = SharedTrunk(6, [8, 4], {"digit": 10, "parity": 2}, seed=3)
    for pa, pb in zip(a.parameters(), b.parameters()):
        assert torch.equal(pa, pb)
    x = torch.randn(5, 6, generator=torch.Generator().manual_seed(0))
    assert a(x, "digit").shape == (5, 10) and a(x, "parity").shape == (5, 2)
    F.cross_entropy(a(x, "parity"), torch.tensor([0, 1, 0, 1, 1])).backward()
    assert all(p.grad is not None for p in a.trunk.parameters())
    assert all(p.grad is not None for p in a.heads["parity"].parameters())
    assert all(p.grad is None for p in a.heads["digit"].parameters())
    with pytest.raises(ValueError, match="SharedTrunk: task"):
        a(x, "colour")


def test_shared_trunk_equals_a_torch_sequential_trunk_and_linear_head():
    net = SharedTrunk(6, [8], {"a": 3}, seed=0).double()
    ref = torch.nn.Sequential(torch.nn.Linear(6, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))
    ref = ref.double()
    ref.load_state_dict({"0.weight": net.trunk[0].weight, "0.bias": net.trunk[0].bias,
                         "2.weight": net.heads["a"].weight, "2.bias": net.heads["a"].bias})
    x = torch.randn(4, 6, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    torch.testing.assert_close(net(x, "a"), ref(x), rtol=0, atol=1e-15)


def test_share_parameters_makes_one_tensor_serve_two_modules():
    a, b = mlp([4, 6, 3], seed=0), mlp([4, 6, 3], seed=1)
    shared = share_parameters_(a, b, ["0"])
    assert shared == ["0.weight", "0.bias"]
    assert b[0].weight is a[0].weight and b[2].weight is not a[2].weight
    params = unique_parameters(a, b)
    assert len(params) == 6  # 4 of a + the 2 unshared of b
    opt = torch.optim.SGD(params, lr=0.1)
    x = torch.randn(5, 4, generator=torch.Generator().manual_seed(0))
    before = a[0].weight.detach().clone()
    F.cross_entropy(b(x), torch.tensor([0, 1, 2, 0, 1])).backward()
    opt.step()
    assert not torch.equal(a[0].weight, before)  # a step through b moved a's layer
    with pytest.raises(ValueError, match="share_parameters_: parameter '0.weight' has shape"):
        share_parameters_(mlp([4, 6, 3]), mlp([5, 6, 3]), ["0.weight"])
    with pytest.raises(ValueError, match="share_parameters_: names"):
        share_parameters_(a, b, ["7"])


@pytest.mark.parametrize("call, match", [
    (lambda: SharedTrunk(4, [], {"a": 2}), "SharedTrunk: trunk_sizes"),
    (lambda: SharedTrunk(4, [3], {}), "SharedTrunk: head_sizes"),
    (lambda: SharedTrunk(0, [3], {"a": 2}), "SharedTrunk: in_features"),
])
def test_bad_arguments_raise_value_errors_naming_them(call, match):
    with pytest.raises(ValueError, match=match):
        call()


@pytest.mark.parametrize("call, match", [
    (lambda: unique_parameters(mlp([2, 2]), 3), "unique_parameters: argument 1"),
    (lambda: share_parameters_(mlp([2, 2]), "b", ["0"]), "share_parameters_: module_b"),
])
def test_bad_types_raise_type_errors_naming_them(call, match):
    with pytest.raises(TypeError, match=match):
        call()
