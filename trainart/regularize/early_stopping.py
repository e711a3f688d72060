r"""Early stopping: stop when the validation loss stops improving, keep the best weights.

Training longer lowers the training loss but, past some epoch, raises the validation loss
(overfitting). Early stopping watches a validation metric after each epoch, remembers the
weights of the best epoch, stops after ``patience`` epochs without improvement, and
restores the best weights. It acts like an L2 penalty whose strength shrinks as the number
of steps grows (Goodfellow et al. 2016, sec. 7.8): the number of epochs is the
hyperparameter, chosen on validation data for free.

Reference: Prechelt (1998), "Early stopping - but when?"; Goodfellow, Bengio and Courville
(2016), *Deep Learning*, sec. 7.8.
"""

from __future__ import annotations

import copy
import math

from .. import _checks
from .._lazy import lazy_import

nn = lazy_import("torch.nn")

__all__ = ["EarlyStopping"]


class EarlyStopping:
    r"""A ``callback(epoch, history)`` for :func:`trainart.models.train_classifier` that
    stops training and restores the best weights.

    After each epoch it reads ``history[monitor][-1]``; the value improves when

    .. math::

        v < v_{\text{best}} - \delta \quad(\text{mode "min"}), \qquad
        v > v_{\text{best}} + \delta \quad(\text{mode "max"})

    (the first epoch always improves). On improvement it copies the model's
    ``state_dict`` (parameters and buffers); after ``patience`` epochs in a row without
    improvement it returns ``True`` (stop) and, with ``restore_best``, loads the best
    weights back in place (the ``Parameter`` objects stay the same, so an optimizer built
    on them is still valid). A NaN value never improves. Keras' convention.

    Example::

        stopper = EarlyStopping(model, patience=5)
        history = train_classifier(model, opt, train_val_split(data), epochs=100,
                                   callback=stopper)
        stopper.best_epoch, stopper.stopped_epoch

    If training ends without stopping, call :meth:`restore` to load the best weights.

    Args:
        model: the torch module being trained.
        patience: stop after this many epochs in a row without improvement, an
            integer >= 1 (1 stops at the first epoch that does not improve).
        min_delta: :math:`\delta \ge 0`, the smallest change that counts as improvement.
        monitor: the history key to watch (``"test_loss"``: the loss on ``data.X_test``,
            the validation set when ``data`` comes from
            :func:`~trainart.data.train_val_split`; or ``"test_acc"`` with ``mode="max"``).
        mode: ``"min"`` or ``"max"``.
        restore_best: load the best weights when stopping.

    Attributes:
        best_epoch: the epoch (from 0) of the best value so far (``None`` before any).
        best_value: that value (``inf`` or ``-inf`` before any).
        stopped_epoch: the epoch at which it stopped training, ``None`` if it did not.
        wait: epochs since the last improvement.
    """

    def __init__(self, model, patience: int = 5, min_delta: float = 0.0,
                 monitor: str = "test_loss", mode: str = "min", restore_best: bool = True):
        owner = "EarlyStopping"
        if not isinstance(model, nn.Module):
            raise TypeError(f"{owner}: model must be a torch.nn.Module, got "
                            f"{type(model).__name__} (construct as EarlyStopping(model, ...))")
        patience = _checks.positive_int(owner, "patience", patience)
        _checks.one_of(owner, "mode", mode, ("min", "max"))
        if not isinstance(monitor, str):
            raise TypeError(f"{owner}: monitor must be a history key (str), got {monitor!r}")
        self.model = model
        self.patience = int(patience)
        self.min_delta = _checks.non_negative(owner, "min_delta", min_delta)
        self.monitor = monitor
        self.mode = mode
        self.restore_best = bool(restore_best)
        self.best_epoch: int | None = None
        self.best_value = math.inf if mode == "min" else -math.inf
        self.best_state: dict | None = None
        self.stopped_epoch: int | None = None
        self.wait = 0

    def _improved(self, value: float) -> bool:
        if math.isnan(value):
            return False
        if self.best_epoch is None:
            return True
        if self.mode == "min":
            return value < self.best_value - self.min_delta
        return value > self.best_value + self.min_delta

    def __call__(self, epoch: int, history: dict) -> bool:
        if self.monitor not in history or not history[self.monitor]:
            raise ValueError(f"EarlyStopping: monitor {self.monitor!r} is not in the history "
                             f"(keys: {sorted(k for k in history if history[k])}); "
                             f"evaluate it each epoch (eval_test=True)")
        value = float(history[self.monitor][-1])
        if self._improved(value):
            self.best_value, self.best_epoch, self.wait = value, int(epoch), 0
            self.best_state = copy.deepcopy(self.model.state_dict())
            return False
        self.wait += 1
        if self.wait >= self.patience:
            self.stopped_epoch = int(epoch)
            if self.restore_best:
                self.restore()
            return True
        return False

    def restore(self) -> None:
        """Load the best weights seen so far into the model (in place)."""
        if self.best_state is None:
            raise RuntimeError("EarlyStopping.restore: no epoch has been seen yet")
        self.model.load_state_dict(self.best_state)
