"""Regularization: everything that trades a little training fit for better generalization.

- :mod:`~trainart.regularize.penalties`: L2, L1 (and its proximal step), decoupled weight
  decay, parameter tying and sharing;
- :mod:`~trainart.regularize.pruning`: magnitude pruning (as ``torch.nn.utils.prune``),
  masks held while retraining, iterative pruning;
- :mod:`~trainart.regularize.ensembles`: bagging, averaged probabilities, majority votes;
- :mod:`~trainart.regularize.adversarial`: FGSM and adversarial training;
- :mod:`~trainart.regularize.augment`: data augmentation, mixup, label smoothing and
  calibration (ECE, reliability curves);
- :mod:`~trainart.regularize.transfer`: freezing, new heads, fine-tuning;
- :mod:`~trainart.regularize.early_stopping`: :class:`EarlyStopping`.

Every technique is one function (or class) next to its formula, on NumPy arrays where that
is natural and on torch models where training is involved. The ``*_loss`` functions return
a ``loss_fn(model, xb, yb)``, :func:`mask_hook` an ``after_step(model)`` and
:class:`EarlyStopping` a ``callback(epoch, history)`` for
:func:`trainart.models.train_classifier`. Everything is re-exported here.
"""

from . import adversarial, augment, early_stopping, ensembles, penalties, pruning, transfer
from .adversarial import *  # noqa: F403
from .augment import *  # noqa: F403
from .early_stopping import *  # noqa: F403
from .ensembles import *  # noqa: F403
from .pruning import *  # noqa: F403
from .transfer import *  # noqa: F403

__all__ = [*penalties.__all__, *pruning.__all__, *ensembles.__all__, *adversarial.__all__,
           *augment.__all__, *transfer.__all__, *early_stopping.__all__]

# Everything of penalties but the torch.nn.Module subclass (SharedTrunk), which is imported on
# first access so that importing trainart.regularize does not load torch.
globals().update({name: getattr(penalties, name) for name in penalties.__all__
                  if name not in penalties._LAZY})


def __getattr__(name: str):
    if name in penalties._LAZY:
        return getattr(penalties, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted({*globals(), *penalties._LAZY})
