"""The parallel runner (trainart.tuning.parallel): n_jobs processes give exactly the serial
results, in order; bad objectives and n_jobs raise errors that name them."""

import threading

import numpy as np
import pytest
from tuning_objectives import SPACE, log_quadratic, noisy_budget

from trainart.tuning import grid_search, random_search, successive_halving
from trainart.tuning.parallel import _Evaluator


def test_parallel_trials_give_the_same_results_as_serial():
    serial = random_search(log_quadratic, SPACE, 6, seed=0, n_jobs=1)
    parallel = random_search(log_quadratic, SPACE, 6, seed=0, n_jobs=2)
    assert parallel == serial and parallel.values().tolist() == serial.values().tolist()
    sh1 = successive_halving(noisy_budget, SPACE, 9, 1, eta=3, seed=0, n_jobs=1)
    sh2 = successive_halving(noisy_budget, SPACE, 9, 1, eta=3, seed=0, n_jobs=2)
    assert sh1 == sh2


def test_the_evaluator_returns_value_info_and_seconds_in_order():
    with _Evaluator("test", log_quadratic, n_jobs=np.int64(1)) as evaluate:
        outs = evaluate([{"lr": 10 ** -2.5}, {"lr": 10 ** -1.5}])
    assert [(v, info) for v, info, _ in outs] == [(0.0, {}), (1.0, {})]
    assert all(secs >= 0 for _, _, secs in outs)


class Unpicklable:
    """An objective that holds a lock, which no pickler can copy to a worker."""

    def __init__(self):
        self.lock = threading.Lock()

    def __call__(self, params):
        return 0.0


def test_bad_objectives_and_n_jobs_raise_named_errors():
    with pytest.raises(ValueError, match="^random_search: n_jobs must be an integer >= 1"):
        random_search(log_quadratic, SPACE, 2, n_jobs=0)
    with pytest.raises(TypeError, match="^grid_search: the objective must return"):
        grid_search(lambda p: "bad", {"lr": [0.1]})
    with pytest.raises(ValueError, match="^grid_search: an objective returning a dict"):
        grid_search(lambda p: {"acc": 1.0}, {"lr": [0.1]})
    with pytest.raises(TypeError, match="^grid_search: objective must be callable"):
        grid_search(3, {"lr": [0.1]})
    with pytest.raises(TypeError, match="^grid_search: with n_jobs > 1 the objective must be"):
        grid_search(Unpicklable(), {"lr": [0.1, 0.2]}, n_jobs=2)
