r"""Dropout as a forward/backward pair (CS231n style), equal to PyTorch's ``F.dropout``.

Dropout (Srivastava et al., 2014) multiplies every *unit* (an activation, an entry of ``x``)
by an independent Bernoulli mask while training: each unit is dropped (set to 0) with
probability :math:`p` and kept with probability :math:`1 - p`. ``p`` is the **drop**
probability, as in PyTorch (some CS231n years use ``p`` for the keep probability). Units are
dropped, not weights: dropping individual weights is DropConnect (Wan et al., 2013).

Two ways to make the test-time network match the training-time one *in expectation*:

- ``mode="inverted"`` (PyTorch, every framework): scale the survivors by :math:`1/(1-p)` while
  training, so :math:`\mathbb{E}[\text{out}] = x`; at test time there is nothing to do
  (``out = x``), so the deployed network is the plain network.
- ``mode="classic"`` (the 2014 paper): no scaling while training,
  :math:`\mathbb{E}[\text{out}] = (1-p)\,x`; at test time every unit is multiplied by the
  **keep** probability :math:`1-p` (the paper's "weight scaling"). Multiplying by the drop
  ratio :math:`p` instead is only right at :math:`p = 0.5`, where the two coincide.

Both give the same expected output at test time, relative to the same training; inverted
dropout just moves the constant into training.

Arrays keep a floating dtype (float32 stays float32); anything else becomes float64.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from . import _checks
from .layers import Layer

__all__ = ["DropoutCache", "dropout_forward", "dropout_backward", "Dropout",
           "mc_dropout_predict", "MODES"]

MODES = ("inverted", "classic")


class DropoutCache(NamedTuple):
    """What ``dropout_backward`` needs: ``dx = dout * mask * scale``.

    ``mask`` is the 0/1 keep mask in ``x``'s dtype (``None`` in eval mode, where no mask is
    drawn); ``scale`` is :math:`1/(1-p)` (inverted, training), :math:`1` (classic training,
    inverted eval) or :math:`1-p` (classic eval).
    """

    mask: np.ndarray | None
    scale: float
    p: float
    mode: str
    training: bool




def _mode(owner: str, mode) -> str:
    if not isinstance(mode, str):
        raise TypeError(f"{owner}: mode must be one of {', '.join(map(repr, MODES))}, "
                        f"got {type(mode).__name__}")
    return _checks.one_of(owner, "mode", mode, MODES)


def _training(owner: str, training) -> bool:
    # A Generator passed positionally (dropout_forward(x, p, rng)) would otherwise be truthy.
    if not isinstance(training, (bool, np.bool_)):
        raise TypeError(f"{owner}: training must be True or False, got {training!r}")
    return bool(training)


def _given_mask(owner: str, mask, x: np.ndarray, training: bool) -> np.ndarray:
    if not training:
        raise ValueError(f"{owner}: mask is only used in training mode (training=True)")
    mask = np.asarray(mask)
    if mask.shape != x.shape:
        raise ValueError(f"{owner}: mask must have x's shape {x.shape}, got {mask.shape}")
    if not np.all((mask == 0) | (mask == 1)):
        raise ValueError(f"{owner}: mask must hold only 0 and 1 (the keep mask)")
    return mask.astype(x.dtype)


def dropout_forward(x, p: float = 0.5, training: bool = True, rng=None,
                    mode: str = "inverted", *, mask=None):
    r"""Dropout of the units of ``x``: each is zeroed with probability ``p``.

    With a mask :math:`m_i \sim \text{Bernoulli}(1-p)` drawn independently per entry:

    .. math::

        \text{inverted:}\quad
        \text{out} = \begin{cases} x \odot m / (1-p) & \text{training}\\
                                   x & \text{test}\end{cases}
        \qquad
        \text{classic:}\quad
        \text{out} = \begin{cases} x \odot m & \text{training}\\
                                   (1-p)\, x & \text{test}\end{cases}

    Either way :math:`\mathbb{E}_m[\text{out}_\text{train}] = \text{out}_\text{test}`. Inverted
    dropout is what frameworks do: the scaling happens while training, so the test-time network
    needs no change at all. Like ``torch.nn.functional.dropout`` on the CPU, the survivors are
    computed as ``x * (m / (1-p))``, so they equal torch's bit for bit given the same mask.

    Dropout drops *units* (activations), never individual weights (that is DropConnect).
    ``p = 0`` is the identity in both modes and draws nothing from ``rng``.

    Args:
        x: the activations, an array of any shape.
        p: the drop probability, in :math:`[0, 1)` (PyTorch's convention).
        training: ``True`` draws a mask; ``False`` is test (eval) mode.
        rng: an ``np.random.Generator`` (advanced by the draw), an int seed (the same seed
            gives the same mask) or ``None`` (fresh entropy).
        mode: ``"inverted"`` (default, PyTorch) or ``"classic"`` (Srivastava et al.).
        mask: optional, training only: a given 0/1 keep mask of ``x``'s shape to use instead
            of drawing one (a fixed mask makes dropout a plain linear map: gradient checks, or
            reproducing another library's output from its own mask).

    Returns:
        ``(out, cache)``: ``out`` has ``x``'s shape and dtype; ``cache`` is a
        :class:`DropoutCache` whose ``mask`` is the 0/1 keep mask (``None`` in eval mode).

    Raises:
        ValueError: ``p`` outside :math:`[0, 1)`, an unknown ``mode``, or a ``mask`` that is
            not a 0/1 array of ``x``'s shape (or is given in eval mode).

    Reference: Srivastava, Hinton, Krizhevsky, Sutskever and Salakhutdinov (2014), "Dropout: a
    simple way to prevent neural networks from overfitting", JMLR 15, 1929-1958;
    ``torch.nn.functional.dropout``.
    """
    owner = "dropout_forward"
    p = _checks.unit_interval(owner, "p", p)
    mode = _mode(owner, mode)
    training = _training(owner, training)
    rng = _checks.generator(owner, rng)
    x = _checks.float_array(owner, "x", x)
    if mask is not None:
        mask = _given_mask(owner, mask, x, training)
    if not training:
        scale = 1.0 if mode == "inverted" else 1.0 - p
        out = x.copy() if scale == 1.0 else (x * scale).astype(x.dtype, copy=False)
        return out, DropoutCache(None, scale, p, mode, False)
    if mask is None:
        if p == 0.0:
            mask = np.ones_like(x)
        else:
            mask = (rng.random(x.shape) < 1.0 - p).astype(x.dtype)
    scale = 1.0 / (1.0 - p) if mode == "inverted" else 1.0
    out = (x * (mask * scale)).astype(x.dtype, copy=False)
    return out, DropoutCache(mask, scale, p, mode, True)


def dropout_backward(dout, cache: DropoutCache):
    r""":math:`dx = dout \odot m \cdot s`: the same mask and scale as the forward pass.

    Dropout is linear in ``x`` for a fixed mask, so its derivative is the mask itself: dropped
    units get no gradient, survivors get ``dout / (1-p)`` (inverted) or ``dout`` (classic); in
    eval mode ``dx = dout`` (inverted) or ``(1-p) dout`` (classic).

    Args:
        dout: the upstream gradient, the shape of the output. cache: from ``dropout_forward``.

    Returns:
        ``dx``, the shape of ``x``.
    """
    owner = "dropout_backward"
    if not isinstance(cache, DropoutCache):
        raise TypeError(f"{owner}: cache must be the DropoutCache from dropout_forward, "
                        f"got {type(cache).__name__}")
    dout = _checks.float_array(owner, "dout", dout)
    if cache.mask is None:
        return dout.copy() if cache.scale == 1.0 else dout * cache.scale
    if dout.shape != cache.mask.shape:
        raise ValueError(f"{owner}: dout must have the forward output's shape "
                         f"{cache.mask.shape}, got {dout.shape}")
    return dout * (cache.mask * cache.scale)


class Dropout(Layer):
    """A dropout layer, ``torch.nn.Dropout`` in NumPy, following :mod:`trainart.layers`.

    Each ``forward`` in training mode draws a new mask from the layer's own generator
    (``np.random.default_rng(seed)``), so a run is reproducible from ``seed``; the last mask is
    ``layer.mask`` (``None`` after an eval-mode forward) and the last cache ``layer.cache``
    (a :class:`DropoutCache`). No parameters.

    Example::

        layer = Dropout(p=0.5, seed=0)
        h = layer.forward(x)                   # training: about half the units zeroed, rest doubled
        dx = layer.backward(dout)              # the same mask
        layer.eval().forward(x)                # == x
        layer.forward(x, training=True)        # one training-mode call, the layer stays in eval

    Args:
        p: the drop probability, in :math:`[0, 1)`.
        mode: ``"inverted"`` (default) or ``"classic"``; see :func:`dropout_forward`.
        seed: the layer's generator: an int seed >= 0, ``None`` or an ``np.random.Generator``
            (used as is).
    """

    def __init__(self, p: float = 0.5, mode: str = "inverted", seed: int | None = 0):
        self.p = _checks.unit_interval("Dropout", "p", p)
        self.mode = _mode("Dropout", mode)
        self.rng = _checks.generator("Dropout", seed)
        self.training = True
        self.mask: np.ndarray | None = None
        self.cache: DropoutCache | None = None

    def forward(self, x, training: bool | None = None, *, mask=None) -> np.ndarray:
        """:func:`dropout_forward` with the layer's ``p``, ``mode``, generator and mode
        (``training`` overrides the mode for this call; ``mask``, training only, uses a given
        0/1 keep mask instead of drawing one)."""
        training = self._training(training)
        out, self.cache = dropout_forward(x, self.p, training, self.rng, self.mode, mask=mask)
        self.mask = self.cache.mask
        return out

    def backward(self, dout) -> np.ndarray:
        """:func:`dropout_backward` with the cache of the last ``forward``."""
        return dropout_backward(dout, self._last_cache())

    def __repr__(self) -> str:
        return f"Dropout(p={self.p}, mode={self.mode!r}, training={self.training})"


def mc_dropout_predict(forward_fn: Callable[[np.ndarray], np.ndarray], X, n_samples: int = 20):
    r"""Monte-Carlo dropout: the mean and std of ``n_samples`` stochastic forward passes.

    .. math::

        \hat y = \frac1T \sum_{t=1}^{T} f(X; m_t), \qquad
        \hat\sigma = \sqrt{\frac1T \sum_{t=1}^{T} \big(f(X; m_t) - \hat y\big)^2}

    ``forward_fn`` must keep dropout *on* (training mode) so each call draws new masks. The
    mean approximates the averaged ensemble of thinned networks, which the test-time scaling
    of :func:`dropout_forward` approximates in one pass; the std is a cheap uncertainty
    estimate. One pass with dropout left on is *not* a better prediction: it is a single noisy
    sample of this average.

    Args:
        forward_fn: ``X -> predictions``, stochastic (dropout in training mode).
        X: the inputs.
        n_samples: the number of passes :math:`T`, an int >= 1.

    Returns:
        ``(mean, std)``, each the shape of one prediction (``std`` with ``ddof=0``).

    Reference: Gal and Ghahramani (2016), "Dropout as a Bayesian approximation: representing
    model uncertainty in deep learning", ICML.
    """
    n_samples = _checks.positive_int("mc_dropout_predict", "n_samples", n_samples)
    samples = np.stack([np.asarray(forward_fn(X), dtype=np.float64)
                        for _ in range(n_samples)])
    return samples.mean(axis=0), samples.std(axis=0)
