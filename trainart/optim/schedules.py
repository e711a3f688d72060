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
    milestones = [_checks.positive_int("sequential", f"milestones[{i}]", m)
                  for i, m in enumerate(milestones)]
    if any(b <= a for a, b in zip([0] + milestones, milestones)):
        raise ValueError(f"sequential: milestones must increase from > 0, got {milestones}")

    def schedule(t: int) -> float:
        i = bisect.bisect_right(milestones, t)
        start = milestones[i - 1] if i else 0
        return schedules[i](t - start)

    return schedule


class LRScheduler:
    """Sets the optimizer's learning rate to ``schedule(t)``; call :meth:`step` once per epoch
    (or per batch).

    With parameter groups, give one schedule per group (torch's schedulers scale each
    group's own initial rate), e.g. for discriminative fine-tuning::

        sched = LRScheduler(opt, [cosine_annealing(g["lr"], T_max=50) for g in opt.param_groups])

    One schedule sets every group's rate (refused when the groups' rates differ, as that
    would erase the difference).

    Args:
        optimizer: any :class:`~trainart.optim.Optimizer`.
        schedule: a function ``t -> lr`` such as :func:`cosine_annealing`, or a list of them,
            one per parameter group.
    """

    def __init__(self, optimizer, schedule: Schedule | Sequence[Schedule]):
        owner = "LRScheduler"
        self.per_group = not callable(schedule)
        schedules = list(schedule) if self.per_group and isinstance(schedule, Sequence) else [
            schedule]
        for i, s in enumerate(schedules):
            if not callable(s):
                what = f"schedule[{i}]" if self.per_group else "schedule"
                raise TypeError(f"{owner}: {what} must be a function t -> lr (or a list of "
                                f"them, one per parameter group), got {s!r}")
        groups = optimizer.param_groups
        if self.per_group and len(schedules) != len(groups):
            raise ValueError(f"{owner}: schedule must have one function per parameter group: "
                             f"the optimizer has {len(groups)} groups, got {len(schedules)}")
        if not self.per_group and len({g["lr"] for g in groups}) > 1:
            raise ValueError(
                f"{owner}: the optimizer's parameter groups have different learning rates "
                f"{[g['lr'] for g in groups]}, and one schedule would set them all alike; pass "
                f"one schedule per group, e.g. [cosine_annealing(g['lr'], T_max) for g in "
                f"opt.param_groups]")
        self.optimizer, self.schedules, self.t = optimizer, schedules, 0
        self._apply()

    @property
    def schedule(self) -> Schedule:
        """The schedule (the first one, with one per group)."""
        return self.schedules[0]

    def _lrs(self, t: int) -> list[float]:
        groups = self.optimizer.param_groups
        if not self.per_group:
            return [self.schedules[0](t)] * len(groups)
        if len(self.schedules) != len(groups):
            raise ValueError(f"LRScheduler: the optimizer now has {len(groups)} parameter "
                             f"groups but the scheduler {len(self.schedules)} schedules")
        return [s(t) for s in self.schedules]

    def _apply(self) -> None:
        for group, lr in zip(self.optimizer.param_groups, self._lrs(self.t)):
            group["lr"] = _checks.non_negative("LRScheduler", "schedule(t)", lr)

    def step(self):
        """Advance one epoch and return the new learning rate (a list, one per group, when
        the scheduler has one schedule per group)."""
        self.t += 1
        self._apply()
        return self.get_last_lr()

    def get_last_lr(self):
        """The learning rate in force now (a list with one schedule per group)."""
        lrs = [g["lr"] for g in self.optimizer.param_groups]
        return lrs if self.per_group else lrs[0]

    def state_dict(self) -> dict:
        """``{"last_epoch": t, "last_lr": [lr per group]}`` (torch's names). The schedules
        are functions and are not saved: rebuild the scheduler with the same ones."""
        return {"last_epoch": self.t, "last_lr": [g["lr"] for g in self.optimizer.param_groups]}

    def load_state_dict(self, state_dict) -> None:
        """Resume at the saved epoch: set ``t`` and the learning rates ``schedule(t)``.

        Raises:
            ValueError: when the state dict is malformed, or when this scheduler's schedules
                do not give the saved learning rates (it was built with other ones).
        """
        owner = "LRScheduler.load_state_dict"
        if not isinstance(state_dict, dict) or set(state_dict) != {"last_epoch", "last_lr"}:
            raise ValueError(f"{owner}: state_dict must be a dict with 'last_epoch' and "
                             f"'last_lr' (from LRScheduler.state_dict()), got {state_dict!r}")
        t = _checks.non_negative_int(owner, "state_dict['last_epoch']", state_dict["last_epoch"])
        lrs = self._lrs(t)
        if list(state_dict["last_lr"]) != lrs:
            raise ValueError(f"{owner}: at t = {t} the saved learning rates are "
                             f"{list(state_dict['last_lr'])}, this scheduler's schedules give "
                             f"{lrs}; build it with the schedules of the saved run")
        self.t = t
        self._apply()
