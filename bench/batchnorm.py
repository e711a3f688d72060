"""Batch norm forward + backward: trainart's NumPy pair against torch autograd.

trainart: :func:`trainart.norm.batchnorm_forward` (training mode, running statistics
updated) then :func:`~trainart.norm.batchnorm_backward`. torch:
``torch.nn.functional.batch_norm`` on leaf tensors and ``out.backward(dout)``, which
computes the same three gradients. float32 on both sides, one thread each (call inside
:func:`bench.timing.one_thread`).
"""

from __future__ import annotations

import numpy as np
import torch

from trainart import norm

from .report import Row
from .timing import fmt_seconds, interleaved, ratio

GROUP = "batch norm fwd+bwd"
SHAPES = ((256, 1024), (64, 16, 32, 32))
SMOKE_SHAPES = ((8, 4), (4, 3, 2, 2))
TARGET = 1.5


def cases(shape: tuple, seed: int = 0) -> dict:
    """``{"trainart": fn, "torch": fn}``, each one forward and one backward pass."""
    rng = np.random.default_rng(seed)
    C = shape[1]
    x = rng.standard_normal(shape).astype(np.float32)
    dout = rng.standard_normal(shape).astype(np.float32)
    gamma = (1 + 0.1 * rng.standard_normal(C)).astype(np.float32)
    beta = (0.1 * rng.standard_normal(C)).astype(np.float32)
    rm, rv = np.zeros(C, np.float32), np.ones(C, np.float32)

    def trainart_step():
        _, cache = norm.batchnorm_forward(x, gamma, beta, rm, rv, training=True)
        return norm.batchnorm_backward(dout, cache)

    xt = torch.from_numpy(x.copy()).requires_grad_()
    gt = torch.from_numpy(gamma.copy()).requires_grad_()
    bt = torch.from_numpy(beta.copy()).requires_grad_()
    rmt, rvt = torch.zeros(C), torch.ones(C)
    doutt = torch.from_numpy(dout)

    def torch_step():
        xt.grad = gt.grad = bt.grad = None
        out = torch.nn.functional.batch_norm(xt, rmt, rvt, gt, bt, training=True)
        out.backward(doutt)

    return {"trainart": trainart_step, "torch": torch_step}


def run(smoke: bool = False) -> list[Row]:
    rows = []
    for shape in SMOKE_SHAPES if smoke else SHAPES:
        times = interleaved(cases(shape), rounds=3 if smoke else 21, number=3 if smoke else 5,
                            warmup=2)
        ta, ref = times["trainart"], times["torch"]
        r = ratio(ta, ref)
        rows.append(Row(GROUP, f"{shape} float32: trainart vs torch autograd",
                        fmt_seconds(ta.median), fmt_seconds(ref.median), r,
                        f"<= {TARGET:.1f}x", round(r, 2) <= TARGET,
                        {"shape": list(shape), "seconds": ta.seconds,
                         "reference_seconds": ref.seconds}))
    return rows
