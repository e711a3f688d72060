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
    out, cache = norm.instancenorm_forward(x, gamma, beta, spatial_ndim=len(shape) - 2)
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
    (lambda: norm.batchnorm_forward(X, np.ones(4), None, Z3, O3),
     r"batchnorm_forward: gamma must have shape \(3,\) \(one value per channel of x, shape "
     r"\(4, 3, 2, 2\)\), got \(4,\)"),
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
    (lambda: norm.instancenorm_forward(np.ones((3, 6, 6))),
     r"instancenorm_forward: x of shape \(3, 6, 6\) is ambiguous.*spatial_ndim=1 or "
     r"spatial_ndim=2"),
    (lambda: norm.instancenorm_forward(X, spatial_ndim=1),
     r"instancenorm_forward: x must have shape \(N, C, L\) or unbatched \(C, L\) for "
     r"spatial_ndim=1 .*got shape \(4, 3, 2, 2\)"),
    (lambda: norm.instancenorm_forward(X, spatial_ndim=4), "instancenorm_forward: spatial_ndim"),
    (lambda: norm.instancenorm_forward(X, running_mean=Z3, running_var=np.ones(4)),
     r"instancenorm_forward: running_var must have shape \(3,\)"),
    (lambda: norm.instancenorm_forward(X, momentum=2.0), "instancenorm_forward: momentum"),
    (lambda: norm.InstanceNorm(6).forward(np.ones((6, 6, 5))),
     r"InstanceNorm.forward: x of shape \(6, 6, 5\) is ambiguous with num_features=6"),
    (lambda: norm.InstanceNorm(3).forward(np.ones((2, 4, 5))),
     r"InstanceNorm.forward: x of shape \(2, 4, 5\) has no axis of num_features=3"),
    (lambda: norm.InstanceNorm(3, spatial_ndim=2).forward(np.ones((2, 3, 5))),
     r"InstanceNorm.forward: x has 2 channels \(axis 0 of shape \(2, 3, 5\), read as "
     r"\(N, C, H, W\) or unbatched \(C, H, W\)\), expected num_features=3"),
    (lambda: norm.InstanceNorm(3, spatial_ndim=1).forward(X),
     r"InstanceNorm.forward: x must have shape \(N, C, L\) or unbatched \(C, L\)"),
    (lambda: norm.InstanceNorm(3).forward(np.ones((2, 4, 5, 5))),
     r"InstanceNorm.forward: x has 4 channels .*expected num_features=3; for an unbatched "
     r"\(C, D, H, W\)"),
    (lambda: norm.InstanceNorm(3).forward(np.ones((4, 5))),
     r"InstanceNorm.forward: x of shape \(4, 5\) is read as an unbatched \(C, L\) with 4 "
     r"channels, expected num_features=3"),
    (lambda: norm.batchnorm_forward(X, None, None, Z3, O3, momentum=None),
     "batchnorm_forward: momentum=None .*needs num_batches_tracked"),
    (lambda: norm.batchnorm_forward(X, None, None, None, None,
                                    num_batches_tracked=np.zeros((), np.int64)),
     "batchnorm_forward: num_batches_tracked counts"),
    (lambda: norm.BatchNorm(3, momentum=1.5), "BatchNorm: momentum must be in"),
    (lambda: norm.LayerNorm((3, 0)), r"LayerNorm: normalized_shape\[1\] must be an integer >= 1"),
    (lambda: norm.LayerNorm(()), "LayerNorm: normalized_shape must have at least one axis"),
    (lambda: norm.GroupNorm(1, 3).forward(np.ones(3)), r"GroupNorm.forward: x must have shape"),
    (lambda: norm.instancenorm_forward(X, np.ones(2)), "instancenorm_forward: gamma"),
    (lambda: norm.groupnorm_forward(np.ones(6), 2, None, None), "groupnorm_forward: x"),
    (lambda: norm.groupnorm_forward(X, 3, None, np.ones(4)), "groupnorm_forward: beta"),
    (lambda: norm.batchnorm_backward(np.ones((4, 3)), norm.batchnorm_forward(X, None, None,
                                                                             Z3, O3)[1]),
     "batchnorm_backward: dout"),
    (lambda: norm.LayerNorm(3).forward(np.ones((2, 4))), "LayerNorm.forward: x"),
    (lambda: norm.BatchNorm(3).forward(np.ones((2, 4))),
     r"BatchNorm.forward: x has 4 channels \(axis 1 of shape \(2, 4\)\), expected "
     r"num_features=3"),
    (lambda: norm.BatchNorm(3, affine=False).forward(np.ones((2, 4))),
     "BatchNorm.forward: x has 4 channels"),
    (lambda: norm.BatchNorm(3).forward(np.ones(3)),
     r"BatchNorm.forward: x must have shape \(N, 3\) or \(N, 3, \*\), got shape \(3,\)"),
    (lambda: norm.GroupNorm(1, 3).forward(np.ones((2, 4))),
     "GroupNorm.forward: x has 4 channels .*expected num_channels=3"),
]


@pytest.mark.parametrize("call, match", BAD_CALLS, ids=[m for _, m in BAD_CALLS])
def test_bad_shapes_raise_value_error_naming_function_and_argument(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_bad_types_raise_type_error():
    with pytest.raises(TypeError, match="batchnorm_forward: running_var must be a float "
                                        "NumPy array .*got list"):
        norm.batchnorm_forward(X, None, None, Z3, [1.0, 1.0, 1.0])
    with pytest.raises(TypeError, match="batchnorm_forward: running_mean must be a float "
                                        "NumPy array .*got an array of dtype int64"):
        norm.batchnorm_forward(X, None, None, np.zeros(3, dtype=np.int64), O3)
    with pytest.raises(TypeError, match="instancenorm_forward: running_mean .*dtype int32"):
        norm.instancenorm_forward(X, running_mean=np.zeros(3, np.int32), running_var=O3)
    with pytest.raises(TypeError, match="batchnorm_forward: num_batches_tracked must be a 0-d "
                                        "integer NumPy array .*got int"):
        norm.batchnorm_forward(X, None, None, Z3.copy(), O3.copy(), num_batches_tracked=0)
    with pytest.raises(TypeError, match="num_batches_tracked .*dtype float64 and shape \\(\\)"):
        norm.batchnorm_forward(X, None, None, Z3.copy(), O3.copy(),
                               num_batches_tracked=np.zeros(()))
    with pytest.raises(TypeError, match="batchnorm_forward: training must be True or False"):
        norm.batchnorm_forward(X, None, None, Z3.copy(), O3.copy(), training="eval")
    with pytest.raises(TypeError, match="InstanceNorm: momentum must be a number in"):
        norm.InstanceNorm(3, momentum=None)
    with pytest.raises(TypeError, match="BatchNorm: affine must be True or False"):
        norm.BatchNorm(3, affine=None)
    with pytest.raises(TypeError, match="LayerNorm: normalized_shape must be an int or a tuple"):
        norm.LayerNorm(3.0)
    with pytest.raises(TypeError, match="layernorm_forward: x must be a numeric"):
        norm.layernorm_forward(np.array(["a", "b"]), None, None)
    with pytest.raises(TypeError, match="BatchNorm.forward: training must be True, False"):
        norm.BatchNorm(3).forward(X, training=1)
    _, cache = norm.layernorm_forward(X, None, None)
    with pytest.raises(TypeError, match="batchnorm_backward: cache must be the BatchNormCache "
                                        "returned by batchnorm_forward, got LayerNormCache"):
        norm.batchnorm_backward(X, cache)
    for layer in (norm.BatchNorm(3), norm.LayerNorm(2), norm.GroupNorm(1, 3),
                  norm.InstanceNorm(3)):
        with pytest.raises(RuntimeError, match=f"{type(layer).__name__}.backward: call "
                                               f"forward first"):
            layer.backward(X)


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
    for training in (True, False):  # instance norm with running statistics, and unbatched
        out, cache = norm.instancenorm_forward(x, O3, Z3, running_mean=Z3.copy(),
                                               running_var=O3.copy(), training=training)
        assert out.dtype == np.float32
        assert norm.instancenorm_backward(np.ones_like(x), cache)[0].dtype == np.float32
        out, cache = norm.instancenorm_forward(x[0], O3, Z3, spatial_ndim=2,
                                               running_mean=Z3.copy(), running_var=O3.copy(),
                                               training=training)
        assert out.dtype == np.float32 and out.shape == x[0].shape
    bn = norm.BatchNorm(3, momentum=None)
    assert bn.forward(x).dtype == np.float32 and bn.backward(np.ones_like(x)).dtype == np.float32


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


# ---------------------------------------------------------------------------------------
# torch's options: momentum=None, track_running_stats, affine/bias off, unbatched inputs
# ---------------------------------------------------------------------------------------


def _torch_step(module, x, dout):
    """Output, dx and {name: gradient} of one torch forward/backward."""
    module.zero_grad()
    xt = _t(x, grad=True)
    out = module(xt)
    out.backward(_t(dout))
    grads = {n: p.grad.numpy().copy() for n, p in module.named_parameters()}
    return out.detach().numpy(), xt.grad.numpy(), grads


def _buffers(module):
    return {n: b.numpy().copy() for n, b in module.named_buffers()}


def _copy_params(layer, module, rng):
    """Random parameters, the same in both (so a wrong gamma/beta order would show)."""
    for name, p in zip(layer.names, layer.params):
        p[...] = rng.normal(size=p.shape)
        with torch.no_grad():
            getattr(module, name).copy_(_t(p))


def _trajectory(layer, module, shapes, modes, seed=0):
    """Run ``layer`` and the torch ``module`` over batches of ``shapes`` in ``modes``
    (True: train, False: eval), comparing the output, dx, every parameter gradient and every
    buffer (running statistics, num_batches_tracked) after each step."""
    rng = np.random.default_rng(seed)
    module.double()
    _copy_params(layer, module, rng)
    assert layer.names == [n for n, _ in module.named_parameters()]
    for step, (shape, training) in enumerate(zip(shapes, modes)):
        # each batch with its own mean and scale, per channel, so the statistics move
        x = rng.normal(loc=2.0 * step - 3.0, scale=0.5 + step, size=shape)
        dout = rng.normal(size=shape)
        module.train(training)
        out, dx, grads = _torch_step(module, x, dout)
        close(layer.forward(x, training=training), out)
        close(layer.backward(dout), dx)
        assert dict(zip(layer.names, layer.grads)).keys() == grads.keys()
        for name, g in zip(layer.names, layer.grads):
            close(g, grads[name])
        for name, b in _buffers(module).items():
            close(np.asarray(getattr(layer, name)), b, rtol=RTOL, atol=0)
    return layer


def _stats_moved(layer):
    assert not np.allclose(layer.running_mean, 0.0) and not np.allclose(layer.running_var, 1.0)


@pytest.mark.parametrize("shape", [(8, 3), (5, 3, 4), (4, 3, 2, 5)], ids=str)
@pytest.mark.parametrize("affine, bias", [(True, True), (True, False), (False, True)])
def test_batchnorm_momentum_none_is_the_cumulative_average_like_torch(shape, affine, bias):
    cls = {2: torch.nn.BatchNorm1d, 3: torch.nn.BatchNorm1d, 4: torch.nn.BatchNorm2d}
    module = cls[len(shape)](3, momentum=None, affine=affine, bias=bias)
    layer = norm.BatchNorm(3, momentum=None, affine=affine, bias=bias)
    # batches of different sizes (1/k weights each batch equally, whatever its size)
    shapes = [(n,) + shape[1:] for n in (shape[0], 3, shape[0] + 2, 2, shape[0], 4)]
    modes = [True, True, False, True, True, False]
    _trajectory(layer, module, shapes, modes)
    assert int(layer.num_batches_tracked) == 4 == int(module.num_batches_tracked)
    _stats_moved(layer)


def test_batchnorm_momentum_none_equals_the_plain_mean_of_the_batch_statistics():
    rng = np.random.default_rng(1)
    batches = [rng.normal(loc=i, scale=1 + i, size=(5 + i, 2, 3)) for i in range(5)]
    rm, rv, n = np.zeros(2), np.ones(2), np.zeros((), np.int64)
    for xb in batches:
        norm.batchnorm_forward(xb, None, None, rm, rv, momentum=None, num_batches_tracked=n)
    assert int(n) == 5
    close(rm, np.mean([xb.mean(axis=(0, 2)) for xb in batches], axis=0))
    close(rv, np.mean([xb.var(axis=(0, 2), ddof=1) for xb in batches], axis=0))
    # with a momentum the count still goes up (as torch's), the weight does not follow it
    norm.batchnorm_forward(batches[0], None, None, rm, rv, momentum=0.5, num_batches_tracked=n)
    assert int(n) == 6


@pytest.mark.parametrize("momentum", [0.1, None])
def test_batchnorm_layer_counts_batches_and_keeps_eval_fixed(momentum):
    layer = norm.BatchNorm(2, momentum=momentum)
    module = torch.nn.BatchNorm1d(2, momentum=momentum)
    _trajectory(layer, module, [(6, 2)] * 5, [True, False, True, True, False])
    assert layer.num_batches_tracked.shape == () and int(layer.num_batches_tracked) == 3


@pytest.mark.parametrize("shape", [(6, 3), (4, 3, 2, 2)], ids=str)
def test_batchnorm_without_running_stats_uses_batch_stats_in_eval_like_torch(shape):
    cls = torch.nn.BatchNorm2d if len(shape) == 4 else torch.nn.BatchNorm1d
    layer = norm.BatchNorm(3, track_running_stats=False)
    module = cls(3, track_running_stats=False)
    _trajectory(layer, module, [shape] * 4, [True, False, True, False])
    assert layer.running_mean is None and layer.num_batches_tracked is None
    assert layer.cache.batch_stats  # eval used the batch's statistics


@pytest.mark.parametrize("dims, shape", [(1, (4, 3, 5)), (2, (3, 3, 4, 5)), (1, (3, 6)),
                                         (2, (3, 4, 5))], ids=str)
@pytest.mark.parametrize("affine, bias", [(False, True), (True, True), (True, False)])
def test_instancenorm_tracked_stats_equal_torch_over_train_and_eval(dims, shape, affine, bias):
    """track_running_stats=True: updated in training, used in eval (batched and unbatched)."""
    cls = torch.nn.InstanceNorm1d if dims == 1 else torch.nn.InstanceNorm2d
    C = shape[1] if len(shape) == dims + 2 else shape[0]
    module = cls(C, momentum=0.3, affine=affine, track_running_stats=True, bias=bias)
    layer = norm.InstanceNorm(C, momentum=0.3, affine=affine, track_running_stats=True,
                              bias=bias, spatial_ndim=dims)
    _trajectory(layer, module, [shape] * 6, [True, True, False, True, False, False])
    _stats_moved(layer)
    assert not layer.cache.input_stats


@pytest.mark.parametrize("affine", [False, True])
def test_instancenorm_without_tracking_uses_input_stats_in_eval_like_torch(affine):
    layer = norm.InstanceNorm(3, affine=affine)
    module = torch.nn.InstanceNorm2d(3, affine=affine)
    _trajectory(layer, module, [(2, 3, 4, 4), (3, 4, 4)], [True, False])
    assert layer.running_mean is None and layer.cache.input_stats


@pytest.mark.parametrize("C, shape, torch_cls", [
    (3, (3, 6, 6), torch.nn.InstanceNorm2d),   # the array: one (C, H, W) image ...
    (6, (3, 6, 6), torch.nn.InstanceNorm1d),   # ... or (N, C, L) with 6 channels
    (4, (4, 7), torch.nn.InstanceNorm1d),      # unbatched (C, L)
    (2, (3, 2, 5), torch.nn.InstanceNorm1d),
    (2, (3, 2, 2, 4), torch.nn.InstanceNorm2d),
], ids=str)
def test_instancenorm_layer_reads_the_layout_from_num_features_like_torch(C, shape, torch_cls):
    layer = norm.InstanceNorm(C, affine=True)
    _trajectory(layer, torch_cls(C, affine=True), [shape] * 2, [True, False])


def test_instancenorm_forward_on_an_unbatched_image_is_no_longer_misread():
    """The bug: a (3, 6, 6) image used to be normalized as N=3, C=6, L=6."""
    rng = np.random.default_rng(4)
    img, dout = rng.normal(size=(3, 6, 6)), rng.normal(size=(3, 6, 6))
    g, b = rng.normal(size=3), rng.normal(size=3)
    module = torch.nn.InstanceNorm2d(3, affine=True).double()
    _set_affine(module, g, b)
    out, cache = norm.instancenorm_forward(img, g, b, spatial_ndim=2)
    ours = (out, *norm.instancenorm_backward(dout, cache))
    _assert_same(ours, _run_torch(module, img, dout))
    # the same numbers as the batched form of one image
    batched, _ = norm.instancenorm_forward(img[None], g, b)
    close(out, batched[0], rtol=0, atol=0)
    # the old reading differs, and is now only had by asking for it
    as_1d, _ = norm.instancenorm_forward(img, spatial_ndim=1)
    assert np.abs(as_1d - norm.instancenorm_forward(img, spatial_ndim=2)[0]).max() > 0.1
    with pytest.raises(ValueError, match="ambiguous"):
        norm.instancenorm_forward(img)


def test_instancenorm_forward_with_running_stats_equals_functional_torch():
    rng = np.random.default_rng(8)
    rm, rv = np.zeros(4), np.ones(4)
    trm, trv = torch.zeros(4, dtype=torch.float64), torch.ones(4, dtype=torch.float64)
    for step in range(3):
        x = rng.normal(step, 1 + step, size=(3, 4, 5))
        out, _ = norm.instancenorm_forward(x, spatial_ndim=1, running_mean=rm, running_var=rv,
                                           momentum=0.2)
        tout = torch.nn.functional.instance_norm(_t(x), trm, trv, use_input_stats=True,
                                                 momentum=0.2)
        close(out, tout.numpy())
        close(rm, trm.numpy())
        close(rv, trv.numpy())
    x = rng.normal(size=(2, 4, 1))  # one position is fine with the running statistics
    out, _ = norm.instancenorm_forward(x, spatial_ndim=1, running_mean=rm, running_var=rv,
                                       training=False)
    close(out, torch.nn.functional.instance_norm(_t(x), trm, trv,
                                                 use_input_stats=False).numpy())


@pytest.mark.parametrize("nshape, xshape", [((5,), (3, 5)), ((5,), (5,)), ((2, 3), (2, 3)),
                                            ((2, 3), (4, 2, 2, 3))], ids=str)
@pytest.mark.parametrize("affine, bias", [(True, True), (True, False), (False, True)])
def test_layernorm_options_and_unbatched_inputs_equal_torch(nshape, xshape, affine, bias):
    layer = norm.LayerNorm(nshape, elementwise_affine=affine, bias=bias)
    module = torch.nn.LayerNorm(nshape, elementwise_affine=affine, bias=bias)
    _trajectory(layer, module, [xshape] * 2, [True, False])
    assert layer.elementwise_affine == affine


@pytest.mark.parametrize("affine, bias", [(True, False), (False, True)])
def test_groupnorm_options_equal_torch(affine, bias):
    layer = norm.GroupNorm(2, 4, affine=affine, bias=bias)
    module = torch.nn.GroupNorm(2, 4, affine=affine, bias=bias)
    _trajectory(layer, module, [(3, 4, 5), (2, 4, 2, 3)], [True, False])


def test_torch_refuses_the_inputs_we_refuse():
    """Unbatched batch norm and a 4-D input to a 1-D instance norm fail in both."""
    with pytest.raises(ValueError, match="expected 2D or 3D input"):
        torch.nn.BatchNorm1d(3)(_t(np.ones(3)))
    with pytest.raises(ValueError, match="BatchNorm.forward: x must have shape"):
        norm.BatchNorm(3).forward(np.ones(3))
    with pytest.raises(ValueError, match="expected 2D or 3D input"):
        torch.nn.InstanceNorm1d(3)(_t(X))
    with pytest.raises(ValueError, match="InstanceNorm.forward: x must have shape"):
        norm.InstanceNorm(3, spatial_ndim=1).forward(X)
    with pytest.raises(RuntimeError, match="Expected at least 2 dimensions"):
        torch.nn.GroupNorm(1, 3)(_t(np.ones(3)))
    with pytest.raises(ValueError, match="GroupNorm.forward: x must have shape"):
        norm.GroupNorm(1, 3).forward(np.ones(3))


# ---------------------------------------------------------------------------------------
# the layer protocol and the typed caches
# ---------------------------------------------------------------------------------------


LAYERS = {
    "batch": (lambda: norm.BatchNorm(3), norm.BatchNormCache),
    "layer": (lambda: norm.LayerNorm((3, 2, 2)), norm.LayerNormCache),
    "instance": (lambda: norm.InstanceNorm(3, affine=True), norm.InstanceNormCache),
    "group": (lambda: norm.GroupNorm(3, 3), norm.GroupNormCache),
}


@pytest.mark.parametrize("kind", list(LAYERS))
def test_norm_layers_follow_the_layer_protocol(kind):
    from trainart.layers import Layer

    make, cache_type = LAYERS[kind]
    layer = make()
    assert isinstance(layer, Layer) and layer.training and layer.cache is None
    x = np.random.default_rng(0).normal(size=(4, 3, 2, 2))
    out = layer(x)
    assert type(layer.cache) is cache_type and isinstance(layer.cache, tuple)
    dx = layer.backward(np.ones_like(out))
    assert dx.shape == x.shape
    assert layer.names == ["weight", "bias"]
    assert [p.shape for p in layer.params] == [g.shape for g in layer.grads]
    assert layer.params[0] is layer.gamma is layer.weight and layer.params[1] is layer.bias
    assert layer.eval() is layer and not layer.training
    assert layer.train().training


def test_training_argument_overrides_the_mode_for_one_call():
    layer = norm.BatchNorm(3)
    x = np.random.default_rng(1).normal(size=(5, 3))
    before = layer.running_mean.copy()
    layer.forward(x, training=False)   # running statistics, nothing updated
    close(layer.running_mean, before, rtol=0, atol=0)
    assert not layer.cache.batch_stats and layer.training
    layer.eval().forward(x, training=True)
    assert layer.cache.batch_stats and not layer.training
    assert int(layer.num_batches_tracked) == 1


def test_bias_false_and_affine_false_leave_their_parameters_out():
    assert norm.BatchNorm(3, bias=False).names == ["weight"]
    assert norm.BatchNorm(3, affine=False, bias=False).params == []
    assert norm.LayerNorm(4, bias=False).names == ["weight"]
    assert norm.LayerNorm(4, elementwise_affine=False).params == []
    assert norm.GroupNorm(1, 4, bias=False).bias is None
    assert norm.InstanceNorm(4, affine=True, bias=False).names == ["weight"]


def test_signatures_follow_torch():
    """Positional arguments mean what they mean in torch (BatchNorm(C, eps, momentum))."""
    import inspect

    for ours, theirs in [(norm.BatchNorm, torch.nn.BatchNorm1d),
                         (norm.InstanceNorm, torch.nn.InstanceNorm2d),
                         (norm.LayerNorm, torch.nn.LayerNorm),
                         (norm.GroupNorm, torch.nn.GroupNorm)]:
        a = inspect.signature(ours.__init__).parameters
        b = inspect.signature(theirs.__init__).parameters
        common = [n for n in b if n not in ("device", "dtype")]
        assert [n for n in a if n in common] == common, ours
        for n in common:
            assert a[n].default == b[n].default and a[n].kind == b[n].kind, (ours, n)
    bn = norm.BatchNorm(3, 1e-3, 0.2)
    assert bn.eps == 1e-3 and bn.momentum == 0.2


# ---------------------------------------------------------------------------------------
# gradient checks of the new backward paths
# ---------------------------------------------------------------------------------------


def _instance(spatial_ndim, tracked, training):
    def forward(x, g, b):
        C = x.shape[0] if x.ndim == spatial_ndim + 1 else x.shape[1]
        rm, rv = (np.linspace(-1, 1, C), np.linspace(0.5, 2, C)) if tracked else (None, None)
        return norm.instancenorm_forward(x, g, b, spatial_ndim=spatial_ndim, running_mean=rm,
                                         running_var=rv, training=training)
    return forward


NEW_GRADCHECKS = {
    # name: (x shape, forward, backward, parameter shape)
    "instance-tracked-eval": ((2, 3, 4), _instance(1, True, False), norm.instancenorm_backward),
    "instance-tracked-train": ((2, 3, 4), _instance(1, True, True), norm.instancenorm_backward),
    "instance-unbatched-2d": ((3, 2, 3), _instance(2, False, True), norm.instancenorm_backward),
    "instance-unbatched-1d-eval": ((3, 4), _instance(1, True, False),
                                   norm.instancenorm_backward),
    "layer-unbatched": ((2, 3), lambda x, g, b: norm.layernorm_forward(x, g, b, 2),
                        norm.layernorm_backward),
    "batch-momentum-none": ((5, 3), lambda x, g, b: norm.batchnorm_forward(
        x, g, b, np.zeros(3), np.ones(3), momentum=None,
        num_batches_tracked=np.zeros((), np.int64)), norm.batchnorm_backward),
}


@pytest.mark.parametrize("name", list(NEW_GRADCHECKS))
@pytest.mark.parametrize("with_beta", [True, False])
def test_new_backward_paths_match_numerical_gradient(name, with_beta):
    shape, forward, backward = NEW_GRADCHECKS[name]
    rng = np.random.default_rng(len(name))
    pshape = shape if name == "layer-unbatched" else (
        (shape[0],) if "unbatched" in name else (shape[1],))
    x = rng.normal(1.0, 2.0, size=shape)
    g = rng.normal(size=pshape)
    b = rng.normal(size=pshape) if with_beta else None
    dout = rng.normal(size=shape)

    def loss():
        return np.sum(forward(x, g, b)[0] * dout)

    dx, dg, db = backward(dout, forward(x, g, b)[1])
    assert (db is None) == (not with_beta)
    for analytic, param in ((dx, x), (dg, g), (db, b)):
        if param is not None:
            close(analytic, numerical_gradient(loss, param), rtol=1e-6, atol=1e-8)
