# %% [markdown]
# # Exercise: Global magnitude pruning (크기 기반 가지치기)
#
# A trained network has many weights that hardly matter. Pruning (가지치기) sets some of them
# to zero for good: the network gets smaller and faster, and, pruned a little at a time with
# retraining in between, often loses no accuracy at all. The lecture notes ("DL06", 000)
# describe the iterative recipe: prune, retrain, raise the pruning ratio, and stop when the
# accuracy falls below a floor. The simplest rule for *which* weights to remove is their
# magnitude (크기): the weights closest to zero change the output least.
#
# Two ways to apply it to a network of several layers:
#
# * **per layer** (층별 가지치기): remove the same fraction of every layer's weights;
# * **global** (전역 가지치기): rank *all* weights of all layers together by magnitude and
#   remove the smallest ones wherever they are. Layers with many small weights lose more,
#   layers with few small weights (often the first and the last) lose less.
#
# In this exercise you compute the masks (마스크) both ways, as
# `torch.nn.utils.prune.l1_unstructured` (per layer) and `torch.nn.utils.prune.global_unstructured`
# with `pruning_method=prune.L1Unstructured` (global) compute them, in NumPy.
#
# ## The rule (PyTorch's convention)
#
# A mask has the shape of its weight and holds 1 where the weight is kept and 0 where it is
# pruned; the pruned network uses $w \odot \text{mask}$. For a fraction $a \in [0, 1]$
# (`amount`) of $n$ weights, the **number pruned** is
#
# $$
# k = \operatorname{round}(a \cdot n),
# $$
#
# with Python's `round`, which rounds halves to the even integer (`round(2.5) == 2`,
# `round(3.5) == 4`): that is what PyTorch does. The $k$ weights of smallest absolute value
# $|w|$ get mask 0, all others 1.
#
# * **Per layer:** for every layer separately, $n$ is the number of weights of that layer, and
#   its $k$ smallest weights are pruned.
# * **Global:** $n$ is the total number of weights of all layers, and the $k$ smallest of all
#   of them are pruned, ranked together.
#
# The weights in the checks have no two equal magnitudes, so "the $k$ smallest" is never
# ambiguous.
#
# ## Your task
#
# Write two functions (one cell each):
#
# * `global_magnitude_masks(weights, amount)`: `weights` is a list of NumPy float arrays of any
#   shapes (one per layer), `amount` a float in $[0, 1]$; return a **new list** of masks, one
#   per weight, each a float array of 0.0 and 1.0 of that weight's shape.
# * `layerwise_magnitude_masks(weights, amount)`: the same arguments and result, per layer.
#
# Both raise `ValueError` when `amount` is outside $[0, 1]$, and neither may change the weights
# (or the list) it is given.
#
# ## What the checks test
#
# The checks build seeded weights for small networks and compare your masks exactly with the
# masks `torch.nn.utils.prune` computes for the same weights. The visible checks below test
# global pruning of three layers of different sizes and scales, and per-layer pruning of the
# same layers. The grader also runs hidden checks of the same kind: the exact number of pruned
# weights for many sizes and amounts (including $0$, $1$ and amounts where $a \cdot n$ ends in
# $.5$), that every kept weight is at least as large in magnitude as every pruned one, more
# layer shapes (convolution weights, single weights) compared with torch, the `ValueError`, and
# that your functions leave their inputs unchanged.

# %% setup id=setup off-limits=trainart.regularize.pruning
import numpy as np
import torch
from torch.nn.utils import prune

from trainart.grading.checks import check


def _holder(weight):
    """A module holding one float64 weight, for torch.nn.utils.prune."""
    module = torch.nn.Module()
    module.weight = torch.nn.Parameter(torch.tensor(weight, dtype=torch.float64))
    return module


def torch_masks(weights, amount, how):
    """The masks torch.nn.utils.prune computes: how is "global" or "layerwise"."""
    modules = [_holder(w) for w in weights]
    if how == "global":
        prune.global_unstructured([(m, "weight") for m in modules],
                                  pruning_method=prune.L1Unstructured, amount=amount)
    else:
        for m in modules:
            prune.l1_unstructured(m, "weight", amount=amount)
    return [m.weight_mask.numpy().copy() for m in modules]


def as_masks(c, result, weights, function):
    """The masks as float arrays, failing check c unless there is one 0/1 mask per weight."""
    c.true(isinstance(result, (list, tuple)) and len(result) == len(weights),
           f"{function} must return a list with one mask per weight ({len(weights)} here)")
    masks = []
    for i, (mask, w) in enumerate(zip(result, weights)):
        c.true(np.shape(mask) == np.shape(w),
               f"{function}: mask {i} has shape {np.shape(mask)}, its weight {np.shape(w)}")
        mask = np.asarray(mask, dtype=np.float64)
        c.true(np.all((mask == 0) | (mask == 1)), f"{function}: mask {i} holds values other "
                                                  f"than 0 and 1")
        masks.append(mask)
    return masks


def seeded_layers(seed, shapes, scales):
    """Seeded weights: normal, each layer with its own scale (no ties in magnitude)."""
    rng = np.random.default_rng(seed)
    return [s * rng.standard_normal(shape) for shape, s in zip(shapes, scales)]


# %% solution id=global_magnitude_masks
def global_magnitude_masks(weights, amount):
    """0/1 masks that prune round(amount * n) weights of smallest |w| over all layers."""
    ### BEGIN SOLUTION
    if not 0.0 <= amount <= 1.0:
        raise ValueError(f"global_magnitude_masks: amount must be in [0, 1], got {amount!r}")
    magnitudes = np.concatenate([np.abs(np.asarray(w, dtype=np.float64)).ravel()
                                 for w in weights])
    k = round(amount * magnitudes.size)
    flat = np.ones(magnitudes.size)
    flat[np.argsort(magnitudes, kind="stable")[:k]] = 0.0
    masks, start = [], 0
    for w in weights:
        size = np.size(w)
        masks.append(flat[start:start + size].reshape(np.shape(w)))
        start += size
    return masks
    ### END SOLUTION


# %% solution id=layerwise_magnitude_masks
def layerwise_magnitude_masks(weights, amount):
    """0/1 masks that prune round(amount * n_layer) weights of smallest |w| in every layer."""
    ### BEGIN SOLUTION
    if not 0.0 <= amount <= 1.0:
        raise ValueError(f"layerwise_magnitude_masks: amount must be in [0, 1], got {amount!r}")
    return [global_magnitude_masks([w], amount)[0] for w in weights]
    ### END SOLUTION


# %% check id=global_matches_torch points=3
with check("global masks for three layers match prune.global_unstructured (L1Unstructured)") as c:
    shapes, scales = [(20, 30), (30, 10), (10, 4)], [0.1, 1.0, 3.0]
    weights = seeded_layers(101, shapes, scales)
    for amount in (0.2, 0.5, 0.9):
        masks = as_masks(c, global_magnitude_masks([w.copy() for w in weights], amount),
                         weights, "global_magnitude_masks")
        for i, (mask, expected) in enumerate(zip(masks, torch_masks(weights, amount, "global"))):
            c.true(np.array_equal(mask, expected),
                   f"amount={amount}: mask {i} (shape {shapes[i]}) differs from torch's in "
                   f"{int((mask != expected).sum())} entries")

# %% check id=layerwise_matches_torch points=2
with check("per-layer masks for the same layers match prune.l1_unstructured") as c:
    shapes, scales = [(20, 30), (30, 10), (10, 4)], [0.1, 1.0, 3.0]
    weights = seeded_layers(102, shapes, scales)
    for amount in (0.2, 0.5, 0.9):
        masks = as_masks(c, layerwise_magnitude_masks([w.copy() for w in weights], amount),
                         weights, "layerwise_magnitude_masks")
        expected_masks = torch_masks(weights, amount, "layerwise")
        for i, (mask, expected) in enumerate(zip(masks, expected_masks)):
            c.true(np.array_equal(mask, expected),
                   f"amount={amount}: mask {i} (shape {shapes[i]}) differs from torch's in "
                   f"{int((mask != expected).sum())} entries")

# %% check id=exact_counts points=2 hidden
with check("the number pruned is round(amount * n); kept weights are never smaller") as c:
    rng = np.random.default_rng(103)
    cases = [([(10,)], 0.25), ([(4, 3)], 0.375), ([(3, 3), (2, 2)], 0.5), ([(7,), (3, 5)], 0.15),
             ([(5, 5)], 0.0), ([(5, 5), (2,)], 1.0), ([(6,), (6,)], 0.125), ([(50, 20)], 0.333)]
    for shapes, amount in cases:
        weights = [rng.standard_normal(s) * rng.uniform(0.1, 2.0) for s in shapes]
        n = sum(w.size for w in weights)
        for function in (global_magnitude_masks, layerwise_magnitude_masks):
            name = function.__name__
            masks = as_masks(c, function([w.copy() for w in weights], amount), weights, name)
            if function is global_magnitude_masks:
                pruned = sum(int((m == 0).sum()) for m in masks)
                c.true(pruned == round(amount * n),
                       f"{name}: {pruned} weights pruned of n={n} with amount={amount}; "
                       f"round(amount * n) = {round(amount * n)} should be (Python's round: "
                       f"halves to even)")
                groups = [(np.concatenate([w.ravel() for w in weights]),
                           np.concatenate([m.ravel() for m in masks]))]
            else:
                for w, m in zip(weights, masks):
                    c.true(int((m == 0).sum()) == round(amount * w.size),
                           f"{name}: {int((m == 0).sum())} weights pruned of a layer of "
                           f"{w.size} with amount={amount}; round(amount * n) = "
                           f"{round(amount * w.size)} should be (halves round to even)")
                groups = [(w.ravel(), m.ravel()) for w, m in zip(weights, masks)]
            for w, m in groups:
                if 0 < (m == 0).sum() < m.size:
                    c.true(np.abs(w[m == 1]).min() >= np.abs(w[m == 0]).max(),
                           f"{name}, amount={amount}: a kept weight is smaller in magnitude "
                           f"than a pruned one")

# %% check id=more_shapes points=2 hidden
with check("global and per-layer masks match torch for conv, bias-like and mixed shapes") as c:
    cases = [([(8, 3, 3, 3), (16, 8, 3, 3), (10, 64)], [0.5, 0.05, 0.3], 0.6),
             ([(1, 1), (5,), (2, 3, 4)], [1.0, 2.0, 0.5], 0.4),
             ([(12, 7)], [1.0], 0.77),
             ([(3, 4), (4, 3), (3, 4)], [1.0, 1.0, 1.0], 0.01)]
    for seed, (shapes, scales, amount) in enumerate(cases, start=104):
        weights = seeded_layers(seed, shapes, scales)
        for function, how in ((global_magnitude_masks, "global"),
                              (layerwise_magnitude_masks, "layerwise")):
            masks = as_masks(c, function([w.copy() for w in weights], amount), weights,
                             function.__name__)
            for i, (mask, expected) in enumerate(zip(masks, torch_masks(weights, amount, how))):
                c.true(np.array_equal(mask, expected),
                       f"{function.__name__}, amount={amount}: mask {i} (shape {shapes[i]}) "
                       f"differs from torch's in {int((mask != expected).sum())} entries")

# %% check id=bad_amount_and_inputs points=1 hidden
with check("ValueError for amount outside [0, 1]; the weights given are left unchanged") as c:
    weights = seeded_layers(110, [(4, 5), (6,)], [1.0, 0.3])
    given = list(weights)
    kept = [w.copy() for w in weights]
    for function in (global_magnitude_masks, layerwise_magnitude_masks):
        name = function.__name__
        as_masks(c, function(given, 0.5), weights, name)
        c.true(len(given) == len(weights) and all(a is b for a, b in zip(given, weights)),
               f"{name} changed the list it was given")
        for i, (now, before) in enumerate(zip(weights, kept)):
            c.true(np.array_equal(now, before),
                   f"{name} changed weights[{i}] in place; build the masks in new arrays")
        for amount in (-0.1, 1.5):
            try:
                function([w.copy() for w in weights], amount)
            except ValueError:
                continue
            c.true(False, f"{name}(weights, amount={amount}) returned instead of raising "
                          f"ValueError")
