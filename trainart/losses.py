r"""Classification losses in NumPy, each returning its gradient with respect to the logits.

One implementation of each idea, used everywhere in trainart:

* :func:`log_softmax` and :func:`softmax`: stable, with the log-sum-exp trick;
* :func:`one_hot`: integer labels to one-hot rows;
* :func:`softmax_cross_entropy`: cross-entropy with integer labels,
  ``torch.nn.functional.cross_entropy(logits, y)``;
* :func:`label_smoothing_cross_entropy` and :func:`smoothed_targets`: its label-smoothing
  form, ``F.cross_entropy(logits, y, label_smoothing=eps)``;
* :func:`soft_cross_entropy`: cross-entropy against rows of probabilities (mixup, smoothed or
  distilled targets), ``F.cross_entropy(logits, probs)``.

The losses are the mean over the batch and return ``(loss, dlogits)``: a float and the
``(n, C)`` gradient :math:`\partial L/\partial z`, ready for a NumPy network's backward pass.

Torch is never imported here; :func:`one_hot` and :func:`soft_cross_entropy` also accept
tensors (which exist only once the caller imported torch).
"""

from __future__ import annotations

import sys

import numpy as np

from . import _checks
from ._arrays import is_tensor

__all__ = [
    "log_softmax",
    "softmax",
    "one_hot",
    "softmax_cross_entropy",
    "smoothed_targets",
    "label_smoothing_cross_entropy",
    "soft_cross_entropy",
]


def _numpy(x):
    """A NumPy view of a tensor (detached, on the CPU) or ``np.asarray(x)``."""
    return x.detach().cpu().numpy() if is_tensor(x) else np.asarray(x)


def _labels(owner: str, y, num_classes: int, n: int | None = None) -> np.ndarray:
    """``y`` as a 1-D integer array of labels in ``0..num_classes-1`` (``n`` of them when
    ``n`` is given), or an error naming ``owner``."""
    y = _numpy(y)
    if y.ndim != 1 or (n is not None and len(y) != n):
        want = "a 1-D array of labels" if n is None else f"a 1-D array of {n} labels"
        raise ValueError(f"{owner}: y must be {want}, got shape {y.shape}")
    if not np.issubdtype(y.dtype, np.integer):
        raise TypeError(f"{owner}: y must hold integer class labels, got dtype {y.dtype}")
    if len(y) and (y.min() < 0 or y.max() >= num_classes):
        raise ValueError(f"{owner}: labels must be in 0..{num_classes - 1}, "
                         f"got values in {y.min()}..{y.max()}")
    return y


def _logits(owner: str, logits) -> np.ndarray:
    z = _checks.float_array(owner, "logits", logits)
    if z.ndim != 2 or z.shape[0] == 0:
        raise ValueError(f"{owner}: logits must have shape (n, C) with n >= 1, got {z.shape}")
    return z


def _smoothing(owner: str, smoothing) -> float:
    smoothing = _checks.number(owner, "smoothing", smoothing)
    if not 0.0 <= smoothing <= 1.0:
        raise ValueError(f"{owner}: smoothing must be in [0, 1], got {smoothing!r}")
    return smoothing


# ---------------------------------------------------------------------------------------
# softmax
# ---------------------------------------------------------------------------------------


def log_softmax(z, axis: int = -1) -> np.ndarray:
    r"""The log of the softmax, computed stably (the log-sum-exp trick).

    .. math::

        \log\mathrm{softmax}(z)_c = z_c - \log\sum_k e^{z_k}
        = (z_c - m) - \log\sum_k e^{z_k - m},\qquad m = \max_k z_k

    Subtracting the maximum leaves the value unchanged and keeps every exponent
    :math:`\le 0`: no overflow, and the largest term is exactly 1.

    Args:
        z: scores, an array of any shape (a floating dtype is kept).
        axis: the axis of the classes.

    Returns:
        The log-probabilities, the shape of ``z``.

    Reference: ``torch.nn.functional.log_softmax``.
    """
    z = _checks.float_array("log_softmax", "z", z)
    shifted = z - z.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def softmax(z, axis: int = -1) -> np.ndarray:
    r"""The softmax :math:`\mathrm{softmax}(z)_c = e^{z_c} / \sum_k e^{z_k}`, as
    :math:`\exp(\log\mathrm{softmax}(z))` (:func:`~trainart.losses.log_softmax`).

    Args:
        z: scores, an array of any shape. axis: the axis of the classes.

    Returns:
        Probabilities summing to 1 along ``axis``.

    Reference: ``torch.softmax``.
    """
    return np.exp(log_softmax(z, axis))


def one_hot(y, num_classes: int):
    r"""One-hot targets :math:`e_{y_i}`: ``(n, C)`` float64 (a float64 tensor for a tensor
    ``y``), like ``torch.nn.functional.one_hot(y, C).double()``.

    Args:
        y: ``(n,)`` integer labels in ``0..C-1`` (an array or a tensor).
        num_classes: :math:`C \ge 1`.

    Returns:
        ``(n, C)`` rows with a single 1.
    """
    num_classes = _checks.positive_int("one_hot", "num_classes", num_classes)
    labels = _labels("one_hot", y, num_classes)
    out = np.zeros((len(labels), num_classes))
    out[np.arange(len(labels)), labels] = 1.0
    return sys.modules["torch"].from_numpy(out) if is_tensor(y) else out


# ---------------------------------------------------------------------------------------
# cross-entropy
# ---------------------------------------------------------------------------------------


def _cross_entropy(owner: str, logits, y, smoothing: float) -> tuple[float, np.ndarray]:
    """Cross-entropy with integer labels and label smoothing ``smoothing``, as torch
    computes it: ``(1 - eps) * nll + eps * mean_c(-log p)``."""
    z = _logits(owner, logits)
    n, C = z.shape
    y = _labels(owner, y, C, n)
    log_p = log_softmax(z, axis=1)
    rows = np.arange(n)
    loss = -log_p[rows, y].mean()
    dz = np.exp(log_p)
    if smoothing:
        loss = (1.0 - smoothing) * loss - smoothing * log_p.mean(axis=1).mean()
        dz -= smoothing / C
    dz[rows, y] -= 1.0 - smoothing
    dz /= n
    return float(loss), dz


def softmax_cross_entropy(logits, y) -> tuple[float, np.ndarray]:
    r"""Mean cross-entropy of softmax probabilities and its gradient with respect to the logits.

    .. math::

        L = \frac1n \sum_i \Big(\log\sum_c e^{z_{ic}} - z_{i y_i}\Big), \qquad
        \frac{\partial L}{\partial z_{ic}} = \frac1n\big(\mathrm{softmax}(z_i)_c
        - [c = y_i]\big)

    Computed stably with :func:`~trainart.losses.log_softmax`, as
    ``torch.nn.functional.cross_entropy`` does.

    Args:
        logits: ``(n, C)`` scores :math:`z`.
        y: ``(n,)`` integer labels in ``0..C-1``.

    Returns:
        ``(loss, dlogits)``: the mean loss (a float) and the ``(n, C)`` gradient.

    Reference: ``torch.nn.functional.cross_entropy``.
    """
    return _cross_entropy("softmax_cross_entropy", logits, y, 0.0)


def smoothed_targets(y, num_classes: int, smoothing: float) -> np.ndarray:
    r"""Label-smoothed targets, PyTorch's convention:

    .. math::

        t_{ic} = (1-\varepsilon)\,[c = y_i] + \frac{\varepsilon}{C}

    so the true class gets :math:`1 - \varepsilon + \varepsilon/C` and every other class
    :math:`\varepsilon/C` (Szegedy et al. 2016 write the same). Rows sum to 1.

    Args:
        y: ``(n,)`` integer labels. num_classes: :math:`C`.
        smoothing: :math:`\varepsilon \in [0, 1]`.

    Returns:
        ``(n, C)`` float64 targets.
    """
    smoothing = _smoothing("smoothed_targets", smoothing)
    num_classes = _checks.positive_int("smoothed_targets", "num_classes", num_classes)
    labels = _labels("smoothed_targets", y, num_classes)
    return (1 - smoothing) * one_hot(labels, num_classes) + smoothing / num_classes


def label_smoothing_cross_entropy(logits, y, smoothing: float) -> tuple[float, np.ndarray]:
    r"""Cross-entropy against label-smoothed targets, in NumPy, and its gradient.

    .. math::

        L = -\frac1n\sum_i\sum_c t_{ic}\log\mathrm{softmax}(z_i)_c
          = \frac1n\sum_i\Big((1-\varepsilon)\big(-\log p_{i y_i}\big)
          + \varepsilon\,\frac1C\sum_c\big(-\log p_{ic}\big)\Big),\qquad
        \frac{\partial L}{\partial z} = \frac{\mathrm{softmax}(z) - t}{n}

    with :math:`t = (1-\varepsilon)\,\mathrm{onehot}(y) + \varepsilon/C`
    (:func:`~trainart.losses.smoothed_targets`); the second form is how torch computes it. Equals
    ``torch.nn.CrossEntropyLoss(label_smoothing=smoothing)``; ``smoothing=0`` is
    :func:`~trainart.losses.softmax_cross_entropy`. The loss never reaches 0: it is minimized by
    finite logits whose softmax is :math:`t`, which is how smoothing keeps the logits (and the
    confidence) from growing without bound.

    Args:
        logits: ``(n, C)`` scores.
        y: ``(n,)`` integer labels.
        smoothing: :math:`\varepsilon \in [0, 1]`.

    Returns:
        ``(loss, dlogits)``.

    Reference: Szegedy, Vanhoucke, Ioffe, Shlens and Wojna (2016), "Rethinking the Inception
    architecture for computer vision", sec. 7; Müller, Kornblith and Hinton (2019), "When
    does label smoothing help?".
    """
    owner = "label_smoothing_cross_entropy"
    return _cross_entropy(owner, logits, y, _smoothing(owner, smoothing))


def soft_cross_entropy(logits, targets):
    r"""Cross-entropy with soft targets (rows of probabilities), mean over the batch.

    .. math::

        L = -\frac1n \sum_i \sum_c t_{ic} \log \mathrm{softmax}(z_i)_c,\qquad
        \frac{\partial L}{\partial z_{ic}} = \frac1n\Big(\mathrm{softmax}(z_i)_c\sum_k t_{ik}
        - t_{ic}\Big)

    (for targets whose rows sum to 1 the gradient is :math:`(\mathrm{softmax}(z) - t)/n`).
    Equals ``torch.nn.functional.cross_entropy(logits, targets)`` with probability targets.

    Args:
        logits: ``(n, C)`` scores, a NumPy array or a torch tensor.
        targets: ``(n, C)`` target probabilities of the same kind.

    Returns:
        For arrays ``(loss, dlogits)`` (a float and the ``(n, C)`` gradient); for tensors the
        loss as a differentiable scalar tensor.
    """
    owner = "soft_cross_entropy"
    if is_tensor(logits):
        if not is_tensor(targets):
            raise TypeError(f"{owner}: targets must be a tensor when logits is one, "
                            f"got {type(targets).__name__}")
        if logits.ndim != 2 or targets.shape != logits.shape:
            raise ValueError(f"{owner}: logits and targets must have the same (n, C) shape, "
                             f"got {tuple(logits.shape)} and {tuple(targets.shape)}")
        return -(targets * logits.log_softmax(dim=1)).sum(dim=1).mean()
    z = _logits(owner, logits)
    t = _checks.float_array(owner, "targets", targets)
    if t.shape != z.shape:
        raise ValueError(f"{owner}: targets must have the logits' shape {z.shape}, "
                         f"got {t.shape}")
    n = z.shape[0]
    log_p = log_softmax(z, axis=1)
    loss = -float(np.sum(t * log_p)) / n
    dz = (np.exp(log_p) * t.sum(axis=1, keepdims=True) - t) / n
    return loss, dz
