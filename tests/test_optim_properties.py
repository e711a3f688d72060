"""Invariants of the update rules (hypothesis) and the errors bad input must raise."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from trainart import optim

ALL = [
    lambda p: optim.SGD(p, lr=0.1),
    lambda p: optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True),
    lambda p: optim.Adagrad(p, lr=0.1),
    lambda p: optim.RMSprop(p, lr=0.1, momentum=0.5, centered=True),
    lambda p: optim.Adadelta(p),
    lambda p: optim.Adam(p, lr=0.1, amsgrad=True),
    lambda p: optim.AdamW(p, lr=0.1, weight_decay=0.0),
]

shapes = st.tuples(st.integers(1, 4), st.integers(1, 4))
finite = st.floats(-100, 100, allow_nan=False, width=64)
params_st = arrays(np.float64, shapes, elements=finite)


@settings(max_examples=30, deadline=None)
@given(params_st, st.integers(0, len(ALL) - 1))
def test_zero_gradient_moves_nothing_without_decay(theta, which):
    p = theta.copy()
    opt = ALL[which]([p])
    for _ in range(3):
        opt.step([np.zeros_like(p)])
    np.testing.assert_array_equal(p, theta)


@settings(max_examples=50, deadline=None)
@given(arrays(np.float64, shapes, elements=st.floats(1e-3, 1e3) | st.floats(-1e3, -1e-3)),
       st.floats(1e-4, 1.0))
def test_adam_first_step_is_lr_per_coordinate(g, lr):
    p = np.zeros_like(g)
    optim.Adam([p], lr=lr).step([g])
    # m_hat = g and v_hat = g^2 after bias correction: the step is lr * sign(g) (up to eps).
    np.testing.assert_allclose(p, -lr * np.sign(g), rtol=1e-4)


@settings(max_examples=50, deadline=None)
@given(arrays(np.float64, shapes, elements=st.floats(1e-3, 1e3)), st.floats(1e-3, 1e3))
def test_adam_is_invariant_to_gradient_scale(g, c):
    p1, p2 = np.zeros_like(g), np.zeros_like(g)
    o1, o2 = optim.Adam([p1], lr=0.01, eps=1e-12), optim.Adam([p2], lr=0.01, eps=1e-12)
    for k in range(5):
        o1.step([g * (k + 1)])
        o2.step([c * g * (k + 1)])
    np.testing.assert_allclose(p1, p2, rtol=1e-6)


@settings(max_examples=50, deadline=None)
@given(params_st, arrays(np.float64, (2, 2), elements=finite), st.floats(1e-4, 1.0))
def test_sgd_step_is_minus_lr_times_gradient(theta, g, lr):
    p = np.resize(theta, (2, 2)).astype(np.float64)
    before = p.copy()
    optim.SGD([p], lr=lr).step([g])
    np.testing.assert_allclose(p, before - lr * g, rtol=1e-12, atol=1e-12)


@settings(max_examples=30, deadline=None)
@given(arrays(np.float64, (5,), elements=st.floats(0.1, 10)))
def test_adagrad_effective_step_shrinks(g):
    p = np.zeros(5)
    opt = optim.Adagrad([p], lr=1.0)
    steps = []
    for _ in range(6):
        before = p.copy()
        opt.step([g])
        steps.append(np.abs(p - before))
    # constant gradient: step k is lr / sqrt(k), strictly decreasing
    for k in range(1, 6):
        np.testing.assert_allclose(steps[k], 1 / np.sqrt(k + 1), rtol=1e-6)


@settings(max_examples=30, deadline=None)
@given(arrays(np.float64, (3,), elements=finite), st.floats(0.01, 1.0), st.floats(0.01, 0.5))
def test_decoupled_decay_shrinks_weights_by_lr_times_lambda(theta, lr, wd):
    p = theta.copy()
    optim.AdamW([p], lr=lr, weight_decay=wd).step([np.zeros(3)])
    np.testing.assert_allclose(p, theta * (1 - lr * wd), rtol=1e-12, atol=1e-300)


@settings(max_examples=30, deadline=None)
@given(st.lists(arrays(np.float64, 3, elements=finite), min_size=1, max_size=3),
       st.floats(0.01, 10))
def test_clip_grad_norm_caps_norm_and_keeps_direction(grads, max_norm):
    before = [g.copy() for g in grads]
    total = optim.clip_grad_norm_(grads, max_norm)
    after = math.sqrt(sum(float(np.sum(g * g)) for g in grads))
    assert after <= max_norm * (1 + 1e-9)
    # torch's rule: scale by min(1, c / (norm + 1e-6)): the direction never changes
    scale = min(1.0, max_norm / (total + 1e-6))
    for g, b in zip(grads, before):
        np.testing.assert_allclose(g, b * scale, rtol=1e-12)
    assert total == pytest.approx(math.sqrt(sum(float(np.sum(b * b)) for b in before)))


# ----------------------------------------------------------------- errors that name the problem
BAD_HYPERPARAMETERS = [
    (optim.SGD, dict(lr=0), "lr"),
    (optim.SGD, dict(lr=-0.1), "lr"),
    (optim.SGD, dict(lr=0.1, momentum=-0.5), "momentum"),
    (optim.SGD, dict(lr=0.1, momentum=1.0), "momentum"),
    (optim.SGD, dict(lr=0.1, weight_decay=-1e-4), "weight_decay"),
    (optim.SGD, dict(lr=0.1, nesterov=True), "nesterov"),
    (optim.Adagrad, dict(eps=0), "eps"),
    (optim.Adagrad, dict(lr_decay=-1), "lr_decay"),
    (optim.RMSprop, dict(alpha=1.0), "alpha"),
    (optim.RMSprop, dict(eps=-1e-8), "eps"),
    (optim.Adadelta, dict(rho=1.5), "rho"),
    (optim.Adam, dict(lr=float("nan")), "lr"),
    (optim.Adam, dict(betas=(1.0, 0.999)), r"betas\[0\]"),
    (optim.Adam, dict(betas=(0.9, -0.1)), r"betas\[1\]"),
    (optim.Adam, dict(betas=0.9), "betas"),
    (optim.Adam, dict(eps=0.0), "eps"),
    (optim.AdamW, dict(weight_decay=-0.01), "weight_decay"),
]


@pytest.mark.parametrize("cls,kwargs,name", BAD_HYPERPARAMETERS)
def test_bad_hyperparameters_name_the_argument(cls, kwargs, name):
    with pytest.raises(ValueError, match=f"{cls.__name__}: {name}"):
        cls([np.zeros(2)], **kwargs)


def test_non_finite_gradient_names_the_parameter():
    params = {"layer1.weight": np.zeros((2, 3)), "layer1.bias": np.zeros(3)}
    opt = optim.Adam(params, lr=0.1)
    opt.step({"layer1.weight": np.ones((2, 3)), "layer1.bias": np.ones(3)})
    expected = r"'layer1.bias' \(shape \(3,\)\).*step 2"
    with pytest.raises(optim.NonFiniteGradientError, match=expected):
        opt.step({"layer1.weight": np.ones((2, 3)), "layer1.bias": np.array([1.0, np.nan, 1.0])})


def test_check_finite_false_lets_the_optimizer_diverge():
    p = np.zeros(2)
    optim.SGD([p], lr=0.1, check_finite=False).step([np.array([np.inf, 1.0])])
    assert np.isinf(p[0]) and p[1] == pytest.approx(-0.1)


def test_non_finite_check_on_torch_parameters():
    torch = pytest.importorskip("torch")
    model = torch.nn.Linear(2, 1)
    opt = optim.SGD(model.named_parameters(), lr=0.1)
    model(torch.tensor([[float("inf"), 1.0]])).sum().backward()
    with pytest.raises(optim.NonFiniteGradientError, match="'weight'"):
        opt.step()


@pytest.mark.parametrize("params,grads,message", [
    ([np.zeros(3)], [np.zeros(4)], r"'params\[0\]' has shape \(4,\), the parameter has shape \(3"),
    ([np.zeros(3)], [np.zeros(3), np.zeros(3)], "got 2 gradients for 1 parameters"),
])
def test_wrong_gradient_shapes(params, grads, message):
    with pytest.raises(ValueError, match=message):
        optim.SGD(params, lr=0.1).step(grads)


@pytest.mark.parametrize("params,error,message", [
    ([np.zeros(3, dtype=int)], TypeError, "floating-point array"),
    ([[0.0, 1.0]], TypeError, "pass NumPy arrays or torch tensors"),
    ([], ValueError, "empty list"),
])
def test_bad_parameters(params, error, message):
    with pytest.raises(error, match=message):
        optim.SGD(params, lr=0.1)


def test_numpy_parameters_need_gradients():
    with pytest.raises(TypeError, match="need their gradients passed in"):
        optim.SGD([np.zeros(2)], lr=0.1).step()


@pytest.mark.parametrize("make,name", [
    (lambda: optim.step_decay(0.1, step_size=0), "step_size"),
    (lambda: optim.cosine_annealing(0.1, T_max=10, eta_min=-1), "eta_min"),
    (lambda: optim.linear_warmup(0.1, start_factor=0.0), "start_factor"),
    (lambda: optim.exponential_decay(-0.1, gamma=0.9), "lr"),
    (lambda: optim.clip_grad_norm_([np.ones(2)], max_norm=0), "max_norm"),
    (lambda: optim.clip_grad_value_([np.ones(2)], clip_value=-1), "clip_value"),
])
def test_bad_schedule_and_clip_arguments(make, name):
    with pytest.raises(ValueError, match=name):
        make()


def test_sequential_needs_matching_milestones():
    with pytest.raises(ValueError, match="2 schedules need 1 milestones"):
        optim.sequential([optim.constant(0.1), optim.constant(0.01)], milestones=[])


# ---------------------------------------------------- one rule, three kinds of arithmetic
RULES_FOR_BLOCKS = ALL + [
    lambda p: optim.SGD(p, lr=0.1, momentum=0.9, dampening=0.3, weight_decay=0.01),
    lambda p: optim.Adam(p, lr=0.1, weight_decay=0.1, maximize=True),
    lambda p: optim.AdamW(p, lr=0.1),
    lambda p: optim.RMSprop(p, lr=0.01, weight_decay=0.1),
    lambda p: optim.Adagrad(p, lr=0.1, weight_decay=0.1, maximize=True),
]


@pytest.mark.parametrize("which", range(len(RULES_FOR_BLOCKS)))
def test_block_by_block_equals_whole_arrays_bitwise(which):
    """A large C-contiguous array is updated block by block, a Fortran-ordered one whole:
    the numbers are identical (the NumPy path's arithmetic does not depend on blocking), and
    a float64 torch tensor gets the very same numbers as the NumPy array."""
    torch = pytest.importorskip("torch")
    from trainart.optim import base

    rng = np.random.default_rng(which)
    shape = (base._BLOCK // 64 + 3, 130)  # more than two blocks, with a partial last one
    start = rng.standard_normal(shape).astype(np.float32)
    grads = [rng.standard_normal(shape).astype(np.float32) for _ in range(3)]
    blocked, whole = start.copy(), np.asfortranarray(start)
    start64 = start.astype(np.float64)
    as_numpy64, as_tensor64 = start64.copy(), torch.tensor(start64)
    opts = [RULES_FOR_BLOCKS[which]([x]) for x in (blocked, whole, as_numpy64, as_tensor64)]
    for g in grads:
        opts[0].step([g])
        opts[1].step([np.asfortranarray(g)])
        opts[2].step([g.astype(np.float64)])
        opts[3].step([torch.tensor(g.astype(np.float64))])
    assert not np.array_equal(blocked, start)
    np.testing.assert_array_equal(blocked, whole)
    np.testing.assert_allclose(as_numpy64, as_tensor64.numpy(), rtol=1e-10, atol=1e-13)
    if type(opts[0]) is optim.SGD:
        np.testing.assert_array_equal(as_numpy64, as_tensor64.numpy())


FUSED = [
    ("sgd", optim.SGD, "SGD", dict(lr=0.01)),
    ("momentum-decay", optim.SGD, "SGD", dict(lr=0.01, momentum=0.9, dampening=0.1,
                                              weight_decay=0.01)),
    ("nesterov-maximize", optim.SGD, "SGD", dict(lr=0.01, momentum=0.9, nesterov=True,
                                                 maximize=True)),
    ("adam-l2-amsgrad", optim.Adam, "Adam", dict(lr=0.01, weight_decay=0.1, amsgrad=True)),
    ("adam-maximize", optim.Adam, "Adam", dict(lr=0.01, betas=(0.8, 0.99), maximize=True)),
    ("adamw", optim.AdamW, "AdamW", dict(lr=0.01, weight_decay=0.1)),
]


@pytest.mark.parametrize("name,ta_cls,torch_name,kwargs", FUSED, ids=[f[0] for f in FUSED])
def test_float32_tensors_take_torchs_own_steps_bitwise(name, ta_cls, torch_name, kwargs):
    """On float32 tensors SGD and Adam run torch's fused kernels in torch's order: the
    parameters equal torch.optim's single-tensor step bit for bit, on any CPU."""
    torch = pytest.importorskip("torch")
    gen = torch.Generator().manual_seed(0)
    start = torch.randn(3, 1000, generator=gen)
    ours, theirs = torch.nn.Parameter(start.clone()), torch.nn.Parameter(start.clone())
    opt = ta_cls([ours], **kwargs)
    ref = getattr(torch.optim, torch_name)([theirs], **kwargs, foreach=False)
    for _ in range(30):
        g = torch.randn(3, 1000, generator=gen)
        ours.grad, theirs.grad = g.clone(), g.clone()
        opt.step()
        ref.step()
    assert not torch.equal(ours, start)
    assert torch.equal(ours, theirs)
    for key, value in ref.state[theirs].items():
        if key != "step":
            assert torch.equal(opt.state[ours][key], value), key


@settings(max_examples=30, deadline=None)
@given(params_st, st.floats(1e-4, 1.0))
def test_maximize_steps_up_the_gradient(theta, lr):
    p = theta.copy()
    g = np.ones_like(theta)
    optim.SGD([p], lr=lr, maximize=True).step([g])
    np.testing.assert_allclose(p, theta + lr, rtol=1e-12, atol=1e-12)
