r"""A small factorial study: every configuration of a grid of network choices, each with its
own learning rate, over several seeds (note 002's assignment: dropout rate x activation x
initialization x batch norm).

One *configuration* is a dict of :func:`trainart.models.mlp` options (``activation``,
``init``, ``dropout``, ``batch_norm``). :func:`run_study` trains every configuration with
every learning rate and every seed (:func:`train_config`, minibatch SGD with momentum),
chooses each configuration's learning rate by its *validation* accuracy with one seed
:math:`s_0`, and reports the held-out *test* accuracy at that rate with fresh seeds:

.. math::

    \eta^\star(c) = \arg\max_{\eta} \mathrm{acc}_\text{val}(c, \eta, s_0),
    \qquad \text{report } \mathrm{acc}_\text{test}(c, \eta^\star(c), s),\ s = s_1, \dots, s_S .

Comparing configurations at one shared learning rate would rank them by how well that rate
suits each (a sigmoid network wants a larger one than a ReLU network); choosing the rate on
the test set would make the reported numbers optimistic.

References:
    Bergstra & Bengio, *Random Search for Hyper-Parameter Optimization*, JMLR 2012;
    Bouthillier et al., *Accounting for Variance in Machine Learning Benchmarks*, MLSys 2021
    (report the spread over seeds).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from .._checks import (
    non_negative,
    non_negative_int,
    one_of,
    positive,
    positive_int,
    unit_interval,
)
from .parallel import _Evaluator
from .results import _markdown_table

__all__ = ["MATCHED_INIT", "study_grid", "train_config", "run_study", "StudyResult"]

MATCHED_INIT = {"relu": "kaiming", "tanh": "xavier", "sigmoid": "xavier"}
"""The initialization made for each activation: He for ReLU, Glorot for tanh and sigmoid."""


def study_grid(dropouts, activations, batch_norms=(False, True), controls=()) -> list[dict]:
    """The configurations of a full grid, each activation with its matched initialization
    (``MATCHED_INIT``), followed by the ``controls`` (e.g. a mismatched initialization).

    Args:
        dropouts: drop probabilities, each in ``[0, 1)``.
        activations: names of ``MATCHED_INIT``.
        batch_norms: ``False`` and/or ``True``.
        controls: extra configurations, dicts with the same four keys.

    Returns:
        A list of dicts ``{"activation", "init", "dropout", "batch_norm"}``, the activation
        varying slowest, then batch norm, then dropout.
    """
    keys = {"activation", "init", "dropout", "batch_norm"}
    grid = [{"activation": one_of("study_grid", "activations", a, tuple(MATCHED_INIT)),
             "init": MATCHED_INIT[a], "dropout": unit_interval("study_grid", "dropouts", p),
             "batch_norm": bool(bn)}
            for a in activations for bn in batch_norms for p in dropouts]
    for c in controls:
        if not isinstance(c, dict) or set(c) != keys:
            raise ValueError(f"study_grid: each control must be a dict with keys "
                             f"{sorted(keys)}, got {c!r}")
        grid.append(dict(c))
    if not grid:
        raise ValueError("study_grid: the grid is empty")
    return grid


def _accuracy(net, X, y) -> float:
    import torch

    with torch.no_grad():
        return float((net(X).argmax(1) == y).double().mean())


def train_config(config: dict, data, lr: float, seed: int, hidden=(256, 256),
                 epochs: int = 30, batch_size: int = 50, momentum: float = 0.9) -> dict:
    r"""Train one configuration with one learning rate and one seed; return its accuracies.

    The network is ``mlp([d, *hidden, C], **config, seed=seed)``; training is minibatch SGD
    with momentum on the cross-entropy, :math:`v \leftarrow \mu v + g`,
    :math:`\theta \leftarrow \theta - \eta v` (``torch.optim.SGD``), minibatches reshuffled
    every epoch from ``seed``, dropout masks drawn from ``seed`` too (the global torch
    generator is left as it was). Accuracies are measured in evaluation mode (no dropout,
    batch norm's running statistics).

    Args:
        config: ``{"activation", "init", "dropout", "batch_norm"}`` (see :func:`study_grid`).
        data: ``(X_train, y_train, X_val, y_val, X_test, y_test)`` NumPy arrays (float32
            inputs, int64 labels).
        lr: the learning rate :math:`\eta > 0`.
        seed: seeds the weights, the minibatch order and the dropout masks.
        hidden: hidden-layer widths.
        epochs, batch_size, momentum: the training budget and optimizer.

    Returns:
        ``{"value": validation accuracy, "val_acc", "test_acc", "train_acc"}``; a run that
        diverged scores what its (non-finite) logits give, usually chance.
    """
    import torch
    import torch.nn.functional as F

    from ..models import mlp

    lr = positive("train_config", "lr", lr)
    momentum = non_negative("train_config", "momentum", momentum)
    epochs = positive_int("train_config", "epochs", epochs)
    batch_size = positive_int("train_config", "batch_size", batch_size)
    if not isinstance(data, (tuple, list)) or len(data) != 6:
        raise TypeError("train_config: data must be (X_train, y_train, X_val, y_val, X_test, "
                        f"y_test), got {type(data).__name__}")
    Xtr, ytr, Xva, yva, Xte, yte = (torch.as_tensor(np.asarray(a)) for a in data)
    n_classes = int(max(ytr.max(), yva.max(), yte.max())) + 1
    net = mlp([Xtr.shape[1], *hidden, n_classes], seed=seed, **config)
    opt = torch.optim.SGD(net.parameters(), lr=lr, momentum=momentum)
    order = np.random.default_rng(seed)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        net.train()
        for _ in range(epochs):
            perm = torch.from_numpy(order.permutation(len(ytr)))
            for start in range(0, len(ytr), batch_size):
                idx = perm[start:start + batch_size]
                if len(idx) < 2 and config.get("batch_norm"):
                    continue  # batch norm needs two examples
                loss = F.cross_entropy(net(Xtr[idx]), ytr[idx])
                opt.zero_grad()
                loss.backward()
                opt.step()
    net.eval()
    val = _accuracy(net, Xva, yva)
    return {"value": val, "val_acc": val, "test_acc": _accuracy(net, Xte, yte),
            "train_acc": _accuracy(net, Xtr, ytr)}


def _trial(params: dict, data, train_kwargs) -> dict:
    return train_config(params["config"], data, params["lr"], params["seed"], **train_kwargs)


@dataclass
class StudyResult:
    """What :func:`run_study` measured.

    Attributes:
        configs: the configurations (rows).
        lrs: the learning rates of the sweep.
        select_seed: the seed of the learning-rate sweep.
        sweep: validation accuracy of every (configuration, learning rate) with
            ``select_seed``, shape ``(len(configs), len(lrs))``.
        seeds: the seeds of the reported runs (``select_seed`` is not among them).
        val: validation accuracies at each configuration's chosen rate, shape
            ``(len(configs), len(seeds))``.
        test: test accuracies, the same shape.
        train: training accuracies, the same shape.
    """

    configs: list
    lrs: list
    select_seed: int
    sweep: np.ndarray
    seeds: list
    val: np.ndarray
    test: np.ndarray
    train: np.ndarray

    def lr_index(self) -> np.ndarray:
        """Each configuration's chosen rate: the index of its best validation accuracy in the
        sweep (the smaller rate on a tie)."""
        return np.argmax(self.sweep, axis=1)

    def best_lr(self) -> list[float]:
        """Each configuration's chosen learning rate."""
        return [self.lrs[i] for i in self.lr_index()]

    def rows(self) -> list[dict]:
        """One dict per configuration: its options, the chosen rate, the test accuracy's mean,
        standard deviation (``ddof=1``), minimum and maximum over the seeds, and the mean
        training accuracy (how much it overfits)."""
        sd = self.test.std(axis=1, ddof=1) if len(self.seeds) > 1 else np.zeros(len(self.test))
        return [{**c, "lr": lr, "test_mean": float(t.mean()), "test_sd": float(s),
                 "test_min": float(t.min()), "test_max": float(t.max()),
                 "train_mean": float(tr.mean())}
                for c, lr, t, s, tr in zip(self.configs, self.best_lr(), self.test, sd,
                                           self.train)]

    def table(self, digits: int = 3) -> str:
        """The rows as a Markdown table, best mean test accuracy first."""
        digits = positive_int("StudyResult.table", "digits", digits)
        rows = sorted(self.rows(), key=lambda r: -r["test_mean"])
        head = ("activation", "init", "dropout", "BN", "lr", "test mean", "sd", "min",
                "max", "train")
        body = [(r["activation"], r["init"], f"{r['dropout']:g}",
                 "yes" if r["batch_norm"] else "no", f"{r['lr']:g}",
                 *(f"{r[k]:.{digits}f}" for k in ("test_mean", "test_sd", "test_min",
                                                   "test_max", "train_mean")))
                for r in rows]
        return _markdown_table(head, body)


def run_study(configs, data, lrs, seeds, select_seed: int = 0, n_jobs: int = 1,
              **train_kwargs) -> StudyResult:
    """Choose each configuration's learning rate, then train it with several seeds.

    1. **Sweep**: every configuration with every rate in ``lrs``, seed ``select_seed``;
       the rate with the best *validation* accuracy is the configuration's rate.
    2. **Report**: every configuration at its rate with each seed of ``seeds`` (fresh seeds,
       so the reported spread is not the lucky draw that won the sweep); the *test*
       accuracies are the study's result.

    Both phases use :func:`train_config` through one pool of ``n_jobs`` processes
    (:mod:`trainart.tuning.parallel`: identical results for any ``n_jobs``).

    Args:
        configs: configurations, e.g. from :func:`study_grid`.
        data: ``(X_train, y_train, X_val, y_val, X_test, y_test)``.
        lrs: the learning rates of the sweep.
        seeds: the seeds of the reported runs, without ``select_seed``.
        select_seed: the seed of the sweep.
        n_jobs: processes.
        **train_kwargs: passed to :func:`train_config` (``hidden``, ``epochs``, ...).

    Returns:
        A :class:`StudyResult`.
    """
    configs, lrs, seeds = list(configs), list(lrs), list(seeds)
    for name, values in (("configs", configs), ("lrs", lrs), ("seeds", seeds)):
        if not values:
            raise ValueError(f"run_study: {name} must not be empty")
    lrs = [positive("run_study", "lrs", lr) for lr in lrs]
    seeds = [non_negative_int("run_study", "seeds", s) for s in seeds]
    select_seed = non_negative_int("run_study", "select_seed", select_seed)
    if select_seed in seeds or len(set(seeds)) < len(seeds):
        raise ValueError(f"run_study: seeds must be distinct and exclude select_seed "
                         f"({select_seed}), got {seeds}")
    objective = functools.partial(_trial, data=tuple(data), train_kwargs=train_kwargs)
    sweep_params = [{"config": c, "lr": lr, "seed": select_seed} for c in configs for lr in lrs]
    with _Evaluator("run_study", objective, n_jobs) as evaluate:
        sweep = np.array([v for v, _, _ in evaluate(sweep_params)]).reshape(len(configs),
                                                                            len(lrs))
        chosen = [lrs[i] for i in np.argmax(sweep, axis=1)]
        report = evaluate([{"config": c, "lr": lr, "seed": s}
                           for c, lr in zip(configs, chosen) for s in seeds])
    acc = {k: np.array([info[k] for _, info, _ in report]).reshape(len(configs), len(seeds))
           for k in ("val_acc", "test_acc", "train_acc")}
    return StudyResult(configs, lrs, select_seed, sweep, seeds, acc["val_acc"],
                       acc["test_acc"], acc["train_acc"])
