"""trainart.losses: log-softmax, softmax, one-hot and the cross-entropies against torch
(float64, values and autograd gradients), centred finite differences, stability, the old
import paths, and argument checks."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from trainart import losses
from trainart.gradcheck import numerical_gradient
from trainart.losses import (
    label_smoothing_cross_entropy,
    log_softmax,
    one_hot,
    smoothed_targets,
    soft_cross_entropy,
    softmax,
    softmax_cross_entropy,
)

F64 = torch.float64


def _logits(n=6, C=4, seed=0, scale=2.0):
    rng = np.random.default_rng(seed)
    return scale * rng.normal(size=(n, C)), rng.integers(0, C, size=n)


def _torch_ce(z, y, eps=0.0):
    zt = torch.tensor(z, dtype=F64, requires_grad=True)
    ref = F.cross_entropy(zt, torch.from_numpy(np.asarray(y)), label_smoothing=eps)
    ref.backward()
    return ref.item(), zt.grad.numpy()


# ------------------------------------------------------------------ softmax


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 6), C=st.integers(1, 7),
       scale=st.sampled_from([1e-3, 1.0, 30.0, 1e3]))
def test_log_softmax_and_softmax_equal_torch(seed, n, C, scale):
    z = scale * np.random.default_rng(seed).standard_normal((n, C))
    t = torch.from_numpy(z)
    np.testing.assert_allclose(log_softmax(z), F.log_softmax(t, dim=-1).numpy(),
                               rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(softmax(z), torch.softmax(t, dim=-1).numpy(),
                               rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(log_softmax(z.T, axis=0), F.log_softmax(t.T, dim=0).numpy(),
                               rtol=1e-12, atol=1e-12)


def test_log_softmax_is_stable_and_keeps_float32():
    z = np.array([[1000.0, 0.0, -1000.0], [-800.0, -800.0, -800.0]])
    out = log_softmax(z)
    assert np.all(np.isfinite(out))
    np.testing.assert_allclose(out, [[0.0, -1000.0, -2000.0], [-np.log(3)] * 3], rtol=1e-15)
    assert log_softmax(z.astype(np.float32)).dtype == np.float32


# ------------------------------------------------------------------ cross-entropies


# ---------------------------------------------------------------------------------------
# softmax_cross_entropy (moved from test_models.py)
# ---------------------------------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 20), C=st.integers(2, 8),
       scale=st.sampled_from([0.1, 1.0, 30.0]))
def test_softmax_cross_entropy_equals_torch(seed, n, C, scale):
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((n, C)) * scale
    y = rng.integers(0, C, n)
    loss, dz = softmax_cross_entropy(z, y)
    zt = torch.tensor(z, requires_grad=True)
    lt = F.cross_entropy(zt, torch.tensor(y))
    lt.backward()
    np.testing.assert_allclose(loss, lt.item(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(dz, zt.grad.numpy(), rtol=1e-10, atol=1e-15)


def test_softmax_cross_entropy_is_stable_for_huge_logits():
    z = np.array([[1000.0, 0.0, -1000.0], [-800.0, 800.0, 0.0]])
    loss, dz = softmax_cross_entropy(z, np.array([1, 1]))
    assert np.isfinite(loss) and np.all(np.isfinite(dz))
    np.testing.assert_allclose(loss, 0.5 * 1000.0)  # first row: -log softmax = 1000
    expected = F.cross_entropy(torch.tensor(z), torch.tensor([1, 1])).item()
    np.testing.assert_allclose(loss, expected, rtol=1e-12)


def test_softmax_cross_entropy_bad_input_raises():
    with pytest.raises(ValueError, match="softmax_cross_entropy: logits"):
        softmax_cross_entropy(np.zeros(3), np.array([0]))
    with pytest.raises(ValueError, match="softmax_cross_entropy: labels"):
        softmax_cross_entropy(np.zeros((2, 3)), np.array([0, 3]))
    with pytest.raises(ValueError, match="softmax_cross_entropy: y"):
        softmax_cross_entropy(np.zeros((2, 3)), np.array([0, 1, 2]))
    with pytest.raises(TypeError, match="softmax_cross_entropy: y"):
        softmax_cross_entropy(np.zeros((2, 3)), np.array([0.0, 1.0]))




@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 9), C=st.integers(1, 8),
       scale=st.sampled_from([0.1, 3.0, 1e3]),
       eps=st.sampled_from([0.0, 0.05, 0.1, 0.5, 1.0]))
def test_cross_entropy_and_label_smoothing_equal_torch(seed, n, C, scale, eps):
    z, y = _logits(n, C, seed, scale)
    loss, dz = label_smoothing_cross_entropy(z, y, eps)
    ref_loss, ref_dz = _torch_ce(z, y, eps)
    np.testing.assert_allclose(loss, ref_loss, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(dz, ref_dz, rtol=1e-12, atol=1e-15)
    if eps == 0.0:
        plain_loss, plain_dz = softmax_cross_entropy(z, y)
        assert plain_loss == loss
        np.testing.assert_array_equal(plain_dz, dz)


@pytest.mark.parametrize("eps", [0.0, 0.1, 0.3, 1.0])
def test_label_smoothing_equals_cross_entropy_loss_module(eps):
    z, y = _logits(8, 5, seed=1)
    loss, dz = label_smoothing_cross_entropy(z, y, eps)
    zt = torch.tensor(z, dtype=F64, requires_grad=True)
    ref = nn.CrossEntropyLoss(label_smoothing=eps)(zt, torch.from_numpy(y))
    ref.backward()
    np.testing.assert_allclose(loss, ref.item(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(dz, zt.grad.numpy(), rtol=1e-12, atol=1e-12)
    # the same as the soft-target loss against the smoothed targets
    soft_loss, soft_dz = soft_cross_entropy(z, smoothed_targets(y, 5, eps))
    np.testing.assert_allclose(loss, soft_loss, rtol=1e-13)
    np.testing.assert_allclose(dz, soft_dz, rtol=1e-12, atol=1e-16)


def test_cross_entropy_is_stable_for_huge_logits():
    z = np.array([[800.0, 790.0, -900.0, 1200.0, 1199.0, 0.0], [1e4, -1e4, 0, 0, 0, 0]])
    y = np.array([3, 1])
    for eps in (0.0, 0.1):
        loss, dz = label_smoothing_cross_entropy(z, y, eps)
        ref_loss, ref_dz = _torch_ce(z, y, eps)
        assert np.isfinite(loss) and np.all(np.isfinite(dz))
        np.testing.assert_allclose(loss, ref_loss, rtol=1e-12)
        np.testing.assert_allclose(dz, ref_dz, rtol=1e-12, atol=1e-15)


def test_every_gradient_passes_the_gradient_check():
    z, y = _logits(5, 4, seed=2)
    t = np.random.default_rng(3).random((5, 4))  # rows not summing to 1: the general formula
    for fn in (lambda: softmax_cross_entropy(z, y), lambda: label_smoothing_cross_entropy(
            z, y, 0.2), lambda: soft_cross_entropy(z, t)):
        num = numerical_gradient(lambda fn=fn: fn()[0], z)
        np.testing.assert_allclose(fn()[1], num, rtol=1e-6, atol=1e-9)
    gradient_rows = label_smoothing_cross_entropy(z, y, 0.3)[1].sum(axis=1)
    np.testing.assert_allclose(gradient_rows, 0.0, atol=1e-16)


def test_soft_cross_entropy_equals_torch_with_probability_targets():
    z, _ = _logits(7, 3, seed=4)
    t = np.random.default_rng(5).dirichlet(np.ones(3), size=7)
    zt = torch.tensor(z, dtype=F64, requires_grad=True)
    ref = F.cross_entropy(zt, torch.from_numpy(t))
    ref.backward()
    loss, dz = soft_cross_entropy(z, t)
    np.testing.assert_allclose(loss, ref.item(), rtol=1e-12)
    np.testing.assert_allclose(dz, zt.grad.numpy(), rtol=1e-12, atol=1e-15)
    zt2 = torch.tensor(z, dtype=F64, requires_grad=True)
    ours_t = soft_cross_entropy(zt2, torch.from_numpy(t))
    ours_t.backward()
    np.testing.assert_allclose(ours_t.item(), ref.item(), rtol=1e-12)
    np.testing.assert_allclose(zt2.grad.numpy(), zt.grad.numpy(), rtol=1e-12, atol=1e-15)


def test_one_hot_and_smoothed_targets_follow_torch():
    y = np.array([2, 0, 1, 2])
    np.testing.assert_array_equal(one_hot(y, 4), F.one_hot(torch.from_numpy(y), 4).double())
    t = one_hot(torch.from_numpy(y), 3)
    assert isinstance(t, torch.Tensor) and t.dtype == F64
    assert torch.equal(t, F.one_hot(torch.from_numpy(y), 3).double())
    s = smoothed_targets([0, 2], 4, 0.2)
    np.testing.assert_allclose(s, [[0.85, 0.05, 0.05, 0.05], [0.05, 0.05, 0.85, 0.05]])
    np.testing.assert_array_equal(smoothed_targets([1], 3, 0.0), one_hot([1], 3))


def test_the_old_import_paths_are_the_same_functions():
    from trainart import models
    from trainart.regularize import augment

    assert models.softmax_cross_entropy is losses.softmax_cross_entropy
    for name in ("one_hot", "smoothed_targets", "soft_cross_entropy",
                 "label_smoothing_cross_entropy"):
        assert getattr(augment, name) is getattr(losses, name)
        assert name in augment.__all__


@pytest.mark.parametrize("call, error, match", [
    (lambda: softmax_cross_entropy(np.zeros(3), [0]), ValueError,
     "softmax_cross_entropy: logits must have shape"),
    (lambda: softmax_cross_entropy(np.zeros((2, 3)), [0, 3]), ValueError,
     r"softmax_cross_entropy: labels must be in 0..2, got values in 0..3"),
    (lambda: softmax_cross_entropy(np.zeros((2, 3)), [0.0, 1.0]), TypeError,
     "softmax_cross_entropy: y must hold integer"),
    (lambda: label_smoothing_cross_entropy(np.zeros((6, 3)), [0, 1], 0.1), ValueError,
     "label_smoothing_cross_entropy: y must be a 1-D array of 6 labels"),
    (lambda: label_smoothing_cross_entropy(np.zeros((2, 3)), [0, 1], 1.5), ValueError,
     "label_smoothing_cross_entropy: smoothing must be in"),
    (lambda: label_smoothing_cross_entropy(np.zeros((2, 3)), [0, 1], "a"), TypeError,
     "label_smoothing_cross_entropy: smoothing must be a number"),
    (lambda: soft_cross_entropy(np.zeros((2, 3)), np.zeros((2, 2))), ValueError,
     "soft_cross_entropy: targets must have the logits' shape"),
    (lambda: soft_cross_entropy(torch.zeros(2, 3), np.zeros((2, 3))), TypeError,
     "soft_cross_entropy: targets must be a tensor"),
    (lambda: one_hot([0, 1], 0), ValueError, "one_hot: num_classes"),
    (lambda: smoothed_targets([0.5], 3, 0.1), TypeError, "smoothed_targets: y must hold integer"),
    (lambda: log_softmax(np.array(["a"])), TypeError, "log_softmax: z"),
])
def test_bad_input_raises_naming_the_function_and_argument(call, error, match):
    with pytest.raises(error, match=match):
        call()
