"""Small models and one training loop, for the chapters' real-data experiments.

* :func:`softmax_cross_entropy` and :class:`SoftmaxRegression`: multinomial logistic
  regression in NumPy, whose parameters (``float64`` arrays) any :mod:`trainart.optim`
  optimizer updates in place: ``opt.step(model.loss_and_grads(X, y)[1])``.
* :func:`mlp`: a seeded ``torch.nn.Sequential`` multilayer perceptron.
* :func:`train_classifier`: the plain PyTorch loop (per-epoch shuffled minibatches,
  cross-entropy, optional clipping and learning-rate schedule) that records loss curves.

A fair comparison of optimizers starts every run from the *same* weights and feeds the
*same* minibatches: build each model with ``mlp(sizes, seed=s)`` (same ``s`` -> same
weights; or copy one model with :func:`fresh_copies`) and train with the same ``seed``.

Torch is imported inside the functions that need it, so the NumPy part stays light.
"""

from __future__ import annotations

import copy
import math

import numpy as np

from .data import Dataset, minibatches

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


def _check_labels(owner: str, logits: np.ndarray, y) -> np.ndarray:
    y = np.asarray(y)
    if y.ndim != 1 or len(y) != len(logits):
        raise ValueError(
            f"{owner}: y must be a 1-D array of {len(logits)} labels, got shape {y.shape}"
        )
    if not np.issubdtype(y.dtype, np.integer):
        raise TypeError(f"{owner}: y must hold integer class labels, got dtype {y.dtype}")
    if len(y) and (y.min() < 0 or y.max() >= logits.shape[1]):
        raise ValueError(
            f"{owner}: labels must be in 0..{logits.shape[1] - 1}, "
            f"got values in {y.min()}..{y.max()}"
        )
    return y


def softmax_cross_entropy(logits, y) -> tuple[float, np.ndarray]:
    r"""Mean cross-entropy of softmax probabilities and its gradient with respect to the logits.

    .. math::

        L = \frac1n \sum_i \Big(\log\sum_c e^{z_{ic}} - z_{i y_i}\Big), \qquad
        \frac{\partial L}{\partial z_{ic}} = \frac1n\big(\mathrm{softmax}(z_i)_c
        - [c = y_i]\big)

    Computed stably by subtracting each row's maximum before exponentiating (the
    log-sum-exp trick), as ``torch.nn.functional.cross_entropy`` does.

    Args:
        logits: ``(n, C)`` scores :math:`z`.
        y: ``(n,)`` integer labels in ``0..C-1``.

    Returns:
        ``(loss, dlogits)``: the mean loss (a float) and the ``(n, C)`` gradient.
    """
    z = np.asarray(logits)
    if z.ndim != 2 or z.shape[0] == 0:
        raise ValueError(
            f"softmax_cross_entropy: logits must have shape (n, C) with n >= 1, got {z.shape}"
        )
    y = _check_labels("softmax_cross_entropy", z, y)
    n = z.shape[0]
    shifted = z - z.max(axis=1, keepdims=True)
    log_norm = np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    log_p = shifted - log_norm
    rows = np.arange(n)
    loss = -log_p[rows, y].mean()
    dz = np.exp(log_p)
    dz[rows, y] -= 1.0
    dz /= n
    return float(loss), dz


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
        for name, v, low in (("n_features", n_features, 1), ("n_classes", n_classes, 2)):
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < low:
                raise ValueError(f"SoftmaxRegression: {name} must be an integer >= {low}, "
                                 f"got {v!r}")
        if not weight_decay >= 0:
            raise ValueError(f"SoftmaxRegression: weight_decay must be >= 0, got {weight_decay!r}")
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

_ACTIVATIONS = {"relu": "ReLU", "tanh": "Tanh", "sigmoid": "Sigmoid", "gelu": "GELU",
                "leaky_relu": "LeakyReLU", "elu": "ELU", "identity": "Identity"}
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
        activation: ``"relu"``, ``"tanh"``, ``"sigmoid"``, ``"gelu"``, ``"leaky_relu"``,
            ``"elu"`` or ``"identity"``.
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
    if len(sizes) < 2 or any(isinstance(s, bool) or not isinstance(s, (int, np.integer))
                             or s < 1 for s in sizes):
        raise ValueError(f"mlp: sizes must be at least two integers >= 1, got {sizes!r}")
    if activation not in _ACTIVATIONS:
        raise ValueError(f"mlp: activation must be one of {sorted(_ACTIVATIONS)}, "
                         f"got {activation!r}")
    from . import init as initializers

    if init != "torch" and init not in _INIT_ALIASES and init not in initializers.SCHEMES:
        names = ["torch", *_INIT_ALIASES, *initializers.SCHEMES]
        raise ValueError(f"mlp: init must be one of {names}, got {init!r}")
    if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) \
            or not 0 <= dropout < 1:
        raise ValueError(f"mlp: dropout must be a probability in [0, 1), got {dropout!r}")
    act = getattr(nn, _ACTIVATIONS[activation])
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        layers = []
        for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=False)):
            layers.append(nn.Linear(int(fan_in), int(fan_out), dtype=torch.float32))
            if i < len(sizes) - 2:
                if batch_norm:
                    layers.append(nn.BatchNorm1d(int(fan_out), dtype=torch.float32))
                layers.append(act())
                if dropout > 0:
                    layers.append(nn.Dropout(float(dropout)))
    model = nn.Sequential(*layers)
    if init != "torch":
        scheme, kwargs = _INIT_ALIASES.get(init, (init, {}))
        initializers.init_module_(model, scheme, seed=seed, **kwargs)
    return model


def fresh_copies(model, n: int) -> list:
    """``n`` independent deep copies of ``model`` (same weights, separate parameters),
    e.g. one per optimizer in a comparison."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"fresh_copies: n must be an integer >= 1, got {n!r}")
    return [copy.deepcopy(model) for _ in range(int(n))]


def _current_lr(optimizer) -> float:
    if hasattr(optimizer, "param_groups"):  # torch.optim
        return float(optimizer.param_groups[0]["lr"])
    return float(optimizer.lr)


def evaluate(model, X, y, batch_size: int = 2048) -> tuple[float, float]:
    """Mean cross-entropy and accuracy of ``model`` on tensors ``X, y`` (eval mode, no grad)."""
    import torch
    import torch.nn.functional as F

    was_training = model.training
    model.eval()
    total_loss, correct = 0.0, 0
    with torch.no_grad():
        for i in range(0, len(y), batch_size):
            out = model(X[i:i + batch_size])
            total_loss += F.cross_entropy(out, y[i:i + batch_size], reduction="sum").item()
            correct += (out.argmax(dim=1) == y[i:i + batch_size]).sum().item()
    model.train(was_training)
    return total_loss / len(y), correct / len(y)


def train_classifier(model, optimizer, data: Dataset, epochs: int, batch_size: int = 128,
                     seed: int = 0, scheduler=None, clip_norm: float | None = None,
                     eval_test: bool = True, eval_train: bool = False, loss_fn=None,
                     after_step=None, callback=None) -> dict:
    """Train ``model`` with cross-entropy on ``data`` and record its loss curves.

    Each epoch visits the training set once in a fresh random order (minibatches by index
    slicing, as :func:`trainart.data.minibatches`); one step is::

        optimizer.zero_grad(); loss = cross_entropy(model(xb), yb); loss.backward()
        clip_grad_norm_(model.parameters(), clip_norm)   # if clip_norm is given
        optimizer.step(); after_step(model)               # if after_step is given

    and ``scheduler.step()`` is called after each epoch (the PyTorch convention). The hooks
    let the regularization chapter reuse the loop: ``loss_fn`` adds a penalty, mixes inputs
    (mixup), smooths labels or attacks the batch (adversarial training); ``after_step``
    re-applies a pruning mask; ``callback`` stops early.

    Args:
        model: a ``torch.nn.Module`` mapping ``(n, d)`` inputs to ``(n, C)`` logits; the
            inputs are cast to the dtype of its parameters (float32 for :func:`mlp`).
        optimizer: a :mod:`trainart.optim` optimizer or a ``torch.optim`` one, built on
            ``model.parameters()``.
        data: a :class:`~trainart.data.Dataset`; evaluation uses ``X_test, y_test`` (pass
            :func:`~trainart.data.train_val_split`'s result to evaluate on validation data).
        epochs: number of passes over the training set.
        batch_size: examples per step.
        seed: fixes the minibatch order (and the global torch generator, for dropout).
            Same model weights + same seed -> identical runs.
        scheduler: anything with ``.step()`` (:class:`trainart.optim.LRScheduler` or a
            ``torch.optim.lr_scheduler``), stepped once per epoch.
        clip_norm: if given, clip the global gradient norm to it before each step.
        eval_test: evaluate on the test set after each epoch (turn off for speed).
        eval_train: also evaluate on the whole training set after each epoch (eval mode),
            recording ``'train_eval_loss'`` and ``'train_acc'``: the train/test gap of
            overfitting.
        loss_fn: ``loss_fn(model, xb, yb) -> scalar tensor`` replacing the default
            ``cross_entropy(model(xb), yb)``; it is called in training mode and may use the
            global torch generator (seeded by ``seed``).
        after_step: ``after_step(model)``, called after every optimizer step.
        callback: ``callback(epoch, history)``, called after each epoch's evaluation
            (``epoch`` counts from 0); returning ``True`` stops training (early stopping).

    Returns:
        A dict of lists: per epoch ``'train_loss'`` (mean of the epoch's batch losses),
        ``'test_loss'``, ``'test_acc'``, ``'lr'`` (the rate used during the epoch), and per
        step ``'step_loss'`` and, when clipping, ``'grad_norm'`` (before clipping).
    """
    import torch
    import torch.nn.functional as F

    from .optim import clip_grad_norm_

    if not isinstance(data, Dataset):
        raise TypeError(f"train_classifier: data must be a Dataset, got {type(data).__name__}")
    if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or epochs < 0:
        raise ValueError(f"train_classifier: epochs must be an integer >= 0, got {epochs!r}")
    if (isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer))
            or batch_size < 1):
        raise ValueError(f"train_classifier: batch_size must be an integer >= 1, "
                         f"got {batch_size!r}")
    if clip_norm is not None and not (clip_norm > 0 and math.isfinite(clip_norm)):
        raise ValueError(f"train_classifier: clip_norm must be a number > 0, got {clip_norm!r}")
    for name, hook in (("loss_fn", loss_fn), ("after_step", after_step),
                       ("callback", callback)):
        if hook is not None and not callable(hook):
            raise TypeError(f"train_classifier: {name} must be callable, got "
                            f"{type(hook).__name__}")

    params = [p for p in model.parameters() if p.requires_grad]
    dtype = params[0].dtype if params else torch.float32  # inputs follow the model's dtype
    X = torch.from_numpy(np.ascontiguousarray(data.X_train)).to(dtype)
    y = torch.from_numpy(np.ascontiguousarray(data.y_train, dtype=np.int64))
    X_test = torch.from_numpy(np.ascontiguousarray(data.X_test)).to(dtype)
    y_test = torch.from_numpy(np.ascontiguousarray(data.y_test, dtype=np.int64))

    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    history: dict[str, list[float]] = {"train_loss": [], "test_loss": [], "test_acc": [],
                                       "lr": [], "step_loss": []}
    if clip_norm is not None:
        history["grad_norm"] = []
    if eval_train:
        history["train_eval_loss"], history["train_acc"] = [], []
    model.train()
    for epoch in range(int(epochs)):
        history["lr"].append(_current_lr(optimizer))
        batch_losses = []
        for idx in minibatches(len(y), batch_size, rng):
            idx_t = torch.from_numpy(idx)
            optimizer.zero_grad()
            if loss_fn is None:
                loss = F.cross_entropy(model(X[idx_t]), y[idx_t])
            else:
                loss = loss_fn(model, X[idx_t], y[idx_t])
            loss.backward()
            if clip_norm is not None:
                history["grad_norm"].append(float(clip_grad_norm_(params, clip_norm)))
            optimizer.step()
            if after_step is not None:
                after_step(model)
            batch_losses.append(loss.item())
        history["step_loss"].extend(batch_losses)
        history["train_loss"].append(float(np.mean(batch_losses)))
        if eval_test:
            test_loss, test_acc = evaluate(model, X_test, y_test)
            history["test_loss"].append(test_loss)
            history["test_acc"].append(test_acc)
        if eval_train:
            train_loss, train_acc = evaluate(model, X, y)
            history["train_eval_loss"].append(train_loss)
            history["train_acc"].append(train_acc)
        if scheduler is not None:
            scheduler.step()
        if callback is not None and callback(epoch, history):
            break
    return history
