r"""Adversarial examples (FGSM) and adversarial training.

A tiny, carefully chosen change of the input can flip a network's prediction. The fast
gradient sign method (Goodfellow et al., 2015) takes one step of size :math:`\epsilon` in
the direction that increases the loss fastest under an :math:`L_\infty` budget:

.. math::

    x_{\text{adv}} = x + \epsilon\,\mathrm{sign}\big(\nabla_x L(f(x), y)\big)

Training on a mix of clean and adversarial examples (adversarial training) regularizes the
network and makes it more robust to such perturbations.

Reference: Goodfellow, Shlens and Szegedy (2015), "Explaining and harnessing adversarial
examples", ICLR.
"""

from __future__ import annotations

import numpy as np

from .. import _checks
from .._lazy import lazy_import

torch = lazy_import("torch")
F = lazy_import("torch.nn.functional")
nn = lazy_import("torch.nn")

__all__ = ["fgsm", "adversarial_loss", "accuracy_under_fgsm"]


def _clamp(owner: str, clamp):
    if clamp is None:
        return None
    try:
        lo, hi = (float(v) for v in clamp)
    except (TypeError, ValueError):
        raise ValueError(f"{owner}: clamp must be None or a pair (low, high), "
                         f"got {clamp!r}") from None
    if not lo < hi:
        raise ValueError(f"{owner}: clamp must have low < high, got {clamp!r}")
    return lo, hi


def _model(owner: str, model) -> None:
    if not isinstance(model, nn.Module):
        raise TypeError(f"{owner}: model must be a torch.nn.Module, got {type(model).__name__}")


def _inputs(owner: str, model, x, y) -> tuple[torch.Tensor, torch.Tensor]:
    params = list(model.parameters())
    dtype = params[0].dtype if params else torch.get_default_dtype()
    if not isinstance(x, torch.Tensor):
        x = torch.from_numpy(np.ascontiguousarray(_checks.float_array(owner, "x", x)))
    if not isinstance(y, torch.Tensor):
        y = torch.from_numpy(np.ascontiguousarray(y))
    x = x.to(dtype)
    if y.ndim != 1 or len(y) != len(x):
        raise ValueError(f"{owner}: y must be a 1-D tensor of {len(x)} labels, "
                         f"got shape {tuple(y.shape)}")
    if y.is_floating_point() or y.dtype == torch.bool:
        raise TypeError(f"{owner}: y must hold integer class labels, got {y.dtype}")
    return x, y.long()


def fgsm(model, x, y, eps: float, clamp=None) -> torch.Tensor:
    r"""The fast gradient sign method: one :math:`L_\infty` step up the loss.

    .. math::

        x_{\text{adv}} = \mathrm{clamp}\big(x + \epsilon\,\mathrm{sign}(\nabla_x
        \mathrm{CE}(f(x), y))\big)

    The gradient is that of the mean cross-entropy, taken in the model's current mode
    (train or eval; this function does not switch it) with ``torch.autograd.grad``, so the
    parameters' ``.grad`` are left untouched.

    Args:
        model: a torch module mapping ``x`` to logits.
        x: ``(n, d)`` inputs (a tensor, or an array converted to the model's dtype).
        y: ``(n,)`` integer labels.
        eps: :math:`\epsilon \ge 0`, the size of the step in every coordinate.
        clamp: optional ``(low, high)`` range of valid inputs (``(0, 1)`` for pixels).

    Returns:
        The adversarial inputs, a detached tensor of ``x``'s shape in the model's dtype.

    Reference: Goodfellow, Shlens and Szegedy (2015), "Explaining and harnessing adversarial
    examples", eq. (3).
    """
    owner = "fgsm"
    _model(owner, model)
    eps = _checks.non_negative(owner, "eps", eps)
    clamp = _clamp(owner, clamp)
    x, y = _inputs(owner, model, x, y)
    x_req = x.detach().clone().requires_grad_(True)
    loss = F.cross_entropy(model(x_req), y)
    (grad,) = torch.autograd.grad(loss, x_req)
    x_adv = x.detach() + eps * grad.sign()
    if clamp is not None:
        x_adv = x_adv.clamp(*clamp)
    return x_adv.detach()


def adversarial_loss(eps: float, alpha: float = 0.5, clamp=None):
    r"""A ``loss_fn`` for adversarial training (Goodfellow et al., 2015, eq. 6):

    .. math::

        \tilde L = \alpha\,\mathrm{CE}(f(x), y) + (1-\alpha)\,\mathrm{CE}(f(x_{\text{adv}}), y),
        \qquad x_{\text{adv}} = \mathrm{fgsm}(f, x, y, \epsilon)

    The adversarial batch is made afresh at every step from the current weights, and treated
    as a constant (no gradient flows through its construction), as in the paper.

    Args:
        eps: :math:`\epsilon \ge 0`.
        alpha: the weight :math:`\alpha \in [0, 1]` of the clean loss (the paper uses 0.5).
        clamp: optional ``(low, high)`` range of valid inputs.

    Returns:
        ``loss_fn(model, xb, yb) -> scalar tensor``.
    """
    owner = "adversarial_loss"
    eps = _checks.non_negative(owner, "eps", eps)
    alpha = _checks.number(owner, "alpha", alpha)
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"{owner}: alpha must be in [0, 1], got {alpha!r}")
    clamp = _clamp(owner, clamp)

    def loss_fn(model, xb, yb):
        x_adv = fgsm(model, xb, yb, eps, clamp)
        clean = F.cross_entropy(model(xb), yb)
        return alpha * clean + (1 - alpha) * F.cross_entropy(model(x_adv), yb)

    return loss_fn


def accuracy_under_fgsm(model, X, y, eps: float, clamp=None, batch_size: int = 2048) -> float:
    """The accuracy of ``model`` (in eval mode) on FGSM examples of ``(X, y)``.

    ``eps = 0`` gives the clean accuracy. The model's mode is restored afterwards.

    Args:
        model: a torch module. X: ``(n, d)`` inputs (tensor or array). y: ``(n,)`` labels.
        eps: :math:`\\epsilon \\ge 0`. clamp: optional ``(low, high)``.
        batch_size: examples attacked at once.

    Returns:
        The fraction of adversarial examples classified correctly.
    """
    owner = "accuracy_under_fgsm"
    _model(owner, model)
    eps = _checks.non_negative(owner, "eps", eps)
    clamp = _clamp(owner, clamp)
    batch_size = _checks.positive_int(owner, "batch_size", batch_size)
    X, y = _inputs(owner, model, X, y)
    if len(y) == 0:
        raise ValueError(f"{owner}: X must hold at least one example")
    was_training = model.training
    model.eval()
    correct = 0
    try:
        for i in range(0, len(y), batch_size):
            xb, yb = X[i:i + batch_size], y[i:i + batch_size]
            x_adv = fgsm(model, xb, yb, eps, clamp)
            with torch.no_grad():
                correct += int((model(x_adv).argmax(dim=1) == yb).sum())
    finally:
        model.train(was_training)
    return correct / len(y)
