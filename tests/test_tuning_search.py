"""Search spaces and searches: distributions sample what they claim, grids are complete,
coarse-to-fine narrows around the best, seeded searches repeat, parallel equals serial,
successive halving keeps the top 1/eta and multiplies the budget by eta."""

import itertools
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from trainart.tuning import (
    Choice,
    IntUniform,
    LogUniform,
    Results,
    Trial,
    Uniform,
    coarse_to_fine,
    grid_from_space,
    grid_search,
    random_search,
    refine_space,
    sample_config,
    successive_halving,
)

LR_OPT = 10 ** -2.5


# Module-level objectives: picklable for n_jobs > 1.
def log_quadratic(params):
    """A shifted quadratic in log10(lr), minimum 0 at lr = 10**-2.5 and width = 64."""
    return (math.log10(params["lr"]) - math.log10(LR_OPT)) ** 2 \
        + 0.01 * (math.log2(params.get("width", 64)) - 6) ** 2


def noisy_budget(params, budget):
    """A "validation loss" that improves with the budget and ranks configs by log_quadratic."""
    return log_quadratic(params) + 1.0 / budget


def with_info(params):
    return {"value": log_quadratic(params), "acc": 1.0 / (1.0 + log_quadratic(params))}


SPACE = {"lr": LogUniform(1e-5, 1.0), "width": IntUniform(16, 256, log=True)}


# ---------------------------------------------------------------------------------------
# Distributions
# ---------------------------------------------------------------------------------------


def test_log_uniform_is_uniform_in_log_space_not_in_linear_space():
    from scipy import stats  # imported here: n_jobs > 1 workers import this module

    low, high = 1e-4, 1.0
    x = LogUniform(low, high).sample(np.random.default_rng(0), size=2000)
    assert x.min() >= low and x.max() <= high
    log_ks = stats.kstest(np.log(x), stats.uniform(math.log(low), math.log(high / low)).cdf)
    assert log_ks.pvalue > 0.01, log_ks
    lin_ks = stats.kstest(x, stats.uniform(low, high - low).cdf)
    assert lin_ks.pvalue < 1e-10, lin_ks
    # scipy's reciprocal distribution is the same law
    assert stats.kstest(x, stats.loguniform(low, high).cdf).pvalue > 0.01
    # each decade gets a quarter of the samples
    counts = np.histogram(np.log10(x), bins=4, range=(-4, 0))[0]
    assert np.all(np.abs(counts / len(x) - 0.25) < 0.04), counts


def test_uniform_is_uniform_in_linear_space():
    from scipy import stats

    x = Uniform(-1.0, 3.0).sample(np.random.default_rng(1), size=2000)
    assert stats.kstest(x, stats.uniform(-1.0, 4.0).cdf).pvalue > 0.01


def test_int_uniform_covers_all_integers_evenly_and_log_favours_small_ones():
    d = IntUniform(1, 4)
    x = d.sample(np.random.default_rng(0), size=4000)
    counts = np.bincount(x, minlength=5)[1:]
    assert counts.sum() == 4000 and np.all(np.abs(counts / 4000 - 0.25) < 0.03), counts
    xl = IntUniform(1, 1000, log=True).sample(np.random.default_rng(0), size=4000)
    assert xl.min() >= 1 and xl.max() <= 1000
    p10 = math.log(10.5 / 0.5) / math.log(1000.5 / 0.5)  # P(round(e^u) <= 10), ~0.4
    assert abs(np.mean(xl <= 10) - p10) < 0.03  # linear sampling would give 1 %
    assert isinstance(d.sample(0), int) and d.contains(4) and not d.contains(5)


def test_choice_samples_every_option_equally():
    d = Choice(["relu", "tanh", "gelu"])
    draws = d.sample(np.random.default_rng(0), size=3000)
    freq = [draws.count(o) / 3000 for o in d.options]
    assert np.allclose(freq, 1 / 3, atol=0.03), freq
    assert d.grid(1) == ["relu", "tanh", "gelu"]
    assert d.contains("tanh") and not d.contains("elu")


@given(low=st.floats(-1e3, 1e3), width=st.floats(1e-3, 1e3), seed=st.integers(0, 2**32 - 1))
def test_samples_and_grids_stay_inside_their_support(low, width, seed):
    high = low + width
    if not low < high:
        return
    lo_pos = abs(low) + 1e-3
    for d in (Uniform(low, high), LogUniform(lo_pos, lo_pos + width),
              IntUniform(int(low), int(low) + 1 + int(width))):
        xs = d.sample(seed, size=20)
        assert all(d.contains(x) for x in xs.tolist())
        g = d.grid(5)
        assert all(d.contains(v) for v in g) and len(set(g)) == len(g)


def test_grids_are_evenly_spaced_in_their_scale():
    g = LogUniform(1e-4, 1e-1).grid(4)
    assert np.allclose(g, [1e-4, 1e-3, 1e-2, 1e-1])
    assert np.allclose(Uniform(0, 1).grid(3), [0, 0.5, 1])
    assert IntUniform(16, 256, log=True).grid(5) == [16, 32, 64, 128, 256]
    assert IntUniform(1, 3).grid(10) == [1, 2, 3]


@pytest.mark.parametrize("make, err, match", [
    (lambda: Uniform(1, 1), ValueError, r"^Uniform: low must be < high, got 1 >= 1$"),
    (lambda: Uniform(2, 1), ValueError, r"^Uniform: low must be < high"),
    (lambda: Uniform(0, math.inf), ValueError, r"^Uniform: high must be finite"),
    (lambda: Uniform("a", 1), TypeError, r"^Uniform: low must be a number"),
    (lambda: LogUniform(0, 1), ValueError, r"^LogUniform: low must be > 0, got 0$"),
    (lambda: LogUniform(-1e-3, 1), ValueError, r"^LogUniform: low must be > 0"),
    (lambda: LogUniform(1, 0.1), ValueError, r"^LogUniform: low must be < high"),
    (lambda: IntUniform(1.5, 4), TypeError, r"^IntUniform: low must be an integer, got 1.5"),
    (lambda: IntUniform(1, 4.0), TypeError, r"^IntUniform: high must be an integer"),
    (lambda: IntUniform(3, 3), ValueError, r"^IntUniform: low must be < high"),
    (lambda: IntUniform(0, 8, log=True), ValueError, r"^IntUniform: low must be >= 1"),
    (lambda: Choice([]), ValueError, r"^Choice: options must not be empty$"),
    (lambda: Choice("abc"), TypeError, r"^Choice: options must be a list"),
    (lambda: Choice([1, 1]), ValueError, r"^Choice: options must be distinct"),
])
def test_invalid_spaces_raise_named_errors(make, err, match):
    with pytest.raises(err, match=match):
        make()


def test_invalid_search_arguments_raise_named_errors():
    with pytest.raises(TypeError, match="^random_search: space"):
        random_search(log_quadratic, [LogUniform(1e-3, 1)], 3)
    with pytest.raises(TypeError, match=r"^sample_config: space\['lr'\] must be"):
        sample_config({"lr": (1e-3, 1)}, 0)
    with pytest.raises(ValueError, match="^random_search: n_trials"):
        random_search(log_quadratic, SPACE, 0)
    with pytest.raises(ValueError, match="^grid_search: direction"):
        grid_search(log_quadratic, {"lr": [1e-3]}, direction="down")
    with pytest.raises(ValueError, match=r"^grid_search: grid\['lr'\] holds 0.1 twice"):
        grid_search(log_quadratic, {"lr": [0.1, 0.1]})
    with pytest.raises(ValueError, match="^random_search: n_jobs"):
        random_search(log_quadratic, SPACE, 2, n_jobs=0)
    with pytest.raises(ValueError, match="^successive_halving: eta"):
        successive_halving(noisy_budget, SPACE, 9, 1, eta=1)
    with pytest.raises(TypeError, match="^grid_search: the objective must return"):
        grid_search(lambda p: "bad", {"lr": [0.1]})


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


def test_parallel_trials_give_the_same_results_as_serial():
    serial = random_search(log_quadratic, SPACE, 6, seed=0, n_jobs=1)
    parallel = random_search(log_quadratic, SPACE, 6, seed=0, n_jobs=2)
    assert parallel == serial and parallel.values().tolist() == serial.values().tolist()
    sh1 = successive_halving(noisy_budget, SPACE, 9, 1, eta=3, seed=0, n_jobs=1)
    sh2 = successive_halving(noisy_budget, SPACE, 9, 1, eta=3, seed=0, n_jobs=2)
    assert sh1 == sh2


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


# ---------------------------------------------------------------------------------------
# Successive halving
# ---------------------------------------------------------------------------------------


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


# ---------------------------------------------------------------------------------------
# Figures
# ---------------------------------------------------------------------------------------


def test_plot_search_marks_the_best_trial_in_one_and_two_dimensions():
    import matplotlib.pyplot as plt

    from trainart.tuning import plot_search, plot_space_samples, plot_values

    space = {**SPACE, "act": Choice(["relu", "tanh"])}
    res = random_search(log_quadratic, space, 12, seed=0)
    ax = plot_search(res, "lr", logx=True)
    assert ax.get_xscale() == "log" and ax.get_ylabel() == "value"
    star = ax.collections[-1].get_offsets()[0]
    assert np.allclose(star, [res.best.params["lr"], res.best.value])
    ax = plot_search(res, "lr", "act", logx=True)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["relu", "tanh"] or \
        [t.get_text() for t in ax.get_yticklabels()] == ["tanh", "relu"]
    assert len(ax.figure.axes) == 2  # the colour bar
    with pytest.raises(ValueError, match="^plot_search: no hyperparameter named 'lrr'"):
        plot_search(res, "lrr")
    ax = plot_values(res)
    assert np.allclose(ax.lines[0].get_ydata(), res.best_so_far())
    rng = np.random.default_rng(0)
    ax = plot_space_samples({"uniform": Uniform(1e-4, 1).sample(rng, 200),
                             "log-uniform": LogUniform(1e-4, 1).sample(rng, 200)}, logx=True)
    assert len(ax.patches) == 2 and ax.get_xscale() == "log"
    ax = plot_space_samples(res, x="lr", y="width", logx=True, logy=True)
    assert ax.get_xlabel() == "lr" and len(ax.collections[0].get_offsets()) == 12
    plt.close("all")
