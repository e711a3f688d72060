r"""Weight initializers (LeCun, Xavier/Glorot, Kaiming/He) as NumPy functions, equal in
distribution to ``torch.nn.init``.

Every initializer takes a ``shape`` and returns a new float64 array; the random ones take
``rng``: an ``np.random.Generator``, an int seed, or ``None`` (fresh entropy). Weights follow
PyTorch's layout ``(out_features, in_features, *kernel)``, so

.. math::

    n_\text{in} = \text{in\_features} \cdot \textstyle\prod \text{kernel}, \qquad
    n_\text{out} = \text{out\_features} \cdot \textstyle\prod \text{kernel}.

The idea shared by all three schemes: a unit :math:`y = \sum_{i=1}^{n} w_i x_i` with
independent zero-mean weights and inputs has :math:`\operatorname{Var}(y) =
n\,\operatorname{Var}(w)\operatorname{Var}(x)`, so choosing :math:`\operatorname{Var}(w) =
g^2/n` keeps the signal's variance from layer to layer (the gain :math:`g` undoes what the
nonlinearity removes: :math:`\sqrt2` for ReLU, which zeroes half its inputs).

**Variance and standard deviation differ.** The formulas below give the standard deviation
:math:`\sigma`; the variance is :math:`\sigma^2`. The lecture notes write
:math:`\operatorname{Var}(W) = \sqrt{1/n_\text{in}}`: that square root is the *std*, the
variance is :math:`1/n_\text{in}`. A uniform :math:`U(-b, b)` has std :math:`b/\sqrt3`, so the
bound for a target std is :math:`b = \sqrt3\,\sigma` (LeCun uniform: :math:`\sqrt{3/n}`, not
:math:`\sqrt{1/n}`).
"""

from __future__ import annotations

import math
import operator

import numpy as np

from . import _checks

__all__ = [
    "calculate_gain", "fans", "zeros", "constant", "normal", "uniform",
    "lecun_normal", "lecun_uniform", "xavier_normal", "xavier_uniform",
    "kaiming_normal", "kaiming_uniform", "he_normal", "he_uniform",
    "init_std", "SCHEMES", "init_module_",
]

_LINEAR_FNS = ("linear", "conv1d", "conv2d", "conv3d",
               "conv_transpose1d", "conv_transpose2d", "conv_transpose3d")
_MODES = ("fan_in", "fan_out")


# ------------------------------------------------------------------------------ helpers

def _shape(owner: str, shape) -> tuple[int, ...]:
    """A tuple of non-negative ints from an int or a sequence of ints (``torch.Size`` too)."""
    if _checks.is_integer(shape):
        shape = (shape,)
    try:
        dims = tuple(operator.index(d) for d in shape)
        if any(isinstance(d, (bool, np.bool_)) for d in shape):
            raise TypeError
    except TypeError:
        raise TypeError(f"{owner}: shape must be an int or a sequence of ints, "
                        f"got {shape!r}") from None
    if any(d < 0 for d in dims):
        raise ValueError(f"{owner}: shape must have non-negative sizes, got {dims}")
    return dims


def _fans(owner: str, shape) -> tuple[int, int]:
    dims = _shape(owner, shape)
    if len(dims) < 2:
        raise ValueError(
            f"{owner}: shape {dims} has {len(dims)} dimension(s); fan-based initializers need "
            "a weight of at least 2 dimensions (out_features, in_features, *kernel)")
    if 0 in dims:
        raise ValueError(f"{owner}: shape {dims} has a zero-size dimension; fan-based "
                         "initializers need a non-empty weight")
    receptive = math.prod(dims[2:])
    return dims[1] * receptive, dims[0] * receptive


def _fan(owner: str, shape, mode: str) -> int:
    if mode not in _MODES:
        raise ValueError(f"{owner}: mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = _fans(owner, shape)
    return fan_in if mode == "fan_in" else fan_out



def _gain(owner: str, nonlinearity, param=None) -> float:
    try:
        return calculate_gain(nonlinearity, param)
    except ValueError as err:
        raise ValueError(f"{owner}: {str(err).removeprefix('calculate_gain: ')}") from None


# --------------------------------------------------------------------------- gain, fans

def calculate_gain(nonlinearity: str, param=None) -> float:
    r"""The gain :math:`g` that the std of a layer followed by ``nonlinearity`` is scaled by.

    ================================================  =============================================
    nonlinearity                                      gain
    ================================================  =============================================
    linear, conv{1,2,3}d, conv_transpose{1,2,3}d      :math:`1`
    sigmoid                                           :math:`1`
    tanh                                              :math:`5/3`
    relu                                              :math:`\sqrt{2}`
    leaky_relu (``param`` = slope :math:`a`)          :math:`\sqrt{2/(1 + a^2)}`, :math:`a` = 0.01
                                                      by default
    selu                                              :math:`3/4`
    ================================================  =============================================

    ReLU's :math:`\sqrt2`: it zeroes half of a symmetric input, halving the second moment, so
    the weights' variance is doubled to make up for it (He et al., 2015).

    Args:
        nonlinearity: the ``torch.nn.functional`` name of the function after the layer.
        param: the negative slope for ``"leaky_relu"`` (an int or a float; ignored otherwise).

    Returns:
        The gain, a float.

    Raises:
        ValueError: for an unknown ``nonlinearity`` or a slope that is not a number.

    Reference: ``torch.nn.init.calculate_gain`` (same names, same values).
    """
    if nonlinearity in _LINEAR_FNS or nonlinearity == "sigmoid":
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, (int, float)) and not isinstance(param, bool):
            slope = param
        else:
            raise ValueError(f"calculate_gain: param (the negative slope of leaky_relu) must "
                             f"be a number, got {param!r}")
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    names = ", ".join((*_LINEAR_FNS, "sigmoid", "tanh", "relu", "leaky_relu", "selu"))
    raise ValueError(f"calculate_gain: unsupported nonlinearity {nonlinearity!r}; "
                     f"choose one of {names}")


def fans(shape) -> tuple[int, int]:
    r"""``(fan_in, fan_out)`` of a weight of shape ``(out_features, in_features, *kernel)``.

    .. math::

        n_\text{in} = \text{shape}[1] \cdot \textstyle\prod_{k \ge 2} \text{shape}[k],\qquad
        n_\text{out} = \text{shape}[0] \cdot \textstyle\prod_{k \ge 2} \text{shape}[k]

    ``fan_in`` is the number of inputs each output unit sums (what the forward pass sees);
    ``fan_out`` the number of outputs each input feeds (what the backward pass sees).

    Args:
        shape: a sequence of ints, e.g. ``w.shape``.

    Returns:
        ``(fan_in, fan_out)``.

    Raises:
        ValueError: for fewer than 2 dimensions or a zero-size dimension.

    Reference: ``torch.nn.init._calculate_fan_in_and_fan_out``.
    """
    return _fans("fans", shape)


# ------------------------------------------------------------------------ plain fillers

def zeros(shape, rng=None) -> np.ndarray:
    """A float64 array of zeros. Every unit then computes the same thing and receives the same
    gradient, so the symmetry is never broken: fine for biases, useless for weights.

    ``rng`` is accepted and ignored, so that every entry of :data:`SCHEMES` takes it.
    """
    return np.zeros(_shape("zeros", shape))


def constant(shape, value: float, rng=None) -> np.ndarray:
    """A float64 array filled with ``value`` (``torch.nn.init.constant_``); ``rng`` is ignored."""
    return np.full(_shape("constant", shape), _checks.number("constant", "value", value))


def normal(shape, std: float = 1.0, mean: float = 0.0, rng=None) -> np.ndarray:
    r"""Samples of :math:`\mathcal N(\mu, \sigma^2)`: ``std`` is :math:`\sigma`, not the variance.

    Args:
        shape: the array's shape. std: :math:`\sigma \ge 0`. mean: :math:`\mu`.
        rng: an ``np.random.Generator``, an int seed or ``None``.

    Reference: ``torch.nn.init.normal_`` (note its argument order is ``mean, std``).
    """
    dims = _shape("normal", shape)
    std = _checks.non_negative("normal", "std", std)
    mean = _checks.number("normal", "mean", mean)
    return _checks.generator("normal", rng).normal(mean, std, size=dims)


def uniform(shape, low: float = -1.0, high: float = 1.0, rng=None) -> np.ndarray:
    r"""Samples of :math:`U(\text{low}, \text{high})`, whose std is
    :math:`(\text{high} - \text{low})/\sqrt{12}` (:math:`b/\sqrt3` for :math:`U(-b, b)`).

    Args:
        shape: the array's shape. low, high: the interval, ``low <= high``.
        rng: an ``np.random.Generator``, an int seed or ``None``.

    Reference: ``torch.nn.init.uniform_`` (its arguments are ``a, b``).
    """
    dims = _shape("uniform", shape)
    low = _checks.number("uniform", "low", low)
    high = _checks.number("uniform", "high", high)
    if not (math.isfinite(low) and math.isfinite(high) and low <= high):
        raise ValueError(f"uniform: need finite low <= high, got low={low!r}, high={high!r}")
    return _checks.generator("uniform", rng).uniform(low, high, size=dims)


def _sample(owner: str, shape, std: float, dist: str, rng) -> np.ndarray:
    dims = _shape(owner, shape)
    gen = _checks.generator(owner, rng)
    if dist == "normal":
        return gen.normal(0.0, std, size=dims)
    bound = math.sqrt(3.0) * std  # U(-b, b) has std b / sqrt(3)
    return gen.uniform(-bound, bound, size=dims)


# ------------------------------------------------------------------------ the std formulas

def _lecun_std(owner: str, shape, mode: str = "fan_in") -> float:
    return 1.0 / math.sqrt(_fan(owner, shape, mode))


def _xavier_std(owner: str, shape, gain: float = 1.0) -> float:
    gain = _checks.non_negative(owner, "gain", gain)
    fan_in, fan_out = _fans(owner, shape)
    return gain * math.sqrt(2.0 / (fan_in + fan_out))


def _kaiming_std(owner: str, shape, a: float = 0.0, mode: str = "fan_in",
                 nonlinearity: str = "leaky_relu") -> float:
    fan = _fan(owner, shape, mode)
    return _gain(owner, nonlinearity, a) / math.sqrt(fan)


# ------------------------------------------------------------------------------- LeCun

def lecun_normal(shape, mode: str = "fan_in", rng=None) -> np.ndarray:
    r"""LeCun normal: :math:`W \sim \mathcal N(0, \sigma^2)` with :math:`\sigma = 1/\sqrt{n}`.

    With :math:`\operatorname{Var}(W) = 1/n_\text{in}` a linear unit's output has the variance
    of its inputs. The *variance* is :math:`1/n`; :math:`1/\sqrt n` is the *std* (the lecture
    notes write :math:`\operatorname{Var}(W) = \sqrt{1/n_\text{in}}`, which is the std).
    This is Kaiming with the linear gain 1. A plain (not truncated) normal, as in PyTorch.

    Args:
        shape: ``(out_features, in_features, *kernel)``.
        mode: ``"fan_in"`` (preserve the forward signal) or ``"fan_out"`` (the backward one).
        rng: an ``np.random.Generator``, an int seed or ``None``.

    Reference: LeCun, Bottou, Orr and Müller (1998), "Efficient BackProp".
    """
    return _sample("lecun_normal", shape, _lecun_std("lecun_normal", shape, mode), "normal",
                   rng)


def lecun_uniform(shape, mode: str = "fan_in", rng=None) -> np.ndarray:
    r"""LeCun uniform: :math:`W \sim U(-b, b)` with :math:`b = \sqrt{3/n}`, std :math:`1/\sqrt n`.

    The same variance :math:`1/n` as :func:`lecun_normal`: a uniform on :math:`[-b, b]` has
    variance :math:`b^2/3`, so the bound is :math:`\sqrt{3/n}` (the lecture notes' bound
    :math:`\sqrt{1/n}` gives a variance three times too small).

    Args:
        shape: ``(out_features, in_features, *kernel)``. mode: ``"fan_in"`` or ``"fan_out"``.
        rng: an ``np.random.Generator``, an int seed or ``None``.

    Reference: LeCun, Bottou, Orr and Müller (1998), "Efficient BackProp".
    """
    return _sample("lecun_uniform", shape, _lecun_std("lecun_uniform", shape, mode), "uniform",
                   rng)


# --------------------------------------------------------------------------- Xavier/Glorot

def xavier_normal(shape, gain: float = 1.0, rng=None) -> np.ndarray:
    r"""Xavier (Glorot) normal: :math:`\sigma = g\,\sqrt{2/(n_\text{in} + n_\text{out})}`.

    The forward pass wants :math:`\operatorname{Var}(W) = 1/n_\text{in}`, the backward pass
    :math:`1/n_\text{out}`; Glorot and Bengio compromise on the harmonic mean
    :math:`2/(n_\text{in} + n_\text{out})`. That is the *variance* (for :math:`g = 1`); the std
    is its square root, which is what the lecture notes write as
    :math:`\operatorname{Var}(W)`. Meant for tanh/sigmoid-like (symmetric) activations.

    Args:
        shape: ``(out_features, in_features, *kernel)``. gain: :math:`g` (see
            :func:`calculate_gain`). rng: an ``np.random.Generator``, an int seed or ``None``.

    Reference: Glorot and Bengio (2010), "Understanding the difficulty of training deep
    feedforward neural networks"; ``torch.nn.init.xavier_normal_``.
    """
    return _sample("xavier_normal", shape, _xavier_std("xavier_normal", shape, gain), "normal",
                   rng)


def xavier_uniform(shape, gain: float = 1.0, rng=None) -> np.ndarray:
    r"""Xavier (Glorot) uniform: :math:`U(-b, b)`, :math:`b = g\sqrt{6/(n_\text{in} +
    n_\text{out})} = \sqrt3\,\sigma`.

    The same variance :math:`g^2 \cdot 2/(n_\text{in} + n_\text{out})` as
    :func:`xavier_normal`, from a uniform whose variance :math:`b^2/3` equals it.

    Args:
        shape: ``(out_features, in_features, *kernel)``. gain: :math:`g`.
        rng: an ``np.random.Generator``, an int seed or ``None``.

    Reference: Glorot and Bengio (2010), "Understanding the difficulty of training deep
    feedforward neural networks"; ``torch.nn.init.xavier_uniform_``.
    """
    return _sample("xavier_uniform", shape, _xavier_std("xavier_uniform", shape, gain),
                   "uniform", rng)


# ---------------------------------------------------------------------------- Kaiming/He

def kaiming_normal(shape, a: float = 0.0, mode: str = "fan_in",
                   nonlinearity: str = "leaky_relu", rng=None) -> np.ndarray:
    r"""Kaiming (He) normal: :math:`\sigma = g/\sqrt{n}`, :math:`g` from :func:`calculate_gain`.

    A ReLU zeroes half of a symmetric input, so :math:`E[\mathrm{relu}(y)^2] =
    \operatorname{Var}(y)/2`; doubling the variance, :math:`\operatorname{Var}(W) = 2/n`,
    keeps the second moment constant through the layers. The std is :math:`\sqrt{2/n}`: not
    :math:`2/\sqrt n`, and not the variance. With PyTorch's defaults (``a=0``,
    ``"leaky_relu"``) the gain is :math:`\sqrt{2/(1 + a^2)} = \sqrt2`, the ReLU value.

    Args:
        shape: ``(out_features, in_features, *kernel)``.
        a: the negative slope of the leaky ReLU after the layer (used for ``"leaky_relu"``).
        mode: ``"fan_in"`` (preserve the forward signal) or ``"fan_out"`` (the backward one).
        nonlinearity: a name :func:`calculate_gain` knows, ``"relu"`` or ``"leaky_relu"``
            in practice. rng: an ``np.random.Generator``, an int seed or ``None``.

    Reference: He, Zhang, Ren and Sun (2015), "Delving deep into rectifiers: surpassing
    human-level performance on ImageNet classification"; ``torch.nn.init.kaiming_normal_``.
    """
    std = _kaiming_std("kaiming_normal", shape, a, mode, nonlinearity)
    return _sample("kaiming_normal", shape, std, "normal", rng)


def kaiming_uniform(shape, a: float = 0.0, mode: str = "fan_in",
                    nonlinearity: str = "leaky_relu", rng=None) -> np.ndarray:
    r"""Kaiming (He) uniform: :math:`U(-b, b)` with :math:`b = \sqrt3\,g/\sqrt n`
    (:math:`\sqrt{6/n}` for ReLU), the same variance :math:`g^2/n` as :func:`kaiming_normal`.

    Note that ``torch.nn.Linear``'s *default* initialization is this with ``a=sqrt(5)``,
    i.e. :math:`b = 1/\sqrt{n_\text{in}}`, not He's :math:`\sqrt{6/n_\text{in}}`.

    Args:
        shape, a, mode, nonlinearity, rng: as for :func:`kaiming_normal`.

    Reference: He, Zhang, Ren and Sun (2015), "Delving deep into rectifiers";
    ``torch.nn.init.kaiming_uniform_``.
    """
    std = _kaiming_std("kaiming_uniform", shape, a, mode, nonlinearity)
    return _sample("kaiming_uniform", shape, std, "uniform", rng)


he_normal = kaiming_normal
he_uniform = kaiming_uniform


# --------------------------------------------------------------------------- by name

SCHEMES = {
    "zeros": zeros,
    "constant": constant,
    "normal": normal,
    "uniform": uniform,
    "lecun_normal": lecun_normal,
    "lecun_uniform": lecun_uniform,
    "xavier_normal": xavier_normal,
    "xavier_uniform": xavier_uniform,
    "kaiming_normal": kaiming_normal,
    "kaiming_uniform": kaiming_uniform,
    "he_normal": he_normal,
    "he_uniform": he_uniform,
}
"""Name -> initializer ``f(shape, ..., rng=None)``."""


def _std_zeros(owner, shape):
    _shape(owner, shape)
    return 0.0


def _std_constant(owner, shape, value=None):
    _shape(owner, shape)
    return 0.0


def _std_normal(owner, shape, std=1.0, mean=0.0):
    _shape(owner, shape)
    return _checks.non_negative(owner, "std", std)


def _std_uniform(owner, shape, low=-1.0, high=1.0):
    _shape(owner, shape)
    low, high = _checks.number(owner, "low", low), _checks.number(owner, "high", high)
    if not low <= high:
        raise ValueError(f"{owner}: need low <= high, got low={low!r}, high={high!r}")
    return (high - low) / math.sqrt(12.0)


_STD = {
    "zeros": _std_zeros,
    "constant": _std_constant,
    "normal": _std_normal,
    "uniform": _std_uniform,
    "lecun_normal": _lecun_std,
    "lecun_uniform": _lecun_std,
    "xavier_normal": _xavier_std,
    "xavier_uniform": _xavier_std,
    "kaiming_normal": _kaiming_std,
    "kaiming_uniform": _kaiming_std,
    "he_normal": _kaiming_std,
    "he_uniform": _kaiming_std,
}


def _scheme_name(owner: str, scheme: str) -> str:
    if scheme not in SCHEMES:
        raise ValueError(f"{owner}: unknown scheme {scheme!r}; choose one of "
                         f"{', '.join(SCHEMES)}")
    return scheme


def init_std(scheme: str, shape, **kwargs) -> float:
    r"""The standard deviation (not the variance) a scheme draws its weights with.

    ================  ==================================================================
    scheme            std :math:`\sigma` (variance :math:`\sigma^2`)
    ================  ==================================================================
    lecun_*           :math:`1/\sqrt{n}`
    xavier_*          :math:`g\sqrt{2/(n_\text{in} + n_\text{out})}`
    kaiming_*, he_*   :math:`g/\sqrt{n}`
    normal            ``std``
    uniform           :math:`(\text{high} - \text{low})/\sqrt{12}`
    zeros, constant   0
    ================  ==================================================================

    The ``*_uniform`` schemes have the same std as their ``*_normal`` twins, from the bound
    :math:`b = \sqrt3\,\sigma`.

    Args:
        scheme: a key of :data:`SCHEMES`. shape: the weight's shape.
        **kwargs: the scheme's own arguments (``mode``, ``gain``, ``a``, ``nonlinearity``,
            ``std``, ...); ``rng`` is accepted and ignored.

    Returns:
        The std, a float.
    """
    _scheme_name("init_std", scheme)
    kwargs.pop("rng", None)
    try:
        return float(_STD[scheme](f"init_std({scheme!r})", shape, **kwargs))
    except TypeError as err:
        if "unexpected keyword" in str(err) or "positional argument" in str(err):
            raise TypeError(f"init_std: bad arguments {sorted(kwargs)} for scheme "
                            f"{scheme!r}") from None
        raise


def init_module_(module, scheme="kaiming_normal", seed=0, **kwargs):
    """Fill every ``nn.Linear`` and ``nn.Conv*d`` weight of ``module`` from a NumPy scheme.

    The layers are visited in ``module.modules()`` order and all draw from one generator
    ``np.random.default_rng(seed)``, so the result depends only on ``seed``. Each weight is
    drawn in float64 at the weight's own shape (``(out, in, *kernel)``, so fans are computed
    as ``torch.nn.init`` computes them) and copied in with the weight's dtype and device kept;
    every bias is set to zero. Other parameters (norm layers, embeddings) are left alone.

    Args:
        module: a ``torch.nn.Module``.
        scheme: a key of :data:`SCHEMES`, or a callable ``f(shape, rng=..., **kwargs)``.
        seed: an int seed, an ``np.random.Generator`` or ``None``.
        **kwargs: passed to the scheme (``mode``, ``gain``, ``nonlinearity``, ...).

    Returns:
        ``module``, initialized in place.
    """
    import torch
    from torch import nn

    if not isinstance(module, nn.Module):
        raise TypeError(f"init_module_: module must be a torch.nn.Module, got "
                        f"{type(module).__name__}")
    if callable(scheme):
        fill = scheme
    elif isinstance(scheme, str):
        fill = SCHEMES[_scheme_name("init_module_", scheme)]
    else:
        raise TypeError(f"init_module_: scheme must be a name or a callable, got {scheme!r}")
    rng = _checks.generator("init_module_", seed)
    layers = (nn.Linear, nn.modules.conv._ConvNd)
    with torch.no_grad():
        for layer in module.modules():
            if not isinstance(layer, layers):
                continue
            w = fill(tuple(layer.weight.shape), rng=rng, **kwargs)
            layer.weight.copy_(torch.from_numpy(np.asarray(w, dtype=np.float64)))
            if layer.bias is not None:
                layer.bias.zero_()
    return module
