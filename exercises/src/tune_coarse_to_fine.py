# %% [markdown]
# # Exercise: One round of coarse-to-fine search (거친 탐색에서 세밀한 탐색으로)
#
# A random search over a wide space spends most of its trials far from the good region. The
# lecture notes (001, 002) recommend narrowing the range step by step (범위 좁히기): a
# **coarse** (거친) search with short runs over a wide space, then a **fine** (세밀한) search
# in the region where the best coarse trials landed, with longer runs. This exercise writes
# the step in the middle: from the coarse trials, compute the refined space.
#
# The spaces are those of the random-search exercise (`tune_log_uniform`): a dict from names
# to `(kind, low, high)` with `kind` `"log"` (log-uniform, $0 < a < b$) or `"uniform"`, and a
# trial is a pair `(config, value)`, lower values being better.
#
# ## The rule
#
# Take the $k$ trials with the smallest values (the top-$k$; on equal values, the earlier trial
# in the list first). Work in each dimension's own coordinate: $t = \log x$ for a `"log"`
# dimension (the natural logarithm), $t = x$ for a `"uniform"` one. In that coordinate let
# $t_{\min}$ and $t_{\max}$ be the smallest and largest value among the top-$k$ trials and
# $w = t_{\max} - t_{\min}$. Widen the interval by the margin factor $\mu \ge 0$ (`margin`) on
# **each side** and clip it to the old bounds $[t_a, t_b]$ ($t_a = \log a$ for `"log"`):
#
# $$
# t'_{\text{low}} = \max\big(t_{\min} - \mu\, w,\; t_a\big), \qquad
# t'_{\text{high}} = \min\big(t_{\max} + \mu\, w,\; t_b\big) .
# $$
#
# The refined dimension is `(kind, low', high')` with the same `kind` and, for a `"log"`
# dimension, $\text{low}' = e^{t'_{\text{low}}}$ and $\text{high}' = e^{t'_{\text{high}}}$.
# So for a log dimension the margin is a *factor*: with $\mu = 0.5$ and top-$k$ learning rates
# between $10^{-4}$ and $10^{-2}$ (two decades), the refined range is $[10^{-5}, 10^{-1}]$, one
# more decade on each side. A margin is worth having: the top-$k$ of a few random trials
# rarely reach the edges of the good region, and a box that is too tight can cut the optimum
# off.
#
# ## Your task
#
# Write `refine_space(trials, space, k, margin=0.25)`:
#
# * `trials`: a list of `(config, value)` pairs (each `config` a dict with the names of
#   `space`); `space`: the search space they were drawn from; `k`: how many of the best trials
#   define the new box; `margin`: $\mu$;
# * returns a **new** space dict with the same names in the same order and the refined
#   `(kind, low, high)` of each;
# * raises `ValueError` when `k < 2` or `k > len(trials)` (one trial gives a box of zero width),
#   or `margin < 0`;
# * does not change `trials` or `space`.
#
# ## What the checks test
#
# The visible checks below test the properties of the refined box on seeded trials: it has the
# same names and kinds, contains every top-$k$ trial, lies inside the old box and is narrower in
# every dimension; that with $\mu = 0$ the bounds are exactly the top-$k$ extremes; and that
# the margin widens a log dimension symmetrically *in log space* (same geometric mean, log-width
# times $1 + 2\mu$). The grader also runs hidden checks of the same kind: your box compared
# with a reference implementation of the rule (relative tolerance $10^{-9}$, with and without
# clipping, and with ties); a full coarse-to-fine round on a known objective, where your box
# must keep the optimum and the fine trials drawn from it must beat the coarse ones; and the
# `ValueError` and unchanged inputs.

# %% setup id=setup off-limits=trainart.tuning.search,trainart.tuning.spaces
import numpy as np

from trainart.grading.checks import check


def draw(space, n, rng):
    """n configs drawn from space: log-uniform for "log", uniform for "uniform" dimensions."""
    configs = [{} for _ in range(n)]
    for name, (kind, low, high) in space.items():
        if kind == "log":
            values = np.exp(rng.uniform(np.log(low), np.log(high), n))
        else:
            values = rng.uniform(low, high, n)
        for config, value in zip(configs, np.clip(values, low, high)):
            config[name] = float(value)
    return configs


def objective(config):
    """A known bowl: best at lr = 1e-3, weight_decay = 1e-4, dropout = 0.2."""
    return float((np.log10(config["lr"]) + 3) ** 2 + 0.5 * (np.log10(config["weight_decay"]) + 4)
                 ** 2 + 20 * (config["dropout"] - 0.2) ** 2)


SPACE = {"lr": ("log", 1e-6, 1.0), "weight_decay": ("log", 1e-7, 1e-1),
         "dropout": ("uniform", 0.0, 0.8)}


def coarse_trials(seed, n, space=SPACE):
    """n seeded trials (config, value) of the known objective over space."""
    return [(config, objective(config)) for config in draw(space, n, np.random.default_rng(seed))]


def coordinate(kind, x):
    """The coordinate the rule works in: log x for "log", x for "uniform"."""
    return np.log(x) if kind == "log" else x


def as_space(c, result, space):
    """The refined space, failing check c unless it has the names and kinds of space."""
    c.true(isinstance(result, dict) and list(result) == list(space),
           "refine_space must return a dict with the names of the space, in its order")
    for name, entry in result.items():
        c.true(isinstance(entry, tuple) and len(entry) == 3 and entry[0] == space[name][0],
               f"the refined {name} must be a tuple (kind, low, high) of the same kind")
        c.true(np.all(np.isfinite([entry[1], entry[2]])), f"the refined {name} is not finite")
    return result


# %% solution id=refine_space
def refine_space(trials, space, k, margin=0.25):
    """The bounding box of the k best trials (in log space for "log" dimensions), widened."""
    ### BEGIN SOLUTION
    if not 2 <= k <= len(trials):
        raise ValueError(f"refine_space: k must be in [2, len(trials)], got k={k!r}")
    if margin < 0:
        raise ValueError(f"refine_space: margin must be >= 0, got {margin!r}")
    order = sorted(range(len(trials)), key=lambda i: trials[i][1])  # stable: earlier first
    best = [trials[i][0] for i in order[:k]]
    refined = {}
    for name, (kind, a, b) in space.items():
        is_log = kind == "log"
        to_t = np.log if is_log else float  # the coordinate of this dimension
        values = [to_t(config[name]) for config in best]
        t_min, t_max = min(values), max(values)
        width = t_max - t_min
        t_low = max(t_min - margin * width, to_t(a))
        t_high = min(t_max + margin * width, to_t(b))
        if is_log:
            refined[name] = (kind, float(np.exp(t_low)), float(np.exp(t_high)))
        else:
            refined[name] = (kind, float(t_low), float(t_high))
    return refined
    ### END SOLUTION


# %% check id=box_properties points=3
with check("the refined box has the same kinds, holds the top-k, is inside and narrower") as c:
    for seed, k, margin in ((301, 5, 0.25), (302, 8, 0.1), (303, 3, 0.0)):
        trials = coarse_trials(seed, 40)
        new = as_space(c, refine_space(trials, SPACE, k, margin), SPACE)
        top = sorted(trials, key=lambda trial: trial[1])[:k]
        for name, (kind, low, high) in SPACE.items():
            _, new_low, new_high = new[name]
            slack = 1e-12 * (abs(new_high) + abs(new_low))
            for config, _ in top:
                c.true(new_low - slack <= config[name] <= new_high + slack,
                       f"k={k}: a top-k trial's {name} lies outside the refined box")
            c.true(low - 1e-12 * abs(low) <= new_low < new_high <= high + 1e-12 * abs(high),
                   f"k={k}, margin={margin}: the refined {name} does not lie inside the old "
                   f"bounds")
            old_width = coordinate(kind, high) - coordinate(kind, low)
            new_width = coordinate(kind, new_high) - coordinate(kind, new_low)
            c.true(new_width < old_width, f"k={k}, margin={margin}: the refined {name} is not "
                                          f"narrower than the old one")

# %% check id=margin_in_log_space points=2
with check("margin 0 gives the top-k extremes; a margin widens log dims symmetrically in log") as c:
    trials = coarse_trials(304, 60)
    top = sorted(trials, key=lambda trial: trial[1])[:6]
    tight = as_space(c, refine_space(trials, SPACE, 6, margin=0.0), SPACE)
    wide = as_space(c, refine_space(trials, SPACE, 6, margin=0.5), SPACE)
    for name, (kind, _, _) in SPACE.items():
        values = [config[name] for config, _ in top]
        c.close([tight[name][1], tight[name][2]], [min(values), max(values)], rtol=1e-12,
                name=f"the refined {name} with margin 0 (the top-k's smallest and largest)")
        if kind != "log":  # here the uniform dimension is clipped at its old bound
            continue
        t_low, t_high = coordinate(kind, tight[name][1]), coordinate(kind, tight[name][2])
        w_low, w_high = coordinate(kind, wide[name][1]), coordinate(kind, wide[name][2])
        c.close((w_low + w_high) / 2, (t_low + t_high) / 2, rtol=1e-9, atol=1e-12,
                name=f"centre of the refined {name} in log space")
        c.close(w_high - w_low, 2.0 * (t_high - t_low), rtol=1e-9,
                name=f"log-width of the refined {name} with margin 0.5")

# %% check id=matches_reference points=2 hidden
with check("the refined box matches a reference implementation of the rule") as c:
    def ref_refine(trials, space, k, margin):
        best = [config for config, _ in sorted(trials, key=lambda trial: trial[1])[:k]]
        out = {}
        for name, (kind, low, high) in space.items():
            t = [coordinate(kind, config[name]) for config in best]
            w = max(t) - min(t)
            lo = max(min(t) - margin * w, coordinate(kind, low))
            hi = min(max(t) + margin * w, coordinate(kind, high))
            out[name] = (kind, np.exp(lo), np.exp(hi)) if kind == "log" else (kind, lo, hi)
        return out

    for seed, n, k, margin in ((305, 30, 4, 0.25), (306, 50, 10, 0.1), (307, 20, 2, 0.0),
                               (308, 40, 5, 3.0), (309, 15, 15, 1.0)):
        trials = coarse_trials(seed, n)
        new = as_space(c, refine_space(trials, SPACE, k, margin), SPACE)
        expected = ref_refine(trials, SPACE, k, margin)
        for name in SPACE:
            c.close(new[name][1:], expected[name][1:], rtol=1e-9, atol=1e-15,
                    name=f"the refined {name} (k={k}, margin={margin})")
    trials = [({"lr": 10.0 ** -i, "weight_decay": 1e-3, "dropout": 0.1 * i}, v)
              for i, v in zip(range(1, 7), [3.0, 1.0, 2.0, 1.0, 5.0, 1.0])]
    new = as_space(c, refine_space(trials, SPACE, 2, 0.0), SPACE)  # ties: earlier trials first
    c.close(new["lr"][1:], (1e-4, 1e-2), rtol=1e-9, name="the refined lr with tied values")

# %% check id=full_round points=2 hidden
with check("a coarse-to-fine round: the box keeps the optimum, the fine trials are better") as c:
    optimum = {"lr": 1e-3, "weight_decay": 1e-4, "dropout": 0.2}
    for seed in (310, 311, 312):
        coarse = coarse_trials(seed, 40)
        new = as_space(c, refine_space(coarse, SPACE, 5, margin=0.25), SPACE)
        for name, value in optimum.items():
            c.true(new[name][1] <= value <= new[name][2],
                   f"seed {seed}: the refined box cuts the optimum's {name} off")
        fine = coarse_trials(seed + 100, 40, space=new)
        c.true(min(v for _, v in fine) < min(v for _, v in coarse),
               f"seed {seed}: the best fine trial is not better than the best coarse trial")
        c.true(np.median([v for _, v in fine]) < np.median([v for _, v in coarse]),
               f"seed {seed}: the median fine trial is not better than the median coarse one")

# %% check id=bad_k_and_inputs points=1 hidden
with check("ValueError for k < 2, k > len(trials), margin < 0; inputs left unchanged") as c:
    import copy

    trials = coarse_trials(313, 10)
    space = dict(SPACE)
    kept_trials, kept_space = copy.deepcopy(trials), copy.deepcopy(space)
    as_space(c, refine_space(trials, space, 4, 0.3), SPACE)
    c.true(trials == kept_trials and space == kept_space,
           "refine_space changed the trials or the space it was given")
    for k, margin in ((1, 0.25), (0, 0.25), (11, 0.25), (3, -0.1)):
        try:
            refine_space(trials, space, k, margin)
        except ValueError:
            continue
        c.true(False, f"refine_space(trials of 10, k={k}, margin={margin}) returned instead of "
                      f"raising ValueError")
