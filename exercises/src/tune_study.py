# %% [markdown]
# # Exercise: a study harness (실험 설계): a learning rate per configuration, several seeds
#
# Note 002 ends with an assignment: compare an MLP while changing the dropout rate, the
# activation, the initialization and batch norm. Done naively (one seed, one learning rate for
# every configuration, the best test accuracy reported), such a comparison mostly measures
# noise and the learning rate. The Hyperparameter tuning chapter's study does it properly, with
# a harness that:
#
# 1. **chooses a learning rate per configuration** (학습률 선택), on the *validation* set
#    (검증 데이터), from runs with one dedicated seed, the *selection seed*: a sigmoid network
#    and a ReLU network with batch norm do not want the same rate, and comparing them at one
#    rate compares the rate, not the networks;
# 2. **reports each configuration at its chosen rate** on the *test* set (테스트 데이터),
#    from runs with *other* seeds: the mean and the spread over the seeds. Reusing the
#    selection seed would report the run the choice was made on, whose validation luck is
#    already built into the choice.
#
# The test accuracy is never used to choose anything: it is read only for the report.
#
# ## Your task
#
# Training is done for you by a function `train_fn(config, lr, seed)` that trains one network
# and returns the pair `(val_acc, test_acc)`; here the checks pass functions of their own, so
# the checks run in a blink. Write two functions (one cell each):
#
# * `choose_lr(train_fn, config, lrs, select_seed)`: train `config` once at every rate of
#   `lrs` (in their order) with the seed `select_seed`, and return the pair
#   `(best_lr, val_accs)`: the rate with the highest validation accuracy (the first one on a
#   tie) and the list of the validation accuracies, one per rate. Raise `ValueError` for an
#   empty `lrs`.
# * `run_study(train_fn, configs, lrs, seeds, select_seed)`: for every configuration (in the
#   order of `configs`), choose its rate with `choose_lr`, then train it at that rate once per
#   seed of `seeds` (in their order) and return a list of dicts, one per configuration, with
#   the keys `"config"` (the configuration), `"lr"` (the chosen rate), `"test"` (the list of
#   test accuracies, one per seed), `"test_mean"` (their mean) and `"test_std"` (their sample
#   standard deviation, `ddof=1`; 0.0 for a single seed). Raise `ValueError` when
#   `select_seed` is one of `seeds`, or when `seeds` is empty. Train nothing else: a study of
#   $C$ configurations costs exactly $C \times (\text{len(lrs)} + \text{len(seeds)})$ runs.
#
# ## What the checks test
#
# The visible checks give a `train_fn` whose accuracies are a known formula of the
# configuration, the rate and the seed, and compare your choices and numbers with it: the rate
# chosen on validation (ties to the first), the runs made (which rate with which seed, in
# which order), the rows and their mean and sample standard deviation. The grader also runs
# hidden checks of the same kind: a `train_fn` whose test accuracy disagrees with its
# validation accuracy (the choice must follow validation), the `ValueError`s, a single seed,
# and the exact number of runs on a larger grid.

# %% setup id=setup off-limits=trainart.tuning.study
import numpy as np

from trainart.grading.checks import check


def formula_train_fn(calls):
    """A deterministic stand-in for training: accuracies from a formula, every call recorded.

    The best rate depends on the configuration ("depth" and "act"), the seed adds a small
    reproducible wobble, and the test accuracy follows the validation accuracy."""
    def train_fn(config, lr, seed):
        calls.append((dict(config), float(lr), int(seed)))
        best = {"relu": 0.1, "tanh": 0.03, "sigmoid": 1.0}[config["act"]]
        val = 0.9 - 0.05 * config["depth"] - 0.1 * np.log10(lr / best) ** 2
        wobble = 0.01 * np.sin(3.0 * seed + 7.0 * lr)
        return float(val + wobble), float(val - 0.02 + 0.5 * wobble)
    return train_fn


def as_rows(c, result, configs):
    """run_study's result as a list of dicts with the five keys, one per configuration."""
    c.true(isinstance(result, (list, tuple)) and len(result) == len(configs),
           f"run_study must return a list of {len(configs)} rows, one per configuration")
    keys = {"config", "lr", "test", "test_mean", "test_std"}
    for row in result:
        c.true(isinstance(row, dict) and keys <= set(row),
               f"every row must be a dict with the keys {sorted(keys)}")
    return list(result)


# %% solution id=choose_lr
def choose_lr(train_fn, config, lrs, select_seed):
    """Train config at every rate with select_seed; return (best_lr, val_accs)."""
    ### BEGIN SOLUTION
    lrs = list(lrs)
    if not lrs:
        raise ValueError("choose_lr: lrs must hold at least one learning rate")
    val_accs = [train_fn(config, lr, select_seed)[0] for lr in lrs]
    return lrs[int(np.argmax(val_accs))], val_accs  # argmax: the first one on a tie
    ### END SOLUTION


# %% solution id=run_study
def run_study(train_fn, configs, lrs, seeds, select_seed):
    """A rate per configuration on validation, then test accuracies over the other seeds."""
    ### BEGIN SOLUTION
    seeds = list(seeds)
    if not seeds:
        raise ValueError("run_study: seeds must hold at least one seed")
    if select_seed in seeds:
        raise ValueError(f"run_study: the selection seed {select_seed} must not be one of the "
                         f"reported seeds {seeds}")
    rows = []
    for config in configs:
        lr, _ = choose_lr(train_fn, config, lrs, select_seed)
        test = [train_fn(config, lr, seed)[1] for seed in seeds]
        std = float(np.std(test, ddof=1)) if len(test) > 1 else 0.0
        rows.append({"config": config, "lr": lr, "test": test,
                     "test_mean": float(np.mean(test)), "test_std": std})
    return rows
    ### END SOLUTION


# %% check id=choose_on_validation points=2
with check("choose_lr trains every rate once with the selection seed and keeps the best") as c:
    lrs = [0.01, 0.03, 0.1, 0.3, 1.0]
    for config in ({"act": "relu", "depth": 1}, {"act": "tanh", "depth": 2},
                   {"act": "sigmoid", "depth": 0}):
        calls = []
        fn = formula_train_fn(calls)
        best, vals = c.returns(choose_lr(fn, config, lrs, 7), "choose_lr", ("best_lr", "val_accs"))
        c.true(calls == [(config, lr, 7) for lr in lrs],
               f"choose_lr must train each rate of lrs once, in order, with select_seed; it "
               f"trained {[(lr, seed) for _, lr, seed in calls]}")
        expected = [formula_train_fn([])(config, lr, 7)[0] for lr in lrs]
        c.close(np.asarray(vals, dtype=float), np.asarray(expected), rtol=1e-12,
                name="val_accs")
        c.close(best, lrs[int(np.argmax(expected))], rtol=0, atol=0, name="best_lr")

# %% check id=ties_first points=1
with check("on a tie, choose_lr keeps the first rate of lrs") as c:
    def flat(config, lr, seed):
        return (0.5 if lr in (0.1, 0.3) else 0.4), 0.0

    best, _ = c.returns(choose_lr(flat, {}, [0.01, 0.1, 0.3], 0), "choose_lr",
                        ("best_lr", "val_accs"))
    c.close(best, 0.1, rtol=0, atol=0, name="best_lr on a tie of 0.1 and 0.3")

# %% check id=study_rows points=3
with check("run_study: a rate per configuration, test accuracies over the other seeds") as c:
    configs = [{"act": "relu", "depth": 1}, {"act": "sigmoid", "depth": 2}]
    lrs, seeds = [0.03, 0.1, 0.3, 1.0], [1, 2, 3]
    calls = []
    rows = as_rows(c, run_study(formula_train_fn(calls), configs, lrs, seeds, 0), configs)
    reference = formula_train_fn([])
    for row, config in zip(rows, configs):
        c.true(row["config"] == config, "the rows must follow the order of configs")
        vals = [reference(config, lr, 0)[0] for lr in lrs]
        lr = lrs[int(np.argmax(vals))]
        c.close(row["lr"], lr, rtol=0, atol=0, name=f"chosen lr of {config}")
        test = [reference(config, lr, seed)[1] for seed in seeds]
        c.close(np.asarray(row["test"], dtype=float), np.asarray(test), rtol=1e-12,
                name=f"test accuracies of {config}")
        c.close(row["test_mean"], np.mean(test), rtol=1e-12, name="test_mean")
        c.close(row["test_std"], np.std(test, ddof=1), rtol=1e-9, name="test_std (ddof=1)")
    expected_calls = [(config, lr, 0) for config in configs[:1] for lr in lrs]
    c.true(calls[:len(lrs)] == expected_calls,
           "the first runs must be the rate sweep of the first configuration, with select_seed")
    c.true(len(calls) == len(configs) * (len(lrs) + len(seeds)),
           f"a study of 2 configurations, 4 rates and 3 seeds takes 14 runs, not {len(calls)}")

# %% check id=validation_not_test points=2 hidden
with check("the choice follows validation, never test accuracy") as c:
    def misleading(config, lr, seed):
        return (1.0 - abs(lr - 0.1)), (1.0 - abs(lr - 1.0))  # test would prefer 1.0

    rows = as_rows(c, run_study(misleading, [{"a": 1}], [0.01, 0.1, 1.0], [5, 6], 4),
                   [{"a": 1}])
    c.close(rows[0]["lr"], 0.1, rtol=0, atol=0, name="lr chosen (validation prefers 0.1)")
    c.close(np.asarray(rows[0]["test"], dtype=float), np.full(2, 1.0 - 0.9), rtol=1e-12,
            name="test accuracies at the chosen rate")

# %% check id=errors points=1 hidden
with check("ValueError for an empty lrs, no seeds, or a reported seed equal to select_seed") as c:
    fn = formula_train_fn([])
    cases = [lambda: choose_lr(fn, {"act": "relu", "depth": 0}, [], 0),
             lambda: run_study(fn, [{"act": "relu", "depth": 0}], [0.1], [0, 1], 0),
             lambda: run_study(fn, [{"act": "relu", "depth": 0}], [0.1], [], 0)]
    for k, case in enumerate(cases):
        try:
            case()
        except ValueError:
            continue
        c.true(False, f"case {k}: returned instead of raising ValueError")

# %% check id=one_seed_and_count points=1 hidden
with check("a single seed has spread 0; a larger grid costs exactly C (lrs + seeds) runs") as c:
    configs = [{"act": a, "depth": d} for a in ("relu", "tanh", "sigmoid") for d in (0, 1, 2)]
    calls = []
    rows = as_rows(c, run_study(formula_train_fn(calls), configs, [0.03, 0.3], [9], 8), configs)
    c.true(all(row["test_std"] == 0.0 for row in rows), "test_std must be 0.0 for one seed")
    c.true(len(calls) == 9 * 3, f"9 configurations x (2 rates + 1 seed) = 27 runs, not "
                                f"{len(calls)}")
    c.true(all(seed == 8 for _, _, seed in calls[::3]) and all(s == 9 for _, _, s in calls[2::3]),
           "each configuration: its rate sweep with select_seed, then its reported seeds")
