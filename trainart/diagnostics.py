r"""Network health: per-layer statistics of activations and gradients, histograms, and the
update:data ratio over training, for :class:`trainart.nn.MLP` and for torch modules.

The diagnostics of Karpathy's *makemore part 3* and the UvA DL tutorial 4:

* :func:`layer_stats`: per layer the mean and standard deviation of a batch of values, the
  **saturated** fraction for tanh and sigmoid (outputs in the flat tails, where the local
  gradient :math:`f'` is under about 6 %), the **zero** fraction and the **dead** units for
  ReLU (a unit that outputs 0 for every example passes no gradient at all);
* :func:`mlp_stats` / :func:`torch_stats`: one forward and backward pass on a batch, then
  the statistics of the activations :math:`h^{(l)}`, of their gradients
  :math:`\partial L/\partial h^{(l)}` and of the weight gradients with their
  **grad:data ratio** :math:`\operatorname{std}(\nabla W)/\operatorname{std}(W)`;
  :func:`format_stats` prints them as a table;
* :func:`plot_histograms`: one histogram line per layer with its std in the legend;
* :class:`UpdateRatioTracker`: :math:`\log_{10}` of the **update:data ratio**
  :math:`\operatorname{std}(\Delta W)/\operatorname{std}(W)` per weight and step, which
  Karpathy's rule of thumb wants near :math:`10^{-3}`.

Statistics are computed in ``float64`` NumPy, with the population standard deviation
(``np.std``, ``ddof=0``), whatever the network's dtype. Torch is imported only by the
functions that take a torch module.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from . import _checks
from . import activations as _activations
from ._arrays import is_tensor
from ._lazy import lazy_import
from .optim.base import _named_params

plt = lazy_import("matplotlib.pyplot")

__all__ = [
    "layer_stats", "mlp_stats", "torch_values", "torch_stats", "format_stats",
    "plot_histograms", "UpdateRatioTracker", "SATURATION",
]

SATURATION = (0.03, 0.97)
"""Saturation thresholds. Sigmoid outputs below 0.03 or above 0.97, tanh outputs with
:math:`|\\tanh| > 0.97` (where :math:`f'` is under 6 % of its maximum)."""

_KNOWN_ACTIVATIONS = tuple(_activations.REGISTRY)
_STAT_KEYS = ("layer", "mean", "std", "saturated", "zero", "dead")


def _numpy(owner: str, name: str, x) -> np.ndarray:
    """A float64 NumPy copy of an array or a tensor (detached, on the CPU)."""
    if is_tensor(x):
        x = x.detach().cpu().numpy()
    arr = np.asarray(x)
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number)
                                   or arr.dtype == np.bool_):
        raise TypeError(f"{owner}: {name} must be a numeric array, got dtype {arr.dtype}")
    return np.array(arr, dtype=np.float64)


# ---------------------------------------------------------------------------------------
# statistics
# ---------------------------------------------------------------------------------------


def layer_stats(values, activation=None) -> list[dict]:
    r"""Per-layer summary statistics of a batch of values (activations or gradients).

    For the values :math:`a` of layer :math:`l` (axis 0 indexes the examples of the batch):

    * ``mean``, ``std``: over all entries (population std);
    * ``saturated`` (tanh, sigmoid): the fraction of entries in the flat tails,
      :math:`|a| > 0.97` for tanh, :math:`a < 0.03` or :math:`a > 0.97` for sigmoid;
    * ``zero`` (ReLU): the fraction of entries exactly 0, the sparsity of ReLU;
    * ``dead`` (ReLU): the fraction of *units* (entries of one example) that are 0 for
      every example of the batch: no gradient reaches their weights.

    Args:
        values: a list with one array (or tensor) per layer, each of shape ``(n, ...)``.
        activation: the activation that produced them (``"tanh"``, ``"sigmoid"``,
            ``"relu"``, another name of :mod:`trainart.activations`, or a list with one name
            per layer); ``None`` for values that are not activations (gradients).

    Returns:
        One dict per layer with the keys ``layer`` (1-based), ``mean``, ``std``,
        ``saturated``, ``zero``, ``dead``; a key that does not apply is ``None``.
    """
    if isinstance(values, (np.ndarray, Mapping, str)) or not hasattr(values, "__len__"):
        raise TypeError(f"layer_stats: values must be a list with one array per layer, "
                        f"got {type(values).__name__}")
    acts = list(activation) if isinstance(activation, (list, tuple)) else [activation] * len(
        values)
    if len(acts) != len(values):
        raise ValueError(f"layer_stats: got {len(acts)} activation names for {len(values)} "
                         f"layers")
    for act in acts:
        if act is not None and act not in _KNOWN_ACTIVATIONS:
            raise ValueError(f"layer_stats: activation must be None or one of "
                             f"{list(_KNOWN_ACTIVATIONS)}, got {act!r}")
    out = []
    for k, (v, act) in enumerate(zip(values, acts), start=1):
        a = _numpy("layer_stats", f"values[{k - 1}]", v)
        if a.size == 0:
            raise ValueError(f"layer_stats: values[{k - 1}] is empty")
        row = dict.fromkeys(_STAT_KEYS)
        row.update(layer=k, mean=float(a.mean()), std=float(a.std()))
        low, high = SATURATION
        if act == "tanh":
            row["saturated"] = float(np.mean(np.abs(a) > high))
        elif act == "sigmoid":
            row["saturated"] = float(np.mean((a < low) | (a > high)))
        elif act == "relu":
            units = a.reshape(a.shape[0], -1) if a.ndim else a.reshape(1, 1)
            row["zero"] = float(np.mean(a == 0))
            row["dead"] = float(np.mean(np.all(units == 0, axis=0)))
        out.append(row)
    return out


def _weight_grad_stats(names, weights, grads) -> list[dict]:
    rows = []
    for k, (name, W, dW) in enumerate(zip(names, weights, grads), start=1):
        W = _numpy("weight_grads", name, W)
        dW = _numpy("weight_grads", name, dW)
        w_std, g_std = float(W.std()), float(dW.std())
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = float(np.float64(g_std) / np.float64(w_std))
        rows.append({"layer": k, "name": str(name), "shape": tuple(W.shape),
                     "mean": float(dW.mean()), "std": g_std, "grad_data_ratio": ratio})
    return rows


def mlp_stats(mlp, X, y) -> dict:
    r"""Health of a :class:`trainart.nn.MLP` on one batch: a forward and a backward pass.

    Args:
        mlp: the network (its stored activations and gradients are overwritten).
        X, y: a batch of inputs and integer labels (mean softmax cross-entropy).

    Returns:
        ``{"loss": float, "activations": layer_stats(hidden activations, mlp.activation),
        "gradients": layer_stats(their gradients dL/dh), "weight_grads": [...]}`` where
        ``weight_grads`` has one dict per weight matrix with ``layer``, ``name``, ``shape``,
        ``mean`` and ``std`` of :math:`\nabla W`, and ``grad_data_ratio``
        :math:`= \operatorname{std}(\nabla W) / \operatorname{std}(W)`.
    """
    for attr in ("loss_and_grads", "activations", "activation_grads", "weights", "names"):
        if not hasattr(mlp, attr):
            raise TypeError(f"mlp_stats: mlp must be a trainart.nn.MLP (no attribute {attr!r}); "
                            f"use torch_stats for torch modules")
    loss, grads = mlp.loss_and_grads(X, y)
    by_name = dict(zip(mlp.names, grads))
    names = [f"layer{k}.weight" for k in range(1, len(mlp.weights) + 1)]
    return {
        "loss": float(loss),
        "activations": layer_stats(mlp.activations, mlp.activation),
        "gradients": layer_stats(mlp.activation_grads),
        "weight_grads": _weight_grad_stats(names, mlp.weights, [by_name[n] for n in names]),
    }


# torch activation modules, by class name, and the trainart name of each (from the one
# registry; nn.Identity is no activation to record)
_TORCH_ACTIVATION_NAMES = {s.torch_name: name for name, s in _activations.REGISTRY.items()
                           if name != "identity"}


def torch_values(model, X, y, loss_fn=None) -> dict:
    r"""One forward and backward pass of a torch module, with every activation recorded.

    A forward hook on each activation module (``nn.Tanh``, ``nn.ReLU``, ``nn.Sigmoid``,
    ``nn.LeakyReLU``, ``nn.ELU``, ``nn.GELU``, in the order they run) records its output;
    their gradients :math:`\partial L/\partial h` and those of the weights come from
    ``torch.autograd.grad(loss, outputs + weights)``, which returns them *without* writing
    any ``.grad``: the model's existing gradients (if any) are left exactly as they were.
    The hooks are removed before returning, also when the pass fails. The model stays in
    its current mode (``train()`` or ``eval()``).

    Args:
        model: a ``torch.nn.Module``, e.g. a ``nn.Sequential`` of ``nn.Linear`` and
            activations.
        X: inputs (array or tensor), cast to the dtype and device of the model's parameters.
        y: targets; integer class labels for the default loss.
        loss_fn: ``loss_fn(output, y) -> scalar`` (default
            ``torch.nn.functional.cross_entropy``, the mean).

    Returns:
        A dict of NumPy ``float64`` arrays: ``activations`` and ``gradients`` (one per
        activation module call), ``activation_names`` (``"tanh"``, ``"relu"``, ...),
        ``weights`` and ``weight_grads`` (every parameter with two or more dimensions, in
        ``named_parameters`` order, whose names are ``weight_names``), and ``loss``.
    """
    import torch
    import torch.nn.functional as F
    from torch import nn

    if not isinstance(model, nn.Module):
        raise TypeError(f"torch_values: model must be a torch.nn.Module, got "
                        f"{type(model).__name__}; use mlp_stats for trainart.nn.MLP")
    loss_fn = F.cross_entropy if loss_fn is None else loss_fn
    named = [(n, p) for n, p in model.named_parameters() if p.ndim >= 2 and p.requires_grad]
    first = next(model.parameters(), None)
    dtype = first.dtype if first is not None else torch.get_default_dtype()
    device = first.device if first is not None else torch.device("cpu")
    X_t = torch.as_tensor(X).to(dtype=dtype, device=device)
    y_t = torch.as_tensor(y).to(device)
    if loss_fn is F.cross_entropy:
        y_t = y_t.long()

    outputs, kinds = [], []

    def record(module, inputs, output):
        outputs.append(output)
        kinds.append(_TORCH_ACTIVATION_NAMES[type(module).__name__])
        return None

    handles = [m.register_forward_hook(record) for m in model.modules()
               if type(m).__name__ in _TORCH_ACTIVATION_NAMES and type(m).__module__.startswith(
                   "torch.nn")]
    try:
        with torch.enable_grad():
            # An input that requires grad keeps every activation in the graph, even in a
            # model whose parameters are frozen; its own gradient is never computed.
            X_t = X_t.detach().requires_grad_(True)
            output = model(X_t)
            values = [h.detach().clone() for h in outputs]  # before any in-place change
            loss = loss_fn(output, y_t)
            grads = torch.autograd.grad(loss, outputs + [p for _, p in named],
                                        allow_unused=True)
    finally:
        for h in handles:
            h.remove()
    grads = [torch.zeros_like(t) if g is None else g
             for t, g in zip(outputs + [p for _, p in named], grads)]
    n_act = len(outputs)
    return {
        "loss": float(loss.detach()),
        "activation_names": kinds,
        "activations": [_numpy("torch_values", "activation", v) for v in values],
        "gradients": [_numpy("torch_values", "gradient", g) for g in grads[:n_act]],
        "weight_names": [n for n, _ in named],
        "weights": [_numpy("torch_values", n, p) for n, p in named],
        "weight_grads": [_numpy("torch_values", n, g) for (n, _), g in zip(named,
                                                                             grads[n_act:])],
    }


def torch_stats(model, X, y, loss_fn=None) -> dict:
    r"""Health of a torch module on one batch: :func:`mlp_stats` for ``torch.nn`` models.

    Runs :func:`torch_values` (forward hooks on the activation modules, removed afterwards;
    gradients through ``torch.autograd.grad``, so no ``.grad`` is written or changed) and
    summarizes it with :func:`layer_stats`. For an ``MLP`` and ``mlp.to_torch()`` both
    functions give the same numbers (up to rounding).

    Args:
        model: a ``torch.nn.Module`` (typically a ``nn.Sequential``).
        X, y: a batch; ``loss_fn``: as in :func:`torch_values` (default cross-entropy).

    Returns:
        The dict of :func:`mlp_stats`: ``loss``, ``activations``, ``gradients``,
        ``weight_grads`` (named as in ``model.named_parameters()``).
    """
    v = torch_values(model, X, y, loss_fn)
    return {
        "loss": v["loss"],
        "activations": layer_stats(v["activations"], v["activation_names"]),
        "gradients": layer_stats(v["gradients"]),
        "weight_grads": _weight_grad_stats(v["weight_names"], v["weights"], v["weight_grads"]),
    }


# ---------------------------------------------------------------------------------------
# text
# ---------------------------------------------------------------------------------------

_HEADERS = {"grad_data_ratio": "grad:data"}
_FRACTIONS = ("saturated", "zero", "dead")


def _number(x) -> str:
    """3 decimals: ``0.756`` from 0.1 up, ``9.842e-03`` below (and for huge values)."""
    if x is None:
        return "-"
    x = float(x)
    if not math.isfinite(x):
        return str(x)
    if x == 0:
        return "0.000"
    if 0.1 <= abs(x) < 1e5:
        return f"{round(x, 3) + 0.0:.3f}"  # + 0.0 turns -0.0 into 0.0
    return f"{x:.3e}"


def _mean(mean, std) -> str:
    """The mean, in its row's std's format and rounded to the resolution the std is shown
    with, so that a mean that is only rounding noise (a gradient's, typically) prints as
    ``0.000``."""
    if mean is None or std is None or not (math.isfinite(mean) and math.isfinite(std)):
        return _number(mean)
    if std == 0 or 0.1 <= std < 1e5:
        return f"{round(mean, 3) + 0.0:.3f}"
    step = 10.0 ** (math.floor(math.log10(std)) - 3)
    return _number(round(mean / step) * step + 0.0)


def _table(rows: list[dict]) -> str:
    keys = [k for k in rows[0] if any(r.get(k) is not None for r in rows)]
    columns = []
    for k in keys:
        header = _HEADERS.get(k, k)
        cells = []
        for r in rows:
            v = r.get(k)
            if k in ("layer", "name"):
                cells.append(str(v))
            elif k == "shape":
                cells.append("x".join(str(s) for s in v))
            elif k == "mean":
                cells.append(_mean(v, r.get("std")))
            elif k in _FRACTIONS:
                cells.append("-" if v is None else f"{v:.3f}")
            else:
                cells.append(_number(v))
        width = max(len(header), *(len(c) for c in cells))
        left = k == "name"
        columns.append([header.ljust(width) if left else header.rjust(width)]
                       + [c.ljust(width) if left else c.rjust(width) for c in cells])
    return "\n".join("  ".join(col[i] for col in columns).rstrip()
                     for i in range(len(rows) + 1))


def format_stats(stats) -> str:
    """A fixed-width text table of :func:`mlp_stats` / :func:`torch_stats` (or of one
    :func:`layer_stats` list), for notebooks.

    Numbers have 3 decimals: fractions (``saturated``, ``zero``, ``dead``) always as
    ``0.205``, other numbers as ``0.756`` from 0.1 up and as ``9.842e-03`` below, so that
    gradient standard deviations and collapsing activations stay legible. Each mean is
    rounded to the resolution of its row's std (``0.001`` for a std of ``0.756``, ``1e-6``
    for ``9.842e-03``): a mean that is rounding noise prints as ``0.000``, never
    ``-0.000``. Columns that do not apply (all ``None``) are left out. The text depends only
    on the numbers, so a notebook can compare it exactly.

    Returns:
        The table as one string (sections ``activations``, ``gradients``, ``weight
        gradients`` for a stats dict).
    """
    if isinstance(stats, list):
        if not stats or not all(isinstance(r, Mapping) for r in stats):
            raise ValueError("format_stats: a list must hold the dicts of layer_stats")
        return _table(stats)
    if not isinstance(stats, Mapping):
        raise TypeError(f"format_stats: stats must be the dict of mlp_stats/torch_stats or a "
                        f"list from layer_stats, got {type(stats).__name__}")
    if not any(stats.get(key) for key in ("activations", "gradients", "weight_grads")):
        raise ValueError("format_stats: stats has none of the keys 'activations', "
                         "'gradients', 'weight_grads'")
    parts = []
    if stats.get("loss") is not None:
        parts.append(f"loss {_number(stats['loss'])}")
    for key, title in (("activations", "activations"), ("gradients", "gradients dL/dh"),
                       ("weight_grads", "weight gradients")):
        if stats.get(key):
            parts.append(f"{title}\n{_table(stats[key])}")
    return "\n\n".join(parts)


# ---------------------------------------------------------------------------------------
# figures
# ---------------------------------------------------------------------------------------


def _axes(ax):
    if ax is None:
        _, ax = plt.subplots()
    return ax


def _short(x: float) -> str:
    return f"{x:.2f}" if x == 0 or 0.01 <= abs(x) < 1e4 else f"{x:.1e}"


def plot_histograms(values, ax=None, title=None, bins=100, xlabel="activation",
                    activation=None):
    """Per-layer histograms drawn as lines (Karpathy's makemore part 3 figure).

    Each layer is one line of its density histogram; the legend gives its std and, for
    tanh or sigmoid (``activation=``), the saturated percentage, for ReLU the percentage of
    zeros: ``"layer 2: std 0.62, sat 3.1 %"``.

    Args:
        values: one array (or tensor) per layer, e.g. ``mlp.activations`` or
            ``mlp.activation_grads``.
        ax: the axes to draw on (default: a new figure).
        title: default ``"<xlabel> distribution per layer"``.
        bins: histogram bins per layer.
        xlabel: the x-axis label (``"activation"``, ``"gradient"``, ...).
        activation: the activation name, for the saturation or zero percentages.

    Returns:
        The axes.
    """
    bins = _checks.positive_int("plot_histograms", "bins", bins)
    stats = layer_stats(values, activation)
    if not stats:
        raise ValueError("plot_histograms: values must hold at least one layer")
    ax = _axes(ax)
    for k, (v, s) in enumerate(zip(values, stats), start=1):
        a = _numpy("plot_histograms", f"values[{k - 1}]", v).ravel()
        a = a[np.isfinite(a)]
        label = f"layer {k}: std {_short(s['std'])}"
        if s["saturated"] is not None:
            label += f", sat {100 * s['saturated']:.1f} %"
        if s["zero"] is not None:
            label += f", zero {100 * s['zero']:.1f} %"
        if a.size == 0:
            ax.plot([], [], label=f"layer {k}: no finite values")
            continue
        density, edges = np.histogram(a, bins=int(bins), density=True)
        ax.plot(0.5 * (edges[:-1] + edges[1:]), density, label=label)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("density")
    ax.set_title(f"{xlabel.capitalize()} distribution per layer" if title is None else title)
    ax.legend(loc="upper right", fontsize=9)
    return ax


# ---------------------------------------------------------------------------------------
# the update:data ratio
# ---------------------------------------------------------------------------------------


class UpdateRatioTracker:
    r"""The update:data ratio of every weight matrix over training, on a log scale.

    .. math::

        r_t = \log_{10} \frac{\operatorname{std}(W_t - W_{t-1})}{\operatorname{std}(W_{t-1})}

    measures how much one step changes a weight relative to its size, whatever the
    optimizer (momentum and Adam included). Karpathy's rule of thumb: about :math:`-3`;
    far below, the layer learns too slowly, far above, too fast.

    Usage: the tracker keeps a copy of the weights, taken at construction and after each
    :meth:`record`, so one call per step suffices::

        tracker = UpdateRatioTracker(net.params, net.names)     # or model.named_parameters()
        for step in range(steps):
            opt.step(net.loss_and_grads(xb, yb)[1])
            tracker.record()
        tracker.plot()

    (or pass ``before=tracker.snapshot()`` taken just before ``opt.step()``).

    Args:
        params: NumPy arrays or torch tensors: a list, a dict ``{name: param}`` or
            ``(name, param)`` pairs such as ``model.named_parameters()``. Only parameters
            with two or more dimensions (the weights) are tracked; biases are skipped.
        names: names for a plain list (default ``params[i]``).

    Attributes:
        history: ``{name: [log10 ratio per recorded step]}``. A ratio that is not defined
            (a weight with std 0) is ``inf`` or ``nan``.

    Reference: Karpathy, "Building makemore part 3: activations & gradients, BatchNorm".
    """

    def __init__(self, params, names=None):
        if names is not None:
            items, names = list(params), [str(n) for n in names]
            if len(names) != len(items):
                raise ValueError(f"UpdateRatioTracker: got {len(names)} names for "
                                 f"{len(items)} parameters")
            params = list(zip(names, items))
        # The same parameter forms an optimizer takes (list, dict, named pairs), same checks.
        pairs = list(zip(*_named_params("UpdateRatioTracker", params)))
        self._all = len(pairs)
        self._index = [i for i, (_, p) in enumerate(pairs) if p.ndim >= 2]
        if not self._index:
            raise ValueError("UpdateRatioTracker: no parameter has two or more dimensions "
                             "(nothing to track: biases are skipped)")
        self.names = [pairs[i][0] for i in self._index]
        self.params = [pairs[i][1] for i in self._index]
        self.history: dict[str, list[float]] = {n: [] for n in self.names}
        self._last = self.snapshot()

    def snapshot(self) -> list[np.ndarray]:
        """``float64`` copies of the tracked weights (in the order of ``names``)."""
        return [_numpy("UpdateRatioTracker", n, p) for n, p in zip(self.names, self.params)]

    def record(self, before=None) -> dict[str, float]:
        """Append the log10 update:data ratio of each tracked weight.

        Args:
            before: the weights before the step: :meth:`snapshot`'s list, or one array per
                parameter given to the constructor. Default: the copy kept since the
                construction or the previous :meth:`record`.

        Returns:
            ``{name: log10 ratio}`` of this step.
        """
        if before is None:
            before = self._last
        else:
            before = list(before)
            if len(before) == self._all and self._all != len(self._index):
                before = [before[i] for i in self._index]
            if len(before) != len(self.params):
                raise ValueError(f"UpdateRatioTracker.record: before must hold "
                                 f"{len(self.params)} arrays (one per tracked weight) or "
                                 f"{self._all} (one per parameter), got {len(before)}")
        after = self.snapshot()
        step = {}
        for name, old, new in zip(self.names, before, after):
            old = _numpy("UpdateRatioTracker.record", name, old)
            if old.shape != new.shape:
                raise ValueError(f"UpdateRatioTracker.record: before for {name!r} has shape "
                                 f"{old.shape}, the weight has {new.shape}")
            with np.errstate(divide="ignore", invalid="ignore"):
                ratio = np.float64((new - old).std()) / np.float64(old.std())
                value = float(np.log10(ratio))
            self.history[name].append(value)
            step[name] = value
        self._last = after
        return step

    def plot(self, ax=None, title=None):
        """log10 update:data ratio per weight against the step, with the guide line at -3.

        Returns:
            The axes.
        """
        ax = _axes(ax)
        for name, values in self.history.items():
            y = np.asarray(values, dtype=np.float64)
            y = np.where(np.isfinite(y), y, np.nan)
            ax.plot(np.arange(1, len(y) + 1), y, label=name)
        ax.axhline(-3.0, color="black", linestyle="--", linewidth=1.2, label="1e-3 guide")
        ax.set_xlabel("step")
        ax.set_ylabel("log10(update std / weight std)")
        ax.set_title("Update:data ratio per weight" if title is None else title)
        ax.legend(loc="best", fontsize=9)
        return ax
