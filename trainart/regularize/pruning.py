r"""Magnitude pruning: zero the smallest weights, keep them zero while retraining.

Unstructured magnitude pruning (Han et al., 2015) removes the fraction ``amount`` of the
weights with the smallest :math:`|w|`, either over all layers together (``scope="global"``)
or layer by layer (``scope="layer"``). The number removed is :math:`k =
\mathrm{round}(\text{amount}\cdot n)` (Python's ``round``, as ``torch.nn.utils.prune``),
so the masks equal those of ``prune.global_unstructured(..., pruning_method=L1Unstructured,
amount=amount)`` and ``prune.l1_unstructured(module, "weight", amount)``.

A mask :math:`m \in \{0, 1\}` is applied as :math:`w \leftarrow m \odot w`; to keep pruned
weights at zero during retraining the mask is re-applied after every optimizer step
(:func:`mask_hook`), since momentum and weight decay would otherwise revive them.
:func:`iterative_pruning` alternates prune and retrain at growing sparsity and keeps the
sparsest model whose accuracy holds a floor.

References: Han, Pool, Tran and Dally (2015), "Learning both weights and connections for
efficient neural networks"; Frankle and Carbin (2019), "The lottery ticket hypothesis";
``torch.nn.utils.prune``.
"""

from __future__ import annotations

import copy
import math

import numpy as np

from .. import _checks
from .._lazy import lazy_import
from .penalties import _param_list, weight_params

torch = lazy_import("torch")
nn = lazy_import("torch.nn")

__all__ = ["magnitude_masks", "apply_masks_", "mask_hook", "sparsity", "iterative_pruning"]

SCOPES = ("global", "layer")


def _prunable(owner: str, params_or_model) -> tuple[list, bool]:
    """The weights to prune: ``weight_params(model)`` for a module, else the given list."""
    if isinstance(params_or_model, nn.Module):
        params = weight_params(params_or_model)
        if not params:
            raise ValueError(f"{owner}: the model has no weights to prune (no parameter with "
                             f"two or more dimensions)")
        return params, True
    return _param_list(owner, params_or_model)


def _amount(owner: str, amount) -> float:
    if isinstance(amount, bool):
        raise TypeError(f"{owner}: amount must be a fraction in [0, 1], got {amount!r}")
    amount = _checks.number(owner, "amount", amount)
    if not 0.0 <= amount <= 1.0:
        raise ValueError(f"{owner}: amount must be a fraction in [0, 1], got {amount!r}")
    return amount


def _as_numpy(p) -> np.ndarray:
    return p.detach().cpu().numpy() if isinstance(p, torch.Tensor) else np.asarray(p)


def _smallest_mask(scores: np.ndarray, k: int) -> np.ndarray:
    """0/1 vector zeroing the ``k`` entries with the smallest scores (ties: first index)."""
    mask = np.ones(scores.size)
    mask[np.argsort(scores, kind="stable")[:k]] = 0.0
    return mask


def magnitude_masks(params_or_model, amount: float, scope: str = "global") -> list:
    r"""0/1 masks removing the fraction ``amount`` of the weights with the smallest
    :math:`|w|`.

    .. math::

        m_i = \begin{cases} 0 & |w_i| \text{ among the } k \text{ smallest}\\
                            1 & \text{otherwise}\end{cases},\qquad
        k = \mathrm{round}(\text{amount}\cdot n)

    With ``scope="global"``, :math:`n` counts the weights of all layers together and one
    threshold serves them all (layers with many small weights lose more); with
    ``scope="layer"`` every layer loses :math:`\mathrm{round}(\text{amount}\cdot n_\ell)`.
    Weights already zero have the smallest magnitude, so pruning a pruned model further
    keeps the old zeros.

    Args:
        params_or_model: a torch module (its :func:`weight_params`: biases are not pruned)
            or a list of arrays or tensors.
        amount: the fraction to remove, in :math:`[0, 1]` (unlike ``torch.nn.utils.prune``,
            an integer is not read as a count).
        scope: ``"global"`` or ``"layer"``.

    Returns:
        One mask per weight, of its shape, type (array or tensor) and dtype.
    """
    owner = "magnitude_masks"
    amount = _amount(owner, amount)
    _checks.one_of(owner, "scope", scope, SCOPES)
    params, _ = _prunable(owner, params_or_model)
    scores = [np.abs(_as_numpy(p)).ravel() for p in params]
    if scope == "global":
        flat = np.concatenate(scores)
        flat_mask = _smallest_mask(flat, round(amount * flat.size))
        sizes = np.cumsum([s.size for s in scores])[:-1]
        flat_masks = np.split(flat_mask, sizes)
    else:
        flat_masks = [_smallest_mask(s, round(amount * s.size)) for s in scores]
    masks = []
    for p, m in zip(params, flat_masks):
        if isinstance(p, torch.Tensor):
            masks.append(torch.from_numpy(m.reshape(tuple(p.shape))).to(p.dtype))
        else:
            masks.append(m.reshape(p.shape).astype(p.dtype))
    return masks


def _check_masks(owner: str, params: list, masks) -> list:
    masks = list(masks)
    if len(masks) != len(params):
        raise ValueError(f"{owner}: masks must hold one mask per weight ({len(params)}), "
                         f"got {len(masks)}")
    for i, (p, m) in enumerate(zip(params, masks)):
        if tuple(m.shape) != tuple(p.shape):
            raise ValueError(f"{owner}: masks[{i}] must have shape {tuple(p.shape)}, "
                             f"got {tuple(m.shape)}")
    return masks


def apply_masks_(model_or_params, masks) -> None:
    r"""Prune in place: :math:`w \leftarrow m \odot w` for every weight and its mask.

    Args:
        model_or_params: a torch module (its :func:`weight_params`) or a list of arrays or
            tensors (changed in place).
        masks: from :func:`magnitude_masks`, one per weight.
    """
    owner = "apply_masks_"
    params, is_torch = _prunable(owner, model_or_params)
    masks = _check_masks(owner, params, masks)
    if is_torch:
        with torch.no_grad():
            for p, m in zip(params, masks):
                p.mul_(torch.as_tensor(m, dtype=p.dtype, device=p.device))
        return
    for p, m in zip(params, masks):
        p *= np.asarray(m, dtype=p.dtype)


def mask_hook(model, masks):
    """An ``after_step(model)`` for :func:`trainart.models.train_classifier` that re-applies
    ``masks`` after every optimizer step, so pruned weights stay exactly zero.

    Args:
        model: the torch module the masks belong to (used to check the shapes now).
        masks: from :func:`magnitude_masks`.

    Returns:
        ``after_step(model) -> None``.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"mask_hook: model must be a torch.nn.Module, got {type(model).__name__}")
    params, _ = _prunable("mask_hook", model)
    masks = [torch.as_tensor(m, dtype=p.dtype) for p, m in
             zip(params, _check_masks("mask_hook", params, masks))]

    def after_step(m):
        apply_masks_(m, masks)

    return after_step


def sparsity(model_or_params) -> float:
    """The fraction of exact zeros among the prunable weights (:func:`weight_params` of a
    module, or all entries of a list of arrays/tensors)."""
    params, _ = _prunable("sparsity", model_or_params)
    zeros = sum(int(np.count_nonzero(_as_numpy(p) == 0)) for p in params)
    total = sum(int(np.prod(p.shape)) for p in params)
    return zeros / total


def iterative_pruning(model, retrain, evaluate, ratios, floor: float) -> list[dict]:
    r"""Iterative magnitude pruning: prune a little, retrain, repeat while accuracy holds.

    For each target sparsity :math:`s_1 \le s_2 \le \dots` in ``ratios``: prune ``model``
    globally to :math:`s_r` (:func:`magnitude_masks` on the current weights, whose earlier
    zeros stay zero), retrain it with the masks held, re-apply the masks, and evaluate. The
    first round whose accuracy is below ``floor`` ends the loop, and the model is restored
    (in place) to the last round that held the floor (or to the unpruned model if none did).

    Args:
        model: a torch module, changed in place.
        retrain: ``retrain(model, after_step)`` trains the model in place; pass
            ``after_step`` to :func:`trainart.models.train_classifier` so the pruned weights
            stay zero (a fresh optimizer per round is simplest). ``None``: no retraining
            (one-shot pruning at each ratio).
        evaluate: ``evaluate(model) -> float``, the accuracy compared with ``floor``
            (a validation accuracy, not the test set's).
        ratios: non-decreasing target sparsities in :math:`[0, 1]`.
        floor: the lowest acceptable accuracy.

    Returns:
        A list with one dict per round run: ``"round"``, ``"ratio"``, ``"sparsity"``
        (measured), ``"accuracy"`` and ``"kept"`` (accuracy >= floor). Only the last round
        can have ``kept=False``.

    Reference: Han et al. (2015), "Learning both weights and connections for efficient
    neural networks".
    """
    owner = "iterative_pruning"
    if not isinstance(model, nn.Module):
        raise TypeError(f"{owner}: model must be a torch.nn.Module, got {type(model).__name__}")
    if retrain is not None and not callable(retrain):
        raise TypeError(f"{owner}: retrain must be callable or None")
    if not callable(evaluate):
        raise TypeError(f"{owner}: evaluate must be callable")
    ratios = [_amount(owner, r) for r in ratios]
    if not ratios:
        raise ValueError(f"{owner}: ratios must hold at least one sparsity")
    if any(b < a for a, b in zip(ratios, ratios[1:])):
        raise ValueError(f"{owner}: ratios must be non-decreasing, got {ratios}")
    floor = _checks.number(owner, "floor", floor)
    if math.isinf(floor):
        raise ValueError(f"{owner}: floor must be finite, got {floor!r}")

    best_state = copy.deepcopy(model.state_dict())
    rounds = []
    for i, ratio in enumerate(ratios):
        masks = magnitude_masks(model, ratio, scope="global")
        apply_masks_(model, masks)
        if retrain is not None:
            retrain(model, mask_hook(model, masks))
            apply_masks_(model, masks)
        acc = float(evaluate(model))
        kept = acc >= floor
        rounds.append({"round": i, "ratio": ratio, "sparsity": sparsity(model),
                       "accuracy": acc, "kept": kept})
        if not kept:
            model.load_state_dict(best_state)
            break
        best_state = copy.deepcopy(model.state_dict())
    return rounds
