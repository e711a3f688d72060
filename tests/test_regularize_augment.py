"""trainart.regularize.augment: the label-smoothing loss_fn, mixup and data augmentation
(parity with ``F.cross_entropy(label_smoothing=...)`` and ``scipy.ndimage``; mixup's invariants
as hypothesis properties). The NumPy losses are tested in test_losses.py.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.ndimage as ndi
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from trainart.models import mlp
from trainart.regularize import (
    add_noise,
    augmented_loss,
    label_smoothing_loss,
    mixup,
    mixup_loss,
    random_rotate,
    random_shift,
)

F64 = torch.float64


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
