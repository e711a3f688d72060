r"""Search spaces: one distribution per hyperparameter.

A search space is a plain ``dict`` mapping a hyperparameter's name to a distribution::

    space = {"lr": LogUniform(1e-4, 1e-1), "width": IntUniform(16, 256, log=True),
             "dropout": Uniform(0.0, 0.5), "activation": Choice(["relu", "tanh"])}

Each distribution can

* ``sample(rng, size=None)``: draw values (a Python scalar when ``size`` is ``None``);
* ``grid(k)``: ``k`` evenly spaced values, in linear or in log space (all options for
  :class:`Choice`), for a grid search;
* ``contains(x)``: tell whether ``x`` lies in its support.

Why log space? A learning rate's effect depends on its *ratio* to the best value, not on
its difference: 1e-4 vs 1e-3 matters as much as 1e-2 vs 1e-1. Sampling
:math:`\log x \sim \mathcal U(\log a, \log b)` spends the same effort on every decade,
whereas :math:`x \sim \mathcal U(a, b)` on :math:`[10^{-4}, 10^{-1}]` puts 90 % of its
samples in the top decade (Bergstra & Bengio, 2012).

Invalid spaces raise at construction, with a message naming the class and the argument
(``LogUniform: low must be > 0, got 0``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

from .._checks import generator, is_integer, non_negative_int, positive_int

__all__ = [
    "Distribution",
    "Uniform",
    "LogUniform",
    "IntUniform",
    "Choice",
    "check_space",
    "sample_config",
    "sample_configs",
]


def _bound(owner: str, name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{owner}: {name} must be a number, got {value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{owner}: {name} must be finite, got {value!r}")
    return value


def _ordered(owner: str, low: float, high: float) -> None:
    if not low < high:
        raise ValueError(f"{owner}: low must be < high, got {low:g} >= {high:g}")


def _size(owner: str, size):
    return None if size is None else non_negative_int(owner, "size", size)


def _grid_count(owner: str, k) -> int:
    return positive_int(owner, "k", k)


class Distribution:
    """Base class of the distributions of a search space."""

    #: whether the distribution lives in log space (plots and refinement use it)
    log = False

    def sample(self, rng=None, size=None):  # pragma: no cover - abstract
        raise NotImplementedError

    def grid(self, k: int) -> list:  # pragma: no cover - abstract
        raise NotImplementedError

    def contains(self, x) -> bool:  # pragma: no cover - abstract
        raise NotImplementedError

    def __eq__(self, other) -> bool:
        return type(self) is type(other) and vars(self) == vars(other)

    def __hash__(self) -> int:
        return hash((type(self).__name__, repr(self)))


class Uniform(Distribution):
    r"""Continuous uniform :math:`x \sim \mathcal U(\text{low}, \text{high})`.

    For hyperparameters whose effect is additive: dropout probability, momentum on a
    narrow range, a mixing weight.

    Args:
        low, high: bounds, ``low < high``.
    """

    def __init__(self, low, high):
        self.low = _bound("Uniform", "low", low)
        self.high = _bound("Uniform", "high", high)
        _ordered("Uniform", self.low, self.high)

    def __repr__(self) -> str:
        return f"Uniform({self.low:g}, {self.high:g})"

    def sample(self, rng=None, size=None):
        """``size`` draws (a float when ``size`` is ``None``) from ``rng`` (a Generator or
        a seed)."""
        rng = generator("Uniform.sample", rng)
        x = rng.uniform(self.low, self.high, size=_size("Uniform.sample", size))
        return float(x) if size is None else x

    def grid(self, k: int) -> list[float]:
        """``k`` evenly spaced values from ``low`` to ``high`` (the midpoint when ``k=1``)."""
        k = _grid_count("Uniform.grid", k)
        if k == 1:
            return [0.5 * (self.low + self.high)]
        return [float(v) for v in np.linspace(self.low, self.high, k)]

    def contains(self, x) -> bool:
        """``low <= x <= high``."""
        try:
            return bool(self.low <= float(x) <= self.high)
        except (TypeError, ValueError):
            return False


class LogUniform(Distribution):
    r"""Log-uniform ("reciprocal") :math:`\log x \sim \mathcal U(\log \text{low},
    \log \text{high})`, density :math:`p(x) = 1 / (x \log(\text{high}/\text{low}))`.

    Every decade gets the same share of samples: the right prior for scale parameters such
    as the learning rate and the weight decay (Bergstra & Bengio, 2012).
    ``scipy.stats.loguniform(low, high)`` is the same distribution.

    Args:
        low, high: bounds, ``0 < low < high``.
    """

    log = True

    def __init__(self, low, high):
        self.low = _bound("LogUniform", "low", low)
        self.high = _bound("LogUniform", "high", high)
        if not self.low > 0:
            raise ValueError(f"LogUniform: low must be > 0, got {self.low:g}")
        _ordered("LogUniform", self.low, self.high)

    def __repr__(self) -> str:
        return f"LogUniform({self.low:g}, {self.high:g})"

    def sample(self, rng=None, size=None):
        """``size`` draws :math:`\\exp(u)`, :math:`u \\sim \\mathcal U(\\log a, \\log b)`."""
        rng = generator("LogUniform.sample", rng)
        u = rng.uniform(math.log(self.low), math.log(self.high),
                        size=_size("LogUniform.sample", size))
        x = np.clip(np.exp(u), self.low, self.high)
        return float(x) if size is None else x

    def grid(self, k: int) -> list[float]:
        """``k`` values evenly spaced in log space (``np.geomspace``; the geometric mean
        when ``k=1``)."""
        k = _grid_count("LogUniform.grid", k)
        if k == 1:
            return [math.sqrt(self.low * self.high)]
        return [float(v) for v in np.geomspace(self.low, self.high, k)]

    def contains(self, x) -> bool:
        """``low <= x <= high``."""
        try:
            return bool(self.low <= float(x) <= self.high)
        except (TypeError, ValueError):
            return False


class IntUniform(Distribution):
    r"""Integers from ``low`` to ``high`` *inclusive*, uniform (``log=False``) or
    log-uniform (``log=True``: :math:`x = \mathrm{round}(e^u)`,
    :math:`u \sim \mathcal U(\log(\text{low} - \tfrac12), \log(\text{high} + \tfrac12))`,
    as Optuna's ``suggest_int(..., log=True)``): widths, depths, batch sizes, epochs.

    Args:
        low, high: integer bounds, ``low < high`` (and ``low >= 1`` when ``log``).
        log: sample in log space.
    """

    def __init__(self, low, high, log: bool = False):
        for name, v in (("low", low), ("high", high)):
            if not is_integer(v):
                raise TypeError(f"IntUniform: {name} must be an integer, got {v!r}")
        if not isinstance(log, bool):
            raise TypeError(f"IntUniform: log must be True or False, got {log!r}")
        self.low, self.high, self.log = int(low), int(high), log
        _ordered("IntUniform", self.low, self.high)
        if log and self.low < 1:
            raise ValueError(f"IntUniform: low must be >= 1 when log=True, got {self.low}")

    def __repr__(self) -> str:
        return f"IntUniform({self.low}, {self.high}{', log=True' if self.log else ''})"

    def sample(self, rng=None, size=None):
        """``size`` integer draws (a Python ``int`` when ``size`` is ``None``)."""
        rng = generator("IntUniform.sample", rng)
        n = _size("IntUniform.sample", size)
        if self.log:
            u = rng.uniform(math.log(self.low - 0.5), math.log(self.high + 0.5), size=n)
            x = np.clip(np.rint(np.exp(u)), self.low, self.high).astype(np.int64)
        else:
            x = rng.integers(self.low, self.high + 1, size=n)
        return int(x) if size is None else x

    def grid(self, k: int) -> list[int]:
        """At most ``k`` distinct integers, evenly spaced in linear (or log) space and
        rounded; all integers when ``k`` exceeds their count."""
        k = _grid_count("IntUniform.grid", k)
        if k >= self.high - self.low + 1:
            return list(range(self.low, self.high + 1))
        if k == 1:
            mid = math.sqrt(self.low * self.high) if self.log else 0.5 * (self.low + self.high)
            return [int(round(mid))]
        pts = np.geomspace(self.low, self.high, k) if self.log else \
            np.linspace(self.low, self.high, k)
        return sorted({int(v) for v in np.rint(pts)})

    def contains(self, x) -> bool:
        """``x`` is an integer with ``low <= x <= high``."""
        if not is_integer(x):
            return False
        return self.low <= int(x) <= self.high


class Choice(Distribution):
    """One of a finite list of ``options``, each with probability ``1/len(options)``
    (activation functions, optimizers, architectures).

    Args:
        options: a non-empty sequence of distinct values.
    """

    def __init__(self, options):
        if isinstance(options, (str, bytes)) or not isinstance(options, Sequence):
            raise TypeError(f"Choice: options must be a list or tuple, got {options!r}")
        options = list(options)
        if not options:
            raise ValueError("Choice: options must not be empty")
        for i, a in enumerate(options):
            if any(a == b for b in options[:i]):
                raise ValueError(f"Choice: options must be distinct, {a!r} appears twice")
        self.options = options

    def __repr__(self) -> str:
        return f"Choice({self.options!r})"

    def sample(self, rng=None, size=None):
        """One option (or a list of ``size`` options), each equally likely."""
        rng = generator("Choice.sample", rng)
        n = _size("Choice.sample", size)
        idx = rng.integers(len(self.options), size=n)
        if size is None:
            return self.options[int(idx)]
        return [self.options[int(i)] for i in idx]

    def grid(self, k: int | None = None) -> list:
        """All options (``k`` is ignored: a grid must try each of them)."""
        return list(self.options)

    def contains(self, x) -> bool:
        """``x`` is one of the options."""
        return any(x == o for o in self.options)


def check_space(owner: str, space) -> dict[str, Distribution]:
    """``space`` as a ``dict[str, Distribution]``, or a ``TypeError``/``ValueError`` naming
    ``owner``."""
    if not isinstance(space, Mapping):
        raise TypeError(f"{owner}: space must be a dict of name -> distribution, "
                        f"got {type(space).__name__}")
    if not space:
        raise ValueError(f"{owner}: space must not be empty")
    for name, dist in space.items():
        if not isinstance(name, str):
            raise TypeError(f"{owner}: space names must be strings, got {name!r}")
        if not isinstance(dist, Distribution):
            raise TypeError(f"{owner}: space[{name!r}] must be a Uniform, LogUniform, "
                            f"IntUniform or Choice, got {dist!r}")
    return dict(space)


def sample_config(space, rng=None) -> dict:
    """One configuration: a dict with one draw from each distribution of ``space``, drawn
    in the space's order from ``rng`` (a ``np.random.Generator`` or a seed).

    Same seed -> same configuration.
    """
    space = check_space("sample_config", space)
    rng = generator("sample_config", rng)
    return {name: dist.sample(rng) for name, dist in space.items()}


def sample_configs(space, n: int, rng=None) -> list[dict]:
    """``n`` configurations drawn one after the other with :func:`sample_config`."""
    n = non_negative_int("sample_configs", "n", n)
    space = check_space("sample_configs", space)
    rng = generator("sample_configs", rng)
    return [sample_config(space, rng) for _ in range(n)]
