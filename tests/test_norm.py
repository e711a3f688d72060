"""Normalization layers: parity with torch (values, gradients, running statistics over
several steps), gradient checks of every backward, edge cases, errors and properties."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from trainart import norm
from trainart.gradcheck import numerical_gradient
from trainart.optim import SGD

RTOL, ATOL = 1e-10, 1e-12


def close(a, b, rtol=RTOL, atol=ATOL):
    np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)


def _t(a, grad=False):
    return torch.tensor(np.asarray(a), dtype=torch.float64, requires_grad=grad)


def _set_affine(module, gamma, beta):
    with torch.no_grad():
        module.weight.copy_(_t(gamma))
        module.bias.copy_(_t(beta))


def _run_torch(module, x, dout):
    """Output, dx, dweight, dbias of a torch module (gradients zeroed first)."""
    module.zero_grad()
    xt = _t(x, grad=True)
    out = module(xt)
    out.backward(_t(dout))
    dw = None if module.weight is None else module.weight.grad.numpy().copy()
    db = None if module.bias is None else module.bias.grad.numpy().copy()
    return out.detach().numpy(), xt.grad.numpy(), dw, db


def _assert_same(ours, theirs):
    for a, b in zip(ours, theirs):
        if b is None:
            assert a is None
        else:
            assert a.shape == b.shape
            close(a, b)


# ---------------------------------------------------------------------------------------
# batch norm vs torch
# ---------------------------------------------------------------------------------------

BN_SHAPES = [(8, 3), (6, 4, 5), (4, 3, 5, 6)]


def _torch_bn(shape, momentum):
    cls = torch.nn.BatchNorm2d if len(shape) == 4 else torch.nn.BatchNorm1d
    return cls(shape[1], momentum=momentum).double()


@pytest.mark.parametrize("momentum", [0.1, 0.3])
@pytest.mark.parametrize("shape", BN_SHAPES, ids=str)
def test_batchnorm_equals_torch_over_several_steps_then_eval(shape, momentum):
    rng = np.random.default_rng(len(shape))
    C = shape[1]
    gamma, beta = rng.normal(size=C), rng.normal(size=C)
    running_mean, running_var = np.zeros(C), np.ones(C)
    tbn = _torch_bn(shape, momentum)
    _set_affine(tbn, gamma, beta)
    for step in range(4):  # different batches, with their own means and scales
        x = rng.normal(loc=3.0 * step - 2.0, scale=0.5 + step, size=shape)
        dout = rng.normal(size=shape)
        out, cache = norm.batchnorm_forward(x, gamma, beta, running_mean, running_var,
                                            training=True, momentum=momentum)
        ours = (out, *norm.batchnorm_backward(dout, cache))
        _assert_same(ours, _run_torch(tbn.train(), x, dout))
        close(running_mean, tbn.running_mean.numpy())
        close(running_var, tbn.running_var.numpy())
    assert not np.allclose(running_var, 1.0)  # the statistics did move

    x, dout = rng.normal(size=shape), rng.normal(size=shape)
    before = running_mean.copy(), running_var.copy()
    out, cache = norm.batchnorm_forward(x, gamma, beta, running_mean, running_var,
                                        training=False, momentum=momentum)
    ours = (out, *norm.batchnorm_backward(dout, cache))
    _assert_same(ours, _run_torch(tbn.eval(), x, dout))
    close(running_mean, before[0], rtol=0, atol=0)  # evaluation changes nothing
    close(running_var, before[1], rtol=0, atol=0)
    # eval-mode dx is the plain scaling dout * gamma / sqrt(running_var + eps)
    bshape = (1, C) + (1,) * (len(shape) - 2)
    close(ours[1], dout * (gamma / np.sqrt(running_var + 1e-5)).reshape(bshape))


def test_batchnorm_without_affine_equals_torch():
    rng = np.random.default_rng(5)
    x, dout = rng.normal(size=(7, 3, 4)), rng.normal(size=(7, 3, 4))
    tbn = torch.nn.BatchNorm1d(3, affine=False).double()
    rm, rv = np.zeros(3), np.ones(3)
    out, cache = norm.batchnorm_forward(x, None, None, rm, rv)
    ours = (out, *norm.batchnorm_backward(dout, cache))
    _assert_same(ours, _run_torch(tbn, x, dout))
    close(rv, tbn.running_var.numpy())


def test_batchnorm_layer_and_sgd_equal_torch():
    """The stateful layer, trained with trainart's SGD, follows torch.nn.BatchNorm2d."""
    rng = np.random.default_rng(6)
    bn = norm.BatchNorm(3, momentum=0.2)
    tbn = torch.nn.BatchNorm2d(3, momentum=0.2).double()
    opt = SGD(dict(zip(bn.names, bn.params)), lr=0.5)
    for _ in range(3):
        x, dout = rng.normal(2.0, 3.0, size=(4, 3, 2, 5)), rng.normal(size=(4, 3, 2, 5))
        out = bn.forward(x)
        dx = bn.backward(dout)
        t_out, t_dx, _, _ = _run_torch(tbn.train(), x, dout)
        close(out, t_out)
        close(dx, t_dx)
        _assert_same(bn.grads, [tbn.weight.grad.numpy(), tbn.bias.grad.numpy()])
        opt.step(bn.grads)
        with torch.no_grad():  # plain SGD (torch.optim's first step costs seconds to import)
            for p in tbn.parameters():
                p -= 0.5 * p.grad
        close(bn.gamma, tbn.weight.detach().numpy())
        close(bn.running_var, tbn.running_var.numpy())
    x = rng.normal(size=(2, 3, 2, 5))
    assert bn.eval() is bn and not bn.training
    close(bn(x), tbn.eval()(_t(x)).detach().numpy())
    assert bn.train().training


@pytest.mark.parametrize("shape, k", [((5, 7), 1), ((3, 4, 6), 1), ((3, 2, 3, 4), 3),
                                      ((2, 3, 2, 3), 2)], ids=str)
@pytest.mark.parametrize("affine", [True, False])
def test_layernorm_equals_torch(shape, k, affine):
    rng = np.random.default_rng(k)
    nshape = shape[len(shape) - k:]
    gamma, beta = rng.normal(size=nshape), rng.normal(size=nshape)
    x, dout = rng.normal(1.0, 2.0, size=shape), rng.normal(size=shape)
    tln = torch.nn.LayerNorm(nshape, elementwise_affine=affine).double()
    if affine:
        _set_affine(tln, gamma, beta)
    else:
        gamma = beta = None
    out, cache = norm.layernorm_forward(x, gamma, beta, normalized_ndim=k)
    _assert_same((out, *norm.layernorm_backward(dout, cache)), _run_torch(tln, x, dout))
    layer = norm.LayerNorm(nshape, elementwise_affine=affine)
    if affine:
        layer.gamma[...], layer.beta[...] = gamma, beta
    close(layer(x), out)
    close(layer.backward(dout), _run_torch(tln, x, dout)[1])


@pytest.mark.parametrize("shape", [(3, 4, 5, 6), (2, 3, 7)], ids=str)
@pytest.mark.parametrize("affine", [True, False])
def test_instancenorm_equals_torch(shape, affine):
    rng = np.random.default_rng(len(shape))
    C = shape[1]
    gamma, beta = rng.normal(size=C), rng.normal(size=C)
    x, dout = rng.normal(-1.0, 3.0, size=shape), rng.normal(size=shape)
    cls = torch.nn.InstanceNorm2d if len(shape) == 4 else torch.nn.InstanceNorm1d
    tin = cls(C, affine=affine).double()
    if affine:
        _set_affine(tin, gamma, beta)
    else:
        gamma = beta = None
    out, cache = norm.instancenorm_forward(x, gamma, beta)
    ours = (out, *norm.instancenorm_backward(dout, cache))
    theirs = _run_torch(tin, x, dout)
    if not affine:
        theirs = (*theirs[:2], None, None)
    _assert_same(ours, theirs)
    layer = norm.InstanceNorm(C, affine=affine)
    if affine:
        layer.gamma[...], layer.beta[...] = gamma, beta
    close(layer(x), out)
    close(layer.backward(dout), theirs[1])


@pytest.mark.parametrize("G", [1, 2, 3, 6])
@pytest.mark.parametrize("shape", [(3, 6, 4, 5), (4, 6), (2, 6, 5)], ids=str)
def test_groupnorm_equals_torch(shape, G):
    rng = np.random.default_rng(G)
    C = shape[1]
    gamma, beta = rng.normal(size=C), rng.normal(size=C)
    # channels with different means and scales, so grouping them matters
    x = rng.normal(size=shape) * np.arange(1, C + 1).reshape((1, C) + (1,) * (len(shape) - 2))
    dout = rng.normal(size=shape)
    tgn = torch.nn.GroupNorm(G, C).double()
    _set_affine(tgn, gamma, beta)
    out, cache = norm.groupnorm_forward(x, G, gamma, beta)
    theirs = _run_torch(tgn, x, dout)
    _assert_same((out, *norm.groupnorm_backward(dout, cache)), theirs)
    layer = norm.GroupNorm(G, C)
    layer.gamma[...], layer.beta[...] = gamma, beta
    close(layer(x), out)
    _assert_same((layer.backward(dout), *layer.grads), theirs[1:])


def test_group_norm_special_cases_are_layer_and_instance_norm():
    rng = np.random.default_rng(9)
    x, g, b = rng.normal(size=(2, 4, 3, 3)), rng.normal(size=4), rng.normal(size=4)
    inst, _ = norm.instancenorm_forward(x, g, b)
    close(norm.groupnorm_forward(x, 4, g, b)[0], inst)
    layer, _ = norm.layernorm_forward(x, None, None, normalized_ndim=3)
    close(norm.groupnorm_forward(x, 1, None, None)[0], layer)


# ---------------------------------------------------------------------------------------
# gradient checks of every backward
# ---------------------------------------------------------------------------------------


def _bn(training):
    def forward(x, g, b):
        rm, rv = np.linspace(-1, 1, x.shape[1]), np.linspace(0.5, 2, x.shape[1])
        return norm.batchnorm_forward(x, g, b, rm, rv, training=training)
    return forward, norm.batchnorm_backward


GRADCHECK_CASES = {
    "batch-2d": ((6, 3), *_bn(True)),
    "batch-4d": ((3, 2, 2, 3), *_bn(True)),
    "batch-eval": ((3, 2, 2, 3), *_bn(False)),
    "layer-1": ((3, 5), norm.layernorm_forward, norm.layernorm_backward),
    "layer-3": ((2, 2, 3, 2), lambda x, g, b: norm.layernorm_forward(x, g, b, 3),
                norm.layernorm_backward),
    "instance": ((2, 3, 2, 3), norm.instancenorm_forward, norm.instancenorm_backward),
    "group-2": ((2, 4, 2, 2), lambda x, g, b: norm.groupnorm_forward(x, 2, g, b),
                norm.groupnorm_backward),
    "group-1": ((2, 4, 3), lambda x, g, b: norm.groupnorm_forward(x, 1, g, b),
                norm.groupnorm_backward),
}


@pytest.mark.parametrize("name", list(GRADCHECK_CASES))
def test_backward_matches_numerical_gradient(name):
    shape, forward, backward = GRADCHECK_CASES[name]
    rng = np.random.default_rng(abs(hash(name)) % 1000)
    pshape = shape[len(shape) - 3:] if name == "layer-3" else (
        shape[-1:] if name == "layer-1" else (shape[1],))
    x = rng.normal(1.0, 2.0, size=shape)
    g, b = rng.normal(size=pshape), rng.normal(size=pshape)
    dout = rng.normal(size=shape)

    def loss():
        return np.sum(forward(x, g, b)[0] * dout)

    dx, dg, db = backward(dout, forward(x, g, b)[1])
    for analytic, param in ((dx, x), (dg, g), (db, b)):
        close(analytic, numerical_gradient(loss, param), rtol=1e-6, atol=1e-8)


# ---------------------------------------------------------------------------------------
# edge cases and errors
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(1, 3), (1, 3, 1), (1, 3, 1, 1)], ids=str)
def test_batchnorm_batch_of_one_raises_like_torch(shape):
    x = np.ones(shape)
    with pytest.raises(ValueError, match="batchnorm_forward: x: expected more than 1 value"):
        norm.batchnorm_forward(x, None, None, np.zeros(3), np.ones(3), training=True)
    with pytest.raises(ValueError, match="Expected more than 1 value per channel"):
        _torch_bn(shape, 0.1)(_t(x))
    # evaluation mode is fine for a single sample, in both
    out, _ = norm.batchnorm_forward(x, None, None, np.zeros(3), np.ones(3), training=False)
    close(out, _torch_bn(shape, 0.1).eval()(_t(x)).detach().numpy())
    # and one sample with several positions is fine in training
    norm.batchnorm_forward(np.ones((1, 3, 2)), None, None, np.zeros(3), np.ones(3))


def test_instancenorm_single_position_raises_like_torch():
    x = np.ones((2, 3, 1, 1))
    with pytest.raises(ValueError, match="instancenorm_forward: x: expected more than 1"):
        norm.instancenorm_forward(x)
    with pytest.raises(ValueError, match="Expected more than 1 spatial element"):
        torch.nn.InstanceNorm2d(3)(_t(x))


CONSTANT_CASES = {
    "batch": (lambda x, g, b: norm.batchnorm_forward(x, g, b, np.zeros(3), np.ones(3)),
              norm.batchnorm_backward, torch.nn.BatchNorm2d(3)),
    "instance": (norm.instancenorm_forward, norm.instancenorm_backward,
                 torch.nn.InstanceNorm2d(3, affine=True)),
    "group": (lambda x, g, b: norm.groupnorm_forward(x, 3, g, b), norm.groupnorm_backward,
              torch.nn.GroupNorm(3, 3)),
}


@pytest.mark.parametrize("name", list(CONSTANT_CASES))
def test_constant_channel_stays_finite_and_equals_torch(name):
    forward, backward, module = CONSTANT_CASES[name]
    rng = np.random.default_rng(3)
    x, dout = rng.normal(size=(4, 3, 2, 2)), rng.normal(size=(4, 3, 2, 2))
    x[:, 1] = 7.0  # zero variance: eps keeps 1/sqrt(var + eps) finite
    g, b = rng.normal(size=3), rng.normal(size=3)
    out, cache = forward(x, g, b)
    ours = (out, *backward(dout, cache))
    for a in ours:
        assert np.all(np.isfinite(a))
    close(out[:, 1], b[1] * np.ones((4, 2, 2)))  # the constant channel maps to beta
    module = module.double()
    _set_affine(module, g, b)
    _assert_same(ours, _run_torch(module, x, dout))


def test_constant_sample_in_layernorm_stays_finite():
    x = np.full((2, 5), 3.0)
    out, cache = norm.layernorm_forward(x, np.ones(5), np.zeros(5))
    dx, dg, db = norm.layernorm_backward(np.ones((2, 5)), cache)
    assert np.all(out == 0.0) and np.all(np.isfinite(dx)) and np.all(np.isfinite(dg))


def test_group_count_must_divide_channels():
    with pytest.raises(ValueError, match=r"groupnorm_forward.*C=6.*num_groups=4"):
        norm.groupnorm_forward(np.ones((2, 6, 3)), 4, None, None)
    with pytest.raises(ValueError, match=r"GroupNorm.*num_channels=6.*num_groups=4"):
        norm.GroupNorm(4, 6)
    with pytest.raises(ValueError, match="num_groups"):
        norm.groupnorm_forward(np.ones((2, 6, 3)), 0, None, None)


Z3, O3 = np.zeros(3), np.ones(3)
X = np.ones((4, 3, 2, 2))
BAD_CALLS = [
    (lambda: norm.batchnorm_forward(np.ones(3), None, None, Z3, O3), "batchnorm_forward: x"),
    (lambda: norm.batchnorm_forward(X, np.ones(4), None, Z3, O3), "batchnorm_forward: gamma"),
    (lambda: norm.batchnorm_forward(X, None, np.ones((3, 1)), Z3, O3),
     "batchnorm_forward: beta"),
    (lambda: norm.batchnorm_forward(X, None, None, np.zeros(4), O3),
     "batchnorm_forward: running_mean"),
    (lambda: norm.batchnorm_forward(X, None, None, Z3, np.ones(2)),
     "batchnorm_forward: running_var"),
    (lambda: norm.batchnorm_forward(X, None, None, Z3, None), "running_mean and running_var"),
    (lambda: norm.batchnorm_forward(X, None, None, None, None, training=False),
     "running_mean and running_var"),
    (lambda: norm.batchnorm_forward(X, None, None, Z3, O3, momentum=1.5),
     "batchnorm_forward: momentum"),
    (lambda: norm.batchnorm_forward(X, None, None, Z3, O3, eps=0.0), "batchnorm_forward: eps"),
    (lambda: norm.layernorm_forward(X, np.ones(3), None), "layernorm_forward: gamma"),
    (lambda: norm.layernorm_forward(X, np.ones((3, 2, 2)), None, normalized_ndim=2),
     "layernorm_forward: gamma"),
    (lambda: norm.layernorm_forward(X, None, None, normalized_ndim=5),
     "layernorm_forward: x"),
    (lambda: norm.layernorm_forward(X, None, None, normalized_ndim=0),
     "layernorm_forward: normalized_ndim"),
    (lambda: norm.instancenorm_forward(np.ones((4, 3))), "instancenorm_forward: x"),
    (lambda: norm.instancenorm_forward(X, np.ones(2)), "instancenorm_forward: gamma"),
    (lambda: norm.groupnorm_forward(np.ones(6), 2, None, None), "groupnorm_forward: x"),
    (lambda: norm.groupnorm_forward(X, 3, None, np.ones(4)), "groupnorm_forward: beta"),
    (lambda: norm.batchnorm_backward(np.ones((4, 3)), norm.batchnorm_forward(X, None, None,
                                                                             Z3, O3)[1]),
     "batchnorm_backward: dout"),
    (lambda: norm.LayerNorm(3).forward(np.ones((2, 4))), "LayerNorm.forward: x"),
    (lambda: norm.GroupNorm(1, 3).forward(np.ones((2, 4))), "GroupNorm.forward: x"),
    (lambda: norm.InstanceNorm(3).forward(np.ones((2, 4, 5))), "InstanceNorm.forward: x"),
    (lambda: norm.BatchNorm(3).forward(np.ones((2, 4))), "batchnorm_forward: gamma"),
]


@pytest.mark.parametrize("call, match", BAD_CALLS, ids=[m for _, m in BAD_CALLS])
def test_bad_shapes_raise_value_error_naming_function_and_argument(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_bad_types_raise_type_error():
    with pytest.raises(TypeError, match="batchnorm_forward: running_var must be a float"):
        norm.batchnorm_forward(X, None, None, Z3, [1.0, 1.0, 1.0])
    with pytest.raises(TypeError, match="layernorm_forward: x must be a numeric"):
        norm.layernorm_forward(np.array(["a", "b"]), None, None)
    _, cache = norm.layernorm_forward(X, None, None)
    with pytest.raises(TypeError, match="batchnorm_backward: cache"):
        norm.batchnorm_backward(X, cache)
    with pytest.raises(RuntimeError, match="call forward first"):
        norm.BatchNorm(3).backward(X)


def test_float32_stays_float32():
    x = np.random.default_rng(0).normal(size=(4, 3, 2, 2)).astype(np.float32)
    for out, cache, backward in [
        (*norm.batchnorm_forward(x, O3, Z3, Z3.copy(), O3.copy()), norm.batchnorm_backward),
        (*norm.layernorm_forward(x, None, None, 3), norm.layernorm_backward),
        (*norm.instancenorm_forward(x, O3, Z3), norm.instancenorm_backward),
        (*norm.groupnorm_forward(x, 3, O3, Z3), norm.groupnorm_backward),
    ]:
        assert out.dtype == np.float32
        assert backward(np.ones_like(x), cache)[0].dtype == np.float32
    out, _ = norm.batchnorm_forward(x, O3, Z3, Z3.copy(), O3.copy(), training=False)
    assert out.dtype == np.float32


def test_layers_expose_params_and_axes_describe_every_norm():
    assert set(norm.AXES) == {"batch", "layer", "instance", "group"}
    bn = norm.BatchNorm(4)
    assert bn.names == ["weight", "bias"] and bn.params[0] is bn.gamma
    close(bn.running_mean, np.zeros(4), rtol=0, atol=0)
    close(bn.running_var, np.ones(4), rtol=0, atol=0)
    assert norm.BatchNorm(4, affine=False).params == []
    assert norm.InstanceNorm(4).params == []
    doc = norm.batchnorm_forward.__doc__
    assert "not whitening" in doc.replace("*", "") and "learnable scale" in doc
    assert "each sample over its features" in norm.layernorm_forward.__doc__


# ---------------------------------------------------------------------------------------
# properties
# ---------------------------------------------------------------------------------------

batches = st.tuples(st.integers(2, 6), st.integers(1, 4), st.integers(1, 3)).flatmap(
    lambda s: arrays(np.float64, s, elements=st.floats(-1e3, 1e3, allow_subnormal=False)))


@settings(max_examples=60, deadline=None)
@given(batches)
def test_batchnorm_training_output_has_zero_mean_unit_variance(x):
    var = x.var(axis=(0, 2))
    assume(np.all(var > 1e-2))  # var / (var + eps) is then within 1e-3 of 1
    C = x.shape[1]
    rm, rv = np.zeros(C), np.ones(C)
    out, _ = norm.batchnorm_forward(x, np.ones(C), np.zeros(C), rm, rv)
    close(out.mean(axis=(0, 2)), np.zeros(C), rtol=0, atol=1e-9)
    close(out.var(axis=(0, 2)), np.ones(C), rtol=1e-3, atol=0)
    close(out.var(axis=(0, 2)), var / (var + 1e-5), rtol=1e-9, atol=0)
    close(rm, 0.1 * x.mean(axis=(0, 2)), rtol=1e-9, atol=1e-9)


@settings(max_examples=30, deadline=None)
@given(batches, st.floats(0.1, 10.0), st.floats(-50.0, 50.0))
def test_layernorm_ignores_per_sample_shift_and_scale(x, scale, shift):
    x2 = x.reshape(x.shape[0], -1)
    assume(np.all(x2.var(axis=1) > 1.0))
    out, _ = norm.layernorm_forward(x2, None, None)
    out2, _ = norm.layernorm_forward(scale * x2 + shift, None, None)
    close(out2, out, rtol=1e-4, atol=1e-4)  # exact up to eps
    close(out.mean(axis=1), 0.0, rtol=0, atol=1e-9)
