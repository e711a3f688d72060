"""The optimizer base class shared by every update rule in :mod:`trainart.optim`.

An optimizer holds a list of parameters (NumPy arrays or ``torch.Tensor`` s), a dict of
hyperparameters and one ``state`` dict per parameter. ``step`` collects the gradients,
checks them, and calls the subclass's :meth:`Optimizer.update`, which changes one
parameter *in place* with the update rule written as in the lecture formulas.

Two ways to call ``step``, one implementation underneath:

* NumPy: ``opt = Adam([w, b], lr=1e-3); opt.step([dw, db])`` (gradients passed in);
* PyTorch: ``opt = Adam(model.parameters(), lr=1e-3); loss.backward(); opt.step()``
  (gradients read from ``p.grad``, as ``torch.optim`` does).
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Mapping

import numpy as np

from .. import _arrays, _checks


class NonFiniteGradientError(FloatingPointError):
    """A gradient holds NaN or infinity; the message names the parameter."""


class Optimizer:
    """Base class: parameters, hyperparameters, per-parameter state and ``step``.

    Args:
        params: the parameters to update in place: a list of NumPy float arrays or torch
            tensors, a dict ``{name: param}``, or ``(name, param)`` pairs such as
            ``model.named_parameters()``. Names appear in error messages.
        defaults: the hyperparameters (``lr`` and the rule's own), already checked.
        check_finite: raise :class:`NonFiniteGradientError` when a gradient holds NaN or
            inf (default). Turn off to demonstrate divergence, or in benchmarks.
    """

    def __init__(self, params, defaults: dict, *, check_finite: bool = True):
        self.names, self.params = _named_params(type(self).__name__, params)
        self.defaults = dict(defaults)
        self.state: list[dict] = [{} for _ in self.params]
        self.check_finite = bool(check_finite)
        self.steps_taken = 0

    # The learning rate is the hyperparameter schedules change, so it gets a property.
    @property
    def lr(self) -> float:
        return self.defaults["lr"]

    @lr.setter
    def lr(self, value: float) -> None:
        # A schedule may reach 0 (cosine annealing's end); the constructor demands lr > 0.
        self.defaults["lr"] = _checks.non_negative(type(self).__name__, "lr", value)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.defaults.items())
        return f"{type(self).__name__}({len(self.params)} parameters, {args})"

    def update(self, param, grad, state: dict) -> None:
        """Apply the update rule to one parameter in place (subclasses implement it)."""
        raise NotImplementedError

    def step(self, grads=None) -> None:
        """Take one optimization step.

        Args:
            grads: one gradient per parameter (a list in the parameters' order, or a dict
                keyed by their names). Leave out to use ``p.grad`` of torch parameters.
                A ``None`` gradient leaves its parameter (and its state) untouched.
        """
        grads = self._gradients(grads)
        self.steps_taken += 1
        with _no_grad(self.params):
            for name, param, grad, state in zip(self.names, self.params, grads, self.state):
                if grad is None:
                    continue
                if self.check_finite and not _arrays.all_finite(grad):
                    raise NonFiniteGradientError(
                        f"{type(self).__name__}: the gradient of parameter '{name}' "
                        f"(shape {_arrays.shape(param)}) contains NaN or inf at step "
                        f"{self.steps_taken}. Lower the learning rate or clip the gradients; "
                        f"pass check_finite=False to let the optimizer diverge on purpose."
                    )
                self.update(param, grad, state)

    def zero_grad(self) -> None:
        """Reset the ``.grad`` of torch parameters to ``None`` (as ``torch.optim`` does)."""
        for p in self.params:
            if _arrays.is_tensor(p):
                p.grad = None

    def _gradients(self, grads) -> list:
        owner = type(self).__name__
        if grads is None:
            if not all(_arrays.is_tensor(p) for p in self.params):
                raise TypeError(
                    f"{owner}.step(): NumPy parameters need their gradients passed in, "
                    f"e.g. opt.step([dW, db])"
                )
            return [p.grad for p in self.params]
        if isinstance(grads, Mapping):
            unknown = set(grads) - set(self.names)
            if unknown:
                raise KeyError(f"{owner}.step(): unknown parameters {sorted(unknown)}")
            grads = [grads.get(name) for name in self.names]
        else:
            grads = list(grads)
        if len(grads) != len(self.params):
            raise ValueError(
                f"{owner}.step(): got {len(grads)} gradients for {len(self.params)} parameters"
            )
        for name, p, g in zip(self.names, self.params, grads):
            if g is not None and _arrays.shape(g) != _arrays.shape(p):
                raise ValueError(
                    f"{owner}.step(): the gradient of parameter '{name}' has shape "
                    f"{_arrays.shape(g)}, the parameter has shape {_arrays.shape(p)}"
                )
        return grads


def _named_params(owner: str, params) -> tuple[list[str], list]:
    """Split ``params`` into names and parameters, checking each can be updated in place."""
    if isinstance(params, Mapping):
        pairs = list(params.items())
    else:
        items = list(params)
        if items and all(isinstance(x, tuple) and len(x) == 2 for x in items):
            pairs = [(str(n), p) for n, p in items]
        else:
            pairs = [(f"params[{i}]", p) for i, p in enumerate(items)]
    if not pairs:
        raise ValueError(f"{owner}: got an empty list of parameters")
    for name, p in pairs:
        if _arrays.is_tensor(p):
            if not p.is_floating_point():
                raise TypeError(f"{owner}: parameter '{name}' must be a floating-point tensor")
        elif isinstance(p, np.ndarray):
            if not np.issubdtype(p.dtype, np.floating):
                raise TypeError(
                    f"{owner}: parameter '{name}' has dtype {p.dtype}; it is updated in place, "
                    f"so it must be a floating-point array (e.g. x.astype(float))"
                )
            if not p.flags.writeable:
                raise ValueError(f"{owner}: parameter '{name}' is a read-only array")
        else:
            raise TypeError(
                f"{owner}: parameter '{name}' is a {type(p).__name__}; pass NumPy arrays or "
                f"torch tensors (they are updated in place)"
            )
    return [n for n, _ in pairs], [p for _, p in pairs]


def _no_grad(params):
    """``torch.no_grad()`` when updating tensors, a do-nothing context for NumPy arrays."""
    if any(_arrays.is_tensor(p) for p in params):
        return sys.modules["torch"].no_grad()
    return contextlib.nullcontext()
