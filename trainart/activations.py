r"""Activation functions as forward/backward pairs (CS231n style), equal to PyTorch's.

Each ``*_forward(x, ...)`` returns ``(out, cache)`` and each ``*_backward(dout, cache)``
returns ``dx = dout * f'(x)``, elementwise: the cache holds exactly what the derivative needs
(the output for sigmoid and tanh, the input otherwise). Conventions follow PyTorch: the
derivative of ReLU at 0 is 0, of leaky ReLU at 0 is ``negative_slope``, of ELU at 0 is
``alpha``; GELU's ``approximate`` is ``"none"`` (exact, with erf) or ``"tanh"``.

Arrays keep a floating dtype (float32 stays float32); anything else becomes float64.

:data:`REGISTRY` is the one table of activations in trainart: for each name its
forward/backward pair, its ``torch.nn`` module (class name and the keyword arguments that
match the NumPy defaults) and whether it saturates. :class:`trainart.nn.MLP`,
:func:`trainart.models.mlp`, :class:`trainart.layers.Activation` and
:mod:`trainart.diagnostics` all read it. :func:`sigmoid` is trainart's one numerically stable
logistic function.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from . import _checks

__all__ = [
    "sigmoid_forward", "sigmoid_backward", "tanh_forward", "tanh_backward",
    "relu_forward", "relu_backward", "leaky_relu_forward", "leaky_relu_backward",
    "elu_forward", "elu_backward", "gelu_forward", "gelu_backward",
    "identity_forward", "identity_backward", "sigmoid", "sigmoid_and_derivative",
    "ActivationSpec", "REGISTRY", "ACTIVATIONS", "get", "spec", "torch_module",
]

_SQRT1_2 = 1.0 / math.sqrt(2.0)                       # torch's M_SQRT1_2
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)        # the standard normal density at 0
_GELU_TANH_BETA = math.sqrt(2.0 / math.pi)            # torch's kBeta = M_SQRT2 * M_2_SQRTPI / 2
_GELU_TANH_KAPPA = 0.044715



def _dout(owner: str, dout, shape) -> np.ndarray:
    dout = _checks.float_array(owner, "dout", dout)
    if dout.shape != tuple(shape):
        raise ValueError(f"{owner}: dout must have the forward output's shape {tuple(shape)}, "
                         f"got {dout.shape}")
    return dout


def _erf(x: np.ndarray) -> np.ndarray:
    try:
        from scipy.special import erf
    except ImportError:  # scipy is optional: fall back to the standard library, entry by entry
        return np.vectorize(math.erf, otypes=[x.dtype])(x) if x.size else x.copy()
    return erf(x)


# --------------------------------------------------------------------------------- sigmoid

def sigmoid(x) -> np.ndarray:
    r"""The logistic sigmoid, computed without overflow (trainart's one stable sigmoid).

    .. math::

        \sigma(x) = \frac{1}{1 + e^{-x}} =
        \begin{cases} 1/(1 + e^{-|x|}) & x \ge 0\\ e^{-|x|}/(1 + e^{-|x|}) & x < 0\end{cases}

    The second form only ever exponentiates :math:`-|x| \le 0`, so :math:`e^{(\cdot)}` never
    overflows (``x = -1e4`` gives ``0``, not a warning).

    Args:
        x: an array of any shape (a floating dtype is kept, anything else becomes float64).

    Returns:
        :math:`\sigma(x)`, the shape and dtype of ``x``.

    Reference: ``torch.sigmoid``.
    """
    return sigmoid_and_derivative(x)[0]


def sigmoid_and_derivative(x) -> tuple[np.ndarray, np.ndarray]:
    r""":math:`\sigma(x)` and :math:`\sigma'(x) = \sigma(x)(1 - \sigma(x))`, both stable.

    With :math:`e = e^{-|x|} \in (0, 1]`: :math:`\sigma'(x) = e / (1 + e)^2`, which keeps its
    relative accuracy in both tails (``s * (1 - s)`` rounds to 0 once :math:`\sigma(x)`
    rounds to 1, near :math:`x = 37`).

    Args:
        x: an array of any shape.

    Returns:
        ``(s, ds)``: :math:`\sigma(x)` and :math:`\sigma'(x)`, the shape and dtype of ``x``.
    """
    x = _checks.float_array("sigmoid", "x", x)
    e = np.exp(-np.abs(x))  # in (0, 1]: never overflows
    s = np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(x.dtype, copy=False)
    ds = (e / (1.0 + e) ** 2).astype(x.dtype, copy=False)
    return s, ds


def sigmoid_forward(x):
    r""":math:`\sigma(x) = 1/(1 + e^{-x})` as a forward function with its cache, computed by
    :func:`sigmoid` without overflow.

    Args:
        x: an array of any shape.

    Returns:
        ``(out, cache)``: :math:`\sigma(x)` and the output, which the derivative needs.

    Reference: ``torch.sigmoid``.
    """
    x = _checks.float_array("sigmoid_forward", "x", x)
    out = sigmoid(x)
    return out, out


def sigmoid_backward(dout, cache):
    r""":math:`dx = dout \cdot \sigma(x)\,(1 - \sigma(x))`, from the cached output.

    Args:
        dout: the upstream gradient, the shape of the output. cache: from ``sigmoid_forward``.

    Returns:
        ``dx``, the shape of ``x``.
    """
    out = cache
    dout = _dout("sigmoid_backward", dout, out.shape)
    return dout * (1.0 - out) * out


# ------------------------------------------------------------------------------------ tanh

def tanh_forward(x):
    r"""The hyperbolic tangent :math:`\tanh x = (e^{x} - e^{-x}) / (e^{x} + e^{-x})`.

    Args:
        x: an array of any shape.

    Returns:
        ``(out, cache)``: :math:`\tanh x` and the output, which the derivative needs.

    Reference: ``torch.tanh``.
    """
    x = _checks.float_array("tanh_forward", "x", x)
    out = np.tanh(x)
    return out, out


def tanh_backward(dout, cache):
    r""":math:`dx = dout \cdot (1 - \tanh^2 x)`, from the cached output.

    Args:
        dout: the upstream gradient. cache: from ``tanh_forward``.

    Returns:
        ``dx``, the shape of ``x``.
    """
    out = cache
    dout = _dout("tanh_backward", dout, out.shape)
    return dout * (1.0 - out * out)


# ------------------------------------------------------------------------------------ ReLU

def relu_forward(x):
    r"""The rectified linear unit :math:`\max(x, 0)`.

    Args:
        x: an array of any shape.

    Returns:
        ``(out, cache)``: :math:`\max(x, 0)` and the input.

    Reference: Nair and Hinton (2010), "Rectified linear units improve restricted Boltzmann
    machines"; ``torch.relu``.
    """
    x = _checks.float_array("relu_forward", "x", x)
    return np.maximum(x, 0.0).astype(x.dtype, copy=False), x


def relu_backward(dout, cache):
    r""":math:`dx = dout \cdot \mathbb{1}[x > 0]`: the derivative at 0 is taken as 0 (PyTorch).

    Args:
        dout: the upstream gradient. cache: from ``relu_forward``.

    Returns:
        ``dx``, the shape of ``x``.
    """
    x = cache
    dout = _dout("relu_backward", dout, x.shape)
    return np.where(x > 0, dout, 0.0).astype(dout.dtype, copy=False)


def leaky_relu_forward(x, negative_slope: float = 0.01):
    r"""Leaky ReLU: :math:`x` for :math:`x > 0`, else :math:`a x` with :math:`a` the slope.

    Args:
        x: an array of any shape.
        negative_slope: :math:`a`, the slope for negative inputs (PyTorch's default 0.01).

    Returns:
        ``(out, cache)``: the activation and ``(x, negative_slope)``.

    Reference: Maas et al. (2013), "Rectifier nonlinearities improve neural network acoustic
    models"; ``torch.nn.functional.leaky_relu``.
    """
    x = _checks.float_array("leaky_relu_forward", "x", x)
    slope = _checks.number("leaky_relu_forward", "negative_slope", negative_slope)
    out = np.where(x > 0, x, x * slope).astype(x.dtype, copy=False)
    return out, (x, slope)


def leaky_relu_backward(dout, cache):
    r""":math:`dx = dout` where :math:`x > 0`, else :math:`a \cdot dout` (also at 0, PyTorch).

    Args:
        dout: the upstream gradient. cache: from ``leaky_relu_forward``.

    Returns:
        ``dx``, the shape of ``x``.
    """
    x, slope = cache
    dout = _dout("leaky_relu_backward", dout, x.shape)
    return np.where(x > 0, dout, dout * slope).astype(dout.dtype, copy=False)


# ------------------------------------------------------------------------------------- ELU

def elu_forward(x, alpha: float = 1.0):
    r"""The exponential linear unit.

    .. math::

        \mathrm{ELU}(x) = \begin{cases} x & x > 0\\ \alpha\,(e^{x} - 1) & x \le 0\end{cases}

    computed with ``expm1`` so that small negative inputs keep their digits.

    Args:
        x: an array of any shape.
        alpha: :math:`\alpha`, the value the output saturates to is :math:`-\alpha`.

    Returns:
        ``(out, cache)``: the activation and ``(x, alpha)``.

    Reference: Clevert, Unterthiner and Hochreiter (2016), "Fast and accurate deep network
    learning by exponential linear units (ELUs)"; ``torch.nn.functional.elu``.
    """
    x = _checks.float_array("elu_forward", "x", x)
    alpha = _checks.number("elu_forward", "alpha", alpha)
    neg = alpha * np.expm1(np.minimum(x, 0.0))  # never exponentiates a positive number
    out = np.where(x > 0, x, neg).astype(x.dtype, copy=False)
    return out, (x, alpha)


def elu_backward(dout, cache):
    r""":math:`dx = dout` where :math:`x > 0`, else :math:`dout \cdot \alpha e^{x}`.

    At :math:`x = 0` the derivative is :math:`\alpha` (PyTorch's ``x <= 0`` branch).

    Args:
        dout: the upstream gradient. cache: from ``elu_forward``.

    Returns:
        ``dx``, the shape of ``x``.
    """
    x, alpha = cache
    dout = _dout("elu_backward", dout, x.shape)
    return np.where(x > 0, dout, dout * (alpha * np.exp(np.minimum(x, 0.0)))).astype(
        dout.dtype, copy=False)


# ------------------------------------------------------------------------------------ GELU

def gelu_forward(x, approximate: str = "none"):
    r"""The Gaussian error linear unit :math:`x\,\Phi(x)`, exact or with tanh.

    .. math::

        \mathrm{GELU}(x) &= x\,\Phi(x) = \tfrac12 x \bigl(1 + \operatorname{erf}(x/\sqrt2)\bigr)
        \quad\text{(approximate="none")}\\
        \mathrm{GELU}(x) &\approx \tfrac12 x \bigl(1 + \tanh\bigl(\sqrt{2/\pi}\,
        (x + 0.044715\,x^3)\bigr)\bigr) \quad\text{(approximate="tanh")}

    Args:
        x: an array of any shape.
        approximate: ``"none"`` (the exact form, with erf) or ``"tanh"``.

    Returns:
        ``(out, cache)``: the activation and ``(x, approximate)``.

    Reference: Hendrycks and Gimpel (2016), "Gaussian error linear units (GELUs)";
    ``torch.nn.functional.gelu``.
    """
    x = _checks.float_array("gelu_forward", "x", x)
    if not isinstance(approximate, str):
        raise TypeError(f"gelu_forward: approximate must be 'none' or 'tanh', "
                        f"got {type(approximate).__name__}")
    _checks.one_of("gelu_forward", "approximate", approximate, ("none", "tanh"))
    if approximate == "none":
        out = x * 0.5 * (1.0 + _erf(x * _SQRT1_2))
    else:
        inner = _GELU_TANH_BETA * (x + _GELU_TANH_KAPPA * (x * x * x))
        out = 0.5 * x * (1.0 + np.tanh(inner))
    return out.astype(x.dtype, copy=False), (x, approximate)


def gelu_backward(dout, cache):
    r"""The derivative of GELU, exact or of its tanh form (as PyTorch computes them).

    .. math::

        \frac{d}{dx}\, x\,\Phi(x) &= \Phi(x) + x\,\varphi(x),
        \qquad \varphi(x) = e^{-x^2/2}/\sqrt{2\pi}\\
        \frac{d}{dx}\, \tfrac12 x (1 + \tanh u) &= \tfrac12 (1 + \tanh u)
        + \tfrac12 x\,(1 - \tanh^2 u)\,\sqrt{2/\pi}\,(1 + 3 \cdot 0.044715\, x^2),
        \qquad u = \sqrt{2/\pi}\,(x + 0.044715\,x^3)

    Args:
        dout: the upstream gradient. cache: from ``gelu_forward``.

    Returns:
        ``dx``, the shape of ``x``.
    """
    x, approximate = cache
    dout = _dout("gelu_backward", dout, x.shape)
    if approximate == "none":
        cdf = 0.5 * (1.0 + _erf(x * _SQRT1_2))
        pdf = np.exp(-0.5 * x * x) * _INV_SQRT_2PI
        deriv = cdf + x * pdf
    else:
        x_sq = x * x
        t = np.tanh(_GELU_TANH_BETA * (x + _GELU_TANH_KAPPA * x_sq * x))
        d_inner = _GELU_TANH_BETA * (1.0 + 3.0 * _GELU_TANH_KAPPA * x_sq)
        deriv = 0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * d_inner
    return (dout * deriv).astype(dout.dtype, copy=False)


# -------------------------------------------------------------------------------- identity

def identity_forward(x):
    """The identity (a linear layer with no activation): returns ``(x, shape)``."""
    x = _checks.float_array("identity_forward", "x", x)
    return x, x.shape


def identity_backward(dout, cache):
    """:math:`dx = dout`."""
    return _dout("identity_backward", dout, cache).copy()


class ActivationSpec(NamedTuple):
    """One entry of :data:`REGISTRY`: everything trainart knows about an activation."""

    name: str
    """trainart's name (``"leaky_relu"``)."""
    forward: Callable
    """``forward(x, **kwargs) -> (out, cache)``."""
    backward: Callable
    """``backward(dout, cache) -> dx``."""
    torch_name: str
    """The ``torch.nn`` module class (``"LeakyReLU"``)."""
    torch_kwargs: dict
    """Its keyword arguments equal to the NumPy defaults (``{"negative_slope": 0.01}``);
    the NumPy forward takes the same names."""
    saturates: bool
    """Whether the output flattens out in both tails (sigmoid, tanh); the diagnostics count
    its saturated fraction."""


def _spec(name, forward, backward, torch_name, torch_kwargs=None, saturates=False):
    return ActivationSpec(name, forward, backward, torch_name, dict(torch_kwargs or {}),
                          saturates)


REGISTRY: dict[str, ActivationSpec] = {s.name: s for s in (
    _spec("sigmoid", sigmoid_forward, sigmoid_backward, "Sigmoid", saturates=True),
    _spec("tanh", tanh_forward, tanh_backward, "Tanh", saturates=True),
    _spec("relu", relu_forward, relu_backward, "ReLU"),
    _spec("leaky_relu", leaky_relu_forward, leaky_relu_backward, "LeakyReLU",
          {"negative_slope": 0.01}),
    _spec("elu", elu_forward, elu_backward, "ELU", {"alpha": 1.0}),
    _spec("gelu", gelu_forward, gelu_backward, "GELU", {"approximate": "none"}),
    _spec("identity", identity_forward, identity_backward, "Identity"),
)}
"""Name -> :class:`ActivationSpec`: the one table of activations that trainart reads."""

ACTIVATIONS = {name: (s.forward, s.backward) for name, s in REGISTRY.items()}
"""Name -> ``(forward, backward)`` (a view of :data:`REGISTRY`); the forwards take their
keyword defaults."""


def spec(name: str, owner: str = "spec") -> ActivationSpec:
    """The :class:`ActivationSpec` of an activation, by name.

    Args:
        name: one of the keys of :data:`REGISTRY`.
        owner: the function named in the error message.

    Raises:
        ValueError: for an unknown name; the message lists the known ones.
    """
    try:
        return REGISTRY[name]
    except (KeyError, TypeError):
        raise ValueError(f"{owner}: unknown activation name {name!r}; choose one of "
                         f"{', '.join(sorted(REGISTRY))}") from None


def get(name: str):
    """The ``(forward, backward)`` pair of an activation, by name.

    Args:
        name: one of the keys of :data:`ACTIVATIONS`.

    Raises:
        ValueError: for an unknown name; the message lists the known ones.
    """
    return ACTIVATIONS[spec(name, "get").name]


def torch_module(name: str, **kwargs):
    """The ``torch.nn`` module of an activation, e.g. ``torch_module("leaky_relu")`` is
    ``nn.LeakyReLU(negative_slope=0.01)``; ``kwargs`` override the registry's (the names of
    the NumPy forward's keyword arguments, which are torch's). Imports torch."""
    from torch import nn

    entry = spec(name, "torch_module")
    return getattr(nn, entry.torch_name)(**{**entry.torch_kwargs, **kwargs})
