r"""Normalization layers as forward/backward pairs (CS231n style), equal to PyTorch's.

All four normalizations compute the same thing, :math:`\hat x = (x - \mu)/\sqrt{\sigma^2 +
\epsilon}` followed by a learnable per-feature scale and shift :math:`y = \gamma \hat x +
\beta`; they differ only in *which entries share one mean and one variance* (see
:data:`AXES`). For an input of shape ``(N, C, H, W)``:

* :func:`batchnorm_forward`: one statistic per channel, over the batch and all positions
  (``torch.nn.BatchNorm1d`` / ``BatchNorm2d``), with running statistics for evaluation;
* :func:`layernorm_forward`: one statistic per sample, over its features
  (``torch.nn.LayerNorm``);
* :func:`instancenorm_forward`: one statistic per sample and channel, over the positions
  (``torch.nn.InstanceNorm1d`` / ``InstanceNorm2d``), optionally with running statistics;
* :func:`groupnorm_forward`: one statistic per sample and group of channels
  (``torch.nn.GroupNorm``; one group is layer norm over ``(C, H, W)``, ``C`` groups is
  instance norm).

Each ``*_forward`` returns ``(out, cache)``, the cache a ``NamedTuple`` of its own type
(:class:`BatchNormCache`, :class:`LayerNormCache`, :class:`InstanceNormCache`,
:class:`GroupNormCache`), and each ``*_backward(dout, cache)`` returns ``(dx, dgamma,
dbeta)``. The backward passes use the compact formula (with :math:`M` entries per statistic
and sums over those entries)

.. math::

    \frac{\partial L}{\partial x} = \frac{1}{M\sqrt{\sigma^2 + \epsilon}}
    \Big(M\, \delta_{\hat x} - \textstyle\sum \delta_{\hat x}
    - \hat x \sum \delta_{\hat x} \hat x\Big), \qquad
    \delta_{\hat x} = \gamma\, \frac{\partial L}{\partial y}

which is one line of NumPy instead of the node-by-node chain rule through the mean and
the variance. Conventions follow PyTorch: the normalization divides by the *biased*
variance (:math:`1/M`), the running variance uses the *unbiased* one (:math:`1/(M-1)`), and
``momentum=0.1`` is the weight of the new batch (``momentum=None``: batch norm's cumulative
average).

Arrays keep a floating dtype (float32 stays float32); anything else becomes float64.
:class:`BatchNorm`, :class:`LayerNorm`, :class:`GroupNorm` and :class:`InstanceNorm` wrap the
pairs as layers of the protocol of :mod:`trainart.layers` (``forward(x, training=None)``,
``backward``, ``params`` / ``names`` / ``grads``, one typed ``cache``), with torch's
constructor arguments.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from . import _checks
from .layers import Layer

__all__ = [
    "batchnorm_forward", "batchnorm_backward", "layernorm_forward", "layernorm_backward",
    "instancenorm_forward", "instancenorm_backward", "groupnorm_forward", "groupnorm_backward",
    "BatchNorm", "LayerNorm", "InstanceNorm", "GroupNorm", "AXES",
    "BatchNormCache", "LayerNormCache", "InstanceNormCache", "GroupNormCache",
]

#: Which entries of an ``(N, C, H, W)`` input share one mean and one variance.
AXES = {
    "batch": "per channel, over the batch and all positions: axes (N, H, W) of (N, C, H, W), "
             "axis N of (N, C); one mean per channel, shared by every sample",
    "layer": "per sample, over its features: the last normalized_ndim axes, "
             "(C, H, W) for an image or C for a vector; one mean per sample",
    "instance": "per sample and per channel, over the positions: axes (H, W); "
                "one mean per (sample, channel)",
    "group": "per sample and per group of C/G channels, over those channels and all "
             "positions: axes (C/G, H, W); one mean per (sample, group)",
}


# ---------------------------------------------------------------------------------------
# caches
# ---------------------------------------------------------------------------------------


class BatchNormCache(NamedTuple):
    """What :func:`batchnorm_backward` needs.

    ``xhat`` is the normalized input, ``inv_std`` :math:`1/\\sqrt{\\sigma^2 + \\epsilon}`
    (shape ``bshape``, broadcast against ``x``), ``axes`` the axes each statistic runs over,
    ``batch_stats`` whether the batch's statistics were used (training: they depend on
    ``x``) or the running ones (constants).
    """

    xhat: np.ndarray
    inv_std: np.ndarray
    gamma: np.ndarray | None
    beta: np.ndarray | None
    axes: tuple
    bshape: tuple
    batch_stats: bool


class LayerNormCache(NamedTuple):
    """What :func:`layernorm_backward` needs; ``param_axes`` are the batch axes that the
    parameter gradients sum over."""

    xhat: np.ndarray
    inv_std: np.ndarray
    gamma: np.ndarray | None
    beta: np.ndarray | None
    axes: tuple
    bshape: tuple
    param_axes: tuple


class InstanceNormCache(NamedTuple):
    """What :func:`instancenorm_backward` needs. ``xhat`` always has a batch axis;
    ``unbatched`` says the input had none (then ``dout`` and ``dx`` have none either).
    ``input_stats``: each instance's own statistics were used (else the running ones)."""

    xhat: np.ndarray
    inv_std: np.ndarray
    gamma: np.ndarray | None
    beta: np.ndarray | None
    axes: tuple
    bshape: tuple
    param_axes: tuple
    input_stats: bool
    unbatched: bool


class GroupNormCache(NamedTuple):
    """What :func:`groupnorm_backward` needs; ``grouped`` is the shape ``(N, G, C/G, *)``
    under which the statistics run over ``axes``."""

    xhat: np.ndarray
    inv_std: np.ndarray
    gamma: np.ndarray | None
    beta: np.ndarray | None
    axes: tuple
    bshape: tuple
    grouped: tuple
    param_axes: tuple


# ---------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------


def _affine(owner: str, gamma, beta, shape: tuple, dtype, what: str):
    """Check ``gamma`` and ``beta`` (each an array of ``shape`` or ``None``); cast to ``dtype``
    (the input's) so that a float32 input gives a float32 output. ``what`` says where
    ``shape`` comes from, for the message."""
    out = []
    for name, p in (("gamma", gamma), ("beta", beta)):
        if p is None:
            out.append(None)
            continue
        p = _checks.float_array(owner, name, p)
        if p.shape != shape:
            raise ValueError(f"{owner}: {name} must have shape {shape} ({what}), "
                             f"got {p.shape}")
        out.append(p.astype(dtype, copy=False))
    return out[0], out[1]


def _eps(owner: str, eps) -> float:
    return _checks.positive(owner, "eps", eps)


def _momentum(owner: str, momentum, allow_none: bool):
    """A number in ``[0, 1]`` (the weight of the new batch), or ``None`` where allowed."""
    if momentum is None and allow_none:
        return None
    if momentum is None:
        raise TypeError(f"{owner}: momentum must be a number in [0, 1], got None (torch's "
                        f"instance norm reads None as 0: the running statistics would never "
                        f"move)")
    return _checks.probability(owner, "momentum", momentum)


def _running(owner: str, running_mean, running_var, C: int, x_shape: tuple) -> bool:
    """Check the running statistics: both ``None`` (returns ``False``) or both float NumPy
    arrays of shape ``(C,)`` (returns ``True``)."""
    if (running_mean is None) != (running_var is None):
        raise ValueError(f"{owner}: running_mean and running_var must both be arrays or "
                         f"both be None, got {type(running_mean).__name__} and "
                         f"{type(running_var).__name__}")
    if running_mean is None:
        return False
    for name, r in (("running_mean", running_mean), ("running_var", running_var)):
        if not isinstance(r, np.ndarray):
            raise TypeError(f"{owner}: {name} must be a float NumPy array (it is updated in "
                            f"place), got {type(r).__name__}")
        if not np.issubdtype(r.dtype, np.floating):
            raise TypeError(f"{owner}: {name} must be a float NumPy array (it is updated in "
                            f"place), got an array of dtype {r.dtype}")
        if r.shape != (C,):
            raise ValueError(f"{owner}: {name} must have shape ({C},) to match the {C} "
                             f"channels of x (shape {x_shape}), got {r.shape}")
    return True


def _channel_shape(ndim: int, C: int) -> tuple:
    """``(1, C, 1, ...)``: a per-channel vector broadcast against ``(N, C, *)``."""
    return (1, C) + (1,) * (ndim - 2)


def _normalize(x: np.ndarray, axes: tuple, eps: float):
    """``(x - mean) / sqrt(var + eps)`` over ``axes``, biased variance; returns ``xhat`` and
    ``1 / sqrt(var + eps)`` (kept dims), plus the mean and the variance."""
    mean = x.mean(axis=axes, keepdims=True)
    xc = x - mean
    var = (xc * xc).mean(axis=axes, keepdims=True)
    inv_std = 1.0 / np.sqrt(var + eps)
    xc *= inv_std  # xc becomes xhat in place: one full-size array fewer
    return xc, inv_std, mean, var


def _normalize_backward(dxhat: np.ndarray, xhat: np.ndarray, inv_std: np.ndarray,
                        axes: tuple) -> np.ndarray:
    """The compact gradient of :func:`_normalize` (mean ``m`` over ``axes``):
    ``inv_std * (dxhat - m(dxhat) - xhat * m(dxhat * xhat))``."""
    return inv_std * (dxhat - dxhat.mean(axis=axes, keepdims=True)
                      - xhat * (dxhat * xhat).mean(axis=axes, keepdims=True))


def _scale_shift(xhat: np.ndarray, gamma, beta, bshape: tuple) -> np.ndarray:
    if gamma is None:
        return xhat if beta is None else xhat + beta.reshape(bshape)
    out = xhat * gamma.reshape(bshape)
    if beta is not None:
        out += beta.reshape(bshape)  # in place: out is new, xhat (cached) is untouched
    return out


def _dout(owner: str, dout, shape: tuple) -> np.ndarray:
    dout = _checks.float_array(owner, "dout", dout)
    if dout.shape != tuple(shape):
        raise ValueError(f"{owner}: dout must have the forward output's shape {tuple(shape)}, "
                         f"got {dout.shape}")
    return dout


def _cache(owner: str, cache, cls: type, forward: str):
    if not isinstance(cache, cls):
        raise TypeError(f"{owner}: cache must be the {cls.__name__} returned by {forward}, "
                        f"got {type(cache).__name__}")
    return cache


def _affine_grads(dout, xhat, gamma, beta, bshape, param_axes):
    """``dxhat`` and the gradients of ``gamma`` and ``beta`` (summed over ``param_axes``)."""
    dgamma = None if gamma is None else (dout * xhat).sum(axis=param_axes)
    dbeta = None if beta is None else dout.sum(axis=param_axes)
    dxhat = dout if gamma is None else dout * gamma.reshape(bshape)
    return dxhat, dgamma, dbeta


# ---------------------------------------------------------------------------------------
# batch normalization
# ---------------------------------------------------------------------------------------


def batchnorm_forward(x, gamma, beta, running_mean, running_var, training: bool = True,
                      momentum: float | None = 0.1, eps: float = 1e-5, *,
                      num_batches_tracked: np.ndarray | None = None):
    r"""Batch normalization: normalize each channel over the batch (and all positions).

    In training, with :math:`\mu_c, \sigma^2_c` the mean and the *biased* variance of
    channel :math:`c` over its :math:`M` entries (:math:`M = N` for ``(N, C)``, :math:`M =
    NHW` for ``(N, C, H, W)``):

    .. math::

        \hat x = \frac{x - \mu_c}{\sqrt{\sigma^2_c + \epsilon}}, \qquad
        y = \gamma_c \hat x + \beta_c

    and the running statistics move toward the batch's *in place*, with the *unbiased*
    variance and ``momentum`` the weight of the new batch (PyTorch's convention; CS231n's
    ``momentum=0.9`` is the weight of the old value):

    .. math::

        \bar\mu \leftarrow (1 - m)\,\bar\mu + m\,\mu_c, \qquad
        \bar\sigma^2 \leftarrow (1 - m)\,\bar\sigma^2 + m\,\frac{M}{M - 1}\sigma^2_c

    With ``momentum=None`` the weight is :math:`m = 1/k` at the :math:`k`-th batch (``k`` is
    ``num_batches_tracked`` after its increment): the running statistics are then the plain
    *cumulative* average of all batches so far, as with ``torch.nn.BatchNorm1d(C,
    momentum=None)``.

    In evaluation (``training=False``) the running statistics replace the batch's and
    nothing is updated, so each output depends on its own sample only.

    Batch norm is *not whitening*: it centres and scales each channel on its own and
    leaves the correlations between channels alone (whitening would decorrelate them with
    the full covariance matrix). Nor does it make the activations Gaussian: only their
    mean and variance change, not the shape of their distribution. And it does not force
    :math:`N(0, 1)` on the network: the learnable scale :math:`\gamma` and shift
    :math:`\beta` let each channel settle on whatever mean and spread training prefers
    (:math:`\gamma = \sigma, \beta = \mu` even undoes the normalization).

    Args:
        x: ``(N, C)``, ``(N, C, L)`` or ``(N, C, H, W)`` inputs (any ``(N, C, *)``; batch
            norm needs the batch axis, as torch's ``BatchNorm1d``/``2d`` do).
        gamma: ``(C,)`` scale (``weight`` in torch), or ``None`` for no scale.
        beta: ``(C,)`` shift (``bias`` in torch), or ``None`` for no shift.
        running_mean: ``(C,)`` float array, updated in place when training (torch starts it
            at zeros); ``None`` together with ``running_var`` to keep no running statistics
            (then evaluation mode is an error).
        running_var: ``(C,)`` float array, updated in place when training (torch: ones).
        training: use the batch's statistics and update the running ones (``True``) or use
            the running statistics (``False``).
        momentum: weight of the new batch in the running averages, in ``[0, 1]``, or
            ``None`` for the cumulative average (needs ``num_batches_tracked``).
        eps: added to the variance for numerical stability (a constant channel then maps to
            ``beta`` instead of ``nan``).
        num_batches_tracked: a 0-d integer NumPy array (torch's buffer of that name,
            ``np.zeros((), np.int64)`` at first), incremented in place by each training
            call that updates the running statistics; ``None`` to keep no count.

    Returns:
        ``(out, cache)``: the output, of the shape of ``x``, and the
        :class:`BatchNormCache` that :func:`batchnorm_backward` needs.

    Raises:
        ValueError: a wrong shape, or training with one value per channel (its variance is
            undefined; torch raises too).
        TypeError: a running statistic that is not a float NumPy array (it must be updated
            in place), or a ``num_batches_tracked`` that is not a 0-d integer array.

    Reference: ``torch.nn.functional.batch_norm`` and ``torch.nn.BatchNorm1d``; Ioffe &
    Szegedy (2015), "Batch Normalization: Accelerating Deep Network Training by Reducing
    Internal Covariate Shift".
    """
    owner = "batchnorm_forward"
    x = _checks.float_array(owner, "x", x)
    if x.ndim < 2:
        raise ValueError(f"{owner}: x must have shape (N, C) or (N, C, *spatial) (batch norm "
                         f"needs a batch axis), got shape {x.shape}")
    training = _checks.boolean(owner, "training", training)
    eps = _eps(owner, eps)
    momentum = _momentum(owner, momentum, allow_none=True)
    C = x.shape[1]
    tracked = _running(owner, running_mean, running_var, C, x.shape)
    gamma, beta = _affine(owner, gamma, beta, (C,), x.dtype,
                          f"one value per channel of x, shape {x.shape}")
    if num_batches_tracked is not None:
        n = num_batches_tracked
        if not (isinstance(n, np.ndarray) and n.shape == ()
                and np.issubdtype(n.dtype, np.integer)):
            got = (f"an array of dtype {n.dtype} and shape {n.shape}"
                   if isinstance(n, np.ndarray) else type(n).__name__)
            raise TypeError(f"{owner}: num_batches_tracked must be a 0-d integer NumPy array "
                            f"(it is incremented in place), got {got}")
        if not tracked:
            raise ValueError(f"{owner}: num_batches_tracked counts the updates of the running "
                             f"statistics, but running_mean and running_var are None")

    axes = (0,) + tuple(range(2, x.ndim))
    bshape = _channel_shape(x.ndim, C)
    M = x.size // C if C else 0
    if training:
        if M <= 1:
            raise ValueError(f"{owner}: x: expected more than 1 value per channel when "
                             f"training, got x of shape {x.shape} (use a larger batch, or "
                             f"training=False)")
        if tracked and momentum is None and num_batches_tracked is None:
            raise ValueError(f"{owner}: momentum=None (the cumulative average) needs "
                             f"num_batches_tracked, the count of batches so far, got None")
        xhat, inv_std, mean, var = _normalize(x, axes, eps)
        if tracked:
            if num_batches_tracked is not None:
                num_batches_tracked += 1  # in place, like torch's buffer
            m = 1.0 / float(num_batches_tracked) if momentum is None else momentum
            mean, var = mean.reshape(C), var.reshape(C)
            running_mean[...] = (1.0 - m) * running_mean + m * mean
            running_var[...] = (1.0 - m) * running_var + m * var * (M / (M - 1))
    else:
        if not tracked:
            raise ValueError(f"{owner}: running_mean and running_var are needed when "
                             f"training=False, got None")
        inv_std = (1.0 / np.sqrt(running_var + eps)).astype(x.dtype).reshape(bshape)
        xhat = (x - running_mean.astype(x.dtype).reshape(bshape)) * inv_std
    out = _scale_shift(xhat, gamma, beta, bshape)
    return out, BatchNormCache(xhat, inv_std, gamma, beta, axes, bshape, training)


def batchnorm_backward(dout, cache: BatchNormCache):
    r"""Gradients of batch normalization, given :math:`\delta = \partial L/\partial y`.

    .. math::

        \frac{\partial L}{\partial \gamma_c} = \sum \delta\, \hat x, \qquad
        \frac{\partial L}{\partial \beta_c} = \sum \delta, \qquad
        \frac{\partial L}{\partial x} = \frac{\gamma_c}{M\sqrt{\sigma_c^2 + \epsilon}}
        \Big(M \delta - \textstyle\sum \delta - \hat x \sum \delta \hat x\Big)

    with the sums over the :math:`M` entries of channel :math:`c` (training mode: the
    batch statistics depend on :math:`x`). In evaluation mode the statistics are constants
    and :math:`\partial L/\partial x = \delta\, \gamma_c / \sqrt{\bar\sigma^2_c + \epsilon}`.

    Args:
        dout: upstream gradient, of the shape of the forward output.
        cache: the :class:`BatchNormCache` from :func:`batchnorm_forward`.

    Returns:
        ``(dx, dgamma, dbeta)`` with the shapes of ``x``, ``gamma`` and ``beta`` (``None``
        for a ``gamma`` or ``beta`` that was ``None``).

    Reference: CS231n assignment 2, ``batchnorm_backward_alt``.
    """
    owner = "batchnorm_backward"
    c = _cache(owner, cache, BatchNormCache, "batchnorm_forward")
    xhat, axes, bshape = c.xhat, c.axes, c.bshape
    dout = _dout(owner, dout, xhat.shape)
    # The formula's two sums are the gradients of beta and gamma: computed once, used twice.
    sum_dout = dout.sum(axis=axes)
    sum_dout_xhat = (dout * xhat).sum(axis=axes)
    dgamma = None if c.gamma is None else sum_dout_xhat
    dbeta = None if c.beta is None else sum_dout
    scale = c.inv_std if c.gamma is None else c.gamma.reshape(bshape) * c.inv_std
    if c.batch_stats:
        # dx = scale * (dout - mean(dout) - xhat * mean(dout * xhat)), built in place
        M = xhat.size // xhat.shape[1]
        dx = xhat * (-sum_dout_xhat / M).reshape(bshape)
        dx += dout
        dx -= (sum_dout / M).reshape(bshape)
        dx *= scale
    else:
        dx = dout * scale
    return dx, dgamma, dbeta


# ---------------------------------------------------------------------------------------
# layer normalization
# ---------------------------------------------------------------------------------------


def layernorm_forward(x, gamma, beta, normalized_ndim: int = 1, eps: float = 1e-5):
    r"""Layer normalization: normalize each sample over its features.

    With :math:`\mu, \sigma^2` the mean and the biased variance of one sample over its
    last ``normalized_ndim`` axes (:math:`M` entries; the features of a vector, ``(C, H,
    W)`` of an image, the embedding of a token):

    .. math::

        \hat x = \frac{x - \mu}{\sqrt{\sigma^2 + \epsilon}}, \qquad y = \gamma \odot \hat x
        + \beta

    with an elementwise :math:`\gamma, \beta` of the normalized shape. Nothing is averaged
    over the batch, so a batch of one works and training and evaluation are the same; an
    unbatched input (``x.ndim == normalized_ndim``) is one sample, as in torch.

    Args:
        x: an array with at least ``normalized_ndim`` axes (batch axes first).
        gamma: scale of shape ``x.shape[-normalized_ndim:]``, or ``None``.
        beta: shift of that shape, or ``None`` (torch's ``bias=False``).
        normalized_ndim: how many trailing axes to normalize over (``len(normalized_shape)``
            of ``torch.nn.LayerNorm``).
        eps: added to the variance.

    Returns:
        ``(out, cache)``: the output, of the shape of ``x``, and the :class:`LayerNormCache`
        that :func:`layernorm_backward` needs.

    Reference: ``torch.nn.functional.layer_norm``; Ba, Kiros & Hinton (2016), "Layer
    Normalization".
    """
    owner = "layernorm_forward"
    x = _checks.float_array(owner, "x", x)
    k = _checks.positive_int(owner, "normalized_ndim", normalized_ndim)
    if x.ndim < k:
        raise ValueError(f"{owner}: x must have at least normalized_ndim={k} axes, "
                         f"got shape {x.shape}")
    eps = _eps(owner, eps)
    nshape = x.shape[x.ndim - k:]
    gamma, beta = _affine(owner, gamma, beta, nshape, x.dtype,
                          f"the last {k} axes of x, shape {x.shape}")
    axes = tuple(range(x.ndim - k, x.ndim))
    xhat, inv_std, _, _ = _normalize(x, axes, eps)
    out = _scale_shift(xhat, gamma, beta, nshape)
    return out, LayerNormCache(xhat, inv_std, gamma, beta, axes, nshape,
                               tuple(range(x.ndim - k)))


def layernorm_backward(dout, cache: LayerNormCache):
    r"""Gradients of layer normalization, given :math:`\delta = \partial L/\partial y`.

    .. math::

        \frac{\partial L}{\partial \gamma} = \sum_{\text{samples}} \delta \odot \hat x,
        \qquad
        \frac{\partial L}{\partial x} = \frac{1}{M\sqrt{\sigma^2 + \epsilon}}
        \Big(M \delta_{\hat x} - \textstyle\sum \delta_{\hat x}
        - \hat x \sum \delta_{\hat x} \hat x\Big), \quad
        \delta_{\hat x} = \gamma \odot \delta

    with the inner sums over the :math:`M` features of each sample.

    Args:
        dout: upstream gradient, of the shape of the forward output.
        cache: the :class:`LayerNormCache` from :func:`layernorm_forward`.

    Returns:
        ``(dx, dgamma, dbeta)`` with the shapes of ``x``, ``gamma`` and ``beta``.
    """
    owner = "layernorm_backward"
    c = _cache(owner, cache, LayerNormCache, "layernorm_forward")
    dout = _dout(owner, dout, c.xhat.shape)
    dxhat, dgamma, dbeta = _affine_grads(dout, c.xhat, c.gamma, c.beta, c.bshape,
                                         c.param_axes)
    dx = _normalize_backward(dxhat, c.xhat, c.inv_std, c.axes)
    return dx, dgamma, dbeta


# ---------------------------------------------------------------------------------------
# group and instance normalization
# ---------------------------------------------------------------------------------------


def groupnorm_forward(x, num_groups: int, gamma, beta, eps: float = 1e-5):
    r"""Group normalization: normalize each sample over groups of channels.

    The ``C`` channels are split into ``G = num_groups`` consecutive groups of ``C/G``;
    :math:`\mu_{ng}, \sigma^2_{ng}` are the mean and the biased variance of sample
    :math:`n`, group :math:`g` over its channels and all positions, and the scale and shift
    are per *channel*:

    .. math::

        \hat x_{nc\ldots} = \frac{x_{nc\ldots} - \mu_{n,g(c)}}{\sqrt{\sigma^2_{n,g(c)} +
        \epsilon}}, \qquad y = \gamma_c \hat x + \beta_c

    ``G = 1`` is layer norm over ``(C, H, W)`` (with per-channel :math:`\gamma`), ``G = C``
    is instance norm. No batch statistics: a batch of one works. As in torch, ``x`` must
    have its batch axis (``torch.nn.GroupNorm`` reads axis 1 as the channels).

    Args:
        x: ``(N, C, *)`` inputs, e.g. ``(N, C, H, W)``.
        num_groups: the number of groups ``G``; must divide ``C``.
        gamma: ``(C,)`` scale, or ``None``.
        beta: ``(C,)`` shift, or ``None``.
        eps: added to the variance.

    Returns:
        ``(out, cache)``: the output, of the shape of ``x``, and the :class:`GroupNormCache`
        that :func:`groupnorm_backward` needs.

    Reference: ``torch.nn.functional.group_norm``; Wu & He (2018), "Group Normalization".
    """
    owner = "groupnorm_forward"
    x = _checks.float_array(owner, "x", x)
    if x.ndim < 2:
        raise ValueError(f"{owner}: x must have shape (N, C, *spatial), got shape {x.shape}")
    G = _checks.positive_int(owner, "num_groups", num_groups)
    N, C = x.shape[:2]
    if C % G:
        raise ValueError(f"{owner}: the number of channels C={C} of x (shape {x.shape}) must "
                         f"be divisible by num_groups={G}")
    eps = _eps(owner, eps)
    gamma, beta = _affine(owner, gamma, beta, (C,), x.dtype,
                          f"one value per channel of x, shape {x.shape}")
    grouped = (N, G, C // G) + x.shape[2:]
    axes = tuple(range(2, len(grouped)))
    xhat, inv_std, _, _ = _normalize(x.reshape(grouped), axes, eps)
    xhat = xhat.reshape(x.shape)
    bshape = _channel_shape(x.ndim, C)
    out = _scale_shift(xhat, gamma, beta, bshape)
    return out, GroupNormCache(xhat, inv_std, gamma, beta, axes, bshape, grouped,
                               (0,) + tuple(range(2, x.ndim)))


def groupnorm_backward(dout, cache: GroupNormCache):
    r"""Gradients of group normalization, given :math:`\delta = \partial L/\partial y`.

    The batch-norm formula with the sums over the :math:`M = (C/G)\,HW` entries of one
    (sample, group), and :math:`\delta_{\hat x} = \gamma_c\, \delta`:

    .. math::

        \frac{\partial L}{\partial x} = \frac{1}{M\sqrt{\sigma^2_{ng} + \epsilon}}
        \Big(M \delta_{\hat x} - \textstyle\sum \delta_{\hat x}
        - \hat x \sum \delta_{\hat x} \hat x\Big), \qquad
        \frac{\partial L}{\partial \gamma_c} = \sum_{n, h, w} \delta\, \hat x

    Args:
        dout: upstream gradient, of the shape of the forward output.
        cache: the :class:`GroupNormCache` from :func:`groupnorm_forward`.

    Returns:
        ``(dx, dgamma, dbeta)`` with the shapes of ``x``, ``gamma`` and ``beta``.
    """
    owner = "groupnorm_backward"
    c = _cache(owner, cache, GroupNormCache, "groupnorm_forward")
    xhat = c.xhat
    dout = _dout(owner, dout, xhat.shape)
    dxhat, dgamma, dbeta = _affine_grads(dout, xhat, c.gamma, c.beta, c.bshape, c.param_axes)
    g = c.grouped
    dx = _normalize_backward(dxhat.reshape(g), xhat.reshape(g), c.inv_std, c.axes)
    return dx.reshape(xhat.shape), dgamma, dbeta


_LAYOUTS = {1: "(N, C, L) or unbatched (C, L)", 2: "(N, C, H, W) or unbatched (C, H, W)",
            3: "(N, C, D, H, W) or unbatched (C, D, H, W)"}


def _instance_layout(owner: str, shape: tuple, spatial_ndim) -> tuple[int, bool]:
    """``(spatial_ndim, unbatched)`` of an instance-norm input of ``shape``.

    Given ``spatial_ndim`` (1, 2 or 3: torch's ``InstanceNorm1d``/``2d``/``3d``), ``x`` has
    ``spatial_ndim + 2`` axes (batched) or ``spatial_ndim + 1`` (unbatched). Without it,
    only arrays of 4 or more axes are read, as batched ``(N, C, *spatial)``: a 3-D array
    is ``(N, C, L)`` for ``InstanceNorm1d`` but an unbatched ``(C, H, W)`` image for
    ``InstanceNorm2d``, and a 2-D one ``(C, L)`` or a mistaken ``(N, C)``, so those raise.
    """
    ndim = len(shape)
    if spatial_ndim is None:
        if ndim >= 4:
            return ndim - 2, False
        if ndim == 3:
            raise ValueError(f"{owner}: x of shape {shape} is ambiguous: (N, C, L) = "
                             f"{shape} for InstanceNorm1d, or one unbatched (C, H, W) image "
                             f"for InstanceNorm2d; pass spatial_ndim=1 or spatial_ndim=2")
        raise ValueError(f"{owner}: x must have shape (N, C, *spatial), got shape {shape}; "
                         f"for an unbatched (C, L) pass spatial_ndim=1")
    k = _checks.integer(owner, "spatial_ndim", spatial_ndim, minimum=1, maximum=3)
    if ndim not in (k + 1, k + 2):
        raise ValueError(f"{owner}: x must have shape {_LAYOUTS[k]} for spatial_ndim={k} "
                         f"(a {k + 2}-D or {k + 1}-D array), got shape {shape}")
    return k, ndim == k + 1


def instancenorm_forward(x, gamma=None, beta=None, eps: float = 1e-5, *,
                         spatial_ndim: int | None = None, running_mean=None,
                         running_var=None, training: bool = True, momentum: float = 0.1):
    r"""Instance normalization: normalize each sample's channels over their positions.

    With :math:`\mu_{nc}, \sigma^2_{nc}` the mean and the biased variance of channel
    :math:`c` of sample :math:`n` over its :math:`M = HW` positions:

    .. math::

        \hat x_{nchw} = \frac{x_{nchw} - \mu_{nc}}{\sqrt{\sigma^2_{nc} + \epsilon}},
        \qquad y = \gamma_c \hat x + \beta_c

    It is group norm with one channel per group. Like ``torch.nn.InstanceNorm2d`` with its
    defaults (``track_running_stats=False``) it uses each input's own statistics in training
    and evaluation; the affine part is optional (``affine=False`` in torch by default: leave
    ``gamma`` and ``beta`` out).

    With running statistics (torch's ``track_running_stats=True``), training also moves them
    toward the batch average of the instances' statistics, in place,

    .. math::

        \bar\mu_c \leftarrow (1 - m)\,\bar\mu_c + \frac{m}{N} \sum_n \mu_{nc}, \qquad
        \bar\sigma^2_c \leftarrow (1 - m)\,\bar\sigma^2_c + \frac{m}{N} \sum_n
        \frac{M}{M - 1} \sigma^2_{nc}

    and evaluation (``training=False``) normalizes with them instead.

    **Layout.** A 3-D array is ``(N, C, L)`` to ``InstanceNorm1d`` and one unbatched
    ``(C, H, W)`` image to ``InstanceNorm2d``; the array alone cannot say which. So
    ``spatial_ndim`` (1, 2 or 3, torch's 1d/2d/3d) tells: ``x`` then has ``spatial_ndim +
    2`` axes (batched) or ``spatial_ndim + 1`` (unbatched, like torch's modules). Without
    it, ``x`` must have 4 or more axes and is read as batched ``(N, C, *spatial)``
    (``(N, C, H, W)`` for images, as ``torch.nn.functional.instance_norm`` does); 2-D and
    3-D arrays raise instead of being guessed.

    Args:
        x: ``(N, C, H, W)`` inputs; see *Layout* for ``(N, C, L)``, ``(C, L)``,
            ``(C, H, W)`` and volumes.
        gamma: ``(C,)`` scale, or ``None``.
        beta: ``(C,)`` shift, or ``None``.
        eps: added to the variance.
        spatial_ndim: the number of spatial axes (1, 2 or 3), or ``None`` (see *Layout*).
        running_mean: ``(C,)`` float array updated in place when training, or ``None``
            together with ``running_var`` for no running statistics.
        running_var: ``(C,)`` float array (torch starts it at ones).
        training: with running statistics, update them (``True``) or normalize with them
            (``False``); without, the input's statistics are used either way.
        momentum: weight of the new batch in the running averages, in ``[0, 1]``.

    Returns:
        ``(out, cache)``: the output, of the shape of ``x``, and the
        :class:`InstanceNormCache` that :func:`instancenorm_backward` needs.

    Raises:
        ValueError: a wrong or ambiguous shape, or a single position per channel while
            using the input's statistics (torch raises too).

    Reference: ``torch.nn.functional.instance_norm`` and ``torch.nn.InstanceNorm2d``;
    Ulyanov, Vedaldi & Lempitsky (2016), "Instance Normalization: The Missing Ingredient
    for Fast Stylization".
    """
    owner = "instancenorm_forward"
    x = _checks.float_array(owner, "x", x)
    k, unbatched = _instance_layout(owner, x.shape, spatial_ndim)
    if unbatched:
        x = x[np.newaxis]  # one sample: the batch axis torch's modules add too
    training = _checks.boolean(owner, "training", training)
    eps = _eps(owner, eps)
    momentum = _momentum(owner, momentum, allow_none=False)
    N, C = x.shape[:2]
    shown = x.shape[1:] if unbatched else x.shape
    tracked = _running(owner, running_mean, running_var, C, shown)
    gamma, beta = _affine(owner, gamma, beta, (C,), x.dtype,
                          f"one value per channel of x, shape {shown}")
    input_stats = training or not tracked
    M = math.prod(x.shape[2:])
    axes = tuple(range(2, x.ndim))
    bshape = _channel_shape(x.ndim, C)
    if input_stats:
        if M <= 1:
            raise ValueError(f"{owner}: x: expected more than 1 spatial element per channel, "
                             f"got x of shape {shown}")
        xhat, inv_std, mean, var = _normalize(x, axes, eps)
        if tracked:
            mean = mean.reshape(N, C).mean(axis=0)
            var = var.reshape(N, C).mean(axis=0) * (M / (M - 1))
            running_mean[...] = (1.0 - momentum) * running_mean + momentum * mean
            running_var[...] = (1.0 - momentum) * running_var + momentum * var
    else:
        inv_std = (1.0 / np.sqrt(running_var + eps)).astype(x.dtype).reshape(bshape)
        xhat = (x - running_mean.astype(x.dtype).reshape(bshape)) * inv_std
    out = _scale_shift(xhat, gamma, beta, bshape)
    cache = InstanceNormCache(xhat, inv_std, gamma, beta, axes, bshape, (0,) + axes,
                              input_stats, unbatched)
    return (out[0] if unbatched else out), cache


def instancenorm_backward(dout, cache: InstanceNormCache):
    r"""Gradients of instance normalization, given :math:`\delta = \partial L/\partial y`.

    The batch-norm formula with the sums over the :math:`M = HW` positions of one
    (sample, channel) and :math:`\delta_{\hat x} = \gamma_c \delta`; :math:`\partial L /
    \partial \gamma_c = \sum_{n,h,w} \delta \hat x`. With running statistics in evaluation
    mode they are constants: :math:`\partial L/\partial x = \delta_{\hat x} /
    \sqrt{\bar\sigma^2_c + \epsilon}`.

    Args:
        dout: upstream gradient, of the shape of the forward output.
        cache: the :class:`InstanceNormCache` from :func:`instancenorm_forward`.

    Returns:
        ``(dx, dgamma, dbeta)``; ``dgamma`` and ``dbeta`` are ``None`` without affine
        parameters.
    """
    owner = "instancenorm_backward"
    c = _cache(owner, cache, InstanceNormCache, "instancenorm_forward")
    dout = _dout(owner, dout, c.xhat.shape[1:] if c.unbatched else c.xhat.shape)
    if c.unbatched:
        dout = dout[np.newaxis]
    dxhat, dgamma, dbeta = _affine_grads(dout, c.xhat, c.gamma, c.beta, c.bshape,
                                         c.param_axes)
    if c.input_stats:
        dx = _normalize_backward(dxhat, c.xhat, c.inv_std, c.axes)
    else:
        dx = dxhat * c.inv_std
    return (dx[0] if c.unbatched else dx), dgamma, dbeta


# ---------------------------------------------------------------------------------------
# layers
# ---------------------------------------------------------------------------------------


class _NormLayer(Layer):
    """Shared plumbing of the four layers: ``gamma``/``beta`` (torch's ``weight``/``bias``),
    ``params``/``names``/``grads`` and ``backward``."""

    def __init__(self, owner: str, affine, bias, shape: tuple):
        self.affine = _checks.boolean(owner, "affine", affine)
        has_bias = _checks.boolean(owner, "bias", bias)
        self.gamma = np.ones(shape) if self.affine else None
        self.beta = np.zeros(shape) if self.affine and has_bias else None
        self.dgamma = self.dbeta = None
        self.training = True
        self.cache = None

    @property
    def weight(self) -> np.ndarray | None:
        """torch's name of :attr:`gamma`."""
        return self.gamma

    @property
    def bias(self) -> np.ndarray | None:
        """torch's name of :attr:`beta` (``None`` with ``bias=False`` or ``affine=False``)."""
        return self.beta

    def _pairs(self):
        return [(n, p, g) for n, p, g in (("weight", self.gamma, self.dgamma),
                                          ("bias", self.beta, self.dbeta)) if p is not None]

    @property
    def params(self) -> list[np.ndarray]:
        """``[gamma, beta]``, without those that are off; updated in place by optimizers."""
        return [p for _, p, _ in self._pairs()]

    @property
    def names(self) -> list[str]:
        """torch's names of :attr:`params`: ``["weight", "bias"]`` (or fewer)."""
        return [n for n, _, _ in self._pairs()]

    @property
    def grads(self) -> list[np.ndarray]:
        """``[dgamma, dbeta]`` of the last :meth:`backward`, in the order of :attr:`params`."""
        return [g for _, _, g in self._pairs()]

    _backward_fn = None

    def backward(self, dout):
        """``dx`` of the last :meth:`forward`; stores ``dgamma`` and ``dbeta``."""
        dx, self.dgamma, self.dbeta = type(self)._backward_fn(dout, self._last_cache())
        return dx

    def _channels(self, x: np.ndarray, C: int, name: str, axis: int = 1, layout: str = ""):
        """Check that ``x`` has ``C`` channels on ``axis`` (the message blames ``x``)."""
        owner = f"{type(self).__name__}.forward"
        layout = layout or f"(N, {name}, *)"
        if x.ndim <= axis:
            raise ValueError(f"{owner}: x must have shape {layout}, got shape {x.shape}")
        if x.shape[axis] != C:
            raise ValueError(f"{owner}: x has {x.shape[axis]} channels (axis {axis} of shape "
                             f"{x.shape}), expected {name}={C}")


class BatchNorm(_NormLayer):
    r"""Batch normalization as a layer: ``torch.nn.BatchNorm1d`` / ``BatchNorm2d``.

    Holds ``gamma`` (ones), ``beta`` (zeros), ``running_mean`` (zeros) and ``running_var``
    (ones), all ``float64`` of shape ``(num_features,)``, and ``num_batches_tracked`` (a 0-d
    int64 array, the number of training batches seen, as torch's buffer). See
    :func:`batchnorm_forward` for the formulas::

        bn = BatchNorm(64)
        out = bn.forward(x)             # (N, 64) or (N, 64, H, W); updates running stats
        dx = bn.backward(dout)          # stores bn.dgamma, bn.dbeta
        opt = SGD(dict(zip(bn.names, bn.params)), lr=0.1); opt.step(bn.grads)

    Args:
        num_features: the number of channels ``C``.
        eps: added to the variance.
        momentum: weight of the new batch in the running averages (PyTorch's convention),
            or ``None`` for the cumulative average :math:`m = 1/k` at the :math:`k`-th batch.
        affine: learnable ``gamma`` and ``beta`` (``False``: ``params`` is empty).
        track_running_stats: keep running statistics (``False``: none are kept and the
            batch's statistics are used in evaluation mode too, as in torch).
        bias: with ``affine``, a learnable ``beta`` (``False``: ``gamma`` only).

    Reference: ``torch.nn.BatchNorm1d`` (the same arguments, in the same order).
    """

    _backward_fn = staticmethod(batchnorm_backward)

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True, *, bias: bool = True):
        owner = "BatchNorm"
        C = _checks.positive_int(owner, "num_features", num_features)
        super().__init__(owner, affine, bias, (C,))
        self.num_features = C
        self.eps = _eps(owner, eps)
        self.momentum = _momentum(owner, momentum, allow_none=True)
        self.track_running_stats = _checks.boolean(owner, "track_running_stats",
                                                   track_running_stats)
        if self.track_running_stats:
            self.running_mean = np.zeros(C)
            self.running_var = np.ones(C)
            self.num_batches_tracked = np.zeros((), dtype=np.int64)
        else:
            self.running_mean = self.running_var = self.num_batches_tracked = None

    def __repr__(self) -> str:
        return (f"BatchNorm({self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, track_running_stats={self.track_running_stats})")

    def forward(self, x, training: bool | None = None):
        """Normalize ``x`` (``(N, C, *)``); in training, update the running statistics.

        Without running statistics the batch's are used in both modes (torch's rule)."""
        training = self._training(training)
        x = _checks.float_array("BatchNorm.forward", "x", x)
        self._channels(x, self.num_features, "num_features",
                       layout=f"(N, {self.num_features}) or (N, {self.num_features}, *)")
        out, self.cache = batchnorm_forward(
            x, self.gamma, self.beta, self.running_mean, self.running_var,
            training or not self.track_running_stats, self.momentum, self.eps,
            num_batches_tracked=self.num_batches_tracked)
        return out


class LayerNorm(_NormLayer):
    r"""Layer normalization as a layer: ``torch.nn.LayerNorm(normalized_shape)``.

    Normalizes each sample over its last ``len(normalized_shape)`` axes
    (:func:`layernorm_forward`); ``gamma`` (ones) and ``beta`` (zeros) have
    ``normalized_shape``. Training and evaluation are the same; an unbatched ``x`` of shape
    ``normalized_shape`` is one sample.

    Args:
        normalized_shape: an int (the feature count) or a tuple (e.g. ``(C, H, W)``).
        eps: added to the variance.
        elementwise_affine: learnable ``gamma`` and ``beta``.
        bias: with ``elementwise_affine``, a learnable ``beta`` (``False``: ``gamma`` only).

    Reference: ``torch.nn.LayerNorm`` (the same arguments, in the same order).
    """

    _backward_fn = staticmethod(layernorm_backward)

    def __init__(self, normalized_shape, eps: float = 1e-5, elementwise_affine: bool = True,
                 bias: bool = True):
        owner = "LayerNorm"
        if _checks.is_integer(normalized_shape):
            normalized_shape = (normalized_shape,)
        try:
            shape = tuple(normalized_shape)
        except TypeError:
            raise TypeError(f"{owner}: normalized_shape must be an int or a tuple of ints, "
                            f"got {normalized_shape!r}") from None
        if not shape:
            raise ValueError(f"{owner}: normalized_shape must have at least one axis, got ()")
        shape = tuple(_checks.positive_int(owner, f"normalized_shape[{i}]", s)
                      for i, s in enumerate(shape))
        super().__init__(owner, elementwise_affine, bias, shape)
        self.normalized_shape = shape
        self.eps = _eps(owner, eps)

    @property
    def elementwise_affine(self) -> bool:
        """torch's name of ``affine``."""
        return self.affine

    def __repr__(self) -> str:
        return (f"LayerNorm({self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.affine}, bias={self.beta is not None})")

    def forward(self, x, training: bool | None = None):
        """Normalize each sample of ``x`` (shape ``(*, *normalized_shape)``)."""
        self._training(training)  # checked; the mode changes nothing
        x = _checks.float_array("LayerNorm.forward", "x", x)
        k = len(self.normalized_shape)
        if x.ndim < k or x.shape[x.ndim - k:] != self.normalized_shape:
            raise ValueError(f"LayerNorm.forward: x must end in normalized_shape "
                             f"{self.normalized_shape}, got shape {x.shape}")
        out, self.cache = layernorm_forward(x, self.gamma, self.beta, k, self.eps)
        return out


class GroupNorm(_NormLayer):
    r"""Group normalization as a layer: ``torch.nn.GroupNorm(num_groups, num_channels)``.

    See :func:`groupnorm_forward`; ``gamma`` (ones) and ``beta`` (zeros) are per channel.
    Like torch, it needs the batch axis: ``x`` is ``(N, C, *)``.

    Args:
        num_groups: the number of groups; must divide ``num_channels``.
        num_channels: the number of channels ``C``.
        eps: added to the variance.
        affine: learnable ``gamma`` and ``beta``.
        bias: with ``affine``, a learnable ``beta`` (``False``: ``gamma`` only).

    Reference: ``torch.nn.GroupNorm`` (the same arguments, in the same order).
    """

    _backward_fn = staticmethod(groupnorm_backward)

    def __init__(self, num_groups: int, num_channels: int, eps: float = 1e-5,
                 affine: bool = True, *, bias: bool = True):
        owner = "GroupNorm"
        G = _checks.positive_int(owner, "num_groups", num_groups)
        C = _checks.positive_int(owner, "num_channels", num_channels)
        if C % G:
            raise ValueError(f"{owner}: num_channels={C} must be divisible by "
                             f"num_groups={G}")
        super().__init__(owner, affine, bias, (C,))
        self.num_groups, self.num_channels = G, C
        self.eps = _eps(owner, eps)

    def __repr__(self) -> str:
        return (f"GroupNorm({self.num_groups}, {self.num_channels}, eps={self.eps}, "
                f"affine={self.affine})")

    def forward(self, x, training: bool | None = None):
        """Normalize ``x`` (``(N, C, *)``) per sample and group."""
        self._training(training)  # checked; the mode changes nothing
        x = _checks.float_array("GroupNorm.forward", "x", x)
        self._channels(x, self.num_channels, "num_channels")
        out, self.cache = groupnorm_forward(x, self.num_groups, self.gamma, self.beta,
                                            self.eps)
        return out


class InstanceNorm(_NormLayer):
    r"""Instance normalization as a layer: ``torch.nn.InstanceNorm1d`` / ``2d`` / ``3d``.

    See :func:`instancenorm_forward`. As in torch, ``affine=False`` by default (no
    parameters) and no running statistics are kept (``track_running_stats=False``: each
    input's own statistics in both modes); with ``track_running_stats=True``,
    ``running_mean`` (zeros) and ``running_var`` (ones) are updated in training and used in
    evaluation.

    **Layout.** ``spatial_ndim`` = 1, 2 or 3 is torch's 1d, 2d or 3d class: ``x`` then has
    ``spatial_ndim + 2`` axes (batched) or ``spatial_ndim + 1`` (unbatched). With
    ``spatial_ndim=None`` (the default) the layer decides from ``x`` and ``num_features``: a
    2-D ``x`` is an unbatched ``(C, L)``; a 3-D ``x`` is ``(N, C, L)`` if its axis 1 has
    ``num_features`` entries and an unbatched ``(C, H, W)`` if its axis 0 has, and an error
    when both or neither do; 4 or more axes are batched ``(N, C, *spatial)``. The channel
    count must match ``num_features`` (torch raises with ``affine=True`` and only warns
    without; here it always raises).

    Args:
        num_features: the number of channels ``C``.
        eps: added to the variance.
        momentum: weight of the new batch in the running averages, in ``[0, 1]`` (torch
            accepts ``None`` and then never moves them; it is refused here).
        affine: learnable per-channel ``gamma`` and ``beta``.
        track_running_stats: keep running statistics for evaluation mode.
        bias: with ``affine``, a learnable ``beta`` (``False``: ``gamma`` only).
        spatial_ndim: 1, 2, 3 or ``None`` (see *Layout*).

    Reference: ``torch.nn.InstanceNorm2d`` (the same arguments, in the same order, plus
    ``spatial_ndim``).
    """

    _backward_fn = staticmethod(instancenorm_backward)

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float = 0.1,
                 affine: bool = False, track_running_stats: bool = False, *,
                 bias: bool = True, spatial_ndim: int | None = None):
        owner = "InstanceNorm"
        C = _checks.positive_int(owner, "num_features", num_features)
        super().__init__(owner, affine, bias, (C,))
        self.num_features = C
        self.eps = _eps(owner, eps)
        self.momentum = _momentum(owner, momentum, allow_none=False)
        self.track_running_stats = _checks.boolean(owner, "track_running_stats",
                                                   track_running_stats)
        self.spatial_ndim = (None if spatial_ndim is None else
                             _checks.integer(owner, "spatial_ndim", spatial_ndim, 1, 3))
        if self.track_running_stats:
            self.running_mean, self.running_var = np.zeros(C), np.ones(C)
            # torch registers this buffer for instance norm too and never increments it
            self.num_batches_tracked = np.zeros((), dtype=np.int64)
        else:
            self.running_mean = self.running_var = self.num_batches_tracked = None

    def __repr__(self) -> str:
        return (f"InstanceNorm({self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, track_running_stats={self.track_running_stats})")

    def _layout(self, shape: tuple) -> int:
        """The ``spatial_ndim`` under which ``x`` of ``shape`` is read (see *Layout*)."""
        owner, C = "InstanceNorm.forward", self.num_features
        if self.spatial_ndim is not None:
            k, unbatched = _instance_layout(owner, shape, self.spatial_ndim)
            axis = 0 if unbatched else 1
            if shape[axis] != C:
                raise ValueError(f"{owner}: x has {shape[axis]} channels (axis {axis} of "
                                 f"shape {shape}, read as {_LAYOUTS[k]}), expected "
                                 f"num_features={C}")
            return k
        if len(shape) == 2:
            if shape[0] != C:
                raise ValueError(f"{owner}: x of shape {shape} is read as an unbatched "
                                 f"(C, L) with {shape[0]} channels, expected num_features={C}")
            return 1
        if len(shape) == 3:
            as_1d, as_2d = shape[1] == C, shape[0] == C
            if as_1d and as_2d:
                raise ValueError(f"{owner}: x of shape {shape} is ambiguous with "
                                 f"num_features={C}: (N, C, L) or one unbatched (C, H, W); "
                                 f"pass spatial_ndim=1 or spatial_ndim=2 to the layer")
            if not (as_1d or as_2d):
                raise ValueError(f"{owner}: x of shape {shape} has no axis of "
                                 f"num_features={C} channels: expected (N, {C}, L) or "
                                 f"(C, H, W) with C={C}")
            return 1 if as_1d else 2
        if len(shape) < 2:
            raise ValueError(f"{owner}: x must have shape (C, L), (N, C, L), (C, H, W) or "
                             f"(N, C, H, W), got shape {shape}")
        if shape[1] != C:
            raise ValueError(f"{owner}: x has {shape[1]} channels (axis 1 of shape {shape}), "
                             f"expected num_features={C}; for an unbatched (C, D, H, W) "
                             f"volume pass spatial_ndim=3")
        return len(shape) - 2

    def forward(self, x, training: bool | None = None):
        """Normalize each sample's channels of ``x`` over their positions."""
        training = self._training(training)
        x = _checks.float_array("InstanceNorm.forward", "x", x)
        k = self._layout(x.shape)
        out, self.cache = instancenorm_forward(
            x, self.gamma, self.beta, self.eps, spatial_ndim=k,
            running_mean=self.running_mean, running_var=self.running_var,
            training=training, momentum=self.momentum)
        return out
