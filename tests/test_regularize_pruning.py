"""Magnitude pruning (trainart.regularize.pruning) against torch.nn.utils.prune.

Masks equal torch's ``global_unstructured(L1Unstructured)`` and per-layer
``l1_unstructured`` for several amounts (including ones where ``amount * n`` ends in .5,
which both round the same way: Python's ``round``); continuous random weights rule out ties.
Properties: the sparsity asked for is hit exactly, masks survive training through
``mask_hook``, iterative pruning stops at the floor and restores the last good model.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
import torch.nn.utils.prune as prune
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from trainart.data import Dataset
from trainart.models import mlp, train_classifier
from trainart.regularize import (
    apply_masks_,
    iterative_pruning,
    magnitude_masks,
    mask_hook,
    sparsity,
    weight_params,
)

# Linear(5, 3) has 15 weights: amount 0.3 -> 4.5 -> 4 and 0.5 -> 7.5 -> 8 (round half even)
SIZES = [5, 3, 7, 4]
N_W = 5 * 3 + 3 * 7 + 7 * 4  # weights of mlp(SIZES)
AMOUNTS = [0.0, 0.1, 0.3, 0.5, 0.77, 0.9, 1.0]


def _model(seed=0):
    return mlp(SIZES, seed=seed).double()


def _linears(model):
    return [m for m in model if isinstance(m, nn.Linear)]


@pytest.mark.parametrize("amount", AMOUNTS)
def test_global_masks_equal_torch_global_unstructured(amount):
    model = _model()
    ours = magnitude_masks(model, amount, scope="global")
    ref = copy.deepcopy(model)
    prune.global_unstructured([(m, "weight") for m in _linears(ref)],
                              pruning_method=prune.L1Unstructured, amount=amount)
    for m, t in zip(ours, [m.weight_mask for m in _linears(ref)]):
        assert m.dtype == torch.float64
        torch.testing.assert_close(m, t, rtol=0, atol=0)
    n = sum(w.numel() for w in weight_params(model))
    assert sum(int((m == 0).sum()) for m in ours) == round(amount * n)


@pytest.mark.parametrize("amount", AMOUNTS)
def test_layer_masks_equal_torch_l1_unstructured(amount):
    model = _model(1)
    ours = magnitude_masks(model, amount, scope="layer")
    ref = copy.deepcopy(model)
    for m in _linears(ref):
        prune.l1_unstructured(m, "weight", amount=amount)
    for m, layer in zip(ours, _linears(ref)):
        torch.testing.assert_close(m, layer.weight_mask, rtol=0, atol=0)
        assert int((m == 0).sum()) == round(amount * layer.weight.numel())


def test_round_half_to_even_like_torch():
    layer = nn.Linear(5, 3).double()  # 15 weights
    for amount, k in [(0.3, 4), (0.5, 8), (0.1, 2)]:  # 4.5 -> 4, 7.5 -> 8, 1.5 -> 2
        masks = magnitude_masks([layer.weight], amount)
        assert int((masks[0] == 0).sum()) == k
        ref = copy.deepcopy(layer)
        prune.l1_unstructured(ref, "weight", amount=amount)
        assert int((ref.weight_mask == 0).sum()) == k


def test_numpy_and_tensor_inputs_give_the_same_masks_and_pruning():
    model = _model(2)
    arrays = [w.detach().numpy().copy() for w in weight_params(model)]
    for scope in ("global", "layer"):
        m_np = magnitude_masks(arrays, 0.6, scope)
        m_t = magnitude_masks(model, 0.6, scope)
        for a, b in zip(m_np, m_t):
            assert isinstance(a, np.ndarray) and a.dtype == np.float64
            np.testing.assert_array_equal(a, b.numpy())
    masks = magnitude_masks(arrays, 0.6)
    apply_masks_(arrays, masks)
    apply_masks_(model, magnitude_masks(model, 0.6))
    for a, w in zip(arrays, weight_params(model)):
        np.testing.assert_array_equal(a, w.detach().numpy())
    assert sparsity(arrays) == sparsity(model) == round(0.6 * N_W) / N_W
    # biases are not pruned
    assert all(bool((m.bias != 0).all()) for m in _linears(model))


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 9), st.integers(1, 9)), min_size=1, max_size=4),
       st.floats(0, 1), st.integers(0, 2**16))
def test_the_asked_sparsity_is_hit_exactly(shapes, amount, seed):
    rng = np.random.default_rng(seed)
    params = [rng.normal(size=s) for s in shapes]  # continuous: no ties, no zeros
    n = sum(p.size for p in params)
    glob = magnitude_masks(params, amount, "global")
    assert sum(int(np.sum(m == 0)) for m in glob) == round(amount * n)
    # the pruned weights are exactly the smallest ones
    kept = np.concatenate([np.abs(p[m == 1]) for p, m in zip(params, glob)])
    gone = np.concatenate([np.abs(p[m == 0]) for p, m in zip(params, glob)])
    if kept.size and gone.size:
        assert gone.max() < kept.min()
    for p, m in zip(params, magnitude_masks(params, amount, "layer")):
        assert int(np.sum(m == 0)) == round(amount * p.size)
        assert set(np.unique(m)) <= {0.0, 1.0}


def test_pruning_a_pruned_model_keeps_its_zeros():
    model = _model(3)
    apply_masks_(model, magnitude_masks(model, 0.4))
    zeros_before = [w == 0 for w in weight_params(model)]
    apply_masks_(model, magnitude_masks(model, 0.7))
    for z, w in zip(zeros_before, weight_params(model)):
        assert bool((w[z] == 0).all())
    assert sparsity(model) == round(0.7 * N_W) / N_W


def _data(seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(300, 5)).astype(np.float32)
    y = ((X[:, 0] > 0).astype(np.int64) + (X[:, 1] + X[:, 2] > 0)).astype(np.int64)
    return Dataset(X[:240], y[:240], X[240:], y[240:])


def test_mask_hook_keeps_pruned_weights_zero_through_momentum_and_weight_decay():
    data = _data()
    model = mlp(SIZES, seed=0)
    masks = magnitude_masks(model, 0.5)
    apply_masks_(model, masks)
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-3)
    train_classifier(model, opt, data, epochs=3, batch_size=32, eval_test=False,
                     after_step=mask_hook(model, masks))
    assert sparsity(model) == round(0.5 * N_W) / N_W
    for m, w in zip(masks, weight_params(model)):
        assert bool((w[m == 0] == 0).all()) and bool((w[m == 1] != 0).all())
    # without the hook momentum revives them
    revived = mlp(SIZES, seed=0)
    apply_masks_(revived, masks)
    opt = torch.optim.SGD(revived.parameters(), lr=0.1, momentum=0.9)
    train_classifier(revived, opt, data, epochs=1, batch_size=32, eval_test=False)
    assert sparsity(revived) < 0.1


def test_iterative_pruning_stops_at_the_floor_and_restores_the_last_good_model():
    model = _model(4)
    states = []

    def retrain(m, after_step):
        with torch.no_grad():  # a fake "training" that moves every weight
            for p in m.parameters():
                p.mul_(1.01)
        after_step(m)
        states.append(copy.deepcopy(m.state_dict()))

    rounds = iterative_pruning(model, retrain, lambda m: 1.0 - sparsity(m),
                               ratios=[0.2, 0.4, 0.6, 0.8], floor=0.5)
    assert [r["kept"] for r in rounds] == [True, True, False]
    assert [r["ratio"] for r in rounds] == [0.2, 0.4, 0.6]
    np.testing.assert_allclose([r["sparsity"] for r in rounds],
                               [round(r * N_W) / N_W for r in (0.2, 0.4, 0.6)])
    assert sparsity(model) == round(0.4 * N_W) / N_W
    for k, v in model.state_dict().items():  # exactly the model after round 1's retraining
        assert torch.equal(v, states[1][k])


@settings(max_examples=30, deadline=None)
@given(st.lists(st.floats(0, 1), min_size=1, max_size=6), st.floats(0, 1))
def test_iterative_pruning_keeps_the_sparsest_model_above_the_floor(ratios, floor):
    ratios = sorted(ratios)
    model = _model(6)
    rounds = iterative_pruning(model, None, lambda m: 1.0 - sparsity(m), ratios, floor)
    kept = [r["kept"] for r in rounds]
    assert kept == [1.0 - r["sparsity"] >= floor for r in rounds]
    assert all(kept[:-1])  # it stops at the first round below the floor
    assert len(rounds) == len(ratios) or not kept[-1]
    held = [r["sparsity"] for r in rounds if r["kept"]]
    assert sparsity(model) == (held[-1] if held else 0.0)


def test_iterative_pruning_restores_the_unpruned_model_if_the_first_round_fails():
    model = _model(5)
    start = copy.deepcopy(model.state_dict())
    rounds = iterative_pruning(model, None, lambda m: 0.0, ratios=[0.5, 0.9], floor=0.5)
    assert len(rounds) == 1 and not rounds[0]["kept"]
    for k, v in model.state_dict().items():
        assert torch.equal(v, start[k])


def test_iterative_pruning_with_real_retraining_keeps_accuracy_at_moderate_sparsity():
    data = _data(1)
    model = mlp([5, 32, 3], seed=0)
    train_classifier(model, torch.optim.Adam(model.parameters(), lr=1e-2), data, epochs=10,
                     batch_size=32, eval_test=False)
    X_val, y_val = torch.from_numpy(data.X_test), torch.from_numpy(data.y_test)

    def evaluate(m):
        with torch.no_grad():
            return float((m(X_val).argmax(1) == y_val).float().mean())

    def retrain(m, after_step):
        train_classifier(m, torch.optim.Adam(m.parameters(), lr=5e-3), data, epochs=2,
                         batch_size=32, eval_test=False, after_step=after_step)

    base = evaluate(model)
    rounds = iterative_pruning(model, retrain, evaluate, ratios=[0.5, 0.8, 0.9, 0.995],
                               floor=base - 0.05)
    # half the weights go at no cost; 80% is too many for this small net: it stops there
    assert [(r["ratio"], r["kept"]) for r in rounds] == [(0.5, True), (0.8, False)]
    assert rounds[0]["accuracy"] >= base - 0.05 > rounds[1]["accuracy"]
    assert sparsity(model) == rounds[0]["sparsity"] == 0.5
    assert evaluate(model) == rounds[0]["accuracy"]


@pytest.mark.parametrize("call, match", [
    (lambda: magnitude_masks(_model(), 1.5), "magnitude_masks: amount must be a fraction"),
    (lambda: magnitude_masks(_model(), -0.1), "magnitude_masks: amount"),
    (lambda: magnitude_masks(_model(), 0.5, scope="row"), "magnitude_masks: scope"),
    (lambda: magnitude_masks(nn.ReLU(), 0.5), "magnitude_masks: the model has no weights"),
    (lambda: apply_masks_(_model(), [torch.ones(3, 5)]), "apply_masks_: masks must hold"),
    (lambda: apply_masks_(_model(), [torch.ones(5, 3), torch.ones(4, 7), torch.ones(7, 3)]),
     "apply_masks_: masks\\[0\\] must have shape"),
    (lambda: mask_hook(_model(), []), "mask_hook: masks"),
    (lambda: iterative_pruning(_model(), None, lambda m: 1.0, [0.5, 0.2], 0.5),
     "iterative_pruning: ratios must be non-decreasing"),
    (lambda: iterative_pruning(_model(), None, lambda m: 1.0, [], 0.5),
     "iterative_pruning: ratios must hold"),
    (lambda: iterative_pruning(_model(), None, lambda m: 1.0, [1.2], 0.5),
     "iterative_pruning: amount"),
])
def test_bad_arguments_raise_value_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_bad_types_raise_type_errors():
    with pytest.raises(TypeError, match="magnitude_masks: amount"):
        magnitude_masks(_model(), True)
    with pytest.raises(TypeError, match="mask_hook: model"):
        mask_hook([torch.ones(2, 2)], [torch.ones(2, 2)])
    with pytest.raises(TypeError, match="iterative_pruning: evaluate"):
        iterative_pruning(_model(), None, 0.5, [0.5], 0.5)
