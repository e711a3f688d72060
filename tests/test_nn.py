"""Tests of trainart.nn: the linear layer and the NumPy MLP against torch autograd (float64)
and centred finite differences; seeding, initialization and argument checks; training."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from trainart import data, init, optim
from trainart.dropout import Dropout
from trainart.gradcheck import numerical_gradient
from trainart.nn import MLP, linear_backward, linear_forward
from trainart.norm import BatchNorm

ACTIVATIONS = ["sigmoid", "tanh", "relu", "leaky_relu", "elu", "gelu", "identity"]
TORCH_MODULES = {"sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "relu": nn.ReLU,
                 "leaky_relu": nn.LeakyReLU, "elu": nn.ELU, "gelu": nn.GELU,
                 "identity": nn.Identity}


def _torch_twin(net: MLP) -> nn.Sequential:
    """An independent torch build of ``net`` (float64, the same weights), not to_torch()."""
    layers = []
    for k, (fan_in, fan_out) in enumerate(zip(net.sizes[:-1], net.sizes[1:])):
        linear = nn.Linear(fan_in, fan_out, bias=net.bias, dtype=torch.float64)
        with torch.no_grad():
            linear.weight.copy_(torch.tensor(net.weights[k]))
            if net.bias:
                linear.bias.copy_(torch.tensor(net.biases[k]))
        layers.append(linear)
        if k < len(net.sizes) - 2:
            layers.append(TORCH_MODULES[net.activation]())
    return nn.Sequential(*layers)


def _batch(seed: int, n: int, d: int, C: int):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, d)), rng.integers(0, C, n), rng


# ---------------------------------------------------------------------------------------
# linear layer
# ---------------------------------------------------------------------------------------


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 9), d_in=st.integers(1, 7),
       d_out=st.integers(1, 7), bias=st.booleans())
def test_linear_equals_torch_autograd(seed, n, d_in, d_out, bias):
    rng = np.random.default_rng(seed)
    x, W = rng.standard_normal((n, d_in)), rng.standard_normal((d_out, d_in))
    b = rng.standard_normal(d_out) if bias else None
    dout = rng.standard_normal((n, d_out))
    out, cache = linear_forward(x, W, b)
    dx, dW, db = linear_backward(dout, cache)

    xt = torch.tensor(x, requires_grad=True)
    Wt = torch.tensor(W, requires_grad=True)
    bt = torch.tensor(b, requires_grad=True) if bias else None
    ot = F.linear(xt, Wt, bt)
    ot.backward(torch.tensor(dout))
    np.testing.assert_allclose(out, ot.detach().numpy(), rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(dW, Wt.grad.numpy(), rtol=1e-12, atol=1e-13)
    if bias:
        np.testing.assert_allclose(db, bt.grad.numpy(), rtol=1e-12, atol=1e-13)
    else:
        assert db is None


def test_linear_backward_equals_centred_differences():
    rng = np.random.default_rng(3)
    x, W, b = rng.standard_normal((5, 4)), rng.standard_normal((3, 4)), rng.standard_normal(3)
    dout = rng.standard_normal((5, 3))

    def f():  # a scalar whose gradient with respect to the output is dout
        return float(np.sum(linear_forward(x, W, b)[0] * dout))

    dx, dW, db = linear_backward(dout, linear_forward(x, W, b)[1])
    for analytic, arr in ((dx, x), (dW, W), (db, b)):
        np.testing.assert_allclose(analytic, numerical_gradient(f, arr), rtol=1e-7, atol=1e-9)


def test_linear_bad_shapes_raise():
    with pytest.raises(ValueError, match="linear_forward: x"):
        linear_forward(np.zeros((2, 3)), np.zeros((4, 5)), np.zeros(4))
    with pytest.raises(ValueError, match="linear_forward: b"):
        linear_forward(np.zeros((2, 5)), np.zeros((4, 5)), np.zeros(5))
    with pytest.raises(ValueError, match="linear_forward: W"):
        linear_forward(np.zeros((2, 5)), np.zeros(5), None)
    _, cache = linear_forward(np.zeros((2, 5)), np.zeros((4, 5)), np.zeros(4))
    with pytest.raises(ValueError, match="linear_backward: dout"):
        linear_backward(np.zeros((2, 5)), cache)


# ---------------------------------------------------------------------------------------
# MLP against torch
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_mlp_loss_and_grads_equal_torch(activation, bias):
    X, y, rng = _batch(11, n=17, d=6, C=4)
    net = MLP([6, 8, 7, 5, 4], activation=activation, init="xavier_normal", seed=2, bias=bias)
    for b in net.biases:  # non-zero biases exercise db and the bias path
        b[:] = 0.3 * rng.standard_normal(b.shape)
    loss, grads = net.loss_and_grads(X, y)

    model = _torch_twin(net)
    hidden = []

    def keep(module, inputs, output):  # nn.Identity's output is the Linear's output tensor
        output.retain_grad()
        hidden.append(output)

    handles = [m.register_forward_hook(keep) for m in model if not isinstance(m, nn.Linear)]
    lt = F.cross_entropy(model(torch.tensor(X)), torch.tensor(y))
    lt.backward()
    for h in handles:
        h.remove()

    np.testing.assert_allclose(loss, lt.item(), rtol=1e-12)
    torch_grads = [p.grad.numpy() for p in model.parameters()]
    assert len(grads) == len(torch_grads) == len(net.params) == (8 if bias else 4)
    for name, g, gt in zip(net.names, grads, torch_grads):
        assert g.shape == gt.shape, name
        np.testing.assert_allclose(g, gt, rtol=1e-10, atol=1e-14, err_msg=name)
    assert len(net.activations) == len(net.activation_grads) == len(hidden) == 3
    for h, g, ht in zip(net.activations, net.activation_grads, hidden):
        np.testing.assert_allclose(h, ht.detach().numpy(), rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(g, ht.grad.numpy(), rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("activation", ["tanh", "relu", "gelu"])
def test_to_torch_computes_the_same_network(activation):
    X, y, _ = _batch(5, n=9, d=4, C=3)
    net = MLP([4, 6, 3], activation=activation, seed=1)
    model = net.to_torch()
    assert all(p.dtype == torch.float64 for p in model.parameters())
    with torch.no_grad():
        np.testing.assert_allclose(model(torch.tensor(X)).numpy(), net.forward(X),
                                   rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(_torch_twin(net)(torch.tensor(X)).numpy(), net.forward(X),
                                   rtol=1e-12, atol=1e-14)
    next(model.parameters()).data += 1.0  # copies: changing the twin leaves the net alone
    assert not np.any(net.weights[0] == next(model.parameters()).detach().numpy())


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_mlp_grads_equal_centred_finite_differences(activation):
    X, y, rng = _batch(4, n=6, d=3, C=3)
    net = MLP([3, 5, 4, 3], activation=activation, init="xavier_normal", seed=8)
    for b in net.biases:
        b[:] = 0.2 * rng.standard_normal(b.shape)
    _, grads = net.loss_and_grads(X, y)
    for name, p, g in zip(net.names, net.params, grads):
        numeric = numerical_gradient(lambda: net.loss(X, y), p)
        np.testing.assert_allclose(g, numeric, rtol=1e-6, atol=1e-9, err_msg=name)


def test_preactivation_grads_are_chain_rule_of_activation_grads():
    X, y, _ = _batch(2, n=5, d=4, C=3)
    net = MLP([4, 6, 6, 3], activation="tanh", init="xavier_normal", seed=0)
    net.loss_and_grads(X, y)
    for h, dh, dz in zip(net.activations, net.activation_grads, net.preactivation_grads):
        np.testing.assert_allclose(dz, dh * (1 - h**2), rtol=1e-13, atol=1e-16)


# ---------------------------------------------------------------------------------------
# MLP with batch norm and dropout against its torch twin
# ---------------------------------------------------------------------------------------


def _feed_numpy_masks(model: nn.Sequential, net: MLP) -> list:
    """Forward hooks that make each ``nn.Dropout`` of ``model`` (in training mode) use the
    mask the matching NumPy ``Dropout`` of ``net`` drew in its last forward: the output is
    replaced by ``x * mask / (1 - p)``, which is what ``F.dropout`` computes for that mask,
    so autograd differentiates through the NumPy masks."""
    np_dropouts = [layer for layer in net.layers if isinstance(layer, Dropout)]
    t_dropouts = [m for m in model if isinstance(m, nn.Dropout)]
    assert len(np_dropouts) == len(t_dropouts)

    def hook_for(layer):
        def hook(module, inputs, output):
            if module.training:
                return inputs[0] * (torch.from_numpy(layer.mask) / (1.0 - module.p))
            return None
        return hook

    return [m.register_forward_hook(hook_for(layer))
            for m, layer in zip(t_dropouts, np_dropouts)]


def _bn_buffers(net: MLP, model: nn.Sequential):
    ours = [(layer.running_mean, layer.running_var) for layer in net.layers
            if isinstance(layer, BatchNorm)]
    theirs = [(m.running_mean.numpy(), m.running_var.numpy()) for m in model
              if isinstance(m, nn.BatchNorm1d)]
    return ours, theirs


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("dropout", [0.0, 0.3])
@pytest.mark.parametrize("activation", ["relu", "tanh", "gelu", "leaky_relu"])
def test_mlp_with_batchnorm_and_dropout_equals_its_torch_twin(activation, dropout, bias):
    """Five SGD steps in training mode (batch statistics, fresh dropout masks each step: the
    NumPy masks fed to torch), then the loss and gradients in eval mode (running statistics,
    no dropout): the losses, every gradient, every parameter and the running statistics
    agree to 1e-10 along the whole trajectory."""
    X, y, rng = _batch(21, n=16, d=6, C=4)
    net = MLP([6, 8, 7, 4], activation=activation, init="xavier_normal", seed=4, bias=bias,
              batchnorm=True, dropout=dropout)
    model = net.to_torch()
    kinds = [type(m).__name__ for m in model]
    act = {"relu": "ReLU", "tanh": "Tanh", "gelu": "GELU", "leaky_relu": "LeakyReLU"}[activation]
    hidden = ["Linear", "BatchNorm1d", act] + (["Dropout"] if dropout else [])
    assert kinds == hidden * 2 + ["Linear"]
    assert model.training and all(p.dtype == torch.float64 for p in model.parameters())
    t_params = list(model.parameters())
    assert len(t_params) == len(net.params) == (4 if bias else 3) * 2 + (2 if bias else 1)
    handles = _feed_numpy_masks(model, net)
    Xt, yt = torch.tensor(X), torch.tensor(y)
    lr = 0.1
    for step in range(6):
        training = step < 5
        net.train(training)
        model.train(training)
        loss, grads = net.loss_and_grads(X, y)
        for p in t_params:
            p.grad = None
        lt = F.cross_entropy(model(Xt), yt)
        lt.backward()
        np.testing.assert_allclose(loss, lt.item(), rtol=1e-10, atol=1e-12,
                                   err_msg=f"step {step}")
        for name, g, p in zip(net.names, grads, t_params, strict=True):
            np.testing.assert_allclose(g, p.grad.numpy(), rtol=1e-10, atol=1e-12,
                                       err_msg=f"{name}, step {step}")
        if dropout and training:  # the masks really dropped units (and differ per step)
            masks = [layer.mask for layer in net.layers if isinstance(layer, Dropout)]
            assert all(0 < m.mean() < 1 for m in masks)
        for p, g in zip(net.params, grads):
            p -= lr * g
        with torch.no_grad():
            for p in t_params:
                p -= lr * p.grad
        for name, p, pt in zip(net.names, net.params, t_params):
            np.testing.assert_allclose(p, pt.detach().numpy(), rtol=1e-10, atol=1e-12,
                                       err_msg=f"{name} after step {step}")
        ours, theirs = _bn_buffers(net, model)
        for (m, v), (mt, vt) in zip(ours, theirs, strict=True):
            np.testing.assert_allclose(m, mt, rtol=1e-10, atol=1e-12)
            np.testing.assert_allclose(v, vt, rtol=1e-10, atol=1e-12)
    for h in handles:
        h.remove()
    # the running statistics moved away from their start (0, 1): five updates happened
    ours, _ = _bn_buffers(net, model)
    assert all(np.abs(m).max() > 1e-3 and np.abs(v - 1).max() > 1e-3 for m, v in ours)
    # a twin built now, from the trained net, starts where the trained twin is
    again = net.to_torch()
    assert not again.training
    with torch.no_grad():
        np.testing.assert_allclose(again(Xt).numpy(), model(Xt).detach().numpy(),
                                   rtol=1e-12, atol=1e-14)


def test_mlp_with_dropout_in_training_equals_the_masked_network_by_finite_differences():
    """With the masks held fixed (each Dropout given its last mask), the backward pass of
    the batch-norm + dropout network in training mode matches centred differences."""
    X, y, _ = _batch(3, n=7, d=4, C=3)
    net = MLP([4, 6, 5, 3], activation="tanh", init="xavier_normal", seed=1, batchnorm=True,
              dropout=0.4)
    _, grads = net.loss_and_grads(X, y)
    dropouts = [layer for layer in net.layers if isinstance(layer, Dropout)]
    masks = [d.mask for d in dropouts]
    for d, m in zip(dropouts, masks):  # the same masks in every forward below
        d.forward = (lambda layer, mask: lambda x, training=None: Dropout.forward(
            layer, x, training, mask=mask))(d, m)
    for name, p, g in zip(net.names, net.params, grads):
        numeric = numerical_gradient(lambda: net.loss(X, y), p)
        np.testing.assert_allclose(g, numeric, rtol=1e-6, atol=1e-9, err_msg=name)


def test_mlp_layers_modes_and_seeds():
    plain = MLP([5, 6, 6, 3], activation="tanh", init="xavier_normal", seed=7)
    net = MLP([5, 6, 6, 3], activation="tanh", init="xavier_normal", seed=7, batchnorm=True,
              dropout=0.5)
    # the same weights with or without the extra layers, and the same draws as before
    for W, Wp in zip(net.weights, plain.weights, strict=True):
        np.testing.assert_array_equal(W, Wp)
    assert [type(layer).__name__ for layer in net.layers] == [
        "Linear", "BatchNorm", "Activation", "Dropout"] * 2 + ["Linear"]
    assert net.names == ["layer1.weight", "layer1.bias", "bn1.weight", "bn1.bias",
                         "layer2.weight", "layer2.bias", "bn2.weight", "bn2.bias",
                         "layer3.weight", "layer3.bias"]
    assert net.params is net.params and net.params[2] is net.layers[1].params[0]
    assert "batchnorm=True, dropout=0.5" in repr(net)
    # two networks with the same seed draw the same dropout masks
    twin = MLP([5, 6, 6, 3], activation="tanh", init="xavier_normal", seed=7, batchnorm=True,
               dropout=0.5)
    X, y, _ = _batch(0, n=8, d=5, C=3)
    np.testing.assert_array_equal(net.forward(X), twin.forward(X))
    # eval(): every layer follows; a training= override leaves the modes alone
    net.eval()
    assert not net.training and not any(layer.training for layer in net.layers)
    bn = net.layers[1]
    before = bn.running_mean.copy()
    out = net.forward(X)
    np.testing.assert_array_equal(net.forward(X), out)  # deterministic in eval mode
    net.forward(X, training=True)
    assert not net.training and not any(layer.training for layer in net.layers)
    assert not np.array_equal(bn.running_mean, before)  # the training call updated them
    net.train()
    assert all(layer.training for layer in net.layers)
    before = bn.running_mean.copy()
    net.predict(X)  # predict evaluates: no dropout, no update of the running statistics
    np.testing.assert_array_equal(bn.running_mean, before)
    assert net.training
    with pytest.raises(TypeError, match="MLP.forward: training must be True, False or None"):
        net.forward(X, training="yes")
    with pytest.raises(ValueError, match=r"MLP: dropout must be in \[0, 1\)"):
        MLP([3, 2], dropout=1.0)
    with pytest.raises(TypeError, match="MLP: batchnorm must be True or False"):
        MLP([3, 2], batchnorm="yes")


# ---------------------------------------------------------------------------------------
# construction, seeds, init
# ---------------------------------------------------------------------------------------


def test_params_names_shapes_and_zero_biases():
    net = MLP([7, 5, 3], seed=0)
    assert net.names == ["layer1.weight", "layer1.bias", "layer2.weight", "layer2.bias"]
    assert [p.shape for p in net.params] == [(5, 7), (5,), (3, 5), (3,)]
    assert all(p.dtype == np.float64 and p.flags.writeable for p in net.params)
    assert net.params[0] is net.weights[0] and net.params[1] is net.biases[0]
    assert all(np.all(b == 0) for b in net.biases)
    assert net.n_layers == 2
    nobias = MLP([7, 5, 3], bias=False)
    assert nobias.names == ["layer1.weight", "layer2.weight"] and nobias.biases == []
    assert "MLP([7, 5, 3]" in repr(net)


def test_same_seed_same_weights_and_schemes_drawn_in_layer_order():
    a = MLP([20, 30, 10], activation="tanh", init="xavier_uniform", seed=5)
    b = MLP([20, 30, 10], activation="tanh", init="xavier_uniform", seed=5)
    c = MLP([20, 30, 10], activation="tanh", init="xavier_uniform", seed=6)
    for pa, pb in zip(a.params, b.params):
        np.testing.assert_array_equal(pa, pb)
    assert not np.array_equal(a.weights[0], c.weights[0])
    rng = np.random.default_rng(5)  # one generator, layer by layer
    np.testing.assert_array_equal(a.weights[0], init.xavier_uniform((30, 20), rng=rng))
    np.testing.assert_array_equal(a.weights[1], init.xavier_uniform((10, 30), rng=rng))


def test_init_std_kwargs_float_and_callable():
    shape = (400, 300)
    kaiming = MLP([300, 400, 2], init="kaiming_normal", seed=0)
    np.testing.assert_allclose(kaiming.weights[0].std(), np.sqrt(2 / 300), rtol=0.02)
    tanh_gain = MLP([300, 400, 2], init="kaiming_normal", seed=0,
                    init_kwargs={"nonlinearity": "tanh"})
    np.testing.assert_allclose(tanh_gain.weights[0].std(), 5 / 3 / np.sqrt(300), rtol=0.02)
    by_std = MLP([300, 400, 2], init=0.05, seed=0)
    np.testing.assert_allclose(by_std.weights[0].std(), 0.05, rtol=0.02)
    normal = MLP([300, 400, 2], init="normal", init_kwargs={"std": 0.05}, seed=0)
    np.testing.assert_array_equal(normal.weights[0], by_std.weights[0])
    zeros = MLP([300, 400, 2], init="zeros")
    assert not np.any(zeros.weights[0])

    seen = []

    def fives(shape, rng):
        seen.append(shape)
        assert isinstance(rng, np.random.Generator)
        return np.full(shape, 5.0, dtype=np.float32)

    custom = MLP([3, 4, 2], init=fives)
    assert seen == [(4, 3), (2, 4)]
    assert custom.weights[0].dtype == np.float64 and np.all(custom.weights[0] == 5.0)
    via_module = MLP([300, 400, 2], init=init.lecun_normal, seed=0)
    np.testing.assert_allclose(via_module.weights[0].std(), 1 / np.sqrt(shape[1]), rtol=0.02)


@pytest.mark.parametrize("sizes", [[], [5], [5, 0, 2], [5, 2.0, 3], [5, True, 3], 7, [5, -1]])
def test_bad_sizes_raise(sizes):
    with pytest.raises(ValueError, match="MLP: sizes"):
        MLP(sizes)


def test_bad_activation_init_and_inputs_raise():
    with pytest.raises(ValueError, match="MLP: activation"):
        MLP([3, 2], activation="softplus")
    with pytest.raises(ValueError, match="MLP: activation"):
        MLP([3, 2], activation=None)
    with pytest.raises(ValueError, match="MLP: init"):
        MLP([3, 2], init="glorot")
    with pytest.raises(ValueError, match="MLP: init"):
        MLP([3, 2], init=-0.1)
    with pytest.raises(ValueError, match="MLP: init"):
        MLP([3, 2], init=True)
    with pytest.raises(ValueError, match="MLP: init_kwargs"):
        MLP([3, 2], init=0.1, init_kwargs={"std": 2.0})
    with pytest.raises(ValueError, match="MLP: init returned shape"):
        MLP([3, 2], init=lambda shape, rng: np.zeros(shape[::-1]))
    with pytest.raises(ValueError, match="MLP: init returned non-finite"):
        MLP([3, 2], init=lambda shape, rng: np.full(shape, np.nan))
    net = MLP([3, 2])
    with pytest.raises(RuntimeError, match="MLP.backward"):
        net.backward(np.zeros((1, 2)))
    with pytest.raises(ValueError, match=r"MLP.forward: X must have shape \(n, 3\)"):
        net.forward(np.zeros((4, 2)))
    net.forward(np.zeros((4, 3)))
    with pytest.raises(ValueError, match="MLP.backward: dlogits"):
        net.backward(np.zeros((3, 2)))


def test_single_layer_is_softmax_regression():
    X, y, _ = _batch(0, n=10, d=4, C=3)
    net = MLP([4, 3], seed=0)
    loss, (dW, db) = net.loss_and_grads(X, y)
    assert net.activations == [] and net.activation_grads == []
    Wt = torch.tensor(net.weights[0], requires_grad=True)
    lt = F.cross_entropy(torch.tensor(X) @ Wt.T, torch.tensor(y))
    lt.backward()
    np.testing.assert_allclose(dW, Wt.grad.numpy(), rtol=1e-12, atol=1e-15)


# ---------------------------------------------------------------------------------------
# training
# ---------------------------------------------------------------------------------------


def test_sgd_trains_on_mnist5k():
    d = data.load_mnist5k()
    net = MLP([784, 128, 10], activation="relu", init="kaiming_normal", seed=0)
    first = [p.copy() for p in net.params]
    opt = optim.SGD(dict(zip(net.names, net.params)), lr=0.05, momentum=0.9)
    rng = np.random.default_rng(0)
    for _ in range(2):
        for idx in data.minibatches(len(d.y_train), 64, rng):
            opt.step(net.loss_and_grads(d.X_train[idx], d.y_train[idx])[1])
    assert all(p is q for p, q in zip(opt.params, net.params))  # updated in place
    assert not np.array_equal(first[0], net.params[0])
    acc = net.accuracy(d.X_test, d.y_test)
    assert acc > 0.8, acc
    assert net.predict(d.X_test).shape == (1000,)
