r"""Helpers for the Dropout and Normalization chapters: the small networks they train, the
training loops they share, and the probes they measure with.

Each function is the plumbing of one experiment in ``chapters/dropout/01_dropout``,
``chapters/normalization/01_batch_norm`` or ``chapters/normalization/02_other_norms``, moved
here so that the notebooks show the experiment, not the loop. Everything is seeded: the
same arguments give the same numbers. Checked in ``tests/test_book_chapters.py``.
"""

from __future__ import annotations

import numpy as np

from .. import _checks
from ..dropout import Dropout
from ..nn import MLP

# --------------------------------------------------------------------------------------
# Dropout chapter: an MLP with dropout, its NumPy twin, and a training loop with curves
# --------------------------------------------------------------------------------------


def dropout_mlp(width, p_hidden, p_input=0.0, seed=0, batch_norm=False, n_in=40, n_out=10):
    r"""``models.mlp([n_in, width, width, n_out])`` with dropout on the input and the hidden
    units: ``[Dropout(p_input)] -> Linear -> [BatchNorm1d] -> ReLU -> Dropout(p_hidden) ->
    ... -> Linear``; a dropout layer whose ``p`` is 0 is left out.

    Each dropout layer computes inverted dropout, :math:`\tilde h = r \odot h / (1-p)` with
    :math:`r_i \sim \text{Bernoulli}(1-p)`. The weights depend only on ``seed`` (the same as
    :func:`trainart.models.mlp` with that seed, whatever the dropout rates).

    Args:
        width: units in each of the two hidden layers.
        p_hidden: drop probability after each hidden ReLU, in ``[0, 1)``.
        p_input: drop probability of the inputs, in ``[0, 1)``.
        seed: seed of the weights.
        batch_norm: add ``BatchNorm1d`` after each hidden ``Linear`` (before the ReLU).
        n_in, n_out: input and output sizes (MNIST-1D: 40 and 10).

    Returns:
        A ``torch.nn.Sequential`` in float32.

    Reference: Srivastava et al. (2014), *Dropout: a simple way to prevent neural networks
    from overfitting*, JMLR 15.
    """
    from torch import nn

    from .. import models

    width = _checks.positive_int("dropout_mlp", "width", width)
    for name, p in (("p_hidden", p_hidden), ("p_input", p_input)):
        if isinstance(p, bool) or not isinstance(p, (int, float, np.integer, np.floating)):
            raise TypeError(f"dropout_mlp: {name} must be a number, got {type(p).__name__}")
        if not 0 <= p < 1:
            raise ValueError(f"dropout_mlp: {name} must be a probability in [0, 1), got {p!r}")
    layers = [nn.Dropout(float(p_input))] if p_input > 0 else []
    layers += list(models.mlp([n_in, width, width, n_out], seed=seed, dropout=float(p_hidden),
                              batch_norm=batch_norm))
    return nn.Sequential(*layers)


def weights_of(net):
    """The ``(W, b)`` pairs of a torch network's ``Linear`` layers, as float64 NumPy arrays.

    Args:
        net: a ``torch.nn.Sequential`` (or any module) with ``Linear`` layers.

    Returns:
        A list of ``(W, b)`` with ``W`` of shape ``(out, in)``, in the order of the layers.
    """
    from torch import nn

    return [(m.weight.detach().double().numpy(), m.bias.detach().double().numpy())
            for m in net.modules() if isinstance(m, nn.Linear)]


def softmax(z):
    r"""Row-wise softmax :math:`\operatorname{softmax}(z)_c = e^{z_c} / \sum_j e^{z_j}`,
    computed stably (the row maximum is subtracted first)."""
    z = np.asarray(z, dtype=float)
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def np_forward(params, X, p=0.0, training=False, rng=None, hidden=False):
    r"""A ReLU MLP in NumPy with inverted dropout after each hidden layer: the book's
    :class:`trainart.nn.MLP` holding the weights ``params``.

    .. math:: h_0 = x, \quad h_l = \operatorname{dropout}_p\big(\max(0, W_l h_{l-1} + b_l)\big),
              \quad z = W_L h_{L-1} + b_L

    Args:
        params: ``(W, b)`` pairs, e.g. :func:`weights_of` of a trained network.
        X: inputs, shape ``(n, d)``.
        p: drop probability of :func:`trainart.dropout.dropout_forward`.
        training: draw masks (``True``) or pass the activations through (``False``).
        rng: the generator the masks are drawn from, layer after layer (or a seed for it).
        hidden: return the hidden activations (before dropout) instead of the logits.

    Returns:
        The logits ``(n, C)``, or with ``hidden=True`` the list of hidden activations.
    """
    sizes = [params[0][0].shape[1]] + [W.shape[0] for W, _ in params]
    net = MLP(sizes, "relu", init="zeros", dropout=p)
    for target, value in zip(net.params, [a for W, b in params for a in (W, b)]):
        target[...] = value
    masks = _checks.generator("np_forward", rng) if training and p > 0 else None
    for layer in net.layers:
        if isinstance(layer, Dropout):
            layer.rng = masks          # every layer draws from the same generator, in order
    logits = net.forward(np.asarray(X, dtype=float), training=training)
    return list(net.activations) if hidden else logits


def train_with_curves(net, opt, data, epochs, seed=0, start=0, curves=None):
    """Train ``net`` for ``epochs`` epochs and record the accuracy and the loss on the
    training and the test set after each one, both in evaluation mode (dropout off).

    Epoch ``e`` is one call of :func:`trainart.models.train_classifier` with
    ``seed=seed + e``, so that a run continued with ``start=epochs`` (and the same
    optimizer) is the longer run.

    Args:
        net, opt: the network and its optimizer.
        data: a :class:`trainart.data.Dataset`.
        epochs: number of epochs to train.
        seed: seed of the first epoch's minibatch order and dropout masks.
        start: number of the first epoch (to continue a run).
        curves: the dict of a run to extend (``None``: a new one).

    Returns:
        A dict of arrays ``train_acc``, ``test_acc``, ``train_loss``, ``test_loss``, one
        entry per epoch trained so far.
    """
    import torch

    from .. import models

    epochs = _checks.non_negative_int("train_with_curves", "epochs", epochs)
    curves = {k: list(v) for k, v in (curves or {}).items()}
    for k in ("train_acc", "test_acc", "train_loss", "test_loss"):
        curves.setdefault(k, [])
    splits = {"train": (torch.from_numpy(data.X_train), torch.from_numpy(data.y_train)),
              "test": (torch.from_numpy(data.X_test), torch.from_numpy(data.y_test))}
    for epoch in range(start, start + epochs):
        models.train_classifier(net, opt, data, epochs=1, seed=seed + epoch, eval_test=False)
        for split, (X, y) in splits.items():
            loss, acc = models.evaluate(net, X, y)
            curves[f"{split}_loss"].append(loss)
            curves[f"{split}_acc"].append(acc)
    return {k: np.array(v) for k, v in curves.items()}


def auroc(score, wrong):
    """Share of (misclassified, correct) pairs in which the misclassified input has the
    higher score: the area under the ROC curve of ``score`` as a detector of errors (ties
    count as losses).

    Args:
        score: one number per input. wrong: boolean mask of the misclassified inputs.

    Returns:
        A float in ``[0, 1]`` (0.5: a coin; 1: a perfect separation).
    """
    score, wrong = np.asarray(score, dtype=float), np.asarray(wrong, dtype=bool)
    return float(np.mean(score[wrong][:, None] > score[~wrong][None, :]))


def draw_network(ax, sizes, keep, title, colors=None):
    """Draw a fully connected network; units with ``keep[l][i] == False`` are greyed out and
    crossed, and every connection that touches one is dotted.

    Args:
        ax: a matplotlib axes. sizes: units per layer. keep: one boolean array per layer.
        title: the axes title. colors: one face colour per layer.
    """
    colors = colors or ["#9fc5e8", "#f6b26b", "#f6b26b", "#93c47d"]
    pos = [[(2.0 * l, 0.9 * (i - (n - 1) / 2)) for i in range(n)] for l, n in enumerate(sizes)]
    for l in range(len(sizes) - 1):
        for i, (x0, y0) in enumerate(pos[l]):
            for j, (x1, y1) in enumerate(pos[l + 1]):
                alive = keep[l][i] and keep[l + 1][j]
                ax.plot([x0, x1], [y0, y1], color="0.3" if alive else "0.85",
                        lw=0.9 if alive else 0.5, ls="-" if alive else ":", zorder=1)
    from matplotlib.patches import Circle

    for l, layer in enumerate(pos):
        for i, (x, y) in enumerate(layer):
            kept = keep[l][i]
            ax.add_patch(Circle((x, y), 0.25, facecolor=colors[l] if kept else "0.92",
                                edgecolor="black" if kept else "0.6", lw=1.2, zorder=2))
            if not kept:
                ax.plot([x - 0.15, x + 0.15], [y - 0.15, y + 0.15], color="0.55", zorder=3)
                ax.plot([x - 0.15, x + 0.15], [y + 0.15, y - 0.15], color="0.55", zorder=3)
    names = ["input"] + [f"hidden {k}" for k in range(1, len(sizes) - 1)] + ["output"]
    for l, name in enumerate(names):
        ax.text(2.0 * l, -3.0, name, ha="center", fontsize=10)
    ax.set_xlim(-0.6, 2.0 * (len(sizes) - 1) + 0.6)
    ax.set_ylim(-3.3, 2.8)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(title)


# --------------------------------------------------------------------------------------
# Normalization chapter: the deep MLP, the learning-rate sweep and the landscape probe
# --------------------------------------------------------------------------------------

INITS = {   # name: (trainart.init scheme, its arguments); None keeps PyTorch's default
    "He": ("kaiming_normal", {"nonlinearity": "relu"}),
    "N(0, 0.01)": ("normal", {"std": 0.01}),
    "PyTorch default": (None, {}),
}


def _jitter_class():
    from torch import nn

    class Jitter(nn.Module):
        """A fresh random per-unit scale in [0.5, 1.5] and shift in [-1, 1] at every
        training step, the identity in evaluation mode (Santurkar et al., 2018)."""

        def forward(self, x):
            import torch

            if not self.training:
                return x
            scale = 1 + (torch.rand(x.shape[1]) - 0.5)          # in [0.5, 1.5]
            shift = 2 * torch.rand(x.shape[1]) - 1              # in [-1, 1]
            return x * scale + shift

    return Jitter


def jitter():
    r"""A module that injects distribution shift: :math:`y = a \odot x + b` with a per-unit
    :math:`a \sim U[0.5, 1.5]` and :math:`b \sim U[-1, 1]` drawn afresh at every training
    forward pass (from torch's global generator); the identity in evaluation mode.

    Reference: Santurkar, Tsipras, Ilyas & Madry (2018), *How Does Batch Normalization Help
    Optimization?*, NeurIPS, section 2.1 ("noisy" batch norm).
    """
    return _jitter_class()()


def deep_mlp(bn=None, init_name="He", seed=0, noise=False, width=128, depth=6, n_in=784):
    """The ``depth``-hidden-layer ReLU MLP of the Normalization chapter.

    Args:
        bn: ``None`` (``Linear -> ReLU``), ``"before"`` (``Linear -> BatchNorm1d -> ReLU``,
            the linear layers without bias) or ``"after"`` (``Linear -> ReLU -> BatchNorm1d``).
        init_name: a key of :data:`INITS`.
        seed: seed of the weights (torch's global generator is left untouched).
        noise: with ``bn="before"``, a :func:`jitter` after every batch-norm layer.
        width, depth, n_in: hidden width, number of hidden layers, input size; 10 outputs.

    Returns:
        A ``torch.nn.Sequential``.
    """
    import torch
    from torch import nn

    from .. import init

    if bn not in (None, "before", "after"):
        raise ValueError(f"deep_mlp: bn must be None, 'before' or 'after', got {bn!r}")
    if init_name not in INITS:
        raise ValueError(f"deep_mlp: init_name must be one of {list(INITS)}, got {init_name!r}")
    layers, fan_in = [], n_in
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)                             # PyTorch's default init
        for _ in range(depth):
            layers.append(nn.Linear(fan_in, width, bias=bn != "before"))
            if bn == "before":
                layers += [nn.BatchNorm1d(width)] + ([jitter()] if noise else []) + [nn.ReLU()]
            elif bn == "after":
                layers += [nn.ReLU(), nn.BatchNorm1d(width)]
            else:
                layers.append(nn.ReLU())
            fan_in = width
        layers.append(nn.Linear(width, 10))
        net = nn.Sequential(*layers)
    scheme, kwargs = INITS[init_name]
    if scheme is not None:
        init.init_module_(net, scheme, seed=seed, **kwargs)
    return net


def sweep_run(kind, lr, X_train, y_train, X_test, y_test, epochs=2, seed=0):
    """Train one version of :func:`deep_mlp` with SGD and measure it.

    Args:
        kind: ``"plain"``, ``"batch norm"`` or ``"batch norm + noise"``.
        lr: learning rate. X_train, y_train, X_test, y_test: torch tensors.
        epochs: passes over the training set (minibatches of 128 in the order of
            :func:`trainart.data.minibatches` with ``seed``).

    Returns:
        ``(train loss, test accuracy, shift per step)``, or ``None`` when the gradients
        became non-finite. The shift is the mean change of the last layer's per-unit batch
        means from one step to the next, relative to their batch standard deviation.
    """
    import torch
    import torch.nn.functional as F

    from .. import data, models, optim

    net = deep_mlp(bn=None if kind == "plain" else "before", noise=kind == "batch norm + noise")
    opt = optim.SGD(net.parameters(), lr=lr)
    moments = []                                            # per-step batch mean and std
    hook = net[-1].register_forward_hook(                   # of the last layer's input
        lambda m, inp, out: moments.append((inp[0].detach().mean(0), inp[0].detach().std(0))))
    torch.manual_seed(seed)
    batch_rng = np.random.default_rng(seed)                 # train_classifier's order
    try:
        for _ in range(epochs):
            for idx in data.minibatches(len(y_train), 128, batch_rng):
                idx = torch.from_numpy(idx)
                opt.zero_grad()
                F.cross_entropy(net(X_train[idx]), y_train[idx]).backward()
                opt.step()
    except optim.NonFiniteGradientError:
        return None
    finally:
        hook.remove()
    mean = torch.stack([m for m, _ in moments])
    std = torch.stack([s for _, s in moments])
    shift = ((mean[1:] - mean[:-1]).abs().mean(1) / std[:-1].mean(1)).mean().item()
    return (models.evaluate(net, X_train, y_train)[0], models.evaluate(net, X_test, y_test)[1],
            shift)


def step_probe(net, xb, yb, steps, unit=False):
    r"""The loss along the negative gradient of one minibatch, and how the gradient changes.

    With :math:`g = \nabla L(\theta)` on ``(xb, yb)``, evaluates :math:`L(\theta - s\,d)` and
    :math:`\lVert \nabla L(\theta - s\,d) - g \rVert` for every ``s`` in ``steps``, where
    :math:`d = g` (Santurkar et al.'s probe: the step's length is :math:`s \lVert g \rVert`) or,
    with ``unit=True``, :math:`d = g / \lVert g \rVert` (every step has length :math:`s`).
    The parameters are restored afterwards.

    Args:
        net: a torch network. xb, yb: one minibatch. steps: the step sizes ``s``.
        unit: normalize the direction to length 1.

    Returns:
        ``(losses, largest gradient change, |g|)``.
    """
    import torch
    import torch.nn.functional as F

    params = list(net.parameters())
    start = [p.detach().clone() for p in params]
    net.zero_grad()
    F.cross_entropy(net(xb), yb).backward()
    g = [p.grad.detach().clone() for p in params]
    g_norm = torch.sqrt(sum((gp**2).sum() for gp in g)).item()
    scale = 1 / g_norm if unit else 1.0
    losses, changes = [], []
    for s in steps:
        with torch.no_grad():
            for p, p0, gp in zip(params, start, g, strict=True):
                p.copy_(p0 - s * scale * gp)
        net.zero_grad()
        loss = F.cross_entropy(net(xb), yb)
        loss.backward()
        losses.append(loss.item())
        changes.append(torch.sqrt(sum(((p.grad - gp)**2).sum()
                                      for p, gp in zip(params, g, strict=True))).item())
    with torch.no_grad():
        for p, p0 in zip(params, start, strict=True):
            p.copy_(p0)
    net.zero_grad()
    return losses, max(changes), g_norm


def landscape(bn, X_train, y_train, steps, unit_steps, lr=0.1, epochs=2, every=4, seed=0):
    """Train :func:`deep_mlp` with SGD and run :func:`step_probe` every ``every`` steps,
    once with the steps ``steps`` along :math:`g` and once with ``unit_steps`` along
    :math:`g / |g|`.

    Returns:
        A dict of arrays: ``step`` (the probed steps), ``loss`` and ``change`` (along
        :math:`g`), ``unit_loss`` and ``unit_change`` (along :math:`g/|g|`), ``grad_norm``.
    """
    import torch
    import torch.nn.functional as F

    from .. import data, optim

    net = deep_mlp(bn=bn, seed=seed)
    opt = optim.SGD(net.parameters(), lr=lr)
    batch_rng = np.random.default_rng(seed)
    out = {k: [] for k in ("step", "loss", "change", "unit_loss", "unit_change", "grad_norm")}
    step = 0
    for _ in range(epochs):
        for idx in data.minibatches(len(y_train), 128, batch_rng):
            idx = torch.from_numpy(idx)
            xb, yb = X_train[idx], y_train[idx]
            if step % every == 0:
                losses, change, g_norm = step_probe(net, xb, yb, steps)
                unit_losses, unit_change, _ = step_probe(net, xb, yb, unit_steps, unit=True)
                for k, v in zip(out, (step, losses, change, unit_losses, unit_change, g_norm),
                                strict=True):
                    out[k].append(v)
            opt.zero_grad()
            F.cross_entropy(net(xb), yb).backward()
            opt.step()
            step += 1
    return {k: np.array(v) for k, v in out.items()}


def input_drift(net, X, y, lr, steps, batch_size=None, seed=0):
    """How far the distribution of the last layer's input moves while training.

    Trains ``net`` with plain SGD for ``steps`` steps, on the whole of ``(X, y)`` at every
    step (full-batch gradient descent, ``batch_size=None``) or on shuffled minibatches, and
    after every step records the per-unit mean of the last ``Linear`` layer's input over
    *all* of ``X`` (evaluation mode). The drift after step ``t`` is the mean over the units
    of :math:`|\\mu_t - \\mu_0| / \\sigma_0`, with :math:`\\mu_0, \\sigma_0` the per-unit
    mean and standard deviation before training.

    Args:
        net: a torch network ending in ``Linear``. X, y: torch tensors. lr: learning rate
            (0 freezes the weights). steps: number of steps. batch_size: ``None`` for
            full-batch steps. seed: the minibatch order.

    Returns:
        ``(drift, batch_spread)``: the drift after every step (array of ``steps``), and the
        mean over units of the standard deviation of the per-unit *minibatch* means over
        the steps, relative to :math:`\\sigma_0` (0 for full batches).
    """
    import torch
    import torch.nn.functional as F

    from .. import data

    feats = []
    hook = net[-1].register_forward_hook(lambda m, inp, out: feats.append(inp[0].detach()))

    def full_stats():
        net.eval()
        with torch.no_grad():
            net(X)
        net.train()
        a = feats.pop()
        return a.mean(0), a.std(0)

    mu0, sd0 = full_stats()
    live = sd0 > 1e-6                                       # units that are not constant
    mu0, sd0 = mu0[live], sd0[live]
    opt = torch.optim.SGD(net.parameters(), lr=lr)
    batch_rng = np.random.default_rng(seed)
    batches = iter(())
    drift, batch_means = [], []
    for _ in range(steps):
        if batch_size is None:
            idx = torch.arange(len(y))
        else:
            idx = next(batches, None)
            if idx is None:
                batches = iter(data.minibatches(len(y), batch_size, batch_rng))
                idx = next(batches)
            idx = torch.from_numpy(idx)
        opt.zero_grad()
        F.cross_entropy(net(X[idx]), y[idx]).backward()
        batch_means.append(feats.pop().mean(0)[live])
        opt.step()
        mu = full_stats()[0][live]
        drift.append(((mu - mu0).abs() / sd0).mean().item())
    hook.remove()
    spread = (torch.stack(batch_means).std(0) / sd0).mean().item() if batch_size else 0.0
    return np.array(drift), spread
