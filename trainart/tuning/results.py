r"""The result types of a search: :class:`Trial` (one evaluated configuration) and
:class:`Results` (the trials of a search, a ``list`` with ``.best``, ``.top(k)``,
``.table()``). Every search in :mod:`trainart.tuning` returns a :class:`Results`.

A value that is ``nan`` or ``inf`` marks a failed (diverged) run: it sorts last. With
``direction="maximize"`` (an accuracy) the largest value is best.

References:
    Bergstra & Bengio, *Random Search for Hyper-Parameter Optimization*, JMLR 2012.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .._checks import one_of, positive_int

__all__ = ["Trial", "Results"]

_DIRECTIONS = ("minimize", "maximize")


@dataclass
class Trial:
    """One evaluated configuration.

    Attributes:
        number: position in the search, from 0.
        params: the hyperparameters, ``{name: value}``.
        value: the objective (``nan``/``inf`` for a failed run).
        budget: the budget it was trained with (successive halving), else ``None``.
        seconds: wall time of the evaluation (ignored when comparing trials).
        info: extra numbers the objective returned, plus search bookkeeping
            (``"round"`` in :func:`coarse_to_fine`, ``"config"`` and ``"rung"`` in
            :func:`successive_halving`).
    """

    number: int
    params: dict
    value: float
    budget: float | None = None
    seconds: float | None = field(default=None, compare=False)
    info: dict = field(default_factory=dict)


def _check_direction(owner: str, direction) -> str:
    return one_of(owner, "direction", direction, _DIRECTIONS)


class Results(list):
    """The trials of a search (a ``list`` of :class:`Trial` in run order) and helpers to
    read them.

    Args:
        trials: the trials.
        direction: ``"minimize"`` (lower value is better) or ``"maximize"``.
    """

    def __init__(self, trials=(), direction: str = "minimize"):
        super().__init__(trials)
        self.direction = _check_direction("Results", direction)

    def _key(self, t: Trial) -> tuple:
        v = float(t.value)
        if not math.isfinite(v):
            return (1, 0.0, t.number)  # a failed run (nan or inf): last, in run order
        return (0, v if self.direction == "minimize" else -v, t.number)

    def sorted(self) -> Results:
        """The trials best first (ties keep run order; non-finite values, i.e. failed
        runs, last)."""
        return Results(sorted(self, key=self._key), self.direction)

    def top(self, k: int) -> Results:
        """The ``k`` best trials, best first."""
        k = positive_int("Results.top", "k", k)
        return Results(self.sorted()[:k], self.direction)

    @property
    def best(self) -> Trial:
        """The best trial. When trials carry budgets (successive halving), only those run
        with the largest budget compete: a short run's value is not comparable."""
        if not self:
            raise ValueError("Results.best: no trials")
        pool = self
        budgets = [t.budget for t in self if t.budget is not None]
        if budgets:
            pool = [t for t in self if t.budget == max(budgets)]
        return min(pool, key=self._key)

    def values(self) -> np.ndarray:
        """The objective values in run order."""
        return np.array([t.value for t in self], dtype=float)

    def best_so_far(self) -> np.ndarray:
        """Running best value after each trial (``nan`` until a finite value appears)."""
        out, best = [], math.nan
        for v in self.values():
            if math.isfinite(v) and (math.isnan(best) or (v < best if self.direction ==
                                                           "minimize" else v > best)):
                best = v
            out.append(best)
        return np.array(out)

    def column(self, name: str) -> list:
        """One column: a hyperparameter, an ``info`` entry, or ``"number"``, ``"value"``,
        ``"budget"``, ``"seconds"`` (``None`` where a trial lacks it)."""
        if name in ("number", "value", "budget", "seconds"):
            return [getattr(t, name) for t in self]
        if not any(name in t.params or name in t.info for t in self):
            raise KeyError(f"Results.column: no parameter or info named {name!r}")
        return [t.params.get(name, t.info.get(name)) for t in self]

    def param_names(self) -> list[str]:
        """Hyperparameter names in first-seen order."""
        names: dict[str, None] = {}
        for t in self:
            names.update(dict.fromkeys(t.params))
        return list(names)

    def to_dicts(self) -> list[dict]:
        """One flat dict per trial: number, the params, value, budget, seconds, info."""
        rows = []
        for t in self:
            row = {"number": t.number, **t.params, "value": t.value}
            if t.budget is not None:
                row["budget"] = t.budget
            row["seconds"] = t.seconds
            row.update(t.info)
            rows.append(row)
        return rows

    def table(self, columns=None, digits: int = 3, k: int | None = None,
              sort: bool = True) -> str:
        """A Markdown-style table for printing, best trial first.

        Args:
            columns: column names (default: number, the params, value, and budget when
                present).
            digits: significant digits of floats.
            k: show only the ``k`` best (all when ``None``).
            sort: best first (``False`` keeps run order).
        """
        digits = positive_int("Results.table", "digits", digits)
        trials = self.sorted() if sort else Results(self, self.direction)
        if k is not None:
            trials = trials.top(k) if sort else Results(trials[:k], self.direction)
        if columns is None:
            columns = ["number", *self.param_names(), "value"]
            if any(t.budget is not None for t in self):
                columns.append("budget")
        cols = {c: trials.column(c) if trials else [] for c in columns}

        def fmt(v) -> str:
            if isinstance(v, (float, np.floating)):
                return f"{float(v):.{digits}g}"
            return str(v)

        header = ["#" if c == "number" else c for c in columns]
        return _markdown_table(header, [[fmt(cols[c][i]) for c in columns]
                                        for i in range(len(trials))])

    def __getitem__(self, index):
        out = super().__getitem__(index)
        return Results(out, self.direction) if isinstance(index, slice) else out

    def __repr__(self) -> str:
        return f"Results({len(self)} trials, direction={self.direction!r})"



def _markdown_table(header, body) -> str:
    """A Markdown table of strings, every column right-aligned to its widest entry."""
    widths = [max(len(h), *(len(r[j]) for r in body)) if body else len(h)
              for j, h in enumerate(header)]
    lines = ["| " + " | ".join(h.rjust(w) for h, w in zip(header, widths)) + " |",
             "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    lines += ["| " + " | ".join(s.rjust(w) for s, w in zip(r, widths)) + " |" for r in body]
    return "\n".join(lines)


def _results(configs, outs, direction, start=0, budgets=None, infos=None) -> Results:
    """The :class:`Results` of evaluated ``configs``: ``outs`` holds the evaluator's
    ``(value, info, seconds)`` triples; trials are numbered from ``start``."""
    trials = []
    for i, (params, (value, info, secs)) in enumerate(zip(configs, outs)):
        extra = dict(infos[i]) if infos is not None else {}
        extra.update(info)
        trials.append(Trial(start + i, dict(params), value,
                            None if budgets is None else budgets[i], secs, extra))
    return Results(trials, direction)
