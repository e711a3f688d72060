"""Tests of trainart.regularize.constraints: max-norm against torch.renorm."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from trainart.models import mlp
from trainart.regularize.constraints import max_norm_, max_norm_hook, max_norms

F64 = torch.float64


@pytest.mark.parametrize("shape", [(5, 7), (4, 3, 2, 2)])
@pytest.mark.parametrize("c", [0.5, 1.5, 100.0])
def test_max_norm_equals_torch_renorm_on_tensors_and_arrays(shape, c):
    w = 2 * torch.randn(*shape, dtype=F64, generator=torch.Generator().manual_seed(0))
    ref = torch.renorm(w, p=2, dim=0, maxnorm=c)
    t, a = w.clone(), w.numpy().copy()
    max_norm_([t], c)
    max_norm_([a], c)
    torch.testing.assert_close(t, ref, rtol=0, atol=1e-15)
    np.testing.assert_allclose(a, ref.numpy(), rtol=0, atol=1e-15)
    assert max(max_norms([t])) <= c


def test_max_norm_hook_over_a_training_trajectory_equals_torch_renorm_after_each_step():
    torch.manual_seed(0)
    x = torch.randn(64, 6, dtype=F64)
    y = torch.randint(0, 3, (64,))
    ours, ref = mlp([6, 16, 3], seed=0).double(), mlp([6, 16, 3], seed=0).double()
    hook = max_norm_hook(ours, 0.8)
    opts = [torch.optim.SGD(m.parameters(), lr=0.5, momentum=0.9) for m in (ours, ref)]
    for _ in range(30):
        for m, opt in zip((ours, ref), opts):
            opt.zero_grad()
            torch.nn.functional.cross_entropy(m(x), y).backward()
            opt.step()
        hook(ours)
        with torch.no_grad():
            for layer in ref:
                if isinstance(layer, torch.nn.Linear):
                    layer.weight.copy_(torch.renorm(layer.weight, 2, 0, 0.8))
    for p, q in zip(ours.parameters(), ref.parameters()):
        torch.testing.assert_close(p, q, rtol=0, atol=1e-12)
    assert max(max_norms(ours)) <= 0.8 + 1e-12
    assert ours[0].bias.abs().max() > 0             # biases are not constrained


def test_max_norm_leaves_small_rows_alone_and_exact_projection_with_eps_zero():
    w = np.array([[3.0, 4.0], [0.3, 0.4]])
    max_norm_([w], 1.0, eps=0.0)
    np.testing.assert_allclose(w, [[0.6, 0.8], [0.3, 0.4]], rtol=0, atol=1e-15)
    assert w[1, 0] == 0.3 and w[1, 1] == 0.4


@pytest.mark.parametrize("call, exc, match", [
    (lambda: max_norm_([np.ones((2, 2))], 0.0), ValueError, "max_norm_: max_norm must be"),
    (lambda: max_norm_([np.ones((2, 2))], 1.0, eps=-1), ValueError, "max_norm_: eps"),
    (lambda: max_norm_([np.ones(3)], 1.0), ValueError, "max_norm_: params\\[0\\] must have"),
    (lambda: max_norm_([np.ones((2, 2), dtype=int)], 1.0), TypeError, "max_norm_: params"),
    (lambda: max_norm_hook("net", 1.0), TypeError, "max_norm_hook: model"),
    (lambda: max_norm_hook(mlp([2, 2]), -1.0), ValueError, "max_norm_hook: max_norm"),
])
def test_bad_arguments_name_the_function_and_argument(call, exc, match):
    with pytest.raises(exc, match=match):
        call()
