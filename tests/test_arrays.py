"""The fused in-place helpers of trainart._arrays equal the plain expressions they replace,
bit for bit, on large NumPy arrays (the blocked path), small or strided ones, and torch
tensors."""

from __future__ import annotations

import sys
import types

import numpy as np
import pytest
import torch

from trainart import _arrays

FUSED = [
    (_arrays.add_scaled_, lambda x, a, y, z: x + a * y, 1),
    (_arrays.add_product_, lambda x, a, y, z: x + a * y * z, 2),
    (_arrays.add_ratio_, lambda x, a, y, z: x + a * y / z, 2),
]


@pytest.mark.parametrize("fused, plain, n_args", FUSED)
@pytest.mark.parametrize("shape", [(3, 5), (700, 301), (3 * _arrays._BLOCK + 17,)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fused_numpy_equals_the_plain_expression_exactly(fused, plain, n_args, shape, dtype):
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal(shape).astype(dtype), rng.standard_normal(shape).astype(dtype)
    z = (rng.random(shape) + 0.5).astype(dtype)
    expected = plain(x, -0.3, y, z)
    out = fused(x, -0.3, y) if n_args == 1 else fused(x, -0.3, y, z)
    assert out is x
    np.testing.assert_array_equal(x, expected)  # elementwise the same operations: bit-equal


def test_fused_numpy_handles_strided_views():
    rng = np.random.default_rng(1)
    base = rng.standard_normal((400, 400))
    x = base[:, ::2]  # not contiguous: falls back to the plain expression
    y = rng.standard_normal(x.shape)
    expected = x + 2.0 * y
    _arrays.add_scaled_(x, 2.0, y)
    np.testing.assert_array_equal(base[:, ::2], expected)


@pytest.mark.parametrize("fused, plain, n_args", FUSED)
def test_fused_torch_matches_the_plain_expression(fused, plain, n_args):
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(1000, generator=g, dtype=torch.float64), torch.randn(1000, generator=g,
                                                                              dtype=torch.float64)
    z = torch.rand(1000, generator=g, dtype=torch.float64) + 0.5
    expected = plain(x, -0.3, y, z)
    out = fused(x, -0.3, y) if n_args == 1 else fused(x, -0.3, y, z)
    assert out is x
    assert torch.equal(x, expected)  # tensors evaluate the plain expression: bit-equal


def test_is_tensor_while_another_thread_is_still_importing_torch(monkeypatch):
    """The grader runs checks in threads: one may be importing torch (its module in
    sys.modules, not yet holding Tensor) while another asks whether an array is a tensor.
    That once made a reference solution 'could not grade' (AttributeError: partially
    initialized module 'torch' has no attribute 'Tensor')."""
    half_built = types.ModuleType("torch")
    monkeypatch.setitem(sys.modules, "torch", half_built)
    assert not _arrays.is_tensor(np.zeros(3))
    assert float(_arrays.maximum(np.array(1.0), np.array(2.0))) == 2.0
