"""What the optimizer tests share: a float64 tanh regression network, and the check that two
trajectories are the same."""

from __future__ import annotations

import numpy as np
import torch

F64 = torch.float64
RTOL = 1e-10  # relative difference allowed at every step of a float64 trajectory


def make_problem(seed=0):
    """A non-convex loss: mean squared error of a 4-8-3 tanh network on fixed random data.
    Returns ``(loss, start)``: ``loss(params)`` and the four starting tensors."""
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(32, 4, generator=g, dtype=F64)
    Y = torch.randn(32, 3, generator=g, dtype=F64)
    start = [torch.randn(4, 8, generator=g, dtype=F64) * 0.7,
             torch.randn(8, generator=g, dtype=F64) * 0.1,
             torch.randn(8, 3, generator=g, dtype=F64) * 0.7,
             torch.randn(3, generator=g, dtype=F64) * 0.1]

    def loss(params):
        W1, b1, W2, b2 = params
        return ((torch.tanh(X @ W1 + b1) @ W2 + b2 - Y) ** 2).mean()

    return loss, start


def assert_same_trajectory(ours, theirs):
    """Every step of ``ours`` equals ``theirs`` to ``RTOL`` (relative to the step's largest
    entry), and the run moved: a test on a frozen trajectory proves nothing."""
    ours, theirs = np.asarray(ours), np.asarray(theirs)
    scale = np.max(np.abs(theirs), axis=1, keepdims=True)
    err = np.max(np.abs(ours - theirs) / scale, axis=1)
    worst = int(np.argmax(err))
    assert err[worst] < RTOL, f"step {worst + 1}: relative difference {err[worst]:.2e}"
    assert np.max(np.abs(theirs[-1] - theirs[0])) > 1e-3
