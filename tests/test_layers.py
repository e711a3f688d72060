"""trainart.layers: the layer protocol (Layer), Linear and Activation against torch modules
(float64, forward and autograd backward), finite differences, typed caches, modes, and
argument checks. (Dropout as a Layer: test_dropout.py; the registry: test_activations.py.)"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from trainart import activations, optim
from trainart.gradcheck import numerical_gradient
from trainart.layers import (
    Activation,
    ActivationCache,
    Layer,
    Linear,
    LinearCache,
    linear_backward,
    linear_forward,
)


def _torch_run(module, x, dout):
    xt = torch.tensor(x, requires_grad=True)
    out = module(xt)
    out.backward(torch.tensor(dout))
    return out.detach().numpy(), xt.grad.numpy()


@pytest.mark.parametrize("bias", [True, False])
def test_linear_equals_nn_linear(bias):
    rng = np.random.default_rng(0)
    layer = Linear(5, 3, bias=bias, rng=1)
    assert isinstance(layer, Layer) and layer.weight.shape == (3, 5)
    if bias:
        layer.bias[:] = rng.standard_normal(3)
    x, dout = rng.standard_normal((7, 5)), rng.standard_normal((7, 3))
    out = layer.forward(x)
    dx = layer.backward(dout)
    assert isinstance(layer.cache, LinearCache) and layer.cache.x is not None
    module = nn.Linear(5, 3, bias=bias, dtype=torch.float64)
    with torch.no_grad():
        module.weight.copy_(torch.from_numpy(layer.weight))
        if bias:
            module.bias.copy_(torch.from_numpy(layer.bias))
    t_out, t_dx = _torch_run(module, x, dout)
    np.testing.assert_allclose(out, t_out, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(dx, t_dx, rtol=1e-13, atol=1e-15)
    t_grads = [p.grad.numpy() for p in module.parameters()]
    assert layer.names == [n for n, _ in module.named_parameters()]
    for g, gt in zip(layer.grads, t_grads, strict=True):
        np.testing.assert_allclose(g, gt, rtol=1e-13, atol=1e-15)


def test_linear_init_bounds_seeds_and_from_weights():
    a, b = Linear(400, 30, rng=3), Linear(400, 30, rng=3)
    np.testing.assert_array_equal(a.weight, b.weight)
    bound = 1 / np.sqrt(400)  # torch's default U(-1/sqrt(fan_in), 1/sqrt(fan_in))
    for p in a.params:
        assert p.dtype == np.float64 and p.max() <= bound and p.min() >= -bound
    assert a.weight.max() > 0.99 * bound
    W, bias = np.ones((2, 3)), np.zeros(2)
    layer = Linear.from_weights(W, bias)
    assert layer.params[0] is W and layer.params[1] is bias  # the arrays themselves
    assert (layer.in_features, layer.out_features) == (3, 2)
    assert repr(layer) == "Linear(in_features=3, out_features=2, bias=True)"
    # an optimizer updates the layer through its params
    layer.forward(np.ones((4, 3)))
    layer.backward(np.ones((4, 2)))
    optim.SGD(dict(zip(layer.names, layer.params)), lr=0.5).step(layer.grads)
    np.testing.assert_array_equal(W, 1 - 0.5 * 4 * np.ones((2, 3)))


def test_linear_backward_passes_the_gradient_check():
    rng = np.random.default_rng(2)
    layer = Linear(4, 3, rng=0)
    x, dout = rng.standard_normal((5, 4)), rng.standard_normal((5, 3))
    layer.forward(x)
    dx = layer.backward(dout)

    def loss():
        return float(np.sum(layer.forward(x) * dout))

    for p, g in zip(layer.params, layer.grads):
        np.testing.assert_allclose(g, numerical_gradient(loss, p), rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(dx, numerical_gradient(loss, x), rtol=1e-7, atol=1e-9)
    # the function pair underneath keeps its signature and returns the typed cache
    out, cache = linear_forward(x, layer.weight, layer.bias)
    assert isinstance(cache, LinearCache)
    np.testing.assert_array_equal(linear_backward(dout, cache)[0], dx)


CASES = [("relu", {}), ("tanh", {}), ("sigmoid", {}), ("leaky_relu", {}),
         ("leaky_relu", {"negative_slope": 0.2}), ("elu", {"alpha": 1.5}), ("gelu", {}),
         ("gelu", {"approximate": "tanh"}), ("identity", {})]


@pytest.mark.parametrize("name, kwargs", CASES, ids=[f"{n}-{k}" for n, k in CASES])
def test_activation_layer_equals_its_torch_module(name, kwargs):
    rng = np.random.default_rng(1)
    x = 3 * rng.standard_normal((6, 5))
    x[0, :3] = [0.0, 40.0, -40.0]
    dout = rng.standard_normal(x.shape)
    layer = Activation(name, **kwargs)
    out = layer.forward(x)
    dx = layer.backward(dout)
    assert isinstance(layer.cache, ActivationCache) and layer.cache.name == name
    assert layer.params == layer.names == layer.grads == []
    module = layer.to_torch()
    entry = activations.REGISTRY[name]
    assert type(module).__name__ == entry.torch_name
    t_out, t_dx = _torch_run(module, x, dout)
    np.testing.assert_allclose(out, t_out, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(dx, t_dx, rtol=1e-13, atol=1e-15)
    # and the registry's torch module with its defaults is the torch default
    default = activations.torch_module(name)
    assert repr(default) == repr(getattr(nn, entry.torch_name)())


def test_layer_modes_caches_and_errors():
    layer = Activation("tanh")
    with pytest.raises(RuntimeError, match="Activation.backward: call forward first"):
        layer.backward(np.zeros(2))
    assert layer.training and layer.eval() is layer and not layer.training
    with pytest.raises(TypeError, match="Activation.forward: training must be True, False"):
        layer.forward(np.zeros(2), training=1)
    with pytest.raises(TypeError, match="Activation.train: mode must be True or False"):
        layer.train("no")
    with pytest.raises(ValueError, match="Activation: unknown activation name 'swish'"):
        Activation("swish")
    with pytest.raises(TypeError, match=r"Activation: 'relu' takes the keyword arguments"):
        Activation("relu", negative_slope=0.1)
    assert repr(Activation("elu", alpha=2.0)) == "Activation('elu', alpha=2.0)"
    with pytest.raises(ValueError, match="Linear: in_features must be an integer >= 1"):
        Linear(0, 2)
    with pytest.raises(ValueError, match="Linear: out_features"):
        Linear(2, np.int64(-1))
    assert Linear(np.int64(2), 3).weight.shape == (3, 2)
    with pytest.raises(TypeError, match="Linear.from_weights: weight must be a float64"):
        Linear.from_weights(np.ones((2, 2), dtype=np.float32))
    with pytest.raises(ValueError, match=r"Linear.from_weights: bias must have shape \(2,\)"):
        Linear.from_weights(np.ones((2, 2)), np.zeros(3))
    with pytest.raises(RuntimeError, match="Linear.backward: call forward first"):
        Linear(2, 2).backward(np.zeros((1, 2)))
