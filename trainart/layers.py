"""The layer protocol every NumPy layer of trainart follows.

A layer is CS231n's ``*_forward`` / ``*_backward`` function pair wrapped with its state::

    out = layer.forward(x, training=True)   # keeps one typed cache: layer.cache
    dx = layer.backward(dout)               # fills layer.grads, in the order of layer.params
    opt = SGD(dict(zip(layer.names, layer.params)), lr=0.1); opt.step(layer.grads)

- ``forward(x, training=None)``: ``training=None`` uses the layer's mode (``train()`` /
  ``eval()``, training at first, as in ``torch.nn.Module``); ``True``/``False`` override it
  for this call only. The cache of the last forward is ``layer.cache``, a ``NamedTuple`` of
  the layer's own type (``LinearCache``, ``BatchNormCache``, ``DropoutCache``, ...).
- ``backward(dout)``: the gradient with respect to the input of the last forward; the
  parameters' gradients land in ``layer.grads``.
- ``params`` / ``names`` / ``grads``: lists in the same order; ``names`` are torch's
  (``"weight"``, ``"bias"``), so ``dict(zip(names, params))`` matches a torch module's
  ``named_parameters()``. Optimizers update ``params`` in place.

The layers of this module: :class:`Linear` (over :func:`linear_forward` /
:func:`linear_backward`) and :class:`Activation` (over the pairs of
:mod:`trainart.activations`). The others follow the same protocol in their own modules:
:class:`trainart.dropout.Dropout` and the normalizations of :mod:`trainart.norm`;
:class:`trainart.nn.MLP` composes them.

Reference: CS231n assignment 2 (layer functions with caches); ``torch.nn.Module``.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from . import _checks
from . import activations as _activations

__all__ = ["Layer", "LinearCache", "linear_forward", "linear_backward", "Linear",
           "ActivationCache", "Activation"]


class Layer:
    """Base class of the NumPy layers: mode, cache and the parameter lists.

    Subclasses implement :meth:`forward` and :meth:`backward` and, when they have
    parameters, override :attr:`params`, :attr:`names` and :attr:`grads`.
    """

    training: bool = True
    """``True`` in training mode (the default), ``False`` in evaluation mode."""
    cache = None
    """The typed cache of the last :meth:`forward` (``None`` before the first)."""

    @property
    def params(self) -> list[np.ndarray]:
        """The learnable arrays (updated in place by optimizers); empty by default."""
        return []

    @property
    def names(self) -> list[str]:
        """torch's names of :attr:`params` (``"weight"``, ``"bias"``)."""
        return []

    @property
    def grads(self) -> list[np.ndarray]:
        """The gradients of :attr:`params` from the last :meth:`backward`, in their order."""
        return []

    def train(self, mode: bool = True):
        """Training mode (``mode=True``) or evaluation mode; returns the layer."""
        if not isinstance(mode, (bool, np.bool_)):
            raise TypeError(f"{type(self).__name__}.train: mode must be True or False, "
                            f"got {mode!r}")
        self.training = bool(mode)
        return self

    def eval(self):
        """Evaluation mode (``train(False)``); returns the layer."""
        return self.train(False)

    def _training(self, training) -> bool:
        """The mode of one forward call: ``training`` if given, else the layer's mode."""
        if training is None:
            return self.training
        if not isinstance(training, (bool, np.bool_)):
            raise TypeError(f"{type(self).__name__}.forward: training must be True, False "
                            f"or None (the layer's mode), got {training!r}")
        return bool(training)

    def _last_cache(self):
        """The cache of the last forward, or a clear error when there was none."""
        if self.cache is None:
            raise RuntimeError(f"{type(self).__name__}.backward: call forward first")
        return self.cache

    def forward(self, x, training: bool | None = None):
        """The layer's output for ``x``; keeps :attr:`cache` for :meth:`backward`.
        ``training=None`` uses the layer's mode."""
        raise NotImplementedError

    def backward(self, dout):
        """``dL/dx`` of the last :meth:`forward` from ``dout = dL/dout``; fills :attr:`grads`."""
        raise NotImplementedError

    def __call__(self, x, training: bool | None = None):
        return self.forward(x, training)


# ---------------------------------------------------------------------------------------
# the linear layer
# ---------------------------------------------------------------------------------------


class LinearCache(NamedTuple):
    """What :func:`linear_backward` needs: the input and the parameters of the forward."""

    x: np.ndarray
    W: np.ndarray
    b: np.ndarray | None


def linear_forward(x, W, b=None):
    r"""The fully connected layer :math:`y = x W^\top + b`.

    .. math::

        y_{ij} = \sum_k x_{ik} W_{jk} + b_j

    Args:
        x: ``(n, in_features)`` inputs, one example per row.
        W: ``(out_features, in_features)`` weights (PyTorch's ``nn.Linear.weight`` layout).
        b: ``(out_features,)`` bias, or ``None`` for a layer without bias.

    Returns:
        ``(out, cache)``: the ``(n, out_features)`` output and a
        :class:`~trainart.layers.LinearCache` ``(x, W, b)`` for the backward pass.

    Reference: ``torch.nn.functional.linear``; CS231n ``affine_forward``.
    """
    x = _checks.float_array("linear_forward", "x", x)
    W = _checks.float_array("linear_forward", "W", W)
    if W.ndim != 2:
        raise ValueError(f"linear_forward: W must have shape (out_features, in_features), "
                         f"got {W.shape}")
    if x.ndim != 2 or x.shape[1] != W.shape[1]:
        raise ValueError(f"linear_forward: x must have shape (n, {W.shape[1]}) to match W of "
                         f"shape {W.shape}, got {x.shape}")
    out = x @ W.T
    if b is not None:
        b = _checks.float_array("linear_forward", "b", b)
        if b.shape != (W.shape[0],):
            raise ValueError(f"linear_forward: b must have shape ({W.shape[0]},), "
                             f"got {b.shape}")
        out = out + b
    return out, LinearCache(x, W, b)


def linear_backward(dout, cache):
    r"""Gradients of the linear layer, given :math:`\delta = \partial L / \partial y`.

    .. math::

        \frac{\partial L}{\partial x} = \delta W, \qquad
        \frac{\partial L}{\partial W} = \delta^\top x, \qquad
        \frac{\partial L}{\partial b} = \sum_i \delta_i

    Args:
        dout: ``(n, out_features)`` upstream gradient :math:`\delta`.
        cache: the :class:`~trainart.layers.LinearCache` from
            :func:`~trainart.layers.linear_forward` (or a plain ``(x, W, b)``).

    Returns:
        ``(dx, dW, db)`` with the shapes of ``x``, ``W`` and ``b`` (``db`` is ``None`` for a
        layer without bias).
    """
    x, W, b = cache
    dout = _checks.float_array("linear_backward", "dout", dout)
    if dout.shape != (x.shape[0], W.shape[0]):
        raise ValueError(f"linear_backward: dout must have the output's shape "
                         f"{(x.shape[0], W.shape[0])}, got {dout.shape}")
    dx = dout @ W
    dW = dout.T @ x
    db = None if b is None else dout.sum(axis=0)
    return dx, dW, db


class Linear(Layer):
    r"""A fully connected layer, ``torch.nn.Linear`` in NumPy: :math:`y = x W^\top + b`.

    ``weight`` has shape ``(out_features, in_features)`` and ``bias`` ``(out_features,)``
    (``float64``); ``params``/``names``/``grads`` are ``[weight, bias]``,
    ``["weight", "bias"]`` and ``[dW, db]``. Training and evaluation are the same::

        layer = Linear(784, 256, rng=0)
        out = layer.forward(x)           # layer.cache is a LinearCache
        dx = layer.backward(dout)        # layer.grads == [dW, db]

    Args:
        in_features, out_features: the sizes of an input and of an output row.
        bias: include the bias (``False``: ``params == [weight]``).
        rng: the generator (or int seed, or ``None``) of torch's default initialization,
            :math:`W, b \sim \mathcal U(-k, k)` with :math:`k = 1/\sqrt{\text{in\_features}}`.

    Use :meth:`from_weights` to wrap given arrays instead.

    Reference: ``torch.nn.Linear``; CS231n assignment 2, ``affine_forward``.
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, rng=None):
        n_in = _checks.positive_int("Linear", "in_features", in_features)
        n_out = _checks.positive_int("Linear", "out_features", out_features)
        rng = _checks.generator("Linear", rng)
        bound = 1.0 / np.sqrt(n_in)
        self.weight = rng.uniform(-bound, bound, size=(n_out, n_in))
        self.bias = rng.uniform(-bound, bound, size=n_out) if bias else None
        self.dweight = self.dbias = None

    @classmethod
    def from_weights(cls, weight, bias=None) -> Linear:
        """A layer holding the given arrays themselves (not copies) as ``weight`` and
        ``bias``: optimizers updating the layer update them.

        Args:
            weight: ``(out_features, in_features)`` float64 array.
            bias: ``(out_features,)`` float64 array, or ``None`` for a layer without bias.
        """
        for name, arr in (("weight", weight), ("bias", bias)):
            if arr is not None and not (isinstance(arr, np.ndarray)
                                        and arr.dtype == np.float64):
                got = getattr(arr, "dtype", type(arr).__name__)
                raise TypeError(f"Linear.from_weights: {name} must be a float64 NumPy array, "
                                f"got {got}")
        if weight.ndim != 2:
            raise ValueError(f"Linear.from_weights: weight must have shape (out_features, "
                             f"in_features), got {weight.shape}")
        if bias is not None and bias.shape != (weight.shape[0],):
            raise ValueError(f"Linear.from_weights: bias must have shape ({weight.shape[0]},), "
                             f"got {bias.shape}")
        layer = cls.__new__(cls)
        layer.weight, layer.bias = weight, bias
        layer.dweight = layer.dbias = None
        return layer

    @property
    def in_features(self) -> int:
        return self.weight.shape[1]

    @property
    def out_features(self) -> int:
        return self.weight.shape[0]

    @property
    def params(self) -> list[np.ndarray]:
        return [self.weight] if self.bias is None else [self.weight, self.bias]

    @property
    def names(self) -> list[str]:
        return ["weight"] if self.bias is None else ["weight", "bias"]

    @property
    def grads(self) -> list[np.ndarray]:
        return [self.dweight] if self.bias is None else [self.dweight, self.dbias]

    def forward(self, x, training: bool | None = None) -> np.ndarray:
        """:func:`linear_forward` with the layer's parameters (``training`` only checked:
        the layer is the same in both modes)."""
        self._training(training)
        out, self.cache = linear_forward(x, self.weight, self.bias)
        return out

    def backward(self, dout) -> np.ndarray:
        """:func:`linear_backward`; stores ``dweight`` and ``dbias`` and returns ``dx``."""
        dx, self.dweight, self.dbias = linear_backward(dout, self._last_cache())
        return dx

    def __repr__(self) -> str:
        return (f"Linear(in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None})")


# ---------------------------------------------------------------------------------------
# activations
# ---------------------------------------------------------------------------------------


class ActivationCache(NamedTuple):
    """The cache of an :class:`Activation`: its name and the cache of its forward function
    (the output for sigmoid and tanh, the input otherwise; see
    :mod:`trainart.activations`)."""

    name: str
    inner: Any


class Activation(Layer):
    r"""An elementwise activation as a layer: :math:`h = f(z)`, :math:`dz = dh \odot f'(z)`.

    Any name of :data:`trainart.activations.REGISTRY`, with the keyword arguments of its
    forward function (torch's names and defaults)::

        act = Activation("leaky_relu", negative_slope=0.2)   # nn.LeakyReLU(0.2)
        h = act.forward(z); dz = act.backward(dh)

    No parameters; training and evaluation are the same. :meth:`to_torch` gives the
    ``torch.nn`` module.

    Args:
        name: ``"relu"``, ``"tanh"``, ``"sigmoid"``, ``"leaky_relu"``, ``"elu"``, ``"gelu"``
            or ``"identity"``.
        **kwargs: the forward's keyword arguments (``negative_slope``, ``alpha``,
            ``approximate``); checked by the first forward.

    Reference: ``torch.nn.ReLU``, ``torch.nn.Tanh``, ...; CS231n ``relu_forward``.
    """

    def __init__(self, name: str = "relu", **kwargs):
        entry = _activations.spec(name, "Activation")
        unknown = sorted(set(kwargs) - set(entry.torch_kwargs))
        if unknown:
            raise TypeError(f"Activation: {name!r} takes the keyword arguments "
                            f"{sorted(entry.torch_kwargs) or 'none'}, got {unknown}")
        self.name = name
        self.kwargs = dict(kwargs)
        self._forward_fn, self._backward_fn = entry.forward, entry.backward

    def forward(self, x, training: bool | None = None) -> np.ndarray:
        """:math:`f(x)`, keeping the cache the backward pass needs."""
        self._training(training)
        out, inner = self._forward_fn(x, **self.kwargs)
        self.cache = ActivationCache(self.name, inner)
        return out

    def backward(self, dout) -> np.ndarray:
        r""":math:`dx = dout \odot f'(x)` for the input of the last forward."""
        return self._backward_fn(dout, self._last_cache().inner)

    def to_torch(self):
        """The ``torch.nn`` module computing the same function (imports torch)."""
        return _activations.torch_module(self.name, **self.kwargs)

    def __repr__(self) -> str:
        args = "".join(f", {k}={v!r}" for k, v in self.kwargs.items())
        return f"Activation({self.name!r}{args})"
