"""Numerical gradient checks: the centred differences every backward pass is tested with."""

from __future__ import annotations

import numpy as np


def numerical_gradient(f, x: np.ndarray, h: float = 1e-6) -> np.ndarray:
    r"""Centred differences of ``f`` with respect to the array ``x``.

    .. math::

        \frac{\partial f}{\partial x_i} \approx \frac{f(x + h e_i) - f(x - h e_i)}{2h}

    ``x`` is perturbed *in place* one entry at a time (and restored), so ``f`` may read it
    through a closure, as a model reads its own parameters. The error is :math:`O(h^2)`.

    Args:
        f: a function of no arguments returning a scalar or an array (read ``x`` inside).
        x: a float64 array to differentiate with respect to.
        h: the step.

    Returns:
        An array of shape ``np.shape(f()) + x.shape`` (the Jacobian for array-valued ``f``).

    Reference: CS231n, ``gradient_check.eval_numerical_gradient``.
    """
    if not (isinstance(x, np.ndarray) and x.dtype == np.float64):
        raise TypeError("numerical_gradient: x must be a float64 NumPy array "
                        "(float32 differences are too coarse for a gradient check)")
    out_shape = np.shape(f())
    grad = np.zeros(out_shape + x.shape)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + h
        up = np.asarray(f(), dtype=np.float64)
        x[i] = old - h
        down = np.asarray(f(), dtype=np.float64)
        x[i] = old
        grad[(...,) + i] = (up - down) / (2 * h)
    return grad


def relative_error(a, b) -> float:
    """``max |a - b| / max(1e-8, |a| + |b|)``, elementwise then the worst (CS231n's check)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))))
