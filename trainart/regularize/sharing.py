r"""Parameter sharing: several models (or tasks) use the *same* parameter tensors.

Parameter tying (:func:`~trainart.regularize.tying_penalty`) pulls two models'
weights together with a penalty :math:`\frac{\lambda}{2}\|w^{(A)} - w^{(B)}\|^2`; sharing is
its limit :math:`\lambda \to \infty`, where :math:`w^{(A)} = w^{(B)}` holds exactly because
both models hold one tensor. Every gradient step through either model then changes both.

- :func:`share_parameters_` makes a module use another module's ``Parameter`` objects;
- :func:`unique_parameters` lists the parameters of several modules, each shared one once
  (what an optimizer must be given);
- :class:`SharedTrunk` is hard parameter sharing for multi-task learning: one trunk, one
  head per task (it subclasses ``torch.nn.Module``, so it lives in ``._shared_trunk`` and
  is imported on first access: importing this module does not load torch).

Reference: Goodfellow, Bengio and Courville (2016), *Deep Learning*, sec. 7.7 and 7.9.
"""

from __future__ import annotations

from .._lazy import lazy_import

nn = lazy_import("torch.nn")

__all__ = [
    "unique_parameters",
    "share_parameters_",
    "SharedTrunk",  # noqa: F822 (imported on first access, see __getattr__)
]

# SharedTrunk subclasses torch.nn.Module: imported on first access (PEP 562).
_LAZY = ("SharedTrunk",)


def __getattr__(name: str):
    if name == "SharedTrunk":
        from ._shared_trunk import SharedTrunk

        return SharedTrunk
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted({*globals(), *_LAZY})


def _module(owner: str, name: str, m) -> None:
    if not isinstance(m, nn.Module):
        raise TypeError(f"{owner}: {name} must be a torch.nn.Module, got {type(m).__name__}")


def unique_parameters(*modules) -> list:
    """The parameters of several modules, each shared ``Parameter`` listed once (an optimizer
    must not see the same tensor twice, e.g. after :func:`share_parameters_`).

    Args:
        *modules: ``torch.nn.Module`` objects.

    Returns:
        A list of ``Parameter`` objects in the order the modules list them, duplicates
        (the same object) dropped.
    """
    seen, out = set(), []
    for i, m in enumerate(modules):
        _module("unique_parameters", f"argument {i}", m)
        for p in m.parameters():
            if id(p) not in seen:
                seen.add(id(p))
                out.append(p)
    return out


def share_parameters_(module_a, module_b, names) -> list[str]:
    r"""Make ``module_b`` use ``module_a``'s ``Parameter`` objects (soft -> hard sharing).

    After the call :math:`w^{(B)}_k \equiv w^{(A)}_k` for the named parameters: they are the
    *same* tensors, and a gradient step through either module changes both. Build
    optimizers on :func:`unique_parameters` so no tensor is stepped twice.

    Args:
        module_a: the module whose parameters are kept.
        module_b: the module changed in place.
        names: parameter names (``"0.weight"``) or submodule names (``"0"``: all of its
            parameters), as in ``named_parameters()``/``named_modules()``.

    Returns:
        The parameter names that are now shared.

    Reference: Goodfellow et al. (2016), *Deep Learning*, sec. 7.9.
    """
    owner = "share_parameters_"
    _module(owner, "module_a", module_a)
    _module(owner, "module_b", module_b)
    if isinstance(names, str):
        names = [names]
    params_a = dict(module_a.named_parameters())
    params_b = dict(module_b.named_parameters())
    selected = []
    for name in names:
        if name in params_a:
            selected.append(name)
            continue
        prefix = name + "."
        under = [n for n in params_a if n.startswith(prefix)]
        if not under:
            raise ValueError(f"{owner}: names: {name!r} is neither a parameter nor a "
                             f"submodule with parameters of module_a")
        selected += under
    for name in selected:
        if name not in params_b:
            raise ValueError(f"{owner}: names: module_b has no parameter {name!r}")
        if params_a[name].shape != params_b[name].shape:
            raise ValueError(f"{owner}: parameter {name!r} has shape "
                             f"{tuple(params_a[name].shape)} in module_a but "
                             f"{tuple(params_b[name].shape)} in module_b")
    for name in selected:
        parent_name, _, attr = name.rpartition(".")
        parent = module_b.get_submodule(parent_name) if parent_name else module_b
        setattr(parent, attr, params_a[name])
    return selected
