"""Tests of trainart.diagnostics: layer statistics on hand-built arrays, the NumPy MLP and
its torch twin giving the same numbers, hooks and gradients left clean, the textbook
pathologies (saturated tanh, vanishing activations, dead ReLUs), the update:data ratio, and
figures and tables. (conftest.py selects the Agg backend.)"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from torch import nn

from trainart import diagnostics as D
from trainart import optim
from trainart.nn import MLP


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _batch(seed=0, n=64, d=20, C=5):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, d)), rng.integers(0, C, n)


# ---------------------------------------------------------------------------------------
# layer_stats
# ---------------------------------------------------------------------------------------


def test_layer_stats_tanh_and_sigmoid_saturation():
    tanh_layer = np.array([[0.99, -0.98, 0.5, 0.0], [-0.999, 0.97, -0.2, 0.1]])
    sig_layer = np.array([[0.01, 0.99, 0.5, 0.97], [0.03, 0.02, 0.6, 0.98]])
    (t,) = D.layer_stats([tanh_layer], "tanh")
    assert t["layer"] == 1
    assert t["saturated"] == 3 / 8  # 0.97 itself is not beyond the threshold
    assert t["mean"] == pytest.approx(tanh_layer.mean(), abs=1e-15)
    assert t["std"] == pytest.approx(np.sqrt(np.mean((tanh_layer - tanh_layer.mean())**2)),
                                     rel=1e-14)
    assert t["zero"] is None and t["dead"] is None
    (s,) = D.layer_stats([sig_layer], "sigmoid")
    assert s["saturated"] == 4 / 8  # 0.01, 0.99, 0.02, 0.98
    assert s["zero"] is None and s["dead"] is None


def test_layer_stats_relu_zero_and_dead_units():
    a = np.array([[0.0, 1.0, 0.0, 2.0],
                  [0.0, 0.0, 0.0, 3.0],
                  [0.0, 0.5, 4.0, 0.0]])
    b = np.ones((3, 2))
    stats = D.layer_stats([a, b], "relu")
    assert [s["layer"] for s in stats] == [1, 2]
    assert stats[0]["zero"] == 7 / 12
    assert stats[0]["dead"] == 1 / 4  # only the first unit is 0 for every example
    assert stats[0]["mean"] == pytest.approx(10.5 / 12, rel=1e-14)
    assert stats[0]["saturated"] is None
    assert stats[1] == {"layer": 2, "mean": 1.0, "std": 0.0, "saturated": None, "zero": 0.0,
                        "dead": 0.0}


def test_layer_stats_without_activation_and_per_layer_names():
    g = np.array([[2.0, -2.0], [2.0, -2.0]])
    (s,) = D.layer_stats([g])
    assert s == {"layer": 1, "mean": 0.0, "std": 2.0, "saturated": None, "zero": None,
                 "dead": None}
    mixed = D.layer_stats([np.full((2, 2), 0.99), np.zeros((2, 2))], ["tanh", "relu"])
    assert mixed[0]["saturated"] == 1.0 and mixed[1]["dead"] == 1.0
    tensors = D.layer_stats([torch.tensor(g, requires_grad=True)])
    assert tensors == [s]


def test_layer_stats_bad_input_raises():
    with pytest.raises(ValueError, match="layer_stats: activation"):
        D.layer_stats([np.zeros((2, 2))], "swish")
    with pytest.raises(ValueError, match="layer_stats: got 2 activation names"):
        D.layer_stats([np.zeros((2, 2))], ["tanh", "relu"])
    with pytest.raises(TypeError, match="layer_stats: values"):
        D.layer_stats(np.zeros((2, 2)))
    with pytest.raises(ValueError, match="layer_stats: values\\[0\\] is empty"):
        D.layer_stats([np.zeros((0, 3))])


# ---------------------------------------------------------------------------------------
# mlp_stats and torch_stats
# ---------------------------------------------------------------------------------------


def _assert_stats_equal(a: dict, b: dict, tol=1e-10):
    assert a["loss"] == pytest.approx(b["loss"], rel=1e-12)
    for key in ("activations", "gradients", "weight_grads"):
        assert len(a[key]) == len(b[key]) > 0, key
        for ra, rb in zip(a[key], b[key]):
            assert ra.keys() == rb.keys()
            for k in ra:
                if k == "name":
                    continue
                if isinstance(ra[k], float):
                    assert ra[k] == pytest.approx(rb[k], rel=tol, abs=1e-15), (key, k)
                else:
                    assert ra[k] == rb[k], (key, k)


@pytest.mark.parametrize("activation", ["tanh", "relu", "sigmoid", "gelu"])
def test_mlp_stats_and_torch_stats_agree(activation):
    X, y = _batch()
    net = MLP([20, 32, 32, 16, 5], activation=activation, init="xavier_normal", seed=3)
    for b in net.biases:
        b[:] = 0.1
    model = net.to_torch()
    s_np, s_t = D.mlp_stats(net, X, y), D.torch_stats(model, X, y)
    _assert_stats_equal(s_np, s_t)
    assert [r["layer"] for r in s_np["activations"]] == [1, 2, 3]
    assert [r["name"] for r in s_np["weight_grads"]] == [
        "layer1.weight", "layer2.weight", "layer3.weight", "layer4.weight"]
    assert [r["name"] for r in s_t["weight_grads"]] == ["0.weight", "2.weight", "4.weight",
                                                        "6.weight"]
    assert s_np["weight_grads"][0]["shape"] == (32, 20)
    expected = np.std(net.loss_and_grads(X, y)[1][0]) / np.std(net.weights[0])
    assert s_np["weight_grads"][0]["grad_data_ratio"] == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_mlp_stats_of_a_batchnorm_network_equal_torch_stats_of_its_twin(activation):
    """The composed MLP with batch norm (eval mode, so dropout is off and the twin computes
    the same): the same activations, gradients and weight statistics as torch's hooks."""
    X, y = _batch(2)
    net = MLP([20, 32, 16, 5], activation=activation, init="xavier_normal", seed=5,
              batchnorm=True, dropout=0.2)
    net.train()
    net.forward(X)  # running statistics away from (0, 1)
    net.eval()
    model = net.to_torch()
    assert not model.training
    s_np, s_t = D.mlp_stats(net, X, y), D.torch_stats(model, X, y)
    _assert_stats_equal(s_np, s_t)
    assert [r["name"] for r in s_np["weight_grads"]] == [
        "layer1.weight", "layer2.weight", "layer3.weight"]


def test_torch_values_equal_retain_grad_and_leave_the_model_clean():
    X, y = _batch(1)
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(20, 16), nn.Tanh(), nn.Linear(16, 16), nn.ReLU(),
                          nn.Linear(16, 5)).double()
    v = D.torch_values(model, X, y)
    # every hook is gone, and no gradient was written
    assert all(not m._forward_hooks for m in model.modules())
    assert all(p.grad is None for p in model.parameters())
    assert v["activation_names"] == ["tanh", "relu"]

    # the reference: retain_grad on the activation outputs, then backward
    h1 = model[1](model[0](torch.tensor(X)))
    h1.retain_grad()
    h2 = model[3](model[2](h1))
    h2.retain_grad()
    loss = nn.functional.cross_entropy(model[4](h2), torch.tensor(y))
    loss.backward()
    assert v["loss"] == pytest.approx(loss.item(), rel=1e-14)
    for got, ref in zip(v["activations"], (h1, h2)):
        np.testing.assert_allclose(got, ref.detach().numpy(), rtol=1e-14)
    for got, ref in zip(v["gradients"], (h1, h2)):
        np.testing.assert_allclose(got, ref.grad.numpy(), rtol=1e-12, atol=1e-16)
    weights = [p for p in model.parameters() if p.ndim == 2]
    for got, p in zip(v["weight_grads"], weights):
        np.testing.assert_allclose(got, p.grad.numpy(), rtol=1e-12, atol=1e-16)

    # existing gradients are left exactly as they were
    before = [p.grad.clone() for p in model.parameters()]
    D.torch_stats(model, X, y)
    for p, g in zip(model.parameters(), before):
        assert torch.equal(p.grad, g)


def test_torch_stats_removes_hooks_when_the_loss_fails_and_frozen_models_work():
    X, y = _batch(2)
    model = nn.Sequential(nn.Linear(20, 8), nn.ReLU(), nn.Linear(8, 5)).double()

    def broken(out, target):
        raise RuntimeError("loss failed")

    with pytest.raises(RuntimeError, match="loss failed"):
        D.torch_stats(model, X, y, loss_fn=broken)
    assert all(not m._forward_hooks for m in model.modules())
    for p in model.parameters():
        p.requires_grad_(False)
    stats = D.torch_stats(model, X, y)  # activation gradients still flow
    assert stats["gradients"][0]["std"] > 0 and stats["weight_grads"] == []
    mse = D.torch_stats(model, X, np.zeros((64, 5)),
                        loss_fn=lambda out, t: ((out - t) ** 2).mean())
    assert mse["loss"] > 0
    with pytest.raises(TypeError, match="torch_values: model"):
        D.torch_stats(MLP([20, 5]), X, y)
    with pytest.raises(TypeError, match="mlp_stats: mlp"):
        D.mlp_stats(model, X, y)


def test_tanh_saturates_with_huge_init_and_collapses_with_tiny_init():
    X, y = _batch(3, n=200, d=100, C=10)
    sizes = [100] + [100] * 6 + [10]
    huge = D.mlp_stats(MLP(sizes, activation="tanh", init=3.0, seed=0), X, y)
    sat = [r["saturated"] for r in huge["activations"]]
    assert all(s > 0.9 for s in sat[1:]), sat
    tiny = D.mlp_stats(MLP(sizes, activation="tanh", init=0.01, seed=0), X, y)
    stds = [r["std"] for r in tiny["activations"]]
    assert all(b < 0.2 * a for a, b in zip(stds, stds[1:])), stds  # shrinks every layer
    assert stds[-1] < 1e-6
    good = D.mlp_stats(MLP(sizes, activation="tanh", init="xavier_normal",
                           init_kwargs={"gain": 5 / 3}, seed=0), X, y)
    assert all(0.3 < r["std"] < 0.9 for r in good["activations"])
    assert all(r["saturated"] < 0.1 for r in good["activations"][1:])


def test_relu_with_large_negative_bias_is_dead():
    X, y = _batch(4)
    net = MLP([20, 30, 30, 5], activation="relu", seed=0)
    net.biases[0][:] = -100.0
    stats = D.mlp_stats(net, X, y)
    first = stats["activations"][0]
    assert first["dead"] == 1.0 and first["zero"] == 1.0
    assert stats["weight_grads"][0]["std"] == 0.0  # no gradient reaches the first layer
    assert stats["activations"][1]["dead"] == 1.0  # zero input -> zero bias -> zero output
    healthy = D.mlp_stats(MLP([20, 30, 30, 5], activation="relu", seed=0), X, y)
    assert healthy["activations"][0]["dead"] < 0.2
    assert 0.3 < healthy["activations"][0]["zero"] < 0.7


# ---------------------------------------------------------------------------------------
# format_stats
# ---------------------------------------------------------------------------------------


def test_format_stats_table():
    stats = {
        "loss": 2.30258,
        "activations": D.layer_stats([np.array([[0.99, -0.2], [0.1, -0.5]])], "tanh"),
        "gradients": [{"layer": 1, "mean": -1e-9, "std": 2.3456e-4, "saturated": None,
                       "zero": None, "dead": None},
                      {"layer": 2, "mean": 3.21e-5, "std": 2.3456e-4, "saturated": None,
                       "zero": None, "dead": None}],
        "weight_grads": [{"layer": 1, "name": "layer1.weight", "shape": (3, 2),
                          "mean": 1e-6, "std": 0.01234, "grad_data_ratio": 0.5}],
    }
    text = D.format_stats(stats)
    assert text == (
        "loss 2.303\n"
        "\n"
        "activations\n"
        "layer   mean    std  saturated\n"
        "    1  0.098  0.557      0.250\n"
        "\n"
        "gradients dL/dh\n"
        "layer       mean        std\n"
        "    1      0.000  2.346e-04\n"   # a mean far below the std's resolution is noise
        "    2  3.210e-05  2.346e-04\n"
        "\n"
        "weight gradients\n"
        "layer  name           shape   mean        std  grad:data\n"
        "    1  layer1.weight    3x2  0.000  1.234e-02      0.500"
    )
    assert D.format_stats(stats["activations"]).splitlines()[0] == (
        "layer   mean    std  saturated")
    assert "-0.000" not in D.format_stats(
        [{"layer": 1, "mean": -1e-5, "std": 0.5, "saturated": None}])
    with pytest.raises(TypeError, match="format_stats"):
        D.format_stats("stats")
    with pytest.raises(ValueError, match="format_stats"):
        D.format_stats({"loss": 1.0})


def test_format_stats_is_deterministic_for_a_network():
    X, y = _batch(5)
    net = MLP([20, 16, 16, 5], activation="tanh", init="xavier_normal", seed=1)
    a = D.format_stats(D.mlp_stats(net, X, y))
    b = D.format_stats(D.mlp_stats(MLP([20, 16, 16, 5], activation="tanh",
                                       init="xavier_normal", seed=1), X, y))
    assert a == b
    lines = a.splitlines()
    assert "activations" in lines and "weight gradients" in lines
    table = lines[lines.index("activations") + 1:lines.index("activations") + 4]
    assert len({len(line) for line in table}) == 1  # fixed width


# ---------------------------------------------------------------------------------------
# UpdateRatioTracker
# ---------------------------------------------------------------------------------------


def test_update_ratio_equals_lr_times_gradient_scale():
    rng = np.random.default_rng(0)
    W = rng.standard_normal((50, 40)) * 0.5
    b = np.zeros(50)
    g = rng.standard_normal((50, 40)) * 0.02
    lr = 0.1
    tracker = D.UpdateRatioTracker([W, b], ["w", "b"])
    assert tracker.names == ["w"]  # the bias is skipped
    w0 = W.copy()
    opt = optim.SGD([W, b], lr=lr)
    opt.step([g, np.zeros(50)])
    step = tracker.record()
    expected = np.log10(lr * g.std() / w0.std())
    assert step["w"] == pytest.approx(expected, rel=1e-12)
    assert tracker.history == {"w": [step["w"]]}
    # with an explicit snapshot taken just before the step
    before = tracker.snapshot()
    w1 = W.copy()
    opt.step([g, np.zeros(50)])
    tracker.record(before)
    assert tracker.history["w"][1] == pytest.approx(np.log10(lr * g.std() / w1.std()),
                                                    rel=1e-12)
    # one entry per constructor parameter is accepted too
    w2 = W.copy()
    opt.step([g, np.zeros(50)])
    tracker.record([w2, b.copy()])
    assert tracker.history["w"][2] == pytest.approx(np.log10(lr * g.std() / w2.std()),
                                                    rel=1e-12)
    # the default compares with the copy kept at the previous record()
    w3 = W.copy()
    opt.step([g, np.zeros(50)])
    tracker.record()
    assert tracker.history["w"][3] == pytest.approx(np.log10(lr * g.std() / w3.std()),
                                                    rel=1e-12)
    assert len(tracker.history["w"]) == 4


def test_update_ratio_with_torch_parameters_and_zero_weights():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(8, 6), nn.ReLU(), nn.Linear(6, 2)).double()
    tracker = D.UpdateRatioTracker(model.named_parameters())
    assert tracker.names == ["0.weight", "2.weight"]
    w0 = model[0].weight.detach().clone()
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    model(torch.ones(3, 8, dtype=torch.float64)).sum().backward()
    opt.step()
    step = tracker.record()
    delta = (model[0].weight.detach() - w0).std(unbiased=False) / w0.std(unbiased=False)
    assert step["0.weight"] == pytest.approx(np.log10(delta.item()), rel=1e-10)
    zero = np.zeros((3, 3))
    with np.errstate(all="raise"):  # an undefined ratio is recorded without a warning
        z = D.UpdateRatioTracker({"zero": zero})
        zero += np.arange(9.0).reshape(3, 3)
        assert z.record()["zero"] == np.inf
    with pytest.raises(ValueError, match="UpdateRatioTracker: no parameter"):
        D.UpdateRatioTracker([np.zeros(3)])
    with pytest.raises(ValueError, match="UpdateRatioTracker.record: before"):
        tracker.record([np.zeros((6, 8))])
    with pytest.raises(ValueError, match="UpdateRatioTracker: got 1 names"):
        D.UpdateRatioTracker([np.zeros((2, 2)), np.zeros((2, 2))], names=["a"])


# ---------------------------------------------------------------------------------------
# figures
# ---------------------------------------------------------------------------------------


def test_plot_histograms_labels_and_legend():
    X, y = _batch(6)
    net = MLP([20, 30, 30, 5], activation="tanh", init=0.5, seed=0)
    net.loss_and_grads(X, y)
    ax = D.plot_histograms(net.activations, activation="tanh")
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    stats = D.layer_stats(net.activations, "tanh")
    assert labels[0] == (f"layer 1: std {stats[0]['std']:.2f}, "
                         f"sat {100 * stats[0]['saturated']:.1f} %")
    assert len(labels) == 2 and len(ax.get_lines()) == 2
    assert ax.get_xlabel() == "activation" and ax.get_ylabel() == "density"
    assert ax.get_title() == "Activation distribution per layer"
    _, ax2 = plt.subplots()
    tiny = [1e-3 * g for g in net.activation_grads]
    out = D.plot_histograms(tiny, ax=ax2, xlabel="gradient", title="grads", bins=20)
    assert out is ax2 and ax2.get_title() == "grads"
    assert ax2.get_legend().get_texts()[0].get_text().startswith("layer 1: std ")
    assert "e-" in ax2.get_legend().get_texts()[0].get_text()  # tiny stds in e-notation
    assert len(ax2.get_lines()[0].get_xdata()) == 20
    relu = D.plot_histograms([np.maximum(X, 0), np.full((3, 2), np.nan)], activation="relu")
    texts = [t.get_text() for t in relu.get_legend().get_texts()]
    assert "zero" in texts[0] and texts[1] == "layer 2: no finite values"
    with pytest.raises(ValueError, match="plot_histograms: bins"):
        D.plot_histograms(net.activations, bins=0)


def test_update_ratio_plot_has_guide_and_labels():
    net = MLP([10, 8, 3], seed=0)
    tracker = D.UpdateRatioTracker(net.params, net.names)
    opt = optim.Adam(net.params, lr=1e-3)
    X, y = _batch(7, n=32, d=10, C=3)
    for _ in range(5):
        opt.step(net.loss_and_grads(X, y)[1])
        tracker.record()
    ax = tracker.plot()
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["layer1.weight", "layer2.weight", "1e-3 guide"]
    guide = ax.get_lines()[-1]
    assert list(guide.get_ydata()) == [-3.0, -3.0]
    assert list(ax.get_lines()[0].get_xdata()) == [1, 2, 3, 4, 5]
    assert ax.get_xlabel() == "step" and "log10" in ax.get_ylabel() and ax.get_title()
    # Adam's first steps move every weight by about lr: ratio ~ lr / std(W)
    assert all(-4 < v < -1 for v in tracker.history["layer1.weight"])
    plt.gcf().canvas.draw()  # rendering emits no warning either
