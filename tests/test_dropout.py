"""Dropout: statistics and exact values against torch, the backward mask, modes, errors."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from trainart.dropout import (
    Dropout,
    DropoutCache,
    dropout_backward,
    dropout_forward,
    mc_dropout_predict,
)
from trainart.gradcheck import numerical_gradient, relative_error
from trainart.layers import Layer

N = 1_000_000                       # elements for the statistical tests
PS = [0.1, 0.25, 0.5, 0.75, 0.9]
SIGMAS = 6.0                        # binomial / CLT tolerance: a false alarm is ~1e-9


def _x(n=N, seed=0):
    """Continuous, nonzero entries (so ``out != 0`` recovers the keep mask), mean near 1."""
    return 1.0 + np.random.default_rng(seed).normal(size=n)


def _torch_dropout(x, p, dout=None, seed=0):
    """torch's output, its keep mask (read off the output) and, given ``dout``, its gradient."""
    torch.manual_seed(seed)
    t = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    out = F.dropout(t, p=p, training=True)
    grad = None
    if dout is not None:
        out.backward(torch.tensor(dout, dtype=torch.float64))
        grad = t.grad.numpy()
    out = out.detach().numpy()
    return out, (out != 0).astype(np.float64), grad


# ------------------------------------------------------------------------- statistics

@pytest.mark.parametrize("p", PS)
def test_fraction_dropped_is_p_like_torchs(p):
    x = _x()
    tol = SIGMAS * math.sqrt(p * (1 - p) / N)
    _, cache = dropout_forward(x, p, rng=1)
    _, t_mask, _ = _torch_dropout(x, p)
    assert abs((1 - cache.mask.mean()) - p) < tol
    assert abs((1 - t_mask.mean()) - p) < tol


@pytest.mark.parametrize("p", PS)
def test_survivors_are_scaled_by_exactly_one_over_keep_like_torchs(p):
    x = _x(10_000)
    out, cache = dropout_forward(x, p, rng=2)
    keep = cache.mask == 1
    assert 0 < keep.sum() < x.size
    np.testing.assert_array_equal(out[keep], x[keep] * (1.0 / (1.0 - p)))
    np.testing.assert_array_equal(out[~keep], 0.0)
    t_out, t_mask, _ = _torch_dropout(x, p)
    t_keep = t_mask == 1
    np.testing.assert_array_equal(t_out[t_keep], x[t_keep] * (1.0 / (1.0 - p)))


@pytest.mark.parametrize("p", PS)
def test_expectation_is_preserved(p):
    x = _x()
    # Var(x m / (1-p)) = E[x^2] / (1-p) - E[x]^2 per entry; the mean of N has 1/N of it.
    var = (np.mean(x ** 2) / (1 - p) - np.mean(x) ** 2) / N
    tol = SIGMAS * math.sqrt(var)
    out, _ = dropout_forward(x, p, rng=3)
    t_out, _, _ = _torch_dropout(x, p)
    assert abs(out.mean() - x.mean()) < tol
    assert abs(t_out.mean() - x.mean()) < tol


# ----------------------------------------------------------------------- exact parity

@pytest.mark.parametrize("p", PS)
def test_torchs_own_mask_reproduces_its_output_and_gradient_exactly(p):
    rng = np.random.default_rng(4)
    x, dout = _x(5_000, seed=5), rng.normal(size=5_000)
    t_out, t_mask, t_dx = _torch_dropout(x, p, dout, seed=6)
    out, cache = dropout_forward(x, p, mask=t_mask)
    np.testing.assert_array_equal(out, t_out)
    np.testing.assert_array_equal(dropout_backward(dout, cache), t_dx)


@pytest.mark.parametrize("mode", ["inverted", "classic"])
@pytest.mark.parametrize("p", PS)
def test_backward_uses_the_forward_mask_exactly(p, mode):
    rng = np.random.default_rng(7)
    x, dout = rng.normal(size=(40, 50)), rng.normal(size=(40, 50))
    out, cache = dropout_forward(x, p, rng=8, mode=mode)
    dx = dropout_backward(dout, cache)
    scale = 1.0 / (1.0 - p) if mode == "inverted" else 1.0
    np.testing.assert_array_equal(dx, dout * (cache.mask * scale))
    np.testing.assert_array_equal(dx == 0, cache.mask == 0)
    np.testing.assert_array_equal(out == 0, cache.mask == 0)


def test_eval_mode_equals_torchs():
    x = _x(1000)
    t_out = F.dropout(torch.tensor(x), p=0.3, training=False).numpy()
    out, _ = dropout_forward(x, 0.3, training=False)
    np.testing.assert_array_equal(out, t_out)


# ----------------------------------------------------------------------- modes and p=0

@pytest.mark.parametrize("mode", ["inverted", "classic"])
@pytest.mark.parametrize("training", [True, False])
def test_p_zero_is_the_identity_and_draws_nothing(mode, training):
    x = np.random.default_rng(9).normal(size=(7, 11))
    gen = np.random.default_rng(10)
    before = gen.bit_generator.state
    out, cache = dropout_forward(x, 0.0, training, gen, mode)
    np.testing.assert_array_equal(out, x)
    np.testing.assert_array_equal(dropout_backward(x[::-1], cache), x[::-1])
    assert gen.bit_generator.state == before
    assert np.array_equal(F.dropout(torch.tensor(x), p=0.0, training=training).numpy(), x)


@pytest.mark.parametrize("p", [0.2, 0.5, 0.8])
def test_eval_mode_inverted_is_identity_classic_scales_by_keep(p):
    x = np.random.default_rng(11).normal(size=(5, 6))
    dout = np.random.default_rng(12).normal(size=(5, 6))
    out, cache = dropout_forward(x, p, training=False)
    np.testing.assert_array_equal(out, x)
    np.testing.assert_array_equal(dropout_backward(dout, cache), dout)
    out, cache = dropout_forward(x, p, training=False, mode="classic")
    np.testing.assert_array_equal(out, x * (1 - p))
    np.testing.assert_array_equal(dropout_backward(dout, cache), dout * (1 - p))
    assert cache.mask is None


@pytest.mark.parametrize("mode", ["inverted", "classic"])
@pytest.mark.parametrize("p", [0.2, 0.5, 0.8])
def test_test_time_output_is_the_expected_training_output(p, mode):
    # Both modes make the eval output the mean of the training output. For classic dropout
    # that is (1-p) x, the keep probability: the notes' "scale by p" is off unless p = 0.5.
    x = np.linspace(0.5, 2.0, 20)
    gen = np.random.default_rng(13)
    runs = 20_000
    mean = sum(dropout_forward(x, p, rng=gen, mode=mode)[0] for _ in range(runs)) / runs
    test, _ = dropout_forward(x, p, training=False, mode=mode)
    scale = 1.0 / (1 - p) if mode == "inverted" else 1.0
    tol = SIGMAS * x * scale * math.sqrt(p * (1 - p) / runs)
    assert np.all(np.abs(mean - test) < tol)
    if p != 0.5 and mode == "classic":
        assert np.all(np.abs(mean - p * x) > tol)


@pytest.mark.parametrize("p", [0.2, 0.5, 0.8])
def test_classic_and_inverted_are_one_network_with_rescaled_next_weights(p):
    # Classic dropout followed by W equals inverted dropout followed by (1-p) W, in training
    # (same mask) and at test time: the same model, only the constant has moved.
    rng = np.random.default_rng(14)
    x, W = rng.normal(size=(8, 30)), rng.normal(size=(30, 4))
    classic, cache = dropout_forward(x, p, rng=15, mode="classic")
    inverted, _ = dropout_forward(x, p, mask=cache.mask)
    np.testing.assert_allclose(classic @ W, inverted @ ((1 - p) * W), rtol=1e-12, atol=1e-12)
    classic_test = dropout_forward(x, p, training=False, mode="classic")[0]
    inverted_test = dropout_forward(x, p, training=False)[0]
    np.testing.assert_allclose(classic_test @ W, inverted_test @ ((1 - p) * W),
                               rtol=1e-12, atol=1e-12)


# ----------------------------------------------------------------------------- seeds

def test_seeded_masks_are_reproducible():
    x = np.ones((20, 30))
    a, b = dropout_forward(x, 0.5, rng=42)[1].mask, dropout_forward(x, 0.5, rng=42)[1].mask
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, dropout_forward(x, 0.5, rng=43)[1].mask)
    g1, g2 = np.random.default_rng(5), np.random.default_rng(5)
    first = dropout_forward(x, 0.5, rng=g1)[1].mask
    np.testing.assert_array_equal(first, dropout_forward(x, 0.5, rng=g2)[1].mask)
    assert not np.array_equal(first, dropout_forward(x, 0.5, rng=g1)[1].mask)  # g1 advanced


def test_layer_is_reproducible_from_its_seed_and_switches_modes():
    x = np.random.default_rng(16).normal(size=(10, 10))
    a, b = Dropout(0.3, seed=1), Dropout(0.3, seed=1)
    out_a1, out_b1 = a.forward(x), b(x)
    np.testing.assert_array_equal(out_a1, out_b1)
    np.testing.assert_array_equal(a.mask, b.mask)
    first_mask = a.mask.copy()
    out_a2 = a.forward(x)
    assert not np.array_equal(first_mask, a.mask)     # a new mask every forward
    np.testing.assert_array_equal(a.backward(x), x * (a.mask / 0.7))
    np.testing.assert_array_equal(out_a2, x * (a.mask / 0.7))
    assert a.eval() is a and not a.training
    np.testing.assert_array_equal(a.forward(x), x)
    assert a.mask is None
    np.testing.assert_array_equal(a.backward(x), x)
    assert a.train().training
    classic = Dropout(0.3, mode="classic").eval()
    np.testing.assert_array_equal(classic.forward(x), x * 0.7)


def test_float32_stays_float32():
    x = np.random.default_rng(17).normal(size=(50, 50)).astype(np.float32)
    for training in (True, False):
        for mode in ("inverted", "classic"):
            out, cache = dropout_forward(x, 0.3, training, 0, mode)
            assert out.dtype == dropout_backward(x, cache).dtype == np.float32
    out, cache = dropout_forward(np.arange(6).reshape(2, 3), 0.5, rng=0)
    assert out.dtype == np.float64


# ---------------------------------------------------------------------------- errors

@pytest.mark.parametrize("p", [-0.1, 1.0, 1.5, float("nan")])
def test_p_outside_unit_interval_raises(p):
    with pytest.raises(ValueError, match=r"dropout_forward: p must be in \[0, 1\)|"
                                         r"dropout_forward: p must be a number"):
        dropout_forward(np.ones(3), p)
    with pytest.raises(ValueError, match="Dropout: p"):
        Dropout(p)


def test_bad_arguments_raise_naming_them():
    x = np.ones((2, 3))
    with pytest.raises(ValueError,
                       match="dropout_forward: mode must be one of 'inverted', 'classic', "
                             "got 'keep'"):
        dropout_forward(x, 0.5, mode="keep")
    with pytest.raises(TypeError, match="dropout_forward: mode must be one of .* got int"):
        dropout_forward(x, 0.5, mode=1)
    with pytest.raises(ValueError, match="Dropout: mode"):
        Dropout(0.5, mode="Inverted")
    with pytest.raises(TypeError, match="dropout_forward: training"):
        dropout_forward(x, 0.5, np.random.default_rng(0))    # rng passed where training goes
    with pytest.raises(TypeError, match="dropout_forward: rng"):
        dropout_forward(x, 0.5, rng="seed")
    with pytest.raises(TypeError, match="dropout_forward: x"):
        dropout_forward(np.array(["a"]), 0.5)
    with pytest.raises(ValueError, match="dropout_forward: mask must have x's shape"):
        dropout_forward(x, 0.5, mask=np.ones(3))
    with pytest.raises(ValueError, match="dropout_forward: mask must hold only 0 and 1"):
        dropout_forward(x, 0.5, mask=np.full((2, 3), 2.0))
    with pytest.raises(ValueError, match="dropout_forward: mask is only used in training"):
        dropout_forward(x, 0.5, training=False, mask=np.ones((2, 3)))
    _, cache = dropout_forward(x, 0.5, rng=0)
    with pytest.raises(ValueError, match="dropout_backward: dout must have"):
        dropout_backward(np.ones(6), cache)
    with pytest.raises(TypeError, match="dropout_backward: cache"):
        dropout_backward(x, np.ones((2, 3)))
    with pytest.raises(RuntimeError, match="Dropout.backward: call forward first"):
        Dropout().backward(x)
    with pytest.raises(ValueError, match="mc_dropout_predict: n_samples"):
        mc_dropout_predict(lambda X: X, x, 0)


# ------------------------------------------------------------------------ properties

_floats = st.floats(-1e6, 1e6, allow_nan=False, width=64)


@settings(max_examples=60, deadline=None)
@given(x=arrays(np.float64, st.tuples(st.integers(1, 6), st.integers(1, 6)), elements=_floats),
       p=st.floats(0.0, 0.95), seed=st.integers(0, 2**32 - 1),
       mode=st.sampled_from(["inverted", "classic"]))
def test_each_unit_is_zeroed_or_scaled_and_backward_is_the_adjoint(x, p, seed, mode):
    out, cache = dropout_forward(x, p, rng=seed, mode=mode)
    assert isinstance(cache, DropoutCache) and out.shape == x.shape
    assert set(np.unique(cache.mask)) <= {0.0, 1.0}
    scale = 1.0 / (1.0 - p) if mode == "inverted" else 1.0
    np.testing.assert_array_equal(out, np.where(cache.mask == 1, x * scale, 0.0))
    # For a fixed mask dropout is a diagonal linear map D: <D x, g> == <x, D g>.
    g = np.random.default_rng(seed).normal(size=x.shape)
    dx = dropout_backward(g, cache)
    lhs, rhs = float(np.sum(out * g)), float(np.sum(x * dx))
    assert math.isclose(lhs, rhs, rel_tol=1e-9, abs_tol=1e-9 * (1 + np.sum(np.abs(x * dx))))
    # Eval mode is deterministic: identity (inverted) or the keep probability (classic).
    test, _ = dropout_forward(x, p, training=False, mode=mode)
    np.testing.assert_array_equal(test, x if mode == "inverted" else x * (1 - p))


@settings(max_examples=40, deadline=None)
@given(p=st.floats(0.0, 0.95), seed=st.integers(0, 2**32 - 1))
def test_dropping_is_monotone_in_p_for_a_shared_draw(p, seed):
    # With the same uniforms, a larger p keeps a subset of the units a smaller p keeps.
    x = np.ones(200)
    small = dropout_forward(x, p / 2, rng=seed)[1].mask
    large = dropout_forward(x, p, rng=seed)[1].mask
    assert np.all(large <= small)


# ------------------------------------------------------------------------ gradcheck

@pytest.mark.parametrize("mode", ["inverted", "classic"])
@pytest.mark.parametrize("training", [True, False])
def test_gradient_check_with_a_fixed_mask(mode, training):
    rng = np.random.default_rng(18)
    x, dout = rng.normal(size=(4, 5)), rng.normal(size=(4, 5))
    _, cache = dropout_forward(x, 0.4, training, 19, mode)
    dx = dropout_backward(dout, cache)
    fixed = {"mask": cache.mask} if training else {}

    def loss():
        return np.sum(dropout_forward(x, 0.4, training, mode=mode, **fixed)[0] * dout)

    num = numerical_gradient(loss, x)
    # the differences' rounding error is ~1e-10 absolute (as in test_activations)
    np.testing.assert_allclose(dx, num, rtol=1e-6, atol=1e-8)
    big = np.abs(dx) > 1e-2
    assert big.any() and relative_error(dx[big], num[big]) < 1e-7
    if training:                # a dropped unit does not move the loss at all
        assert (cache.mask == 0).any()
        np.testing.assert_array_equal(num[cache.mask == 0], 0.0)


# ----------------------------------------------------------------------- MC dropout

def test_mc_dropout_mean_approaches_the_eval_output_and_std_measures_the_noise():
    rng = np.random.default_rng(20)
    X, W = rng.normal(size=(5, 40)), rng.normal(size=(40, 3)) / 6
    layer = Dropout(0.5, seed=21)
    mean, std = mc_dropout_predict(lambda A: layer.forward(A) @ W, X, 4000)
    exact = layer.eval().forward(X) @ W
    assert mean.shape == std.shape == exact.shape
    # Per output: Var = sum_j x_j^2 W_j^2 p/(1-p), the variance of one pass.
    var = (X ** 2) @ (W ** 2) * (0.5 / 0.5)
    np.testing.assert_array_less(np.abs(mean - exact), SIGMAS * np.sqrt(var / 4000))
    np.testing.assert_allclose(std, np.sqrt(var), rtol=0.1)
    mean0, std0 = mc_dropout_predict(lambda A: Dropout(0.0).forward(A) @ W, X, 3)
    np.testing.assert_array_less(std0, 1e-12)   # identical passes: zero up to rounding
    np.testing.assert_allclose(mean0, X @ W, rtol=1e-14)


def test_dropout_is_a_layer_with_a_per_call_mode():
    x = np.ones((50, 40))
    layer = Dropout(0.5, seed=0)
    assert isinstance(layer, Layer) and layer.params == []
    out = layer.forward(x)
    assert isinstance(layer.cache, DropoutCache) and layer.cache.training
    np.testing.assert_array_equal(out, 2 * layer.mask)
    np.testing.assert_array_equal(layer.backward(np.ones_like(x)), 2 * layer.mask)
    layer.eval()
    np.testing.assert_array_equal(layer.forward(x), x)
    assert layer.mask is None
    out = layer.forward(x, training=True)  # this call only
    assert not layer.training and 0 < layer.mask.mean() < 1
    mask = np.zeros_like(x)
    mask[::2] = 1
    np.testing.assert_array_equal(layer.forward(x, training=True, mask=mask), 2 * mask)
    with pytest.raises(TypeError, match="Dropout.forward: training must be True, False"):
        layer.forward(x, training="yes")
    with pytest.raises(RuntimeError, match="Dropout.backward: call forward first"):
        Dropout(0.1).backward(x)
