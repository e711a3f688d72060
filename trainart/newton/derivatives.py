r"""Gradients and Hessians: centred differences, autograd through ``torch.func``, and a small
torch model's loss as a function of one flat float64 parameter vector.

Analytic derivatives of the toy surfaces live in :mod:`trainart.surfaces`
(``surface.grad``, ``surface.hessian``); the functions here give the same numbers for any
function (differences, as a check) or any torch function or model (exact, by autograd).
"""

from __future__ import annotations

import warnings

import numpy as np

from .. import _checks
from .._lazy import lazy_import
from . import _outputs

torch = lazy_import("torch")
torch_func = lazy_import("torch.func")

__all__ = [
    "numerical_gradient", "numerical_hessian", "torch_gradient", "torch_hessian",
    "flat_params", "set_flat_params_", "model_hessian", "model_objective",
]


def _vector(owner: str, x) -> np.ndarray:
    x = _checks.float_array(owner, "x", x)
    if x.ndim != 1 or x.size == 0:
        raise ValueError(f"{owner}: x must be a non-empty vector of shape (d,), got shape "
                         f"{x.shape}")
    return x.astype(np.float64)


def numerical_gradient(f, x, h: float = 1e-6) -> np.ndarray:
    r"""The gradient of a scalar function by centred differences.

    .. math::

        \frac{\partial f}{\partial x_i} \approx \frac{f(x + h e_i) - f(x - h e_i)}{2h}
        \qquad (\text{error } O(h^2))

    Unlike :func:`trainart.gradcheck.numerical_gradient` (which perturbs an array that
    ``f`` reads through a closure), ``f`` here takes the point as its argument.

    Args:
        f: a function of a float64 vector returning a scalar.
        x: the point, shape ``(d,)``.
        h: the step (:math:`10^{-6}` balances truncation and rounding in float64).

    Returns:
        The gradient, float64 of shape ``(d,)``.

    Reference: Nocedal and Wright (2006), *Numerical Optimization*, 2nd ed., section 8.1.
    """
    owner = "numerical_gradient"
    x = _vector(owner, x)
    h = _checks.positive(owner, "h", h)
    g = np.zeros_like(x)
    for i in range(x.size):
        e = np.zeros_like(x)
        e[i] = h
        g[i] = (_outputs.value(owner, "f", f(x + e))
                - _outputs.value(owner, "f", f(x - e))) / (2 * h)
    return g


def numerical_hessian(f_or_grad, x, h: float | None = None) -> np.ndarray:
    r"""The Hessian by centred differences, of a gradient or of the function itself.

    If ``f_or_grad(x)`` returns a vector (a gradient :math:`g`), the Hessian is its
    Jacobian, symmetrized:

    .. math::

        H_{:,i} \approx \frac{g(x + h e_i) - g(x - h e_i)}{2h},\qquad
        H \leftarrow \tfrac12 (H + H^\top)

    If it returns a scalar (the function :math:`f`), second differences are used:

    .. math::

        H_{ij} \approx \frac{f(x + h e_i + h e_j) - f(x + h e_i - h e_j)
                             - f(x - h e_i + h e_j) + f(x - h e_i - h e_j)}{4h^2}

    Args:
        f_or_grad: a function of a float64 vector returning a vector ``(d,)`` (a gradient)
            or a scalar (a function value).
        x: the point, shape ``(d,)``.
        h: the step; default :math:`10^{-5}` for a gradient and :math:`10^{-4}` for a function
            (second differences divide by :math:`h^2`, so they need a larger step).

    Returns:
        The symmetric Hessian, float64 of shape ``(d, d)``.

    Reference: Nocedal and Wright (2006), *Numerical Optimization*, 2nd ed., section 8.1.
    """
    x = _vector("numerical_hessian", x)
    out = _checks.float_array("numerical_hessian", "the value of f_or_grad", f_or_grad(x))
    d = x.size
    if out.shape == (d,):
        h = 1e-5 if h is None else _checks.positive("numerical_hessian", "h", h)
        H = np.zeros((d, d))
        for i in range(d):
            e = np.zeros(d)
            e[i] = h
            H[:, i] = (_outputs.vector("numerical_hessian", "f_or_grad", f_or_grad(x + e), d)
                       - _outputs.vector("numerical_hessian", "f_or_grad", f_or_grad(x - e), d)
                       ) / (2 * h)
        return 0.5 * (H + H.T)
    if out.ndim != 0:
        raise ValueError(f"numerical_hessian: f_or_grad must return a scalar or a vector of "
                         f"shape ({d},), got shape {out.shape}")
    h = 1e-4 if h is None else _checks.positive("numerical_hessian", "h", h)
    eye = np.eye(d) * h

    def f(z):
        return _outputs.value("numerical_hessian", "f_or_grad", f_or_grad(z))

    H = np.zeros((d, d))
    for i in range(d):
        for j in range(i, d):
            H[i, j] = H[j, i] = (f(x + eye[i] + eye[j]) - f(x + eye[i] - eye[j])
                                 - f(x - eye[i] + eye[j]) + f(x - eye[i] - eye[j])) / (4 * h * h)
    return H


def _as_tensor(owner: str, x):
    """``x`` as a float64 tensor, and whether to hand NumPy back."""
    if isinstance(x, torch.Tensor):
        if not x.is_floating_point():
            raise TypeError(f"{owner}: x must be a floating-point tensor, got {x.dtype}")
        return x, False
    return torch.from_numpy(_vector(owner, x).copy()), True


def _hessian(f):
    """``torch.func.hessian(f)``, first loading the forward-mode decompositions it needs with
    torch's own ``torch.jit.script`` deprecation warning silenced (it is torch-internal and
    would otherwise reach the reader's stderr, or fail a test run with warnings as errors)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"`torch\.jit\.script` is deprecated",
                                category=DeprecationWarning)
        import torch._decomp.decompositions_for_jvp  # noqa: F401
    return torch_func.hessian(f)


def torch_gradient(f, x):
    r"""The exact gradient :math:`\nabla f(x)` of a torch function, by ``torch.func.grad``.

    Args:
        f: a function of a 1-D tensor returning a scalar tensor, written with torch ops.
        x: the point, a NumPy vector (computed in float64) or a floating-point tensor.

    Returns:
        The gradient, a NumPy float64 array if ``x`` was NumPy, else a tensor.

    Reference: PyTorch documentation, ``torch.func.grad``.
    """
    t, to_numpy = _as_tensor("torch_gradient", x)
    g = torch_func.grad(f)(t)
    return g.detach().numpy() if to_numpy else g


def torch_hessian(f, x):
    r"""The exact Hessian :math:`\nabla^2 f(x)` of a torch function, by ``torch.func.hessian``
    (forward-over-reverse autograd).

    Args:
        f: a function of a 1-D tensor returning a scalar tensor, written with torch ops.
        x: the point, a NumPy vector (computed in float64) or a floating-point tensor.

    Returns:
        The Hessian of shape ``(d, d)``, NumPy float64 if ``x`` was NumPy, else a tensor.

    Reference: PyTorch documentation, ``torch.func.hessian``.
    """
    t, to_numpy = _as_tensor("torch_hessian", x)
    H = _hessian(f)(t)
    return H.detach().numpy() if to_numpy else H


def _check_model(owner: str, model) -> list[tuple[str, torch.nn.Parameter]]:
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"{owner}: model must be a torch.nn.Module, got {type(model).__name__}")
    named = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    if not named:
        raise ValueError(f"{owner}: model has no trainable parameters")
    return named


def flat_params(model) -> np.ndarray:
    r"""A model's trainable parameters as one float64 NumPy vector
    :math:`\theta = (\operatorname{vec} W_1, b_1, \dots)`, in ``named_parameters()`` order.

    Args:
        model: a ``torch.nn.Module``.

    Returns:
        A new float64 array of shape ``(P,)``, ``P`` the number of trainable parameters.

    Reference: PyTorch, ``torch.nn.utils.parameters_to_vector``.
    """
    named = _check_model("flat_params", model)
    return np.concatenate([p.detach().cpu().double().reshape(-1).numpy() for _, p in named])


def _unflatten(named, vec: torch.Tensor) -> dict:
    params, i = {}, 0
    for name, p in named:
        params[name] = vec[i:i + p.numel()].reshape(p.shape)
        i += p.numel()
    return params


def _check_vec(owner: str, named, vec) -> np.ndarray:
    vec = _checks.float_array(owner, "vec", vec).astype(np.float64)
    size = sum(p.numel() for _, p in named)
    if vec.shape != (size,):
        raise ValueError(f"{owner}: vec must have shape ({size},), got shape {vec.shape}")
    return vec


def set_flat_params_(model, vec) -> None:
    """Copy a flat vector (as made by :func:`flat_params`) into the model's parameters, in place
    (each parameter keeps its dtype).

    Args:
        model: a ``torch.nn.Module``.
        vec: a vector of shape ``(P,)``.

    Reference: PyTorch, ``torch.nn.utils.vector_to_parameters``.
    """
    named = _check_model("set_flat_params_", model)
    vec = torch.from_numpy(_check_vec("set_flat_params_", named, vec).copy())
    with torch.no_grad():
        for name, t in _unflatten(named, vec).items():
            dict(named)[name].copy_(t)


def model_hessian(model, loss_fn, X, y) -> np.ndarray:
    r"""The exact Hessian of a small model's full-batch loss with respect to its flattened
    parameters, :math:`\nabla^2_\theta\, L(f_\theta(X), y)`, of shape ``(P, P)``.

    The model is called functionally (``torch.func.functional_call``) with parameters cut out
    of one float64 vector, and ``torch.func.hessian`` differentiates the loss twice; the model
    itself is not changed. ``P^2`` numbers are built, so keep the model small.

    Args:
        model: a ``torch.nn.Module`` without buffers that depend on the dtype.
        loss_fn: ``loss_fn(output, y) -> scalar tensor``, e.g.
            ``torch.nn.functional.cross_entropy``.
        X: the inputs (NumPy or tensor; floating inputs are cast to float64).
        y: the targets (passed to ``loss_fn`` as a tensor; floating ones cast to float64).

    Returns:
        The Hessian, symmetric float64 NumPy array of shape ``(P, P)``.

    Reference: PyTorch documentation, "torch.func: per-sample gradients / Hessians".
    """
    named = _check_model("model_hessian", model)
    X, y = _tensor64(X), _tensor64(y)

    def loss(vec):
        return loss_fn(torch_func.functional_call(model, _unflatten(named, vec), (X,)), y)

    theta = torch.from_numpy(flat_params(model))
    return _hessian(loss)(theta).detach().numpy()


def _tensor64(a) -> torch.Tensor:
    t = a if isinstance(a, torch.Tensor) else torch.as_tensor(np.asarray(a))
    return t.double() if t.is_floating_point() else t


def model_objective(model, X, y, loss_fn=None, weight_decay: float = 0.0):
    r"""A torch model's full-batch loss and gradient as a function of a flat NumPy vector:
    the ``fun_and_grad`` that :func:`~trainart.newton.lbfgs` and :func:`~trainart.newton.bfgs`
    minimize.

    .. math::

        F(\theta) = L\bigl(f_\theta(X), y\bigr) + \tfrac{\lambda}{2}\lVert\theta\rVert^2,
        \qquad \nabla F(\theta) \text{ by autograd}

    Everything runs in float64 (parameters, inputs, loss), through
    ``torch.func.functional_call``, so the model itself is not changed; copy a solution back
    with :func:`set_flat_params_`.

    Args:
        model: a ``torch.nn.Module`` (its current parameters are only used for their shapes;
            start from ``flat_params(model)``).
        X: the inputs; y: the targets (class indices for the default loss).
        loss_fn: ``loss_fn(output, y) -> scalar``; default the mean cross-entropy
            (``torch.nn.functional.cross_entropy``).
        weight_decay: :math:`\lambda \ge 0`, an L2 penalty on all parameters.

    Returns:
        ``fun_and_grad(vec) -> (float, np.ndarray)``, the loss and its float64 gradient.

    Reference: Nocedal and Wright (2006), *Numerical Optimization*, 2nd ed., chapter 7.
    """
    named = _check_model("model_objective", model)
    lam = _checks.non_negative("model_objective", "weight_decay", weight_decay)
    loss_fn = torch.nn.functional.cross_entropy if loss_fn is None else loss_fn
    X, y = _tensor64(X), _tensor64(y)

    def objective(vec):
        loss = loss_fn(torch_func.functional_call(model, _unflatten(named, vec), (X,)), y)
        if lam:
            loss = loss + 0.5 * lam * torch.dot(vec, vec)
        return loss

    def fun_and_grad(vec):
        t = torch.from_numpy(_check_vec("model_objective", named, vec).copy())
        t.requires_grad_(True)
        loss = objective(t)
        (g,) = torch.autograd.grad(loss, t)
        return float(loss.detach()), g.numpy()

    return fun_and_grad
