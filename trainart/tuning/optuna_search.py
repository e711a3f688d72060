r"""Optuna with trainart's search spaces: TPE (or random) sampling, shared studies.

Optuna (Akiba et al., 2019) asks for one hyperparameter at a time inside the objective
(``trial.suggest_float("lr", 1e-4, 1e-1, log=True)``). :func:`suggest` turns a trainart space
into those calls, so the same ``dict[str, distribution]`` drives :func:`random_search` and
:func:`optuna_search`:

=====================  =============================================================
trainart               Optuna
=====================  =============================================================
``Uniform(a, b)``      ``trial.suggest_float(name, a, b)``
``LogUniform(a, b)``   ``trial.suggest_float(name, a, b, log=True)``
``IntUniform(a, b)``   ``trial.suggest_int(name, a, b, log=...)`` (inclusive)
``Choice(options)``    ``trial.suggest_categorical(name, options)``
=====================  =============================================================

TPE, the Tree-structured Parzen Estimator (Bergstra et al., 2011), splits the trials so far
into the best fraction :math:`\gamma` and the rest, fits a density to each, :math:`\ell(x)`
and :math:`g(x)`, and proposes the candidate maximizing :math:`\ell(x) / g(x)`; its first
``n_startup_trials`` are random.

**Sharing a study.** With ``storage=sqlite_storage("tune.db")`` and a ``study_name``, any
number of processes (or, with a server database such as PostgreSQL or MySQL,
``"postgresql://user:pw@host/db"``, any number of machines) can run :func:`optuna_search`
on the same study: each asks the database for what has been tried and adds its trials.
Give each worker its own ``seed``. ``optuna-dashboard sqlite:///tune.db`` shows the study
live in a browser.

Optuna logs every trial at level INFO to stderr; the functions here lower its verbosity to
WARNING while they run, and avoid what Optuna warns about (a ``nan`` value is stored as
the worst value, ``inf``, and kept in ``user_attrs["nan"]``).
"""

from __future__ import annotations

import contextlib
import math
import warnings
from pathlib import Path

from .._checks import positive_int
from .parallel import _split_value
from .results import Results, Trial, _check_direction
from .spaces import Choice, IntUniform, LogUniform, Uniform, check_space

__all__ = ["suggest", "optuna_search", "sqlite_storage", "study_results", "quiet_optuna"]

_PRIMITIVE = (type(None), bool, int, float, str)


def _import_optuna():
    """``import optuna`` without the warning its ``tqdm.auto`` import gives inside a Jupyter
    kernel that lacks ipywidgets ("IProgress not found"): no progress bar is shown anyway, and
    the warning would reach stderr, which fails the book build."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="IProgress not found")
        import optuna
    return optuna


@contextlib.contextmanager
def quiet_optuna():
    """Within the block, Optuna logs only warnings and errors (no per-trial INFO lines on
    stderr); the previous verbosity is restored afterwards."""
    optuna = _import_optuna()

    before = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        yield optuna
    finally:
        optuna.logging.set_verbosity(before)


def _categorical(dist: Choice) -> bool:
    """Whether Optuna can store the options as they are."""
    return all(isinstance(o, _PRIMITIVE) for o in dist.options)


def suggest(trial, space) -> dict:
    """Ask an Optuna ``trial`` for one value of each hyperparameter of ``space``.

    Args:
        trial: an ``optuna.Trial`` (or ``optuna.trial.FixedTrial``).
        space: ``dict[str, distribution]`` (see the table in the module docstring). A
            ``Choice`` of options Optuna cannot store (tuples, objects) is suggested by
            index and mapped back.

    Returns:
        ``{name: value}``, ready for the objective.
    """
    space = check_space("suggest", space)
    params = {}
    for name, d in space.items():
        if isinstance(d, LogUniform):
            params[name] = trial.suggest_float(name, d.low, d.high, log=True)
        elif isinstance(d, Uniform):
            params[name] = trial.suggest_float(name, d.low, d.high)
        elif isinstance(d, IntUniform):
            params[name] = trial.suggest_int(name, d.low, d.high, log=d.log)
        elif isinstance(d, Choice):
            if _categorical(d):
                params[name] = trial.suggest_categorical(name, d.options)
            else:
                i = trial.suggest_categorical(name, list(range(len(d.options))))
                params[name] = d.options[i]
        else:  # pragma: no cover - check_space admits only the four kinds
            raise TypeError(f"suggest: cannot suggest {d!r}")
    return params


def _decode(space: dict, params: dict) -> dict:
    out = dict(params)
    for name, d in space.items():
        if isinstance(d, Choice) and not _categorical(d) and name in out:
            out[name] = d.options[out[name]]
    return out


def _make_sampler(sampler, seed, n_startup_trials):
    optuna = _import_optuna()

    if isinstance(sampler, optuna.samplers.BaseSampler):
        return sampler
    if sampler == "tpe":
        return optuna.samplers.TPESampler(seed=seed, n_startup_trials=n_startup_trials)
    if sampler == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    raise ValueError(f"optuna_search: sampler must be 'tpe', 'random' or an Optuna sampler, "
                     f"got {sampler!r}")


def study_results(study, space=None) -> Results:
    """The finished trials of an Optuna ``study`` as :class:`~trainart.tuning.Results`
    (``seconds`` from Optuna's timestamps, ``info`` from ``user_attrs``)."""
    optuna = _import_optuna()

    direction = "maximize" if study.direction == optuna.study.StudyDirection.MAXIMIZE \
        else "minimize"
    trials = []
    for t in study.get_trials(deepcopy=False,
                              states=(optuna.trial.TrialState.COMPLETE,
                                      optuna.trial.TrialState.FAIL)):
        params = _decode(space, t.params) if space is not None else dict(t.params)
        value = t.value if t.value is not None else math.nan
        if t.user_attrs.get("nan"):
            value = math.nan
        seconds = t.duration.total_seconds() if t.duration is not None else None
        info = {k: v for k, v in t.user_attrs.items() if k != "nan"}
        trials.append(Trial(t.number, params, float(value), None, seconds, info))
    return Results(trials, direction)


def optuna_search(objective, space, n_trials: int, seed: int | None = 0, sampler="tpe",
                  direction: str = "minimize", storage=None, study_name: str | None = None,
                  load_if_exists: bool = True, n_startup_trials: int = 10,
                  timeout: float | None = None):
    """Minimize (or maximize) ``objective`` over ``space`` with an Optuna study.

    Args:
        objective: ``objective(params) -> float`` (or a dict with ``"value"``; the other
            entries become the trial's ``user_attrs`` and ``Trial.info``), the same
            function :func:`~trainart.tuning.random_search` takes.
        space: ``dict[str, distribution]``.
        n_trials: trials this call adds to the study.
        seed: seed of the sampler (same seed, same objective -> the same trials; ``None``
            for a fresh one).
        sampler: ``"tpe"`` (``TPESampler(seed=seed, n_startup_trials=...)``), ``"random"``
            (``RandomSampler(seed=seed)``) or any Optuna sampler object.
        direction: ``"minimize"`` or ``"maximize"``.
        storage: ``None`` keeps the study in memory; a database URL, e.g.
            ``sqlite_storage("tune.db")``, shares it between processes and machines.
        study_name: the study's name in the storage (needed to share it).
        load_if_exists: join the study if one with this name exists (default), else fail.
        n_startup_trials: TPE's random trials before it models anything.
        timeout: stop adding trials after this many seconds.

    Returns:
        ``(study, results)``: the ``optuna.Study`` and all its finished trials (including
        those other processes added) as :class:`~trainart.tuning.Results`.
    """
    owner = "optuna_search"
    if not callable(objective):
        raise TypeError(f"{owner}: objective must be callable, got {type(objective).__name__}")
    space = check_space(owner, space)
    n_trials = positive_int(owner, "n_trials", n_trials)
    direction = _check_direction(owner, direction)
    if storage is not None and study_name is None:
        raise ValueError(f"{owner}: study_name is needed with a storage, to share the study")
    worst = math.inf if direction == "minimize" else -math.inf

    def wrapped(trial):
        params = suggest(trial, space)
        value, info = _split_value(owner, objective(params))
        for key, v in info.items():
            trial.set_user_attr(key, v)
        if math.isnan(value):
            trial.set_user_attr("nan", True)
            value = worst
        return value

    with quiet_optuna() as optuna:
        study = optuna.create_study(storage=storage, sampler=_make_sampler(
            sampler, seed, n_startup_trials), study_name=study_name, direction=direction,
            load_if_exists=load_if_exists)
        study.optimize(wrapped, n_trials=n_trials, timeout=timeout)
    return study, study_results(study, space)


def sqlite_storage(path) -> str:
    """The Optuna storage URL of an SQLite database file, ``"sqlite:///<absolute path>"``
    (the file is created on first use; its folder must exist).

    SQLite suits several processes on one machine; for many machines use a server database
    (``"postgresql://..."``, ``"mysql://..."``) or Optuna's ``JournalStorage``.
    """
    p = Path(path).expanduser().resolve()
    if not p.parent.is_dir():
        raise ValueError(f"sqlite_storage: the folder {str(p.parent)!r} does not exist")
    return f"sqlite:///{p}"
