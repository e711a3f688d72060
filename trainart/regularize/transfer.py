r"""Transfer learning: reuse a trained network, freeze its body, train a new head.

A network trained on a large task learns features that serve related tasks. To transfer it:
replace its last ``Linear`` (the head) with a fresh one for the new classes, freeze the
rest (``requires_grad = False``: no gradient, no update), and train only the head; with more
data, unfreeze more layers and fine-tune them with a small learning rate. Freezing is a
strong regularizer: the new task can only choose a linear read-out of fixed features.

Build the optimizer on :func:`trainable_parameters` (a frozen parameter has no gradient,
so optimizers skip it anyway, but weight decay and counting are clearer that way). To
fine-tune every layer with a fresh head, give the head and the body their own learning rates
(:func:`head_and_body_groups`, parameter groups of ``torch.optim``).

Reference: Yosinski, Clune, Bengio and Lipson (2014), "How transferable are features in
deep neural networks?"; CS231n, "Transfer learning".
"""

from __future__ import annotations

from .. import _checks
from .._lazy import lazy_import

torch = lazy_import("torch")
nn = lazy_import("torch.nn")

__all__ = ["freeze_", "unfreeze_", "replace_head", "count_trainable", "trainable_parameters",
           "head_and_body_groups"]


def _module(owner: str, module) -> None:
    if not isinstance(module, nn.Module):
        raise TypeError(f"{owner}: expected a torch.nn.Module, got {type(module).__name__}")


def freeze_(module):
    """Freeze every parameter of ``module`` in place (``requires_grad = False``).

    Returns:
        ``module`` (so ``freeze_(model[:-1])`` can be chained). Freezing does not change
        dropout or batch-norm behaviour: batch norm still updates its running statistics in
        training mode (call ``.eval()`` on it to keep them fixed too).
    """
    _module("freeze_", module)
    for p in module.parameters():
        p.requires_grad_(False)
    return module


def unfreeze_(module):
    """Make every parameter of ``module`` trainable again (``requires_grad = True``);
    returns ``module``."""
    _module("unfreeze_", module)
    for p in module.parameters():
        p.requires_grad_(True)
    return module


def trainable_parameters(model) -> list:
    """The parameters of ``model`` with ``requires_grad`` (what the optimizer should get)."""
    _module("trainable_parameters", model)
    return [p for p in model.parameters() if p.requires_grad]


def count_trainable(model) -> int:
    """The number of trainable scalars of ``model`` (entries of its trainable parameters)."""
    return int(sum(p.numel() for p in trainable_parameters(model)))


def replace_head(model, num_classes: int, seed: int = 0):
    """Replace the last ``nn.Linear`` of ``model`` by a fresh one with ``num_classes`` outputs.

    The new head has the old one's ``in_features``, dtype and device, PyTorch's default
    ``Linear`` initialization drawn from ``seed`` (the global torch generator is left
    untouched), and is trainable even if the rest is frozen.

    Args:
        model: a torch module whose last ``Linear`` (in ``named_modules`` order) is its
            output layer, e.g. :func:`trainart.models.mlp`'s ``Sequential``.
        num_classes: the new number of outputs, an integer >= 1.
        seed: seeds the new head's weights.

    Returns:
        ``model``, changed in place.
    """
    owner = "replace_head"
    _module(owner, model)
    num_classes = _checks.positive_int(owner, "num_classes", num_classes)
    linears = [(name, m) for name, m in model.named_modules() if isinstance(m, nn.Linear)]
    if not linears or linears[-1][0] == "":
        raise ValueError(f"{owner}: model must contain an nn.Linear head (e.g. an mlp "
                         f"Sequential), found none in {type(model).__name__}")
    name, old = linears[-1]
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        new = nn.Linear(old.in_features, int(num_classes), bias=old.bias is not None,
                        dtype=old.weight.dtype, device=old.weight.device)
    parent_name, _, attr = name.rpartition(".")
    parent = model.get_submodule(parent_name) if parent_name else model
    setattr(parent, attr, new)
    return model


def head_and_body_groups(model, head_lr: float, body_lr: float) -> list[dict]:
    r"""Parameter groups for fine-tuning with one learning rate for the head and another
    (usually smaller) for the body: discriminative fine-tuning.

    .. math::

        w_{\text{head}} \leftarrow w_{\text{head}} - \eta_{\text{head}}\,u_{\text{head}},
        \qquad
        w_{\text{body}} \leftarrow w_{\text{body}} - \eta_{\text{body}}\,u_{\text{body}}

    for the update direction :math:`u` of any optimizer. The head is the last ``nn.Linear``
    (as in :func:`replace_head`); the body is every other trainable parameter. The result
    goes to any ``torch.optim`` optimizer: ``Adam(head_and_body_groups(net, 1e-2, 1e-3))``.

    Args:
        model: a torch module with an ``nn.Linear`` head.
        head_lr: :math:`\eta_{\text{head}} > 0`.
        body_lr: :math:`\eta_{\text{body}} \ge 0` (0 keeps the body fixed, like freezing).

    Returns:
        ``[{"params": head, "lr": head_lr}, {"params": body, "lr": body_lr}]`` (trainable
        parameters only; the body group is left out when it is empty).

    Reference: Howard and Ruder (2018), "Universal language model fine-tuning" (ULMFiT);
    CS231n, "Transfer learning".
    """
    owner = "head_and_body_groups"
    _module(owner, model)
    head_lr = _checks.positive(owner, "head_lr", head_lr)
    body_lr = _checks.non_negative(owner, "body_lr", body_lr)
    linears = [(name, m) for name, m in model.named_modules() if isinstance(m, nn.Linear)]
    if not linears:
        raise ValueError(f"{owner}: model must contain an nn.Linear head, found none in "
                         f"{type(model).__name__}")
    head_ids = {id(p) for p in linears[-1][1].parameters()}
    params = trainable_parameters(model)
    head = [p for p in params if id(p) in head_ids]
    body = [p for p in params if id(p) not in head_ids]
    if not head:
        raise ValueError(f"{owner}: the head (last nn.Linear) of model is frozen")
    groups = [{"params": head, "lr": head_lr}]
    if body:
        groups.append({"params": body, "lr": body_lr})
    return groups
