"""trainart.regularize.calibration: reliability curves, the expected calibration error and
the mean confidence on hand-computed examples, a sampled (calibrated) population, the old
import path, and argument checks."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from trainart.regularize import accuracy
from trainart.regularize.calibration import (
    expected_calibration_error,
    mean_confidence,
    reliability_curve,
)


def test_calibration_on_a_hand_made_example():
    # confidences .95 (right), .85 (wrong), .65 and .62 (right); none on a bin edge
    probs = np.array([[0.95, 0.05], [0.85, 0.15], [0.35, 0.65], [0.38, 0.62]])
    y = np.array([0, 1, 1, 1])
    curve = reliability_curve(probs, y, n_bins=2)  # all confidences in (0.5, 1]
    np.testing.assert_array_equal(curve["count"], [0, 4])
    np.testing.assert_allclose(curve["confidence"][1], 0.7675, rtol=1e-12)
    np.testing.assert_allclose(curve["accuracy"][1], 0.75)
    assert np.isnan(curve["accuracy"][0])
    assert expected_calibration_error(probs, y, n_bins=2) == pytest.approx(0.0175, rel=1e-12)
    # 10 bins: (0.9, 1]: gap .05; (0.8, 0.9]: gap .85; (0.6, 0.7]: two, conf .635, acc 1
    ece = expected_calibration_error(probs, y, n_bins=10)
    assert ece == pytest.approx(0.25 * 0.05 + 0.25 * 0.85 + 0.5 * 0.365, rel=1e-12)
    assert mean_confidence(probs) == pytest.approx(0.7675)


def test_reliability_bins_are_closed_on_the_right():
    curve = reliability_curve(np.array([[0.5, 0.5], [1.0, 0.0], [0.25, 0.75]]), [0, 0, 1], 4)
    np.testing.assert_array_equal(curve["count"], [0, 1, 1, 1])  # .5 -> (.25, .5], .75 -> (.5, .75]
    np.testing.assert_allclose(curve["edges"], [0, 0.25, 0.5, 0.75, 1])


def test_sampled_labels_are_calibrated_and_sharpened_ones_are_not():
    rng = np.random.default_rng(0)
    probs = rng.dirichlet(np.ones(3), size=20000)
    y = np.array([rng.choice(3, p=p) for p in probs])  # labels drawn from the probabilities
    assert expected_calibration_error(probs, y) < 0.015
    sharp = probs**4 / (probs**4).sum(axis=1, keepdims=True)
    assert expected_calibration_error(sharp, y) > 0.1
    assert mean_confidence(sharp) > accuracy(sharp, y)  # over-confident


def test_tensors_are_accepted_and_the_old_paths_still_work():
    from trainart import regularize
    from trainart.regularize import augment

    probs = np.array([[0.9, 0.1], [0.3, 0.7], [0.6, 0.4]])
    y = np.array([0, 0, 0])
    assert expected_calibration_error(torch.from_numpy(probs), torch.from_numpy(y), 5) == \
        expected_calibration_error(probs, y, 5)
    for name in ("reliability_curve", "expected_calibration_error", "mean_confidence"):
        assert getattr(augment, name) is getattr(regularize, name) is globals()[name]


@pytest.mark.parametrize("call, error, match", [
    (lambda: expected_calibration_error(np.ones((2, 2)), [0, 1]), ValueError,
     "expected_calibration_error: probs must be prob"),
    (lambda: reliability_curve(np.full((2, 2), 0.5), [0, 1], 0), ValueError,
     "reliability_curve: n_bins"),
    (lambda: reliability_curve(np.full((2, 2), 0.5), [0, 1, 1]), ValueError,
     "reliability_curve: y must be a 1-D array of 2 labels"),
    (lambda: reliability_curve(np.full((2, 2), 0.5), [0, 2]), ValueError,
     r"reliability_curve: labels must be in 0..1"),
    (lambda: mean_confidence(np.zeros(3)), ValueError, r"mean_confidence: probs must have shape"),
    (lambda: mean_confidence(np.array([["a"]])), TypeError, "mean_confidence: probs"),
])
def test_bad_input_raises_naming_the_function_and_argument(call, error, match):
    with pytest.raises(error, match=match):
        call()
