"""The training loop of the chapters' real-data experiments, on torch models.

* :func:`train_classifier`: the plain PyTorch loop (per-epoch shuffled minibatches,
  cross-entropy, optional clipping and learning-rate schedule, hooks for the regularization
  chapter) that records loss curves;
* :func:`evaluate`: mean cross-entropy and accuracy in eval mode;
* :func:`fresh_copies`: independent copies of one model, one per optimizer in a comparison.

A fair comparison of optimizers starts every run from the *same* weights and feeds the
*same* minibatches: build each model with :func:`trainart.models.mlp` with the same seed (or
copy one model with :func:`fresh_copies`) and train with the same ``seed``.

Torch is imported inside the functions that need it, so importing this module stays light.
"""

from __future__ import annotations

import copy

import numpy as np

from . import _checks
from .data import Dataset, minibatches

__all__ = ["fresh_copies", "train_classifier", "evaluate"]


def fresh_copies(model, n: int) -> list:
    """``n`` independent deep copies of ``model`` (same weights, separate parameters),
    e.g. one per optimizer in a comparison."""
    n = _checks.positive_int("fresh_copies", "n", n)
    return [copy.deepcopy(model) for _ in range(n)]


def _current_lr(optimizer) -> float:
    if hasattr(optimizer, "param_groups"):  # torch.optim
        return float(optimizer.param_groups[0]["lr"])
    return float(optimizer.lr)


def evaluate(model, X, y, batch_size: int = 2048) -> tuple[float, float]:
    """Mean cross-entropy and accuracy of ``model`` on tensors ``X, y`` (eval mode, no grad)."""
    import torch
    import torch.nn.functional as F

    was_training = model.training
    model.eval()
    total_loss, correct = 0.0, 0
    with torch.no_grad():
        for i in range(0, len(y), batch_size):
            out = model(X[i:i + batch_size])
            total_loss += F.cross_entropy(out, y[i:i + batch_size], reduction="sum").item()
            correct += (out.argmax(dim=1) == y[i:i + batch_size]).sum().item()
    model.train(was_training)
    return total_loss / len(y), correct / len(y)


def train_classifier(model, optimizer, data: Dataset, epochs: int, batch_size: int = 128,
                     seed: int = 0, scheduler=None, clip_norm: float | None = None,
                     eval_test: bool = True, eval_train: bool = False, loss_fn=None,
                     after_step=None, callback=None) -> dict:
    """Train ``model`` with cross-entropy on ``data`` and record its loss curves.

    Each epoch visits the training set once in a fresh random order (minibatches by index
    slicing, as :func:`trainart.data.minibatches`); one step is::

        optimizer.zero_grad(); loss = cross_entropy(model(xb), yb); loss.backward()
        clip_grad_norm_(model.parameters(), clip_norm)   # if clip_norm is given
        optimizer.step(); after_step(model)               # if after_step is given

    and ``scheduler.step()`` is called after each epoch (the PyTorch convention). The hooks
    let the regularization chapter reuse the loop: ``loss_fn`` adds a penalty, mixes inputs
    (mixup), smooths labels or attacks the batch (adversarial training); ``after_step``
    re-applies a pruning mask; ``callback`` stops early.

    Args:
        model: a ``torch.nn.Module`` mapping ``(n, d)`` inputs to ``(n, C)`` logits; the
            inputs are cast to the dtype of its parameters (float32 for
            :func:`trainart.models.mlp`).
        optimizer: a :mod:`trainart.optim` optimizer or a ``torch.optim`` one, built on
            ``model.parameters()``.
        data: a :class:`~trainart.data.Dataset`; evaluation uses ``X_test, y_test`` (pass
            :func:`~trainart.data.train_val_split`'s result to evaluate on validation data).
        epochs: number of passes over the training set.
        batch_size: examples per step.
        seed: fixes the minibatch order (and the global torch generator, for dropout).
            Same model weights + same seed -> identical runs.
        scheduler: anything with ``.step()`` (:class:`trainart.optim.LRScheduler` or a
            ``torch.optim.lr_scheduler``), stepped once per epoch.
        clip_norm: if given, clip the global gradient norm to it before each step.
        eval_test: evaluate on the test set after each epoch (turn off for speed).
        eval_train: also evaluate on the whole training set after each epoch (eval mode),
            recording ``'train_eval_loss'`` and ``'train_acc'``: the train/test gap of
            overfitting.
        loss_fn: ``loss_fn(model, xb, yb) -> scalar tensor`` replacing the default
            ``cross_entropy(model(xb), yb)``; it is called in training mode and may use the
            global torch generator (seeded by ``seed``).
        after_step: ``after_step(model)``, called after every optimizer step.
        callback: ``callback(epoch, history)``, called after each epoch's evaluation
            (``epoch`` counts from 0); returning ``True`` stops training (early stopping).

    Returns:
        A dict of lists: per epoch ``'train_loss'`` (mean of the epoch's batch losses),
        ``'test_loss'``, ``'test_acc'``, ``'lr'`` (the rate used during the epoch), and per
        step ``'step_loss'`` and, when clipping, ``'grad_norm'`` (before clipping).
    """
    import torch
    import torch.nn.functional as F

    from .optim import clip_grad_norm_

    if not isinstance(data, Dataset):
        raise TypeError(f"train_classifier: data must be a Dataset, got {type(data).__name__}")
    epochs = _checks.non_negative_int("train_classifier", "epochs", epochs)
    batch_size = _checks.positive_int("train_classifier", "batch_size", batch_size)
    if clip_norm is not None:
        clip_norm = _checks.positive("train_classifier", "clip_norm", clip_norm)
    for name, hook in (("loss_fn", loss_fn), ("after_step", after_step),
                       ("callback", callback)):
        if hook is not None and not callable(hook):
            raise TypeError(f"train_classifier: {name} must be callable, got "
                            f"{type(hook).__name__}")

    params = [p for p in model.parameters() if p.requires_grad]
    dtype = params[0].dtype if params else torch.float32  # inputs follow the model's dtype
    X = torch.from_numpy(np.ascontiguousarray(data.X_train)).to(dtype)
    y = torch.from_numpy(np.ascontiguousarray(data.y_train, dtype=np.int64))
    X_test = torch.from_numpy(np.ascontiguousarray(data.X_test)).to(dtype)
    y_test = torch.from_numpy(np.ascontiguousarray(data.y_test, dtype=np.int64))

    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    history: dict[str, list[float]] = {"train_loss": [], "test_loss": [], "test_acc": [],
                                       "lr": [], "step_loss": []}
    if clip_norm is not None:
        history["grad_norm"] = []
    if eval_train:
        history["train_eval_loss"], history["train_acc"] = [], []
    model.train()
    for epoch in range(epochs):
        history["lr"].append(_current_lr(optimizer))
        batch_losses = []
        for idx in minibatches(len(y), batch_size, rng):
            idx_t = torch.from_numpy(idx)
            optimizer.zero_grad()
            if loss_fn is None:
                loss = F.cross_entropy(model(X[idx_t]), y[idx_t])
            else:
                loss = loss_fn(model, X[idx_t], y[idx_t])
            loss.backward()
            if clip_norm is not None:
                history["grad_norm"].append(float(clip_grad_norm_(params, clip_norm)))
            optimizer.step()
            if after_step is not None:
                after_step(model)
            batch_losses.append(loss.item())
        history["step_loss"].extend(batch_losses)
        history["train_loss"].append(float(np.mean(batch_losses)))
        if eval_test:
            test_loss, test_acc = evaluate(model, X_test, y_test)
            history["test_loss"].append(test_loss)
            history["test_acc"].append(test_acc)
        if eval_train:
            train_loss, train_acc = evaluate(model, X, y)
            history["train_eval_loss"].append(train_loss)
            history["train_acc"].append(train_acc)
        if scheduler is not None:
            scheduler.step()
        if callback is not None and callback(epoch, history):
            break
    return history
