"""Activation forward/backward pairs: parity with torch, gradient checks, properties, errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from trainart import activations
from trainart import activations as act
from trainart.gradcheck import numerical_gradient, relative_error

# (name, forward kwargs, the torch function with the same arguments)
CASES = [
    ("sigmoid", {}, torch.sigmoid),
    ("tanh", {}, torch.tanh),
    ("relu", {}, torch.relu),
    ("leaky_relu", {}, F.leaky_relu),
    ("leaky_relu", {"negative_slope": 0.2}, lambda t: F.leaky_relu(t, negative_slope=0.2)),
    ("elu", {}, F.elu),
    ("elu", {"alpha": 1.7}, lambda t: F.elu(t, alpha=1.7)),
    ("gelu", {}, F.gelu),
    ("gelu", {"approximate": "none"}, lambda t: F.gelu(t, approximate="none")),
    ("gelu", {"approximate": "tanh"}, lambda t: F.gelu(t, approximate="tanh")),
    ("identity", {}, lambda t: t * 1.0),
]
IDS = [f"{name}-{kw}" for name, kw, _ in CASES]

# Large magnitudes, exact zeros (the kinks) and tiny values next to the random ones.
SPECIAL = np.array([0.0, -0.0, 1e-12, -1e-12, 1e-3, -1e-3, 5.0, -5.0, 30.0, -30.0, 40.0,
                    -40.0, 100.0, -100.0, 709.0, -709.0, 750.0, -750.0, 1e3, -1e3, 1e4, -1e4,
                    0.5, -0.5])  # 24 entries: the inputs reshape to (-1, 2, 2)


def _inputs(seed=0):
    rng = np.random.default_rng(seed)
    return np.concatenate([rng.normal(size=400), 10.0 * rng.normal(size=200),
                           rng.uniform(-1e4, 1e4, size=100), SPECIAL]).reshape(-1, 2, 2)


def _torch(tfn, x, dout):
    t = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    out = tfn(t)
    out.backward(torch.tensor(dout, dtype=torch.float64))
    return out.detach().numpy(), t.grad.numpy()


@pytest.mark.parametrize("name, kwargs, tfn", CASES, ids=IDS)
def test_forward_and_backward_equal_torch(name, kwargs, tfn):
    x = _inputs()
    dout = np.random.default_rng(1).normal(size=x.shape)
    forward, backward = act.get(name)
    out, cache = forward(x, **kwargs)
    dx = backward(dout, cache)
    t_out, t_dx = _torch(tfn, x, dout)
    assert out.dtype == dx.dtype == np.float64
    assert out.shape == dx.shape == x.shape
    np.testing.assert_allclose(out, t_out, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(dx, t_dx, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name, kwargs, tfn", CASES, ids=IDS)
def test_derivative_at_zero_is_torchs(name, kwargs, tfn):
    forward, backward = act.get(name)
    x = np.zeros(3)
    _, t_dx = _torch(tfn, x, np.ones(3))
    np.testing.assert_array_equal(backward(np.ones(3), forward(x, **kwargs)[1]), t_dx)


def test_derivatives_at_zero_are_the_documented_ones():
    one, zero = np.ones(1), np.zeros(1)
    assert act.relu_backward(one, act.relu_forward(zero)[1])[0] == 0.0
    assert act.leaky_relu_backward(one, act.leaky_relu_forward(zero, 0.3)[1])[0] == 0.3
    assert act.elu_backward(one, act.elu_forward(zero, alpha=2.0)[1])[0] == 2.0


@pytest.mark.parametrize("name, kwargs, tfn", CASES, ids=IDS)
def test_backward_passes_the_gradient_check(name, kwargs, tfn):
    rng = np.random.default_rng(2)
    x = rng.uniform(-4.0, 4.0, size=(3, 4))
    x[np.abs(x) < 1e-3] = 0.5  # keep the centred differences away from the kinks at 0
    dout = rng.normal(size=x.shape)
    forward, backward = act.get(name)
    dx = backward(dout, forward(x, **kwargs)[1])
    num = numerical_gradient(lambda: np.sum(forward(x, **kwargs)[0] * dout), x)
    # the differences' rounding error is ~1e-10 absolute: an elementwise relative error would
    # blow up where a derivative is ~0 (tanh's tails, GELU's minimum), so check both ways
    np.testing.assert_allclose(dx, num, rtol=1e-6, atol=1e-8)
    assert relative_error(dx[np.abs(dx) > 1e-2], num[np.abs(dx) > 1e-2]) < 1e-7


def test_sigmoid_is_stable_for_huge_inputs():
    # warnings are errors in the test run: an overflowing exp would fail here
    x = np.array([-1e4, -1e3, -745.0, 745.0, 1e3, 1e4])
    out, cache = act.sigmoid_forward(x)
    assert np.all(np.isfinite(out))
    np.testing.assert_array_equal(out[[0, 1, -1, -2]], [0.0, 0.0, 1.0, 1.0])
    assert np.all(np.isfinite(act.sigmoid_backward(np.ones_like(x), cache)))
    # tiny outputs keep their relative precision: sigma(-700) = e^-700 / (1 + e^-700)
    np.testing.assert_allclose(act.sigmoid_forward(np.array([-700.0]))[0], np.exp(-700.0),
                               rtol=1e-13)


def test_float32_stays_float32_and_ints_become_float64():
    x32 = np.linspace(-3, 3, 7, dtype=np.float32)
    for name in act.ACTIVATIONS:
        forward, backward = act.get(name)
        out, cache = forward(x32)
        assert out.dtype == np.float32, name
        assert backward(np.ones_like(x32), cache).dtype == np.float32, name
    out, _ = act.relu_forward([-1, 2])
    assert out.dtype == np.float64
    np.testing.assert_array_equal(out, [0.0, 2.0])


finite = st.floats(-1e4, 1e4, allow_nan=False, width=64)
vectors = arrays(np.float64, st.integers(1, 20), elements=finite)


@settings(max_examples=100, deadline=None)
@given(vectors)
def test_sigmoid_lies_in_the_unit_interval(x):
    s, _ = act.sigmoid_forward(x)
    assert np.all((s >= 0) & (s <= 1))
    moderate = np.abs(x) <= 30  # beyond, 1 - sigma(x) is below float64's resolution near 1
    assert np.all((s[moderate] > 0) & (s[moderate] < 1))
    np.testing.assert_allclose(act.sigmoid_forward(-x)[0], 1.0 - s, atol=1e-15)


@settings(max_examples=100, deadline=None)
@given(vectors)
def test_relu_is_non_negative_and_its_derivative_is_zero_or_one(x):
    out, cache = act.relu_forward(x)
    assert np.all(out >= 0)
    np.testing.assert_array_equal(out, np.where(x > 0, x, 0.0))
    d = act.relu_backward(np.ones_like(x), cache)
    assert set(np.unique(d)) <= {0.0, 1.0}
    np.testing.assert_array_equal(d, (x > 0).astype(float))


@settings(max_examples=100, deadline=None)
@given(vectors)
def test_tanh_and_elu_ranges(x):
    t, _ = act.tanh_forward(x)
    assert np.all(np.abs(t) <= 1)
    e, _ = act.elu_forward(x, alpha=1.5)
    assert np.all(e >= -1.5)
    np.testing.assert_array_equal(e[x > 0], x[x > 0])


@settings(max_examples=100, deadline=None)
@given(vectors)
def test_gelu_lies_between_min_zero_and_relu(x):
    # x Phi(x) >= x for x < 0 up to its minimum ~ -0.17, and <= x for x > 0
    for approximate in ("none", "tanh"):
        g, _ = act.gelu_forward(x, approximate=approximate)
        assert np.all(g >= -0.1701)
        assert np.all(g <= np.maximum(x, 0.0) + 1e-12)


def test_get_returns_the_pairs_and_lists_names_for_an_unknown_one():
    assert set(act.ACTIVATIONS) == {"sigmoid", "tanh", "relu", "leaky_relu", "elu", "gelu",
                                    "identity"}
    assert act.get("relu") == (act.relu_forward, act.relu_backward)
    for name, pair in act.ACTIVATIONS.items():
        assert act.get(name) is pair
    with pytest.raises(ValueError, match=r"get: unknown activation name 'swish'.*sigmoid"):
        act.get("swish")
    with pytest.raises(ValueError, match="unknown activation"):
        act.get(None)


def test_bad_arguments_raise_naming_the_function_and_argument():
    with pytest.raises(ValueError, match="gelu_forward: approximate must be one of 'none', "
                                         "'tanh', got 'erf'"):
        act.gelu_forward(np.zeros(2), approximate="erf")
    with pytest.raises(TypeError, match="gelu_forward: approximate must be 'none' or 'tanh'"):
        act.gelu_forward(np.zeros(2), approximate=None)
    with pytest.raises(TypeError, match="elu_forward: alpha"):
        act.elu_forward(np.zeros(2), alpha="big")
    with pytest.raises(TypeError, match="leaky_relu_forward: negative_slope"):
        act.leaky_relu_forward(np.zeros(2), negative_slope=None)
    with pytest.raises(TypeError, match="sigmoid_forward: x"):
        act.sigmoid_forward(np.array(["a"]))
    _, cache = act.tanh_forward(np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"tanh_backward: dout must have .*\(2, 3\)"):
        act.tanh_backward(np.zeros(3), cache)


def test_the_registry_is_the_one_table():
    from trainart import diagnostics, models

    assert set(activations.REGISTRY) == set(activations.ACTIVATIONS)
    for name, entry in activations.REGISTRY.items():
        assert activations.get(name) == (entry.forward, entry.backward)
        assert set(entry.torch_kwargs) <= set(entry.forward.__code__.co_varnames)
        assert entry.saturates == (name in ("sigmoid", "tanh"))
        if name != "identity":
            assert diagnostics._TORCH_ACTIVATION_NAMES[entry.torch_name] == name
        net = models.mlp([3, 4, 2], activation=name)
        assert type(net[1]).__name__ == entry.torch_name
    with pytest.raises(ValueError, match="spec: unknown activation name 'swish'"):
        activations.spec("swish")


def test_one_stable_sigmoid():
    x = np.array([-1e4, -700.0, -40.0, -1.0, 0.0, 1.0, 40.0, 1e4])
    s, ds = activations.sigmoid_and_derivative(x)
    t = torch.tensor(x, requires_grad=True)
    torch.sigmoid(t).sum().backward()
    np.testing.assert_allclose(s, torch.sigmoid(torch.tensor(x)).numpy(), rtol=1e-15, atol=0)
    np.testing.assert_array_equal(activations.sigmoid(x), s)
    np.testing.assert_array_equal(activations.sigmoid_forward(x)[0], s)
    # e/(1+e)^2 keeps its digits where s(1-s) rounds to 0 (x = 40)
    np.testing.assert_allclose(ds[:6], t.grad.numpy()[:6], rtol=1e-14, atol=0)
    assert ds[6] == pytest.approx(np.exp(-40.0), rel=1e-14)
