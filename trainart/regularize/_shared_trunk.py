"""``SharedTrunk``, hard parameter sharing: the one class of :mod:`trainart.regularize.sharing`
that subclasses ``torch.nn.Module``, so it is defined here, where importing it loads torch.

``trainart.regularize.sharing.SharedTrunk``, ``trainart.regularize.SharedTrunk`` and the old
path ``trainart.regularize.penalties.SharedTrunk`` load this module on first access (PEP 562
``__getattr__``), so importing :mod:`trainart.regularize` does not load torch.
"""

from __future__ import annotations

import torch
from torch import nn

from .. import _checks

__all__ = ["SharedTrunk"]


class SharedTrunk(nn.Module):
    """Hard parameter sharing for multi-task learning: one trunk, one head per task.

    ``trunk: Linear -> ReLU -> ... -> Linear -> ReLU`` maps the input to a shared
    representation; ``heads[task]`` (a ``Linear``) maps it to that task's logits. Every
    task's gradient updates the trunk, which is the regularizer: the trunk must serve all.

    Args:
        in_features: input dimension.
        trunk_sizes: widths of the trunk's hidden layers, e.g. ``[64, 32]`` (at least one).
        head_sizes: ``{task name: number of classes}``.
        seed: the weights depend only on it (the global torch generator is left untouched).

    Example::

        net = SharedTrunk(64, [32], {"digit": 10, "parity": 2}, seed=0)
        logits = net(x, "parity")

    Reference: Caruana (1997), "Multitask learning"; Goodfellow et al. (2016), sec. 7.7.
    """

    def __init__(self, in_features: int, trunk_sizes, head_sizes: dict, seed: int = 0):
        super().__init__()
        owner = "SharedTrunk"
        in_features = _checks.positive_int(owner, "in_features", in_features)
        trunk_sizes = list(trunk_sizes)
        if not trunk_sizes:
            raise ValueError(f"{owner}: trunk_sizes must hold at least one width")
        for i, s in enumerate(trunk_sizes):
            _checks.positive_int(owner, f"trunk_sizes[{i}]", s)
        if not isinstance(head_sizes, dict) or not head_sizes:
            raise ValueError(f"{owner}: head_sizes must be a non-empty dict "
                             f"{{task: n_classes}}, got {head_sizes!r}")
        for task, n in head_sizes.items():
            if not isinstance(task, str) or not task or "." in task:
                raise ValueError(f"{owner}: head_sizes keys must be non-empty task names "
                                 f"without dots, got {task!r}")
            _checks.positive_int(owner, f"head_sizes[{task!r}]", n)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            layers, width = [], in_features
            for s in trunk_sizes:
                layers += [nn.Linear(width, s), nn.ReLU()]
                width = s
            self.trunk = nn.Sequential(*layers)
            self.heads = nn.ModuleDict({t: nn.Linear(width, n) for t, n in head_sizes.items()})

    def forward(self, x, task: str):
        """The logits of task ``task`` for the inputs ``x``: the shared trunk, then its head."""
        if task not in self.heads:
            raise ValueError(f"SharedTrunk: task must be one of {list(self.heads)}, "
                             f"got {task!r}")
        return self.heads[task](self.trunk(x))
