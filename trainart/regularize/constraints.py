r"""Max-norm constraints: a hard bound on the norm of each unit's incoming weights.

Instead of a penalty, the weights are projected back into a ball after every optimizer step:

.. math::

    w_j \leftarrow w_j \cdot \min\Big(1,\ \frac{c}{\|w_j\|_2}\Big),

where :math:`w_j` is the vector of weights into unit :math:`j` (row :math:`j` of a
``Linear`` weight of shape ``(out, in)``). The weights can never grow past :math:`c`, so
training stays stable even with large learning rates; CS231n recommends it with
:math:`c \approx 3` or 4, often together with dropout (Srivastava et al., 2014).

PyTorch has no optimizer option for it, only the building block ``torch.renorm(w, 2, 0, c)``,
which divides by :math:`\|w_j\| + 10^{-7}`; :func:`max_norm_` follows it (``eps``) and equals
it to the last bit.

Reference: Srebro and Shraibman (2005), "Rank, trace-norm and max-norm"; Srivastava et al.
(2014), "Dropout", sec. 5.1; CS231n, "Neural networks part 2" (max norm constraints).
"""

from __future__ import annotations

import numpy as np

from .. import _checks
from .._lazy import lazy_import
from .penalties import _param_list, weight_params

torch = lazy_import("torch")
nn = lazy_import("torch.nn")

__all__ = ["max_norm_", "max_norms", "max_norm_hook"]


def _targets(owner: str, model_or_params) -> tuple[list, bool]:
    if isinstance(model_or_params, nn.Module):
        ws = weight_params(model_or_params)
        if not ws:
            raise ValueError(f"{owner}: the model has no weights (no parameter with at least "
                             f"two dimensions)")
        return ws, True
    params, is_torch = _param_list(owner, model_or_params)
    for i, p in enumerate(params):
        if p.ndim < 2:
            raise ValueError(f"{owner}: params[{i}] must have at least two dimensions "
                             f"(one row per unit), got shape {tuple(p.shape)}")
    return params, is_torch


def max_norms(model_or_params) -> list[float]:
    r"""The largest row norm :math:`\max_j \|w_j\|_2` of each weight (rows: dimension 0,
    the other dimensions flattened).

    Args:
        model_or_params: a torch model (its :func:`weight_params`) or a list of arrays or
            tensors with at least two dimensions.

    Returns:
        One float per weight.
    """
    params, is_torch = _targets("max_norms", model_or_params)
    out = []
    for p in params:
        a = p.detach().cpu().numpy() if is_torch else p
        out.append(float(np.sqrt((a.reshape(len(a), -1).astype(np.float64) ** 2)
                                 .sum(axis=1)).max()))
    return out


def max_norm_(model_or_params, max_norm: float, eps: float = 1e-7) -> None:
    r"""Project every weight's rows into the ball of radius ``max_norm``, in place.

    .. math::

        w_j \leftarrow w_j \cdot \frac{c}{\|w_j\|_2 + \epsilon}
        \quad \text{if } \|w_j\|_2 > c, \quad \text{else unchanged},

    for each row :math:`w_j` (dimension 0: one output unit of a ``Linear`` or one output
    channel of a ``Conv``), exactly as ``torch.renorm(w, p=2, dim=0, maxnorm=c)``.

    Args:
        model_or_params: a torch model (its :func:`weight_params`: biases are not
            constrained) or a list of float arrays or tensors with at least two dimensions.
        max_norm: the radius :math:`c > 0`.
        eps: added to the norm before dividing (PyTorch's :math:`10^{-7}`; 0 for the exact
            projection).

    Reference: Srivastava et al. (2014), "Dropout", sec. 5.1.
    """
    owner = "max_norm_"
    c = _checks.positive(owner, "max_norm", max_norm)
    eps = _checks.non_negative(owner, "eps", eps)
    raw = model_or_params
    if isinstance(raw, (list, tuple)):
        for i, p in enumerate(raw):
            if isinstance(p, np.ndarray) and not np.issubdtype(p.dtype, np.floating):
                raise TypeError(f"{owner}: params[{i}] must be a float array (changed in "
                                f"place), got dtype {p.dtype}")
    params, is_torch = _targets(owner, model_or_params)
    for p in params:
        if is_torch:
            with torch.no_grad():
                rows = p.reshape(p.shape[0], -1)
                norm = rows.norm(dim=1, keepdim=True)
                scale = torch.where(norm > c, c / (norm + eps), torch.ones_like(norm))
                rows.mul_(scale)        # rows is a view of p (p is contiguous)
            continue
        rows = p.reshape(p.shape[0], -1)
        norm = np.sqrt((rows * rows).sum(axis=1, keepdims=True))
        rows *= np.where(norm > c, c / (norm + eps), 1.0)


def max_norm_hook(model, max_norm: float, eps: float = 1e-7):
    """An ``after_step(model)`` hook for :func:`trainart.models.train_classifier` that applies
    :func:`max_norm_` to ``model``'s weights after every optimizer step.

    Args:
        model: the torch model being trained (checked now, so a mistake fails early).
        max_norm: the radius :math:`c > 0`.
        eps: as in :func:`max_norm_`.

    Returns:
        ``after_step(model) -> None``.
    """
    owner = "max_norm_hook"
    if not isinstance(model, nn.Module):
        raise TypeError(f"{owner}: model must be a torch.nn.Module, got {type(model).__name__}")
    c = _checks.positive(owner, "max_norm", max_norm)
    eps = _checks.non_negative(owner, "eps", eps)
    _targets(owner, model)

    def after_step(m):
        max_norm_(m, c, eps)

    return after_step
