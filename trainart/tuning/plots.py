"""Figures of a hyperparameter search (matplotlib only, English text only).

matplotlib is imported when a figure is made, so that importing :mod:`trainart.tuning`
(and every worker process of a parallel search) stays light.

Every function draws on ``ax`` when given (or on a new figure) and returns the axes (the
array of axes for :func:`plot_curve_gallery`).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from .search import Results

__all__ = ["plot_search", "plot_values", "plot_space_samples", "plot_lr_finder",
           "plot_curve_gallery"]


def _axes(ax, figsize=None):
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=figsize)
    return ax


def _check_results(owner: str, results) -> Results:
    if not isinstance(results, Results):
        raise TypeError(f"{owner}: results must be Results, got {type(results).__name__}")
    if not results:
        raise ValueError(f"{owner}: results has no trials")
    return results


def _numeric(values) -> tuple[np.ndarray, list | None]:
    """Values as floats; categorical values become positions 0, 1, ... (with their labels)."""
    if all(isinstance(v, (int, float, np.number)) and not isinstance(v, bool) for v in values):
        return np.asarray(values, dtype=float), None
    labels: list = []
    for v in values:
        if not any(v == u for u in labels):
            labels.append(v)
    return np.array([next(i for i, u in enumerate(labels) if u == v) for v in values],
                    dtype=float), labels


def _column(owner: str, results: Results, name: str):
    if name not in results.param_names():
        raise ValueError(f"{owner}: no hyperparameter named {name!r}; the trials have "
                         f"{results.param_names()}")
    return _numeric(results.column(name))


def plot_search(results, x: str, y: str | None = None, logx: bool = False,
                logy: bool = False, ax=None, cmap: str = "viridis", title: str | None = None):
    """The trials of a search in its 1-D or 2-D space, the best one marked with a star.

    * ``y=None``: the objective against hyperparameter ``x`` (one dot per trial);
    * ``y`` given: the trials in the ``(x, y)`` plane coloured by their value (a colour
      bar shows the scale; failed trials are grey crosses).

    A categorical hyperparameter is drawn at positions 0, 1, ... with its options as tick
    labels.

    Args:
        results: :class:`~trainart.tuning.Results`.
        x, y: hyperparameter names.
        logx, logy: logarithmic axes (use them for ``LogUniform`` dimensions).
        ax: the axes to draw on (default: a new figure).
        cmap: colour map of the values (2-D).
        title: default ``"Search: value vs <x>"`` or ``"Search in (<x>, <y>)"``.

    Returns:
        The axes.
    """
    owner = "plot_search"
    results = _check_results(owner, results)
    ax = _axes(ax)
    xs, xlabels = _column(owner, results, x)
    values = results.values()
    ok = np.isfinite(values)
    best = results.best
    bi = next(i for i, t in enumerate(results) if t is best)
    if y is None:
        ax.scatter(xs[ok], values[ok], s=22, alpha=0.8, label="trial")
        ax.scatter([xs[bi]], [values[bi]], marker="*", s=220, color="C3", zorder=3,
                   label=f"best: {best.value:.3g}")
        ax.set_ylabel("value")
        if logy:
            ax.set_yscale("log")
        ax.set_title(f"Search: value vs {x}" if title is None else title)
    else:
        ys, ylabels = _column(owner, results, y)
        sc = ax.scatter(xs[ok], ys[ok], c=values[ok], cmap=cmap, s=30, label="trial")
        if (~ok).any():
            ax.scatter(xs[~ok], ys[~ok], marker="x", color="0.6", label="failed")
        ax.figure.colorbar(sc, ax=ax, label="value")
        ax.scatter([xs[bi]], [ys[bi]], marker="*", s=260, color="C3", edgecolor="k",
                   zorder=3, label=f"best: {best.value:.3g}")
        ax.set_ylabel(y)
        if ylabels is not None:
            ax.set_yticks(range(len(ylabels)), [str(v) for v in ylabels])
        elif logy:
            ax.set_yscale("log")
        ax.set_title(f"Search in ({x}, {y})" if title is None else title)
    ax.set_xlabel(x)
    if xlabels is not None:
        ax.set_xticks(range(len(xlabels)), [str(v) for v in xlabels])
    elif logx:
        ax.set_xscale("log")
    ax.legend(loc="best")
    return ax


def plot_values(results, ax=None, logy: bool = False, title: str | None = None):
    """The value of each trial in run order and the best value so far.

    Args:
        results: :class:`~trainart.tuning.Results`.
        ax: the axes to draw on (default: a new figure).
        logy: a logarithmic y axis.
        title: default ``"Search progress"``.

    Returns:
        The axes.
    """
    results = _check_results("plot_values", results)
    ax = _axes(ax)
    values = results.values()
    n = np.arange(len(values))
    ok = np.isfinite(values)
    ax.scatter(n[ok], values[ok], s=18, alpha=0.7, label="trial value")
    ax.step(n, results.best_so_far(), where="post", color="C3", label="best so far")
    ax.set_xlabel("trial")
    ax.set_ylabel("value")
    if logy:
        ax.set_yscale("log")
    ax.set_title("Search progress" if title is None else title)
    ax.legend(loc="best")
    return ax


def plot_space_samples(samples, x: str | None = None, y: str | None = None, ax=None,
                       logx: bool = False, logy: bool = False, bins: int = 30,
                       title: str | None = None):
    """Where a search puts its trials.

    * ``samples`` a dict ``{label: 1-D values}``: one step histogram per label (e.g. a
      learning rate drawn uniformly vs log-uniformly), with log-spaced bins when ``logx``;
    * ``samples`` a list of configurations (dicts) or :class:`~trainart.tuning.Results`,
      with ``x`` and ``y``: the points in the ``(x, y)`` plane with a rug of each
      coordinate along the axes, which shows how many distinct values of each
      hyperparameter were tried (grid vs random search).

    Args:
        samples: see above.
        x, y: hyperparameter names for the 2-D form.
        ax: the axes to draw on (default: a new figure).
        logx, logy: logarithmic axes.
        bins: histogram bins (1-D form).
        title: the title (default ``"Samples"``).

    Returns:
        The axes.
    """
    owner = "plot_space_samples"
    ax = _axes(ax)
    if isinstance(samples, Mapping):
        if not samples:
            raise ValueError(f"{owner}: samples must not be empty")
        arrays = {k: np.asarray(v, dtype=float).ravel() for k, v in samples.items()}
        lo = min(a.min() for a in arrays.values())
        hi = max(a.max() for a in arrays.values())
        if logx:
            if lo <= 0:
                raise ValueError(f"{owner}: logx needs positive samples, got min {lo:g}")
            edges = np.geomspace(lo, hi, bins + 1)
        else:
            edges = np.linspace(lo, hi, bins + 1)
        for label, a in arrays.items():
            ax.hist(a, bins=edges, histtype="step", linewidth=1.8, label=str(label))
        if logx:
            ax.set_xscale("log")
        ax.set_xlabel("value" if x is None else x)
        ax.set_ylabel("count")
        ax.legend(loc="best")
    else:
        configs = [t.params for t in samples] if isinstance(samples, Results) \
            else list(samples)
        if not configs or x is None or y is None:
            raise ValueError(f"{owner}: a list of configurations needs x and y names")
        xs, _ = _numeric([c[x] for c in configs])
        ys, _ = _numeric([c[y] for c in configs])
        ax.scatter(xs, ys, s=26, zorder=3)
        ax.plot(xs, np.zeros_like(xs), "|", color="C1", markersize=14, clip_on=False,
                transform=ax.get_xaxis_transform())
        ax.plot(np.zeros_like(ys), ys, "_", color="C1", markersize=14, clip_on=False,
                transform=ax.get_yaxis_transform())
        if logx:
            ax.set_xscale("log")
        if logy:
            ax.set_yscale("log")
        ax.set_xlabel(x)
        ax.set_ylabel(y)
    ax.set_title("Samples" if title is None else title)
    return ax


def plot_lr_finder(result, ax=None, title: str | None = None):
    """The learning-rate range test: raw and smoothed loss against the rate (log axis),
    with the suggested rate and the explosion marked.

    Args:
        result: a :class:`~trainart.tuning.LRFinderResult`.
        ax: the axes to draw on (default: a new figure).
        title: default ``"Learning-rate range test"``.

    Returns:
        The axes.
    """
    from .recipe import LRFinderResult

    if not isinstance(result, LRFinderResult):
        raise TypeError(f"plot_lr_finder: result must be an LRFinderResult, "
                        f"got {type(result).__name__}")
    ax = _axes(ax)
    lrs, sm = result.lrs, result.smoothed
    keep = slice(None, -1) if result.diverged_at is not None else slice(None)
    ax.plot(lrs, result.losses, color="0.7", linewidth=1.0, label="minibatch loss")
    ax.plot(lrs[keep], sm[keep], color="C0", label="smoothed loss")
    ax.axvline(result.suggestion, color="C2", linestyle="--",
               label=f"suggestion {result.suggestion:.2g}")
    if result.diverged_at is not None:
        ax.axvline(result.diverged_at, color="C3", linestyle=":",
                   label=f"explodes at {result.diverged_at:.2g}")
    finite = sm[keep][np.isfinite(sm[keep])]
    if finite.size:
        ax.set_ylim(0, 1.5 * float(np.max(finite[: max(1, len(finite) // 10)])) + 1e-12)
    ax.set_xscale("log")
    ax.set_xlabel("learning rate")
    ax.set_ylabel("loss")
    ax.set_title("Learning-rate range test" if title is None else title)
    ax.legend(loc="best")
    return ax


def plot_curve_gallery(gallery=None, axes=None, seed: int = 0):
    """One small panel per curve shape of :func:`~trainart.tuning.curve_gallery`
    (training loss solid, validation loss dashed), titled with the label that
    :func:`~trainart.tuning.diagnose_curves` gives it.

    Args:
        gallery: ``{label: {"train_loss": ..., "val_loss": ...}}`` (default:
            ``curve_gallery(seed)``).
        axes: at least ``len(gallery)`` axes (default: a new 2 x 4 figure).
        seed: seed of the default gallery.

    Returns:
        The array of axes.
    """
    from .recipe import curve_gallery, diagnose_curves

    gallery = curve_gallery(seed) if gallery is None else gallery
    if not isinstance(gallery, Mapping) or not gallery:
        raise ValueError("plot_curve_gallery: gallery must be a non-empty dict")
    if axes is None:
        import matplotlib.pyplot as plt

        ncols = 4
        nrows = -(-len(gallery) // ncols)
        _, axes = plt.subplots(nrows, ncols, figsize=(3.2 * ncols, 2.6 * nrows),
                               squeeze=False)
    flat = np.asarray(axes).ravel()
    if len(flat) < len(gallery):
        raise ValueError(f"plot_curve_gallery: need {len(gallery)} axes, got {len(flat)}")
    for ax, (label, curves) in zip(flat, gallery.items()):
        train = np.asarray(curves["train_loss"], dtype=float)
        ax.plot(train, label="train")
        if curves.get("val_loss") is not None:
            ax.plot(np.asarray(curves["val_loss"], dtype=float), "--", label="validation")
        finite = train[np.isfinite(train)]
        if finite.size:
            ax.set_ylim(0, 1.15 * min(float(finite.max()), 6 * float(finite[0])))
        diagnosis = diagnose_curves(**{k: v for k, v in curves.items()
                                       if k in ("train_loss", "val_loss", "train_acc",
                                                "val_acc")})
        ax.set_title(f"{label}\n(diagnosed: {diagnosis.label})", fontsize=10)
        ax.set_xlabel("epoch")
        ax.set_ylabel("loss")
    flat[0].legend(loc="best", fontsize=8)
    for ax in flat[len(gallery):]:
        ax.set_visible(False)
    return np.asarray(axes)
