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
  (``torch.nn.InstanceNorm2d``);
* :func:`groupnorm_forward`: one statistic per sample and group of channels
  (``torch.nn.GroupNorm``; one group is layer norm over ``(C, H, W)``, ``C`` groups is
  instance norm).

Each ``*_forward`` returns ``(out, cache)`` and each ``*_backward(dout, cache)`` returns
``(dx, dgamma, dbeta)``. The backward passes use the compact formula (with
:math:`M` entries per statistic and sums over those entries)

.. math::

    \frac{\partial L}{\partial x} = \frac{1}{M\sqrt{\sigma^2 + \epsilon}}
    \Big(M\, \delta_{\hat x} - \textstyle\sum \delta_{\hat x}
    - \hat x \sum \delta_{\hat x} \hat x\Big), \qquad
    \delta_{\hat x} = \gamma\, \frac{\partial L}{\partial y}

which is one line of NumPy instead of the node-by-node chain rule through the mean and
the variance. Conventions follow PyTorch: the normalization divides by the *biased*
variance (:math:`1/M`), batch norm's running variance uses the *unbiased* one
(:math:`1/(M-1)`), and ``momentum=0.1`` is the weight of the new batch.

Arrays keep a floating dtype (float32 stays float32); anything else becomes float64.
:class:`BatchNorm`, :class:`LayerNorm`, :class:`GroupNorm` and :class:`InstanceNorm` wrap the
pairs as stateful layers with ``params`` and ``grads`` lists for :mod:`trainart.optim`.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from . import _checks

__all__ = [
    "batchnorm_forward", "batchnorm_backward", "layernorm_forward", "layernorm_backward",
    "instancenorm_forward", "instancenorm_backward", "groupnorm_forward", "groupnorm_backward",
    "BatchNorm", "LayerNorm", "InstanceNorm", "GroupNorm", "AXES",
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
# helpers
# ---------------------------------------------------------------------------------------



def _affine(owner: str, gamma, beta, shape: tuple, dtype):
    """Check ``gamma`` and ``beta`` (each an array of ``shape`` or ``None``); cast to ``dtype``
    (the input's) so that a float32 input gives a float32 output."""
    out = []
    for name, p in (("gamma", gamma), ("beta", beta)):
        if p is None:
            out.append(None)
            continue
        p = _checks.float_array(owner, name, p)
        if p.shape != shape:
            raise ValueError(f"{owner}: {name} must have shape {shape}, got {p.shape}")
        out.append(p.astype(dtype, copy=False))
    return out[0], out[1]


def _eps(owner: str, eps) -> float:
    return _checks.positive(owner, "eps", eps)


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


def _cache(owner: str, cache, kind: str) -> dict:
    if not (isinstance(cache, dict) and cache.get("kind") == kind):
        raise TypeError(f"{owner}: cache must be the cache returned by {kind}_forward")
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
                      momentum: float = 0.1, eps: float = 1e-5):
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
        x: ``(N, C)``, ``(N, C, L)`` or ``(N, C, H, W)`` inputs (any ``(N, C, *)``).
        gamma: ``(C,)`` scale (``weight`` in torch), or ``None`` for no scale.
        beta: ``(C,)`` shift (``bias`` in torch), or ``None`` for no shift.
        running_mean: ``(C,)`` float array, updated in place when training (torch starts it
            at zeros); ``None`` together with ``running_var`` to keep no running statistics
            (then evaluation mode is an error).
        running_var: ``(C,)`` float array, updated in place when training (torch: ones).
        training: use the batch's statistics and update the running ones (``True``) or use
            the running statistics (``False``).
        momentum: weight of the new batch in the running averages, in ``[0, 1]``.
        eps: added to the variance for numerical stability (a constant channel then maps to
            ``beta`` instead of ``nan``).

    Returns:
        ``(out, cache)``: the output, of the shape of ``x``, and what
        :func:`batchnorm_backward` needs.

    Raises:
        ValueError: a wrong shape, or training with one value per channel (its variance is
            undefined; torch raises too).

    Reference: ``torch.nn.functional.batch_norm``; Ioffe & Szegedy (2015), "Batch
    Normalization: Accelerating Deep Network Training by Reducing Internal Covariate Shift".
    """
    owner = "batchnorm_forward"
    x = _checks.float_array(owner, "x", x)
    if x.ndim < 2:
        raise ValueError(f"{owner}: x must have shape (N, C) or (N, C, *spatial), "
                         f"got {x.shape}")
    eps = _eps(owner, eps)
    momentum = _checks._number(owner, "momentum", momentum)
    if not 0.0 <= momentum <= 1.0:
        raise ValueError(f"{owner}: momentum must be in [0, 1], got {momentum!r}")
    C = x.shape[1]
    gamma, beta = _affine(owner, gamma, beta, (C,), x.dtype)
    if (running_mean is None) != (running_var is None):
        raise ValueError(f"{owner}: running_mean and running_var must both be arrays or "
                         f"both be None")
    for name, r in (("running_mean", running_mean), ("running_var", running_var)):
        if r is None:
            continue
        if not (isinstance(r, np.ndarray) and np.issubdtype(r.dtype, np.floating)):
            raise TypeError(f"{owner}: {name} must be a float NumPy array (it is updated in "
                            f"place), got {type(r).__name__}")
        if r.shape != (C,):
            raise ValueError(f"{owner}: {name} must have shape ({C},) to match the {C} "
                             f"channels of x (shape {x.shape}), got {r.shape}")

    axes = (0,) + tuple(range(2, x.ndim))
    bshape = _channel_shape(x.ndim, C)
    M = x.size // C if C else 0
    if training:
        if M <= 1:
            raise ValueError(f"{owner}: x: expected more than 1 value per channel when "
                             f"training, got x of shape {x.shape} (use a larger batch, or "
                             f"training=False)")
        xhat, inv_std, mean, var = _normalize(x, axes, eps)
        if running_mean is not None:
            mean, var = mean.reshape(C), var.reshape(C)
            running_mean[...] = (1.0 - momentum) * running_mean + momentum * mean
            running_var[...] = ((1.0 - momentum) * running_var
                                + momentum * var * (M / (M - 1)))
    else:
        if running_mean is None:
            raise ValueError(f"{owner}: running_mean and running_var are needed when "
                             f"training=False")
        inv_std = (1.0 / np.sqrt(running_var + eps)).astype(x.dtype).reshape(bshape)
        xhat = (x - running_mean.astype(x.dtype).reshape(bshape)) * inv_std
    out = _scale_shift(xhat, gamma, beta, bshape)
    cache = {"kind": "batchnorm", "xhat": xhat, "inv_std": inv_std, "gamma": gamma,
             "beta": beta, "axes": axes, "bshape": bshape, "training": bool(training)}
    return out, cache


def batchnorm_backward(dout, cache):
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
        cache: from :func:`batchnorm_forward`.

    Returns:
        ``(dx, dgamma, dbeta)`` with the shapes of ``x``, ``gamma`` and ``beta`` (``None``
        for a ``gamma`` or ``beta`` that was ``None``).

    Reference: CS231n assignment 2, ``batchnorm_backward_alt``.
    """
    owner = "batchnorm_backward"
    c = _cache(owner, cache, "batchnorm")
    xhat, axes, bshape = c["xhat"], c["axes"], c["bshape"]
    dout = _dout(owner, dout, xhat.shape)
    # The formula's two sums are the gradients of beta and gamma: computed once, used twice.
    sum_dout = dout.sum(axis=axes)
    sum_dout_xhat = (dout * xhat).sum(axis=axes)
    dgamma = None if c["gamma"] is None else sum_dout_xhat
    dbeta = None if c["beta"] is None else sum_dout
    scale = c["inv_std"] if c["gamma"] is None else c["gamma"].reshape(bshape) * c["inv_std"]
    if c["training"]:
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
    over the batch, so a batch of one works and training and evaluation are the same.

    Args:
        x: an array with at least ``normalized_ndim`` axes (batch axes first).
        gamma: scale of shape ``x.shape[-normalized_ndim:]``, or ``None``.
        beta: shift of that shape, or ``None``.
        normalized_ndim: how many trailing axes to normalize over (``len(normalized_shape)``
            of ``torch.nn.LayerNorm``).
        eps: added to the variance.

    Returns:
        ``(out, cache)``: the output, of the shape of ``x``, and what
        :func:`layernorm_backward` needs.

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
    gamma, beta = _affine(owner, gamma, beta, nshape, x.dtype)
    axes = tuple(range(x.ndim - k, x.ndim))
    xhat, inv_std, _, _ = _normalize(x, axes, eps)
    out = _scale_shift(xhat, gamma, beta, nshape)
    cache = {"kind": "layernorm", "xhat": xhat, "inv_std": inv_std, "gamma": gamma,
             "beta": beta, "axes": axes, "bshape": nshape,
             "param_axes": tuple(range(x.ndim - k))}
    return out, cache


def layernorm_backward(dout, cache):
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
        cache: from :func:`layernorm_forward`.

    Returns:
        ``(dx, dgamma, dbeta)`` with the shapes of ``x``, ``gamma`` and ``beta``.
    """
    owner = "layernorm_backward"
    c = _cache(owner, cache, "layernorm")
    dout = _dout(owner, dout, c["xhat"].shape)
    dxhat, dgamma, dbeta = _affine_grads(dout, c["xhat"], c["gamma"], c["beta"],
                                         c["bshape"], c["param_axes"])
    dx = _normalize_backward(dxhat, c["xhat"], c["inv_std"], c["axes"])
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
    is instance norm. No batch statistics: a batch of one works.

    Args:
        x: ``(N, C, *)`` inputs, e.g. ``(N, C, H, W)``.
        num_groups: the number of groups ``G``; must divide ``C``.
        gamma: ``(C,)`` scale, or ``None``.
        beta: ``(C,)`` shift, or ``None``.
        eps: added to the variance.

    Returns:
        ``(out, cache)``: the output, of the shape of ``x``, and what
        :func:`groupnorm_backward` needs.

    Reference: ``torch.nn.functional.group_norm``; Wu & He (2018), "Group Normalization".
    """
    owner = "groupnorm_forward"
    x = _checks.float_array(owner, "x", x)
    if x.ndim < 2:
        raise ValueError(f"{owner}: x must have shape (N, C, *spatial), got {x.shape}")
    G = _checks.positive_int(owner, "num_groups", num_groups)
    N, C = x.shape[:2]
    if C % G:
        raise ValueError(f"{owner}: the number of channels C={C} of x must be divisible by "
                         f"num_groups={G}")
    eps = _eps(owner, eps)
    gamma, beta = _affine(owner, gamma, beta, (C,), x.dtype)
    grouped = (N, G, C // G) + x.shape[2:]
    axes = tuple(range(2, len(grouped)))
    xhat, inv_std, _, _ = _normalize(x.reshape(grouped), axes, eps)
    xhat = xhat.reshape(x.shape)
    bshape = _channel_shape(x.ndim, C)
    out = _scale_shift(xhat, gamma, beta, bshape)
    cache = {"kind": "groupnorm", "xhat": xhat, "inv_std": inv_std, "gamma": gamma,
             "beta": beta, "axes": axes, "bshape": bshape, "grouped": grouped,
             "param_axes": (0,) + tuple(range(2, x.ndim))}
    return out, cache


def groupnorm_backward(dout, cache):
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
        cache: from :func:`groupnorm_forward`.

    Returns:
        ``(dx, dgamma, dbeta)`` with the shapes of ``x``, ``gamma`` and ``beta``.
    """
    owner = "groupnorm_backward"
    c = _cache(owner, cache, "groupnorm")
    xhat = c["xhat"]
    dout = _dout(owner, dout, xhat.shape)
    dxhat, dgamma, dbeta = _affine_grads(dout, xhat, c["gamma"], c["beta"], c["bshape"],
                                         c["param_axes"])
    g = c["grouped"]
    dx = _normalize_backward(dxhat.reshape(g), xhat.reshape(g), c["inv_std"], c["axes"])
    return dx.reshape(xhat.shape), dgamma, dbeta


def instancenorm_forward(x, gamma=None, beta=None, eps: float = 1e-5):
    r"""Instance normalization: normalize each sample's channels over their positions.

    With :math:`\mu_{nc}, \sigma^2_{nc}` the mean and the biased variance of channel
    :math:`c` of sample :math:`n` over its :math:`HW` positions:

    .. math::

        \hat x_{nchw} = \frac{x_{nchw} - \mu_{nc}}{\sqrt{\sigma^2_{nc} + \epsilon}},
        \qquad y = \gamma_c \hat x + \beta_c

    It is group norm with one channel per group. Like ``torch.nn.InstanceNorm2d`` with its
    defaults (``track_running_stats=False``) it always uses the input's own statistics;
    the affine part is optional (``affine=False`` in torch by default: leave ``gamma`` and
    ``beta`` out).

    Args:
        x: ``(N, C, H, W)`` inputs (any ``(N, C, *spatial)`` with at least one spatial
            axis: ``(N, C, L)`` is ``InstanceNorm1d``).
        gamma: ``(C,)`` scale, or ``None``.
        beta: ``(C,)`` shift, or ``None``.
        eps: added to the variance.

    Returns:
        ``(out, cache)``: the output, of the shape of ``x``, and what
        :func:`instancenorm_backward` needs.

    Raises:
        ValueError: a wrong shape, or a single position per channel (torch raises too).

    Reference: ``torch.nn.functional.instance_norm``; Ulyanov, Vedaldi & Lempitsky (2016),
    "Instance Normalization: The Missing Ingredient for Fast Stylization".
    """
    owner = "instancenorm_forward"
    x = _checks.float_array(owner, "x", x)
    if x.ndim < 3:
        raise ValueError(f"{owner}: x must have shape (N, C, H, W) (or (N, C, *spatial)), "
                         f"got {x.shape}")
    if math.prod(x.shape[2:]) <= 1:
        raise ValueError(f"{owner}: x: expected more than 1 spatial element per channel, "
                         f"got x of shape {x.shape}")
    eps = _eps(owner, eps)
    C = x.shape[1]
    gamma, beta = _affine(owner, gamma, beta, (C,), x.dtype)
    axes = tuple(range(2, x.ndim))
    bshape = _channel_shape(x.ndim, C)
    xhat, inv_std, _, _ = _normalize(x, axes, eps)
    out = _scale_shift(xhat, gamma, beta, bshape)
    cache = {"kind": "instancenorm", "xhat": xhat, "inv_std": inv_std, "gamma": gamma,
             "beta": beta, "axes": axes, "bshape": bshape,
             "param_axes": (0,) + axes}
    return out, cache


def instancenorm_backward(dout, cache):
    r"""Gradients of instance normalization, given :math:`\delta = \partial L/\partial y`.

    The batch-norm formula with the sums over the :math:`M = HW` positions of one
    (sample, channel) and :math:`\delta_{\hat x} = \gamma_c \delta`; :math:`\partial L /
    \partial \gamma_c = \sum_{n,h,w} \delta \hat x`.

    Args:
        dout: upstream gradient, of the shape of the forward output.
        cache: from :func:`instancenorm_forward`.

    Returns:
        ``(dx, dgamma, dbeta)``; ``dgamma`` and ``dbeta`` are ``None`` without affine
        parameters.
    """
    owner = "instancenorm_backward"
    c = _cache(owner, cache, "instancenorm")
    dout = _dout(owner, dout, c["xhat"].shape)
    dxhat, dgamma, dbeta = _affine_grads(dout, c["xhat"], c["gamma"], c["beta"],
                                         c["bshape"], c["param_axes"])
    dx = _normalize_backward(dxhat, c["xhat"], c["inv_std"], c["axes"])
    return dx, dgamma, dbeta


# ---------------------------------------------------------------------------------------
# stateful layers
# ---------------------------------------------------------------------------------------


class _NormLayer:
    """Shared plumbing: ``params``/``names``/``grads``, ``train``/``eval``, ``__call__``."""

    def __init__(self, affine: bool, shape: tuple):
        self.affine = bool(affine)
        self.gamma = np.ones(shape) if self.affine else None
        self.beta = np.zeros(shape) if self.affine else None
        self.dgamma = self.dbeta = None
        self.training = True
        self._cache = None

    @property
    def params(self) -> list[np.ndarray]:
        """``[gamma, beta]`` (empty without affine parameters), updated in place by optimizers."""
        return [self.gamma, self.beta] if self.affine else []

    @property
    def names(self) -> list[str]:
        """torch's names of :attr:`params`: ``["weight", "bias"]``."""
        return ["weight", "bias"] if self.affine else []

    @property
    def grads(self) -> list[np.ndarray]:
        """``[dgamma, dbeta]`` of the last :meth:`backward`, in the order of :attr:`params`."""
        return [self.dgamma, self.dbeta] if self.affine else []

    def train(self, mode: bool = True):
        """Training mode (batch statistics for :class:`BatchNorm`); returns ``self``."""
        self.training = bool(mode)
        return self

    def eval(self):
        """Evaluation mode (running statistics for :class:`BatchNorm`); returns ``self``."""
        return self.train(False)

    def __call__(self, x):
        return self.forward(x)

    def _backward(self, owner: str, fn, dout):
        if self._cache is None:
            raise RuntimeError(f"{owner}: call forward first")
        dx, self.dgamma, self.dbeta = fn(dout, self._cache)
        return dx


class BatchNorm(_NormLayer):
    r"""Batch normalization as a layer: ``torch.nn.BatchNorm1d`` / ``BatchNorm2d``.

    Holds ``gamma`` (ones), ``beta`` (zeros), ``running_mean`` (zeros) and ``running_var``
    (ones), all ``float64`` of shape ``(num_features,)``, and a ``training`` flag
    (``True`` at first; :meth:`eval` switches to the running statistics). See
    :func:`batchnorm_forward` for the formulas::

        bn = BatchNorm(64)
        out = bn.forward(x)             # (N, 64) or (N, 64, H, W); updates running stats
        dx = bn.backward(dout)          # stores bn.dgamma, bn.dbeta
        opt = SGD(dict(zip(bn.names, bn.params)), lr=0.1); opt.step(bn.grads)

    Args:
        num_features: the number of channels ``C``.
        momentum: weight of the new batch in the running averages (PyTorch's convention).
        eps: added to the variance.
        affine: learnable ``gamma`` and ``beta`` (``False``: ``params`` is empty).
    """

    def __init__(self, num_features: int, momentum: float = 0.1, eps: float = 1e-5,
                 affine: bool = True):
        C = _checks.positive_int("BatchNorm", "num_features", num_features)
        super().__init__(affine, (C,))
        self.num_features = C
        self.momentum = _checks._number("BatchNorm", "momentum", momentum)
        if not 0.0 <= self.momentum <= 1.0:
            raise ValueError(f"BatchNorm: momentum must be in [0, 1], got {momentum!r}")
        self.eps = _eps("BatchNorm", eps)
        self.running_mean = np.zeros(C)
        self.running_var = np.ones(C)

    def __repr__(self) -> str:
        return (f"BatchNorm({self.num_features}, momentum={self.momentum}, eps={self.eps}, "
                f"affine={self.affine})")

    def forward(self, x):
        """Normalize ``x`` (``(N, C, *)``); in training, update the running statistics."""
        out, self._cache = batchnorm_forward(x, self.gamma, self.beta, self.running_mean,
                                             self.running_var, self.training, self.momentum,
                                             self.eps)
        return out

    def backward(self, dout):
        """``dx`` of the last :meth:`forward`; stores ``dgamma`` and ``dbeta``."""
        return self._backward("BatchNorm.backward", batchnorm_backward, dout)


class LayerNorm(_NormLayer):
    r"""Layer normalization as a layer: ``torch.nn.LayerNorm(normalized_shape)``.

    Normalizes each sample over its last ``len(normalized_shape)`` axes
    (:func:`layernorm_forward`); ``gamma`` (ones) and ``beta`` (zeros) have
    ``normalized_shape``. Training and evaluation are the same.

    Args:
        normalized_shape: an int (the feature count) or a tuple (e.g. ``(C, H, W)``).
        eps: added to the variance.
        elementwise_affine: learnable ``gamma`` and ``beta``.
    """

    def __init__(self, normalized_shape, eps: float = 1e-5, elementwise_affine: bool = True):
        if isinstance(normalized_shape, numbers.Integral):
            normalized_shape = (normalized_shape,)
        shape = tuple(normalized_shape)
        if not shape or not all(isinstance(s, numbers.Integral) and s >= 1 for s in shape):
            raise ValueError(f"LayerNorm: normalized_shape must be positive integers, "
                             f"got {normalized_shape!r}")
        super().__init__(elementwise_affine, shape)
        self.normalized_shape = shape
        self.eps = _eps("LayerNorm", eps)

    def __repr__(self) -> str:
        return f"LayerNorm({self.normalized_shape}, eps={self.eps}, affine={self.affine})"

    def forward(self, x):
        """Normalize each sample of ``x`` (shape ``(*, *normalized_shape)``)."""
        x = _checks.float_array("LayerNorm.forward", "x", x)
        k = len(self.normalized_shape)
        if x.shape[x.ndim - k:] != self.normalized_shape or x.ndim < k:
            raise ValueError(f"LayerNorm.forward: x must end in normalized_shape "
                             f"{self.normalized_shape}, got shape {x.shape}")
        out, self._cache = layernorm_forward(x, self.gamma, self.beta, k, self.eps)
        return out

    def backward(self, dout):
        """``dx`` of the last :meth:`forward`; stores ``dgamma`` and ``dbeta``."""
        return self._backward("LayerNorm.backward", layernorm_backward, dout)


class GroupNorm(_NormLayer):
    r"""Group normalization as a layer: ``torch.nn.GroupNorm(num_groups, num_channels)``.

    See :func:`groupnorm_forward`; ``gamma`` (ones) and ``beta`` (zeros) are per channel.

    Args:
        num_groups: the number of groups; must divide ``num_channels``.
        num_channels: the number of channels ``C``.
        eps: added to the variance.
        affine: learnable ``gamma`` and ``beta``.
    """

    def __init__(self, num_groups: int, num_channels: int, eps: float = 1e-5,
                 affine: bool = True):
        G = _checks.positive_int("GroupNorm", "num_groups", num_groups)
        C = _checks.positive_int("GroupNorm", "num_channels", num_channels)
        if C % G:
            raise ValueError(f"GroupNorm: num_channels={C} must be divisible by "
                             f"num_groups={G}")
        super().__init__(affine, (C,))
        self.num_groups, self.num_channels = G, C
        self.eps = _eps("GroupNorm", eps)

    def __repr__(self) -> str:
        return (f"GroupNorm({self.num_groups}, {self.num_channels}, eps={self.eps}, "
                f"affine={self.affine})")

    def forward(self, x):
        """Normalize ``x`` (``(N, C, *)``) per sample and group."""
        x = _checks.float_array("GroupNorm.forward", "x", x)
        if x.ndim < 2 or x.shape[1] != self.num_channels:
            raise ValueError(f"GroupNorm.forward: x must have shape (N, {self.num_channels}, "
                             f"*), got {x.shape}")
        out, self._cache = groupnorm_forward(x, self.num_groups, self.gamma, self.beta,
                                             self.eps)
        return out

    def backward(self, dout):
        """``dx`` of the last :meth:`forward`; stores ``dgamma`` and ``dbeta``."""
        return self._backward("GroupNorm.backward", groupnorm_backward, dout)


class InstanceNorm(_NormLayer):
    r"""Instance normalization as a layer: ``torch.nn.InstanceNorm2d(num_features)``.

    See :func:`instancenorm_forward`. As in torch, ``affine=False`` by default (no
    parameters) and no running statistics are kept.

    Args:
        num_features: the number of channels ``C``.
        eps: added to the variance.
        affine: learnable per-channel ``gamma`` and ``beta``.
    """

    def __init__(self, num_features: int, eps: float = 1e-5, affine: bool = False):
        C = _checks.positive_int("InstanceNorm", "num_features", num_features)
        super().__init__(affine, (C,))
        self.num_features = C
        self.eps = _eps("InstanceNorm", eps)

    def __repr__(self) -> str:
        return f"InstanceNorm({self.num_features}, eps={self.eps}, affine={self.affine})"

    def forward(self, x):
        """Normalize each sample's channels of ``x`` (``(N, C, H, W)``) over positions."""
        x = _checks.float_array("InstanceNorm.forward", "x", x)
        if x.ndim < 3 or x.shape[1] != self.num_features:
            raise ValueError(f"InstanceNorm.forward: x must have shape "
                             f"(N, {self.num_features}, H, W), got {x.shape}")
        out, self._cache = instancenorm_forward(x, self.gamma, self.beta, self.eps)
        return out

    def backward(self, dout):
        """``dx`` of the last :meth:`forward`; stores ``dgamma`` and ``dbeta``."""
        return self._backward("InstanceNorm.backward", instancenorm_backward, dout)
