r"""A readable multilayer perceptron in NumPy: the from-scratch network the book studies.

* :func:`linear_forward` / :func:`linear_backward`: the fully connected layer as a
  forward/backward pair (CS231n style), with PyTorch's weight layout
  ``W.shape == (out_features, in_features)``.
* :class:`MLP`: ``Linear -> activation -> ... -> Linear`` with the activations of
  :mod:`trainart.activations` and the initializations of :mod:`trainart.init`. Its
  parameters are ``float64`` arrays that any :mod:`trainart.optim` optimizer updates in
  place (``opt.step(net.loss_and_grads(X, y)[1])``), and every forward/backward pass keeps
  the per-layer values that :mod:`trainart.diagnostics` inspects: pre-activations,
  activations and the gradients flowing back into them.

The network is equal to a ``torch.nn.Sequential`` of ``nn.Linear`` and activation modules
holding the same ``float64`` weights (:meth:`MLP.to_torch` builds that twin); the tests
compare the loss and every gradient.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from . import _checks
from . import activations as _activations
from . import init as _init
from .models import softmax_cross_entropy

__all__ = ["linear_forward", "linear_backward", "MLP"]


# ---------------------------------------------------------------------------------------
# the linear layer
# ---------------------------------------------------------------------------------------



def linear_forward(x, W, b=None):
    r"""The fully connected layer :math:`y = x W^\top + b`.

    .. math::

        y_{ij} = \sum_k x_{ik} W_{jk} + b_j

    Args:
        x: ``(n, in_features)`` inputs, one example per row.
        W: ``(out_features, in_features)`` weights (PyTorch's ``nn.Linear.weight`` layout).
        b: ``(out_features,)`` bias, or ``None`` for a layer without bias.

    Returns:
        ``(out, cache)``: the ``(n, out_features)`` output and ``(x, W, b)`` for the backward
        pass.

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
    return out, (x, W, b)


def linear_backward(dout, cache):
    r"""Gradients of the linear layer, given :math:`\delta = \partial L / \partial y`.

    .. math::

        \frac{\partial L}{\partial x} = \delta W, \qquad
        \frac{\partial L}{\partial W} = \delta^\top x, \qquad
        \frac{\partial L}{\partial b} = \sum_i \delta_i

    Args:
        dout: ``(n, out_features)`` upstream gradient :math:`\delta`.
        cache: from :func:`linear_forward`.

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


# ---------------------------------------------------------------------------------------
# the network
# ---------------------------------------------------------------------------------------

# The torch module of each activation, with the defaults trainart.activations uses.
_TORCH_ACTIVATIONS = {"relu": ("ReLU", {}), "tanh": ("Tanh", {}), "sigmoid": ("Sigmoid", {}),
                      "leaky_relu": ("LeakyReLU", {"negative_slope": 0.01}),
                      "elu": ("ELU", {"alpha": 1.0}), "gelu": ("GELU", {"approximate": "none"}),
                      "identity": ("Identity", {})}


class MLP:
    r"""A multilayer perceptron ``Linear -> act -> ... -> Linear`` in NumPy (no activation at
    the end: the last layer gives the logits).

    For hidden layers :math:`l = 1, \dots, L-1` and the output layer :math:`L`:

    .. math::

        z^{(l)} = h^{(l-1)} W^{(l)\top} + b^{(l)}, \qquad h^{(l)} = f\big(z^{(l)}\big),
        \qquad h^{(0)} = x, \qquad \text{logits} = z^{(L)}

    and the backward pass runs the chain rule the other way:
    :math:`\partial L/\partial z^{(l)} = \partial L/\partial h^{(l)} \odot f'(z^{(l)})`,
    :math:`\partial L/\partial h^{(l-1)} = (\partial L/\partial z^{(l)})\, W^{(l)}`.

    Parameters live in ``self.params = [W1, b1, W2, b2, ...]`` (``float64``; weights of
    shape ``(out_features, in_features)`` as in ``nn.Linear``) with names
    ``self.names = ["layer1.weight", "layer1.bias", ...]``; optimizers change them in place::

        net = MLP([784, 256, 256, 10], activation="tanh", init="xavier_normal")
        opt = SGD(dict(zip(net.names, net.params)), lr=0.1)
        loss, grads = net.loss_and_grads(X, y)
        opt.step(grads)

    After each :meth:`forward` the lists ``preactivations[l]`` (:math:`z`) and
    ``activations[l]`` (:math:`h`) hold the hidden layers' values, index ``l = 0`` for the
    first hidden layer; after :meth:`backward`, ``activation_grads[l]``
    (:math:`\partial L/\partial h`) and ``preactivation_grads[l]``
    (:math:`\partial L/\partial z`) hold their gradients. These are what the diagnostics of
    :mod:`trainart.diagnostics` summarize.

    Args:
        sizes: layer widths from input to output, e.g. ``[784, 256, 256, 10]`` (at least two).
        activation: a name of :mod:`trainart.activations` (``"relu"``, ``"tanh"``,
            ``"sigmoid"``, ``"leaky_relu"``, ``"elu"``, ``"gelu"``, ``"identity"``), with
            PyTorch's default parameters (leaky slope 0.01, ELU alpha 1, exact GELU).
        init: how each weight matrix is drawn: a scheme name of :mod:`trainart.init`
            (``"kaiming_normal"``, ``"xavier_uniform"``, ``"normal"``, ...), a float ``std``
            (normal with that standard deviation), or a callable ``f(shape, rng=...)``
            returning the array (the functions of :mod:`trainart.init` qualify).
            The same rule is used for every layer, the output layer included (scale
            ``net.params[-2]`` in place for a smaller last layer). Biases start at zero.
        seed: seed of the ``np.random.default_rng`` that draws all weights, layer by layer:
            the same ``seed`` gives the same network.
        init_kwargs: keyword arguments for the scheme (or the callable), e.g.
            ``{"nonlinearity": "tanh"}`` or ``{"std": 0.05}``. They are passed as given: the
            Kaiming schemes take PyTorch's default ``nonlinearity`` unless told otherwise.
        bias: include bias vectors (``False``: ``params = [W1, W2, ...]``).

    Reference: CS231n assignment 2, ``FullyConnectedNet``; ``torch.nn.Linear``.
    """

    def __init__(self, sizes, activation: str = "relu", init="kaiming_normal", seed=0,
                 init_kwargs: dict | None = None, bias: bool = True):
        try:
            sizes = list(sizes)
        except TypeError:
            raise ValueError(f"MLP: sizes must be a list of layer widths, got {sizes!r}") from None
        if len(sizes) < 2 or any(isinstance(s, bool) or not isinstance(s, (int, np.integer))
                                 or s < 1 for s in sizes):
            raise ValueError(f"MLP: sizes must be at least two integers >= 1 (input, ..., "
                             f"output), got {sizes!r}")
        if not isinstance(activation, str) or activation not in _activations.ACTIVATIONS:
            raise ValueError(f"MLP: activation must be one of "
                             f"{sorted(_activations.ACTIVATIONS)}, got {activation!r}")
        init_kwargs = {} if init_kwargs is None else dict(init_kwargs)
        draw = self._init_rule(init, init_kwargs)

        self.sizes = [int(s) for s in sizes]
        self.activation = activation
        self.init = init
        self.bias = bool(bias)
        self._act_forward, self._act_backward = _activations.get(activation)
        rng = np.random.default_rng(seed)
        self.weights: list[np.ndarray] = []
        self.biases: list[np.ndarray] = []
        self.params: list[np.ndarray] = []
        self.names: list[str] = []
        for k, (fan_in, fan_out) in enumerate(zip(self.sizes[:-1], self.sizes[1:]), start=1):
            W = self._checked_weight(draw((fan_out, fan_in), rng), (fan_out, fan_in), k)
            self.weights.append(W)
            self.params.append(W)
            self.names.append(f"layer{k}.weight")
            if self.bias:
                b = np.zeros(fan_out)
                self.biases.append(b)
                self.params.append(b)
                self.names.append(f"layer{k}.bias")

        self.preactivations: list[np.ndarray] = []
        self.activations: list[np.ndarray] = []
        self.preactivation_grads: list[np.ndarray] = []
        self.activation_grads: list[np.ndarray] = []
        self._caches: list | None = None

    @staticmethod
    def _init_rule(init, init_kwargs: dict):
        """``draw(shape, rng) -> array`` for a scheme name, a std or a callable."""
        if isinstance(init, str):
            if init not in _init.SCHEMES:
                raise ValueError(f"MLP: init must be one of {sorted(_init.SCHEMES)}, a float "
                                 f"std or a callable f(shape, rng=...), got {init!r}")
            scheme = _init.SCHEMES[init]
            return lambda shape, rng: scheme(shape, rng=rng, **init_kwargs)
        if isinstance(init, numbers.Real) and not isinstance(init, bool):
            std = float(init)
            if not (std >= 0 and math.isfinite(std)):
                raise ValueError(f"MLP: init given as a float is the std of a normal "
                                 f"init and must be a finite number >= 0, got {init!r}")
            if init_kwargs:
                raise ValueError(f"MLP: init_kwargs apply to a scheme name or a callable, not "
                                 f"to a float std, got {init_kwargs!r}")
            return lambda shape, rng: _init.SCHEMES["normal"](shape, rng=rng, std=std)
        if callable(init):
            return lambda shape, rng: init(shape, rng=rng, **init_kwargs)
        raise ValueError(f"MLP: init must be a scheme name of trainart.init, a float std or "
                         f"a callable f(shape, rng=...), got {init!r}")

    @staticmethod
    def _checked_weight(W, shape: tuple, k: int) -> np.ndarray:
        W = np.array(W, dtype=np.float64)  # an owned, writable float64 copy
        if W.shape != shape:
            raise ValueError(f"MLP: init returned shape {W.shape} for layer {k}, expected "
                             f"{shape} (out_features, in_features)")
        if not np.all(np.isfinite(W)):
            raise ValueError(f"MLP: init returned non-finite weights for layer {k}")
        return W

    def __repr__(self) -> str:
        return (f"MLP({self.sizes}, activation={self.activation!r}, init={self.init!r}, "
                f"bias={self.bias})")

    @property
    def n_layers(self) -> int:
        """Number of linear layers (hidden layers + the output layer)."""
        return len(self.sizes) - 1

    def _check_X(self, owner: str, X) -> np.ndarray:
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != self.sizes[0]:
            raise ValueError(f"MLP.{owner}: X must have shape (n, {self.sizes[0]}), "
                             f"got {X.shape}")
        return X

    def forward(self, X) -> np.ndarray:
        """The logits ``(n, sizes[-1])`` of the inputs ``X`` (cast to float64).

        Stores ``preactivations`` and ``activations`` of every hidden layer (and the caches
        :meth:`backward` needs).
        """
        h = self._check_X("forward", X)
        self.preactivations, self.activations, caches = [], [], []
        last = self.n_layers - 1
        for k, W in enumerate(self.weights):
            b = self.biases[k] if self.bias else None
            z, linear_cache = linear_forward(h, W, b)
            if k == last:
                caches.append((linear_cache, None))
                h = z
                break
            h, act_cache = self._act_forward(z)
            self.preactivations.append(z)
            self.activations.append(h)
            caches.append((linear_cache, act_cache))
        self._caches = caches
        return h

    def backward(self, dlogits) -> list[np.ndarray]:
        """Gradients of the loss for every parameter, in the order of ``params``.

        Args:
            dlogits: :math:`\\partial L / \\partial\\,\\text{logits}` for the batch of the last
                :meth:`forward`.

        Stores ``activation_grads`` and ``preactivation_grads`` of every hidden layer.
        """
        if self._caches is None:
            raise RuntimeError("MLP.backward: call forward (or loss_and_grads) first")
        n = self._caches[0][0][0].shape[0]
        dlogits = np.asarray(dlogits, dtype=np.float64)
        if dlogits.shape != (n, self.sizes[-1]):
            raise ValueError(f"MLP.backward: dlogits must have the logits' shape "
                             f"{(n, self.sizes[-1])}, got {dlogits.shape}")
        n_hidden = self.n_layers - 1
        act_grads: list = [None] * n_hidden
        pre_grads: list = [None] * n_hidden
        dW_list: list = [None] * self.n_layers
        db_list: list = [None] * self.n_layers
        dz = dlogits
        for k in range(self.n_layers - 1, -1, -1):
            linear_cache, _ = self._caches[k]
            dh, dW_list[k], db_list[k] = linear_backward(dz, linear_cache)
            if k == 0:
                break
            act_grads[k - 1] = dh
            dz = self._act_backward(dh, self._caches[k - 1][1])
            pre_grads[k - 1] = dz
        self.activation_grads, self.preactivation_grads = act_grads, pre_grads
        grads = []
        for dW, db in zip(dW_list, db_list):
            grads.append(dW)
            if self.bias:
                grads.append(db)
        return grads

    def loss_and_grads(self, X, y) -> tuple[float, list[np.ndarray]]:
        """Mean softmax cross-entropy on ``(X, y)`` and the gradients (order of ``params``)."""
        loss, dlogits = softmax_cross_entropy(self.forward(X), y)
        return loss, self.backward(dlogits)

    def loss(self, X, y) -> float:
        """The mean cross-entropy alone (a forward pass)."""
        return softmax_cross_entropy(self.forward(X), y)[0]

    def predict(self, X) -> np.ndarray:
        """The most probable class of each row."""
        return np.argmax(self.forward(X), axis=1)

    def accuracy(self, X, y) -> float:
        """Fraction of rows classified correctly."""
        return float(np.mean(self.predict(X) == np.asarray(y)))

    def to_torch(self, dtype=None):
        """The same network as a ``torch.nn.Sequential`` (``nn.Linear`` and activation
        modules), holding *copies* of the current weights.

        Args:
            dtype: the torch dtype of its parameters (default ``torch.float64``, so that it
                computes what this network computes to rounding).
        """
        import torch
        from torch import nn

        dtype = torch.float64 if dtype is None else dtype
        module_name, kwargs = _TORCH_ACTIVATIONS[self.activation]
        layers = []
        for k, W in enumerate(self.weights):
            linear = nn.Linear(W.shape[1], W.shape[0], bias=self.bias, dtype=dtype)
            with torch.no_grad():
                linear.weight.copy_(torch.from_numpy(W))
                if self.bias:
                    linear.bias.copy_(torch.from_numpy(self.biases[k]))
            layers.append(linear)
            if k < self.n_layers - 1:
                layers.append(getattr(nn, module_name)(**kwargs))
        return nn.Sequential(*layers)
