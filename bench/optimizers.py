"""Optimizer step time: trainart SGD-momentum and Adam against ``torch.optim``.

One parameter of ``n`` float32 entries with a fixed random gradient; one step is timed.
trainart runs on a NumPy array (gradients passed in) and on a ``torch.nn.Parameter`` (reads
``p.grad``), both with ``check_finite=False`` because torch does not check (one extra row
shows what the default check costs). torch runs its three implementations: single-tensor
(``foreach=False``), ``foreach=True`` and ``fused=True``. Every case of one optimizer and one
size is timed in one :func:`~bench.timing.interleaved` run; ratios are against torch's
single-tensor step. Call inside :func:`bench.timing.one_thread`.

On float32 tensors trainart's SGD and Adam take torch's fused in-place operations in the
order of torch's single-tensor step (:func:`trainart.optim.base.torch_kernels`), so the
"trainart torch tensors" rows measure trainart's overhead around the same arithmetic.
"""

from __future__ import annotations

import numpy as np
import torch

from trainart import optim

from .report import Row
from .timing import fmt_seconds, interleaved, ratio

GROUP = "optimizer step"
SIZES = (1_000_000, 10_000_000)
SMOKE_SIZES = (1_000,)

# name -> (trainart class, torch class, shared keyword arguments)
RULES = {
    "SGD-momentum": (optim.SGD, torch.optim.SGD, dict(lr=1e-3, momentum=0.9)),
    "Adam": (optim.Adam, torch.optim.Adam, dict(lr=1e-3)),
}
TARGETS = {"trainart NumPy": 1.0, "trainart torch tensors": 1.2}


def _size(n: int) -> str:
    return f"{n // 1_000_000}M" if n >= 1_000_000 else f"{n}"


def cases(rule: str, n: int, seed: int = 0) -> dict:
    """name -> ``(step, param)``: a function taking one step, and the parameter it updates.

    Every case starts from the same parameter values (its own copy, with its own state);
    all share one gradient (NumPy and torch views of the same memory).
    """
    ta_cls, torch_cls, kw = RULES[rule]
    rng = np.random.default_rng(seed)
    start = rng.standard_normal(n).astype(np.float32)
    grad = rng.standard_normal(n).astype(np.float32)

    def torch_param():
        p = torch.nn.Parameter(torch.from_numpy(start.copy()))
        p.grad = torch.from_numpy(grad)
        return p

    out = {}
    for label, impl in (("torch single-tensor", dict(foreach=False)),
                        ("torch foreach", dict(foreach=True)),
                        ("torch fused", dict(fused=True))):
        p = torch_param()
        out[label] = (torch_cls([p], **kw, **impl).step, p)
    p = start.copy()
    ta_np = ta_cls([p], **kw, check_finite=False)
    out["trainart NumPy"] = (lambda: ta_np.step([grad]), p)
    p = torch_param()
    out["trainart torch tensors"] = (ta_cls([p], **kw, check_finite=False).step, p)
    p = start.copy()
    ta_checked = ta_cls([p], **kw)
    out["trainart NumPy, check_finite=True"] = (lambda: ta_checked.step([grad]), p)
    return out


def run(smoke: bool = False) -> list[Row]:
    """The optimizer rows: every rule at every size, ratios against torch single-tensor."""
    rows = []
    sizes = SMOKE_SIZES if smoke else SIZES
    rounds = 3 if smoke else 15
    for n in sizes:
        for rule in RULES:
            fns = {label: step for label, (step, _) in cases(rule, n).items()}
            number = 1 if n >= 5_000_000 else 3
            times = interleaved(fns, rounds=rounds, number=number, warmup=2)
            ref = times["torch single-tensor"]
            for label, t in times.items():
                if label == "torch single-tensor":
                    continue
                r = ratio(t, ref)
                limit = TARGETS.get(label)
                rows.append(Row(
                    GROUP, f"{rule}, {_size(n)} float32: {label} vs torch single-tensor",
                    fmt_seconds(t.median), fmt_seconds(ref.median), r,
                    f"<= {limit:.1f}x" if limit else "",
                    None if limit is None else round(r, 2) <= limit,
                    {"n": n, "seconds": t.seconds, "reference_seconds": ref.seconds,
                     "spread": round(t.spread, 3), "reference_spread": round(ref.spread, 3)},
                ))
            del fns
    return rows
