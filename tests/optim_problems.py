"""The small problem the optimizer tests share: a float64 tanh regression network."""

from __future__ import annotations

import torch

F64 = torch.float64


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
