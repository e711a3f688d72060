r"""Weight penalties (L2, L1, tying), weight decay, and the L2 solution in the Hessian's eigenbasis.

A penalty :math:`\Omega(w)` is added to the loss, :math:`\tilde L(w) = L(w) + \Omega(w)`, and
its gradient to the loss gradient. Every penalty here works on a list of NumPy arrays
(returning a float and arrays) or of torch tensors (returning a differentiable tensor that
autograd can take further). Conventions follow PyTorch:

* L2, :math:`\frac{\lambda}{2}\sum\|w\|^2`, has gradient :math:`\lambda w`: exactly what
  ``torch.optim.SGD(..., weight_decay=lambda)`` or ``Adam(..., weight_decay=lambda)`` adds
  to the gradient.
* Decoupled weight decay (AdamW) does not touch the gradient at all: it shrinks the weights,
  :math:`w \leftarrow w - \eta\lambda w`, next to the optimizer's step. For plain SGD the two
  coincide; for Adam they do not, since L2 goes through Adam's per-coordinate scaling.
* L1, :math:`\lambda\sum|w|`, has subgradient :math:`\lambda\,\mathrm{sign}(w)` with
  :math:`\mathrm{sign}(0) = 0`, as autograd's. Its proximal step (soft thresholding) makes
  exact zeros.

Usually only weights are penalized, not biases or normalization parameters:
:func:`weight_params` picks them from a torch model.

References: Goodfellow, Bengio and Courville (2016), *Deep Learning*, ch. 7.1-7.5;
Loshchilov and Hutter (2019), "Decoupled weight decay regularization".
"""

from __future__ import annotations

import numpy as np

from .. import _checks
from .._lazy import lazy_import
from .sharing import share_parameters_, unique_parameters  # noqa: F401  (old import paths)

torch = lazy_import("torch")
F = lazy_import("torch.nn.functional")
nn = lazy_import("torch.nn")

__all__ = [
    "l2_penalty",
    "l2_penalty_grad",
    "l1_penalty",
    "l1_penalty_grad",
    "soft_threshold",
    "decoupled_weight_decay_",
    "weight_params",
    "unique_parameters",
    "penalized_loss",
    "tying_penalty",
    "tying_penalty_grad",
    "tied_loss",
    "l2_eigen_shrinkage",
]


def _param_list(owner: str, params, name: str = "params") -> tuple[list, bool]:
    """``params`` as a list of float arrays or of tensors; the flag says which (True: torch)."""
    if isinstance(params, nn.Module):
        raise TypeError(f"{owner}: {name} must be a list of arrays or tensors, got a module "
                        f"(use weight_params(model) or list(model.parameters()))")
    if isinstance(params, (np.ndarray, torch.Tensor)):
        params = [params]
    try:
        params = list(params)
    except TypeError:
        raise TypeError(f"{owner}: {name} must be a list of arrays or tensors, "
                        f"got {type(params).__name__}") from None
    if not params:
        raise ValueError(f"{owner}: {name} must hold at least one array or tensor")
    is_torch = [isinstance(p, torch.Tensor) for p in params]
    if any(is_torch) and not all(is_torch):
        raise TypeError(f"{owner}: {name} must be all NumPy arrays or all torch tensors, "
                        f"not a mix")
    if all(is_torch):
        for i, p in enumerate(params):
            if not p.is_floating_point():
                raise TypeError(f"{owner}: {name}[{i}] must be a floating-point tensor, "
                                f"got {p.dtype}")
        return params, True
    return [_checks.float_array(owner, f"{name}[{i}]", p) for i, p in enumerate(params)], False


def l2_penalty(params, lam: float):
    r"""The L2 penalty (ridge, "weight decay" in its L2 form).

    .. math::

        \Omega(w) = \frac{\lambda}{2}\sum_k \|w_k\|_2^2

    Args:
        params: a list of NumPy arrays, or of torch tensors.
        lam: :math:`\lambda \ge 0`.

    Returns:
        A float for arrays; a scalar tensor (differentiable) for tensors.

    Reference: Goodfellow et al. (2016), *Deep Learning*, sec. 7.1.1.
    """
    lam = _checks.non_negative("l2_penalty", "lam", lam)
    params, is_torch = _param_list("l2_penalty", params)
    if is_torch:
        return 0.5 * lam * sum((p * p).sum() for p in params)
    return float(0.5 * lam * sum(np.sum(p * p) for p in params))


def l2_penalty_grad(params, lam: float) -> list:
    r"""Gradient of :func:`l2_penalty`: :math:`\nabla_{w_k}\Omega = \lambda w_k`.

    This is exactly the term ``torch.optim`` adds to each gradient for ``weight_decay=lam``.

    Returns:
        One array (or detached tensor) per parameter.
    """
    lam = _checks.non_negative("l2_penalty_grad", "lam", lam)
    params, is_torch = _param_list("l2_penalty_grad", params)
    if is_torch:
        return [lam * p.detach() for p in params]
    return [lam * p for p in params]


def l1_penalty(params, lam: float):
    r"""The L1 penalty (lasso).

    .. math::

        \Omega(w) = \lambda \sum_k \|w_k\|_1 = \lambda \sum_k\sum_i |w_{k,i}|

    Args:
        params: a list of NumPy arrays, or of torch tensors.
        lam: :math:`\lambda \ge 0`.

    Returns:
        A float for arrays; a scalar tensor (differentiable) for tensors.

    Reference: Tibshirani (1996), "Regression shrinkage and selection via the lasso";
    Goodfellow et al. (2016), sec. 7.1.2.
    """
    lam = _checks.non_negative("l1_penalty", "lam", lam)
    params, is_torch = _param_list("l1_penalty", params)
    if is_torch:
        return lam * sum(p.abs().sum() for p in params)
    return float(lam * sum(np.sum(np.abs(p)) for p in params))


def l1_penalty_grad(params, lam: float) -> list:
    r"""(Sub)gradient of :func:`l1_penalty`: :math:`\lambda\,\mathrm{sign}(w)`, 0 at
    :math:`w = 0` (what autograd returns for ``abs`` at 0)."""
    lam = _checks.non_negative("l1_penalty_grad", "lam", lam)
    params, is_torch = _param_list("l1_penalty_grad", params)
    if is_torch:
        return [lam * torch.sign(p.detach()) for p in params]
    return [lam * np.sign(p) for p in params]


def soft_threshold(w, t: float):
    r"""Soft thresholding, the proximal operator of :math:`t\|w\|_1`.

    .. math::

        \mathrm{prox}_{t\|\cdot\|_1}(w) = \arg\min_u \tfrac12\|u - w\|^2 + t\|u\|_1
        = \mathrm{sign}(w)\,\max(|w| - t,\ 0)

    Entries with :math:`|w| \le t` become exact zeros, which a (sub)gradient step on the L1
    penalty almost never produces: a proximal-gradient (ISTA) step
    ``w = soft_threshold(w - lr * grad, lr * lam)`` is how L1 gives truly sparse weights.

    Args:
        w: a NumPy array or torch tensor.
        t: the threshold :math:`t \ge 0` (``lr * lam`` in a proximal step).

    Returns:
        A new array or tensor of ``w``'s shape.

    Reference: Parikh and Boyd (2014), "Proximal algorithms", sec. 6.5.2.
    """
    t = _checks.non_negative("soft_threshold", "t", t)
    if isinstance(w, torch.Tensor):
        return torch.sign(w) * torch.clamp(w.abs() - t, min=0.0)
    w = _checks.float_array("soft_threshold", "w", w)
    return np.sign(w) * np.maximum(np.abs(w) - t, 0.0)


def decoupled_weight_decay_(params, lr: float, weight_decay: float) -> None:
    r"""Decoupled weight decay, in place: :math:`w \leftarrow w - \eta\lambda w`.

    Called right before (or after) an optimizer step whose own ``weight_decay`` is 0, it
    turns Adam into AdamW: ``decoupled_weight_decay_(params, lr, wd); adam.step()`` is
    ``torch.optim.AdamW(params, lr, weight_decay=wd).step()`` (which decays first, too).

    Args:
        params: a list of NumPy arrays or torch tensors, changed in place.
        lr: the learning rate :math:`\eta > 0` (the decay is scaled by it, as in PyTorch).
        weight_decay: :math:`\lambda \ge 0`.

    Reference: Loshchilov and Hutter (2019), "Decoupled weight decay regularization".
    """
    lr = _checks.positive("decoupled_weight_decay_", "lr", lr)
    weight_decay = _checks.non_negative("decoupled_weight_decay_", "weight_decay",
                                        weight_decay)
    params, is_torch = _param_list("decoupled_weight_decay_", params)
    if is_torch:
        with torch.no_grad():
            for p in params:
                p.mul_(1 - lr * weight_decay)
        return
    for p in params:
        if not isinstance(p, np.ndarray) or not np.issubdtype(p.dtype, np.floating):
            raise TypeError("decoupled_weight_decay_: params must be float arrays "
                            "(changed in place)")
        p *= 1 - lr * weight_decay


def l2_eigen_shrinkage(H, alpha: float):
    r"""The L2 penalty seen in the eigenbasis of the Hessian.

    Near a minimum :math:`w^*` the loss is approximately the quadratic
    :math:`\hat J(w) = J(w^*) + \tfrac12 (w - w^*)^\top H (w - w^*)`. Adding
    :math:`\frac{\alpha}{2}\|w\|^2` moves the minimum to

    .. math::

        \tilde w = (H + \alpha I)^{-1} H w^* = Q(\Lambda + \alpha I)^{-1}\Lambda Q^\top w^*,
        \qquad H = Q\Lambda Q^\top,

    so along each eigenvector :math:`q_i` the component of :math:`w^*` is multiplied by
    :math:`\lambda_i / (\lambda_i + \alpha)`: directions of large curvature
    (:math:`\lambda_i \gg \alpha`) are kept, flat ones (:math:`\lambda_i \ll \alpha`) shrink
    to zero.

    Args:
        H: a symmetric positive semi-definite matrix (the Hessian, e.g. :math:`X^\top X` of
            least squares), shape ``(d, d)``.
        alpha: the L2 strength :math:`\alpha \ge 0`.

    Returns:
        ``(eigenvalues, eigenvectors, factors)``: :math:`\lambda_i` ascending, :math:`Q`
        (columns), and :math:`\lambda_i/(\lambda_i+\alpha)` (1 where both are 0).
        ``eigenvectors @ (factors * (eigenvectors.T @ w_star))`` is :math:`\tilde w`.

    Reference: Goodfellow et al. (2016), *Deep Learning*, sec. 7.1.1, eq. 7.13.
    """
    owner = "l2_eigen_shrinkage"
    alpha = _checks.non_negative(owner, "alpha", alpha)
    H = _checks.float_array(owner, "H", H).astype(np.float64)
    if H.ndim != 2 or H.shape[0] != H.shape[1]:
        raise ValueError(f"{owner}: H must be a square matrix, got shape {H.shape}")
    if not np.allclose(H, H.T, rtol=1e-10, atol=1e-12 * max(1.0, np.abs(H).max())):
        raise ValueError(f"{owner}: H must be symmetric")
    lam, Q = np.linalg.eigh(H)
    if lam[0] < -1e-10 * max(1.0, abs(lam[-1])):
        raise ValueError(f"{owner}: H must be positive semi-definite, got an eigenvalue "
                         f"{lam[0]:.3g}")
    lam = np.maximum(lam, 0.0)
    denom = lam + alpha
    factors = np.divide(lam, denom, out=np.ones_like(lam), where=denom > 0)
    return lam, Q, factors


def weight_params(model) -> list:
    """The weights of a torch model that one usually penalizes or prunes.

    These are the parameters with at least two dimensions (``Linear`` and ``Conv`` weights,
    embeddings); biases and normalization scales/shifts (1-D) are left out, as is customary:
    penalizing them constrains no capacity worth constraining.

    Args:
        model: a ``torch.nn.Module``.

    Returns:
        A list of ``torch.nn.Parameter`` objects, in ``model.parameters()`` order.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"weight_params: model must be a torch.nn.Module, "
                        f"got {type(model).__name__}")
    return [p for p in model.parameters() if p.ndim >= 2]


def penalized_loss(l1: float = 0.0, l2: float = 0.0, params=None):
    r"""A ``loss_fn`` for :func:`trainart.models.train_classifier`: cross-entropy plus penalties.

    .. math::

        \tilde L = \mathrm{CE}(f(x), y) + \lambda_1 \sum|w| + \frac{\lambda_2}{2}\sum\|w\|^2

    on ``params`` (default: :func:`weight_params` of the trained model, so biases are not
    penalized; with an L2 penalty on *all* parameters this equals SGD's ``weight_decay=l2``).

    Args:
        l1: :math:`\lambda_1 \ge 0`.
        l2: :math:`\lambda_2 \ge 0`.
        params: the tensors to penalize, or ``None`` for ``weight_params(model)``.

    Returns:
        ``loss_fn(model, xb, yb) -> scalar tensor``.
    """
    l1 = _checks.non_negative("penalized_loss", "l1", l1)
    l2 = _checks.non_negative("penalized_loss", "l2", l2)
    fixed = None if params is None else _param_list("penalized_loss", params)[0]
    if fixed is not None and not isinstance(fixed[0], torch.Tensor):
        raise TypeError("penalized_loss: params must be torch tensors (the model's)")

    def loss_fn(model, xb, yb):
        loss = F.cross_entropy(model(xb), yb)
        ps = weight_params(model) if fixed is None else fixed
        if l1:
            loss = loss + l1_penalty(ps, l1)
        if l2:
            loss = loss + l2_penalty(ps, l2)
        return loss

    return loss_fn


def _tied_pairs(owner: str, params_a, params_b) -> tuple[list, list, bool]:
    """Both parameter lists, checked to be of one kind (arrays or tensors) and to pair up."""
    a, ta = _param_list(owner, params_a, "params_a")
    b, tb = _param_list(owner, params_b, "params_b")
    if ta != tb:
        raise TypeError(f"{owner}: params_a and params_b must both be arrays or both tensors")
    _check_pairs(owner, a, b)
    return a, b, ta


def _check_pairs(owner: str, a: list, b: list) -> None:
    if len(a) != len(b):
        raise ValueError(f"{owner}: params_a and params_b must have the same length, "
                         f"got {len(a)} and {len(b)}")
    for i, (pa, pb) in enumerate(zip(a, b)):
        if tuple(pa.shape) != tuple(pb.shape):
            raise ValueError(f"{owner}: params_a[{i}] and params_b[{i}] must have the same "
                             f"shape, got {tuple(pa.shape)} and {tuple(pb.shape)}")


def tying_penalty(params_a, params_b, lam: float):
    r"""Parameter tying: pull two sets of weights towards each other.

    .. math::

        \Omega(w^{(A)}, w^{(B)}) = \frac{\lambda}{2}\sum_k \|w^{(A)}_k - w^{(B)}_k\|_2^2

    With ``params_b`` fixed (a pretrained model's weights) it is L2 towards that model
    instead of towards 0 (L2-SP); parameter *sharing* is the limit
    :math:`\lambda\to\infty`.

    Args:
        params_a, params_b: lists of arrays (or tensors) of matching shapes.
        lam: :math:`\lambda \ge 0`.

    Returns:
        A float for arrays; a differentiable scalar tensor for tensors.

    Reference: Goodfellow et al. (2016), *Deep Learning*, sec. 7.9.
    """
    lam = _checks.non_negative("tying_penalty", "lam", lam)
    a, b, ta = _tied_pairs("tying_penalty", params_a, params_b)
    if ta:
        return 0.5 * lam * sum(((pa - pb) ** 2).sum() for pa, pb in zip(a, b))
    return float(0.5 * lam * sum(np.sum((pa - pb) ** 2) for pa, pb in zip(a, b)))


def tying_penalty_grad(params_a, params_b, lam: float) -> tuple[list, list]:
    r"""Gradients of :func:`tying_penalty`: :math:`\lambda(w^{(A)} - w^{(B)})` for A and
    its negative for B.

    Returns:
        ``(grads_a, grads_b)``, lists of arrays (or detached tensors).
    """
    lam = _checks.non_negative("tying_penalty_grad", "lam", lam)
    a, b, ta = _tied_pairs("tying_penalty_grad", params_a, params_b)
    if ta:
        a, b = [p.detach() for p in a], [p.detach() for p in b]
    grads_a = [lam * (pa - pb) for pa, pb in zip(a, b)]
    return grads_a, [-g for g in grads_a]


def tied_loss(reference_model, lam: float):
    r"""A ``loss_fn``: cross-entropy plus :func:`tying_penalty` towards a reference model.

    .. math::

        \tilde L = \mathrm{CE}(f_w(x), y) + \frac{\lambda}{2}\sum_k\|w_k - w^{\text{ref}}_k\|^2

    The reference weights (:func:`weight_params` of ``reference_model``) are copied once,
    when the loss is built, and stay frozen.

    Args:
        reference_model: a torch module whose weights have the trained model's shapes.
        lam: :math:`\lambda \ge 0`.

    Returns:
        ``loss_fn(model, xb, yb) -> scalar tensor``.

    Reference: Li, Grandvalet and Davoine (2018), "Explicit inductive bias for transfer
    learning with convolutional networks" (L2-SP).
    """
    lam = _checks.non_negative("tied_loss", "lam", lam)
    if not isinstance(reference_model, nn.Module):
        raise TypeError(f"tied_loss: reference_model must be a torch.nn.Module, "
                        f"got {type(reference_model).__name__}")
    reference = [p.detach().clone() for p in weight_params(reference_model)]

    def loss_fn(model, xb, yb):
        loss = F.cross_entropy(model(xb), yb)
        return loss + tying_penalty(weight_params(model), reference, lam)

    return loss_fn


# Parameter sharing moved to :mod:`trainart.regularize.sharing`; its names stay importable
# from here (old import paths, imported at the top). SharedTrunk subclasses torch.nn.Module
# and is imported on first access (PEP 562), so importing this module does not load torch.

_MOVED_TO_SHARING = ("unique_parameters", "share_parameters_", "SharedTrunk")
_LAZY = ("SharedTrunk",)


def __getattr__(name: str):
    if name in _LAZY:
        from . import sharing

        return getattr(sharing, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted({*globals(), *_LAZY})
