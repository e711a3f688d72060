"""The optimizer base class shared by every update rule in :mod:`trainart.optim`.

An optimizer holds its parameters (NumPy arrays or ``torch.Tensor`` s) in *parameter groups*,
as ``torch.optim`` does: ``param_groups`` is a list of dicts, each with its ``"params"`` and
its own hyperparameters (``lr``, ``weight_decay``, ...; the constructor's values are the
defaults). One ``state`` dict per parameter holds what the rule carries from step to step.
``step`` collects the gradients, checks them, and calls the subclass's
:meth:`Optimizer.update`, which changes one parameter *in place* with the update rule
written as in the lecture formulas.

Two ways to call ``step``, one implementation underneath:

* NumPy: ``opt = Adam([w, b], lr=1e-3); opt.step([dw, db])`` (gradients passed in);
* PyTorch: ``opt = Adam(model.parameters(), lr=1e-3); loss.backward(); opt.step()``
  (gradients read from ``p.grad``, as ``torch.optim`` does).

Parameter groups give each part of a model its own hyperparameters, e.g. discriminative
fine-tuning (a small learning rate for a pretrained backbone, a larger one for a new head)::

    opt = SGD([{"params": backbone.parameters(), "lr": 1e-4},
               {"params": head.parameters()}], lr=1e-2, momentum=0.9)

``state_dict()`` / ``load_state_dict()`` save and restore the hyperparameters and the state,
so a run can be checkpointed and resumed exactly.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Mapping

import numpy as np

from .. import _arrays, _checks

# The optimizers' shared lines (with_weight_decay, maximized, blocks, ...) are imported by
# the rules in this package; what users import is the base class and the error.
__all__ = ["Optimizer", "NonFiniteGradientError"]


class NonFiniteGradientError(FloatingPointError):
    """A gradient holds NaN or infinity; the message names the parameter."""


# ------------------------------------------------------------------ checks of hyperparameters
def betas_pair(owner: str, name: str, value) -> tuple[float, float]:
    """A pair ``(beta1, beta2)``, each in [0, 1), or a ``ValueError`` naming the argument."""
    try:
        beta1, beta2 = value
    except (TypeError, ValueError):
        raise ValueError(f"{owner}: {name} must be a pair (beta1, beta2), got {value!r}") from None
    return (_checks.unit_interval(owner, f"{name}[0]", beta1),
            _checks.unit_interval(owner, f"{name}[1]", beta2))


# ------------------------------------------------------ lines shared by several update rules
def maximized(grad, maximize: bool):
    r"""The gradient to descend along: :math:`-g_t` when maximizing the objective, else
    :math:`g_t` (``torch.optim``'s ``maximize``, applied before anything else)."""
    return -grad if maximize else grad


def with_weight_decay(grad, param, weight_decay: float):
    r"""L2 weight decay: the gradient of :math:`f + \tfrac{\lambda}{2}\|\theta\|^2`,
    :math:`g_t + \lambda\,\theta_{t-1}` (``grad`` itself when :math:`\lambda = 0`)."""
    return grad + weight_decay * param if weight_decay else grad


_BLOCK = 1 << 16  # elements per block: 256 KiB of float32, a comfortable fit in L2 cache


def blocks(*arrays):
    """Matching pieces of ``arrays``, so that an update rule written with plain arithmetic
    runs block by block.

    Large C-contiguous arrays (or tensors) of one shape come back as 1-D views of at most
    ``_BLOCK`` elements: the rule's temporaries are then small and stay in the CPU cache
    (NumPy has no fused multiply-add, and torch's fused kernels round differently on
    different CPUs), and its in-place operations change the arrays themselves. Anything
    else comes back whole, as one piece. ``None`` entries stay ``None``. Elementwise, the
    numbers are exactly those of the rule applied to the whole arrays.
    """
    present = [a for a in arrays if a is not None]
    x = present[0]
    n = int(np.prod(_arrays.shape(x)))
    tensors = _arrays.is_tensor(x)
    same = all(_arrays.is_tensor(a) == tensors and _arrays.shape(a) == _arrays.shape(x)
               for a in present)
    if n <= _BLOCK or not same or not all(
            a.is_contiguous() if tensors else a.flags.c_contiguous for a in present):
        yield arrays
        return
    flat = [None if a is None else (a.view(-1) if tensors else a.reshape(-1)) for a in arrays]
    for start in range(0, n, _BLOCK):
        piece = slice(start, min(start + _BLOCK, n))
        yield tuple(None if f is None else f[piece] for f in flat)


def torch_kernels(param) -> bool:
    """True for a torch tensor below double precision (float32, float16, bfloat16).

    Its arithmetic depends on the CPU's kernels anyway (torch multiplies a float32 tensor by
    a Python number differently with and without AVX2), so SGD and Adam update it with
    torch's fused in-place operations (``add_(alpha=)``, ``lerp_``, ``addcmul_``,
    ``addcdiv_``) in the order of ``torch.optim``'s single-tensor step: as fast as torch,
    and torch's own numbers. NumPy arrays and float64 tensors keep the plain operations,
    whose results do not depend on the CPU's kernels.
    """
    return _arrays.is_tensor(param) and param.element_size() < 8


def maximum_(x, y):
    """``x = max(x, y)`` elementwise, in place; returns ``x``."""
    if _arrays.is_tensor(x):
        return sys.modules["torch"].maximum(x, y, out=x)
    return np.maximum(x, y, out=x)


# ------------------------------------------------------------------------------ the state
class ParamState(list):
    """The per-parameter state dicts, in the parameters' order (all groups in turn).

    Index by position (``opt.state[0]``) or, as ``torch.optim`` does, by the parameter
    itself (``opt.state[p]``).
    """

    def __init__(self):
        super().__init__()
        self._params: list = []

    def _append(self, param) -> None:
        self._params.append(param)
        self.append({})

    def __getitem__(self, key):
        if isinstance(key, (int, np.integer, slice)):
            return super().__getitem__(key)
        for i, p in enumerate(self._params):
            if p is key:
                return super().__getitem__(i)
        raise KeyError("optimizer state: this object is not one of the optimizer's parameters")


class Optimizer:
    """Base class: parameter groups, hyperparameters, per-parameter state and ``step``.

    Args:
        params: the parameters to update in place: a list of NumPy float arrays or torch
            tensors, a dict ``{name: param}``, ``(name, param)`` pairs such as
            ``model.named_parameters()``, or a list of parameter groups: dicts with
            ``"params"`` (any of the forms above) and any of the optimizer's
            hyperparameters, which override the constructor's values for that group.
            Names appear in error messages.
        defaults: the hyperparameters given to the constructor (checked here with the
            subclass's ``checks``).
        check_finite: raise :class:`NonFiniteGradientError` when a gradient holds NaN or
            inf (default). Turn off to demonstrate divergence, or in benchmarks.

    Subclasses set ``checks``, ``{hyperparameter: check(owner, name, value)}`` in the
    vocabulary of ``trainart._checks``, and implement :meth:`update`.
    """

    checks: dict = {}

    def __init__(self, params, defaults: dict, *, check_finite: bool = True):
        owner = type(self).__name__
        self.defaults = self._checked(owner, dict(defaults), lambda key: key)
        self.param_groups: list[dict] = []
        self.state = ParamState()
        self.check_finite = bool(check_finite)
        self.steps_taken = 0
        groups, explicit = _as_groups(owner, params)
        for group in groups:
            self._add_group(owner, group, explicit)

    # -------------------------------------------------------------- groups and their checks
    def _checked(self, owner: str, values: dict, label) -> dict:
        for key, value in values.items():
            values[key] = self.checks[key](owner, label(key), value)
        self._check_group(owner, {**getattr(self, "defaults", {}), **values}, label)
        return values

    def _check_group(self, owner: str, group: dict, label) -> None:
        """Checks that involve several hyperparameters of one group (subclasses add them)."""

    def add_param_group(self, param_group: dict) -> None:
        """Add a parameter group, e.g. layers unfrozen during fine-tuning (``torch.optim``'s
        ``add_param_group``). Its hyperparameters default to the constructor's values; its
        parameters start with an empty state."""
        self._add_group(f"{type(self).__name__}.add_param_group", param_group, True)

    def _add_group(self, owner: str, group, explicit: bool) -> None:
        i = len(self.param_groups)
        where = f"param_groups[{i}]"
        if not isinstance(group, Mapping):
            raise TypeError(f"{owner}: {where} must be a dict with a 'params' entry, "
                            f"got {type(group).__name__}")
        if "params" not in group:
            raise ValueError(f"{owner}: {where} has no 'params' entry, got keys {sorted(group)}")
        unknown = sorted(set(group) - set(self.defaults) - {"params", "param_names"})
        if unknown:
            raise ValueError(
                f"{owner}: {where} has unknown key(s) {', '.join(map(repr, unknown))}; "
                f"{type(self).__name__}'s hyperparameters are {', '.join(self.defaults)}")
        names, params = _named_params(owner, group["params"],
                                      f"{where}['params']" if explicit else "params")
        if "param_names" in group:
            names = [str(n) for n in group["param_names"]]
            if len(names) != len(params):
                raise ValueError(f"{owner}: {where}['param_names'] must name each of its "
                                 f"{len(params)} parameters, got {len(names)} names")
        known = [(n, p) for g in self.param_groups for n, p in zip(g["param_names"], g["params"])]
        for k, (name, p) in enumerate(zip(names, params)):
            for other, q in known + list(zip(names[:k], params[:k])):
                if p is q:
                    raise ValueError(f"{owner}: parameter '{name}' is given twice (also as "
                                     f"'{other}'); a parameter belongs to one group, once")
                if name == other:
                    raise ValueError(f"{owner}: two parameters are named '{name}'; names "
                                     f"must be unique")
        overrides = {k: v for k, v in group.items() if k in self.defaults}
        hyper = {**self.defaults,
                 **self._checked(owner, overrides, lambda key: f"{where}['{key}']")}
        self.param_groups.append({"params": params, "param_names": names, **hyper})
        for p in params:
            self.state._append(p)

    @property
    def params(self) -> list:
        """All parameters, group after group (the order of ``state`` and of ``step``'s
        gradients)."""
        return [p for g in self.param_groups for p in g["params"]]

    @property
    def names(self) -> list[str]:
        """The parameters' names, in the order of :attr:`params`."""
        return [n for g in self.param_groups for n in g["param_names"]]

    # The learning rate is the hyperparameter schedules change, so it gets a property.
    @property
    def lr(self) -> float:
        """The learning rate of every group (they must agree; else read
        ``param_groups[i]["lr"]``). Setting it sets every group's."""
        lrs = [g["lr"] for g in self.param_groups]
        if any(lr != lrs[0] for lr in lrs):
            raise ValueError(f"{type(self).__name__}.lr: the parameter groups have different "
                             f"learning rates {lrs}; read param_groups[i]['lr']")
        return lrs[0]

    @lr.setter
    def lr(self, value: float) -> None:
        # A schedule may reach 0 (cosine annealing's end); the constructor demands lr > 0.
        value = _checks.non_negative(type(self).__name__, "lr", value)
        for group in self.param_groups:
            group["lr"] = value

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.defaults.items())
        groups = f", {len(self.param_groups)} groups" if len(self.param_groups) > 1 else ""
        return f"{type(self).__name__}({len(self.params)} parameters{groups}, {args})"

    # ------------------------------------------------------------------------- the step
    def update(self, param, grad, state: dict, group: dict) -> None:
        """Apply the update rule to one parameter in place with its group's hyperparameters
        (subclasses implement it)."""
        raise NotImplementedError

    def step(self, grads=None) -> None:
        """Take one optimization step.

        Args:
            grads: one gradient per parameter (a list in the order of :attr:`params`, or a
                dict keyed by their names). Leave out to use ``p.grad`` of torch parameters.
                A ``None`` gradient leaves its parameter (and its state) untouched.
        """
        grads = self._gradients(grads)
        self.steps_taken += 1
        k = 0
        with _no_grad(self.params):
            for group in self.param_groups:
                for name, param in zip(group["param_names"], group["params"]):
                    grad, state = grads[k], self.state[k]
                    k += 1
                    if grad is None:
                        continue
                    if self.check_finite and not _arrays.all_finite(grad):
                        raise NonFiniteGradientError(
                            f"{type(self).__name__}: the gradient of parameter '{name}' "
                            f"(shape {_arrays.shape(param)}) contains NaN or inf at step "
                            f"{self.steps_taken}. Lower the learning rate or clip the "
                            f"gradients; pass check_finite=False to let the optimizer diverge "
                            f"on purpose."
                        )
                    self.update(param, grad, state, group)

    def zero_grad(self) -> None:
        """Reset the ``.grad`` of torch parameters to ``None`` (as ``torch.optim`` does)."""
        for p in self.params:
            if _arrays.is_tensor(p):
                p.grad = None

    def _gradients(self, grads) -> list:
        owner = type(self).__name__
        params, names = self.params, self.names
        if grads is None:
            if not all(_arrays.is_tensor(p) for p in params):
                raise TypeError(
                    f"{owner}.step(): NumPy parameters need their gradients passed in, "
                    f"e.g. opt.step([dW, db])"
                )
            return [p.grad for p in params]
        if isinstance(grads, Mapping):
            unknown = set(grads) - set(names)
            if unknown:
                raise KeyError(f"{owner}.step(): unknown parameters {sorted(unknown)}")
            grads = [grads.get(name) for name in names]
        else:
            grads = list(grads)
        if len(grads) != len(params):
            raise ValueError(
                f"{owner}.step(): got {len(grads)} gradients for {len(params)} parameters"
            )
        for name, p, g in zip(names, params, grads):
            if g is not None and _arrays.shape(g) != _arrays.shape(p):
                raise ValueError(
                    f"{owner}.step(): the gradient of parameter '{name}' has shape "
                    f"{_arrays.shape(g)}, the parameter has shape {_arrays.shape(p)}"
                )
        return grads

    # ---------------------------------------------------------------- checkpoint / resume
    def state_dict(self) -> dict:
        """Everything needed to resume: ``{"state": {index: {key: value}}, "param_groups":
        [{hyperparameters..., "params": [indices], "param_names": [...]}], ...}``.

        The layout is ``torch.optim``'s (parameters are referred to by their position in
        :attr:`params`), plus the optimizer's class name and ``steps_taken``. Arrays are
        *copies*, so training on does not change a saved state dict (torch returns
        references).
        """
        groups, k = [], 0
        for g in self.param_groups:
            n = len(g["params"])
            groups.append({**{key: g[key] for key in self.defaults},
                           "params": list(range(k, k + n)),
                           "param_names": list(g["param_names"])})
            k += n
        return {
            "optimizer": type(self).__name__,
            "state": {i: {key: _copy_value(v) for key, v in s.items()}
                      for i, s in enumerate(self.state) if s},
            "param_groups": groups,
            "steps_taken": self.steps_taken,
        }

    def load_state_dict(self, state_dict: Mapping) -> None:
        """Restore hyperparameters and state saved by :meth:`state_dict` of an optimizer of
        the same class over parameters of the same shapes (NumPy or torch, either way).

        Raises:
            TypeError: a state dict of another optimizer, or not a state dict.
            ValueError: another number of groups or parameters, other hyperparameter keys
                or a state array of another shape (the message names it).
        """
        cls = type(self).__name__
        owner = f"{cls}.load_state_dict"
        if not isinstance(state_dict, Mapping) or not {"state", "param_groups"} <= set(state_dict):
            raise TypeError(f"{owner}: state_dict must be a dict with 'state' and "
                            f"'param_groups' (from {cls}.state_dict()), got "
                            f"{type(state_dict).__name__}")
        saved_by = state_dict.get("optimizer", cls)
        if saved_by != cls:
            raise ValueError(f"{owner}: the state dict was saved by {saved_by}, not {cls}")
        saved = list(state_dict["param_groups"])
        if len(saved) != len(self.param_groups):
            raise ValueError(f"{owner}: the state dict has {len(saved)} parameter groups, "
                             f"this optimizer has {len(self.param_groups)}")
        for i, (s, g) in enumerate(zip(saved, self.param_groups)):
            keys = set(s) - {"params", "param_names"}
            if keys != set(self.defaults):
                raise ValueError(
                    f"{owner}: param_groups[{i}] of the state dict has hyperparameters "
                    f"{sorted(keys)}, {cls} has {sorted(self.defaults)} (saved by another "
                    f"optimizer?)")
            if len(s["params"]) != len(g["params"]):
                raise ValueError(f"{owner}: param_groups[{i}] of the state dict has "
                                 f"{len(s['params'])} parameters, this optimizer's has "
                                 f"{len(g['params'])}")
        params, names = self.params, self.names
        index = {saved_k: k for k, saved_k in
                 enumerate(k for s in saved for k in s["params"])}
        new_state = [{} for _ in params]
        for saved_k, entries in state_dict["state"].items():
            if saved_k not in index:
                raise ValueError(f"{owner}: the state dict has state for parameter "
                                 f"{saved_k!r}, which no parameter group lists")
            k = index[saved_k]
            for key, value in entries.items():
                if _is_array(value) and _arrays.shape(value) != _arrays.shape(params[k]):
                    raise ValueError(
                        f"{owner}: state '{key}' of parameter '{names[k]}' has shape "
                        f"{_arrays.shape(value)}, the parameter has shape "
                        f"{_arrays.shape(params[k])}")
                new_state[k][key] = _value_like(value, params[k])
        for s, g in zip(saved, self.param_groups):
            g.update({key: s[key] for key in self.defaults})
        for k, s in enumerate(new_state):
            self.state[k].clear()
            self.state[k].update(s)
        self.steps_taken = int(state_dict.get("steps_taken", 0))


def _is_array(x) -> bool:
    return isinstance(x, np.ndarray) or _arrays.is_tensor(x)


def _copy_value(x):
    if _is_array(x):
        return x.detach().clone() if _arrays.is_tensor(x) else x.copy()
    return x


def _value_like(value, param):
    """A copy of a saved state ``value``: arrays as the kind, dtype (and device) of
    ``param``; a torch scalar tensor such as torch's ``step`` as a Python number."""
    if not _is_array(value):
        return value
    if _arrays.is_tensor(param):
        torch = sys.modules["torch"]
        return torch.as_tensor(value).to(dtype=param.dtype, device=param.device).clone()
    if _arrays.is_tensor(value):
        value = value.detach().cpu().numpy()
    return np.array(value, dtype=param.dtype, copy=True)


def _as_groups(owner: str, params) -> tuple[list, bool]:
    """``params`` as a list of group dicts, and whether the groups were given explicitly."""
    if _is_array(params):
        raise TypeError(f"{owner}: params must be a list of parameters, a dict of named "
                        f"parameters or a list of parameter groups, got a single "
                        f"{type(params).__name__}; wrap it in a list: {owner}([p], ...)")
    if isinstance(params, Mapping):
        return [{"params": params}], False
    items = list(params)
    dicts = [isinstance(x, Mapping) for x in items]
    if items and all(dicts):
        return items, True
    if any(dicts):
        raise TypeError(f"{owner}: params mixes parameter groups (dicts) with parameters; "
                        f"put every parameter in a group")
    return [{"params": items}], False


def _named_params(owner: str, params, where: str = "params") -> tuple[list[str], list]:
    """Split ``params`` into names and parameters, checking each can be updated in place.

    ``params``: a list of arrays/tensors (named ``{where}[i]``), a dict ``{name: param}``,
    ``(name, param)`` pairs, or a single array/tensor (as torch accepts in a group).
    """
    if isinstance(params, Mapping):
        pairs = list(params.items())
    elif _is_array(params):
        pairs = [(f"{where}[0]", params)]
    else:
        items = list(params)
        if items and all(isinstance(x, tuple) and len(x) == 2 for x in items):
            pairs = [(str(n), p) for n, p in items]
        else:
            pairs = [(f"{where}[{i}]", p) for i, p in enumerate(items)]
    if not pairs:
        raise ValueError(f"{owner}: {where} is an empty list of parameters")
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
