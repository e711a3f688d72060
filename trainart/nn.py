r"""A readable multilayer perceptron in NumPy: the from-scratch network the book studies.

* :class:`MLP`: a composition of the layers of :mod:`trainart.layers`,
  ``Linear -> [BatchNorm] -> activation -> [Dropout] -> ... -> Linear`` (CS231n's
  ``FullyConnectedNet``), with the activations of :mod:`trainart.activations` and the
  initializations of :mod:`trainart.init`. Its parameters are ``float64`` arrays that any
  :mod:`trainart.optim` optimizer updates in place
  (``opt.step(net.loss_and_grads(X, y)[1])``), and every forward/backward pass keeps the
  per-layer values that :mod:`trainart.diagnostics` inspects: pre-activations, activations
  and the gradients flowing back into them.
* :func:`linear_forward` / :func:`linear_backward`: the fully connected layer as a
  forward/backward pair (re-exported from :mod:`trainart.layers`), with PyTorch's weight
  layout ``W.shape == (out_features, in_features)``.

The network is equal to a ``torch.nn.Sequential`` of ``nn.Linear``, ``nn.BatchNorm1d``,
activation and ``nn.Dropout`` modules holding the same ``float64`` weights
(:meth:`MLP.to_torch` builds that twin); the tests compare the loss, every gradient and the
running statistics, in training and in evaluation mode.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from . import _checks
from . import activations as _activations
from . import init as _init
from .dropout import Dropout
from .layers import Activation, Layer, Linear, linear_backward, linear_forward
from .losses import softmax_cross_entropy
from .norm import BatchNorm

__all__ = ["linear_forward", "linear_backward", "MLP"]


class MLP(Layer):
    r"""A multilayer perceptron in NumPy, a composition of layers (no activation at the end:
    the last layer gives the logits).

    ``self.layers`` is CS231n's ``FullyConnectedNet``: for each hidden layer
    ``Linear -> [BatchNorm] -> activation -> [Dropout]``, then the output ``Linear``. Without
    batch norm and dropout, for hidden layers :math:`l = 1, \dots, L-1` and the output layer
    :math:`L`:

    .. math::

        z^{(l)} = h^{(l-1)} W^{(l)\top} + b^{(l)}, \qquad h^{(l)} = f\big(z^{(l)}\big),
        \qquad h^{(0)} = x, \qquad \text{logits} = z^{(L)}

    and the backward pass runs the chain rule the other way:
    :math:`\partial L/\partial z^{(l)} = \partial L/\partial h^{(l)} \odot f'(z^{(l)})`,
    :math:`\partial L/\partial h^{(l-1)} = (\partial L/\partial z^{(l)})\, W^{(l)}`. Batch
    norm (:class:`trainart.norm.BatchNorm`) sits between the ``Linear`` and the activation,
    so :math:`z^{(l)}` is then the normalized value; dropout
    (:class:`trainart.dropout.Dropout`, inverted) follows the activation.

    Parameters live in ``self.params`` in the order of the layers, ``[W1, b1, W2, b2, ...]``
    (``float64``; weights of shape ``(out_features, in_features)`` as in ``nn.Linear``), with
    batch norm ``[W1, b1, gamma1, beta1, W2, ...]``; their names are
    ``self.names = ["layer1.weight", "layer1.bias", "bn1.weight", "bn1.bias", ...]``.
    Optimizers change them in place::

        net = MLP([784, 256, 256, 10], activation="tanh", init="xavier_normal")
        opt = SGD(dict(zip(net.names, net.params)), lr=0.1)
        loss, grads = net.loss_and_grads(X, y)
        opt.step(grads)

    After each :meth:`forward` the lists ``preactivations[l]`` (:math:`z`, the activation's
    input) and ``activations[l]`` (:math:`h`, its output, before dropout) hold the hidden
    layers' values, index ``l = 0`` for the first hidden layer; after :meth:`backward`,
    ``activation_grads[l]`` (:math:`\partial L/\partial h`) and ``preactivation_grads[l]``
    (:math:`\partial L/\partial z`) hold their gradients. These are what the diagnostics of
    :mod:`trainart.diagnostics` summarize.

    Like a ``torch.nn.Module`` the network is in training mode at first;
    :meth:`~trainart.layers.Layer.eval` makes
    batch norm use its running statistics and turns dropout off (:meth:`predict` and
    :meth:`accuracy` always evaluate in eval mode). Unlike a single layer, :meth:`backward`
    returns the parameters' gradients (the input's is ``input_grad``).

    Args:
        sizes: layer widths from input to output, e.g. ``[784, 256, 256, 10]`` (at least two).
        activation: a name of :data:`trainart.activations.REGISTRY` (``"relu"``, ``"tanh"``,
            ``"sigmoid"``, ``"leaky_relu"``, ``"elu"``, ``"gelu"``, ``"identity"``), with
            PyTorch's default parameters (leaky slope 0.01, ELU alpha 1, exact GELU).
        init: how each weight matrix is drawn: a scheme name of :mod:`trainart.init`
            (``"kaiming_normal"``, ``"xavier_uniform"``, ``"normal"``, ...), a float ``std``
            (normal with that standard deviation), or a callable ``f(shape, rng=...)``
            returning the array (the functions of :mod:`trainart.init` qualify).
            The same rule is used for every layer, the output layer included (scale
            ``net.weights[-1]`` in place for a smaller last layer). Biases start at zero,
            batch norm at :math:`\gamma = 1, \beta = 0`.
        seed: seed of the ``np.random.default_rng`` that draws all weights, layer by layer:
            the same ``seed`` gives the same network (the same weights with or without batch
            norm and dropout). The seeds of the dropout layers' generators are drawn from it
            after the weights.
        init_kwargs: keyword arguments for the scheme (or the callable), e.g.
            ``{"nonlinearity": "tanh"}`` or ``{"std": 0.05}``. They are passed as given: the
            Kaiming schemes take PyTorch's default ``nonlinearity`` unless told otherwise.
        bias: include bias vectors in the ``Linear`` layers (``False``:
            ``params = [W1, W2, ...]``).
        batchnorm: a :class:`~trainart.norm.BatchNorm` after each hidden ``Linear``, before
            the activation (momentum 0.1, eps 1e-5, as ``nn.BatchNorm1d``).
        dropout: the drop probability ``p`` of an inverted
            :class:`~trainart.dropout.Dropout` after each hidden activation, in
            :math:`[0, 1)` (``0`` adds none).

    Reference: CS231n assignment 2, ``FullyConnectedNet``; ``torch.nn.Linear``,
    ``torch.nn.BatchNorm1d``, ``torch.nn.Dropout``.
    """

    def __init__(self, sizes, activation: str = "relu", init="kaiming_normal", seed=0,
                 init_kwargs: dict | None = None, bias: bool = True, batchnorm: bool = False,
                 dropout: float = 0.0):
        try:
            sizes = list(sizes)
        except TypeError:
            raise ValueError(f"MLP: sizes must be a list of layer widths, got {sizes!r}") from None
        if len(sizes) < 2 or not all(_checks.is_integer(s) and s >= 1 for s in sizes):
            raise ValueError(f"MLP: sizes must be at least two integers >= 1 (input, ..., "
                             f"output), got {sizes!r}")
        if not isinstance(activation, str) or activation not in _activations.REGISTRY:
            raise ValueError(f"MLP: activation must be one of "
                             f"{sorted(_activations.REGISTRY)}, got {activation!r}")
        if not isinstance(batchnorm, (bool, np.bool_)):
            raise TypeError(f"MLP: batchnorm must be True or False, got {batchnorm!r}")
        dropout = _checks.unit_interval("MLP", "dropout", dropout)
        init_kwargs = {} if init_kwargs is None else dict(init_kwargs)
        draw = self._init_rule(init, init_kwargs)

        self.sizes = [int(s) for s in sizes]
        self.activation = activation
        self.init = init
        self.bias = bool(bias)
        self.batchnorm = bool(batchnorm)
        self.dropout = dropout
        self.training = True
        rng = np.random.default_rng(seed)
        shapes = list(zip(self.sizes[1:], self.sizes[:-1]))  # (out_features, in_features)
        weights = [self._checked_weight(draw(shape, rng), shape, k)
                   for k, shape in enumerate(shapes, start=1)]
        n_hidden = len(shapes) - 1
        # the dropout layers' seeds come after every weight: the weights do not depend on them
        dropout_seeds = rng.integers(0, 2**63, size=n_hidden) if dropout > 0 else []

        self.layers: list[Layer] = []
        self.weights: list[np.ndarray] = []
        self.biases: list[np.ndarray] = []
        self._params: list[np.ndarray] = []
        self._names: list[str] = []
        for k, W in enumerate(weights, start=1):
            b = np.zeros(W.shape[0]) if self.bias else None
            self._add(f"layer{k}", Linear.from_weights(W, b))
            self.weights.append(W)
            if self.bias:
                self.biases.append(b)
            if k > n_hidden:
                break
            if self.batchnorm:
                self._add(f"bn{k}", BatchNorm(W.shape[0]))
            self._add(None, Activation(activation))
            if dropout > 0:
                self._add(None, Dropout(dropout, seed=int(dropout_seeds[k - 1])))

        self.preactivations: list[np.ndarray] = []
        self.activations: list[np.ndarray] = []
        self.preactivation_grads: list[np.ndarray] = []
        self.activation_grads: list[np.ndarray] = []
        self.input_grad: np.ndarray | None = None
        self._grads: list[np.ndarray] = []
        self._n: int | None = None  # batch size of the last forward

    def _add(self, prefix: str | None, layer: Layer) -> None:
        self.layers.append(layer)
        self._params.extend(layer.params)
        self._names.extend(f"{prefix}.{name}" for name in layer.names)

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
        extra = "".join([", batchnorm=True" if self.batchnorm else "",
                         f", dropout={self.dropout}" if self.dropout else ""])
        return (f"MLP({self.sizes}, activation={self.activation!r}, init={self.init!r}, "
                f"bias={self.bias}{extra})")

    @property
    def params(self) -> list[np.ndarray]:
        """Every learnable array, in the order of the layers (the same list every time)."""
        return self._params

    @property
    def names(self) -> list[str]:
        """The names of :attr:`params`: ``"layer{k}.weight"``, ``"layer{k}.bias"``,
        ``"bn{k}.weight"``, ``"bn{k}.bias"``."""
        return self._names

    @property
    def grads(self) -> list[np.ndarray]:
        """The gradients of the last :meth:`backward`, in the order of :attr:`params`."""
        return self._grads

    @property
    def n_layers(self) -> int:
        """Number of linear layers (hidden layers + the output layer)."""
        return len(self.sizes) - 1

    def train(self, mode: bool = True):
        """Training mode (``mode=True``) or evaluation mode, for the network and every layer;
        returns the network."""
        super().train(mode)
        for layer in self.layers:
            layer.train(self.training)
        return self

    def _check_X(self, owner: str, X) -> np.ndarray:
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != self.sizes[0]:
            raise ValueError(f"MLP.{owner}: X must have shape (n, {self.sizes[0]}), "
                             f"got {X.shape}")
        return X

    def forward(self, X, training: bool | None = None) -> np.ndarray:
        """The logits ``(n, sizes[-1])`` of the inputs ``X`` (cast to float64).

        Args:
            X: ``(n, sizes[0])`` inputs.
            training: ``None`` uses the network's mode (:meth:`train` /
                :meth:`~trainart.layers.Layer.eval`);
                ``True``/``False`` override it for this call (batch statistics and dropout,
                or running statistics and no dropout).

        Stores ``preactivations`` and ``activations`` of every hidden layer; each layer
        keeps the cache :meth:`backward` needs.
        """
        h = self._check_X("forward", X)
        mode = self._training(training)
        n = h.shape[0]
        self.preactivations, self.activations = [], []
        for layer in self.layers:
            if isinstance(layer, Activation):
                self.preactivations.append(h)
                h = layer.forward(h, mode)
                self.activations.append(h)
            else:
                h = layer.forward(h, mode)
        self._n = n
        return h

    def backward(self, dlogits) -> list[np.ndarray]:
        r"""Gradients of the loss for every parameter, in the order of ``params``.

        Args:
            dlogits: :math:`\partial L / \partial\,\text{logits}` for the batch of the last
                :meth:`forward`.

        Stores ``activation_grads`` and ``preactivation_grads`` of every hidden layer and
        ``input_grad`` (:math:`\partial L/\partial x`).
        """
        if self._n is None:
            raise RuntimeError("MLP.backward: call forward (or loss_and_grads) first")
        dlogits = np.asarray(dlogits, dtype=np.float64)
        if dlogits.shape != (self._n, self.sizes[-1]):
            raise ValueError(f"MLP.backward: dlogits must have the logits' shape "
                             f"{(self._n, self.sizes[-1])}, got {dlogits.shape}")
        act_grads, pre_grads = [], []
        d = dlogits
        for layer in reversed(self.layers):
            if isinstance(layer, Activation):
                act_grads.append(d)
                d = layer.backward(d)
                pre_grads.append(d)
            else:
                d = layer.backward(d)
        self.activation_grads, self.preactivation_grads = act_grads[::-1], pre_grads[::-1]
        self.input_grad = d
        self._grads = [g for layer in self.layers for g in layer.grads]
        return self._grads

    def loss_and_grads(self, X, y) -> tuple[float, list[np.ndarray]]:
        """Mean softmax cross-entropy on ``(X, y)`` and the gradients (order of ``params``),
        in the network's mode."""
        loss, dlogits = softmax_cross_entropy(self.forward(X), y)
        return loss, self.backward(dlogits)

    def loss(self, X, y) -> float:
        """The mean cross-entropy alone (a forward pass in the network's mode)."""
        return softmax_cross_entropy(self.forward(X), y)[0]

    def predict(self, X) -> np.ndarray:
        """The most probable class of each row (evaluation mode)."""
        return np.argmax(self.forward(X, training=False), axis=1)

    def accuracy(self, X, y) -> float:
        """Fraction of rows classified correctly (evaluation mode)."""
        return float(np.mean(self.predict(X) == np.asarray(y)))

    def to_torch(self, dtype=None):
        """The same network as a ``torch.nn.Sequential`` (``nn.Linear``, ``nn.BatchNorm1d``,
        the activation module of :data:`trainart.activations.REGISTRY`, ``nn.Dropout``),
        holding *copies* of the current weights and running statistics, in the network's mode.

        Args:
            dtype: the torch dtype of its parameters (default ``torch.float64``, so that it
                computes what this network computes to rounding).
        """
        import torch
        from torch import nn

        dtype = torch.float64 if dtype is None else dtype
        modules = []
        with torch.no_grad():
            for layer in self.layers:
                if isinstance(layer, Linear):
                    module = nn.Linear(layer.in_features, layer.out_features,
                                       bias=layer.bias is not None, dtype=dtype)
                    module.weight.copy_(torch.from_numpy(layer.weight))
                    if layer.bias is not None:
                        module.bias.copy_(torch.from_numpy(layer.bias))
                elif isinstance(layer, BatchNorm):
                    module = nn.BatchNorm1d(layer.num_features, eps=layer.eps,
                                            momentum=layer.momentum, dtype=dtype)
                    module.weight.copy_(torch.from_numpy(layer.gamma))
                    module.bias.copy_(torch.from_numpy(layer.beta))
                    module.running_mean.copy_(torch.from_numpy(layer.running_mean))
                    module.running_var.copy_(torch.from_numpy(layer.running_var))
                    tracked = getattr(layer, "num_batches_tracked", None)
                    if tracked is not None:
                        module.num_batches_tracked.fill_(int(tracked))
                elif isinstance(layer, Activation):
                    module = layer.to_torch()
                else:  # Dropout
                    module = nn.Dropout(layer.p)
                modules.append(module)
        return nn.Sequential(*modules).train(self.training)
