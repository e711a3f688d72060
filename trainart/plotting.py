"""Figures for the book: contours of loss surfaces, optimizer trajectories, animations,
training curves and the optimizer family tree (matplotlib only, English text only).

Every function draws on ``ax`` when given (or on a new figure) and returns the axes, so a
chapter can combine them::

    from trainart import plotting
    from trainart.surfaces import Rosenbrock, trajectory

    plotting.use_book_style()
    ax = plotting.plot_trajectories(Rosenbrock(), {"Adam": path}, log=True)
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from html import escape

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.animation import FuncAnimation

from . import _checks
from .surfaces import Rosenbrock

__all__ = [
    "use_book_style", "plot_contours", "plot_trajectories", "animate_trajectories",
    "plot_curves", "plot_optimizer_family_tree",
]

BOOK_STYLE = {
    "figure.dpi": 100,
    "savefig.dpi": 150,
    "figure.figsize": (6.4, 4.2),
    "figure.constrained_layout.use": True,
    "font.size": 11,
    "axes.titlesize": 12,
    "axes.labelsize": 11,
    "legend.fontsize": 10,
    "xtick.labelsize": 10,
    "ytick.labelsize": 10,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "grid.linewidth": 0.6,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "lines.linewidth": 1.8,
    "legend.framealpha": 0.85,
}


def use_book_style() -> None:
    """Set matplotlib's ``rcParams`` for legible book figures (see ``BOOK_STYLE``)."""
    mpl.rcParams.update(BOOK_STYLE)


def _axes(ax, figsize=None):
    if ax is None:
        _, ax = plt.subplots(figsize=figsize)
    return ax


def _check_2d(owner: str, surface) -> None:
    if getattr(surface, "dim", None) != 2:
        raise ValueError(
            f"{owner}: surface must be a 2-D Surface, got {type(surface).__name__} "
            f"with dim={getattr(surface, 'dim', None)!r}"
        )


def _surface_grid(surface, resolution: int):
    """The window's meshgrid ``X, Y`` and the loss ``Z`` on it."""
    xs = np.linspace(*surface.xlim, resolution)
    ys = np.linspace(*surface.ylim, resolution)
    X, Y = np.meshgrid(xs, ys)
    return X, Y, surface.f(np.stack([X, Y], axis=-1))


def plot_contours(surface, ax=None, levels=30, log=False, resolution=200, title=None,
                  aspect="equal"):
    r"""Filled contours of a 2-D surface over its window, minima marked with stars.

    Args:
        surface: a 2-D :class:`~trainart.surfaces.Surface`.
        ax: the axes to draw on (default: a new figure).
        levels: the number of contour levels.
        log: space the levels logarithmically in :math:`f - \min f` (draws
            :math:`\log_{10}(f - \min f + \epsilon)`), good for Rosenbrock's flat valley.
        resolution: grid points per axis.
        title: default ``surface.name``.
        aspect: ``"equal"`` (default) keeps circles round, so gradient steps look
            perpendicular to the contours; ``"auto"`` fills the axes.

    Returns:
        The axes.
    """
    _check_2d("plot_contours", surface)
    levels = _checks.integer("plot_contours", "levels", levels, minimum=2)
    resolution = _checks.integer("plot_contours", "resolution", resolution, minimum=10)
    ax = _axes(ax)
    X, Y, Z = _surface_grid(surface, int(resolution))
    if log:
        shifted = Z - Z.min()
        Z = np.log10(shifted + 1e-4 * max(float(shifted.max()), 1e-12))
    lv = np.linspace(Z.min(), Z.max(), int(levels))
    ax.contourf(X, Y, Z, levels=lv, cmap="Greys", alpha=0.45)
    ax.contour(X, Y, Z, levels=lv, colors="0.35", linewidths=0.5, alpha=0.6,
               negative_linestyles="solid")
    for i, m in enumerate(surface.minima):
        ax.plot(m[0], m[1], marker="*", markersize=15 if i == 0 else 11, color="gold",
                markeredgecolor="black", linestyle="none", zorder=5,
                label="global minimum" if i == 0 else ("local minimum" if i == 1 else None))
    ax.set_xlim(surface.xlim)
    ax.set_ylim(surface.ylim)
    ax.set_aspect(aspect)
    ax.set_xlabel(r"$\theta_1$")
    ax.set_ylabel(r"$\theta_2$")
    ax.set_title(surface.name if title is None else title)
    ax.grid(False)
    return ax


def _check_paths(owner: str, trajectories) -> dict[str, np.ndarray]:
    if not isinstance(trajectories, Mapping) or not trajectories:
        raise ValueError(f"{owner}: trajectories must be a non-empty dict name -> (n, 2) array")
    out = {}
    for name, path in trajectories.items():
        path = np.asarray(path, dtype=np.float64)
        if path.ndim != 2 or path.shape[1] != 2 or len(path) == 0:
            raise ValueError(
                f"{owner}: trajectories[{name!r}] must have shape (n, 2), got {path.shape}"
            )
        out[str(name)] = path
    return out


def _finite_part(path: np.ndarray) -> tuple[np.ndarray, bool]:
    """The rows before the first non-finite one, and whether the path diverged."""
    bad = ~np.all(np.isfinite(path), axis=1)
    if not bad.any():
        return path, False
    return path[: int(np.argmax(bad))], True


def plot_trajectories(surface, trajectories, ax=None, **contour_kwargs):
    """Contours of ``surface`` with each trajectory drawn as a line with markers.

    Args:
        surface: a 2-D :class:`~trainart.surfaces.Surface`.
        trajectories: ``{label: path}`` with ``path`` of shape ``(n, 2)``, e.g. from
            :func:`~trainart.surfaces.trajectory`. Rows after a divergence may be NaN: the
            finite part is drawn, its last point marked with a cross, and the legend says
            "(diverged)".
        ax: the axes to draw on (default: a new figure).
        **contour_kwargs: passed to :func:`plot_contours` (``levels``, ``log``, ``title``...).

    Returns:
        The axes (with a legend).
    """
    paths = _check_paths("plot_trajectories", trajectories)
    ax = plot_contours(surface, ax=ax, **contour_kwargs)
    for k, (name, path) in enumerate(paths.items()):
        finite, diverged = _finite_part(path)
        color = f"C{k % 10}"
        label = f"{name} (diverged)" if diverged else name
        every = max(1, len(finite) // 40)
        ax.plot(finite[:, 0], finite[:, 1], color=color, marker="o", markersize=3,
                markevery=every, linewidth=1.5, label=label, zorder=4)
        if diverged and len(finite):
            ax.plot(*finite[-1], marker="X", markersize=10, color=color,
                    markeredgecolor="black", zorder=6)
    first = next(iter(paths.values()))[0]
    if np.all(np.isfinite(first)):
        ax.plot(*first, marker="o", markersize=8, color="white", markeredgecolor="black",
                linestyle="none", label="start", zorder=6)
    ax.legend(loc="best")  # plot_contours fixed the window: paths leaving it are clipped
    return ax


def animate_trajectories(surface, trajectories, frames=60, interval=80, title=None, alt=None,
                         **contour_kwargs):
    """An animation of optimizers moving on ``surface``, as HTML that plays in a static page.

    The animation is rendered with ``FuncAnimation(...).to_jshtml()`` (JPEG frames embedded
    in JavaScript; no ffmpeg needed) at a small size (5.5 x 4 inches, 72 dpi), with long
    trajectories subsampled to ``frames`` frames, so the HTML stays below about 2 MB. The
    static part (contours, labels, legend) is drawn once and reused as a background image,
    so only the moving lines are drawn per frame. The figure is closed, so a notebook shows
    only the animation.

    Args:
        surface: a 2-D :class:`~trainart.surfaces.Surface`.
        trajectories: ``{label: path}`` as for :func:`plot_trajectories`.
        frames: the number of frames (>= 2).
        interval: milliseconds between frames.
        title: default ``surface.name``.
        alt: the animation's alt text, what it shows for a reader who cannot see it; default:
            the paths' labels and the surface, as a sentence. The player's slider is labelled
            "Animation frame"; its buttons carry matplotlib's labels.
        **contour_kwargs: passed to :func:`plot_contours` (default ``levels=20``,
            ``resolution=120``, and ``log=True`` for Rosenbrock).

    Returns:
        ``IPython.display.HTML``.
    """
    from IPython.display import HTML

    paths = _check_paths("animate_trajectories", trajectories)
    frames = _checks.integer("animate_trajectories", "frames", frames, minimum=2)
    if not interval > 0:
        raise ValueError(f"animate_trajectories: interval must be > 0, got {interval!r}")
    longest = max(len(p) for p in paths.values())
    shown = np.unique(np.linspace(0, longest - 1, min(int(frames), longest)).round().astype(int))

    fig = plt.figure(figsize=(5.5, 4.0), dpi=72, layout="constrained")
    try:
        contour_kwargs = dict(levels=20, resolution=120, log=isinstance(surface, Rosenbrock),
                              title=title) | contour_kwargs
        background, clip, pixel_paths = _static_frame(fig, surface, paths, contour_kwargs)
        anim = _moving_lines(fig, background, clip, pixel_paths, shown, interval)
        with mpl.rc_context({"savefig.dpi": "figure", "savefig.bbox": None,
                             "animation.frame_format": "jpeg"}):
            html = anim.to_jshtml(default_mode="once")
    finally:
        plt.close(fig)
    if alt is None:
        alt = (f"Animation of {', '.join(paths)} on the {surface.name} surface: each "
               f"optimizer's path grows from the start point, one step per frame.")
    return HTML(_accessible(_offline_jshtml(html), alt))


# matplotlib's jshtml links Font Awesome from a CDN for its button icons; a book that must
# render offline gets plain Unicode glyphs instead.
_FA_GLYPHS = {"fa-minus": "&minus;", "fa-fast-backward": "&#9664;&#9664;",
              "fa-step-backward": "|&#9664;", "fa-play fa-flip-horizontal": "&#9664;",
              "fa-pause": "&#10074;&#10074;", "fa-play": "&#9654;",
              "fa-step-forward": "&#9654;|", "fa-fast-forward": "&#9654;&#9654;",
              "fa-plus": "+"}


def _offline_jshtml(html: str) -> str:
    """Drop the CDN stylesheet link from ``to_jshtml()`` output and replace its icons."""
    html = re.sub(r'<link rel="stylesheet"\s+href="https?://[^"]*font-awesome[^"]*">', "", html)
    for name, glyph in _FA_GLYPHS.items():
        html = html.replace(f'<i class="fa {name}"></i>', glyph)
    return html


def _accessible(html: str, alt: str) -> str:
    """Give the player's frame image its alt text and its slider a label."""
    html = re.sub(r'(<img id="_anim_img\w+")', lambda m: f'{m.group(1)} alt="{escape(alt)}"',
                  html, count=1)
    return re.sub(r'(<input id="_anim_slider\w+")', r'\1 aria-label="Animation frame"', html,
                  count=1)


def _static_frame(fig, surface, paths, contour_kwargs):
    """Draw contours and legend once; return the image, the axes box and the paths, all in
    pixels."""
    ax = fig.add_subplot()
    plot_contours(surface, ax=ax, **contour_kwargs)
    for k, (name, path) in enumerate(paths.items()):
        ax.plot([], [], color=f"C{k % 10}", linewidth=1.5, marker="o", markersize=5,
                markeredgecolor="black", label=name)
        finite, _ = _finite_part(path)
        ax.plot(finite[:, 0], finite[:, 1], alpha=0.0)  # invisible: the legend avoids it
    ax.set_xlim(surface.xlim)
    ax.set_ylim(surface.ylim)
    ax.legend(loc="best", fontsize=9)
    fig.canvas.draw()
    background = np.asarray(fig.canvas.buffer_rgba()).copy()
    clip = ax.get_window_extent().bounds
    pixel_paths = []
    with np.errstate(over="ignore", invalid="ignore"):
        for path in paths.values():
            pixel_paths.append(ax.transData.transform(path))
    fig.set_layout_engine("none")
    fig.clear()
    return background, clip, pixel_paths


def _moving_lines(fig, background, clip, pixel_paths, shown, interval):
    """A FuncAnimation: the background image plus one growing line per path."""
    height, width = background.shape[:2]
    ax = fig.add_axes((0, 0, 1, 1))
    ax.imshow(background, extent=(0, width, 0, height), interpolation="none")
    ax.set_xlim(0, width)
    ax.set_ylim(0, height)
    ax.set_axis_off()
    box = mpl.patches.Rectangle(clip[:2], clip[2], clip[3], transform=ax.transData)
    lines, heads = [], []
    for k in range(len(pixel_paths)):
        color = f"C{k % 10}"
        (line,) = ax.plot([], [], color=color, linewidth=1.5)
        (head,) = ax.plot([], [], marker="o", markersize=6, color=color, markeredgecolor="black")
        line.set_clip_path(box)
        head.set_clip_path(box)
        lines.append(line)
        heads.append(head)

    def draw(frame):
        t = shown[frame]
        for path, line, head in zip(pixel_paths, lines, heads):
            finite, _ = _finite_part(path[: t + 1])
            line.set_data(finite[:, 0], finite[:, 1])
            head.set_data(finite[-1:, 0], finite[-1:, 1])
        return lines + heads

    return FuncAnimation(fig, draw, frames=len(shown), interval=interval, blit=False)


def plot_curves(curves, ax=None, xlabel="epoch", ylabel="loss", title=None, logy=False):
    """Training curves (loss, accuracy...), one line per entry, with a legend.

    Args:
        curves: ``{label: values}``; the x values are ``0, 1, ..., len(values) - 1``, or pass
            ``{label: (x, values)}``.
        ax: the axes to draw on (default: a new figure).
        xlabel, ylabel: the axis labels. title: default ``"<ylabel> per <xlabel>"``.
        logy: a logarithmic y axis (non-positive values are not drawn).

    Returns:
        The axes.
    """
    if not isinstance(curves, Mapping) or not curves:
        raise ValueError("plot_curves: curves must be a non-empty dict label -> values")
    ax = _axes(ax)
    for name, values in curves.items():
        if isinstance(values, tuple) and len(values) == 2:
            x, y = (np.asarray(v, dtype=np.float64) for v in values)
        else:
            y = np.asarray(values, dtype=np.float64)
            x = np.arange(len(y))
        if y.ndim != 1 or x.shape != y.shape:
            raise ValueError(
                f"plot_curves: curves[{name!r}] must be a 1-D sequence (or a pair x, y of equal "
                f"length), got shapes {x.shape} and {y.shape}"
            )
        if logy:
            y = np.where(y > 0, y, np.nan)
        ax.plot(x, y, label=str(name))
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(f"{ylabel.capitalize()} per {xlabel}" if title is None else title)
    ax.legend(loc="best")
    return ax


# The optimizer family tree: (name, tagline, x, y, branch) in axes coordinates.
_TREE_NODES = [
    ("GD", "full-batch gradient", 0.50, 0.92, "root"),
    ("SGD", "mini-batch gradient", 0.50, 0.76, "root"),
    ("Momentum", "velocity (heavy ball)", 0.22, 0.56, "direction"),
    ("NAG", "look-ahead gradient", 0.12, 0.34, "direction"),
    ("AdaGrad", r"sum of $g^2$", 0.78, 0.56, "step"),
    ("RMSProp", r"moving average of $g^2$", 0.80, 0.34, "step"),
    ("AdaDelta", "RMS of past updates", 0.86, 0.10, "step"),
    ("Adam", "momentum + RMSProp", 0.50, 0.28, "both"),
    ("AdamW", "decoupled weight decay", 0.54, 0.07, "both"),
    ("Nadam", "NAG + Adam\n(not in trainart)", 0.18, 0.08, "other"),
]
_TREE_EDGES = [
    ("GD", "SGD"), ("SGD", "Momentum"), ("Momentum", "NAG"), ("SGD", "AdaGrad"),
    ("AdaGrad", "RMSProp"), ("RMSProp", "AdaDelta"), ("Momentum", "Adam"), ("RMSProp", "Adam"),
    ("Adam", "AdamW"), ("NAG", "Nadam"), ("Adam", "Nadam"),
]
_TREE_COLORS = {"root": "#e8e8e8", "direction": "#cfe2f3", "step": "#fce5cd",
                "both": "#e1d5e7", "other": "white"}


def plot_optimizer_family_tree(ax=None):
    """The optimizer family tree of the lecture notes, drawn with boxes and arrows.

    GD -> SGD, then two branches: the **direction** branch (momentum: Momentum -> NAG) and
    the **step size** branch (adaptive: AdaGrad -> RMSProp -> AdaDelta). Adam joins
    Momentum and RMSProp; AdamW decouples Adam's weight decay. Nadam (NAG + Adam) is dashed:
    it is not implemented in ``trainart``.

    Returns:
        The axes (axis lines off).
    """
    ax = _axes(ax, figsize=(7.6, 5.6))
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_axis_off()
    boxes = {}
    for name, tagline, x, y, branch in _TREE_NODES:
        dashed = branch == "other"
        boxes[name] = ax.text(
            x, y, f"{name}\n{tagline}", ha="center", va="center", fontsize=10,
            linespacing=1.3, transform=ax.transAxes, zorder=3,
            bbox=dict(boxstyle="round,pad=0.45", facecolor=_TREE_COLORS[branch],
                      edgecolor="0.2", linestyle="--" if dashed else "-", linewidth=1.2),
        )
    for parent, child in _TREE_EDGES:
        dashed = child == "Nadam"
        ax.annotate(
            "", xy=_node_xy(child), xytext=_node_xy(parent), xycoords="axes fraction",
            textcoords="axes fraction", zorder=2,
            arrowprops=dict(arrowstyle="-|>", color="0.25", linewidth=1.2,
                            linestyle="--" if dashed else "-", shrinkA=0, shrinkB=0,
                            patchA=boxes[parent].get_bbox_patch(),
                            patchB=boxes[child].get_bbox_patch()),
        )
    ax.text(0.22, 0.70, "direction (momentum)", ha="center", va="center", fontsize=11,
            fontweight="bold", color="#1f5f99", transform=ax.transAxes)
    ax.text(0.80, 0.70, "step size (adaptive)", ha="center", va="center", fontsize=11,
            fontweight="bold", color="#b45f06", transform=ax.transAxes)
    ax.set_title("The optimizer family tree")
    return ax


def _node_xy(name: str) -> tuple[float, float]:
    for node, _, x, y, _ in _TREE_NODES:
        if node == name:
            return x, y
    raise KeyError(name)
