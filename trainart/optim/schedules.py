"""Learning-rate schedules: plain functions of the epoch (or step) count ``t``.

Each constructor returns a function ``schedule(t) -> lr`` (closed forms of PyTorch's
``torch.optim.lr_scheduler`` classes), so a schedule can be plotted on its own, composed
with :func:`sequential`, and applied to any optimizer with :class:`LRScheduler`::

    opt = SGD(params, lr=0.1)
    sched = LRScheduler(opt, sequential([linear_warmup(0.1, 0.1, 5),
                                         cosine_annealing(0.1, T_max=45)], milestones=[5]))
    for epoch in range(50):
        train_one_epoch(opt)
        sched.step()
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable, Sequence

from .. import _checks

Schedule = Callable[[int], float]


def constant(lr: float) -> Schedule:
    """:math:`\\eta_t = \\eta_0`."""
    lr = _checks.positive("constant", "lr", lr)
    return lambda t: lr


def step_decay(lr: float, step_size: int, gamma: float = 0.1) -> Schedule:
    """Multiply by ``gamma`` every ``step_size`` epochs: :math:`\\eta_t = \\eta_0\\,
    \\gamma^{\\lfloor t / s \\rfloor}` (``torch.optim.lr_scheduler.StepLR``)."""
    lr = _checks.positive("step_decay", "lr", lr)
    step_size = _checks.positive_int("step_decay", "step_size", step_size)
    gamma = _checks.positive("step_decay", "gamma", gamma)
    return lambda t: lr * gamma ** (t // step_size)


def exponential_decay(lr: float, gamma: float) -> Schedule:
    """:math:`\\eta_t = \\eta_0\\, \\gamma^t` (``ExponentialLR``)."""
    lr = _checks.positive("exponential_decay", "lr", lr)
    gamma = _checks.positive("exponential_decay", "gamma", gamma)
    return lambda t: lr * gamma**t


def cosine_annealing(lr: float, T_max: int, eta_min: float = 0.0) -> Schedule:
    """Half a cosine from ``lr`` down to ``eta_min`` over ``T_max`` epochs (``CosineAnnealingLR``):

    :math:`\\eta_t = \\eta_{min} + \\tfrac12(\\eta_0 - \\eta_{min})(1 + \\cos(\\pi t / T_{max}))`.

    Reference: Loshchilov and Hutter (2017), "SGDR: stochastic gradient descent with warm
    restarts".
    """
    lr = _checks.positive("cosine_annealing", "lr", lr)
    T_max = _checks.positive_int("cosine_annealing", "T_max", T_max)
    eta_min = _checks.non_negative("cosine_annealing", "eta_min", eta_min)
    return lambda t: eta_min + 0.5 * (lr - eta_min) * (1 + math.cos(math.pi * t / T_max))


def linear_warmup(lr: float, start_factor: float = 1 / 3, total_iters: int = 5,
                  end_factor: float = 1.0) -> Schedule:
    """Ramp the factor linearly from ``start_factor`` to ``end_factor`` over ``total_iters``
    epochs, then hold it (``LinearLR``):

    :math:`\\eta_t = \\eta_0\\,(f_s + (f_e - f_s)\\min(t, T)/T)`.
    """
    lr = _checks.positive("linear_warmup", "lr", lr)
    total_iters = _checks.positive_int("linear_warmup", "total_iters", total_iters)
    start_factor = _checks.positive("linear_warmup", "start_factor", start_factor)
    end_factor = _checks.non_negative("linear_warmup", "end_factor", end_factor)
    if start_factor > 1 or end_factor > 1:
        raise ValueError("linear_warmup: start_factor and end_factor must be at most 1")
    return lambda t: lr * (start_factor
                           + (end_factor - start_factor) * min(t, total_iters) / total_iters)


def sequential(schedules: Sequence[Schedule], milestones: Sequence[int]) -> Schedule:
    """Run ``schedules[0]`` until ``milestones[0]``, then ``schedules[1]`` restarted at
    ``t = 0``, and so on (``SequentialLR``). Typical use: warm-up, then cosine decay."""
    schedules, milestones = list(schedules), list(milestones)
    if len(milestones) != len(schedules) - 1:
        raise ValueError(
            f"sequential: {len(schedules)} schedules need {len(schedules) - 1} milestones, "
            f"got {len(milestones)}"
        )
    if any(b <= a for a, b in zip([0] + milestones, milestones)):
        raise ValueError(f"sequential: milestones must increase from > 0, got {milestones}")

    def schedule(t: int) -> float:
        i = bisect.bisect_right(milestones, t)
        start = milestones[i - 1] if i else 0
        return schedules[i](t - start)

    return schedule


class LRScheduler:
    """Sets ``optimizer.lr = schedule(t)``; call :meth:`step` once per epoch (or per batch).

    Args:
        optimizer: any :class:`~trainart.optim.Optimizer`.
        schedule: a function ``t -> lr`` such as :func:`cosine_annealing`.
    """

    def __init__(self, optimizer, schedule: Schedule):
        if not callable(schedule):
            raise TypeError(f"LRScheduler: schedule must be a function t -> lr, got {schedule!r}")
        self.optimizer, self.schedule, self.t = optimizer, schedule, 0
        self.optimizer.lr = schedule(0)

    def step(self) -> float:
        """Advance one epoch and return the new learning rate."""
        self.t += 1
        self.optimizer.lr = self.schedule(self.t)
        return self.optimizer.lr

    def get_last_lr(self) -> float:
        """The learning rate in force now."""
        return self.optimizer.lr
