r"""Toy loss surfaces with exact gradients and Hessians, and optimizer trajectories on them.

Every surface maps parameters :math:`\theta \in \mathbb{R}^d` to a loss :math:`f(\theta)`:

* :class:`Quadratic` - an ill-conditioned bowl where gradient descent zig-zags;
* :class:`Rosenbrock` - the curved banana valley;
* :class:`Saddle` - a strict saddle point that slows gradient descent down;
* :class:`Cliff` - a gentle bowl with a sharp wall where the gradient explodes;
* :class:`LocalMinima` - a wide bowl with several Gaussian wells of different depths.

``f`` is vectorized (``x`` of shape ``(..., d)``, so a meshgrid stacked on the last axis
works), and ``grad`` and ``hessian`` are the exact analytic derivatives (the Newton-method
chapter uses them), vectorized the same way: ``grad`` returns ``(..., d)`` and ``hessian``
``(..., d, d)``. :func:`trajectory` runs any :mod:`trainart.optim` optimizer on a surface.

Example::

    from trainart.optim import Adam
    from trainart.surfaces import Rosenbrock, trajectory

    path = trajectory(Rosenbrock(), lambda p: Adam(p, lr=0.05), steps=500)
"""

from __future__ import annotations

import math

import numpy as np

from . import _checks
from .activations import sigmoid_and_derivative as _sigmoid
from .optim import clip_grad_norm_

__all__ = [
    "Surface", "Quadratic", "Rosenbrock", "Saddle", "Cliff", "LocalMinima", "trajectory",
    "ALL_2D",
]


class Surface:
    """Base class: a loss :math:`f:\\mathbb{R}^d\\to\\mathbb{R}` with its gradient and Hessian.

    Attributes:
        name: a short English name for titles and legends.
        dim: the number of parameters :math:`d`.
        start: the default starting point, float64 of shape ``(dim,)``.
        minima: the known minimisers (the global one first, then local ones).
        xlim: the plotting window's x range of a 2-D surface.
        ylim: its y range.

    Subclasses implement ``_f``, ``_grad`` and ``_hessian`` on a float64 array whose last
    axis has length ``dim``; the public methods check the shape first.
    """

    name: str = "Surface"
    dim: int = 2
    start: np.ndarray
    minima: list[np.ndarray]
    xlim: tuple[float, float] = (-3.0, 3.0)
    ylim: tuple[float, float] = (-3.0, 3.0)

    def f(self, x):
        """The loss at ``x`` of shape ``(..., dim)``; returns shape ``(...)``."""
        return self._f(self._check_x(x, "f"))

    def grad(self, x):
        """The exact gradient at ``x`` of shape ``(..., dim)``; returns shape ``(..., dim)``."""
        return self._grad(self._check_x(x, "grad"))

    def hessian(self, x):
        """The exact Hessian at ``x`` of shape ``(..., dim)``; returns ``(..., dim, dim)``."""
        return self._hessian(self._check_x(x, "hessian"))

    def __call__(self, x):
        return self.f(x)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(dim={self.dim})"

    def _check_x(self, x, method: str) -> np.ndarray:
        try:
            x = np.asarray(x, dtype=np.float64)
        except (TypeError, ValueError):
            raise TypeError(
                f"{type(self).__name__}.{method}: x must be an array of numbers, got {x!r}"
            ) from None
        if x.ndim == 0 or x.shape[-1] != self.dim:
            raise ValueError(
                f"{type(self).__name__}.{method}: x must have shape (..., {self.dim}), "
                f"got shape {x.shape}"
            )
        return x

    def _f(self, x):
        raise NotImplementedError

    def _grad(self, x):
        raise NotImplementedError

    def _hessian(self, x):
        raise NotImplementedError


def _dim(owner: str, dim) -> int:
    return _checks.integer(owner, "dim", dim, minimum=2)


def _rotation(dim: int, angle: float) -> np.ndarray:
    """The rotation by ``angle`` radians in the :math:`(\\theta_1, \\theta_2)` plane."""
    c, s = math.cos(angle), math.sin(angle)
    R = np.eye(dim)
    R[:2, :2] = [[c, -s], [s, c]]
    return R


class Quadratic(Surface):
    r"""An ill-conditioned quadratic bowl :math:`f(\theta) = \tfrac12\,\theta^\top A\,\theta`.

    .. math::

        A = R\,\operatorname{diag}(\lambda_1, \dots, \lambda_d)\,R^\top,\qquad
        \lambda_i = \kappa^{(i-1)/(d-1)}\ (\text{from } 1 \text{ to } \kappa),\qquad
        \nabla f = A\theta,\qquad \nabla^2 f = A

    :math:`R` rotates the :math:`(\theta_1, \theta_2)` plane by ``angle``; with
    ``angle=0`` the flat direction (:math:`\lambda=1`) is :math:`\theta_1` and the steep
    one (:math:`\lambda=\kappa`) is :math:`\theta_2`. The minimum is at 0. From the default
    start :math:`(-4, 1.5, 1.5, \dots)` gradient descent with :math:`\eta` close to
    :math:`2/\kappa` zig-zags across the steep direction while creeping along the flat one
    (:math:`\eta < 2/\kappa` converges, :math:`\eta > 2/\kappa` diverges).

    Args:
        condition_number: :math:`\kappa = \lambda_{\max}/\lambda_{\min} \ge 1`.
        dim: :math:`d \ge 2`.
        angle: rotation of the eigenbasis in radians.

    Reference: Goodfellow, Bengio and Courville (2016), *Deep Learning*, section 4.3.1.
    """

    name = "Quadratic"
    xlim = (-5.0, 5.0)
    ylim = (-3.0, 3.0)

    def __init__(self, condition_number: float = 10.0, dim: int = 2, angle: float = 0.0):
        owner = type(self).__name__
        kappa = _checks.number(owner, "condition_number", condition_number)
        if not 1.0 <= kappa < math.inf:
            raise ValueError(f"{owner}: condition_number must be finite and >= 1, got {kappa!r}")
        angle = _checks.number(owner, "angle", angle)
        if math.isinf(angle):
            raise ValueError(f"{owner}: angle must be finite, got {angle!r}")
        self.dim = _dim(owner, dim)
        self.condition_number = kappa
        self.angle = angle
        self.eigenvalues = np.logspace(0.0, math.log10(kappa), self.dim)
        R = _rotation(self.dim, angle)
        A = R @ np.diag(self.eigenvalues) @ R.T
        self.A = 0.5 * (A + A.T)  # exactly symmetric despite rounding
        self.start = np.array([-4.0] + [1.5] * (self.dim - 1))
        self.minima = [np.zeros(self.dim)]

    def __repr__(self) -> str:
        return (f"Quadratic(condition_number={self.condition_number!r}, dim={self.dim}, "
                f"angle={self.angle!r})")

    def _f(self, x):
        return 0.5 * np.einsum("...i,ij,...j->...", x, self.A, x)

    def _grad(self, x):
        return x @ self.A  # A is symmetric

    def _hessian(self, x):
        return np.broadcast_to(self.A, x.shape[:-1] + self.A.shape).copy()


class Rosenbrock(Surface):
    r"""The Rosenbrock "banana" function in :math:`d \ge 2` dimensions.

    .. math::

        f(\theta) = \sum_{i=1}^{d-1} b\,(\theta_{i+1} - \theta_i^2)^2 + (a - \theta_i)^2

    .. math::

        \partial_i f &= -4b\,\theta_i(\theta_{i+1} - \theta_i^2) - 2(a - \theta_i)
            \;[i < d] \;+\; 2b\,(\theta_i - \theta_{i-1}^2) \;[i > 1]\\
        \partial_i^2 f &= (12b\,\theta_i^2 - 4b\,\theta_{i+1} + 2)\;[i<d] \;+\; 2b\;[i>1],
        \qquad \partial_i\partial_{i+1} f = -4b\,\theta_i

    The global minimum is :math:`(a, a^2)` in 2-D and :math:`(1, \dots, 1)` for
    :math:`a = 1` (any :math:`d`; for other :math:`a` and :math:`d > 2` the minimum found by
    Newton's method from :math:`(a, \dots, a)` is listed); for :math:`4 \le d \le 7` and
    :math:`a = 1` the second, local minimum near :math:`(-1, 1, \dots, 1)` is listed too.
    The default start is the standard :math:`(-1.2, 1, -1.2, 1, \dots)`.

    Args:
        dim: :math:`d \ge 2`. a, b: the constants (default 1 and 100).

    Reference: Rosenbrock (1960), "An automatic method for finding the greatest or least
    value of a function", *The Computer Journal* 3(3).
    """

    name = "Rosenbrock"
    xlim = (-2.0, 2.0)
    ylim = (-1.0, 3.0)

    def __init__(self, dim: int = 2, a: float = 1.0, b: float = 100.0):
        owner = type(self).__name__
        self.dim = _dim(owner, dim)
        self.a = _checks.number(owner, "a", a)
        if math.isinf(self.a):
            raise ValueError(f"{owner}: a must be finite, got {a!r}")
        self.b = _checks.positive(owner, "b", b)
        self.start = np.array([-1.2 if i % 2 == 0 else 1.0 for i in range(self.dim)])
        if self.dim == 2:
            self.minima = [np.array([self.a, self.a**2])]
        elif self.a in (0.0, 1.0):
            self.minima = [np.full(self.dim, self.a)]
        else:
            self.minima = [_polish_minimum(self, np.full(self.dim, self.a))]
        if 4 <= self.dim <= 7 and self.a == 1.0:
            local = _polish_minimum(self, np.r_[-1.0, np.ones(self.dim - 1)], strict=False)
            if local is not None and not np.allclose(local, self.minima[0], atol=1e-3):
                self.minima.append(local)

    def __repr__(self) -> str:
        return f"Rosenbrock(dim={self.dim}, a={self.a!r}, b={self.b!r})"

    def _f(self, x):
        head, tail = x[..., :-1], x[..., 1:]
        return np.sum(self.b * (tail - head**2) ** 2 + (self.a - head) ** 2, axis=-1)

    def _grad(self, x):
        a, b = self.a, self.b
        head, tail = x[..., :-1], x[..., 1:]
        g = np.zeros_like(x)
        g[..., :-1] += -4 * b * head * (tail - head**2) - 2 * (a - head)
        g[..., 1:] += 2 * b * (tail - head**2)
        return g

    def _hessian(self, x):
        b, d = self.b, self.dim
        head, tail = x[..., :-1], x[..., 1:]
        H = np.zeros(x.shape + (d,))
        i = np.arange(d - 1)
        H[..., i, i] += 12 * b * head**2 - 4 * b * tail + 2
        H[..., i + 1, i + 1] += 2 * b
        H[..., i, i + 1] = -4 * b * head
        H[..., i + 1, i] = -4 * b * head
        return H


class Saddle(Surface):
    r"""A saddle that is bounded below: a strict saddle at 0 between two minima.

    .. math::

        f(x, y) = x^2 + \tfrac14 y^4 - \tfrac12 y^2,\qquad
        \nabla f = (2x,\ y^3 - y),\qquad
        \nabla^2 f = \operatorname{diag}(2,\ 3y^2 - 1)

    At the origin the Hessian is :math:`\operatorname{diag}(2, -1)` (a strict saddle); the
    minima :math:`(0, \pm 1)` have :math:`f = -\tfrac14`. The default start
    :math:`(1.5, 10^{-3})` lies almost on the saddle's stable manifold (the
    :math:`x`-axis): gradient descent (``SGD(lr=0.1)``) first slides into the saddle, then
    waits for the tiny :math:`y` to grow by a factor :math:`1 + \eta` per step. It spends 36
    steps within 0.1 of the saddle and first reaches :math:`y > 0.5` at step 67. Adam
    (``Adam(lr=0.1)``), whose first steps have length about ``lr`` in every coordinate
    however small the gradient, never comes within 0.9 of the saddle and reaches
    :math:`y > 0.5` at step 6.

    Reference: Dauphin et al. (2014), "Identifying and attacking the saddle point problem in
    high-dimensional non-convex optimization"; Ge et al. (2015), "Escaping from saddle
    points".
    """

    name = "Saddle"
    dim = 2
    xlim = (-2.0, 2.0)
    ylim = (-1.6, 1.6)

    def __init__(self):
        self.start = np.array([1.5, 1e-3])
        self.minima = [np.array([0.0, 1.0]), np.array([0.0, -1.0])]
        self.saddle = np.zeros(2)

    def __repr__(self) -> str:
        return "Saddle()"

    def _f(self, x):
        u, v = x[..., 0], x[..., 1]
        return u**2 + 0.25 * v**4 - 0.5 * v**2

    def _grad(self, x):
        u, v = x[..., 0], x[..., 1]
        return np.stack([2 * u, v**3 - v], axis=-1)

    def _hessian(self, x):
        v = x[..., 1]
        H = np.zeros(x.shape + (2,))
        H[..., 0, 0] = 2.0
        H[..., 1, 1] = 3 * v**2 - 1
        return H


class Cliff(Surface):
    r"""A gentle bowl with a steep cliff: a smooth step of height :math:`h` at :math:`x = c`.

    .. math::

        f(x, y) &= \tfrac12 (x^2 + y^2) + h\,\sigma\big(s\,(x - c)\big),\qquad
        \sigma(z) = \frac{1}{1 + e^{-z}}\\
        \nabla f &= \big(x + h s\,\sigma'(z),\ y\big),\qquad
        \nabla^2 f = \operatorname{diag}\big(1 + h s^2\,\sigma''(z),\ 1\big),\qquad
        z = s(x - c)

    with :math:`\sigma' = \sigma(1-\sigma)` and :math:`\sigma'' = \sigma'(1 - 2\sigma)`.
    The plateau :math:`x > c` lies :math:`h` above the bowl; on the wall the gradient
    reaches :math:`hs/4` (50 for the defaults), against at most about 5 elsewhere in the
    window. The single minimum sits at the foot of the wall, :math:`(x^*, 0)` with
    :math:`x^* \approx -0.009` (computed to machine precision).

    From the default start :math:`(3.5, 2)` on the plateau, gradient descent
    (``SGD(lr=0.1)``) walks down towards the edge, lands on the wall at step 9 and is
    **catapulted** 2.8 units in one step, from :math:`(1.17, 0.78)` to
    :math:`(-1.64, 0.70)`: past the minimum, farther from it than before. How far depends on
    where a step happens to land on the 0.4-wide wall (``lr=0.3`` jumps 9 units,
    ``lr=0.2`` happens to step over it). With ``clip_norm=1.0``
    (:func:`~trainart.optim.clip_grad_norm_`) every step is at most
    ``lr * clip_norm = 0.1`` long, the distance to the minimum shrinks at every step, and the
    run climbs down the cliff to the minimum (within :math:`10^{-3}` after 98 steps).

    Args:
        height: :math:`h > 0`. steepness: :math:`s > 0` (the wall is about :math:`4/s`
            wide). position: :math:`c`, where the wall is.

    Reference: Pascanu, Mikolov and Bengio (2013), "On the difficulty of training recurrent
    neural networks", ICML (figure 6); Goodfellow et al. (2016), *Deep Learning*, figure 8.3.
    """

    name = "Cliff"
    dim = 2
    xlim = (-4.0, 4.0)
    ylim = (-3.0, 3.0)

    def __init__(self, height: float = 20.0, steepness: float = 10.0, position: float = 1.0):
        owner = type(self).__name__
        self.height = _checks.positive(owner, "height", height)
        self.steepness = _checks.positive(owner, "steepness", steepness)
        self.position = _checks.number(owner, "position", position)
        if math.isinf(self.position):
            raise ValueError(f"{owner}: position must be finite, got {position!r}")
        self.start = np.array([3.5, 2.0])
        self.minima = [_polish_minimum(self, np.array([min(0.0, self.position - 1.0), 0.0]))]

    def __repr__(self) -> str:
        return (f"Cliff(height={self.height!r}, steepness={self.steepness!r}, "
                f"position={self.position!r})")

    def _z(self, x):
        return self.steepness * (x[..., 0] - self.position)

    def _f(self, x):
        s, _ = _sigmoid(self._z(x))
        return 0.5 * np.sum(x**2, axis=-1) + self.height * s

    def _grad(self, x):
        _, ds = _sigmoid(self._z(x))
        g = np.array(x, copy=True)
        g[..., 0] += self.height * self.steepness * ds
        return g

    def _hessian(self, x):
        s, ds = _sigmoid(self._z(x))
        H = np.zeros(x.shape + (2,))
        H[..., 0, 0] = 1.0 + self.height * self.steepness**2 * ds * (1.0 - 2.0 * s)
        H[..., 1, 1] = 1.0
        return H


class LocalMinima(Surface):
    r"""A wide quadratic bowl minus Gaussian wells: several local minima of different depths.

    .. math::

        f(\theta) &= \tfrac{\beta}{2}\|\theta\|^2
            - \sum_k d_k\, e_k(\theta),\qquad
            e_k(\theta) = \exp\!\Big(-\frac{\|\theta - \mu_k\|^2}{2 w_k^2}\Big)\\
        \nabla f &= \beta\theta + \sum_k \frac{d_k e_k}{w_k^2}(\theta - \mu_k)\\
        \nabla^2 f &= \beta I + \sum_k \frac{d_k e_k}{w_k^2}
            \Big(I - \frac{(\theta-\mu_k)(\theta-\mu_k)^\top}{w_k^2}\Big)

    Default wells (centre :math:`\mu_k`, depth :math:`d_k`, width :math:`w_k`): see
    ``WELLS``; :math:`\beta = 0.2`. ``minima`` holds every local minimum, the deepest
    first, found by damped Newton iterations from the well centres (gradient below
    :math:`10^{-12}`).

    With the defaults the minima are (rounded) :math:`(0.938, -0.468)` (global,
    :math:`f = -2.883`), :math:`(1.849, 1.585)` (:math:`f = -1.008`) and the shallow
    :math:`(-1.815, 1.362)` (:math:`f = 0.166`), next to the default start
    :math:`(-3.5, 2.8)`. Plain gradient descent, ``SGD(lr=lr)`` for any ``lr`` from 0.01
    to 0.5, rolls into the shallow well and stays there. Heavy-ball momentum
    ``SGD(lr=lr, momentum=0.9)`` (any ``lr`` from 0.01 to 0.5; ``lr=0.05`` is within 0.01
    of the global minimum after 78 steps) and ``Adam(lr=lr)`` (``lr`` from 0.05 to 0.5;
    ``lr=0.1``: 110 steps) carry enough speed through the shallow well to reach the global
    minimum. (``Adam(lr=0.01)`` or ``0.03`` stays in the shallow well.)

    Args:
        wells: a sequence of ``(centre, depth, width)``; default ``WELLS``.
        curvature: :math:`\beta > 0`, the bowl's curvature.

    Reference: Goodfellow et al. (2016), *Deep Learning*, section 8.2.2 (local minima).
    """

    name = "Local minima"
    dim = 2
    xlim = (-4.0, 4.0)
    ylim = (-3.0, 3.0)
    WELLS = (((-2.0, 1.5), 0.4, 0.4), ((1.0, -0.5), 3.0, 1.0), ((2.0, 1.8), 1.5, 0.6))

    def __init__(self, wells=None, curvature: float = 0.2):
        owner = type(self).__name__
        wells = self.WELLS if wells is None else wells
        try:
            centres = np.array([w[0] for w in wells], dtype=np.float64)
            depths = np.array([w[1] for w in wells], dtype=np.float64)
            widths = np.array([w[2] for w in wells], dtype=np.float64)
        except (TypeError, ValueError, IndexError):
            raise ValueError(
                f"{owner}: wells must be a sequence of (centre, depth, width), got {wells!r}"
            ) from None
        if centres.ndim != 2 or centres.shape[1] != 2 or len(centres) == 0:
            raise ValueError(f"{owner}: wells: each centre must be a pair (x, y), got {wells!r}")
        if not (np.all(depths > 0) and np.all(widths > 0)):
            raise ValueError(f"{owner}: wells: each depth and width must be > 0, got {wells!r}")
        self.centres, self.depths, self.widths = centres, depths, widths
        self.curvature = _checks.positive(owner, "curvature", curvature)
        self.start = np.array([-3.5, 2.8])
        found = []
        for c in centres:
            m = _polish_minimum(self, c, strict=False)
            if m is not None and not any(np.allclose(m, q, atol=1e-6) for q in found):
                found.append(m)
        self.minima = sorted(found, key=lambda m: float(self.f(m)))

    def __repr__(self) -> str:
        return "LocalMinima()"

    def _wells(self, x):
        """:math:`\\theta - \\mu_k` (shape (..., k, 2)) and :math:`d_k e_k / w_k^2` (..., k)."""
        diff = x[..., None, :] - self.centres
        e = np.exp(-np.sum(diff**2, axis=-1) / (2 * self.widths**2))
        return diff, self.depths * e / self.widths**2

    def _f(self, x):
        diff = x[..., None, :] - self.centres
        e = np.exp(-np.sum(diff**2, axis=-1) / (2 * self.widths**2))
        return 0.5 * self.curvature * np.sum(x**2, axis=-1) - np.sum(self.depths * e, axis=-1)

    def _grad(self, x):
        diff, c = self._wells(x)
        return self.curvature * x + np.sum(c[..., None] * diff, axis=-2)

    def _hessian(self, x):
        diff, c = self._wells(x)
        outer = diff[..., :, None] * diff[..., None, :] / (self.widths**2)[:, None, None]
        eye = np.eye(2)
        per_well = c[..., None, None] * (eye - outer)
        return self.curvature * eye + np.sum(per_well, axis=-3)


def _polish_minimum(surface: Surface, x0, strict: bool = True, max_iter: int = 500):
    """A local minimiser near ``x0`` by damped Newton steps (gradient steps where the
    Hessian is not positive definite), polished until the gradient is ~1e-13.

    Returns ``None`` (or raises, if ``strict``) when no minimum with a positive definite
    Hessian is found.
    """
    x = np.array(x0, dtype=np.float64)
    for _ in range(max_iter):
        g = surface._grad(x)
        gnorm = np.linalg.norm(g)
        if gnorm < 1e-13:
            break
        H = surface._hessian(x)
        pd = np.all(np.linalg.eigvalsh(H) > 0)
        p = np.linalg.solve(H, -g) if pd else -g
        if pd and gnorm < 1e-6:
            x = x + p  # pure Newton near the minimum: quadratic convergence
            continue
        t, f0 = 1.0, surface._f(x)
        while surface._f(x + t * p) > f0 + 1e-4 * t * (g @ p) and t > 1e-12:
            t *= 0.5
        x = x + t * p
    ok = np.linalg.norm(surface._grad(x)) < 1e-9 and np.all(
        np.linalg.eigvalsh(surface._hessian(x)) > 0
    )
    if not ok:
        if strict:
            raise RuntimeError(f"{type(surface).__name__}: no minimum found near {x0!r}")
        return None
    return x


def trajectory(surface: Surface, make_optimizer, steps: int, start=None, clip_norm=None,
               check_finite: bool = True) -> np.ndarray:
    r"""Run an optimizer on ``surface`` and record every iterate.

    Each step computes the exact gradient :math:`g_t = \nabla f(\theta_{t-1})`, optionally
    clips it, :math:`g_t \leftarrow g_t \min(1, c / \|g_t\|)`
    (:func:`~trainart.optim.clip_grad_norm_`), and calls ``opt.step([g_t])``.

    Args:
        surface: a :class:`Surface`.
        make_optimizer: called with ``[x]`` (a float64 copy of the start, updated in place)
            and returns a :mod:`trainart.optim` optimizer, e.g. ``lambda p: Adam(p, lr=0.1)``.
        steps: the number of optimizer steps (>= 0).
        start: the starting point, default ``surface.start``.
        clip_norm: if given, clip each gradient to this norm before the step.
        check_finite: stop at the first non-finite gradient or iterate and fill the
            remaining rows with NaN (default), so divergence can be plotted. With ``False``
            nothing is checked (an optimizer built with its own ``check_finite=True`` then
            raises on a non-finite gradient).

    Returns:
        An array of shape ``(steps + 1, dim)``: row 0 is the start, row ``t`` the iterate
        after ``t`` steps (NaN after a divergence).
    """
    if not isinstance(surface, Surface):
        raise TypeError(f"trajectory: surface must be a Surface, got {type(surface).__name__}")
    if not callable(make_optimizer):
        raise TypeError(
            "trajectory: make_optimizer must be callable, e.g. lambda p: SGD(p, lr=0.1)"
        )
    steps = _checks.non_negative_int("trajectory", "steps", steps)
    if clip_norm is not None:
        clip_norm = _checks.positive("trajectory", "clip_norm", clip_norm)
    x = np.array(surface.start if start is None else start, dtype=np.float64)
    if x.shape != (surface.dim,):
        raise ValueError(
            f"trajectory: start must have shape ({surface.dim},) for {surface.name}, "
            f"got {x.shape}"
        )
    opt = make_optimizer([x])
    path = np.full((int(steps) + 1, surface.dim), np.nan)
    path[0] = x
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(1, int(steps) + 1):
            g = surface.grad(x)
            if check_finite and not np.all(np.isfinite(g)):
                break
            if clip_norm is not None:
                clip_grad_norm_([g], clip_norm)
            opt.step([g])
            if check_finite and not np.all(np.isfinite(x)):
                break
            path[t] = x
    return path


ALL_2D: dict[str, Surface] = {
    s.name: s for s in (Quadratic(), Rosenbrock(), Saddle(), Cliff(), LocalMinima())
}
"""The default instance of each 2-D surface, keyed by its ``name``."""
