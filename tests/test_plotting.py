"""Smoke tests of the book's figures (Agg backend): labels, titles, legends, sizes, and no
warnings (pytest turns every warning into an error)."""

from __future__ import annotations

import re

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from IPython.display import HTML  # noqa: E402

from trainart import plotting  # noqa: E402
from trainart.optim import SGD, Adam  # noqa: E402
from trainart.surfaces import ALL_2D, Quadratic, Rosenbrock, Saddle, trajectory  # noqa: E402


@pytest.fixture(autouse=True)
def fresh_style_and_no_open_figures():
    with matplotlib.rc_context():
        plotting.use_book_style()
        yield
        plt.close("all")


def legend_texts(ax) -> list[str]:
    legend = ax.get_legend()
    assert legend is not None, "the axes has a legend"
    return [t.get_text() for t in legend.get_texts()]


def all_texts(ax) -> list[str]:
    return [t.get_text() for t in ax.figure.findobj(matplotlib.text.Text)]


def test_book_style_sets_the_rcparams():
    with matplotlib.rc_context():
        matplotlib.rcdefaults()
        plotting.use_book_style()
        rc = matplotlib.rcParams
        assert tuple(rc["figure.figsize"]) == (6.4, 4.2)
        assert rc["figure.dpi"] == 100 and rc["font.size"] == 11 and rc["axes.titlesize"] == 12
        assert rc["axes.grid"] and rc["figure.constrained_layout.use"]
        fig, ax = plt.subplots()
        ax.plot([0, 1], [0, 1], label="line")
        ax.legend()
        fig.canvas.draw()


@pytest.mark.parametrize("surface", list(ALL_2D.values()), ids=list(ALL_2D))
def test_plot_contours_labels_window_and_minima(surface):
    ax = plotting.plot_contours(surface, resolution=60)
    assert ax.get_xlabel() == r"$\theta_1$" and ax.get_ylabel() == r"$\theta_2$"
    assert ax.get_title() == surface.name
    assert ax.get_xlim() == pytest.approx(surface.xlim)
    assert ax.get_ylim() == pytest.approx(surface.ylim)
    stars = [line for line in ax.get_lines() if line.get_marker() == "*"]
    assert len(stars) == len(surface.minima)
    for star, m in zip(stars, surface.minima):
        np.testing.assert_allclose(np.ravel(star.get_xydata()), m)
    ax.figure.canvas.draw()


def test_plot_contours_log_levels_title_and_existing_axes():
    fig, axes = plt.subplots(1, 2)
    ax = plotting.plot_contours(Rosenbrock(), ax=axes[1], log=True, levels=15, title="banana")
    assert ax is axes[1] and ax.get_title() == "banana"
    assert len(ax.collections) >= 2  # filled and line contours
    fig.canvas.draw()


@pytest.mark.parametrize("bad, match", [
    (dict(surface=Quadratic(dim=3)), "2-D"),
    (dict(levels=1), "levels"),
    (dict(resolution=3), "resolution"),
])
def test_plot_contours_rejects_bad_arguments(bad, match):
    kwargs = dict(surface=Saddle()) | bad
    with pytest.raises(ValueError, match=match):
        plotting.plot_contours(**kwargs)


def test_plot_trajectories_draws_each_path_with_a_legend():
    s = Saddle()
    paths = {"GD": trajectory(s, lambda p: SGD(p, lr=0.1), 50),
             "Adam": trajectory(s, lambda p: Adam(p, lr=0.1), 50)}
    ax = plotting.plot_trajectories(s, paths, levels=12, resolution=50)
    assert legend_texts(ax) == ["global minimum", "local minimum", "GD", "Adam", "start"]
    drawn = {line.get_label(): line for line in ax.get_lines()}
    np.testing.assert_array_equal(drawn["GD"].get_xydata(), paths["GD"])
    np.testing.assert_array_equal(drawn["start"].get_xydata()[0], s.start)
    assert ax.get_xlim() == pytest.approx(s.xlim) and ax.get_title() == "Saddle"
    ax.figure.canvas.draw()


def test_plot_trajectories_handles_divergence():
    q = Quadratic()
    diverged = trajectory(q, lambda p: SGD(p, lr=1.0), 400)
    assert np.isnan(diverged[-1]).all()
    ax = plotting.plot_trajectories(q, {"lr=1.0": diverged}, resolution=40)
    assert "lr=1.0 (diverged)" in legend_texts(ax)
    line = next(ln for ln in ax.get_lines() if ln.get_label() == "lr=1.0 (diverged)")
    assert np.all(np.isfinite(line.get_xydata()))
    assert ax.get_xlim() == pytest.approx(q.xlim), "the window is kept when a path leaves it"
    ax.figure.canvas.draw()


@pytest.mark.parametrize("bad", [{}, {"GD": np.zeros((5, 3))}, [np.zeros((5, 2))]])
def test_plot_trajectories_rejects_bad_paths(bad):
    with pytest.raises(ValueError, match="plot_trajectories: trajectories"):
        plotting.plot_trajectories(Saddle(), bad)


def test_animation_is_small_jshtml_and_closes_its_figure():
    r = Rosenbrock()
    paths = {"GD": trajectory(r, lambda p: SGD(p, lr=1e-3), 400),
             "Adam": trajectory(r, lambda p: Adam(p, lr=0.05), 400)}
    before = plt.get_fignums()
    html = plotting.animate_trajectories(r, paths, frames=30, title="Rosenbrock race")
    assert isinstance(html, HTML)
    assert "<img" in html.data and "animation" in html.data.lower()
    assert html.data.count("data:image/jpeg;base64") == 30, "long paths are subsampled"
    assert len(html.data) < 3_000_000
    assert plt.get_fignums() == before, "no extra static figure is left open"


def test_animation_is_accessible():
    """The frame image has alt text (the default names the paths and the surface), and the
    slider has a label: an accessibility audit (axe-core) finds neither missing."""
    q = Quadratic()
    paths = {"SGD": trajectory(q, lambda p: SGD(p, lr=0.1), 20),
             "Adam": trajectory(q, lambda p: Adam(p, lr=0.1), 20)}
    html = plotting.animate_trajectories(q, paths, frames=5).data
    alt = re.search(r'<img id="_anim_img\w+" alt="([^"]+)"', html)
    assert alt and "SGD, Adam" in alt.group(1) and q.name in alt.group(1), html[:300]
    assert re.search(r'<input id="_anim_slider\w+" aria-label="Animation frame"', html)
    mine = plotting.animate_trajectories(q, paths, frames=5, alt='Two "paths" <race>').data
    assert 'alt="Two &quot;paths&quot; &lt;race&gt;"' in mine


def test_animation_of_short_and_diverged_paths():
    q = Quadratic()
    paths = {"short": trajectory(q, lambda p: SGD(p, lr=0.1), 9),
             "diverged": trajectory(q, lambda p: SGD(p, lr=1.0), 400)}
    html = plotting.animate_trajectories(q, {"short": paths["short"]}, frames=60)
    assert html.data.count("data:image/jpeg;base64") == 10  # never more frames than points
    html = plotting.animate_trajectories(q, paths, frames=5)
    assert html.data.count("data:image/jpeg;base64") == 5
    with pytest.raises(ValueError, match="frames"):
        plotting.animate_trajectories(q, paths, frames=1)


def test_plot_curves_labels_legend_and_log_scale():
    epochs = np.arange(20)
    curves = {"train": np.exp(-epochs / 5), "validation": (epochs + 1, 0.1 + np.exp(-epochs / 7))}
    ax = plotting.plot_curves(curves, logy=True)
    assert legend_texts(ax) == ["train", "validation"]
    assert ax.get_xlabel() == "epoch" and ax.get_ylabel() == "loss"
    assert ax.get_title() == "Loss per epoch" and ax.get_yscale() == "log"
    np.testing.assert_array_equal(ax.get_lines()[1].get_xdata(), epochs + 1)
    ax = plotting.plot_curves({"acc": [0.5, 0.7, 0.0]}, xlabel="step", ylabel="accuracy",
                              title="Accuracy", logy=True)  # 0 is not drawn on a log axis
    assert ax.get_title() == "Accuracy" and ax.get_yscale() == "log"
    ax.figure.canvas.draw()
    ax = plotting.plot_curves({"a": [3, 2, 1]})
    assert ax.get_yscale() == "linear"
    np.testing.assert_array_equal(ax.get_lines()[0].get_xdata(), [0, 1, 2])


@pytest.mark.parametrize("bad", [{}, {"a": [[1, 2], [3, 4]]}, {"a": ([1, 2], [1, 2, 3])}])
def test_plot_curves_rejects_bad_curves(bad):
    with pytest.raises(ValueError, match="plot_curves"):
        plotting.plot_curves(bad)


def test_optimizer_family_tree():
    ax = plotting.plot_optimizer_family_tree()
    ax.figure.canvas.draw()
    texts = " ".join(all_texts(ax))
    for name in ["GD", "SGD", "Momentum", "NAG", "AdaGrad", "RMSProp", "AdaDelta", "Adam",
                 "AdamW", "Nadam", "direction (momentum)", "step size (adaptive)",
                 "not in trainart"]:
        assert name in texts, name
    assert ax.get_title() == "The optimizer family tree"
    arrows = [c for c in ax.get_children() if isinstance(c, matplotlib.text.Annotation)]
    assert len(arrows) == 11
    boxes = {t.get_text().split("\n")[0]: t.get_bbox_patch() for t in ax.texts
             if t.get_bbox_patch() is not None}
    assert boxes["Nadam"].get_linestyle() == "--" and boxes["Adam"].get_linestyle() == "-"
    assert all(t.isascii() for t in all_texts(ax)), "English only: no Hangul glyphs"
    # every box lies inside the axes, so nothing is cut off at book width
    renderer = ax.figure.canvas.get_renderer()
    frame = ax.get_window_extent(renderer)
    for patch in boxes.values():
        box = patch.get_window_extent(renderer)
        assert frame.x0 - 1 <= box.x0 and box.x1 <= frame.x1 + 1
        assert frame.y0 - 1 <= box.y0 and box.y1 <= frame.y1 + 1


def test_animation_html_links_nothing_outside():
    """matplotlib's jshtml links Font Awesome from a CDN; the book must render offline."""
    path = trajectory(Saddle(), lambda p: SGD(p, lr=0.1), 10)
    html = plotting.animate_trajectories(Saddle(), {"SGD": path}, frames=5).data
    assert "://" not in html
    assert "fa fa-" not in html and "&#9654;" in html  # icons replaced by Unicode glyphs
