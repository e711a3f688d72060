"""Small models for the chapters' real-data experiments.

* :class:`SoftmaxRegression`: multinomial logistic regression in NumPy, whose parameters
  (``float64`` arrays) any :mod:`trainart.optim` optimizer updates in place:
  ``opt.step(model.loss_and_grads(X, y)[1])``; its loss is
  :func:`trainart.losses.softmax_cross_entropy`.
* :func:`mlp`: a seeded ``torch.nn.Sequential`` multilayer perceptron (the NumPy one, with
  forward and backward passes, is :class:`trainart.nn.MLP`).

The training loop (:func:`~trainart.training.train_classifier`,
:func:`~trainart.training.evaluate`, :func:`~trainart.training.fresh_copies`) lives in
:mod:`trainart.training` and :func:`softmax_cross_entropy` in :mod:`trainart.losses`; both
are re-exported here, their old home.

A fair comparison of optimizers starts every run from the *same* weights and feeds the
*same* minibatches: build each model with ``mlp(sizes, seed=s)`` (same ``s`` -> same
weights; or copy one model with :func:`fresh_copies`) and train with the same ``seed``.

Torch is imported inside the functions that need it, so the NumPy part stays light.
"""

from __future__ import annotations

import numpy as np

from . import _checks
from . import activations as _activations
from .losses import softmax_cross_entropy
from .training import _current_lr, evaluate, fresh_copies, train_classifier  # noqa: F401

__all__ = [
    "softmax_cross_entropy",
    "SoftmaxRegression",
    "mlp",
    "fresh_copies",
    "train_classifier",
    "evaluate",
]


# ---------------------------------------------------------------------------------------
# NumPy: softmax regression
# ---------------------------------------------------------------------------------------


class SoftmaxRegression:
    r"""Multinomial logistic regression :math:`p(y\mid x) = \mathrm{softmax}(xW + b)`.

    The parameters live in ``self.params = [W, b]`` (``float64`` arrays of shapes ``(d, C)``
    and ``(C,)``) and are updated in place by an optimizer::

        model = SoftmaxRegression(d, C)
        opt = Adam(model.params, lr=1e-2)
        loss, grads = model.loss_and_grads(X, y)
        opt.step(grads)

    Gradients: :math:`\nabla_W L = X^\top \delta`, :math:`\nabla_b L = \sum_i \delta_i`
    with :math:`\delta = \partial L / \partial z` from :func:`softmax_cross_entropy`.

    Args:
        n_features: input dimension ``d``.
        n_classes: number of classes ``C``.
        seed: seed of the small random init :math:`W \sim \mathcal N(0, 0.01^2)`, ``b = 0``
            (``seed=None`` starts from all zeros, the convex problem's usual start).
        weight_decay: L2 penalty :math:`\frac{\lambda}{2}\|W\|^2` added to the loss
            (the bias is not penalized).
    """

    def __init__(self, n_features: int, n_classes: int, seed: int | None = 0,
                 weight_decay: float = 0.0):
        n_features = _checks.positive_int("SoftmaxRegression", "n_features", n_features)
        n_classes = _checks.integer("SoftmaxRegression", "n_classes", n_classes, minimum=2)
        weight_decay = _checks.non_negative("SoftmaxRegression", "weight_decay", weight_decay)
        if seed is None:
            W = np.zeros((n_features, n_classes))
        else:
            W = 0.01 * np.random.default_rng(seed).standard_normal((n_features, n_classes))
        self.W, self.b = W, np.zeros(n_classes)
        self.params = [self.W, self.b]
        self.weight_decay = float(weight_decay)

    def _check_X(self, X) -> np.ndarray:
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != self.W.shape[0]:
            raise ValueError(
                f"SoftmaxRegression: X must have shape (n, {self.W.shape[0]}), got {X.shape}"
            )
        return X

    def logits(self, X) -> np.ndarray:
        """Scores :math:`XW + b`, shape ``(n, C)``."""
        return self._check_X(X) @ self.W + self.b

    def loss_and_grads(self, X, y) -> tuple[float, list[np.ndarray]]:
        """Mean cross-entropy on ``(X, y)`` (plus the L2 penalty) and ``[dW, db]``."""
        X = self._check_X(X)
        loss, dz = softmax_cross_entropy(X @ self.W + self.b, y)
        dW, db = X.T @ dz, dz.sum(axis=0)
        if self.weight_decay:
            loss += 0.5 * self.weight_decay * float(np.sum(self.W**2))
            dW += self.weight_decay * self.W
        return loss, [dW, db]

    def loss(self, X, y) -> float:
        """The loss alone."""
        return self.loss_and_grads(X, y)[0]

    def predict(self, X) -> np.ndarray:
        """The most probable class of each row."""
        return np.argmax(self.logits(X), axis=1)

    def accuracy(self, X, y) -> float:
        """Fraction of rows classified correctly."""
        return float(np.mean(self.predict(X) == np.asarray(y)))


# ---------------------------------------------------------------------------------------
# PyTorch: MLP and training loop
# ---------------------------------------------------------------------------------------

# Short names kept for convenience; any trainart.init scheme name works too.
_INIT_ALIASES = {"kaiming": ("kaiming_normal", {"nonlinearity": "relu"}),
                 "xavier": ("xavier_normal", {})}


def mlp(sizes, activation: str = "relu", seed: int = 0, init: str = "torch",
        dropout: float = 0.0, batch_norm: bool = False):
    """A multilayer perceptron ``Linear -> act -> ... -> Linear`` (no activation at the end).

    Each hidden layer is ``Linear -> [BatchNorm1d] -> activation -> [Dropout(p)]``: batch
    norm before the activation (as in Ioffe & Szegedy, 2015), dropout after it.

    Args:
        sizes: layer widths from input to output, e.g. ``[784, 128, 64, 10]``.
        activation: a name of :data:`trainart.activations.REGISTRY` (``"relu"``,
            ``"tanh"``, ``"sigmoid"``, ``"gelu"``, ``"leaky_relu"``, ``"elu"``,
            ``"identity"``), built with the registry's torch module and defaults.
        seed: the weights depend only on it: two calls with the same ``seed`` give identical
            networks. The global torch generator is left untouched.
        init: ``"torch"`` (PyTorch's default ``nn.Linear`` init, uniform with bound
            :math:`1/\\sqrt{\\text{fan\\_in}}`), ``"kaiming"`` (He normal for ReLU, zero
            biases), ``"xavier"`` (Glorot normal, zero biases), or any scheme name of
            :mod:`trainart.init` (filled by :func:`trainart.init.init_module_` from ``seed``).
        dropout: drop probability ``p`` of a ``torch.nn.Dropout`` after each hidden
            activation (``0`` adds none); in ``[0, 1)``.
        batch_norm: add a ``torch.nn.BatchNorm1d`` after each hidden ``Linear``.

    Returns:
        A ``torch.nn.Sequential`` in float32 (whatever ``torch.get_default_dtype()`` is).
    """
    import torch
    from torch import nn

    sizes = list(sizes)
    if len(sizes) < 2 or not all(_checks.is_integer(s) and s >= 1 for s in sizes):
        raise ValueError(f"mlp: sizes must be at least two integers >= 1, got {sizes!r}")
    if not isinstance(activation, str) or activation not in _activations.REGISTRY:
        raise ValueError(f"mlp: activation must be one of {sorted(_activations.REGISTRY)}, "
                         f"got {activation!r}")
    from . import init as initializers

    if init != "torch" and init not in _INIT_ALIASES and init not in initializers.SCHEMES:
        names = ["torch", *_INIT_ALIASES, *initializers.SCHEMES]
        raise ValueError(f"mlp: init must be one of {names}, got {init!r}")
    if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) \
            or not 0 <= dropout < 1:
        raise ValueError(f"mlp: dropout must be a probability in [0, 1), got {dropout!r}")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        layers = []
        for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=False)):
            layers.append(nn.Linear(int(fan_in), int(fan_out), dtype=torch.float32))
            if i < len(sizes) - 2:
                if batch_norm:
                    layers.append(nn.BatchNorm1d(int(fan_out), dtype=torch.float32))
                layers.append(_activations.torch_module(activation))
                if dropout > 0:
                    layers.append(nn.Dropout(float(dropout)))
    model = nn.Sequential(*layers)
    if init != "torch":
        scheme, kwargs = _INIT_ALIASES.get(init, (init, {}))
        initializers.init_module_(model, scheme, seed=seed, **kwargs)
    return model
