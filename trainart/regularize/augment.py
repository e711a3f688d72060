r"""Data augmentation, mixup and label smoothing.

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

Label smoothing and mixup both lower over-confidence, which
:mod:`trainart.regularize.calibration` measures. The losses themselves (one-hot, smoothed
targets, soft-target cross-entropy) live in :mod:`trainart.losses` and are re-exported here.

The ``*_loss`` functions return a ``loss_fn(model, xb, yb)`` for
:func:`trainart.training.train_classifier`.
"""

from __future__ import annotations

import numpy as np

from .. import _checks
from .._arrays import is_tensor
from .._lazy import lazy_import
from ..losses import (  # re-exported: their old home
    _smoothing,
    label_smoothing_cross_entropy,
    one_hot,
    smoothed_targets,
    soft_cross_entropy,
)

# re-exported: their old home (not in __all__: trainart.regularize exports them from calibration)
from .calibration import expected_calibration_error, mean_confidence, reliability_curve  # noqa: F401

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
    max_shift = _checks.non_negative_int(owner, "max_shift", max_shift)
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
    is_torch = is_tensor(x)
    if not is_torch:
        x = _checks.float_array(owner, "x", x)
    if x.ndim < 1 or len(x) < 1:
        raise ValueError(f"{owner}: x must hold at least one example, got shape "
                         f"{tuple(x.shape)}")
    y_np = y.detach().cpu().numpy() if is_tensor(y) else np.asarray(y)
    if y_np.shape != (len(x),):
        raise ValueError(f"{owner}: y must have shape ({len(x)},) to match x, "
                         f"got {tuple(y_np.shape)}")
    if num_classes is None:
        num_classes = int(y_np.max()) + 1 if np.issubdtype(y_np.dtype, np.integer) else 1
    targets = one_hot(y_np, num_classes)
    if lam is None:
        lam = float(rng.beta(alpha, alpha))
    else:
        lam = _checks.number(owner, "lam", lam)
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


def label_smoothing_loss(smoothing: float):
    """A ``loss_fn`` training with label smoothing: ``F.cross_entropy(model(xb), yb,
    label_smoothing=smoothing)`` (the torch twin of :func:`label_smoothing_cross_entropy`)."""
    smoothing = _smoothing("label_smoothing_loss", smoothing)

    def loss_fn(model, xb, yb):
        return F.cross_entropy(model(xb), yb, label_smoothing=smoothing)

    return loss_fn
