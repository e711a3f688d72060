r"""Data augmentation, mixup, label smoothing and calibration.

* **Augmentation**: train on transformed copies of the inputs that keep their labels
  (small shifts, rotations, noise), so the network learns the invariance instead of the
  pixels. Images are rows of ``X`` (flattened ``image_shape``), as :mod:`trainart.data`
  stores them.
* **Mixup** (Zhang et al., 2018): train on convex combinations of pairs of examples *and* of
  their one-hot labels, :math:`\tilde x = \lambda x_i + (1-\lambda)x_j`,
  :math:`\tilde y = \lambda y_i + (1-\lambda) y_j`, :math:`\lambda\sim\mathrm{Beta}(\alpha,
  \alpha)`.
* **Label smoothing** (Szegedy et al., 2016): train towards
  :math:`(1-\varepsilon)\,\mathrm{onehot}(y) + \varepsilon/C` instead of the one-hot target,
  PyTorch's ``CrossEntropyLoss(label_smoothing=eps)`` convention (the uniform part also
  covers the true class).
* **Calibration**: a classifier is calibrated when among the examples it gives confidence
  :math:`p` a fraction :math:`p` is right; the expected calibration error (ECE, Guo et al.,
  2017) measures the gap. Label smoothing and mixup both lower over-confidence.

The ``*_loss`` functions return a ``loss_fn(model, xb, yb)`` for
:func:`trainart.models.train_classifier`.
"""

from __future__ import annotations

import numpy as np

from .. import _checks
from .._lazy import lazy_import

torch = lazy_import("torch")
F = lazy_import("torch.nn.functional")

__all__ = [
    "random_shift",
    "random_rotate",
    "add_noise",
    "augmented_loss",
    "one_hot",
    "mixup",
    "mixup_loss",
    "smoothed_targets",
    "soft_cross_entropy",
    "label_smoothing_cross_entropy",
    "label_smoothing_loss",
    "expected_calibration_error",
    "mean_confidence",
    "reliability_curve",
]


# ---------------------------------------------------------------------------------------
# augmentation
# ---------------------------------------------------------------------------------------


def _images(owner: str, X, image_shape) -> tuple[np.ndarray, tuple[int, int]]:
    X = _checks.float_array(owner, "X", X)
    try:
        h, w = (int(s) for s in image_shape)
    except (TypeError, ValueError):
        raise ValueError(f"{owner}: image_shape must be (height, width), "
                         f"got {image_shape!r}") from None
    if X.ndim != 2 or X.shape[1] != h * w:
        raise ValueError(f"{owner}: X must have shape (n, {h * w}) for image_shape "
                         f"{(h, w)}, got {X.shape}")
    return X, (h, w)


def random_shift(X, image_shape, max_shift: int, rng=None) -> np.ndarray:
    r"""Translate each image by a random whole number of pixels, filling with zeros.

    .. math::

        \tilde x[r, c] = x[r - \delta_r,\ c - \delta_c]
        \ (0 \text{ outside the image}),\qquad
        \delta_r, \delta_c \sim \mathcal U\{-s, \dots, s\}

    Args:
        X: ``(n, h*w)`` images, one per row.
        image_shape: ``(h, w)``.
        max_shift: :math:`s \ge 0`, the largest shift in pixels along each axis.
        rng: an ``np.random.Generator``, an int seed or ``None``.

    Returns:
        The shifted images, ``X``'s shape and dtype.
    """
    owner = "random_shift"
    X, (h, w) = _images(owner, X, image_shape)
    if isinstance(max_shift, bool) or not isinstance(max_shift, (int, np.integer)) \
            or max_shift < 0:
        raise ValueError(f"{owner}: max_shift must be an integer >= 0, got {max_shift!r}")
    rng = _checks.generator(owner, rng)
    n = len(X)
    shifts = rng.integers(-max_shift, max_shift + 1, size=(n, 2))
    imgs = X.reshape(n, h, w)
    out = np.zeros_like(imgs)
    for i, (dr, dc) in enumerate(shifts):
        out[i, max(dr, 0):h + min(dr, 0), max(dc, 0):w + min(dc, 0)] = \
            imgs[i, max(-dr, 0):h + min(-dr, 0), max(-dc, 0):w + min(-dc, 0)]
    return out.reshape(n, h * w)


def random_rotate(X, image_shape, max_degrees: float, rng=None) -> np.ndarray:
    r"""Rotate each image about its centre by a random angle, bilinear, zeros outside.

    Each output pixel :math:`p` reads the input at :math:`R_{-\theta}(p - c) + c` (centre
    :math:`c = ((h-1)/2, (w-1)/2)`) by bilinear interpolation, with zeros beyond the border;
    :math:`\theta \sim \mathcal U[-d, d]` degrees, counter-clockwise as displayed. Equal to
    ``scipy.ndimage.rotate(img, theta, reshape=False, order=1, mode="grid-constant")``.

    Args:
        X: ``(n, h*w)`` images, one per row.
        image_shape: ``(h, w)``.
        max_degrees: :math:`d \ge 0`.
        rng: an ``np.random.Generator``, an int seed or ``None``.

    Returns:
        The rotated images, ``X``'s shape and dtype.
    """
    owner = "random_rotate"
    X, (h, w) = _images(owner, X, image_shape)
    max_degrees = _checks.non_negative(owner, "max_degrees", max_degrees)
    rng = _checks.generator(owner, rng)
    angles = rng.uniform(-max_degrees, max_degrees, size=len(X))
    return _rotate(X, (h, w), angles)


def _rotate(X: np.ndarray, image_shape: tuple[int, int], degrees: np.ndarray) -> np.ndarray:
    """Rotate row ``i`` of ``X`` by ``degrees[i]`` (bilinear, zero padding)."""
    h, w = image_shape
    n = len(X)
    theta = np.deg2rad(degrees)[:, None, None]
    cr, cc = (h - 1) / 2, (w - 1) / 2
    r, c = np.meshgrid(np.arange(h) - cr, np.arange(w) - cc, indexing="ij")
    # inverse map of a counter-clockwise rotation in (row down, column right) coordinates
    src_r = np.cos(theta) * r + np.sin(theta) * c + cr
    src_c = -np.sin(theta) * r + np.cos(theta) * c + cc
    padded = np.zeros((n, h + 2, w + 2), dtype=X.dtype)  # a ring of zeros around each image
    padded[:, 1:-1, 1:-1] = X.reshape(n, h, w)
    src_r = np.clip(src_r + 1, 0, h + 1)  # beyond the ring everything is zero anyway
    src_c = np.clip(src_c + 1, 0, w + 1)
    r0 = np.minimum(np.floor(src_r).astype(int), h)
    c0 = np.minimum(np.floor(src_c).astype(int), w)
    fr, fc = src_r - r0, src_c - c0
    rows = np.arange(n)[:, None, None]
    out = ((1 - fr) * (1 - fc) * padded[rows, r0, c0] + (1 - fr) * fc * padded[rows, r0, c0 + 1]
           + fr * (1 - fc) * padded[rows, r0 + 1, c0] + fr * fc * padded[rows, r0 + 1, c0 + 1])
    return out.reshape(n, h * w).astype(X.dtype, copy=False)


def add_noise(X, std: float, rng=None) -> np.ndarray:
    r"""Gaussian input noise: :math:`\tilde x = x + \sigma\varepsilon`,
    :math:`\varepsilon\sim\mathcal N(0, I)` (for small :math:`\sigma`, like an L2 penalty
    on the input gradient; Bishop, 1995).

    Args:
        X: an array of any shape.
        std: :math:`\sigma \ge 0`.
        rng: an ``np.random.Generator``, an int seed or ``None``.

    Returns:
        ``X`` plus noise, ``X``'s shape and dtype.
    """
    X = _checks.float_array("add_noise", "X", X)
    std = _checks.non_negative("add_noise", "std", std)
    rng = _checks.generator("add_noise", rng)
    return (X + std * rng.standard_normal(X.shape)).astype(X.dtype, copy=False)


def augmented_loss(transform, seed: int = 0):
    """A ``loss_fn`` training on transformed batches: cross-entropy of
    ``model(transform(xb, rng))`` with the original labels.

    Args:
        transform: ``transform(X: np.ndarray, rng) -> np.ndarray`` of the same shape, e.g.
            ``lambda X, rng: random_shift(X, (8, 8), 1, rng)``.
        seed: seeds the generator passed to ``transform`` (created once: every batch gets
            fresh transformations, the same ones on every run).

    Returns:
        ``loss_fn(model, xb, yb) -> scalar tensor``.
    """
    if not callable(transform):
        raise TypeError(f"augmented_loss: transform must be callable, "
                        f"got {type(transform).__name__}")
    rng = _checks.generator("augmented_loss", seed)

    def loss_fn(model, xb, yb):
        x_aug = np.asarray(transform(xb.detach().cpu().numpy(), rng))
        if x_aug.shape != tuple(xb.shape):
            raise ValueError(f"augmented_loss: transform must keep the batch shape "
                             f"{tuple(xb.shape)}, got {x_aug.shape}")
        return F.cross_entropy(model(torch.from_numpy(x_aug).to(xb.dtype)), yb)

    return loss_fn


# ---------------------------------------------------------------------------------------
# targets: one-hot, mixup, label smoothing
# ---------------------------------------------------------------------------------------


def _labels(owner: str, y, num_classes) -> np.ndarray:
    num_classes = _checks.positive_int(owner, "num_classes", num_classes)
    y = y.detach().cpu().numpy() if isinstance(y, torch.Tensor) else np.asarray(y)
    if y.ndim != 1:
        raise ValueError(f"{owner}: y must be a 1-D array of labels, got shape {y.shape}")
    if not np.issubdtype(y.dtype, np.integer):
        raise TypeError(f"{owner}: y must hold integer class labels, got dtype {y.dtype}")
    if len(y) and (y.min() < 0 or y.max() >= num_classes):
        raise ValueError(f"{owner}: labels must be in 0..{num_classes - 1}, "
                         f"got values in {y.min()}..{y.max()}")
    return y


def one_hot(y, num_classes: int):
    r"""One-hot targets :math:`e_{y_i}`: ``(n, C)`` float64 (a float64 tensor for a tensor
    ``y``), like ``torch.nn.functional.one_hot(y, C).double()``."""
    labels = _labels("one_hot", y, num_classes)
    out = np.zeros((len(labels), num_classes))
    out[np.arange(len(labels)), labels] = 1.0
    return torch.from_numpy(out) if isinstance(y, torch.Tensor) else out


def mixup(x, y, alpha: float, rng=None, num_classes: int | None = None, *, lam=None):
    r"""Mixup: mix a batch with a shuffled copy of itself, inputs and one-hot labels alike.

    .. math::

        \lambda \sim \mathrm{Beta}(\alpha, \alpha),\quad \pi = \text{a random permutation},
        \quad \tilde x_i = \lambda x_i + (1-\lambda)\, x_{\pi(i)},\quad
        \tilde y_i = \lambda\, e_{y_i} + (1-\lambda)\, e_{y_{\pi(i)}}

    One :math:`\lambda` per batch, as in the paper's code. Small :math:`\alpha` puts
    :math:`\lambda` near 0 or 1 (little mixing); :math:`\alpha = 1` is uniform.

    Args:
        x: ``(n, ...)`` inputs, a NumPy array or torch tensor.
        y: ``(n,)`` integer labels (same kind as ``x``).
        alpha: :math:`\alpha > 0`.
        rng: an ``np.random.Generator``, an int seed or ``None`` (draws :math:`\lambda`,
            then the permutation).
        num_classes: :math:`C`; default ``max(y) + 1``.
        lam: use this :math:`\lambda \in [0, 1]` instead of drawing one (the permutation is
            still drawn).

    Returns:
        ``(x_mix, y_soft, lam)``: ``x_mix`` of ``x``'s shape and type, ``y_soft`` the
        ``(n, C)`` soft targets (rows sum to 1; a tensor of ``x``'s dtype for tensors) and
        ``lam`` a float.

    Reference: Zhang, Cisse, Dauphin and Lopez-Paz (2018), "mixup: beyond empirical risk
    minimization", ICLR.
    """
    owner = "mixup"
    alpha = _checks.positive(owner, "alpha", alpha)
    rng = _checks.generator(owner, rng)
    is_torch = isinstance(x, torch.Tensor)
    if not is_torch:
        x = _checks.float_array(owner, "x", x)
    if x.ndim < 1 or len(x) < 1:
        raise ValueError(f"{owner}: x must hold at least one example, got shape "
                         f"{tuple(x.shape)}")
    y_np = y.detach().cpu().numpy() if isinstance(y, torch.Tensor) else np.asarray(y)
    if y_np.shape != (len(x),):
        raise ValueError(f"{owner}: y must have shape ({len(x)},) to match x, "
                         f"got {tuple(y_np.shape)}")
    if num_classes is None:
        num_classes = int(y_np.max()) + 1 if np.issubdtype(y_np.dtype, np.integer) else 1
    targets = one_hot(y_np, num_classes)
    if lam is None:
        lam = float(rng.beta(alpha, alpha))
    else:
        lam = _checks._number(owner, "lam", lam)
        if not 0.0 <= lam <= 1.0:
            raise ValueError(f"{owner}: lam must be in [0, 1], got {lam!r}")
    perm = rng.permutation(len(x))
    y_soft = lam * targets + (1 - lam) * targets[perm]
    if is_torch:
        perm_t = torch.from_numpy(perm).to(x.device)
        return (lam * x + (1 - lam) * x[perm_t], torch.from_numpy(y_soft).to(x.dtype), lam)
    return (lam * x + (1 - lam) * x[perm]).astype(x.dtype, copy=False), y_soft, lam


def mixup_loss(alpha: float, num_classes: int, seed: int = 0):
    r"""A ``loss_fn`` training with mixup: :func:`soft_cross_entropy` of
    ``model(x_mix)`` against ``y_soft`` (equal to
    :math:`\lambda\,\mathrm{CE}(y) + (1-\lambda)\,\mathrm{CE}(y_\pi)`).

    Args:
        alpha: :math:`\alpha > 0` of :math:`\mathrm{Beta}(\alpha, \alpha)`.
        num_classes: :math:`C`.
        seed: seeds the generator (created once) that draws every batch's
            :math:`\lambda` and permutation.

    Returns:
        ``loss_fn(model, xb, yb) -> scalar tensor``.
    """
    alpha = _checks.positive("mixup_loss", "alpha", alpha)
    num_classes = _checks.positive_int("mixup_loss", "num_classes", num_classes)
    rng = _checks.generator("mixup_loss", seed)

    def loss_fn(model, xb, yb):
        x_mix, y_soft, _ = mixup(xb, yb, alpha, rng, num_classes)
        return soft_cross_entropy(model(x_mix), y_soft)

    return loss_fn


def _smoothing(owner: str, smoothing) -> float:
    smoothing = _checks._number(owner, "smoothing", smoothing)
    if not 0.0 <= smoothing <= 1.0:
        raise ValueError(f"{owner}: smoothing must be in [0, 1], got {smoothing!r}")
    return smoothing


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
    labels = _labels("smoothed_targets", y, num_classes)
    return (1 - smoothing) * one_hot(labels, num_classes) + smoothing / num_classes


def _log_softmax(z: np.ndarray) -> np.ndarray:
    shifted = z - z.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


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
    if isinstance(logits, torch.Tensor):
        if not isinstance(targets, torch.Tensor):
            raise TypeError(f"{owner}: targets must be a tensor when logits is one")
        if logits.ndim != 2 or targets.shape != logits.shape:
            raise ValueError(f"{owner}: logits and targets must have the same (n, C) shape, "
                             f"got {tuple(logits.shape)} and {tuple(targets.shape)}")
        return -(targets * F.log_softmax(logits, dim=1)).sum(dim=1).mean()
    z = _checks.float_array(owner, "logits", logits)
    t = _checks.float_array(owner, "targets", targets)
    if z.ndim != 2 or z.shape[0] == 0 or t.shape != z.shape:
        raise ValueError(f"{owner}: logits and targets must have the same (n, C) shape with "
                         f"n >= 1, got {z.shape} and {t.shape}")
    n = z.shape[0]
    log_p = _log_softmax(z)
    loss = -float(np.sum(t * log_p)) / n
    dz = (np.exp(log_p) * t.sum(axis=1, keepdims=True) - t) / n
    return loss, dz


def label_smoothing_cross_entropy(logits, y, smoothing: float) -> tuple[float, np.ndarray]:
    r"""Cross-entropy against label-smoothed targets, in NumPy, and its gradient.

    .. math::

        L = -\frac1n\sum_i\sum_c t_{ic}\log\mathrm{softmax}(z_i)_c,\qquad
        t = (1-\varepsilon)\,\mathrm{onehot}(y) + \frac{\varepsilon}{C},\qquad
        \frac{\partial L}{\partial z} = \frac{\mathrm{softmax}(z) - t}{n}

    Equals ``torch.nn.CrossEntropyLoss(label_smoothing=smoothing)``. The loss never reaches
    0: it is minimized by finite logits whose softmax is :math:`t`, which is how smoothing
    keeps the logits (and the confidence) from growing without bound.

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
    smoothing = _smoothing(owner, smoothing)
    z = _checks.float_array(owner, "logits", logits)
    if z.ndim != 2 or z.shape[0] == 0:
        raise ValueError(f"{owner}: logits must have shape (n, C) with n >= 1, got {z.shape}")
    labels = _labels(owner, y, z.shape[1])
    if len(labels) != len(z):
        raise ValueError(f"{owner}: y must hold {len(z)} labels (one per row of logits), "
                         f"got {len(labels)}")
    return soft_cross_entropy(z, smoothed_targets(labels, z.shape[1], smoothing))


def label_smoothing_loss(smoothing: float):
    """A ``loss_fn`` training with label smoothing: ``F.cross_entropy(model(xb), yb,
    label_smoothing=smoothing)`` (the torch twin of :func:`label_smoothing_cross_entropy`)."""
    smoothing = _smoothing("label_smoothing_loss", smoothing)

    def loss_fn(model, xb, yb):
        return F.cross_entropy(model(xb), yb, label_smoothing=smoothing)

    return loss_fn


# ---------------------------------------------------------------------------------------
# calibration
# ---------------------------------------------------------------------------------------


def _probs(owner: str, probs, y=None) -> tuple[np.ndarray, np.ndarray | None]:
    if isinstance(probs, torch.Tensor):
        probs = probs.detach().cpu().numpy()
    p = _checks.float_array(owner, "probs", probs)
    if p.ndim != 2 or p.shape[0] == 0:
        raise ValueError(f"{owner}: probs must have shape (n, C) with n >= 1, got {p.shape}")
    if np.any(p < 0) or not np.allclose(p.sum(axis=1), 1.0, atol=1e-4):
        raise ValueError(f"{owner}: probs must be probabilities (rows >= 0 summing to 1); "
                         f"apply softmax to logits first")
    if y is None:
        return p, None
    labels = _labels(owner, y, p.shape[1])
    if len(labels) != len(p):
        raise ValueError(f"{owner}: y must hold {len(p)} labels, got {len(labels)}")
    return p, labels


def reliability_curve(probs, y, n_bins: int = 15) -> dict:
    r"""Accuracy against confidence in equal-width confidence bins.

    The confidence of example :math:`i` is :math:`\hat p_i = \max_c p_{ic}` and its
    prediction :math:`\hat y_i = \arg\max_c p_{ic}`; bin :math:`b` holds the examples with
    :math:`\hat p_i \in ((b-1)/B,\ b/B]`. A calibrated model has accuracy = confidence in
    every bin (the diagonal of a reliability diagram).

    Args:
        probs: ``(n, C)`` predicted probabilities. y: ``(n,)`` labels.
        n_bins: :math:`B \ge 1`.

    Returns:
        A dict of arrays of length ``n_bins``: ``"edges"`` (``n_bins + 1`` bin edges),
        ``"confidence"`` and ``"accuracy"`` (means in each bin, NaN where empty) and
        ``"count"``.

    Reference: Guo, Pleiss, Sun and Weinberger (2017), "On calibration of modern neural
    networks", ICML.
    """
    return _reliability("reliability_curve", probs, y, n_bins)


def _reliability(owner: str, probs, y, n_bins) -> dict:
    n_bins = _checks.positive_int(owner, "n_bins", n_bins)
    p, labels = _probs(owner, probs, y)
    conf, correct = p.max(axis=1), (p.argmax(axis=1) == labels).astype(np.float64)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    # bin b holds (edges[b], edges[b + 1]]; a confidence of exactly 0 cannot occur for C >= 1
    bins = np.clip(np.searchsorted(edges, conf, side="left") - 1, 0, n_bins - 1)
    count = np.bincount(bins, minlength=n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        confidence = np.bincount(bins, weights=conf, minlength=n_bins) / count
        accuracy = np.bincount(bins, weights=correct, minlength=n_bins) / count
    return {"edges": edges, "confidence": confidence, "accuracy": accuracy, "count": count}


def expected_calibration_error(probs, y, n_bins: int = 15) -> float:
    r"""The expected calibration error (ECE) over equal-width confidence bins.

    .. math::

        \mathrm{ECE} = \sum_{b=1}^{B} \frac{|B_b|}{n}\,\big|\mathrm{acc}(B_b)
        - \mathrm{conf}(B_b)\big|

    0 for a perfectly calibrated model; an over-confident network has conf > acc.

    Args:
        probs: ``(n, C)`` predicted probabilities. y: ``(n,)`` labels.
        n_bins: :math:`B` (15 as in Guo et al., 2017).

    Returns:
        The ECE, a float in :math:`[0, 1]`.
    """
    curve = _reliability("expected_calibration_error", probs, y, n_bins)
    filled = curve["count"] > 0
    weights = curve["count"][filled] / curve["count"].sum()
    gaps = np.abs(curve["accuracy"][filled] - curve["confidence"][filled])
    return float(np.sum(weights * gaps))


def mean_confidence(probs) -> float:
    r"""The mean confidence :math:`\frac1n\sum_i \max_c p_{ic}` (compare with the accuracy:
    above it means over-confident)."""
    p, _ = _probs("mean_confidence", probs)
    return float(np.mean(p.max(axis=1)))

