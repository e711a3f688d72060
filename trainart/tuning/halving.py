r"""Successive halving: many configurations on a small budget, the promising ones on
larger budgets (the book's chapter "Automated search"; Hyperband runs it with several
first-rung sizes).

References:
    Jamieson & Talwalkar, *Non-stochastic Best Arm Identification and Hyperparameter
    Optimization*, AISTATS 2016. Li et al., *Hyperband*, JMLR 2018.
"""

from __future__ import annotations

from .._checks import generator, integer, is_integer, positive, positive_int
from .parallel import _Evaluator
from .results import Results, _check_direction, _results
from .spaces import check_space, sample_config

__all__ = ["successive_halving"]


def _budget(name: str, value):
    """A budget > 0: an integer stays an integer (epochs), anything else becomes a float."""
    if isinstance(value, bool):
        raise TypeError(f"successive_halving: {name} must be a number > 0, got {value!r}")
    return int(value) if is_integer(value) and value > 0 else \
        positive("successive_halving", name, value)


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
    n_configs = positive_int("successive_halving", "n_configs", n_configs)
    eta = integer("successive_halving", "eta", eta, minimum=2)
    min_budget = _budget("min_budget", min_budget)
    if max_budget is not None:
        max_budget = _budget("max_budget", max_budget)
        if max_budget < min_budget:
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
