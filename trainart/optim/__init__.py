"""Optimizers, learning-rate schedules and gradient clipping (names and defaults as in
``torch.optim``), each update rule written once for NumPy arrays and torch tensors."""

from .adam import Adam, AdamW
from .adaptive import Adadelta, Adagrad, RMSprop
from .base import NonFiniteGradientError, Optimizer
from .clip import clip_grad_norm_, clip_grad_value_
from .schedules import (
    LRScheduler,
    constant,
    cosine_annealing,
    exponential_decay,
    linear_warmup,
    sequential,
    step_decay,
)
from .sgd import SGD

__all__ = [
    "SGD", "Adagrad", "RMSprop", "Adadelta", "Adam", "AdamW", "Optimizer",
    "NonFiniteGradientError", "clip_grad_norm_", "clip_grad_value_", "LRScheduler",
    "constant", "step_decay", "exponential_decay", "cosine_annealing", "linear_warmup",
    "sequential",
]
