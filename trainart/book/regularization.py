r"""Helpers for the Regularization chapter: the small tasks and experiments its three
notebooks share (``chapters/regularization``).

- :func:`tensors`, :func:`digit_task`, :func:`add_noise`: the data of the experiments
  (MNIST-5k restricted to some digits, noisy digits);
- :func:`train_joint`, :func:`task_accuracy`: multi-task training with a shared trunk;
- :func:`member_stats`: single members against their ensemble;
- :func:`transfer_run`: training on a small target task from scratch, with a new head
  only, or fine-tuning everything with its own head and body learning rates.

The techniques themselves live in :mod:`trainart.regularize`; these functions only wire
them into the chapter's experiments.
"""

from __future__ import annotations

import copy

import numpy as np

from .. import _checks, data, models
from ..regularize import (
    accuracy,
    count_trainable,
    ensemble_predict_proba,
    freeze_,
    replace_head,
    trainable_parameters,
)
from ..regularize.transfer import head_and_body_groups

__all__ = ["tensors", "digit_task", "add_noise", "train_joint", "task_accuracy",
           "member_stats", "TRANSFER_HOWS", "transfer_run"]


def tensors(X, y):
    """``(torch.from_numpy(X), torch.from_numpy(y))``."""
    import torch

    return torch.from_numpy(X), torch.from_numpy(y)


def digit_task(dataset: data.Dataset, classes, n_per_class=None, seed: int = 0) -> data.Dataset:
    """``dataset`` restricted to the consecutive digits ``classes``, relabelled from 0.

    Args:
        dataset: a :class:`~trainart.data.Dataset` (MNIST-5k in the chapter).
        classes: consecutive labels, e.g. ``range(5, 10)``.
        n_per_class: keep only this many training examples of each class (``None``: all).
        seed: seeds which examples are kept and their order.

    Returns:
        A :class:`~trainart.data.Dataset` with labels ``0 .. len(classes) - 1``; its test set
        holds every test example of those classes.
    """
    classes = list(classes)
    if not classes:
        raise ValueError("digit_task: classes must hold at least one label")
    rng = np.random.default_rng(seed)
    keep = [rng.permutation(np.flatnonzero(dataset.y_train == c))[:n_per_class]
            for c in classes]
    idx = rng.permutation(np.concatenate(keep))
    test = np.isin(dataset.y_test, classes)
    return data.Dataset(dataset.X_train[idx], dataset.y_train[idx] - classes[0],
                        dataset.X_test[test], dataset.y_test[test] - classes[0])


def add_noise(X, rng: np.random.Generator, std: float = 0.3) -> np.ndarray:
    r"""Noisy images: :math:`\mathrm{clip}_{[0,1]}(x + \sigma z)`, :math:`z \sim N(0, I)`,
    as float32 (the chapter's "noisy digits"); draws from ``rng``."""
    std = _checks.non_negative("add_noise", "std", std)
    rng = _checks.generator("add_noise", rng)
    return np.clip(X + std * rng.standard_normal(X.shape), 0, 1).astype(np.float32)


def train_joint(net, tasks: dict, epochs: int, seed: int = 0, lr: float = 1e-3) -> None:
    """Train a two-task :class:`~trainart.regularize.SharedTrunk` jointly (Adam).

    Each step adds the cross-entropy of a minibatch of 128 from the first task (one epoch is
    one pass over it) and of a random minibatch of 32 from the second.

    Args:
        net: a ``SharedTrunk`` with one head per key of ``tasks``.
        tasks: ``{name: Dataset}``, two tasks; the first sets the epoch length.
        epochs: passes over the first task.
        seed: seeds the minibatches.
        lr: Adam's learning rate.
    """
    import torch
    import torch.nn.functional as F

    epochs = _checks.positive_int("train_joint", "epochs", epochs)
    if len(tasks) != 2:
        raise ValueError(f"train_joint: tasks must hold two tasks, got {len(tasks)}")
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    rng = np.random.default_rng(seed)
    (lo, d_lo), (hi, d_hi) = tasks.items()
    (X_lo, y_lo), (X_hi, y_hi) = tensors(d_lo.X_train, d_lo.y_train), tensors(d_hi.X_train,
                                                                             d_hi.y_train)
    for _ in range(epochs):
        for idx in data.minibatches(len(y_lo), 128, rng):
            b = torch.from_numpy(rng.integers(0, len(y_hi), 32))
            opt.zero_grad()
            loss = (F.cross_entropy(net(X_lo[idx], lo), y_lo[idx])
                    + F.cross_entropy(net(X_hi[b], hi), y_hi[b]))
            loss.backward()
            opt.step()


def task_accuracy(forward, task: data.Dataset) -> float:
    """Test accuracy of ``forward(X) -> logits`` on ``task`` (no gradients)."""
    import torch

    with torch.no_grad():
        return accuracy(forward(torch.from_numpy(task.X_test)), task.y_test)


def member_stats(members, X, y) -> dict:
    """Single members against their ensemble (the mean of their softmax outputs).

    Returns:
        ``{"single": accuracies (k,), "ensemble": accuracy, "var_member": mean over the
        examples of the members' variance of p(true class), "disagree": share of
        (member, example) pairs whose class differs from the ensemble's, "nll_single",
        "nll_ens": mean test cross-entropies, "probs": (k, n, C)}``.
    """
    y = np.asarray(y)
    probs = np.stack([ensemble_predict_proba([m], X) for m in members])
    rows = np.arange(len(y))
    p_true = probs[:, rows, y]
    mean_p = probs.mean(axis=0)
    return {
        "single": np.array([accuracy(p, y) for p in probs]),
        "ensemble": accuracy(mean_p, y),
        "var_member": float(p_true.var(axis=0).mean()),
        "disagree": float(np.mean(probs.argmax(axis=2) != mean_p.argmax(axis=1))),
        "nll_single": float(np.mean(-np.log(p_true + 1e-12))),
        "nll_ens": float(np.mean(-np.log(mean_p[rows, y]))),
        "probs": probs,
    }


TRANSFER_HOWS = ("from scratch", "new head only", "fine-tune all")


def transfer_run(source, task: data.Dataset, how: str, steps: int = 200, seed: int = 0,
                 lr: float = 1e-3, head_lr: float = 1e-2, body_lr: float = 1e-3):
    """Train on a small target ``task`` in one of three ways, for ``steps`` Adam steps.

    - ``"from scratch"``: a fresh MLP of ``source``'s hidden shape, every layer at ``lr``;
    - ``"new head only"``: ``source`` frozen, with a new head trained at ``head_lr``;
    - ``"fine-tune all"``: ``source`` with a new head, the head at ``head_lr`` and the body
      at ``body_lr`` (parameter groups, :func:`~trainart.regularize.head_and_body_groups`).

    Args:
        source: the trained source network (an :func:`~trainart.models.mlp`); not changed.
        task: the target task; batches of ``min(32, n)``.
        how: one of ``TRANSFER_HOWS``.
        steps: about this many optimizer steps (whole epochs).
        seed: seeds the new head (as ``seed + 1``) and the minibatches.

    Returns:
        ``(trainable parameters, final test accuracy, trained net)``.
    """
    import torch

    _checks.one_of("transfer_run", "how", how, TRANSFER_HOWS)
    n_classes = task.n_classes
    if how == "from scratch":
        sizes = [source[0].in_features] + [m.out_features for m in source
                                           if isinstance(m, torch.nn.Linear)][:-1]
        net = models.mlp(sizes + [n_classes], seed=seed + 1)
        opt = torch.optim.Adam(net.parameters(), lr=lr)
    else:
        net = copy.deepcopy(source)
        if how == "new head only":
            freeze_(net)
        replace_head(net, n_classes, seed=seed + 1)
        opt = torch.optim.Adam(head_and_body_groups(net, head_lr, body_lr)
                               if how == "fine-tune all" else trainable_parameters(net),
                               lr=head_lr)
    batch = min(32, len(task.y_train))
    epochs = int(np.ceil(steps * batch / len(task.y_train)))
    hist = models.train_classifier(net, opt, task, epochs=epochs, batch_size=batch, seed=seed)
    return count_trainable(net), hist["test_acc"][-1], net
