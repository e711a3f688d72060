# %% [markdown]
# # Exercise: Reading a network's health from its statistics (네트워크 건강 진단)
#
# Before a deep network learns anything, one forward pass of a batch already tells you
# whether training has a chance. Print, for every layer, the mean and the standard deviation
# of its outputs (활성값, activations), and how many of its units are stuck, and the
# initialization's mistakes show up at once. The lecture notes name the troubles: signals that
# shrink to nothing with depth (vanishing, 기울기 소실: the gradients shrink with them),
# signals that blow up (exploding, 기울기 폭주), tanh or sigmoid units pinned at their limits
# (saturation, 포화: their derivative is almost 0, so they stop learning), and ReLU units
# that output 0 for every input (dead ReLU, 죽은 ReLU: no gradient ever reaches their
# weights again). A well-initialized network (건강한 네트워크) keeps its activations at a
# steady scale from the first layer to the last.
#
# In this exercise you write the doctor: a function that reads the per-layer statistics of a
# network and names its condition.
#
# ## The statistics
#
# The setup cell below builds small deep MLPs (fully connected, no bias unless stated, the
# same width in every layer) in plain NumPy, sends a batch of standard normal inputs through
# them, and records for each layer $l = 1, \dots, L$ a dict of the layer's outputs $h^{(l)}$
# (a batch $\times$ units array) with the keys
#
# * `"mean"`, `"std"`: the mean and the standard deviation of all entries of $h^{(l)}$;
# * `"saturated"`: for a tanh layer, the fraction of entries with $|h| > 0.99$; `None` for
#   other activations;
# * `"dead"`: for a ReLU layer, the fraction of units whose output is 0 for *every* example
#   of the batch; `None` for other activations.
#
# `mlp_stats(depth, width, activation, weight_std, bias=0.0, seed=0)` returns this list of
# dicts, first layer first, and `show(stats)` prints it as a table; `EXAMPLES` holds five
# networks of 8 layers of 256 units to look at. Try `show(EXAMPLES["tanh, weight std 0.01"])`.
# (For 256 inputs per unit, He's standard deviation is $\sqrt{2/256} \approx 0.088$ and
# Xavier's $\sqrt{2/512} \approx 0.0625$.)
#
# ## The rules
#
# Compare the **last** layer with the **first**: write $\sigma_1$ and $\sigma_L$ for their
# `"std"`. Apply these rules **in this order**; the first one that holds is the diagnosis:
#
# | order | if | diagnosis |
# | --- | --- | --- |
# | 1 | the last layer's `"dead"` is not `None` and $> 0.5$ | `"dead"` |
# | 2 | the last layer's `"saturated"` is not `None` and $> 0.5$ | `"saturated"` |
# | 3 | $\sigma_L > 10\,\sigma_1$ | `"exploding"` |
# | 4 | $\sigma_L < 0.1\,\sigma_1$ | `"vanishing"` |
# | 5 | none of the above | `"healthy"` |
#
# The order matters. A network whose units have died also has a tiny last-layer standard
# deviation (its outputs are all 0), but "vanishing" would send you to the wrong cure: the
# cause is the bias or the learning rate that killed the units, not the scale of the weights.
# Likewise a saturated tanh network may have grown from a small first layer.
#
# ## Your task
#
# Write `diagnose(stats)`: `stats` is a list of per-layer dicts as above (at least one
# layer); return one of the strings `"vanishing"`, `"exploding"`, `"saturated"`, `"dead"`,
# `"healthy"`. The `"mean"` is there for you to look at; the rules do not use it.
#
# ## What the checks test
#
# The checks build fresh networks with `mlp_stats` and compare your diagnosis with the one
# these rules give; the networks are chosen so that each lies far from every threshold. The
# visible checks below test the five example networks: tanh with tiny weights (vanishing),
# ReLU with He's scale (healthy), ReLU with weights three times He's (exploding), tanh with
# weights of standard deviation 1 (saturated) and ReLU with a bias of $-3$ (dead). The grader
# also runs hidden checks of the same kind: the same kinds of networks and a few others
# (tanh with Xavier's scale, ReLU with tiny weights) at other depths, widths and seeds; and
# hand-made statistics that test the order of the rules, their thresholds, and layers whose
# `"saturated"` and `"dead"` are both `None`.

# %% setup id=setup off-limits=trainart.diagnostics
import numpy as np

from trainart.grading.checks import check

DIAGNOSES = ("vanishing", "exploding", "saturated", "dead", "healthy")


def layer_stats(h, activation):
    """The statistics of one layer's outputs h (batch x units) after `activation`."""
    return {"mean": float(h.mean()),
            "std": float(h.std()),
            "saturated": float(np.mean(np.abs(h) > 0.99)) if activation == "tanh" else None,
            "dead": float(np.mean(np.all(h == 0, axis=0))) if activation == "relu" else None}


def mlp_stats(depth, width, activation, weight_std, bias=0.0, seed=0, batch=512):
    """Per-layer statistics of a random MLP (weights N(0, weight_std^2)) on a normal batch."""
    rng = np.random.default_rng(seed)
    h = rng.standard_normal((batch, width))
    stats = []
    for _ in range(depth):
        z = h @ (weight_std * rng.standard_normal((width, width))) + bias
        h = np.tanh(z) if activation == "tanh" else np.maximum(z, 0.0)
        stats.append(layer_stats(h, activation))
    return stats


def show(stats):
    """Print per-layer statistics as a table."""
    print("layer      mean       std  saturated   dead")
    for i, s in enumerate(stats, start=1):
        sat = "-" if s["saturated"] is None else f"{s['saturated']:.3f}"
        dead = "-" if s["dead"] is None else f"{s['dead']:.3f}"
        print(f"{i:5d} {s['mean']:9.3g} {s['std']:9.3g} {sat:>10} {dead:>6}")


HE_256 = np.sqrt(2 / 256)
EXAMPLES = {
    "tanh, weight std 0.01": mlp_stats(8, 256, "tanh", 0.01),
    "relu, He's std sqrt(2/256)": mlp_stats(8, 256, "relu", HE_256),
    "relu, weight std 3 sqrt(2/256)": mlp_stats(8, 256, "relu", 3 * HE_256),
    "tanh, weight std 1": mlp_stats(8, 256, "tanh", 1.0),
    "relu, He's std, bias -3": mlp_stats(8, 256, "relu", HE_256, bias=-3.0),
}


def diagnosis_of(c, stats):
    """diagnose(stats), failing check c unless it is one of the five strings."""
    result = diagnose([dict(s) for s in stats])
    c.true(isinstance(result, str) and result in DIAGNOSES,
           f"diagnose must return one of {DIAGNOSES}, got {result!r}")
    return result


# %% solution id=diagnose
def diagnose(stats):
    """Name the condition of a network from its per-layer statistics (first layer first)."""
    ### BEGIN SOLUTION
    first, last = stats[0], stats[-1]
    if last["dead"] is not None and last["dead"] > 0.5:
        return "dead"
    if last["saturated"] is not None and last["saturated"] > 0.5:
        return "saturated"
    if last["std"] > 10 * first["std"]:
        return "exploding"
    if last["std"] < 0.1 * first["std"]:
        return "vanishing"
    return "healthy"
    ### END SOLUTION


# %% check id=vanishing_and_healthy points=2
with check("tanh with weight std 0.01 is vanishing; ReLU with He's std is healthy") as c:
    for what, stats, expected in [
            ("tanh, weight std 0.01", mlp_stats(8, 256, "tanh", 0.01), "vanishing"),
            ("relu, He's std", mlp_stats(8, 256, "relu", np.sqrt(2 / 256)), "healthy")]:
        got = diagnosis_of(c, stats)
        c.true(got == expected, f"{what}: diagnose returned {got!r}, expected {expected!r}")

# %% check id=exploding_saturated_dead points=3
with check("ReLU with 3x He's std explodes, tanh with std 1 saturates, bias -3 kills") as c:
    he = np.sqrt(2 / 256)
    for what, stats, expected in [
            ("relu, weight std 3 sqrt(2/256)", mlp_stats(8, 256, "relu", 3 * he), "exploding"),
            ("tanh, weight std 1", mlp_stats(8, 256, "tanh", 1.0), "saturated"),
            ("relu, He's std, bias -3", mlp_stats(8, 256, "relu", he, bias=-3.0), "dead")]:
        got = diagnosis_of(c, stats)
        c.true(got == expected, f"{what}: diagnose returned {got!r}, expected {expected!r}")

# %% check id=other_networks points=3 hidden
with check("networks of other depths, widths and seeds get the right diagnosis") as c:
    for depth, width, seed in [(12, 128, 101), (6, 512, 202), (10, 64, 303)]:
        he, xavier = np.sqrt(2 / width), np.sqrt(1 / width)
        for what, activation, weight_std, bias, expected in [
                ("tanh, weight std 0.02", "tanh", 0.02, 0.0, "vanishing"),
                ("tanh, Xavier's std", "tanh", xavier, 0.0, "healthy"),
                ("tanh, weight std 1", "tanh", 1.0, 0.0, "saturated"),
                ("relu, He's std", "relu", he, 0.0, "healthy"),
                ("relu, 3x He's std", "relu", 3 * he, 0.0, "exploding"),
                ("relu, 0.3x He's std", "relu", 0.3 * he, 0.0, "vanishing"),
                ("relu, He's std, bias -2.5", "relu", he, -2.5, "dead")]:
            stats = mlp_stats(depth, width, activation, weight_std, bias=bias, seed=seed)
            got = diagnosis_of(c, stats)
            c.true(got == expected, f"{what} ({depth} layers of {width}, seed {seed}): "
                                    f"diagnose returned {got!r}, which is not right")

# %% check id=rule_order points=2 hidden
with check("hand-made statistics: the order of the rules, the thresholds, None fields") as c:
    def layers(stds, saturated=None, dead=None):
        return [{"mean": 0.0, "std": float(s),
                 "saturated": None if saturated is None else float(saturated[i]),
                 "dead": None if dead is None else float(dead[i])} for i, s in enumerate(stds)]

    cases = [
        ("dead units and a vanishing std", layers([0.1, 0.01, 0.0], dead=[0.3, 0.9, 1.0]), "dead"),
        ("saturated after growing 20x", layers([0.05, 0.6, 1.0], saturated=[0, 0.3, 0.9]),
         "saturated"),
        ("std growing 12x, few dead", layers([1.0, 5.0, 12.0], dead=[0.1, 0.1, 0.2]), "exploding"),
        ("std growing 8x, 40% dead", layers([1.0, 3.0, 8.0], dead=[0.1, 0.2, 0.4]), "healthy"),
        ("std shrinking to 0.08, no saturation", layers([1.0, 0.3, 0.08], saturated=[0, 0, 0]),
         "vanishing"),
        ("std shrinking to 0.12, 40% saturated",
         layers([1.0, 0.5, 0.12], saturated=[0.2, 0.3, 0.4]), "healthy"),
        ("60% saturated, steady std", layers([0.9, 0.9, 0.9], saturated=[0.6, 0.6, 0.6]),
         "saturated"),
        ("60% dead, steady std", layers([0.5, 0.6, 0.5], dead=[0.6, 0.6, 0.6]), "dead"),
        ("no saturated or dead fields, growing 20x", layers([0.5, 2.0, 10.0]), "exploding"),
        ("no saturated or dead fields, steady std", layers([1.0, 1.1, 0.9]), "healthy"),
        ("no saturated or dead fields, shrinking", layers([2.0, 0.5, 0.1]), "vanishing"),
        # a sick middle layer and a healthy last one: only the last layer counts
        ("dead middle layer, healthy last", layers([1.0, 0.01, 1.2], dead=[0.1, 0.9, 0.2]),
         "healthy"),
        ("saturated middle layer, healthy last",
         layers([1.0, 0.9, 1.1], saturated=[0.1, 0.8, 0.2]), "healthy"),
        ("exploded middle layer, healthy last", layers([1.0, 40.0, 2.0]), "healthy"),
        ("vanished middle layer, healthy last", layers([1.0, 0.001, 0.5]), "healthy"),
    ]
    for what, stats, expected in cases:
        got = diagnosis_of(c, stats)
        c.true(got == expected, f"{what}: diagnose returned {got!r}, which is not right")
