"""Grid, random and coarse-to-fine search (trainart.tuning.search): grids are complete,
seeded searches repeat, coarse-to-fine narrows around the best; the module still exports
every name it did before the package was split."""

import itertools
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from tuning_objectives import LR_OPT, SPACE, log_quadratic

from trainart.tuning import (
    Choice,
    IntUniform,
    LogUniform,
    Results,
    Trial,
    coarse_to_fine,
    grid_from_space,
    grid_search,
    random_search,
    refine_space,
)


def test_invalid_search_arguments_raise_named_errors():
    with pytest.raises(TypeError, match="^random_search: space"):
        random_search(log_quadratic, [LogUniform(1e-3, 1)], 3)
    with pytest.raises(ValueError, match="^random_search: n_trials"):
        random_search(log_quadratic, SPACE, 0)
    with pytest.raises(ValueError, match="^grid_search: direction"):
        grid_search(log_quadratic, {"lr": [1e-3]}, direction="down")
    with pytest.raises(ValueError, match=r"^grid_search: grid\['lr'\] holds 0.1 twice"):
        grid_search(log_quadratic, {"lr": [0.1, 0.1]})
    res = random_search(log_quadratic, SPACE, 4, seed=0)
    with pytest.raises(ValueError, match="^refine_space: top_k must be an integer >= 1"):
        refine_space(SPACE, res, top_k=0)
    with pytest.raises(ValueError, match="^refine_space: margin must be a finite number >= 0"):
        refine_space(SPACE, res, margin=-0.1)
    with pytest.raises(ValueError, match="^coarse_to_fine: rounds must be an integer >= 1"):
        coarse_to_fine(log_quadratic, SPACE, 0, 3)
    assert len(random_search(log_quadratic, SPACE, np.int64(2), seed=0)) == 2


def test_the_old_module_still_exports_every_name():
    import trainart.tuning as package
    import trainart.tuning.search as old

    names = ["Trial", "Results", "grid_search", "grid_from_space", "random_search",
             "refine_space", "coarse_to_fine", "successive_halving"]
    assert sorted(old.__all__) == sorted(names)
    assert all(getattr(old, n) is getattr(package, n) for n in names)
    assert old._Evaluator is not None and old.Trial.__module__ == "trainart.tuning.results"


# ---------------------------------------------------------------------------------------
# Grid search
# ---------------------------------------------------------------------------------------


@given(sizes=st.lists(st.integers(1, 4), min_size=1, max_size=3))
def test_grid_search_tries_every_combination_once(sizes):
    grid = {f"p{i}": [10 * i + j for j in range(k)] for i, k in enumerate(sizes)}
    res = grid_search(lambda p: float(sum(p.values())), grid)
    combos = [tuple(t.params.values()) for t in res]
    assert len(combos) == math.prod(sizes) == len(set(combos))
    assert combos == list(itertools.product(*grid.values()))
    assert [t.number for t in res] == list(range(len(res)))


def test_grid_from_space_then_grid_search_finds_the_grid_optimum():
    space = {"lr": LogUniform(1e-5, 1e-1), "width": IntUniform(16, 256, log=True),
             "act": Choice(["relu", "tanh"])}
    grid = grid_from_space(space, {"lr": 5, "width": 3})
    assert grid["act"] == ["relu", "tanh"] and grid["width"] == [16, 64, 256]
    res = grid_search(log_quadratic, grid)
    assert len(res) == 5 * 3 * 2
    assert res.best.params["width"] == 64 and math.isclose(res.best.params["lr"], 1e-3)


# ---------------------------------------------------------------------------------------
# Random search, results, determinism and parallel runs
# ---------------------------------------------------------------------------------------


def test_seeded_random_search_repeats_exactly_and_other_seeds_differ():
    a = random_search(log_quadratic, SPACE, 10, seed=3)
    b = random_search(log_quadratic, SPACE, 10, seed=3)
    c = random_search(log_quadratic, SPACE, 10, seed=4)
    assert a == b
    assert [t.params for t in a] == [t.params for t in b]
    assert a.values().tolist() == b.values().tolist()
    assert [t.params for t in a] != [t.params for t in c]
    assert all(SPACE[n].contains(v) for t in a for n, v in t.params.items())


# ---------------------------------------------------------------------------------------
# Coarse-to-fine
# ---------------------------------------------------------------------------------------


def _log_width(d):
    return math.log(d.high / d.low) if d.log else d.high - d.low


@given(seed=st.integers(0, 1000))
def test_refine_space_contains_the_top_trials_and_is_smaller(seed):
    res = random_search(log_quadratic, SPACE, 20, seed=seed)
    new = refine_space(SPACE, res, top_k=4)
    for t in res.top(4):
        assert all(new[n].contains(v) for n, v in t.params.items())
    assert _log_width(new["lr"]) < _log_width(SPACE["lr"])
    assert _log_width(new["width"]) <= _log_width(SPACE["width"])


def test_coarse_to_fine_narrows_around_the_optimum():
    space = {"lr": LogUniform(1e-6, 1.0)}
    res, spaces = coarse_to_fine(log_quadratic, space, rounds=3, trials_per_round=10,
                                 seed=0, top_k=3)
    assert len(res) == 30 and len(spaces) == 3
    assert [t.info["round"] for t in res] == [0] * 10 + [1] * 10 + [2] * 10
    widths = [_log_width(s["lr"]) for s in spaces]
    assert widths[0] > widths[1] > widths[2], widths
    for r in (1, 2):  # each box holds the best trial found before it
        before = Results([t for t in res if t.info["round"] < r])
        assert spaces[r]["lr"].contains(before.best.params["lr"])
        assert spaces[r]["lr"].contains(LR_OPT)
    round0 = res[:10]
    dist = [abs(math.log10(t.params["lr"] / LR_OPT)) for t in (round0.best, res.best)]
    assert dist[1] < dist[0] and dist[1] < 0.05, dist
    # the same budget at random in the coarse space does worse
    assert res.best.value < random_search(log_quadratic, space, 30, seed=0).best.value


def test_refine_space_keeps_choices_of_the_top_trials_and_can_leave_the_box():
    space = {"lr": LogUniform(1e-3, 1e-2), "act": Choice(["relu", "tanh", "gelu"])}
    res = Results([Trial(0, {"lr": 1e-3, "act": "tanh"}, 0.1),
                   Trial(1, {"lr": 2e-3, "act": "gelu"}, 0.2),
                   Trial(2, {"lr": 9e-3, "act": "relu"}, 0.9)])
    new = refine_space(space, res, top_k=2, margin=0.5)
    assert new["act"].options == ["tanh", "gelu"]
    assert math.isclose(new["lr"].low, 1e-3)  # clipped at the edge
    free = refine_space(space, res, top_k=2, margin=0.5, clip=False)
    assert free["lr"].low < 1e-3 and math.isclose(free["lr"].low * free["lr"].high,
                                                   1e-3 * 2e-3, rel_tol=1e-9)
