r"""Model ensembles: bagging, averaged probabilities, majority votes.

Models trained differently make partly independent errors; averaging them cancels part of
the errors. If :math:`k` models have errors of variance :math:`v` and covariance :math:`c`,
their average's error has variance :math:`c + (v - c)/k` (Goodfellow et al. 2016, sec. 7.11):
the less correlated, the larger the gain.

Bagging (bootstrap aggregating, Breiman 1996) decorrelates the models by training each on a
bootstrap sample: :math:`n` draws *with replacement* from the :math:`n` training examples.
A sample holds about :math:`1 - (1 - 1/n)^n \to 1 - 1/e \approx 63.2\%` distinct examples.
For neural networks, different random initializations (and minibatch orders) already
decorrelate the members well.

A cheaper ensemble takes its members from *one* training run: :class:`CheckpointEnsemble`
keeps copies of the weights at several epochs (checkpoint ensembles), and can also average
those weights into a single network (Polyak averaging of the checkpoints, as
``torch.optim.swa_utils.AveragedModel``).

References: Breiman (1996), "Bagging predictors"; Goodfellow, Bengio and Courville (2016),
*Deep Learning*, sec. 7.11.
"""

from __future__ import annotations

import copy

import numpy as np

from .. import _checks
from .._lazy import lazy_import
from ..data import Dataset

torch = lazy_import("torch")
F = lazy_import("torch.nn.functional")
nn = lazy_import("torch.nn")

__all__ = ["bootstrap_indices", "bagging", "ensemble_predict_proba", "ensemble_vote",
           "accuracy", "CheckpointEnsemble"]


def bootstrap_indices(n: int, n_models: int, seed: int = 0) -> np.ndarray:
    r"""Bootstrap samples: ``n_models`` rows of ``n`` indices drawn uniformly with
    replacement from ``0..n-1``.

    Each row holds :math:`n\,(1 - (1 - 1/n)^n) \approx 0.632\,n` distinct indices on
    average; the rest are repeats.

    Args:
        n: number of examples, >= 1. n_models: number of samples, >= 1.
        seed: the samples depend only on it.

    Returns:
        An ``(n_models, n)`` int64 array.
    """
    n = _checks.positive_int("bootstrap_indices", "n", n)
    n_models = _checks.positive_int("bootstrap_indices", "n_models", n_models)
    rng = _checks.generator("bootstrap_indices", seed)
    return rng.integers(0, n, size=(n_models, n), dtype=np.int64)


def bagging(fit, data: Dataset, n_models: int, seed: int = 0) -> list:
    """Bagging: train ``n_models`` models, each on its own bootstrap sample of the training set.

    Model ``m`` is ``fit(sample_m, seed + m)`` where ``sample_m`` is ``data`` with its
    training set replaced by bootstrap sample ``m`` of :func:`bootstrap_indices` (the test
    set is unchanged).

    Args:
        fit: ``fit(data: Dataset, seed: int) -> model`` (e.g. build an :func:`~trainart.models.mlp`
            with ``seed`` and train it with :func:`~trainart.models.train_classifier`).
        data: a :class:`~trainart.data.Dataset`.
        n_models: ensemble size, >= 1.
        seed: seeds the bootstrap samples and (as ``seed + m``) the models.

    Returns:
        The list of trained models.
    """
    if not callable(fit):
        raise TypeError(f"bagging: fit must be callable, got {type(fit).__name__}")
    if not isinstance(data, Dataset):
        raise TypeError(f"bagging: data must be a Dataset, got {type(data).__name__}")
    n_models = _checks.positive_int("bagging", "n_models", n_models)
    samples = bootstrap_indices(len(data.y_train), n_models, seed)
    models = []
    for m, idx in enumerate(samples):
        sample = Dataset(data.X_train[idx], data.y_train[idx], data.X_test, data.y_test)
        models.append(fit(sample, seed + m))
    return models


def _members(owner: str, models) -> list:
    if isinstance(models, nn.Module):
        models = [models]
    models = list(models)
    if not models:
        raise ValueError(f"{owner}: models must hold at least one model")
    for i, m in enumerate(models):
        if not isinstance(m, nn.Module):
            raise TypeError(f"{owner}: models[{i}] must be a torch.nn.Module, "
                            f"got {type(m).__name__}")
    return models


def _member_proba(model, X) -> np.ndarray:
    """softmax(model(X)) in eval mode without gradients, as float64 NumPy."""
    params = list(model.parameters())
    dtype = params[0].dtype if params else torch.get_default_dtype()
    x = X if isinstance(X, torch.Tensor) else torch.from_numpy(np.ascontiguousarray(X))
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            out = F.softmax(model(x.to(dtype)), dim=1)
    finally:
        model.train(was_training)
    return out.double().cpu().numpy()


def ensemble_predict_proba(models, X) -> np.ndarray:
    r"""The ensemble's probabilities: the mean of its members' softmax outputs.

    .. math::

        p(y \mid x) = \frac1k \sum_{j=1}^{k} \mathrm{softmax}(f_j(x))

    (averaging probabilities, not logits; each member in eval mode, no gradients).

    Args:
        models: a list of torch modules mapping ``X`` to logits.
        X: ``(n, d)`` inputs, an array or a tensor.

    Returns:
        ``(n, C)`` float64 probabilities.
    """
    models = _members("ensemble_predict_proba", models)
    return np.mean([_member_proba(m, X) for m in models], axis=0)


def ensemble_vote(models, X) -> np.ndarray:
    """Majority vote of the members' predicted classes (ties go to the smallest class).

    Args:
        models: a list of torch modules. X: ``(n, d)`` inputs.

    Returns:
        ``(n,)`` int64 predicted classes.
    """
    models = _members("ensemble_vote", models)
    probas = [_member_proba(m, X) for m in models]
    n, C = probas[0].shape
    votes = np.zeros((n, C), dtype=np.int64)
    for p in probas:
        votes[np.arange(n), p.argmax(axis=1)] += 1
    return votes.argmax(axis=1)


def accuracy(pred_or_proba, y) -> float:
    """The fraction of correct predictions, from predicted classes ``(n,)`` or probabilities
    (or logits) ``(n, C)`` (their argmax)."""
    if isinstance(pred_or_proba, torch.Tensor):
        pred_or_proba = pred_or_proba.detach().cpu().numpy()
    if isinstance(y, torch.Tensor):
        y = y.detach().cpu().numpy()
    p, y = np.asarray(pred_or_proba), np.asarray(y)
    pred = p.argmax(axis=1) if p.ndim == 2 else p
    if pred.ndim != 1 or y.shape != pred.shape:
        raise ValueError(f"accuracy: y must have shape {pred.shape} to match the "
                         f"predictions, got {y.shape}")
    if len(y) == 0:
        raise ValueError("accuracy: needs at least one example")
    return float(np.mean(pred == y))


class CheckpointEnsemble:
    r"""A ``callback(epoch, history)`` for :func:`trainart.models.train_classifier` that keeps
    the model's weights at several epochs of one run: a checkpoint ensemble for free.

    After epoch :math:`e` (from 0) it stores a copy of the model's ``state_dict`` when
    :math:`e \ge` ``start_epoch`` and :math:`(e - \text{start\_epoch})` is a multiple of
    ``every``. Then

    - :meth:`members` gives one model per checkpoint, for
      :func:`ensemble_predict_proba` (the mean of their softmax outputs);
    - :meth:`average_model` gives one model whose parameters are the checkpoints' mean,
      :math:`\bar w = \frac1K\sum_{k=1}^K w^{(e_k)}` (Polyak averaging over the stored
      epochs; what ``torch.optim.swa_utils.AveragedModel`` computes when
      ``update_parameters`` is called at the same epochs). Buffers (e.g. batch-norm
      statistics) are taken from the last checkpoint.

    It never stops training (it returns ``None``), so it combines with other callbacks.

    Args:
        model: the torch module being trained.
        start_epoch: the first epoch to keep, an integer >= 0.
        every: keep every ``every``-th epoch from ``start_epoch`` on, an integer >= 1.

    Attributes:
        epochs: the epochs (from 0) kept so far.
        states: their ``state_dict`` copies.

    Reference: CS231n, "Neural networks part 3" (model ensembles: checkpoints of a single
    model, running average of the parameters); Huang et al. (2017), "Snapshot ensembles";
    Polyak and Juditsky (1992).
    """

    def __init__(self, model, start_epoch: int = 0, every: int = 1):
        owner = "CheckpointEnsemble"
        if not isinstance(model, nn.Module):
            raise TypeError(f"{owner}: model must be a torch.nn.Module, got "
                            f"{type(model).__name__}")
        self.model = model
        self.start_epoch = _checks.non_negative_int(owner, "start_epoch", start_epoch)
        self.every = _checks.positive_int(owner, "every", every)
        self.epochs: list[int] = []
        self.states: list[dict] = []

    def __call__(self, epoch: int, history=None) -> None:
        if epoch >= self.start_epoch and (epoch - self.start_epoch) % self.every == 0:
            self.epochs.append(int(epoch))
            self.states.append({k: v.detach().clone() for k, v in
                                self.model.state_dict().items()})

    def _need(self, owner: str) -> None:
        if not self.states:
            raise RuntimeError(f"CheckpointEnsemble.{owner}: no checkpoint stored yet "
                               f"(start_epoch={self.start_epoch} not reached)")

    def members(self) -> list:
        """One copy of the model per checkpoint (in eval mode), oldest first."""
        self._need("members")
        out = []
        for state in self.states:
            m = copy.deepcopy(self.model)
            m.load_state_dict(state)
            out.append(m.eval())
        return out

    def average_model(self):
        r"""A copy of the model with the mean of the checkpoints' floating-point parameters
        and buffers of the last checkpoint (in eval mode)."""
        self._need("average_model")
        m = copy.deepcopy(self.model)
        state = dict(self.states[-1])
        for name, _ in m.named_parameters():
            state[name] = sum(s[name] for s in self.states) / len(self.states)
        m.load_state_dict(state)
        return m.eval()
