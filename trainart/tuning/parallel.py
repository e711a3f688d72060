r"""Evaluating the trials of a search, serially or in local processes.

``n_jobs > 1`` evaluates trials in ``n_jobs`` local processes
(``concurrent.futures.ProcessPoolExecutor``, started with ``spawn``, each worker limited to
one torch/OpenMP thread) and returns exactly what ``n_jobs=1`` returns, in the same order.
The objective must be picklable: a module-level function, a ``functools.partial`` of one,
or, thanks to ``cloudpickle``, a function defined in a notebook (its globals, e.g. the data
set, are copied once to each worker). It must not rely on state changed in the parent.
Each worker is a fresh Python that imports what the objective needs (torch: a few
seconds), so processes pay off only when trials take longer than that; on a machine with
``k`` cores use at most ``n_jobs = k``. For many machines, share an Optuna study through a
database instead (:func:`trainart.tuning.optuna_search`).

An objective returns a float, or a dict with a ``"value"`` key and other numbers, which a
search keeps in ``Trial.info``.
"""

from __future__ import annotations

import time
from collections.abc import Mapping

from .._checks import positive_int

__all__ = ["_Evaluator"]


def _split_value(owner: str, out) -> tuple[float, dict]:
    if isinstance(out, Mapping):
        if "value" not in out:
            raise ValueError(f"{owner}: an objective returning a dict must include 'value', "
                             f"got keys {sorted(out)}")
        info = {k: v for k, v in out.items() if k != "value"}
        out = out["value"]
    else:
        info = {}
    try:
        value = float(out)
    except (TypeError, ValueError):
        raise TypeError(f"{owner}: the objective must return a number or a dict with "
                        f"'value', got {out!r}") from None
    return value, info


def _call(objective, params, budget, owner):
    start = time.perf_counter()
    out = objective(dict(params)) if budget is None else objective(dict(params), budget)
    value, info = _split_value(owner, out)
    return value, info, time.perf_counter() - start


_WORKER_OBJECTIVE = None


def _worker_init(payload: bytes) -> None:
    import os
    import pickle
    import sys

    # one thread per worker: n_jobs workers share the cores (set before torch is imported)
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[var] = "1"
    global _WORKER_OBJECTIVE
    _WORKER_OBJECTIVE = pickle.loads(payload)
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(1)


def _worker_call(args):
    params, budget, owner = args
    return _call(_WORKER_OBJECTIVE, params, budget, owner)


def _dumps(owner: str, objective) -> bytes:
    try:
        import cloudpickle
    except ImportError:  # pragma: no cover - cloudpickle comes with joblib/optuna's deps
        import pickle as cloudpickle
    try:
        return cloudpickle.dumps(objective)
    except Exception as err:  # noqa: BLE001 - any pickling failure means the same thing
        raise TypeError(f"{owner}: with n_jobs > 1 the objective must be picklable "
                        f"({type(err).__name__}: {err})") from None


def _check_n_jobs(owner: str, n_jobs) -> int:
    return positive_int(owner, "n_jobs", n_jobs)


class _Evaluator:
    """Evaluates configurations in order, serially or in one pool of ``n_jobs`` spawned
    processes kept for the whole search (a context manager)."""

    def __init__(self, owner: str, objective, n_jobs: int = 1):
        if not callable(objective):
            raise TypeError(f"{owner}: objective must be callable, got "
                            f"{type(objective).__name__}")
        self.owner, self.objective = owner, objective
        self.n_jobs = _check_n_jobs(owner, n_jobs)
        self.payload = _dumps(owner, objective) if self.n_jobs > 1 else None
        self.pool = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.pool is not None:
            self.pool.shutdown()
            self.pool = None

    def __call__(self, configs: list[dict], budgets=None) -> list[tuple[float, dict, float]]:
        """``(value, info, seconds)`` for each config, in order."""
        budgets = [None] * len(configs) if budgets is None else list(budgets)
        if self.n_jobs == 1 or len(configs) <= 1:
            return [_call(self.objective, p, b, self.owner) for p, b in zip(configs, budgets)]
        if self.pool is None:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            self.pool = ProcessPoolExecutor(
                max_workers=self.n_jobs, mp_context=multiprocessing.get_context("spawn"),
                initializer=_worker_init, initargs=(self.payload,))
        args = [(p, b, self.owner) for p, b in zip(configs, budgets)]
        return list(self.pool.map(_worker_call, args))

