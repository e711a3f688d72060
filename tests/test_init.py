"""Weight initializers: fans and gains equal torch's, measured stds equal the formulas (and
torch.nn.init's), uniform bounds, seeding, init_module_, and the errors bad input raises."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from trainart import init

# Non-square shapes, so that fan_in, fan_out and their mean all differ.
DENSE = (400, 2500)          # fan_in 2500, fan_out 400, 1e6 entries
CONV = (256, 128, 3, 3)      # fan_in 1152, fan_out 2304, 295k entries
# An empirical std of N >= 2.9e5 draws is within 1/sqrt(2N) ~ 0.13 % of the truth (1 sigma):
# 1 % is > 7 sigma, while every formula slip (sqrt(2) vs 2, fan_in vs fan_out, std vs
# variance, sqrt(1/n) vs sqrt(3/n)) changes the std by far more.
REL = 0.01

# (scheme, kwargs, the torch.nn.init function and its kwargs, the std by hand for DENSE)
SCHEMES = [
    ("lecun_normal", {}, None, 1 / math.sqrt(2500)),
    ("lecun_uniform", {}, None, 1 / math.sqrt(2500)),
    ("lecun_normal", {"mode": "fan_out"}, None, 1 / math.sqrt(400)),
    ("xavier_normal", {}, (nn.init.xavier_normal_, {}), math.sqrt(2 / 2900)),
    ("xavier_uniform", {}, (nn.init.xavier_uniform_, {}), math.sqrt(2 / 2900)),
    ("xavier_normal", {"gain": 5 / 3}, (nn.init.xavier_normal_, {"gain": 5 / 3}),
     5 / 3 * math.sqrt(2 / 2900)),
    ("kaiming_normal", {}, (nn.init.kaiming_normal_, {}), math.sqrt(2 / 2500)),
    ("kaiming_uniform", {}, (nn.init.kaiming_uniform_, {}), math.sqrt(2 / 2500)),
    ("kaiming_normal", {"mode": "fan_out", "nonlinearity": "relu"},
     (nn.init.kaiming_normal_, {"mode": "fan_out", "nonlinearity": "relu"}), math.sqrt(2 / 400)),
    ("kaiming_uniform", {"a": 0.2, "nonlinearity": "leaky_relu"},
     (nn.init.kaiming_uniform_, {"a": 0.2, "nonlinearity": "leaky_relu"}),
     math.sqrt(2 / (1 + 0.04)) / math.sqrt(2500)),
    ("kaiming_normal", {"nonlinearity": "tanh"},
     (nn.init.kaiming_normal_, {"nonlinearity": "tanh"}), 5 / 3 / math.sqrt(2500)),
    ("he_normal", {}, (nn.init.kaiming_normal_, {}), math.sqrt(2 / 2500)),
    ("he_uniform", {}, (nn.init.kaiming_uniform_, {}), math.sqrt(2 / 2500)),
    # LeCun is Kaiming with the linear gain (torch has no lecun_*)
    ("lecun_uniform", {"mode": "fan_out"},
     (nn.init.kaiming_uniform_, {"mode": "fan_out", "nonlinearity": "linear"}),
     1 / math.sqrt(400)),
]
SCHEME_IDS = [f"{s}-{kw}" for s, kw, _, _ in SCHEMES]


def _torch_sample(fn, kwargs, shape, seed=0):
    w = torch.empty(shape, dtype=torch.float64)
    fn(w, generator=torch.Generator().manual_seed(seed), **kwargs)
    return w.numpy()


# ----------------------------------------------------------------------- fans and gains

@pytest.mark.parametrize("shape", [(3, 5), (400, 2500), (16, 3, 5), (8, 4, 3, 3),
                                   (256, 128, 3, 3), (2, 3, 4, 5, 6), (1, 1), (7, 1, 1, 1)])
def test_fans_equal_torch(shape):
    expected = nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))
    assert init.fans(shape) == expected
    assert init.fans(torch.Size(shape)) == expected
    assert init.fans(list(shape)) == expected


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(1, 6), min_size=2, max_size=5))
def test_fans_equal_torch_for_any_shape(shape):
    assert init.fans(shape) == nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))


def test_fans_of_a_dense_and_a_conv_weight_by_hand():
    assert init.fans((10, 784)) == (784, 10)  # nn.Linear(784, 10).weight is (10, 784)
    assert init.fans((64, 3, 5, 5)) == (75, 1600)


GAIN_CASES = [("linear", None), ("conv1d", None), ("conv2d", None), ("conv3d", None),
              ("conv_transpose1d", None), ("conv_transpose2d", None),
              ("conv_transpose3d", None), ("sigmoid", None), ("tanh", None), ("relu", None),
              ("relu", 0.3), ("leaky_relu", None), ("leaky_relu", 0.2), ("leaky_relu", 0),
              ("leaky_relu", 1), ("leaky_relu", math.sqrt(5)), ("selu", None)]


@pytest.mark.parametrize("nonlinearity, param", GAIN_CASES)
def test_calculate_gain_equals_torch(nonlinearity, param):
    ours = init.calculate_gain(nonlinearity, param)
    assert isinstance(ours, float)
    assert ours == pytest.approx(nn.init.calculate_gain(nonlinearity, param), rel=1e-15)


def test_calculate_gain_by_hand():
    assert init.calculate_gain("relu") == math.sqrt(2)
    assert init.calculate_gain("tanh") == 5 / 3
    assert init.calculate_gain("leaky_relu") == math.sqrt(2 / (1 + 0.01**2))
    assert init.calculate_gain("leaky_relu", 0) == math.sqrt(2)
    assert init.calculate_gain("selu") == 0.75


def test_calculate_gain_rejects_what_torch_rejects():
    for bad in ("swish", "Relu", "gelu"):
        with pytest.raises(ValueError, match="calculate_gain: unsupported nonlinearity"):
            init.calculate_gain(bad)
        with pytest.raises(ValueError):
            nn.init.calculate_gain(bad)
    with pytest.raises(ValueError, match="calculate_gain: param"):
        init.calculate_gain("leaky_relu", True)
    with pytest.raises(ValueError, match="calculate_gain: param"):
        init.calculate_gain("leaky_relu", "0.2")


# --------------------------------------------------------------------------- the stds

@pytest.mark.parametrize("scheme, kwargs, torch_fn, std", SCHEMES, ids=SCHEME_IDS)
def test_init_std_is_the_formula(scheme, kwargs, torch_fn, std):
    assert init.init_std(scheme, DENSE, **kwargs) == pytest.approx(std, rel=1e-14)


@pytest.mark.parametrize("scheme, kwargs, torch_fn, std", SCHEMES, ids=SCHEME_IDS)
@pytest.mark.parametrize("shape", [DENSE, CONV], ids=["dense", "conv"])
def test_measured_std_matches_init_std_and_torch(scheme, kwargs, torch_fn, std, shape):
    w = init.SCHEMES[scheme](shape, rng=0, **kwargs)
    assert w.shape == shape and w.dtype == np.float64
    target = init.init_std(scheme, shape, **kwargs)
    assert w.std() == pytest.approx(target, rel=REL)
    assert abs(w.mean()) < 5 * target / math.sqrt(w.size)
    if torch_fn is not None:
        fn, tkwargs = torch_fn
        assert w.std() == pytest.approx(_torch_sample(fn, tkwargs, shape).std(), rel=REL)


@pytest.mark.parametrize("family, kwargs", [("lecun", {}), ("xavier", {"gain": 2.0}),
                                            ("kaiming", {"nonlinearity": "relu"})])
def test_normal_and_uniform_twins_have_the_same_std(family, kwargs):
    a = init.SCHEMES[f"{family}_normal"](DENSE, rng=1, **kwargs)
    b = init.SCHEMES[f"{family}_uniform"](DENSE, rng=2, **kwargs)
    assert a.std() == pytest.approx(b.std(), rel=REL)
    assert init.init_std(f"{family}_normal", DENSE, **kwargs) == init.init_std(
        f"{family}_uniform", DENSE, **kwargs)


@pytest.mark.parametrize("scheme, kwargs, bound", [
    ("lecun_uniform", {}, math.sqrt(3 / 2500)),                        # not sqrt(1/n)
    ("xavier_uniform", {}, math.sqrt(6 / 2900)),
    ("kaiming_uniform", {"nonlinearity": "relu"}, math.sqrt(6 / 2500)),
    ("uniform", {"low": -0.3, "high": 0.3}, 0.3),
])
def test_uniform_bounds_are_respected_and_reached(scheme, kwargs, bound):
    w = init.SCHEMES[scheme](DENSE, rng=3, **kwargs)
    assert np.max(np.abs(w)) <= bound
    # with 1e6 draws, none within 0.1 % of the edge has probability ~e^-1000
    assert np.max(w) > 0.999 * bound and np.min(w) < -0.999 * bound
    assert init.init_std(scheme, DENSE, **kwargs) == pytest.approx(bound / math.sqrt(3),
                                                                   rel=1e-14)


def test_the_notes_wrote_std_where_they_said_variance():
    n = 2500
    w = init.lecun_normal((400, n), rng=4)
    assert w.var() == pytest.approx(1 / n, rel=2 * REL)           # the variance is 1/n ...
    assert w.std() == pytest.approx(math.sqrt(1 / n), rel=REL)    # ... sqrt(1/n) is the std
    he = init.kaiming_normal((400, n), nonlinearity="relu", rng=5)
    assert he.std() == pytest.approx(math.sqrt(2 / n), rel=REL)   # not 2/sqrt(n)


def test_plain_fillers():
    assert np.array_equal(init.zeros((2, 3)), np.zeros((2, 3)))
    assert init.zeros(4).dtype == np.float64
    np.testing.assert_array_equal(init.constant((2, 2), 0.5), np.full((2, 2), 0.5))
    w = init.normal(DENSE, std=0.02, mean=1.0, rng=0)
    assert w.std() == pytest.approx(0.02, rel=REL)
    assert w.mean() == pytest.approx(1.0, abs=5 * 0.02 / 1000)
    assert init.init_std("normal", DENSE, std=0.02) == 0.02
    u = init.uniform(5, low=2.0, high=3.0, rng=0)
    assert u.shape == (5,) and np.all((u >= 2.0) & (u < 3.0))
    assert init.init_std("uniform", (3,), low=0.0, high=1.0) == pytest.approx(1 / math.sqrt(12))
    assert init.init_std("zeros", (3, 3)) == 0.0
    assert init.init_std("constant", (3, 3), value=2.0) == 0.0


# ------------------------------------------------------------------------------ seeding

@pytest.mark.parametrize("scheme", ["normal", "uniform", "lecun_normal", "lecun_uniform",
                                    "xavier_normal", "xavier_uniform", "kaiming_normal",
                                    "kaiming_uniform"])
def test_seeds_make_arrays_reproducible(scheme):
    f = init.SCHEMES[scheme]
    np.testing.assert_array_equal(f((20, 30), rng=7), f((20, 30), rng=7))
    np.testing.assert_array_equal(f((20, 30), rng=7), f((20, 30), rng=np.random.default_rng(7)))
    assert not np.array_equal(f((20, 30), rng=7), f((20, 30), rng=8))
    assert not np.array_equal(f((20, 30), rng=None), f((20, 30), rng=None))
    gen = np.random.default_rng(7)  # a generator is advanced, not restarted
    assert not np.array_equal(f((20, 30), rng=gen), f((20, 30), rng=gen))


def test_aliases_and_schemes():
    assert init.he_normal is init.kaiming_normal
    assert init.he_uniform is init.kaiming_uniform
    assert {"lecun_normal", "lecun_uniform", "xavier_normal", "xavier_uniform",
            "kaiming_normal", "kaiming_uniform", "he_normal", "he_uniform", "normal",
            "uniform", "zeros", "constant"} <= set(init.SCHEMES)


# --------------------------------------------------------------------------- modules

def test_init_module_fills_an_mlp():
    torch.manual_seed(0)
    mlp = nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 256), nn.ReLU(),
                        nn.Linear(256, 10))
    out = init.init_module_(mlp, "kaiming_normal", seed=0, nonlinearity="relu")
    assert out is mlp
    for layer, fan_in in [(mlp[0], 784), (mlp[2], 512)]:
        w = layer.weight.detach().numpy()
        assert layer.weight.dtype == torch.float32
        assert w.std() == pytest.approx(math.sqrt(2 / fan_in), rel=REL)
        assert torch.count_nonzero(layer.bias) == 0
    # the last layer is small (2560 entries): a looser, still ~10-sigma tolerance
    assert mlp[4].weight.detach().numpy().std() == pytest.approx(math.sqrt(2 / 256), rel=0.15)
    assert torch.count_nonzero(mlp[4].bias) == 0


def test_init_module_is_deterministic_and_keeps_dtype_for_convs():
    def net():
        return nn.Sequential(nn.Conv2d(64, 128, 3), nn.ReLU(), nn.Conv1d(4, 8, 5, bias=False),
                             nn.Linear(8, 3)).double()

    a = init.init_module_(net(), "xavier_uniform", seed=3)
    b = init.init_module_(net(), "xavier_uniform", seed=3)
    c = init.init_module_(net(), "xavier_uniform", seed=4)
    for pa, pb in zip(a.parameters(), b.parameters()):
        assert pa.dtype == torch.float64
        assert torch.equal(pa, pb)
    assert not torch.equal(a[0].weight, c[0].weight)
    w = a[0].weight.detach().numpy()
    bound = math.sqrt(6 / (64 * 9 + 128 * 9))
    assert np.max(np.abs(w)) <= bound and np.max(np.abs(w)) > 0.99 * bound
    assert w.std() == pytest.approx(init.init_std("xavier_uniform", w.shape), rel=REL)
    assert torch.count_nonzero(a[0].bias) == 0 and torch.count_nonzero(a[3].bias) == 0
    # the layers draw from one generator in turn: the same layer type differs between layers
    d = init.init_module_(nn.Sequential(nn.Linear(5, 5), nn.Linear(5, 5)), "normal", seed=0)
    assert not torch.equal(d[0].weight, d[1].weight)


def test_init_module_leaves_other_parameters_alone_and_takes_a_callable():
    m = nn.Sequential(nn.Linear(4, 4), nn.BatchNorm1d(4))
    init.init_module_(m, "constant", value=0.5)
    assert torch.all(m[0].weight == 0.5)
    assert torch.all(m[1].weight == 1.0)  # BatchNorm's gamma untouched
    init.init_module_(m, lambda shape, rng: np.full(shape, 2.0))
    assert torch.all(m[0].weight == 2.0)


# ---------------------------------------------------------------------------- errors

@pytest.mark.parametrize("scheme", ["lecun_normal", "lecun_uniform", "xavier_normal",
                                    "xavier_uniform", "kaiming_normal", "kaiming_uniform"])
def test_fan_based_initializers_reject_bad_shapes(scheme):
    f = init.SCHEMES[scheme]
    with pytest.raises(ValueError, match=f"{scheme}: shape .*at least 2 dimensions"):
        f((10,))
    with pytest.raises(ValueError, match=f"{scheme}: shape .*at least 2 dimensions"):
        f(10)
    with pytest.raises(ValueError, match=f"{scheme}: shape .*zero-size"):
        f((0, 10))
    with pytest.raises(ValueError, match=f"{scheme}: shape .*zero-size"):
        f((4, 3, 0, 3))
    with pytest.raises(ValueError, match=f"{scheme}: shape"):
        f((-1, 3))
    with pytest.raises(TypeError, match=f"{scheme}: shape"):
        f((2.5, 3))


def test_fans_rejects_fewer_than_two_dimensions():
    with pytest.raises(ValueError, match="fans: .*fan-based initializers need a weight of at "
                                         "least 2 dimensions"):
        init.fans((5,))
    with pytest.raises(ValueError, match="fans: .*at least 2 dimensions"):
        init.fans(())


@pytest.mark.parametrize("scheme", ["lecun_normal", "lecun_uniform", "kaiming_normal",
                                    "kaiming_uniform"])
def test_bad_mode_raises(scheme):
    with pytest.raises(ValueError, match=f"{scheme}: mode must be 'fan_in' or 'fan_out'"):
        init.SCHEMES[scheme]((3, 4), mode="fan_avg")
    with pytest.raises(ValueError, match="mode must be"):
        init.init_std(scheme, (3, 4), mode="FAN")


def test_bad_nonlinearity_gain_rng_and_scheme_raise():
    with pytest.raises(ValueError, match="kaiming_normal: unsupported nonlinearity 'swish'"):
        init.kaiming_normal((3, 4), nonlinearity="swish")
    with pytest.raises(ValueError, match="kaiming_uniform: param"):
        init.kaiming_uniform((3, 4), a="0.1")
    with pytest.raises(ValueError, match="xavier_normal: gain"):
        init.xavier_normal((3, 4), gain=-1.0)
    with pytest.raises(ValueError, match="normal: std"):
        init.normal((3, 4), std=-0.1)
    with pytest.raises(ValueError, match="uniform: need finite low <= high"):
        init.uniform((3, 4), low=1.0, high=0.0)
    with pytest.raises(TypeError, match="lecun_normal: rng"):
        init.lecun_normal((3, 4), rng="seed")
    with pytest.raises(TypeError, match="lecun_normal: rng"):
        init.lecun_normal((3, 4), rng=-1)
    with pytest.raises(ValueError, match="init_std: unknown scheme 'orthogonal'.*kaiming"):
        init.init_std("orthogonal", (3, 4))
    with pytest.raises(TypeError, match="init_std: bad arguments"):
        init.init_std("xavier_normal", (3, 4), mode="fan_in")
    with pytest.raises(ValueError, match="init_module_: unknown scheme"):
        init.init_module_(nn.Linear(2, 2), "he")
    with pytest.raises(TypeError, match="init_module_: module"):
        init.init_module_(np.zeros((2, 2)))
