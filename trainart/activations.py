r"""Activation functions as forward/backward pairs (CS231n style), equal to PyTorch's.

Each ``*_forward(x, ...)`` returns ``(out, cache)`` and each ``*_backward(dout, cache)``
returns ``dx = dout * f'(x)``, elementwise: the cache holds exactly what the derivative needs
(the output for sigmoid and tanh, the input otherwise). Conventions follow PyTorch: the
derivative of ReLU at 0 is 0, of leaky ReLU at 0 is ``negative_slope``, of ELU at 0 is
``alpha``; GELU's ``approximate`` is ``"none"`` (exact, with erf) or ``"tanh"``.

Arrays keep a floating dtype (float32 stays float32); anything else becomes float64.
"""

from __future__ import annotations

import math

import numpy as np

from . import _checks

__all__ = [
    "sigmoid_forward", "sigmoid_backward", "tanh_forward", "tanh_backward",
    "relu_forward", "relu_backward", "leaky_relu_forward", "leaky_relu_backward",
    "elu_forward", "elu_backward", "gelu_forward", "gelu_backward",
    "identity_forward", "identity_backward", "ACTIVATIONS", "get",
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

def sigmoid_forward(x):
    r"""The logistic sigmoid, computed without overflow.

    .. math::

        \sigma(x) = \frac{1}{1 + e^{-x}} =
        \begin{cases} 1/(1 + e^{-|x|}) & x \ge 0\\ e^{-|x|}/(1 + e^{-|x|}) & x < 0\end{cases}

    The second form only ever exponentiates :math:`-|x| \le 0`, so :math:`e^{(\cdot)}` never
    overflows (``x = -1e4`` gives ``0``, not a warning).

    Args:
        x: an array of any shape.

    Returns:
        ``(out, cache)``: :math:`\sigma(x)` and the output, which the derivative needs.

    Reference: ``torch.sigmoid``.
    """
    x = _checks.float_array("sigmoid_forward", "x", x)
    z = np.exp(-np.abs(x))
    out = np.where(x >= 0, 1.0 / (1.0 + z), z / (1.0 + z)).astype(x.dtype, copy=False)
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
    slope = _checks._number("leaky_relu_forward", "negative_slope", negative_slope)
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
    alpha = _checks._number("elu_forward", "alpha", alpha)
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
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu_forward: approximate must be 'none' or 'tanh', "
                         f"got {approximate!r}")
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


ACTIVATIONS = {
    "sigmoid": (sigmoid_forward, sigmoid_backward),
    "tanh": (tanh_forward, tanh_backward),
    "relu": (relu_forward, relu_backward),
    "leaky_relu": (leaky_relu_forward, leaky_relu_backward),
    "elu": (elu_forward, elu_backward),
    "gelu": (gelu_forward, gelu_backward),
    "identity": (identity_forward, identity_backward),
}
"""Name -> ``(forward, backward)``; the forwards take their keyword defaults."""


def get(name: str):
    """The ``(forward, backward)`` pair of an activation, by name.

    Args:
        name: one of the keys of :data:`ACTIVATIONS`.

    Raises:
        ValueError: for an unknown name; the message lists the known ones.
    """
    try:
        return ACTIVATIONS[name]
    except (KeyError, TypeError):
        raise ValueError(f"get: unknown activation name {name!r}; choose one of "
                         f"{', '.join(sorted(ACTIVATIONS))}") from None
