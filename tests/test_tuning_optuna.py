"""Optuna: the space maps onto the right suggest calls, a seeded TPE study repeats, TPE
beats random search on average, and an SQLite study is shared between processes, all
without a line on stderr."""

import logging
import math
import subprocess
import sys
import textwrap

import numpy as np
import optuna
import pytest

from trainart.tuning import (
    Choice,
    IntUniform,
    LogUniform,
    Uniform,
    optuna_search,
    random_search,
    sqlite_storage,
    suggest,
)

SPACE = {"lr": LogUniform(1e-5, 1.0), "width": IntUniform(16, 256, log=True),
         "dropout": Uniform(0.0, 0.5), "act": Choice(["relu", "tanh"])}


def objective(p):
    return ((math.log10(p["lr"]) + 2.5) ** 2 + (math.log2(p["width"]) - 6) ** 2 / 4
            + 4 * (p["dropout"] - 0.1) ** 2 + (0.3 if p["act"] == "tanh" else 0.0))


class RecordingTrial:
    """A stand-in trial that records the suggest calls."""

    def __init__(self):
        self.calls = []

    def suggest_float(self, name, low, high, *, log=False):
        self.calls.append(("float", name, low, high, log))
        return low

    def suggest_int(self, name, low, high, *, log=False):
        self.calls.append(("int", name, low, high, log))
        return high

    def suggest_categorical(self, name, choices):
        self.calls.append(("categorical", name, list(choices)))
        return choices[-1]


def test_suggest_maps_each_distribution_to_its_optuna_call():
    space = {**SPACE, "lin_int": IntUniform(1, 5), "shape": Choice([(64,), (32, 32)])}
    trial = RecordingTrial()
    params = suggest(trial, space)
    assert trial.calls == [
        ("float", "lr", 1e-5, 1.0, True),
        ("int", "width", 16, 256, True),
        ("float", "dropout", 0.0, 0.5, False),
        ("categorical", "act", ["relu", "tanh"]),
        ("int", "lin_int", 1, 5, False),
        ("categorical", "shape", [0, 1]),  # tuples go by index...
    ]
    assert params == {"lr": 1e-5, "width": 256, "dropout": 0.0, "act": "tanh",
                      "lin_int": 5, "shape": (32, 32)}  # ...and come back as options


def test_suggest_with_a_fixed_trial_returns_its_values():
    fixed = {"lr": 3e-3, "width": 64, "dropout": 0.25, "act": "relu"}
    assert suggest(optuna.trial.FixedTrial(fixed), SPACE) == fixed


def test_suggest_gives_optuna_the_right_distributions():
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    for _ in range(3):
        trial = study.ask()
        suggest(trial, SPACE)
        study.tell(trial, 0.0)
    dists = study.trials[0].distributions
    assert dists["lr"] == optuna.distributions.FloatDistribution(1e-5, 1.0, log=True)
    assert dists["width"] == optuna.distributions.IntDistribution(16, 256, log=True)
    assert dists["dropout"] == optuna.distributions.FloatDistribution(0.0, 0.5)
    assert dists["act"] == optuna.distributions.CategoricalDistribution(["relu", "tanh"])


def test_seeded_tpe_study_repeats_exactly_and_reports_results():
    runs = [optuna_search(objective, SPACE, n_trials=15, seed=s)[1] for s in (0, 0, 1)]
    assert [t.params for t in runs[0]] == [t.params for t in runs[1]]
    assert runs[0].values().tolist() == runs[1].values().tolist()
    assert [t.params for t in runs[0]] != [t.params for t in runs[2]]
    study, res = optuna_search(objective, SPACE, n_trials=5, seed=0, direction="maximize")
    assert study.direction == optuna.study.StudyDirection.MAXIMIZE
    assert res.direction == "maximize" and res.best.value == max(res.values())
    assert all(SPACE[n].contains(v) for t in runs[0] for n, v in t.params.items())


def test_tpe_beats_random_on_average_at_the_same_budget():
    budget, seeds = 40, range(6)
    tpe = [optuna_search(objective, SPACE, budget, seed=s, n_startup_trials=10)[1].best.value
           for s in seeds]
    rnd = [optuna_search(objective, SPACE, budget, seed=s, sampler="random")[1].best.value
           for s in seeds]
    ours = [random_search(objective, SPACE, budget, seed=s).best.value for s in seeds]
    # seeded, so the same numbers every run; TPE's mean best is well below both
    assert np.mean(tpe) < 0.6 * min(np.mean(rnd), np.mean(ours)), (tpe, rnd, ours)


def test_optuna_search_keeps_extra_numbers_and_stores_nan_as_worst():
    calls = iter(range(100))

    def flaky(p):
        i = next(calls)
        return {"value": math.nan if i == 1 else objective(p), "step": i}

    study, res = optuna_search(flaky, SPACE, n_trials=3, seed=0)
    assert [t.info["step"] for t in res] == [0, 1, 2]
    assert math.isnan(res[1].value) and study.trials[1].value == math.inf
    assert res.best.number != 1


def test_optuna_search_is_silent(capfd):
    """Optuna logs each trial at INFO to stderr, which fails a book build: not here."""
    records = []
    handler = logging.Handler()
    handler.emit = records.append
    logger = logging.getLogger("optuna")
    logger.addHandler(handler)
    optuna.logging.set_verbosity(optuna.logging.INFO)  # as a user might have left it
    try:
        optuna_search(objective, SPACE, n_trials=3, seed=0)
        assert optuna.logging.get_verbosity() == optuna.logging.INFO  # restored
        optuna.logging.set_verbosity(optuna.logging.WARNING)
    finally:
        logger.removeHandler(handler)
    assert records == []
    assert capfd.readouterr().err == ""


def test_optuna_search_checks_its_arguments(tmp_path):
    with pytest.raises(ValueError, match="^optuna_search: sampler"):
        optuna_search(objective, SPACE, 2, sampler="grid")
    with pytest.raises(ValueError, match="^optuna_search: study_name is needed"):
        optuna_search(objective, SPACE, 2, storage=sqlite_storage(tmp_path / "a.db"))
    with pytest.raises(ValueError, match="^optuna_search: n_trials"):
        optuna_search(objective, SPACE, 0)
    with pytest.raises(ValueError, match="^sqlite_storage: the folder"):
        sqlite_storage(tmp_path / "missing" / "a.db")


WORKER = textwrap.dedent("""
    import math, sys
    from trainart.tuning import LogUniform, Uniform, optuna_search
    space = {"lr": LogUniform(1e-5, 1.0), "dropout": Uniform(0.0, 0.5)}
    def objective(p):
        return (math.log10(p["lr"]) + 2.5) ** 2 + (p["dropout"] - 0.1) ** 2
    study, res = optuna_search(objective, space, n_trials=int(sys.argv[3]),
                               seed=int(sys.argv[2]), storage=sys.argv[1], study_name="shared")
    print(len(res))
""")


def test_sqlite_study_is_shared_between_processes(tmp_path):
    storage = sqlite_storage(tmp_path / "tune.db")
    assert storage == f"sqlite:///{(tmp_path / 'tune.db').resolve()}"
    optuna.create_study(storage=storage, study_name="shared")  # created once, then joined
    procs = [subprocess.Popen([sys.executable, "-c", WORKER, storage, str(seed), "4"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for seed in (1, 2)]
    outs = [p.communicate(timeout=120) for p in procs]
    for p, (out, err) in zip(procs, outs):
        assert p.returncode == 0 and err == "", err
        assert 4 <= int(out) <= 8
    study = optuna.load_study(study_name="shared", storage=storage)
    assert len(study.trials) == 8
    assert all(t.state == optuna.trial.TrialState.COMPLETE for t in study.trials)
    assert sorted(t.number for t in study.trials) == list(range(8))
