"""Regularization: everything that trades a little training fit for better generalization.

- :mod:`~trainart.regularize.penalties`: L2, L1 (and its proximal step), decoupled weight
  decay, parameter tying;
- :mod:`~trainart.regularize.sharing`: parameter sharing (:class:`SharedTrunk`);
- :mod:`~trainart.regularize.constraints`: max-norm constraints;
- :mod:`~trainart.regularize.pruning`: magnitude pruning (as ``torch.nn.utils.prune``),
  masks held while retraining, iterative pruning;
- :mod:`~trainart.regularize.ensembles`: bagging, averaged probabilities, majority votes;
- :mod:`~trainart.regularize.adversarial`: FGSM and adversarial training;
- :mod:`~trainart.regularize.augment`: data augmentation, mixup, label smoothing (the losses
  themselves are in :mod:`trainart.losses`);
- :mod:`~trainart.regularize.calibration`: expected calibration error, reliability curves,
  mean confidence;
- :mod:`~trainart.regularize.transfer`: freezing, new heads, fine-tuning;
- :mod:`~trainart.regularize.early_stopping`: :class:`EarlyStopping`.

Every technique is one function (or class) next to its formula, on NumPy arrays where that
is natural and on torch models where training is involved. The ``*_loss`` functions return
a ``loss_fn(model, xb, yb)``, :func:`mask_hook` an ``after_step(model)`` and
:class:`EarlyStopping` a ``callback(epoch, history)`` for
:func:`trainart.training.train_classifier`. Everything is re-exported here.
"""

from . import (
    adversarial,
    augment,
    calibration,
    constraints,
    early_stopping,
    ensembles,
    penalties,
    pruning,
    sharing,
    transfer,
)

_MODULES = (penalties, sharing, constraints, pruning, ensembles, adversarial, augment,
            calibration, transfer, early_stopping)

__all__ = list(dict.fromkeys(name for module in _MODULES for name in module.__all__))

# The torch.nn.Module subclasses (SharedTrunk) are imported on first access, so that
# importing trainart.regularize does not load torch; everything else is bound now.
_LAZY = {name: module for module in _MODULES for name in getattr(module, "_LAZY", ())}
globals().update({name: getattr(module, name) for module in _MODULES
                  for name in module.__all__ if name not in _LAZY})


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(_LAZY[name], name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted({*globals(), *_LAZY})
