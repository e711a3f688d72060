"""Successive halving (trainart.tuning.halving): keeps the top 1/eta of each rung and
multiplies the budget by eta; integer budgets stay integers; bad arguments are named."""

import numpy as np
import pytest
from tuning_objectives import SPACE, log_quadratic, noisy_budget

from trainart.tuning import Results, random_search, successive_halving


def test_successive_halving_keeps_the_top_third_with_three_times_the_budget():
    res = successive_halving(noisy_budget, SPACE, n_configs=27, min_budget=2, eta=3, seed=0)
    rungs = [Results([t for t in res if t.info["rung"] == r]) for r in range(4)]
    assert [len(r) for r in rungs] == [27, 9, 3, 1] and len(res) == 40
    assert [r[0].budget for r in rungs] == [2, 6, 18, 54]
    assert all(isinstance(t.budget, int) for t in res)
    for prev, nxt in zip(rungs, rungs[1:]):
        assert all(t.budget == prev[0].budget * 3 for t in nxt)
        kept = {t.info["config"] for t in prev.top(len(prev) // 3)}
        assert {t.info["config"] for t in nxt} == kept
    assert res.best is rungs[-1][0]
    allbest = random_search(log_quadratic, SPACE, 27, seed=0).best
    assert res.best.params == allbest.params  # the same 27 configs, the best survives


def test_successive_halving_stops_at_max_budget():
    res = successive_halving(noisy_budget, SPACE, n_configs=20, min_budget=1.0, eta=2,
                             seed=1, max_budget=4)
    assert sorted({t.budget for t in res}) == [1.0, 2.0, 4.0]
    assert [sum(t.budget == b for t in res) for b in (1.0, 2.0, 4.0)] == [20, 10, 5]


def test_successive_halving_checks_its_arguments():
    res = successive_halving(noisy_budget, SPACE, np.int64(4), np.int64(1), eta=np.int64(2))
    assert [t.budget for t in res] == [1, 1, 1, 1, 2, 2, 4]
    with pytest.raises(ValueError, match="^successive_halving: eta must be an integer >= 2"):
        successive_halving(noisy_budget, SPACE, 9, 1, eta=1)
    with pytest.raises(ValueError, match="^successive_halving: n_configs must be an integer"):
        successive_halving(noisy_budget, SPACE, 0, 1)
    with pytest.raises(ValueError, match="^successive_halving: min_budget must be a finite"):
        successive_halving(noisy_budget, SPACE, 9, 0)
    with pytest.raises(TypeError, match="^successive_halving: min_budget must be a number"):
        successive_halving(noisy_budget, SPACE, 9, True)
    with pytest.raises(ValueError, match="^successive_halving: max_budget must be >= min"):
        successive_halving(noisy_budget, SPACE, 9, 2, max_budget=1)
