r"""Grid, random and coarse-to-fine search (the book's chapter "Searching for
hyperparameters").

An *objective* maps a configuration (a dict of hyperparameters) to a number to minimize,
typically a validation loss::

    def objective(params):
        model = mlp([784, params["width"], 10], seed=0)
        opt = torch.optim.SGD(model.parameters(), lr=params["lr"])
        hist = train_classifier(model, opt, train_val_split(data, 0.2), epochs=5)
        return hist["test_loss"][-1]          # the validation loss

Return a float, or a dict with a ``"value"`` key and other numbers (e.g. the validation
accuracy), which are kept in ``Trial.info``. A diverged run may return ``nan`` or
``inf``: it sorts last. Use ``direction="maximize"`` for an accuracy.

Every search returns a :class:`~trainart.tuning.results.Results`
(:mod:`trainart.tuning.results`), a list of :class:`~trainart.tuning.results.Trial` in the
order they were run, with ``.best``, ``.top(k)`` and a printable ``.table()``.

**Determinism.** The configurations depend only on ``seed``; seed the training inside the
objective too (``mlp(..., seed=0)``, ``train_classifier(..., seed=0)``) and the same
search gives the same numbers.

**Parallel trials.** ``n_jobs > 1`` evaluates trials in local processes and returns
exactly what ``n_jobs=1`` returns (:mod:`trainart.tuning.parallel`).

The package is split as the book is: result types in :mod:`trainart.tuning.results`, the
parallel runner in :mod:`trainart.tuning.parallel`, the searches of the first chapter here,
successive halving (the "automated" chapter) in :mod:`trainart.tuning.halving`. This module
still exports every name it exported before the split (``Trial``, ``Results``,
``successive_halving``).

References:
    Bergstra & Bengio, *Random Search for Hyper-Parameter Optimization*, JMLR 2012.
    Jamieson & Talwalkar, *Non-stochastic Best Arm Identification and Hyperparameter
    Optimization*, AISTATS 2016 (successive halving). Li et al., *Hyperband*, JMLR 2018.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping

from .._checks import generator, non_negative, positive_int
from .halving import successive_halving
from .parallel import _Evaluator
from .results import Results, Trial, _check_direction, _results
from .spaces import Choice, IntUniform, LogUniform, Uniform, check_space, sample_config

__all__ = ["Trial", "Results", "grid_search", "grid_from_space", "random_search",
           "refine_space", "coarse_to_fine", "successive_halving"]


# Grid and random search


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
    n_trials = positive_int("random_search", "n_trials", n_trials)
    rng = generator("random_search", seed)
    configs = [sample_config(space, rng) for _ in range(n_trials)]
    with _Evaluator("random_search", objective, n_jobs) as evaluate:
        outs = evaluate(configs)
    return _results(configs, outs, direction)


# Coarse-to-fine


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
    top_k = positive_int("refine_space", "top_k", top_k)
    margin = non_negative("refine_space", "margin", margin)
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
    rounds = positive_int("coarse_to_fine", "rounds", rounds)
    trials_per_round = positive_int("coarse_to_fine", "trials_per_round",
                                    trials_per_round)
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
