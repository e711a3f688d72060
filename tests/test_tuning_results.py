"""Result types (trainart.tuning.results): trials sort best first with failed runs last,
in either direction; extra numbers of an objective are kept and printed."""

import math

import numpy as np
import pytest
from tuning_objectives import SPACE, with_info

from trainart.tuning import Results, Trial, random_search


def test_results_sort_nan_last_and_respect_direction():
    trials = [Trial(0, {"a": 1}, 0.5), Trial(1, {"a": 2}, math.nan), Trial(2, {"a": 3}, 0.1),
              Trial(3, {"a": 4}, math.inf), Trial(4, {"a": 5}, 0.9)]
    r = Results(trials)
    assert [t.number for t in r.sorted()] == [2, 0, 4, 1, 3]  # failed runs last
    assert r.best.number == 2 and [t.number for t in r.top(2)] == [2, 0]
    assert np.allclose(r.best_so_far(), [0.5, 0.5, 0.1, 0.1, 0.1])
    m = Results(trials, direction="maximize")
    assert m.best.number == 4 and [t.number for t in m.sorted()] == [4, 0, 2, 1, 3]
    assert r.column("a") == [1, 2, 3, 4, 5]
    assert isinstance(m[1:3], Results) and m[1:3].direction == "maximize"
    with pytest.raises(KeyError, match="Results.column"):
        r.column("b")


def test_objective_may_return_extra_numbers_and_table_prints_best_first():
    res = random_search(with_info, SPACE, 5, seed=0)
    assert all(math.isclose(t.info["acc"], 1 / (1 + t.value)) for t in res)
    text = res.table(columns=["number", "lr", "value", "acc"], digits=2, k=3)
    lines = text.splitlines()
    assert len(lines) == 2 + 3 and lines[0].split("|")[1].strip() == "#"
    assert lines[2].split("|")[1].strip() == str(res.best.number)
    assert f"{res.best.value:.2g}" in lines[2]
    rows = res.to_dicts()
    assert rows[0]["lr"] == res[0].params["lr"] and rows[0]["acc"] == res[0].info["acc"]


def test_results_check_their_arguments():
    res = Results([Trial(0, {"a": 1}, 0.5), Trial(1, {"a": 2}, 0.1)])
    assert res.top(np.int64(1))[0].number == 1
    assert "0.1" in res.table(digits=np.int64(2))
    with pytest.raises(ValueError, match="^Results: direction must be one of"):
        Results([], direction="down")
    with pytest.raises(ValueError, match="^Results.top: k must be an integer >= 1, got 0"):
        res.top(0)
    with pytest.raises(ValueError, match="^Results.table: digits must be an integer >= 1"):
        res.table(digits=1.5)
    with pytest.raises(ValueError, match="^Results.best: no trials"):
        _ = Results([]).best
