"""The tuning figures (trainart.tuning.plots): searches, running best, space samples, the
LR range test and the curve gallery draw what they claim."""

import numpy as np
import pytest
from tuning_objectives import SPACE, log_quadratic

from trainart.data import load_mnist5k
from trainart.models import mlp
from trainart.tuning import (
    DIAGNOSES,
    Choice,
    LogUniform,
    Uniform,
    lr_range_test,
    plot_curve_gallery,
    plot_lr_finder,
    plot_search,
    plot_space_samples,
    plot_values,
    random_search,
)


def test_plot_search_marks_the_best_trial_in_one_and_two_dimensions():
    import matplotlib.pyplot as plt

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


def test_recipe_figures():
    import matplotlib.pyplot as plt

    axes = plot_curve_gallery(seed=0)
    titles = [ax.get_title() for ax in axes.ravel() if ax.get_visible()]
    assert len(titles) == len(DIAGNOSES)
    assert all(t == f"{lab}\n(diagnosed: {lab})" for t, lab in zip(titles, DIAGNOSES))
    res = lr_range_test(lambda: mlp([784, 16, 10], seed=0), load_mnist5k(), lr_min=1e-4, lr_max=100,
                        steps=40)
    ax = plot_lr_finder(res)
    assert ax.get_xscale() == "log" and any("suggestion" in t.get_text()
                                            for t in ax.get_legend().get_texts())
    with pytest.raises(TypeError, match="^plot_lr_finder: result"):
        plot_lr_finder((1, 2))
    plt.close("all")
