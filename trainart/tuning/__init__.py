"""Hyperparameter tuning: search spaces, grid/random/coarse-to-fine search, successive
halving, Optuna, and Karpathy's "recipe" checks (initial loss, overfit a small sample,
learning-rate range test, reading loss curves).

* :mod:`trainart.tuning.spaces`: ``Uniform``, ``LogUniform``, ``IntUniform``, ``Choice``;
  a search space is a plain ``dict[str, distribution]``;
* :mod:`trainart.tuning.results`: ``Trial``, ``Results`` (what every search returns);
* :mod:`trainart.tuning.parallel`: the runner behind ``n_jobs > 1`` (trials in local
  processes, with the same results as ``n_jobs=1``);
* :mod:`trainart.tuning.search`: ``grid_search``, ``grid_from_space``, ``random_search``,
  ``refine_space``, ``coarse_to_fine`` (and, as before, every name listed here for it);
* :mod:`trainart.tuning.halving`: ``successive_halving``;
* :mod:`trainart.tuning.study`: ``study_grid``, ``train_config``, ``run_study``,
  ``StudyResult``: a grid of
  network configurations x learning rates x seeds (note 002's assignment);
* ``trainart.tuning.optuna_search``: ``suggest``, ``optuna_search``, ``sqlite_storage``,
  ``study_results``, ``quiet_optuna``;
* :mod:`trainart.tuning.recipe`: ``expected_initial_loss``, ``initial_loss``,
  ``overfit_small_sample``, ``lr_range_test``, ``diagnose_curves``, ``curve_gallery``;
* :mod:`trainart.tuning.plots`: ``plot_search``, ``plot_values``, ``plot_space_samples``,
  ``plot_lr_finder``, ``plot_curve_gallery``.

Torch, Optuna and matplotlib are imported inside the functions that need them.
"""

from .halving import successive_halving
from .optuna_search import optuna_search, quiet_optuna, sqlite_storage, study_results, suggest
from .plots import (
    plot_curve_gallery,
    plot_lr_finder,
    plot_search,
    plot_space_samples,
    plot_values,
)
from .recipe import (
    DIAGNOSES,
    Diagnosis,
    LRFinderResult,
    curve_gallery,
    diagnose_curves,
    expected_initial_loss,
    initial_loss,
    lr_range_test,
    overfit_small_sample,
)
from .results import Results, Trial
from .search import coarse_to_fine, grid_from_space, grid_search, random_search, refine_space
from .spaces import (
    Choice,
    Distribution,
    IntUniform,
    LogUniform,
    Uniform,
    check_space,
    sample_config,
    sample_configs,
)
from .study import MATCHED_INIT, StudyResult, run_study, study_grid, train_config

__all__ = [
    "Uniform", "LogUniform", "IntUniform", "Choice", "Distribution", "check_space",
    "sample_config", "sample_configs",
    "Trial", "Results", "grid_search", "grid_from_space", "random_search", "refine_space",
    "coarse_to_fine", "successive_halving",
    "suggest", "optuna_search", "sqlite_storage", "study_results", "quiet_optuna",
    "expected_initial_loss", "initial_loss", "overfit_small_sample", "lr_range_test",
    "LRFinderResult", "diagnose_curves", "Diagnosis", "curve_gallery", "DIAGNOSES",
    "MATCHED_INIT", "study_grid", "train_config", "run_study", "StudyResult",
    "plot_search", "plot_values", "plot_space_samples", "plot_lr_finder", "plot_curve_gallery",
]
