r"""Hyperparameter search: grid, random, coarse-to-fine and successive halving.

An *objective* maps a configuration (a dict of hyperparameters) to a number to minimize,
typically a validation loss::

    def objective(params):
        model = mlp([784, params["width"], 10], seed=0)
        opt = torch.optim.SGD(model.parameters(), lr=params["lr"])
        hist = train_classifier(model, opt, train_val_split(data, 0.2), epochs=5)
        return hist["test_loss"][-1]          # the validation loss

Return a float, or a dict with a ``"value"`` key and other numbers (e.g. the validation
accuracy), which are kept in :attr:`Trial.info`. A diverged run may return ``nan`` or
``inf``: it sorts last. Use ``direction="maximize"`` for an accuracy.

Every search returns a :class:`Results`, a list of :class:`Trial` in the order they were
run, with ``.best``, ``.top(k)`` and a printable ``.table()``.

**Determinism.** The configurations depend only on ``seed``; seed the training inside the
objective too (``mlp(..., seed=0)``, ``train_classifier(..., seed=0)``) and the same
search gives the same numbers.

**Parallel trials.** ``n_jobs > 1`` evaluates trials in ``n_jobs`` local processes
(``concurrent.futures.ProcessPoolExecutor``, started with ``spawn``, each worker limited to
one torch/OpenMP thread) and returns exactly what ``n_jobs=1`` returns, in the same order.
The objective must be picklable: a module-level function, a ``functools.partial`` of one,
or, thanks to ``cloudpickle``, a function defined in a notebook (its globals, e.g. the data
set, are copied once to each worker). It must not rely on state changed in the parent.
Each worker is a fresh Python that imports what the objective needs (torch: a few
seconds), so processes pay off only when trials take longer than that; on a machine with
``k`` cores use at most ``n_jobs = k``.
For many machines, share an Optuna study through a database instead
(:func:`trainart.tuning.optuna_search`).

References:
    Bergstra & Bengio, *Random Search for Hyper-Parameter Optimization*, JMLR 2012.
    Jamieson & Talwalkar, *Non-stochastic Best Arm Identification and Hyperparameter
    Optimization*, AISTATS 2016 (successive halving). Li et al., *Hyperband*, JMLR 2018.
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from .._checks import generator
from .spaces import Choice, IntUniform, LogUniform, Uniform, check_space, sample_config

__all__ = ["Trial", "Results", "grid_search", "grid_from_space", "random_search",
           "refine_space", "coarse_to_fine", "successive_halving"]

_DIRECTIONS = ("minimize", "maximize")


# ---------------------------------------------------------------------------------------
# Trials and results
# ---------------------------------------------------------------------------------------


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
    if direction not in _DIRECTIONS:
        raise ValueError(f"{owner}: direction must be 'minimize' or 'maximize', "
                         f"got {direction!r}")
    return direction


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
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
            raise ValueError(f"Results.top: k must be an integer >= 1, got {k!r}")
        return Results(self.sorted()[:int(k)], self.direction)

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
        if isinstance(digits, bool) or not isinstance(digits, int) or digits < 1:
            raise ValueError(f"Results.table: digits must be an integer >= 1, got {digits!r}")
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
        body = [[fmt(cols[c][i]) for c in columns] for i in range(len(trials))]
        widths = [max(len(h), *(len(r[j]) for r in body)) if body else len(h)
                  for j, h in enumerate(header)]
        lines = ["| " + " | ".join(h.rjust(w) for h, w in zip(header, widths)) + " |",
                 "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
        lines += ["| " + " | ".join(s.rjust(w) for s, w in zip(r, widths)) + " |"
                  for r in body]
        return "\n".join(lines)

    def __getitem__(self, index):
        out = super().__getitem__(index)
        return Results(out, self.direction) if isinstance(index, slice) else out

    def __repr__(self) -> str:
        return f"Results({len(self)} trials, direction={self.direction!r})"


# ---------------------------------------------------------------------------------------
# Evaluating trials, serially or in processes
# ---------------------------------------------------------------------------------------


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
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, (int, np.integer)) or n_jobs < 1:
        raise ValueError(f"{owner}: n_jobs must be an integer >= 1, got {n_jobs!r}")
    return int(n_jobs)


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


def _results(configs, outs, direction, start=0, budgets=None, infos=None) -> Results:
    trials = []
    for i, (params, (value, info, secs)) in enumerate(zip(configs, outs)):
        extra = dict(infos[i]) if infos is not None else {}
        extra.update(info)
        trials.append(Trial(start + i, dict(params), value,
                            None if budgets is None else budgets[i], secs, extra))
    return Results(trials, direction)


# ---------------------------------------------------------------------------------------
# Grid and random search
# ---------------------------------------------------------------------------------------


def grid_from_space(space, points_per_dim) -> dict[str, list]:
    """A grid for :func:`grid_search` from a search space: ``points_per_dim`` values of each
    distribution's ``.grid(k)`` (evenly spaced in log space for ``LogUniform``; every
    option of a ``Choice``).

    Args:
        space: ``dict[str, distribution]``.
        points_per_dim: an int for every dimension, or a dict ``{name: k}``.
    """
    space = check_space("grid_from_space", space)
    if isinstance(points_per_dim, Mapping):
        missing = [n for n in space if n not in points_per_dim and
                   not isinstance(space[n], Choice)]
        if missing:
            raise ValueError(f"grid_from_space: points_per_dim has no entry for {missing}")
        ks = {n: points_per_dim.get(n, 1) for n in space}
    else:
        ks = dict.fromkeys(space, points_per_dim)
    return {n: space[n].grid(ks[n]) for n in space}


def _check_grid(owner: str, grid) -> dict[str, list]:
    if not isinstance(grid, Mapping) or not grid:
        raise TypeError(f"{owner}: grid must be a non-empty dict of name -> list of values, "
                        f"got {grid!r}")
    out = {}
    for name, values in grid.items():
        if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
            raise TypeError(f"{owner}: grid[{name!r}] must be a list of values, got {values!r}")
        values = list(values)
        if not values:
            raise ValueError(f"{owner}: grid[{name!r}] must not be empty")
        for i, a in enumerate(values):
            if any(a == b for b in values[:i]):
                raise ValueError(f"{owner}: grid[{name!r}] holds {a!r} twice")
        out[name] = values
    return out


def grid_search(objective, grid, direction: str = "minimize", n_jobs: int = 1) -> Results:
    r"""Evaluate every combination of the grid's values: the Cartesian product
    :math:`V_1 \times \dots \times V_d`, :math:`\prod_i |V_i|` trials (the last name varies
    fastest, as ``itertools.product``).

    The cost grows exponentially with the number of hyperparameters, and with
    :math:`k` points per axis only :math:`k` distinct values of the one hyperparameter that
    matters get tried, whatever the total budget (Bergstra & Bengio, 2012).

    Args:
        objective: ``objective(params) -> float`` (or a dict with ``"value"``).
        grid: ``{name: list of values}``, e.g. from :func:`grid_from_space`.
        direction: ``"minimize"`` or ``"maximize"``.
        n_jobs: processes evaluating trials in parallel (same results as 1).

    Returns:
        :class:`Results` in grid order.
    """
    direction = _check_direction("grid_search", direction)
    grid = _check_grid("grid_search", grid)
    names = list(grid)
    configs = [dict(zip(names, combo)) for combo in itertools.product(*grid.values())]
    with _Evaluator("grid_search", objective, n_jobs) as evaluate:
        outs = evaluate(configs)
    return _results(configs, outs, direction)


def _check_count(owner: str, name: str, n, low: int = 1) -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < low:
        raise ValueError(f"{owner}: {name} must be an integer >= {low}, got {n!r}")
    return int(n)


def random_search(objective, space, n_trials: int, seed: int = 0,
                  direction: str = "minimize", n_jobs: int = 1) -> Results:
    """Evaluate ``n_trials`` configurations drawn independently from ``space``.

    With the same budget as a grid, random search tries ``n_trials`` distinct values of
    *every* hyperparameter, so it finds good values of the few that matter far more often
    (Bergstra & Bengio, 2012).

    Args:
        objective: ``objective(params) -> float`` (or a dict with ``"value"``).
        space: ``dict[str, distribution]``.
        n_trials: number of configurations.
        seed: seed of the configurations (``np.random.default_rng(seed)``); same seed ->
            same configurations.
        direction: ``"minimize"`` or ``"maximize"``.
        n_jobs: processes evaluating trials in parallel (same results as 1).

    Returns:
        :class:`Results` in sampling order.
    """
    direction = _check_direction("random_search", direction)
    space = check_space("random_search", space)
    n_trials = _check_count("random_search", "n_trials", n_trials)
    rng = generator("random_search", seed)
    configs = [sample_config(space, rng) for _ in range(n_trials)]
    with _Evaluator("random_search", objective, n_jobs) as evaluate:
        outs = evaluate(configs)
    return _results(configs, outs, direction)


# ---------------------------------------------------------------------------------------
# Coarse-to-fine
# ---------------------------------------------------------------------------------------


def refine_space(space, results, top_k: int = 5, margin: float = 0.25, clip: bool = True):
    r"""The box around the ``top_k`` best trials: the next, finer search space.

    For each numeric hyperparameter, with :math:`a, b` the smallest and largest value among
    the top trials (in log space for ``LogUniform`` and log ``IntUniform``):

    .. math::

        [a - m(b - a),\; b + m(b - a)]

    with :math:`m` = ``margin`` (when :math:`a = b`, :math:`b - a` is replaced by a tenth
    of the old width), clipped to the old bounds when ``clip``. A ``Choice`` keeps the
    options that appear among the top trials. Dimensions missing from the trials are kept.

    Args:
        space: the current ``dict[str, distribution]``.
        results: :class:`Results` whose trials were drawn from ``space``.
        top_k: how many of the best trials define the box.
        margin: relative padding on each side.
        clip: stay inside the old bounds (``False`` lets the box grow past an edge, useful
            when the best value sits on the boundary).

    Returns:
        A new space of the same kinds of distributions.
    """
    space = check_space("refine_space", space)
    if not isinstance(results, Results):
        raise TypeError(f"refine_space: results must be Results, got {type(results).__name__}")
    top_k = _check_count("refine_space", "top_k", top_k)
    if not (isinstance(margin, (int, float)) and margin >= 0 and math.isfinite(margin)):
        raise ValueError(f"refine_space: margin must be a number >= 0, got {margin!r}")
    top = [t for t in results.sorted()[:top_k] if math.isfinite(t.value)]
    if not top:
        raise ValueError("refine_space: results has no trial with a finite value")
    new = {}
    for name, dist in space.items():
        vals = [t.params[name] for t in top if name in t.params]
        if not vals:
            new[name] = dist
            continue
        if isinstance(dist, Choice):
            new[name] = Choice([o for o in dist.options if any(o == v for v in vals)])
            continue
        log = dist.log
        f = (lambda v: math.log(v)) if log else float
        inv = math.exp if log else float
        lo0, hi0 = f(dist.low), f(dist.high)
        a, b = min(f(v) for v in vals), max(f(v) for v in vals)
        width = (b - a) if b > a else 0.1 * (hi0 - lo0)
        lo, hi = a - margin * width, b + margin * width
        if b == a and margin == 0:
            lo, hi = a - 0.05 * (hi0 - lo0), b + 0.05 * (hi0 - lo0)
        if clip:
            lo, hi = max(lo, lo0), min(hi, hi0)
        if isinstance(dist, IntUniform):
            ilo, ihi = int(math.floor(inv(lo) + 1e-9)), int(math.ceil(inv(hi) - 1e-9))
            if clip:
                ilo, ihi = max(ilo, dist.low), min(ihi, dist.high)
            if log:
                ilo = max(ilo, 1)
            if ihi <= ilo:  # keep at least two integers
                if not clip or ilo + 1 <= dist.high:
                    ihi = ilo + 1
                else:
                    ilo = ihi - 1
            new[name] = IntUniform(ilo, ihi, log=log)
        elif isinstance(dist, LogUniform):
            new[name] = LogUniform(math.exp(lo), math.exp(hi))
        elif isinstance(dist, Uniform):
            new[name] = Uniform(lo, hi)
        else:  # pragma: no cover - check_space admits only the four kinds
            raise TypeError(f"refine_space: cannot refine {dist!r}")
    return new


def coarse_to_fine(objective, space, rounds: int, trials_per_round: int, seed: int = 0,
                   top_k: int = 5, margin: float = 0.25, clip: bool = True,
                   direction: str = "minimize", n_jobs: int = 1) -> tuple[Results, list[dict]]:
    """Random search in rounds, each in the box around the best trials so far.

    Round 0 samples ``trials_per_round`` configurations from ``space``; round :math:`r`
    samples from ``refine_space(space_{r-1}, all trials so far, top_k, margin)``. The
    CS231n recipe: a coarse search over decades for a few epochs, then finer searches
    around what worked, with longer training.

    Args:
        objective: ``objective(params) -> float``.
        space: the first, coarse space.
        rounds: number of rounds (>= 1).
        trials_per_round: configurations per round.
        seed: one generator seeded once draws every round's configurations.
        top_k, margin, clip: passed to :func:`refine_space`.
        direction: ``"minimize"`` or ``"maximize"``.
        n_jobs: processes per round (same results as 1).

    Returns:
        ``(results, spaces)``: all trials (``trial.info["round"]`` tells the round) and the
        space used in each round (``spaces[0] is space``'s copy).
    """
    direction = _check_direction("coarse_to_fine", direction)
    space = check_space("coarse_to_fine", space)
    rounds = _check_count("coarse_to_fine", "rounds", rounds)
    trials_per_round = _check_count("coarse_to_fine", "trials_per_round", trials_per_round)
    rng = generator("coarse_to_fine", seed)
    results, spaces = Results([], direction), []
    current = space
    with _Evaluator("coarse_to_fine", objective, n_jobs) as evaluate:
        for r in range(rounds):
            if r > 0:
                current = refine_space(current, results, top_k=top_k, margin=margin,
                                       clip=clip)
            spaces.append(current)
            configs = [sample_config(current, rng) for _ in range(trials_per_round)]
            results.extend(_results(configs, evaluate(configs), direction,
                                    start=len(results), infos=[{"round": r}] * len(configs)))
    return results, spaces


# ---------------------------------------------------------------------------------------
# Successive halving
# ---------------------------------------------------------------------------------------


def successive_halving(objective, space, n_configs: int, min_budget, eta: int = 3,
                       seed: int = 0, max_budget=None, direction: str = "minimize",
                       n_jobs: int = 1) -> Results:
    r"""Successive halving: try many configurations cheaply, give the promising ones more.

    Rung :math:`i = 0, 1, \dots` trains the :math:`n_i` surviving configurations with
    budget :math:`r_i = r_0 \eta^i` (epochs, steps, examples...), then keeps the best
    :math:`n_{i+1} = \lfloor n_i / \eta \rfloor` (at least 1). It stops when one
    configuration is left or the next budget would exceed ``max_budget``. The total cost is
    about :math:`n_0 r_0` per rung instead of :math:`n_0 r_{\max}` for all
    (Jamieson & Talwalkar, 2016; Hyperband runs it with several :math:`n_0`).

    ``objective(params, budget)`` trains from scratch with the given budget; the
    configurations that survive are retrained with the larger budget.

    Args:
        objective: ``objective(params, budget) -> float``.
        space: ``dict[str, distribution]``.
        n_configs: configurations in the first rung :math:`n_0`.
        min_budget: the first rung's budget :math:`r_0` (an int stays an int).
        eta: the reduction factor :math:`\eta \ge 2`.
        seed: seed of the configurations.
        max_budget: the largest budget allowed (no limit when ``None``).
        direction: ``"minimize"`` or ``"maximize"``.
        n_jobs: processes per rung (same results as 1).

    Returns:
        :class:`Results` with one trial per (configuration, rung): ``trial.budget``,
        ``trial.info["config"]`` (the configuration's index) and ``trial.info["rung"]``.
        ``results.best`` is the best trial of the last rung.
    """
    direction = _check_direction("successive_halving", direction)
    space = check_space("successive_halving", space)
    n_configs = _check_count("successive_halving", "n_configs", n_configs)
    eta = _check_count("successive_halving", "eta", eta, low=2)
    if isinstance(min_budget, bool) or not isinstance(min_budget, (int, float, np.number)) \
            or not min_budget > 0 or not math.isfinite(min_budget):
        raise ValueError(f"successive_halving: min_budget must be a number > 0, "
                         f"got {min_budget!r}")
    if max_budget is not None and not (isinstance(max_budget, (int, float, np.number))
                                       and max_budget >= min_budget):
        raise ValueError(f"successive_halving: max_budget must be >= min_budget "
                         f"({min_budget}), got {max_budget!r}")
    rng = generator("successive_halving", seed)
    configs = [sample_config(space, rng) for _ in range(n_configs)]
    alive = list(range(n_configs))
    results = Results([], direction)
    budget, rung = min_budget, 0
    with _Evaluator("successive_halving", objective, n_jobs) as evaluate:
        while True:
            outs = evaluate([configs[i] for i in alive], budgets=[budget] * len(alive))
            rung_results = _results([configs[i] for i in alive], outs, direction,
                                    start=len(results), budgets=[budget] * len(alive),
                                    infos=[{"config": i, "rung": rung} for i in alive])
            results.extend(rung_results)
            n_keep = max(1, len(alive) // eta)
            next_budget = budget * eta
            if len(alive) == 1 or (max_budget is not None and next_budget > max_budget):
                break
            alive = [t.info["config"] for t in rung_results.sorted()[:n_keep]]
            budget, rung = next_budget, rung + 1
    return results
