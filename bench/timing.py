"""Timing helpers shared by the benchmark groups: interleaved repeats, medians, one thread.

A machine shared with other work is noisy: a background job can slow one measurement by
50 %. Two defences, both used by every group:

* **interleaving**: each round times every case once, in a rotated order, so a slow spell
  hits all cases alike instead of whichever happened to run then;
* **medians**: the figure reported is the median over the rounds, and a ratio is the ratio
  of two such medians from the same run.

Absolute times depend on the machine and its load; the ratios are what to read.
"""

from __future__ import annotations

import contextlib
import gc
import statistics
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field


@dataclass
class Timing:
    """Seconds per call of one case, one value per round."""

    name: str
    seconds: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    @property
    def spread(self) -> float:
        """Interquartile range over the median (0.1 = the middle half within 10 %)."""
        if len(self.seconds) < 4:
            return 0.0
        q1, _, q3 = statistics.quantiles(self.seconds, n=4)
        return (q3 - q1) / self.median if self.median else 0.0


def interleaved(cases: Mapping[str, Callable[[], object]], *, rounds: int = 11,
                number: int = 1, warmup: int = 1) -> dict[str, Timing]:
    """Time every case ``rounds`` times, round-robin, ``number`` calls per measurement.

    Round ``r`` runs the cases starting from the ``r``-th (a rotation), so none always
    runs first (cold caches) or right after the same neighbour. The garbage collector is
    off while timing, as in :mod:`timeit`.

    Args:
        cases: name -> a function of no arguments (one call = one unit of work).
        rounds: how many measurements per case (their median is reported).
        number: calls per measurement (per-call time = total / number).
        warmup: untimed calls per case before the first round.

    Returns:
        name -> :class:`Timing`, in the order of ``cases``.
    """
    if rounds < 1 or number < 1 or warmup < 0:
        raise ValueError(f"interleaved: need rounds >= 1, number >= 1, warmup >= 0, got "
                         f"{rounds}, {number}, {warmup}")
    names = list(cases)
    out = {name: Timing(name) for name in names}
    for name in names:
        for _ in range(warmup):
            cases[name]()
    enabled = gc.isenabled()
    gc.disable()
    try:
        for r in range(rounds):
            k = r % len(names)
            for name in names[k:] + names[:k]:
                fn = cases[name]
                start = time.perf_counter()
                for _ in range(number):
                    fn()
                out[name].seconds.append((time.perf_counter() - start) / number)
    finally:
        if enabled:
            gc.enable()
    return out


def ratio(a: Timing, b: Timing) -> float:
    """``a``'s median time over ``b``'s (both from one :func:`interleaved` run)."""
    return a.median / b.median


@contextlib.contextmanager
def one_thread() -> Iterator[None]:
    """Run NumPy's BLAS/OpenMP pools and torch's intra-op pool on one thread each.

    ``threadpoolctl.threadpool_limits(1)`` for NumPy (and SciPy) and
    ``torch.set_num_threads(1)``; both are restored on exit.
    """
    import torch
    from threadpoolctl import threadpool_limits

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with threadpool_limits(limits=1):
            yield
    finally:
        torch.set_num_threads(before)


def fmt_seconds(s: float) -> str:
    """``s`` with a unit that keeps three significant digits (µs, ms or s)."""
    if s < 1e-3:
        return f"{s * 1e6:.3g} µs"
    if s < 1.0:
        return f"{s * 1e3:.3g} ms"
    return f"{s:.3g} s"
