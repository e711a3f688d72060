r"""Calibration: does a classifier's confidence match how often it is right?

A classifier is **calibrated** when, among the examples it gives confidence :math:`p`, a
fraction :math:`p` is classified correctly. :func:`reliability_curve` bins the examples by
confidence (the reliability diagram), :func:`expected_calibration_error` (ECE, Guo et al.,
2017) averages the gap between accuracy and confidence over the bins, and
:func:`mean_confidence` is the single number to compare with the accuracy. Label smoothing
and mixup (:mod:`trainart.regularize.augment`) both lower over-confidence.

Reference: Guo, Pleiss, Sun and Weinberger (2017), "On calibration of modern neural
networks", ICML.
"""

from __future__ import annotations

import numpy as np

from .. import _checks
from .._arrays import is_tensor
from ..losses import _labels

__all__ = ["reliability_curve", "expected_calibration_error", "mean_confidence"]



def _probs(owner: str, probs, y=None) -> tuple[np.ndarray, np.ndarray | None]:
    if is_tensor(probs):
        probs = probs.detach().cpu().numpy()
    p = _checks.float_array(owner, "probs", probs)
    if p.ndim != 2 or p.shape[0] == 0:
        raise ValueError(f"{owner}: probs must have shape (n, C) with n >= 1, got {p.shape}")
    if np.any(p < 0) or not np.allclose(p.sum(axis=1), 1.0, atol=1e-4):
        raise ValueError(f"{owner}: probs must be probabilities (rows >= 0 summing to 1); "
                         f"apply softmax to logits first")
    if y is None:
        return p, None
    return p, _labels(owner, y, p.shape[1], len(p))


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

