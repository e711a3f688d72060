# %% [markdown]
# # Exercise: Random search on a log-uniform scale (로그 균등 분포 랜덤 서치)
#
# Hyperparameters (하이퍼파라미터) such as the learning rate or the weight decay are not learned
# by gradient descent; we choose them by trying. Random search (랜덤 서치, Bergstra and Bengio
# 2012) draws every trial's configuration at random from a search space (탐색 공간) and keeps
# the best. It beats a grid of the same size because every trial tries a new value of *every*
# hyperparameter, while a grid repeats the same few values of each.
#
# Learning rates that matter span several orders of magnitude: $10^{-5}$ and $10^{-4}$ differ
# as much as $10^{-2}$ and $10^{-1}$. Drawn uniformly from $[10^{-5}, 10^{-1}]$, 90% of the
# samples would land in the top decade $[10^{-2}, 10^{-1}]$ and almost none below $10^{-3}$.
# The fix is to sample the **logarithm** uniformly: the log-uniform distribution (로그 균등 분포)
#
# $$
# x = \exp(u), \qquad u \sim U(\log a, \log b), \qquad 0 < a < b ,
# $$
#
# gives every decade (every factor of 10) the same share of the samples. Which base of the
# logarithm you use does not matter ($10^{U(\log_{10} a, \log_{10} b)}$ is the same
# distribution). In linear terms the samples are **dense at small values and sparse at large
# ones**: half of them lie below the geometric mean $\sqrt{ab}$, far left of the midpoint
# $(a+b)/2$. (One of the lecture notes, 001, has this the other way round.)
#
# ## The search space and the search
#
# A search space is a dict from hyperparameter names to `(kind, low, high)`, where `kind` is
# `"log"` (log-uniform on $[a, b]$ as above, $0 < a < b$) or `"uniform"` (uniform on
# $[a, b]$, $a < b$), for example
#
# ```python
# space = {"lr": ("log", 1e-5, 1e-1), "weight_decay": ("log", 1e-6, 1e-2),
#          "dropout": ("uniform", 0.0, 0.5)}
# ```
#
# A configuration is a dict with the same names and one number each. The search makes
# `rng = np.random.default_rng(seed)`, then for every trial draws a configuration from `rng`
# (every name in the order of `space`), evaluates `objective(config)` (a number: lower is
# better, e.g. a validation loss) and records the pair `(config, value)`.
#
# ## Your task
#
# Write two functions (one cell each):
#
# * `sample_log_uniform(low, high, n, rng)`: an array of shape `(n,)` of log-uniform samples on
#   $[a, b]$ = `[low, high]`, drawn with the NumPy generator `rng` (not `np.random.*`); raise
#   `ValueError` when `low <= 0` or `low >= high`.
# * `random_search(objective, space, n_trials, seed)`: evaluate `n_trials` configurations
#   drawn from `space` as described, and return the pair `(best_config, trials)`: `trials` is
#   the list of all `(config, value)` pairs in the order they were evaluated, `best_config` the
#   configuration of the trial with the smallest value (the first such trial on ties). Call
#   `objective` exactly once per trial. Raise `ValueError` for a space with bad bounds (use
#   `sample_log_uniform` for the `"log"` dimensions; a `"uniform"` dimension needs
#   `low < high`).
#
# ## What the checks test
#
# Samples are random, so they are never compared one by one (there are many correct ways to
# use `rng`); the checks measure their properties with seeds the checks choose. The visible
# checks below test that 20,000 samples lie within the bounds and that every decade of
# $[10^{-5}, 10^{-1}]$ gets a quarter of them (within six standard errors); that the
# logarithms of the samples are uniform by a Kolmogorov-Smirnov test (콜모고로프-스미르노프
# 검정, `scipy.stats.kstest`; a correct sampler fails it with probability $10^{-4}$, a
# linear-uniform one always); and that `random_search` calls the objective `n_trials` times,
# records what it returned, and returns the configuration of the smallest value. The grader
# also runs hidden checks of the same kind: the same seed gives the same trials and different
# seeds different ones; the `ValueError` for bad bounds; and the distribution of the
# configurations `random_search` draws (log-uniform and uniform dimensions).

# %% setup id=setup off-limits=trainart.tuning.search,trainart.tuning.spaces
import numpy as np
from scipy.stats import kstest

from trainart.grading.checks import check


def as_samples(c, x, n, low, high):
    """The samples as a float array, failing check c unless there are n of them in bounds."""
    c.true(np.shape(x) == (n,), f"sample_log_uniform returned shape {np.shape(x)}, "
                                f"asked for {(n,)}")
    x = np.asarray(x, dtype=np.float64)
    c.true(np.all(np.isfinite(x)), "sample_log_uniform returned NaN or inf")
    c.true(np.all((x >= low) & (x <= high)),
           f"{int(np.sum((x < low) | (x > high)))} samples lie outside [low, high]")
    return x


def as_search(c, result, n_trials, space):
    """Unpack random_search's result, checking its form: (best_config, [(config, value)])."""
    best, trials = c.returns(result, "random_search", ("best_config", "trials"))
    c.true(isinstance(trials, (list, tuple)) and len(trials) == n_trials,
           f"trials must be a list of the {n_trials} (config, value) pairs evaluated")
    for config, value in trials:
        c.true(isinstance(config, dict) and list(config) == list(space),
               "every config must be a dict with the names of the space, in its order")
        c.true(np.size(value) == 1, "every trial's value must be one number")
        for name, (_, low, high) in space.items():
            c.true(low <= config[name] <= high, f"a trial's {name} lies outside its bounds")
    return best, list(trials)


# %% solution id=sample_log_uniform
def sample_log_uniform(low, high, n, rng):
    """n samples whose logarithm is uniform on [log(low), log(high)], drawn with rng."""
    ### BEGIN SOLUTION
    if not 0 < low < high:
        raise ValueError(f"sample_log_uniform: need 0 < low < high, got low={low!r}, "
                         f"high={high!r}")
    samples = np.exp(rng.uniform(np.log(low), np.log(high), size=n))
    return np.clip(samples, low, high)  # exp(log(high)) may round a hair above high
    ### END SOLUTION


# %% solution id=random_search
def random_search(objective, space, n_trials, seed):
    """Random search over space; returns (best_config, trials) with trials [(config, value)]."""
    ### BEGIN SOLUTION
    for name, (kind, low, high) in space.items():
        if kind not in ("log", "uniform") or not low < high or (kind == "log" and low <= 0):
            raise ValueError(f"random_search: bad space entry {name!r}: "
                             f"{(kind, low, high)!r}")
    rng = np.random.default_rng(seed)  # one generator for the whole search
    trials = []
    for _ in range(n_trials):
        config = {}
        for name, (kind, low, high) in space.items():
            if kind == "log":
                config[name] = float(sample_log_uniform(low, high, 1, rng)[0])
            else:
                config[name] = float(rng.uniform(low, high))
        trials.append((config, float(objective(config))))
    best_config = min(trials, key=lambda trial: trial[1])[0]
    return best_config, trials
    ### END SOLUTION


# %% check id=samples_in_bounds points=2
with check("20,000 samples lie in [1e-5, 1e-1], a quarter of them in every decade") as c:
    n, low, high = 20_000, 1e-5, 1e-1
    x = as_samples(c, sample_log_uniform(low, high, n, np.random.default_rng(201)), n, low, high)
    tol = 6 * np.sqrt(0.25 * 0.75 / n)
    for lo in (1e-5, 1e-4, 1e-3, 1e-2):
        c.within(np.mean((x >= lo) & (x < 10 * lo)), 0.25 - tol, 0.25 + tol,
                 name=f"fraction of samples in [{lo:g}, {10 * lo:g})")

# %% check id=log_uniform_ks points=2
with check("the logarithms of the samples are uniform (Kolmogorov-Smirnov test)") as c:
    for seed, (low, high) in ((202, (1e-6, 1.0)), (203, (0.5, 2.0)), (204, (3.0, 3e5))):
        x = as_samples(c, sample_log_uniform(low, high, 5000, np.random.default_rng(seed)),
                       5000, low, high)
        u = (np.log(x) - np.log(low)) / (np.log(high) - np.log(low))
        c.within(kstest(u, "uniform").pvalue, 1e-4, 1.0,
                 name=f"KS test p-value of the log-samples on [{low:g}, {high:g}]")

# %% check id=search_returns_min points=2
with check("random_search evaluates n_trials configs and returns the best of them") as c:
    space = {"lr": ("log", 1e-5, 1e-1), "weight_decay": ("log", 1e-6, 1e-2),
             "dropout": ("uniform", 0.0, 0.5)}
    calls = []

    def objective(config):
        calls.append(dict(config))
        return (np.log10(config["lr"]) + 2.5) ** 2 + (config["dropout"] - 0.2) ** 2

    best, trials = as_search(c, random_search(objective, space, 25, seed=205), 25, space)
    c.true(len(calls) == 25, f"the objective was called {len(calls)} times for 25 trials")
    for (config, value), seen in zip(trials, calls):
        c.true(config == seen, "the trials must be the configs given to the objective, in order")
        c.close(value, objective(dict(config)), rtol=1e-12, name="a trial's recorded value")
    values = [value for _, value in trials]
    c.true(best == trials[int(np.argmin(values))][0],
           "best_config is not the config of the trial with the smallest value")

# %% check id=seeded_repeat points=1 hidden
with check("the same seed gives the same trials, different seeds different ones") as c:
    space = {"lr": ("log", 1e-4, 1.0), "momentum": ("uniform", 0.5, 0.99)}

    def objective(config):
        return config["lr"] * (1.0 - config["momentum"])

    _, first = as_search(c, random_search(objective, space, 10, seed=206), 10, space)
    _, again = as_search(c, random_search(objective, space, 10, seed=206), 10, space)
    _, other = as_search(c, random_search(objective, space, 10, seed=207), 10, space)
    c.true(first == again, "the same seed gave different trials: draw everything from one "
                           "np.random.default_rng(seed)")
    c.true(first != other, "different seeds gave the same trials")
    x = as_samples(c, sample_log_uniform(1e-3, 1.0, 50, np.random.default_rng(208)),
                   50, 1e-3, 1.0)
    y = as_samples(c, sample_log_uniform(1e-3, 1.0, 50, np.random.default_rng(208)),
                   50, 1e-3, 1.0)
    c.true(np.array_equal(x, y), "sample_log_uniform gave different samples for the same rng "
                                 "seed: draw them from rng")

# %% check id=bad_bounds points=1 hidden
with check("ValueError for low <= 0 or low >= high") as c:
    for low, high in ((0.0, 1.0), (-1e-3, 1.0), (1.0, 1.0), (2.0, 1.0)):
        try:
            sample_log_uniform(low, high, 10, np.random.default_rng(209))
        except ValueError:
            pass
        else:
            c.true(False, f"sample_log_uniform(low={low}, high={high}, ...) returned instead "
                          f"of raising ValueError")
    for space in ({"lr": ("log", 0.0, 1.0)}, {"lr": ("log", 1e-2, 1e-3)},
                  {"lr": ("log", 1e-3, 1e-1), "dropout": ("uniform", 0.5, 0.5)}):
        try:
            random_search(lambda config: 0.0, space, 3, seed=210)
        except ValueError:
            continue
        c.true(False, f"random_search returned instead of raising ValueError for {space}")

# %% check id=search_distribution points=2 hidden
with check("random_search draws log dimensions log-uniformly and uniform ones uniformly") as c:
    space = {"lr": ("log", 1e-6, 1e-1), "momentum": ("uniform", 0.5, 0.99),
             "weight_decay": ("log", 1e-5, 1e-3)}
    _, trials = as_search(c, random_search(lambda config: 0.0, space, 3000, seed=211), 3000,
                          space)
    for name, (kind, low, high) in space.items():
        x = np.array([config[name] for config, _ in trials], dtype=np.float64)
        distinct = len(np.unique(x))
        c.true(distinct > len(x) // 2,
               f"only {distinct} distinct values of {name} in {len(x)} trials: are the trials "
               f"drawn from a generator created anew for each trial (the same seed every "
               f"time)? Create one generator for the whole search")
        if kind == "log":
            u = (np.log(x) - np.log(low)) / (np.log(high) - np.log(low))
        else:
            u = (x - low) / (high - low)
        c.within(kstest(u, "uniform").pvalue, 1e-4, 1.0,
                 name=f"KS test p-value of the {kind} dimension {name}")
