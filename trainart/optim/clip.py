"""Gradient clipping, by global norm and by value (PyTorch's ``torch.nn.utils`` semantics)."""

from __future__ import annotations

import math

from .. import _arrays, _checks


def _grads(owner: str, grads) -> list:
    """Gradients from a list of arrays, or ``.grad`` of torch parameters (``None`` skipped)."""
    out = []
    for g in grads:
        if _arrays.is_tensor(g) and g.requires_grad:
            g = g.grad  # a parameter: clip its gradient, as torch does
        if g is not None:
            out.append(g)
    return out


def clip_grad_norm_(grads, max_norm: float, norm_type: float = 2.0) -> float:
    r"""Rescale all gradients together so that their global norm is at most ``max_norm``.

    .. math::

        \|g\| = \Big\|\big(\|g^{(1)}\|, \dots, \|g^{(k)}\|\big)\Big\|, \qquad
        g^{(i)} \leftarrow g^{(i)} \cdot \min\!\Big(1, \frac{c}{\|g\| + 10^{-6}}\Big)

    The direction of the whole gradient is kept; only its length is capped. This tames the
    "cliffs" of recurrent networks (Pascanu et al., 2013).

    Args:
        grads: gradient arrays (changed in place), or torch parameters whose ``.grad`` is used.
        max_norm: the cap :math:`c > 0`.
        norm_type: the :math:`p` of the p-norm (``math.inf`` for the largest entry).

    Returns:
        The global norm *before* clipping.
    """
    max_norm = _checks.positive("clip_grad_norm_", "max_norm", max_norm)
    norm_type = float(norm_type)
    if not norm_type > 0:
        raise ValueError(f"clip_grad_norm_: norm_type must be > 0 or inf, got {norm_type}")
    grads = _grads("clip_grad_norm_", grads)
    norms = [_arrays.norm(g, norm_type) for g in grads]
    if not norms:
        return 0.0
    if math.isinf(norm_type):
        total = max(norms)
    else:
        total = sum(n**norm_type for n in norms) ** (1.0 / norm_type)
    scale = min(1.0, max_norm / (total + 1e-6))
    for g in grads:
        g *= scale
    return total


def clip_grad_value_(grads, clip_value: float) -> None:
    """Clamp every gradient entry into ``[-clip_value, clip_value]`` in place.

    Unlike norm clipping this changes the gradient's direction.
    """
    clip_value = _checks.positive("clip_grad_value_", "clip_value", clip_value)
    for g in _grads("clip_grad_value_", grads):
        _arrays.clip_(g, -clip_value, clip_value)
